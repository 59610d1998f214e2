//! The async-std / smol adapter of the Socket.IO client.
//!
//! async-std is discontinued upstream, so this adapter is built on what async-std itself runs
//! on: async-io (timers, the reactor), async-net (sockets) and futures-lite, with tasks on
//! async-global-executor (the executor behind async-std). It therefore serves async-std and smol
//! applications alike; [`AsyncStdRuntime::with_spawner`] hands tasks to an executor of your
//! choice (e.g. a `smol::Executor`). Long-polling goes through hyper 1, WebSocket through
//! async-tungstenite, TLS through rustls (futures-rustls, ring provider).
//!
//! ```no_run
//! # async fn demo() -> Result<(), socketio_async_std::Error> {
//! use socketio_async_std::{io, Options};
//!
//! let socket = socketio_async_std::builder("http://localhost:3000", Options::default())?
//!     .on("news", |msg| println!("{:?}", msg.args.values()))
//!     .connect()
//!     .await?;
//! socket.emit("hello", "world")?;
//! let (reply,): (String,) = socket.emit_with_ack("echo", "hello").await?;
//! # let _ = io;
//! # Ok(()) }
//! ```
//!
//! Through an HTTP proxy (Node's `agent` with a proxy agent), with TLS options if needed:
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use socketio_async_std::{AsyncStdRuntime, Manager, Options, ProxyOptions, TlsOptions};
//!
//! let proxy = ProxyOptions::new("http://user:password@proxy.corp.example:3128")?
//!     .no_proxy(["localhost", ".corp.example"]);
//! let runtime = AsyncStdRuntime::with_tls(&TlsOptions::default())?.with_proxy(proxy);
//! let manager = Manager::new("https://chat.example.com", Options::default(), runtime.shared())?;
//! let socket = manager.socket("/")?;
//! # Ok(()) }
//! ```
//!
//! Cargo features, off by default for the crates they pull in: `pfx` ([`TlsOptions::pfx`]),
//! `encrypted-keys` (an encrypted [`TlsOptions::key`] with a passphrase) and `native-roots`
//! (the OS trust store, [`socketio_async::tls::Roots`]). An option used without its feature is
//! refused with [`socketio_async::tls::TlsError::FeatureDisabled`], which names the feature.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use socketio_async::net::{BoxConnection, Net, NetRuntime};
use socketio_async::runtime::{BoxFuture, HttpRequest, TransportFailure, WsConnection, WsRequest};

pub use socketio_async::proxy::ProxyOptions;
pub use socketio_async::tls::TlsOptions;
pub use socketio_async::*;

type Spawner = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

/// What async-std / smol supply to the shared network code: async-net's TCP sockets,
/// async-io's timers, and a spawner (async-global-executor unless replaced).
#[derive(Clone)]
pub struct AsyncStd {
    spawner: Spawner,
}

impl std::fmt::Debug for AsyncStd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncStd").finish_non_exhaustive()
    }
}

impl Default for AsyncStd {
    fn default() -> Self {
        Self {
            spawner: Arc::new(spawn_detached),
        }
    }
}

fn spawn_detached(task: impl Future<Output = ()> + Send + 'static) {
    async_global_executor::spawn(task).detach();
}

impl Net for AsyncStd {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        (self.spawner)(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            async_io::Timer::at(deadline).await;
        })
    }

    fn connect_tcp(
        &self,
        host: String,
        port: u16,
    ) -> BoxFuture<'static, io::Result<BoxConnection>> {
        Box::pin(async move {
            let tcp = async_net::TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(Box::new(tcp) as BoxConnection)
        })
    }
}

/// The async-std / smol [`Runtime`].
#[derive(Clone, Debug)]
pub struct AsyncStdRuntime(NetRuntime<AsyncStd>);

impl AsyncStdRuntime {
    /// A runtime with default TLS (Mozilla roots, verification on), spawning on
    /// async-global-executor.
    pub fn new() -> Result<Self, Error> {
        Ok(Self(NetRuntime::new(AsyncStd::default())))
    }

    /// A runtime with these TLS options.
    pub fn with_tls(tls: &TlsOptions) -> Result<Self, Error> {
        NetRuntime::with_tls(AsyncStd::default(), tls).map(Self)
    }

    /// Tunnels every connection (polling and WebSocket, plain and TLS) through this HTTP proxy
    /// with `CONNECT`, except to the hosts of its `no_proxy` list. TLS runs end to end inside
    /// the tunnel, with this runtime's TLS options.
    pub fn with_proxy(self, proxy: ProxyOptions) -> Self {
        Self(self.0.with_proxy(proxy))
    }

    /// Spawns the client's tasks with `spawner` instead (e.g. onto a `smol::Executor`).
    pub fn with_spawner(
        self,
        spawner: impl Fn(BoxFuture<'static, ()>) + Send + Sync + 'static,
    ) -> Self {
        let spawner: Spawner = Arc::new(spawner);
        Self(self.0.map_net(|_| AsyncStd { spawner }))
    }

    /// As a shareable runtime object.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl Runtime for AsyncStdRuntime {
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

/// Connects to the namespace in `url`'s path (see [`socketio_async::io`]).
pub fn io(url: &str, options: Options) -> Result<Socket, Error> {
    socketio_async::io(url, options, AsyncStdRuntime::new()?.shared())
}

/// Like [`io()`], with TLS options.
pub fn io_with_tls(url: &str, options: Options, tls: &TlsOptions) -> Result<Socket, Error> {
    socketio_async::io(url, options, AsyncStdRuntime::with_tls(tls)?.shared())
}

/// A socket to register listeners on before it connects (see [`SocketBuilder`]).
pub fn builder(url: &str, options: Options) -> Result<SocketBuilder, Error> {
    SocketBuilder::new(url, options, AsyncStdRuntime::new()?.shared())
}
