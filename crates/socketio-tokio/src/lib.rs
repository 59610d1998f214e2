//! The tokio adapter of the Socket.IO client: tokio's sockets, timers and tasks under the
//! network code every adapter shares (`socketio_async::net`: hyper 1 long-polling,
//! async-tungstenite WebSocket, rustls TLS).
//!
//! ```no_run
//! # async fn demo() -> Result<(), socketio_tokio::Error> {
//! use socketio_tokio::Options;
//!
//! // Listeners first, then connect: nothing the server sends on connection is missed.
//! let socket = socketio_tokio::builder("http://localhost:3000", Options::default())?
//!     .on("news", |msg| println!("{:?}", msg.args.values()))
//!     .connect()
//!     .await?;
//! socket.emit("hello", "world")?;
//! let (reply,): (String,) = socket.emit_with_ack("echo", "hello").await?;
//! # Ok(()) }
//! ```
//!
//! `io()` is socket.io-client's spelling: it connects at once (listeners added after it may
//! miss the first events).
//!
//! ```no_run
//! # async fn demo() -> Result<(), socketio_tokio::Error> {
//! use socketio_tokio::{io, Options};
//!
//! let socket = io("http://localhost:3000", Options::default())?;
//! socket.connect().await?;
//! # Ok(()) }
//! ```
//!
//! Through an HTTP proxy (Node's `agent` with a proxy agent), with TLS options if needed:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use socketio_tokio::{Manager, Options, ProxyOptions, TlsOptions, TokioRuntime};
//!
//! let proxy = ProxyOptions::new("http://user:password@proxy.corp.example:3128")?
//!     .no_proxy(["localhost", ".corp.example"]);
//! let runtime = TokioRuntime::with_tls(&TlsOptions::default())?.with_proxy(proxy);
//! let manager = Manager::new("https://chat.example.com", Options::default(), runtime.shared())?;
//! let socket = manager.socket("/")?;
//! # Ok(()) }
//! ```
//!
//! Cargo features, off by default for the crates they pull in: `pfx` ([`TlsOptions::pfx`]),
//! `encrypted-keys` (an encrypted [`TlsOptions::key`] with a passphrase) and `native-roots`
//! (the OS trust store, [`socketio_async::tls::Roots`]). An option used without its feature is
//! refused with [`socketio_async::tls::TlsError::FeatureDisabled`], which names the feature.
//!
//! Errors are typed: branch on the variant, which names the option at fault (the parser's or
//! rustls's own error is the [`source`](std::error::Error::source)):
//!
//! ```
//! use socketio_tokio::tls::{TlsError, TlsOption};
//! use socketio_tokio::{Error, TlsOptions, TokioRuntime};
//!
//! let mut tls = TlsOptions::default();
//! tls.ciphers = Some("ECDHE-RSA-AES128-SHA".into()); // CBC: rustls does not implement it
//! match TokioRuntime::with_tls(&tls).map(|_runtime| ()) {
//!     Err(Error::Tls(TlsError::UnknownCipher { name })) => assert_eq!(name, "ECDHE-RSA-AES128-SHA"),
//!     Err(Error::Tls(e)) if e.option() == Some(TlsOption::Key) => panic!("fix the key: {e}"),
//!     other => panic!("{other:?}"),
//! }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The examples of docs/options.md, compiled as doctests so that they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/options.md")]
pub struct OptionsDoc;

/// The examples of docs/flow-control.md, compiled as doctests for the same reason.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/flow-control.md")]
pub struct FlowControlDoc;

use std::io;
use std::sync::Arc;
use std::time::Instant;

use socketio_async::net::{BoxConnection, Net, NetRuntime};
use socketio_async::runtime::{BoxFuture, HttpRequest, TransportFailure, WsConnection, WsRequest};
use tokio_util::compat::TokioAsyncReadCompatExt;

pub use socketio_async::proxy::ProxyOptions;
pub use socketio_async::tls::TlsOptions;
pub use socketio_async::*;

/// What tokio supplies to the shared network code: its TCP sockets (through tokio-util's
/// compat layer), timers and tasks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl Net for Tokio {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        tokio::spawn(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn connect_tcp(
        &self,
        host: String,
        port: u16,
    ) -> BoxFuture<'static, io::Result<BoxConnection>> {
        Box::pin(async move {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(Box::new(tcp.compat()) as BoxConnection)
        })
    }
}

/// The tokio [`Runtime`]: must be used from within a tokio runtime.
#[derive(Clone, Debug)]
pub struct TokioRuntime(NetRuntime<Tokio>);

impl TokioRuntime {
    /// A runtime with default TLS (Mozilla roots, verification on).
    pub fn new() -> Self {
        Self(NetRuntime::new(Tokio))
    }

    /// A runtime with these TLS options.
    pub fn with_tls(tls: &TlsOptions) -> Result<Self, Error> {
        NetRuntime::with_tls(Tokio, tls).map(Self)
    }

    /// Tunnels every connection (polling and WebSocket, plain and TLS) through this HTTP proxy
    /// with `CONNECT`, except to the hosts of its `no_proxy` list. TLS runs end to end inside
    /// the tunnel, with this runtime's TLS options.
    pub fn with_proxy(self, proxy: ProxyOptions) -> Self {
        Self(self.0.with_proxy(proxy))
    }

    /// As a shareable runtime object.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl Default for TokioRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.0.spawn(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self.0.sleep_until(deadline)
    }

    fn http(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<socketio_async::runtime::HttpResponse, TransportFailure>> {
        self.0.http(request)
    }

    fn websocket(
        &self,
        request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>> {
        self.0.websocket(request)
    }
}

/// The tokio runtime the caller runs in, or [`Error::NoRuntime`]: the client's task is
/// spawned on it, and spawning outside one would panic.
fn current() -> Result<(), Error> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| Error::NoRuntime)
}

/// Connects to the namespace in `url`'s path on the current tokio runtime (see
/// [`socketio_async::io`]); [`Error::NoRuntime`] outside a tokio runtime.
///
/// Listeners added after this call may miss the first events: the connection runs on its
/// own task. Register them first with [`builder`].
pub fn io(url: &str, options: Options) -> Result<Socket, Error> {
    current()?;
    socketio_async::io(url, options, TokioRuntime::new().shared())
}

/// Like [`io()`], with TLS options.
pub fn io_with_tls(url: &str, options: Options, tls: &TlsOptions) -> Result<Socket, Error> {
    current()?;
    socketio_async::io(url, options, TokioRuntime::with_tls(tls)?.shared())
}

/// A socket to register listeners on before it connects, on the current tokio runtime (see
/// [`SocketBuilder`]); [`Error::NoRuntime`] outside a tokio runtime.
///
/// ```no_run
/// # async fn demo() -> Result<(), socketio_tokio::Error> {
/// let socket = socketio_tokio::builder("http://localhost:3000", Default::default())?
///     .on("welcome", |msg| println!("{:?}", msg.args.values()))
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
pub fn builder(url: &str, options: Options) -> Result<SocketBuilder, Error> {
    current()?;
    SocketBuilder::new(url, options, TokioRuntime::new().shared())
}

#[cfg(test)]
mod tests {
    #[test]
    fn io_outside_a_runtime_is_an_error() {
        let result = super::io("http://127.0.0.1:1", super::Options::default());
        assert!(matches!(result, Err(super::Error::NoRuntime)), "{result:?}");
        let result = super::builder("http://127.0.0.1:1", super::Options::default());
        assert!(matches!(result, Err(super::Error::NoRuntime)));
    }
}
