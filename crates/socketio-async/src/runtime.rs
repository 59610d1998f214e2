//! The small, object-safe interface the driver runs on: tasks, timers, one HTTP request, one
//! WebSocket. It carries no protocol decision: the driver and the sans-IO core make those.
//!
//! Runtime adapters do not implement it by hand: they implement [`crate::net::Net`] (a TCP
//! connection, a timer, a way to spawn) and get the shared HTTP, TLS, proxy and WebSocket code
//! of [`crate::net::NetRuntime`]. Tests implement it directly over fakes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use web_time::Instant;

use bytes::Bytes;
use engineio_proto::{Header, WsFrame, redact};
pub use engineio_proto::{HttpResponse, IoError, IoErrorKind};
use url::Url;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A long-polling request to perform. `Debug` hides header values, the caller's query values
/// and the body (see [`engineio_proto::redact`]).
#[derive(Clone)]
pub struct HttpRequest {
    /// `GET` (receive) or `POST` (send).
    pub post: bool,
    /// The full URL.
    pub url: Url,
    /// Headers to add.
    pub headers: Vec<Header>,
    /// The POST body (empty for a GET).
    pub body: Bytes,
    /// The largest response body to accept, in bytes: a larger (or never-ending) body fails
    /// the request instead of growing memory without limit.
    pub max_body: usize,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("post", &self.post)
            .field("url", &redact::display_url(&self.url))
            .field("headers", &redact::HeaderNames(&self.headers))
            .field("body", &self.body.len())
            .field("max_body", &self.max_body)
            .finish()
    }
}

/// A WebSocket to open. `Debug` hides header values and the caller's query values.
#[derive(Clone)]
pub struct WsRequest {
    /// The `ws://` or `wss://` URL.
    pub url: Url,
    /// Headers for the handshake.
    pub headers: Vec<Header>,
    /// Sub-protocols to offer.
    pub protocols: Vec<String>,
    /// The largest message (and frame) to accept, in bytes; a larger one fails the WebSocket.
    pub max_message: usize,
}

impl fmt::Debug for WsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsRequest")
            .field("url", &redact::display_url(&self.url))
            .field("headers", &redact::HeaderNames(&self.headers))
            .field("protocols", &self.protocols)
            .field("max_message", &self.max_message)
            .finish()
    }
}

/// An open WebSocket, read and written by the driver's own task through polls: no task of its
/// own, so a frame goes from the socket to the listener, and from the caller to the socket,
/// in one hop. The shape is `futures`' `Stream` + `Sink`, as one object-safe trait.
pub trait WebSocket: Send {
    /// The next data frame; `Ready(None)` once the connection ended cleanly (the server's close
    /// frame, or the end of the stream after ours). Ping, pong and close frames are handled
    /// inside.
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WsFrame, TransportFailure>>>;
    /// Ready when [`WebSocket::start_send`] may take one more frame (writing out what is
    /// buffered if it must).
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>>;
    /// Buffers one frame; call after [`WebSocket::poll_ready`] was ready.
    fn start_send(&mut self, frame: WsFrame) -> Result<(), TransportFailure>;
    /// Writes out every buffered frame.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>>;
    /// Sends a close frame (no status code) and flushes it. The server's answer then ends
    /// [`WebSocket::poll_next`].
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>>;
}

/// An established WebSocket.
pub struct WsConnection {
    /// The handshake response headers (for cookies).
    pub headers: Vec<Header>,
    /// The socket.
    pub socket: Box<dyn WebSocket>,
}

impl fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnection")
            .field("headers", &self.headers.len())
            .finish_non_exhaustive()
    }
}

/// Why an HTTP request or WebSocket failed: the kind (to branch on) and the underlying
/// error's message. Adapters never put secrets in it (URLs with credentials are stripped).
pub type TransportFailure = IoError;

/// An option a runtime cannot honour, refused before anything connects (see
/// [`Runtime::check_options`]) instead of being ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// `extra_headers` with the WebSocket transport allowed: a browser's WebSocket sends no
    /// headers of the caller's on its handshake. Allow only polling
    /// (`transports([TransportKind::Polling])`, whose fetch requests carry them), or carry
    /// the value in `auth` or `query`.
    WebSocketHeaders,
    /// `with_credentials` differs from the runtime's credentials mode: a browser runtime
    /// sets fetch's `credentials` for all its requests, so build it for these options
    /// (`socketio_wasm::WasmRuntime::for_options`).
    CredentialsMode,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WebSocketHeaders => f.write_str(
                "extra_headers cannot be sent on this runtime's WebSocket handshake: \
                 allow only the polling transport, or carry the value in auth or query",
            ),
            Self::CredentialsMode => f.write_str(
                "with_credentials differs from the runtime's credentials mode: \
                 build the runtime for these options",
            ),
        }
    }
}

impl std::error::Error for Unsupported {}

/// What an async runtime provides to the client.
///
/// The adapter crates (`socketio-tokio`, `socketio-async-std`) get it from
/// [`crate::net::NetRuntime`]; a test can implement it over fakes. The driver polls the
/// futures of [`Runtime::http`] and [`Runtime::websocket`] itself, on its own task.
pub trait Runtime: Send + Sync + 'static {
    /// Runs `task` in the background.
    fn spawn(&self, task: BoxFuture<'static, ()>);
    /// Completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
    /// Refuses options this runtime cannot honour ([`crate::Error::Unsupported`]); called
    /// when a [`crate::Manager`] is created. Runtimes that honour every option (the default)
    /// accept all.
    fn check_options(&self, options: &crate::Options) -> Result<(), Unsupported> {
        let _ = options;
        Ok(())
    }
    /// The current time. Adapters with a mockable clock override this.
    fn now(&self) -> Instant {
        Instant::now()
    }
    /// Performs one HTTP request and returns the whole response (body decompressed).
    fn http(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<engineio_proto::HttpResponse, TransportFailure>>;
    /// Opens a WebSocket.
    fn websocket(
        &self,
        request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>>;
}
