//! The small, object-safe interface an async runtime adapter implements: tasks, timers, one
//! HTTP request, one WebSocket. It carries no protocol decision: the driver and the sans-IO
//! core make those.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use bytes::Bytes;
use engineio_proto::{Header, WsFrame, redact};
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
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("post", &self.post)
            .field("url", &redact::display_url(&self.url))
            .field("headers", &redact::HeaderNames(&self.headers))
            .field("body", &self.body.len())
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
}

impl fmt::Debug for WsRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsRequest")
            .field("url", &redact::display_url(&self.url))
            .field("headers", &redact::HeaderNames(&self.headers))
            .field("protocols", &self.protocols)
            .finish()
    }
}

/// The writing half of an open WebSocket.
pub trait WsSink: Send {
    /// Sends one frame.
    fn send(&mut self, frame: WsFrame) -> BoxFuture<'_, Result<(), TransportFailure>>;
    /// Sends a close frame (no status code) and flushes.
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// The reading half of an open WebSocket.
pub trait WsStream: Send {
    /// The next data frame; `None` on a clean close. Ping/pong/close frames are handled by the
    /// adapter.
    fn next(&mut self) -> BoxFuture<'_, Option<Result<WsFrame, TransportFailure>>>;
}

/// An established WebSocket.
pub struct WsConnection {
    /// The handshake response headers (for cookies).
    pub headers: Vec<Header>,
    /// Writes frames.
    pub sink: Box<dyn WsSink>,
    /// Reads frames.
    pub stream: Box<dyn WsStream>,
}

impl fmt::Debug for WsConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnection")
            .field("headers", &self.headers.len())
            .finish_non_exhaustive()
    }
}

/// Why an HTTP request or WebSocket failed, as text for the close reason. Adapters put the
/// underlying error's message here (never its secrets: URLs with credentials are stripped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFailure(pub String);

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TransportFailure {}

/// What an async runtime provides to the client.
///
/// Implementations live in the adapter crates (`socketio-tokio`, `socketio-async-std`); a
/// test can implement it over fakes.
pub trait Runtime: Send + Sync + 'static {
    /// Runs `task` in the background.
    fn spawn(&self, task: BoxFuture<'static, ()>);
    /// Completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()>;
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
