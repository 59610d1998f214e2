//! The fake Socket.IO server itself: its rule checks (against a raw Engine.IO client that
//! breaks them on purpose), its connect timeout, and whole runs being a function of the seed.

use std::time::Duration;

use engineio_proto::{Client, Config, Message};
use socketio_proto::{EmitOptions, SocketConfig};
use socketio_test_kit::{LinkConfig, Sim, SimConfig, SioConfig, SioServer, ViolationKind};

use crate::support::*;

type RawSim = Sim<Client, SioServer>;

/// A bare Engine.IO client (WebSocket) against the Socket.IO server, to send anything.
fn raw(seed: u64, strict: bool, server: SioConfig) -> RawSim {
    let mut c = Config::new("http://localhost:3000").unwrap();
    c.path = "/socket.io".into();
    c.transports = WEBSOCKET.to_vec();
    let config = SimConfig::new(seed)
        .link(LinkConfig::fixed(MS))
        .server(engine_server().with_strict(strict));
    let mut sim = Sim::new(config, SioServer::new(server), |now, rng| {
        Client::new(c, now, rng, false).unwrap()
    });
    sim.run_for(ms(10));
    sim
}

fn send(sim: &mut RawSim, text: &str) {
    sim.with_client(|c, now| c.send(now, Message::text(text)).unwrap());
    sim.run_for(ms(10));
}

fn socketio_violations(sim: &RawSim) -> Vec<String> {
    sim.violations()
        .iter()
        .filter_map(|v| match &v.kind {
            ViolationKind::SocketIo(what) => Some(what.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_server_rules_are_checked_and_close_the_connection() {
    let cases: [(&[&str], &str); 5] = [
        (&[r#"2["early"]"#], "Event for namespace \"/\""),
        (&["0", "0"], "a second CONNECT"),
        (&["0/chat,"], "Invalid namespace"),
        (&[r#"4{"message":"no"}"#], "CONNECT_ERROR from the client"),
        (&["0", "2["], "does not decode"),
    ];
    for (i, (script, expected)) in cases.into_iter().enumerate() {
        let mut sim = raw(100 + i as u64, false, SioConfig::new());
        for text in script {
            send(&mut sim, text);
        }
        sim.run_for(ms(100));
        let found = socketio_violations(&sim);
        if expected == "Invalid namespace" {
            // Not a violation: refused politely, and the session stays.
            assert!(found.is_empty());
            assert_eq!(sim.server().sessions()[0].closed, None);
            let frames = sim.transcript().frames(socketio_test_kit::Side::Server);
            assert!(frames.contains(&r#"44/chat,{"message":"Invalid namespace"}"#.to_owned()));
            continue;
        }
        assert_eq!(found.len(), 1, "{script:?}: {found:?}");
        assert!(found[0].contains(expected), "{script:?}: {found:?}");
        assert!(
            sim.server().sessions()[0].closed.is_some(),
            "{script:?}: the Node server closes the connection"
        );
    }
}

#[test]
#[should_panic(expected = "Socket.IO rule broken")]
fn a_broken_rule_fails_a_strict_test() {
    let mut sim = raw(110, true, SioConfig::new());
    send(&mut sim, r#"2["early"]"#);
}

#[test]
fn packets_crossing_a_server_disconnect_are_not_violations() {
    let mut sim = raw(111, true, SioConfig::new());
    send(&mut sim, "0");
    // Both at once: the client's event is on the wire when the server's DISCONNECT leaves.
    sim.with_client(|c, now| c.send(now, Message::text(r#"2["crossing"]"#)).unwrap());
    sim.with_server(|s, now| s.sio_disconnect(now, "/", false));
    sim.run_for(ms(100));
    assert_eq!(sim.server().app().received("/"), ["0", r#"2["crossing"]"#]);
    assert!(sim.violations().is_empty());
}

#[test]
fn a_session_that_joins_no_namespace_is_closed_after_the_connect_timeout() {
    let config = SioConfig::new().connect_timeout(Some(Duration::from_secs(45)));
    let mut idle = raw(112, true, config);
    idle.run_for(Duration::from_secs(44));
    assert_eq!(idle.server().sessions()[0].closed, None);
    idle.run_for(Duration::from_secs(2));
    assert!(idle.server().sessions()[0].closed.is_some());

    let mut joined = raw(113, true, SioConfig::new());
    send(&mut joined, "0");
    joined.run_for(Duration::from_secs(120));
    assert_eq!(joined.server().sessions()[0].closed, None);
}

#[test]
fn binary_packets_are_recorded_whole_with_their_header() {
    let mut sim = raw(114, true, SioConfig::new());
    send(&mut sim, "0");
    sim.with_client(|c, now| {
        c.send(
            now,
            Message::text(r#"51-["up",{"_placeholder":true,"num":0}]"#),
        )
        .unwrap();
        c.send(now, Message::Binary(bytes::Bytes::from_static(b"\x07")))
            .unwrap();
    });
    sim.run_for(ms(50));
    let got = sim.server().app().packets("/");
    assert_eq!(got[1].text, r#"51-["up",{"_placeholder":true,"num":0}]"#);
    assert_eq!(
        got[1].packet.data.as_ref().unwrap().attachments(),
        [bytes::Bytes::from_static(b"\x07")]
    );
}

#[test]
fn a_whole_run_is_a_function_of_its_seed() {
    let run = |seed: u64| {
        let link = LinkConfig::jitter(ms(1), ms(30))
            .with_loss(0.02)
            .with_cut(Duration::from_secs(3), Duration::from_secs(5));
        let mut sim = sim_with(
            seed,
            link,
            engine_server(),
            SioConfig::new().namespace("/chat", Default::default()),
            client_config(UPGRADE),
        );
        connect(&mut sim, "/", retrying(50, 300));
        connect(&mut sim, "/chat", SocketConfig::default());
        for n in 0..30 {
            emit(&mut sim, "/", payload(&("n", n)), EmitOptions::with_ack());
            emit(
                &mut sim,
                "/chat",
                payload(&("c", n)),
                EmitOptions::default(),
            );
            sim.run_for(ms(200));
        }
        sim.run_for(Duration::from_secs(20));
        (sim.lines(), events(&sim))
    };
    let a = run(120);
    assert_eq!(a, run(120));
    assert_ne!(a.0, run(121).0);
}
