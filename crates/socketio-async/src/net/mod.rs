//! The network code every async runtime shares: TCP through an HTTP proxy's `CONNECT` tunnel
//! when asked, TLS (rustls through futures-rustls), long-polling over hyper 1's HTTP/1 client,
//! and WebSocket over async-tungstenite, all over the `futures-io` traits.
//!
//! A runtime adapter supplies only what differs between runtimes, as a [`Net`]: a TCP
//! connection as a `futures-io` stream (tokio's through a compat layer), a timer, and a way to
//! spawn. [`NetRuntime`] turns that into the driver's [`Runtime`].

mod http;
mod stream;
mod ws;

use std::io;
use std::sync::Arc;
use web_time::Instant;

use engineio_proto::HttpResponse;
use futures_util::io::{AsyncRead, AsyncWrite};
use rustls::ClientConfig;

use crate::proxy::ProxyOptions;
use crate::runtime::{
    BoxFuture, HttpRequest, IoErrorKind, Runtime, TransportFailure, WsConnection, WsRequest,
};
use crate::tls::TlsOptions;

pub use http::Pool;

/// A connected byte stream (`futures-io`).
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Connection for T {}

/// A boxed [`Connection`].
pub type BoxConnection = Box<dyn Connection>;

/// What an async runtime supplies to the shared network code.
pub trait Net: Send + Sync + 'static {
    /// Runs `task` in the background (hyper's connection tasks).
    fn spawn(&self, task: BoxFuture<'static, ()>);
    /// Completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
    /// Opens a TCP connection to `host:port` (`host` a name or a bare IP address), with
    /// `TCP_NODELAY` set: Engine.IO packets are small and latency-bound.
    fn connect_tcp(&self, host: String, port: u16)
    -> BoxFuture<'static, io::Result<BoxConnection>>;
}

/// The driver's [`Runtime`] over a runtime's [`Net`], with TLS options and an optional HTTP
/// proxy. Cheap to clone.
pub struct NetRuntime<N> {
    net: Arc<N>,
    tls: Arc<ClientConfig>,
    pool: Arc<Pool>,
    proxy: Option<Arc<ProxyOptions>>,
}

impl<N> Clone for NetRuntime<N> {
    fn clone(&self) -> Self {
        Self {
            net: self.net.clone(),
            tls: self.tls.clone(),
            pool: self.pool.clone(),
            proxy: self.proxy.clone(),
        }
    }
}

impl<N> std::fmt::Debug for NetRuntime<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetRuntime")
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl<N: Net> NetRuntime<N> {
    /// A runtime with default TLS (Mozilla roots, verification on).
    pub fn new(net: N) -> Self {
        // One default TLS configuration per process: `io()` makes a runtime per call, and a
        // configuration each (root store, session cache) cost ~20 KiB per client at 10,000
        // clients (measured with bench/, `socketio-bench scale`).
        static DEFAULT_TLS: std::sync::OnceLock<Arc<ClientConfig>> = std::sync::OnceLock::new();
        let tls = match DEFAULT_TLS.get() {
            Some(tls) => tls.clone(),
            None => match TlsOptions::default().build() {
                Ok(tls) => DEFAULT_TLS.get_or_init(|| tls).clone(),
                // The default options always build; without roots, TLS fails per connection.
                Err(_) => Arc::new(empty_tls()),
            },
        };
        Self::with_config(net, tls)
    }

    /// A runtime with these TLS options.
    pub fn with_tls(net: N, tls: &TlsOptions) -> Result<Self, crate::Error> {
        let tls = tls.build().map_err(crate::Error::Tls)?;
        Ok(Self::with_config(net, tls))
    }

    fn with_config(net: N, tls: Arc<ClientConfig>) -> Self {
        Self {
            net: Arc::new(net),
            tls,
            pool: Arc::default(),
            proxy: None,
        }
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

    /// The runtime's [`Net`].
    pub fn net(&self) -> &N {
        &self.net
    }

    /// The same runtime (TLS, proxy) over another [`Net`], e.g. one with another spawner.
    pub fn map_net<M: Net>(self, f: impl FnOnce(&N) -> M) -> NetRuntime<M> {
        NetRuntime {
            net: Arc::new(f(&self.net)),
            tls: self.tls,
            pool: self.pool,
            proxy: self.proxy,
        }
    }

    /// As a shareable runtime object.
    pub fn shared(self) -> Arc<dyn Runtime> {
        Arc::new(self)
    }
}

impl<N: Net> Runtime for NetRuntime<N> {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.net.spawn(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        self.net.sleep_until(deadline)
    }

    fn http(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<HttpResponse, TransportFailure>> {
        let net = self.net.clone();
        let tls = self.tls.clone();
        let proxy = self.proxy.clone();
        let pool = self.pool.clone();
        Box::pin(async move {
            let url = request.url.clone();
            let connector = net.clone();
            let open = || async move {
                stream::connect(&*connector, &url, &tls, proxy.as_deref())
                    .await
                    .map(http::HyperIo)
            };
            http::request(&pool, open, |task| net.spawn(task), request).await
        })
    }

    fn websocket(
        &self,
        request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>> {
        let net = self.net.clone();
        let tls = self.tls.clone();
        let proxy = self.proxy.clone();
        Box::pin(async move { ws::open(&*net, &tls, proxy.as_deref(), request).await })
    }
}

/// A TLS configuration that trusts nothing: only if the default options ever failed to build.
fn empty_tls() -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    match ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(builder) => builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
        Err(_) => ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    }
}

fn failure(kind: IoErrorKind, context: &str, e: impl std::fmt::Display) -> TransportFailure {
    TransportFailure::new(kind, format!("{context}: {e}"))
}
