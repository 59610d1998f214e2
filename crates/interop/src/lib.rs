//! One interop suite, every runtime: scenarios are `async fn(Rt)` written once against
//! [`socketio_async`]; [`on_every_runtime!`] runs each under tokio (multi-thread runtime) and
//! under async-std (`async_std::task::block_on`). Timeouts and sleeps go through the runtime
//! under test, so a scenario never depends on one executor. [`Rt::with_tls`] and
//! [`Rt::with_proxy`] build the same adapter with TLS options and through an HTTP proxy (the
//! two compose, in either order); the helpers for the Node server's welcome, request log and
//! transport ([`Rt::welcome`], [`Rt::server_requests`], [`Rt::settles_on`]) and a
//! [`MuteServer`] that never answers are written once against [`Rt`] as well.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::{Either, select};
use futures_util::{Stream, StreamExt};
use serde_json::Value;
use socketio_async::proxy::ProxyOptions;
use socketio_async::tls::TlsOptions;
use socketio_async::{
    ConnectError, DisconnectReason, Error, ManagerEvent, Options, Runtime, Socket, SocketBuilder,
    SocketEvent, TransportKind,
};

pub use socketio_test_kit::node::NodeServer;

/// How long any one awaited step may take before the scenario fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// The runtime a scenario runs on.
#[derive(Clone)]
pub struct Rt {
    /// The adapter under test.
    pub runtime: Arc<dyn Runtime>,
    /// Its name, for messages.
    pub name: &'static str,
    /// The TLS options [`Rt::runtime`] was built with.
    tls: TlsOptions,
    /// The proxy [`Rt::runtime`] goes through, if any.
    proxy: Option<ProxyOptions>,
    /// Builds this adapter with TLS options and, if any, a proxy.
    make: MakeRuntime,
}

/// Builds an adapter with TLS options and, if any, a proxy.
type MakeRuntime = fn(&TlsOptions, Option<ProxyOptions>) -> Result<Arc<dyn Runtime>, Error>;

impl std::fmt::Debug for Rt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Rt {
    /// The tokio adapter (call inside a tokio runtime).
    pub fn tokio() -> Self {
        Self {
            runtime: socketio_tokio::TokioRuntime::new().shared(),
            name: "tokio",
            tls: TlsOptions::default(),
            proxy: None,
            make: |tls, proxy| {
                let runtime = socketio_tokio::TokioRuntime::with_tls(tls)?;
                Ok(match proxy {
                    Some(proxy) => runtime.with_proxy(proxy),
                    None => runtime,
                }
                .shared())
            },
        }
    }

    /// The async-std / smol adapter.
    pub fn async_std() -> Self {
        Self {
            runtime: socketio_async_std::AsyncStdRuntime::new()
                .expect("default TLS builds")
                .shared(),
            name: "async-std",
            tls: TlsOptions::default(),
            proxy: None,
            make: |tls, proxy| {
                let runtime = socketio_async_std::AsyncStdRuntime::with_tls(tls)?;
                Ok(match proxy {
                    Some(proxy) => runtime.with_proxy(proxy),
                    None => runtime,
                }
                .shared())
            },
        }
    }

    /// The same adapter built with these TLS options (and this `Rt`'s proxy, if any), or the
    /// error of building it.
    pub fn try_with_tls(&self, tls: &TlsOptions) -> Result<Rt, Error> {
        Ok(Self {
            runtime: (self.make)(tls, self.proxy.clone())?,
            tls: tls.clone(),
            ..self.clone()
        })
    }

    /// The same adapter built with these TLS options (which must be valid).
    pub fn with_tls(&self, tls: &TlsOptions) -> Rt {
        self.try_with_tls(tls)
            .unwrap_or_else(|e| panic!("{}: TLS options: {e}", self.name))
    }

    /// The same adapter (with this `Rt`'s TLS options) tunnelling every connection through
    /// this HTTP proxy, as `TokioRuntime::with_proxy` / `AsyncStdRuntime::with_proxy` do.
    pub fn with_proxy(&self, proxy: ProxyOptions) -> Rt {
        let runtime = (self.make)(&self.tls, Some(proxy.clone()))
            .unwrap_or_else(|e| panic!("{}: runtime with a proxy: {e}", self.name));
        Self {
            runtime,
            proxy: Some(proxy),
            ..self.clone()
        }
    }

    /// A [`SocketBuilder`] on this runtime.
    pub fn builder(&self, url: &str, options: Options) -> Result<SocketBuilder, Error> {
        SocketBuilder::new(url, options, self.runtime.clone())
    }

    /// `io()` on this runtime.
    pub fn io(&self, url: &str, options: Options) -> Result<Socket, Error> {
        socketio_async::io(url, options, self.runtime.clone())
    }

    /// Sleeps on this runtime's timers.
    pub async fn sleep(&self, d: Duration) {
        self.runtime.sleep_until(Instant::now() + d).await;
    }

    /// `fut`, or a panic naming `what` if it takes longer than [`WAIT`].
    pub async fn within<T>(&self, what: &str, fut: impl Future<Output = T>) -> T {
        let timer = self.runtime.sleep_until(Instant::now() + WAIT);
        match select(std::pin::pin!(fut), timer).await {
            Either::Left((v, _)) => v,
            Either::Right(_) => panic!("{}: timed out waiting for {what}", self.name),
        }
    }

    /// `fut`, or `None` if it takes longer than `d`.
    pub async fn timeout<T>(&self, d: Duration, fut: impl Future<Output = T>) -> Option<T> {
        let timer = self.runtime.sleep_until(Instant::now() + d);
        match select(std::pin::pin!(fut), timer).await {
            Either::Left((v, _)) => Some(v),
            Either::Right(_) => None,
        }
    }

    /// Waits for the next event `pick` accepts.
    pub async fn next_event<T>(
        &self,
        events: &mut (impl Stream<Item = SocketEvent> + Unpin),
        pick: impl FnMut(SocketEvent) -> Option<T>,
    ) -> T {
        self.next_item("a socket event", events, pick).await
    }

    /// Waits for the next manager event `pick` accepts.
    pub async fn next_manager_event<T>(
        &self,
        events: &mut (impl Stream<Item = ManagerEvent> + Unpin),
        pick: impl FnMut(ManagerEvent) -> Option<T>,
    ) -> T {
        self.next_item("a manager event", events, pick).await
    }

    async fn next_item<E, T>(
        &self,
        what: &str,
        events: &mut (impl Stream<Item = E> + Unpin),
        mut pick: impl FnMut(E) -> Option<T>,
    ) -> T {
        self.within(what, async {
            loop {
                let event = events.next().await.expect("event stream open");
                if let Some(v) = pick(event) {
                    return v;
                }
            }
        })
        .await
    }

    /// Waits until the socket is connected (fails on a connect error).
    pub async fn connected(
        &self,
        socket: &Socket,
        events: &mut (impl Stream<Item = SocketEvent> + Unpin),
    ) {
        if socket.connected() {
            return;
        }
        self.next_event(events, |e| match e {
            SocketEvent::Connect { .. } => Some(()),
            SocketEvent::ConnectError(e) => panic!("connect error: {e}"),
            _ => None,
        })
        .await;
    }

    /// The socket's failed first connection: from its status if it already failed (the
    /// client runs on its own task, so the stream may have been made after the event), else
    /// the next connect error on `events` (a connection fails the scenario).
    pub async fn failed_to_connect(
        &self,
        socket: &Socket,
        events: &mut (impl Stream<Item = SocketEvent> + Unpin),
    ) -> ConnectError {
        match socket.connect_error() {
            Some(error) if !socket.connected() => error,
            _ => self.connect_error(events).await,
        }
    }

    /// Waits for the connect error (a connection fails the scenario).
    pub async fn connect_error(
        &self,
        events: &mut (impl Stream<Item = SocketEvent> + Unpin),
    ) -> ConnectError {
        self.next_event(events, |e| match e {
            SocketEvent::ConnectError(e) => Some(e),
            SocketEvent::Connect { .. } => panic!("connected"),
            _ => None,
        })
        .await
    }

    /// Waits for the next disconnection.
    pub async fn disconnected(
        &self,
        events: &mut (impl Stream<Item = SocketEvent> + Unpin),
    ) -> DisconnectReason {
        self.next_event(events, |e| match e {
            SocketEvent::Disconnect(r) => Some(r),
            _ => None,
        })
        .await
    }

    /// Waits for the server's next "welcome" (sent on every connection): namespace, auth,
    /// query, headers, request URL, engine id and transport of the handshake.
    pub async fn welcome(&self, events: &mut (impl Stream<Item = SocketEvent> + Unpin)) -> Value {
        let message = self
            .next_event(events, |e| match e {
                SocketEvent::Message(m) if m.event == "welcome" => Some(m),
                SocketEvent::ConnectError(e) => panic!("connect error: {e}"),
                _ => None,
            })
            .await;
        message.args.get(0).expect("welcome argument")
    }

    /// Every request the server saw so far: `{method, url, headers}`.
    pub async fn server_requests(&self, socket: &Socket) -> Vec<Value> {
        let (requests,): (Vec<Value>,) = self
            .within("the request log", socket.emit_with_ack("requests", ()))
            .await
            .expect("requests");
        requests
    }

    /// The transport the server sees this socket on now.
    pub async fn server_transport(&self, socket: &Socket) -> String {
        let (transport,): (String,) = self
            .within("the transport", socket.emit_with_ack("transport", ()))
            .await
            .expect("transport");
        transport
    }

    /// Asks until the server sees the socket on `expected` (an upgrade may still be under way).
    pub async fn settles_on(&self, socket: &Socket, expected: &str) {
        let what = format!("the transport to settle on {expected}");
        self.within(&what, async {
            loop {
                if self.server_transport(socket).await == expected {
                    return;
                }
                self.sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }
}

/// The transports option of a transport mode by name: `polling` (long-polling only),
/// `websocket` (WebSocket only), anything else (polling upgraded to WebSocket).
pub fn transports(mode: &str) -> Vec<TransportKind> {
    match mode {
        "polling" => vec![TransportKind::Polling],
        "websocket" => vec![TransportKind::WebSocket],
        _ => vec![TransportKind::Polling, TransportKind::WebSocket],
    }
}

/// Options for a transport mode (see [`transports`]), always a new connection.
pub fn options(mode: &str) -> Options {
    Options::default()
        .transports(transports(mode))
        .force_new(true)
}

/// A query parameter of a request URL as the server logged it (`/socket.io/?EIO=4&...`).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(&format!("http://x{url}")).expect("request URL");
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A TCP server on 127.0.0.1 that accepts connections and never says a word (nor closes
/// them) until dropped; plain std threads, so it serves every runtime alike.
pub struct MuteServer {
    /// The port it listens on.
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MuteServer {
    /// Listens on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            // Blocks in accept; `Drop` wakes it with a connection of its own.
            while let Ok((stream, _)) = listener.accept() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                held.push(stream);
            }
        });
        Self {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for MuteServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs a tokio test body.
pub fn run_tokio<F: Future<Output = ()>>(body: impl FnOnce(Rt) -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async { body(Rt::tokio()).await });
}

/// Runs an async-std test body.
pub fn run_async_std<F: Future<Output = ()>>(body: impl FnOnce(Rt) -> F) {
    async_std::task::block_on(async { body(Rt::async_std()).await });
}

/// Generates, for each `async fn name(rt: Rt)` listed, a `#[test]` per runtime:
/// `tokio::name` and `async_std::name`.
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),* $(,)?) => {
        mod tokio {
            $(#[test]
            fn $name() {
                $crate::run_tokio(super::$name)
            })*
        }
        mod async_std {
            $(#[test]
            fn $name() {
                $crate::run_async_std(super::$name)
            })*
        }
    };
}

/// For each `async fn name(rt: Rt, mode: &str)` listed, generates the tests of
/// [`on_every_runtime!`] once per transport mode: `polling::tokio::name`,
/// `websocket::async_std::name`, `upgrade::tokio::name`... (`mode` is the module's name).
#[macro_export]
macro_rules! on_every_mode {
    ($($name:ident),* $(,)?) => {
        $crate::on_every_mode!(@mode polling: $($name),*);
        $crate::on_every_mode!(@mode websocket: $($name),*);
        $crate::on_every_mode!(@mode upgrade: $($name),*);
    };
    (@mode $mode:ident: $($name:ident),*) => {
        mod $mode {
            $(async fn $name(rt: $crate::Rt) {
                super::$name(rt, stringify!($mode)).await
            })*
            $crate::on_every_runtime!($($name),*);
        }
    };
}
