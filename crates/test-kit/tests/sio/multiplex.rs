//! Several namespaces over one Engine.IO connection, on every transport.

use std::time::Duration;

use engineio_proto::TransportKind;
use socketio_proto::{EmitOptions, Event, SocketConfig};
use socketio_test_kit::{NamespaceConfig, SioConfig};

use crate::support::*;

const NAMESPACES: [&str; 3] = ["/", "/chat", "/admin"];

fn echo_server() -> SioConfig {
    let mut config = SioConfig::new();
    for nsp in NAMESPACES {
        config = config.namespace(nsp, NamespaceConfig::new().echo(true));
    }
    config
}

#[test]
fn namespaces_share_one_engine_on_every_transport() {
    for (seed, transports) in [(1, POLLING), (2, WEBSOCKET), (3, UPGRADE)] {
        let mut sim = sim(seed, echo_server(), client_config(transports));
        for nsp in NAMESPACES {
            connect(&mut sim, nsp, SocketConfig::default());
        }
        for nsp in NAMESPACES {
            until_connected(&mut sim, nsp);
        }
        // Let an upgrade finish, then talk on every namespace, interleaved.
        sim.run_for(Duration::from_millis(500));
        for i in 0..3 {
            for nsp in NAMESPACES {
                emit(
                    &mut sim,
                    nsp,
                    payload(&("say", nsp, i)),
                    EmitOptions::default(),
                );
            }
        }
        sim.run_for(Duration::from_secs(2));

        let sessions = sim.server().sessions();
        assert_eq!(sessions.len(), 1, "{transports:?}: one engine for all");
        let expected_transport = if transports == POLLING {
            TransportKind::Polling
        } else {
            TransportKind::WebSocket
        };
        assert_eq!(sessions[0].transport, expected_transport, "{transports:?}");
        assert_eq!(sessions[0].stats.upgraded, transports == UPGRADE);

        let app = sim.server().app();
        for nsp in NAMESPACES {
            let prefix = if nsp == "/" {
                String::new()
            } else {
                format!("{nsp},")
            };
            let expected: Vec<String> = std::iter::once(format!("0{prefix}"))
                .chain((0..3).map(|i| format!(r#"2{prefix}["say","{nsp}",{i}]"#)))
                .collect();
            assert_eq!(app.received(nsp), expected, "{transports:?} {nsp}");
            let echoed: Vec<String> = (0..3).map(|i| format!(r#"["say","{nsp}",{i}]"#)).collect();
            assert_eq!(messages(&sim, nsp), echoed, "{transports:?} {nsp}");
            // Each namespace has its own socket id from its own CONNECT reply.
            let sid = sim.client().socket(nsp).unwrap().id().unwrap().to_owned();
            assert_eq!(app.socket_id(nsp), Some(sid.as_str()));
        }
        let connects: Vec<&str> = events(&sim)
            .iter()
            .filter_map(|e| match e {
                Event::Connect { nsp, .. } => Some(nsp.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|n| NAMESPACES.into_iter().find(|x| *x == n).unwrap())
            .collect();
        assert_eq!(connects, NAMESPACES, "{transports:?}");
        assert!(sim.violations().is_empty());
    }
}

#[test]
fn a_namespace_joined_later_reuses_the_open_engine() {
    let mut sim = sim(4, echo_server(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    sim.run_for(Duration::from_secs(3));
    connect(&mut sim, "/chat", SocketConfig::default());
    until_connected(&mut sim, "/chat");
    assert_eq!(sim.server().sessions().len(), 1);
    let last = sim.server().last_sid().unwrap();
    assert_eq!(sim.server().app().namespaces_of(&last), ["/", "/chat"]);
}

#[test]
fn binary_events_cross_every_transport_intact() {
    for (seed, transports) in [(5, POLLING), (6, WEBSOCKET), (7, UPGRADE)] {
        let mut sim = sim(seed, echo_server(), client_config(transports));
        connect(&mut sim, "/chat", SocketConfig::default());
        let blob = bytes::Bytes::from_static(&[0, 1, 2, 0xff]);
        let nested = (
            "files",
            blob.clone(),
            serde_json::json!({"name": "x"}),
            vec![blob.clone()],
        );
        emit(&mut sim, "/chat", payload(&nested), EmitOptions::default());
        sim.run_for(Duration::from_secs(1));
        let got = sim.server().app().events("/chat");
        assert_eq!(got.len(), 1, "{transports:?}");
        assert_eq!(got[0].attachments(), [blob.clone(), blob.clone()]);
        assert_eq!(
            sim.server().app().received("/chat")[1],
            r#"52-/chat,["files",{"_placeholder":true,"num":0},{"name":"x"},[{"_placeholder":true,"num":1}]]"#
        );
        let echoed = sim
            .events()
            .iter()
            .find_map(|(_, e)| match e {
                Event::Message { payload, .. } => Some(payload.clone()),
                _ => None,
            })
            .expect("echoed");
        let (_, a, _, b): (String, bytes::Bytes, serde_json::Value, Vec<bytes::Bytes>) =
            echoed.deserialize().unwrap();
        assert_eq!((a, b), (blob.clone(), vec![blob]), "{transports:?}");
    }
}
