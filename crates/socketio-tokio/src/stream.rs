//! A TCP connection, directly or through an HTTP proxy's `CONNECT` tunnel, with TLS when the
//! URL asks for it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use socketio_async::proxy::{ConnectHandshake, Progress, ProxyOptions};
use socketio_async::runtime::TransportFailure;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use url::Url;

pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

pub(crate) fn failure(context: &str, e: impl std::fmt::Display) -> TransportFailure {
    TransportFailure(format!("{context}: {e}"))
}

/// Connects to the URL's host and port, through `proxy` unless its `no_proxy` list names the
/// host; TLS for `https`/`wss`.
pub(crate) async fn connect(
    url: &Url,
    tls: &Arc<ClientConfig>,
    proxy: Option<&ProxyOptions>,
) -> Result<Stream, TransportFailure> {
    let host = url
        .host_str()
        .ok_or_else(|| failure("connect", "no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    // `[::1]` comes bracketed from the URL; sockets want it bare.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let tcp = match proxy.and_then(|p| Some((p, p.tunnel(url)?))) {
        Some((proxy, handshake)) => tunnel(proxy, handshake).await?,
        None => TcpStream::connect((bare, port))
            .await
            .map_err(|e| failure("connect", e))?,
    };
    let _ = tcp.set_nodelay(true);
    if !matches!(url.scheme(), "https" | "wss") {
        return Ok(Stream::Plain(tcp));
    }
    let name = ServerName::try_from(bare.to_owned()).map_err(|e| failure("tls", e))?;
    let tls = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| failure("tls", e))?;
    Ok(Stream::Tls(Box::new(tls)))
}

/// Opens a `CONNECT` tunnel through `proxy`: TCP to the proxy, the request, then its answer
/// read until the end of the response head (parsed by [`ConnectHandshake`]).
async fn tunnel(
    proxy: &ProxyOptions,
    mut handshake: ConnectHandshake,
) -> Result<TcpStream, TransportFailure> {
    let io_failure = |what: &str, e: io::Error| {
        TransportFailure(format!("proxy {}: {what}: {e}", proxy.address()))
    };
    let tcp = TcpStream::connect((proxy.host(), proxy.port()))
        .await
        .map_err(|e| io_failure("connect", e))?;
    let mut request = handshake.request();
    while !request.is_empty() {
        tcp.writable()
            .await
            .map_err(|e| io_failure("send CONNECT", e))?;
        match tcp.try_write(request) {
            Ok(n) => request = &request[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(io_failure("send CONNECT", e)),
        }
    }
    let mut chunk = [0u8; 1024];
    loop {
        tcp.readable()
            .await
            .map_err(|e| io_failure("read CONNECT response", e))?;
        let read = match tcp.try_read(&mut chunk) {
            Ok(0) => Err(handshake.closed()),
            Ok(n) => handshake.feed(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(io_failure("read CONNECT response", e)),
        };
        match read.map_err(|e| TransportFailure(e.to_string()))? {
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
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
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

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
