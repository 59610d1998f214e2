//! Leaving: the client's `disconnect()` (DISCONNECT before the engine closes, no reconnection)
//! and the server's DISCONNECT (final until the application connects again).

use std::time::Duration;

use socketio_proto::{DisconnectReason, EmitOptions, Event, ReadyState, SocketConfig};
use socketio_test_kit::{Record, Side, SioConfig, SioSim};

use crate::support::*;

fn disconnect(sim: &mut SioSim, nsp: &str) {
    sim.with_client(|m, now| m.socket_mut(nsp).unwrap().disconnect(now));
}

#[test]
fn disconnect_sends_41_before_the_engine_closes_and_stops_for_good() {
    for (seed, transports) in [(70, POLLING), (71, WEBSOCKET), (72, UPGRADE)] {
        let mut sim = sim(seed, SioConfig::new(), client_config(transports));
        connect(&mut sim, "/", SocketConfig::default());
        until_connected(&mut sim, "/");
        sim.run_for(ms(500));
        disconnect(&mut sim, "/");
        sim.run_for(Duration::from_secs(60));

        assert_eq!(
            sim.server().app().received("/"),
            ["0", "1"],
            "{transports:?}"
        );
        // On the wire: `41`, then the engine's goodbye.
        let entries = sim.transcript().entries();
        let disconnect_at = entries
            .iter()
            .position(|e| match &e.record {
                Record::WsFrame {
                    from: Side::Client,
                    frame,
                    ..
                } => socketio_test_kit::render_frame(frame) == "41",
                Record::HttpRequest { body, .. } => body.starts_with(b"41"),
                _ => false,
            })
            .expect("41 on the wire");
        let close_at = entries
            .iter()
            .position(|e| match &e.record {
                Record::WsClose {
                    from: Side::Client, ..
                } => true,
                Record::HttpRequest { body, .. } => body.split(|b| *b == 0x1e).any(|p| p == b"1"),
                _ => false,
            })
            .expect("the engine closed");
        assert!(
            disconnect_at < close_at,
            "{transports:?}\n{}",
            sim.transcript()
        );
        let session = &sim.server().sessions()[0];
        assert_eq!(
            session.closed.as_deref(),
            Some("transport close"),
            "{transports:?}"
        );

        let events = events(&sim);
        assert!(events.contains(&Event::Disconnect {
            nsp: "/".into(),
            reason: DisconnectReason::IoClientDisconnect
        }));
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::ReconnectAttempt(_)))
        );
        assert_eq!(sim.server().sessions().len(), 1, "no reconnection");
        assert_eq!(sim.client().ready_state(), ReadyState::Closed);
        assert!(!sim.client().socket("/").unwrap().active());
    }
}

#[test]
fn leaving_one_namespace_keeps_the_engine_for_the_others() {
    let mut sim = sim(
        73,
        SioConfig::new().namespace("/chat", Default::default()),
        client_config(WEBSOCKET),
    );
    connect(&mut sim, "/", SocketConfig::default());
    connect(&mut sim, "/chat", SocketConfig::default());
    until_connected(&mut sim, "/chat");
    until_connected(&mut sim, "/");
    disconnect(&mut sim, "/chat");
    emit(&mut sim, "/", payload(&["still"]), EmitOptions::default());
    sim.run_for(Duration::from_secs(5));
    let app = sim.server().app();
    assert_eq!(app.received("/chat"), ["0/chat,", "1/chat,"]);
    assert_eq!(app.received("/"), ["0", r#"2["still"]"#]);
    let sid = sim.server().last_sid().unwrap();
    assert_eq!(app.namespaces_of(&sid), ["/"]);
    assert_eq!(sim.server().sessions()[0].closed, None);
    assert!(sim.client().socket("/").unwrap().connected());
}

#[test]
fn a_server_disconnect_is_final_until_the_application_connects_again() {
    let mut sim = sim(74, SioConfig::new(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    assert!(sim.with_server(|s, now| s.sio_disconnect(now, "/", false)));
    sim.run_for(Duration::from_secs(60));
    let got = events(&sim);
    assert!(got.contains(&Event::Disconnect {
        nsp: "/".into(),
        reason: DisconnectReason::IoServerDisconnect
    }));
    assert!(!got.iter().any(|e| matches!(e, Event::ReconnectAttempt(_))));
    assert!(!sim.client().socket("/").unwrap().active());
    // The only socket left: the manager closed the engine itself.
    assert!(sim.server().sessions()[0].closed.is_some());
    assert_eq!(sim.server().sessions().len(), 1);

    // `socket.connect()` again works.
    sim.with_client(|m, now| m.socket_mut("/").unwrap().connect(now));
    until_connected(&mut sim, "/");
    assert_eq!(sim.server().sessions().len(), 2);
}

#[test]
fn a_server_disconnect_with_close_ends_the_engine_session() {
    let mut sim = sim(75, SioConfig::new(), client_config(POLLING));
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    assert!(sim.with_server(|s, now| s.sio_disconnect(now, "/", true)));
    sim.run_for(Duration::from_secs(10));
    assert!(!sim.client().socket("/").unwrap().active());
    assert_eq!(sim.server().sessions().len(), 1);
    assert!(sim.server().sessions()[0].closed.is_some());
    assert!(!sim.with_server(|s, now| s.sio_disconnect(now, "/", true)));
}
