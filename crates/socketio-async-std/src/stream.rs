//! A TCP connection over async-net, directly or through an HTTP proxy's `CONNECT` tunnel, with
//! TLS (futures-rustls) when the URL asks for it, and the bridge that lets hyper 1 use it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_net::TcpStream;
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use socketio_async::proxy::{ConnectHandshake, Progress, ProxyOptions};
use socketio_async::runtime::TransportFailure;
use url::Url;

pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<futures_rustls::client::TlsStream<TcpStream>>),
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
    let tls = futures_rustls::TlsConnector::from(tls.clone())
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
    let mut tcp = TcpStream::connect((proxy.host(), proxy.port()))
        .await
        .map_err(|e| io_failure("connect", e))?;
    tcp.write_all(handshake.request())
        .await
        .map_err(|e| io_failure("send CONNECT", e))?;
    let mut chunk = [0u8; 1024];
    loop {
        let read = match tcp.read(&mut chunk).await {
            Ok(0) => Err(handshake.closed()),
            Ok(n) => handshake.feed(&chunk[..n]),
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

/// Lets hyper 1 read and write a futures-io stream.
pub(crate) struct HyperIo<T>(pub(crate) T);

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // Read into initialised memory and copy: the zero-copy path needs unsafe code.
        let mut chunk = [0u8; 16 * 1024];
        let room = buf.remaining().min(chunk.len());
        match Pin::new(&mut self.get_mut().0).poll_read(cx, &mut chunk[..room]) {
            Poll::Ready(Ok(n)) => {
                buf.put_slice(&chunk[..n]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_close(cx)
    }
}
