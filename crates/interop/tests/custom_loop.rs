//! The no-runtime example (examples/custom_loop, a loop stepping a
//! `socketio_blocking::Connection`) against the real Node.js server: connect over polling and
//! the upgrade, emit and ack, receive, heartbeats across several ping intervals, reconnection
//! after a server restart.

#[path = "../examples/custom_loop/client.rs"]
mod client;

use std::time::{Duration, Instant};

use engineio_proto::TransportKind;
use socketio_interop::NodeServer;
use socketio_proto::codec::Payload;
use socketio_proto::{EmitOptions, Event, SocketConfig};

#[test]
fn a_blocking_loop_runs_a_whole_client() {
    let mut server = NodeServer::start(&[("PING_INTERVAL", "200"), ("PING_TIMEOUT", "150")]);
    let mut client = client::BlockingClient::new(&server.url()).expect("client");
    let now = Instant::now();
    let mut socket = client
        .connection
        .manager_mut()
        .add_socket("/", SocketConfig::default())
        .expect("socket");
    socket.connect(now);
    let payload = Payload::from_serialize(&("echo", "hello")).expect("payload");
    socket
        .emit(now, payload, EmitOptions::with_ack())
        .expect("emit");

    let ack = client.run_until(Duration::from_secs(10), |e| matches!(e, Event::Ack { .. }));
    match ack {
        Some(Event::Ack { result: Ok(p), .. }) => assert_eq!(p.json(), br#"["hello"]"#),
        other => panic!("no ack: {other:?}"),
    }
    let is_welcome = |e: &Event| matches!(e, Event::Message { payload, .. } if payload.event_name().as_deref() == Some("welcome"));
    let welcomed = client.events.iter().any(is_welcome)
        || client
            .run_until(Duration::from_secs(10), is_welcome)
            .is_some();
    assert!(welcomed, "the server's welcome event arrives");
    let is_upgrade = |e: &Event| matches!(e, Event::Upgrade(TransportKind::WebSocket));
    let upgraded = client.events.iter().any(is_upgrade)
        || client
            .run_until(Duration::from_secs(10), is_upgrade)
            .is_some();
    assert!(upgraded, "polling upgrades to WebSocket");

    // Five ping intervals: every ping answered, no disconnect.
    client.events.clear();
    let early_end = client.run_until(Duration::from_millis(1000), |e| {
        matches!(e, Event::Disconnect { .. })
    });
    assert!(early_end.is_none(), "disconnected: {early_end:?}");
    let pings = client.events.iter().filter(|e| **e == Event::Ping).count();
    assert!(pings >= 3, "only {pings} pings in 1 s at a 200 ms interval");

    // The server restarts: disconnect, then reconnection and a fresh CONNECT.
    server.restart();
    client
        .run_until(Duration::from_secs(10), |e| {
            matches!(e, Event::Disconnect { .. })
        })
        .expect("disconnect noticed");
    client
        .run_until(Duration::from_secs(15), |e| {
            matches!(e, Event::Connect { .. })
        })
        .expect("reconnected");
    assert!(
        client
            .connection
            .manager()
            .socket("/")
            .expect("socket")
            .connected()
    );
}
