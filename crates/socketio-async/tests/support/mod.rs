//! The runtime of the integration tests that need no simulated network (the driver's tests in
//! tests/driver have their own, with virtual time and the test kit's fake server).

use std::sync::Mutex;

use socketio_async::runtime::{
    BoxFuture, HttpRequest, IoErrorKind, TransportFailure, Unsupported, WebSocket, WsConnection,
    WsRequest,
};
use socketio_async::{Options, Runtime};
use web_time::Instant;

/// The WebSocket a [`StubRuntime`] opens for each connection, or why it fails.
pub type OpenWebSocket =
    Box<dyn Fn() -> Result<Box<dyn WebSocket>, TransportFailure> + Send + Sync>;

/// A runtime whose timers never fire, whose polling requests fail, and whose WebSocket is the
/// test's. It runs nothing itself: the tasks it is asked to spawn wait in `spawned` for the
/// test to run (or count) them, so every run interleaves the same way.
pub struct StubRuntime {
    /// Spawned tasks, in order, not yet taken by the test.
    pub spawned: Mutex<Vec<BoxFuture<'static, ()>>>,
    /// What [`Runtime::check_options`] answers; the default accepts every option.
    pub check_options: fn(&Options) -> Result<(), Unsupported>,
    /// What [`Runtime::websocket`] opens; the default fails as if there were no network.
    pub websocket: OpenWebSocket,
}

impl Default for StubRuntime {
    fn default() -> Self {
        Self {
            spawned: Mutex::default(),
            check_options: |_| Ok(()),
            websocket: Box::new(|| Err(no_network())),
        }
    }
}

impl Runtime for StubRuntime {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.spawned.lock().unwrap().push(task);
    }

    fn sleep_until(&self, _deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(std::future::pending())
    }

    fn check_options(&self, options: &Options) -> Result<(), Unsupported> {
        (self.check_options)(options)
    }

    fn http(
        &self,
        _request: HttpRequest,
    ) -> BoxFuture<'static, Result<engineio_proto::HttpResponse, TransportFailure>> {
        Box::pin(async { Err(no_network()) })
    }

    fn websocket(
        &self,
        _request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>> {
        let socket = (self.websocket)();
        Box::pin(async move {
            Ok(WsConnection {
                headers: Vec::new(),
                socket: socket?,
            })
        })
    }
}

fn no_network() -> TransportFailure {
    TransportFailure::new(IoErrorKind::Other, "no network")
}
