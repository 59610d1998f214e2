//! A runtime that cannot honour an option refuses it through `Runtime::check_options`: the
//! manager is not created and no connection task is spawned (the browser adapter refuses
//! headers on the WebSocket handshake this way).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use socketio_async::runtime::{
    BoxFuture, HttpRequest, IoErrorKind, TransportFailure, Unsupported, WsConnection, WsRequest,
};
use socketio_async::{Error, Manager, Options, Runtime, TransportKind};
use web_time::Instant;

/// Refuses extra headers unless only polling is allowed, as the browser adapter does, and
/// counts spawned tasks.
#[derive(Default)]
struct HeaderlessRuntime {
    spawned: AtomicUsize,
}

impl Runtime for HeaderlessRuntime {
    fn check_options(&self, options: &Options) -> Result<(), Unsupported> {
        let websocket = options.transports.contains(&TransportKind::WebSocket);
        if websocket && !options.extra_headers.is_empty() {
            return Err(Unsupported::WebSocketHeaders);
        }
        Ok(())
    }

    fn spawn(&self, _task: BoxFuture<'static, ()>) {
        self.spawned.fetch_add(1, Ordering::SeqCst);
    }

    fn sleep_until(&self, _deadline: Instant) -> BoxFuture<'static, ()> {
        Box::pin(std::future::pending())
    }

    fn http(
        &self,
        _request: HttpRequest,
    ) -> BoxFuture<'static, Result<engineio_proto::HttpResponse, TransportFailure>> {
        Box::pin(async { Err(TransportFailure::new(IoErrorKind::Other, "no network")) })
    }

    fn websocket(
        &self,
        _request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>> {
        Box::pin(async { Err(TransportFailure::new(IoErrorKind::Other, "no network")) })
    }
}

#[test]
fn a_refused_option_creates_no_connection() {
    let runtime = Arc::new(HeaderlessRuntime::default());
    let options = Options::default().extra_header("x-token", "secret");
    let result = Manager::new("http://127.0.0.1:1", options.clone(), runtime.clone());
    assert!(
        matches!(
            result,
            Err(Error::Unsupported(Unsupported::WebSocketHeaders))
        ),
        "{result:?}"
    );
    let result = socketio_async::io(
        "http://127.0.0.1:1/chat",
        options.force_new(true),
        runtime.clone(),
    );
    assert!(matches!(
        result,
        Err(Error::Unsupported(Unsupported::WebSocketHeaders))
    ));
    assert_eq!(runtime.spawned.load(Ordering::SeqCst), 0);

    // The same headers over polling alone are accepted: the connection task starts.
    let polling = Options::default()
        .extra_header("x-token", "secret")
        .transports([TransportKind::Polling]);
    let manager = Manager::new("http://127.0.0.1:1", polling, runtime.clone());
    assert!(manager.is_ok(), "{manager:?}");
    assert_eq!(runtime.spawned.load(Ordering::SeqCst), 1);
}
