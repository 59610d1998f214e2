//! A connection to the server: TCP from the runtime, through an HTTP proxy's `CONNECT` tunnel
//! unless the proxy's `no_proxy` list names the host, with TLS when the URL asks for it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use url::Url;

use super::{BoxConnection, Net, failure};
use crate::proxy::{ConnectHandshake, Progress, ProxyOptions};
use crate::runtime::{IoErrorKind, TransportFailure};

/// A connection, plain or TLS.
pub(crate) enum Stream {
    Plain(BoxConnection),
    Tls(Box<futures_rustls::client::TlsStream<BoxConnection>>),
}

/// Connects to the URL's host and port, through `proxy` unless its `no_proxy` list names the
/// host; TLS for `https`/`wss`.
pub(crate) async fn connect<N: Net + ?Sized>(
    net: &N,
    url: &Url,
    tls: &Arc<ClientConfig>,
    proxy: Option<&ProxyOptions>,
) -> Result<Stream, TransportFailure> {
    let host = url
        .host_str()
        .ok_or_else(|| failure(IoErrorKind::Connect, "connect", "no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    // `[::1]` comes bracketed from the URL; sockets want it bare.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = match proxy.and_then(|p| Some((p, p.tunnel(url)?))) {
        Some((proxy, handshake)) => tunnel(net, proxy, handshake).await?,
        None => net
            .connect_tcp(bare.to_owned(), port)
            .await
            .map_err(|e| failure(IoErrorKind::of(&e), "connect", e))?,
    };
    if !matches!(url.scheme(), "https" | "wss") {
        return Ok(Stream::Plain(tcp));
    }
    let name =
        ServerName::try_from(bare.to_owned()).map_err(|e| failure(IoErrorKind::Tls, "tls", e))?;
    let tls = futures_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(crate::tls::handshake_failure)?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// Opens a `CONNECT` tunnel through `proxy`: TCP to the proxy, the request, then its answer
/// read until the end of the response head (parsed by [`ConnectHandshake`]).
async fn tunnel<N: Net + ?Sized>(
    net: &N,
    proxy: &ProxyOptions,
    mut handshake: ConnectHandshake,
) -> Result<BoxConnection, TransportFailure> {
    let io_failure = |what: &str, e: io::Error| {
        TransportFailure::new(
            IoErrorKind::Proxy,
            format!("proxy {}: {what}: {e}", proxy.address()),
        )
        .with_source(e)
    };
    let mut tcp = net
        .connect_tcp(proxy.host().to_owned(), proxy.port())
        .await
        .map_err(|e| io_failure("connect", e))?;
    tcp.write_all(handshake.request())
        .await
        .map_err(|e| io_failure("send CONNECT", e))?;
    tcp.flush()
        .await
        .map_err(|e| io_failure("send CONNECT", e))?;
    let mut chunk = [0u8; 1024];
    loop {
        let read = match tcp.read(&mut chunk).await {
            Ok(0) => Err(handshake.closed()),
            Ok(n) => handshake.feed(&chunk[..n]),
            Err(e) => return Err(io_failure("read CONNECT response", e)),
        };
        // The proxy's refusal (its status) stays reachable by variant, as the source.
        match read
            .map_err(|e| TransportFailure::new(IoErrorKind::Proxy, e.to_string()).with_source(e))?
        {
            Progress::NeedMore => {}
            Progress::Established => {
                tracing::debug!(
                    proxy = %proxy.address(),
                    target = handshake.target(),
                    "proxy tunnel open"
                );
                return Ok(tcp);
            }
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_close(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_close(cx),
        }
    }
}
