//! Findings of the `sio_manager` fuzz target, kept as regression tests.

mod support;

use socketio_proto::codec::Payload;
use socketio_proto::{EmitOptions, EmitStatus, Event, SocketConfig};
use support::{Harness, config};

fn payload<T: serde::Serialize>(v: &T) -> Payload {
    Payload::from_serialize(v).expect("serializable")
}

/// A CONNECT_ERROR for a namespace that is connected used to deactivate the socket while it
/// stayed connected: the manager closed (no active socket), and after `open()` the stale
/// socket wrote events on the new engine without ever sending CONNECT there, which a real
/// server punishes by closing the connection.
#[test]
fn a_connect_error_for_a_connected_namespace_is_ignored() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame(r#"44{"message":"late"}"#);
    assert_eq!(h.take_events(), []);
    let socket = h.manager.socket("/").expect("socket");
    assert!(socket.connected() && socket.active());
    assert!(h.ws.is_some(), "the engine stays open");

    // The sequence the fuzzer found: close, reopen, emit. The socket reconnects properly and
    // the event waits for the new CONNECT reply.
    h.manager.close(h.now);
    h.drain();
    h.manager.open(h.now);
    h.drain();
    h.accept();
    assert_eq!(h.take_sent(), ["40"]);
    let emitted = h
        .manager
        .socket_mut("/")
        .expect("socket")
        .emit(h.now, payload(&("x", 1)), EmitOptions::default())
        .expect("valid emit");
    h.drain();
    assert_eq!(emitted.status, EmitStatus::Buffered);
    assert_eq!(h.take_sent(), Vec::<String>::new());
    h.frame(r#"40{"sid":"again"}"#);
    assert_eq!(h.take_sent(), [r#"42["x",1]"#]);
    assert!(
        h.take_events()
            .iter()
            .any(|e| matches!(e, Event::Connect { .. }))
    );
}

/// Found by the `sio_msgpack` fuzz target: a float read from the wire could come out one unit
/// in the last place away from the number the server wrote (serde_json's fast float parsing
/// is not correctly rounded), so re-encoding a packet drifted. JavaScript's `JSON.parse` is
/// correctly rounded, and so is ours now (serde_json's `float_roundtrip`).
#[test]
fn floats_read_from_the_wire_are_exact() {
    for text in [
        "-1.8385815279456415e+289",
        "-1.363115719988382e+57",
        "0.1",
        "2.2250738585072014e-308",
        "1.7976931348623157e+308",
        "5e-324",
        "123456789.12345679",
    ] {
        let p = Payload::from_json(format!(r#"["n",{text}]"#).into()).expect("JSON");
        let n: f64 = p.arg(1).expect("a float");
        assert_eq!(n.to_string().parse::<f64>().ok(), Some(n));
        // Shortest round-trip formatting gives back the very text the server wrote.
        assert_eq!(
            serde_json::to_string(&n).expect("a float"),
            text,
            "{text} read as {n:e}"
        );
    }
}
