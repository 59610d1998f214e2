//! The tokio adapter of the Socket.IO client: tokio timers and tasks, hyper 1 for
//! long-polling, tokio-tungstenite for WebSocket, rustls (ring) for TLS.
//!
//! ```no_run
//! # async fn demo() -> Result<(), socketio_tokio::Error> {
//! use socketio_tokio::{io, Options};
//!
//! let socket = io("http://localhost:3000", Options::default())?;
//! socket.on("news", |msg| println!("{:?}", msg.args.to_values()));
//! let (reply,): (String,) = socket.emit_with_ack("echo", ("hello",)).await?;
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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod http;
mod stream;
mod ws;

use std::sync::Arc;
use std::time::Instant;

use rustls::ClientConfig;
use socketio_async::runtime::{BoxFuture, HttpRequest, TransportFailure, WsConnection, WsRequest};

pub use socketio_async::proxy::ProxyOptions;
pub use socketio_async::tls::TlsOptions;
pub use socketio_async::*;

/// The tokio [`Runtime`]: must be used from within a tokio runtime.
#[derive(Clone)]
pub struct TokioRuntime {
    tls: Arc<ClientConfig>,
    pool: Arc<socketio_async::http1::Pool>,
    proxy: Option<Arc<ProxyOptions>>,
}

impl std::fmt::Debug for TokioRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokioRuntime")
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl TokioRuntime {
    /// A runtime with default TLS (Mozilla roots, verification on).
    pub fn new() -> Self {
        // One default TLS configuration per process: `io()` makes a runtime per call, and a
        // configuration each (root store, session cache) cost ~20 KiB per client at 10,000
        // clients (measured with bench/, `socketio-bench scale`).
        static DEFAULT_TLS: std::sync::OnceLock<Arc<ClientConfig>> = std::sync::OnceLock::new();
        let tls = DEFAULT_TLS.get_or_init(|| {
            Self::with_tls(&TlsOptions::default())
                // The default options always build; keep a usable value regardless.
                .unwrap_or_else(|_| unreachable_default())
                .tls
        });
        Self {
            tls: tls.clone(),
            pool: Arc::default(),
            proxy: None,
        }
    }

    /// A runtime with these TLS options.
    pub fn with_tls(tls: &TlsOptions) -> Result<Self, Error> {
        let tls = tls
            .build()
            .map_err(|e| Error::Payload(format!("TLS options: {e}")))?;
        Ok(Self {
            tls,
            pool: Arc::default(),
            proxy: None,
        })
    }

    /// Tunnels every connection (polling and WebSocket, plain and TLS) through this HTTP proxy
    /// with `CONNECT`, except to the hosts of its `no_proxy` list. TLS runs end to end inside
    /// the tunnel, with this runtime's TLS options.
    pub fn with_proxy(mut self, proxy: ProxyOptions) -> Self {
        self.proxy = Some(Arc::new(proxy));
        // Connections kept alive so far went elsewhere.
        self.pool = Arc::default();
        self
    }

    /// As a shareable runtime object.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

fn unreachable_default() -> TokioRuntime {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
    TokioRuntime {
        tls: Arc::new(config.unwrap_or_else(|_| panic!("ring supports the default TLS versions"))),
        pool: Arc::default(),
        proxy: None,
    }
}

impl Default for TokioRuntime {
    fn default() -> Self {
        Self::new()
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        tokio::spawn(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }

    fn http(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<engineio_proto::HttpResponse, TransportFailure>> {
        Box::pin(http::request(
            self.pool.clone(),
            self.tls.clone(),
            self.proxy.clone(),
            request,
        ))
    }

    fn websocket(
        &self,
        request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>> {
        Box::pin(ws::open(self.tls.clone(), self.proxy.clone(), request))
    }
}

/// Connects to the namespace in `url`'s path on the current tokio runtime (see
/// [`socketio_async::io`]).
pub fn io(url: &str, options: Options) -> Result<Socket, Error> {
    socketio_async::io(url, options, TokioRuntime::new().shared())
}

/// Like [`io`], with TLS options.
pub fn io_with_tls(url: &str, options: Options, tls: &TlsOptions) -> Result<Socket, Error> {
    socketio_async::io(url, options, TokioRuntime::with_tls(tls)?.shared())
}
