//! The socket.io 2.x protocol (revision 4, over Engine.IO 3): `/` connected by the server
//! unasked, namespace CONNECT with the query and no auth, ids derived from the engine's, ERROR
//! with a string, the 2.x reserved event names.

mod support;

use std::time::Duration;

use socketio_proto::codec::Payload;
use socketio_proto::{
    ConfigError, ConnectError, EmitError, EmitOptions, Event, ManagerConfig, SocketConfig,
};
use support::{Harness, config};

const HANDSHAKE_V3: &str =
    r#"0{"sid":"eio-sid","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#;

fn v3() -> ManagerConfig {
    let mut c = config();
    c.engine.protocol = engineio_proto::EngineProtocol::V3;
    c
}

fn payload<T: serde::Serialize>(v: &T) -> Payload {
    Payload::from_serialize(v).expect("serializable")
}

fn connects(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Connect { nsp, sid, .. } => Some((nsp.to_string(), sid.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_default_namespace_is_connected_by_the_server() {
    let mut h = Harness::new(v3());
    h.connect("/", SocketConfig::default());
    h.accept_with(HANDSHAKE_V3);
    assert!(h.take_sent().is_empty(), "no CONNECT for `/` in 2.x");
    h.frame("40");
    assert_eq!(
        connects(&h.take_events()),
        [("/".to_owned(), "eio-sid".to_owned())]
    );
}

#[test]
fn detection_over_websocket_connects_the_same_way() {
    let mut c = config();
    c.engine.protocol = engineio_proto::EngineProtocol::Detect;
    let mut h = Harness::new(c);
    h.connect("/", SocketConfig::default());
    h.accept_with(HANDSHAKE_V3);
    assert!(h.take_sent().is_empty());
    h.frame("40");
    assert_eq!(connects(&h.take_events()).len(), 1);
}

#[test]
fn namespaces_send_the_query_and_get_derived_ids() {
    let mut c = v3();
    c.engine.query = vec![("token".into(), "a b".into())];
    let mut h = Harness::new(c);
    h.connect("/chat", SocketConfig::default());
    h.accept_with(HANDSHAKE_V3);
    // The server's implicit `/` comes first; nobody asked for it.
    h.frame("40");
    assert_eq!(h.take_sent(), ["40/chat?token=a+b,"]);
    h.frame("40/chat,");
    assert_eq!(
        connects(&h.take_events()),
        [("/chat".to_owned(), "/chat#eio-sid".to_owned())]
    );
    // `/` joined later takes the implicit connection that already came.
    let now = h.now;
    h.manager
        .add_socket("/", SocketConfig::default())
        .unwrap()
        .connect(now);
    h.drain();
    assert!(h.take_sent().is_empty());
    assert_eq!(
        connects(&h.take_events()),
        [("/".to_owned(), "eio-sid".to_owned())]
    );
}

#[test]
fn emits_before_connect_wait_for_the_implicit_connect() {
    let mut h = Harness::new(v3());
    h.connect("/", SocketConfig::default());
    let now = h.now;
    h.manager
        .socket_mut("/")
        .unwrap()
        .emit(now, payload(&("hi", 1)), EmitOptions::with_ack())
        .unwrap();
    h.accept_with(HANDSHAKE_V3);
    assert!(h.take_sent().is_empty());
    h.frame("40");
    assert_eq!(h.take_sent(), [r#"420["hi",1]"#]);
}

#[test]
fn an_error_string_refuses_the_namespace() {
    let mut h = Harness::new(v3());
    h.connect("/admin", SocketConfig::default());
    h.accept_with(HANDSHAKE_V3);
    h.frame("40");
    h.take_sent();
    h.frame(r#"44/admin,"not authorized""#);
    let events = h.take_events();
    assert!(
        events.contains(&Event::ConnectError {
            nsp: "/admin".into(),
            error: ConnectError::Refused {
                message: "not authorized".into(),
                data: None
            }
        }),
        "{events:#?}"
    );
}

#[test]
fn auth_is_refused_with_a_typed_error() {
    // Set explicitly: refused at once.
    let mut h = Harness::new(v3());
    let err = h
        .manager
        .add_socket("/", SocketConfig::default())
        .unwrap()
        .set_auth(Some(payload(&serde_json::json!({"token": "x"}))))
        .unwrap_err();
    assert_eq!(err, ConfigError::AuthUnsupported);
    // Detected: the namespace fails with a reason instead of connecting without it.
    let mut c = config();
    c.engine.protocol = engineio_proto::EngineProtocol::Detect;
    let mut h = Harness::new(c);
    let now = h.now;
    let mut s = h
        .manager
        .add_socket("/chat", SocketConfig::default())
        .unwrap();
    s.set_auth(Some(payload(&serde_json::json!({"token": "x"}))))
        .unwrap();
    s.connect(now);
    h.drain();
    h.accept_with(HANDSHAKE_V3);
    assert!(h.take_events().contains(&Event::ConnectError {
        nsp: "/chat".into(),
        error: ConnectError::AuthUnsupported
    }));
    assert!(h.take_sent().is_empty());
}

#[test]
fn the_2x_reserved_names_are_refused() {
    let mut h = Harness::new(v3());
    h.connect("/", SocketConfig::default());
    let now = h.now;
    let err = h
        .manager
        .socket_mut("/")
        .unwrap()
        .emit(now, payload(&("ping",)), EmitOptions::default())
        .unwrap_err();
    assert!(matches!(err, EmitError::ReservedEvent(name) if name == "ping"));
}

#[test]
fn a_missing_sid_over_engine_io_4_is_still_incompatible() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    h.accept();
    h.frame("40");
    assert!(h.take_events().iter().any(|e| matches!(
        e,
        Event::ConnectError {
            error: ConnectError::IncompatibleServer,
            ..
        }
    )));
}

#[test]
fn the_client_heartbeat_keeps_a_v3_connection_alive() {
    let mut h = Harness::new(v3());
    h.connect("/", SocketConfig::default());
    h.accept_with(HANDSHAKE_V3);
    h.frame("40");
    for _ in 0..4 {
        h.advance(Duration::from_secs(25));
        assert_eq!(h.take_sent(), ["2"]);
        h.advance(Duration::from_secs(1));
        h.frame("3");
    }
    assert!(h.manager.socket("/").unwrap().connected());
    // No pong: closed after pingTimeout.
    h.advance(Duration::from_secs(25));
    assert_eq!(h.take_sent(), ["2"]);
    h.advance(Duration::from_secs(5));
    assert!(h.take_events().iter().any(|e| matches!(
        e,
        Event::Disconnect {
            reason: socketio_proto::DisconnectReason::PingTimeout,
            ..
        }
    )));
}
