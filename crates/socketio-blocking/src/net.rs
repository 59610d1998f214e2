//! One TCP connection, directly or through an HTTP proxy's `CONNECT` tunnel, with TLS when
//! the URL asks for it.
//!
//! A connection starts blocking, with read and write timeouts, for the steps that are one
//! round trip each and have nothing to interleave with (TCP connect, proxy `CONNECT`, TLS
//! handshake, WebSocket handshake); then [`Stream::make_polled`] turns it non-blocking and
//! hands it to mio, and every later read or write returns `WouldBlock` instead of waiting.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engineio_proto::{IoError, IoErrorKind};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use socketio_async::proxy::{ConnectHandshake, Progress, ProxyOptions};
use url::Url;

/// The TCP socket under a [`Stream`]: std's while blocking, mio's once polled.
#[derive(Debug)]
pub(crate) enum Tcp {
    Blocking(TcpStream),
    Polled(mio::net::TcpStream),
    /// Only between the two, inside [`Tcp::make_polled`].
    Moving,
}

impl Tcp {
    /// Non-blocking from now on, registered with `registry` for reads and writes.
    fn make_polled(&mut self, registry: &mio::Registry, token: mio::Token) -> io::Result<()> {
        if let Tcp::Blocking(std) = std::mem::replace(self, Tcp::Moving) {
            std.set_nonblocking(true)?;
            let mut polled = mio::net::TcpStream::from_std(std);
            // Edge-triggered: whoever reads must read until `WouldBlock`, which every reader
            // here does. Writable too, so a write that could not finish resumes.
            let registered = registry.register(
                &mut polled,
                token,
                mio::Interest::READABLE | mio::Interest::WRITABLE,
            );
            *self = Tcp::Polled(polled);
            registered?;
        }
        Ok(())
    }

    fn deregister(&mut self, registry: &mio::Registry) {
        if let Tcp::Polled(polled) = self {
            let _ = registry.deregister(polled);
        }
    }

    fn moving() -> io::Error {
        io::Error::new(io::ErrorKind::NotConnected, "socket in transition")
    }
}

impl Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Tcp::Blocking(s) => s.read(buf),
            Tcp::Polled(s) => s.read(buf),
            Tcp::Moving => Err(Self::moving()),
        }
    }
}

impl Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Tcp::Blocking(s) => s.write(buf),
            Tcp::Polled(s) => s.write(buf),
            Tcp::Moving => Err(Self::moving()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Tcp::Blocking(s) => s.flush(),
            Tcp::Polled(s) => s.flush(),
            Tcp::Moving => Err(Self::moving()),
        }
    }
}

/// A connection to the server, plain or TLS.
#[derive(Debug)]
pub(crate) enum Stream {
    Plain(Tcp),
    Tls(Box<StreamOwned<ClientConnection, Tcp>>),
}

impl Stream {
    fn tcp(&mut self) -> &mut Tcp {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => &mut tls.sock,
        }
    }

    /// See [`Tcp::make_polled`].
    pub(crate) fn make_polled(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
    ) -> io::Result<()> {
        self.tcp().make_polled(registry, token)
    }

    /// Stops readiness reports for this socket (before it is dropped).
    pub(crate) fn deregister(&mut self, registry: &mio::Registry) {
        self.tcp().deregister(registry);
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// What connecting needs besides the URL.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    pub(crate) tls: Arc<ClientConfig>,
    pub(crate) proxy: Option<ProxyOptions>,
    /// The most each blocking step may take.
    pub(crate) timeout: Duration,
}

impl Connector {
    /// Connects to the URL's host and port (through the proxy unless its `no_proxy` list
    /// names the host), TLS for `https`/`wss`, handshake done; still blocking.
    pub(crate) fn connect(&self, url: &Url) -> Result<Stream, IoError> {
        let host = url
            .host_str()
            .ok_or_else(|| IoError::new(IoErrorKind::Connect, "connect: no host"))?;
        let port = url.port_or_known_default().unwrap_or(80);
        // `[::1]` comes bracketed from the URL; sockets want it bare.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let deadline = Instant::now() + self.timeout;
        let tcp = match self.proxy.as_ref().and_then(|p| Some((p, p.tunnel(url)?))) {
            Some((proxy, handshake)) => tunnel(proxy, handshake, deadline)?,
            None => {
                tcp_connect(bare, port, deadline).map_err(|e| failure(io_kind(&e), "connect", e))?
            }
        };
        let _ = tcp.set_nodelay(true);
        let _ = tcp.set_read_timeout(Some(self.timeout));
        let _ = tcp.set_write_timeout(Some(self.timeout));
        let mut tcp = Tcp::Blocking(tcp);
        if !matches!(url.scheme(), "https" | "wss") {
            return Ok(Stream::Plain(tcp));
        }
        let name = ServerName::try_from(bare.to_owned())
            .map_err(|e| failure(IoErrorKind::Tls, "tls", e))?;
        let mut tls = ClientConnection::new(self.tls.clone(), name)
            .map_err(|e| failure(IoErrorKind::Tls, "tls", e))?;
        // The whole handshake now, while blocking: afterwards a non-blocking read never has
        // to finish a handshake half-way.
        while tls.is_handshaking() {
            tls.complete_io(&mut tcp)
                .map_err(socketio_async::tls::handshake_failure)?;
        }
        Ok(Stream::Tls(Box::new(StreamOwned::new(tls, tcp))))
    }
}

/// The first address of `host:port` that accepts before `deadline`.
fn tcp_connect(host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Opens a `CONNECT` tunnel through `proxy`: TCP to the proxy, the request, then its answer
/// read until the end of the response head (parsed by [`ConnectHandshake`]).
fn tunnel(
    proxy: &ProxyOptions,
    mut handshake: ConnectHandshake,
    deadline: Instant,
) -> Result<TcpStream, IoError> {
    let failed = |what: &str, e: io::Error| {
        failure(
            IoErrorKind::Proxy,
            &format!("proxy {}: {what}", proxy.address()),
            e,
        )
    };
    let mut tcp =
        tcp_connect(proxy.host(), proxy.port(), deadline).map_err(|e| failed("connect", e))?;
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let _ = tcp.set_read_timeout(Some(left));
    let _ = tcp.set_write_timeout(Some(left));
    tcp.write_all(handshake.request())
        .map_err(|e| failed("send CONNECT", e))?;
    // Byte by byte would be slow; a chunk may not overrun the head because the proxy sends
    // nothing after it until we speak (and `feed` refuses early data).
    let mut chunk = [0u8; 1024];
    loop {
        let read = match tcp.read(&mut chunk) {
            Ok(0) => Err(handshake.closed()),
            Ok(n) => handshake.feed(&chunk[..n]),
            Err(e) => return Err(failed("read CONNECT response", e)),
        };
        // The proxy's refusal (its status) stays reachable by variant, as the source.
        match read.map_err(|e| IoError::new(IoErrorKind::Proxy, e.to_string()).with_source(e))? {
            Progress::NeedMore => {}
            Progress::Established => return Ok(tcp),
        }
    }
}

/// A failure of `kind`, "`context`: `error`", keeping `error` as the source.
pub(crate) fn failure(
    kind: IoErrorKind,
    context: &str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> IoError {
    IoError::new(kind, format!("{context}: {error}")).with_source(error)
}

/// The kind of an IO error from this crate's sockets. Unlike the async adapters', a
/// `WouldBlock` here is a timeout: the blocking steps (connect, proxy `CONNECT`, TLS and
/// WebSocket handshakes) run with read and write timeouts, which Unix reports as `WouldBlock`.
pub(crate) fn io_kind(e: &io::Error) -> IoErrorKind {
    match e.kind() {
        io::ErrorKind::WouldBlock => IoErrorKind::Timeout,
        _ => IoErrorKind::of(e),
    }
}
