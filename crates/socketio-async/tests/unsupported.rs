//! A runtime that cannot honour an option refuses it through `Runtime::check_options`: the
//! manager is not created and no connection task is spawned (the browser adapter refuses
//! headers on the WebSocket handshake this way).

mod support;

use std::sync::Arc;

use socketio_async::runtime::Unsupported;
use socketio_async::{Error, Manager, Options, TransportKind};

use support::StubRuntime;

/// Refuses extra headers unless only polling is allowed, as the browser adapter does.
fn refuse_websocket_headers(options: &Options) -> Result<(), Unsupported> {
    let websocket = options.transports.contains(&TransportKind::WebSocket);
    if websocket && !options.extra_headers.is_empty() {
        return Err(Unsupported::WebSocketHeaders);
    }
    Ok(())
}

#[test]
fn a_refused_option_creates_no_connection() {
    let runtime = Arc::new(StubRuntime {
        check_options: refuse_websocket_headers,
        ..StubRuntime::default()
    });
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
    assert_eq!(runtime.spawned.lock().unwrap().len(), 0);

    // The same headers over polling alone are accepted: the connection task starts.
    let polling = Options::default()
        .extra_header("x-token", "secret")
        .transports([TransportKind::Polling]);
    let manager = Manager::new("http://127.0.0.1:1", polling, runtime.clone());
    assert!(manager.is_ok(), "{manager:?}");
    assert_eq!(runtime.spawned.lock().unwrap().len(), 1);
}
