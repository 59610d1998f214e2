//! Connection state recovery: the server appends offsets, keeps what a lost socket misses,
//! and replays it before the CONNECT reply; the client delivers each missed event once, in
//! order, and reports `recovered`.

use std::time::Duration;

use socketio_proto::{Event, SocketConfig};
use socketio_test_kit::{JoinOutcome, NamespaceConfig, Side, SioConfig, SioSim};

use crate::support::*;

fn recovering(max: Duration) -> SioConfig {
    SioConfig::new()
        .recovery(max)
        .namespace("/", NamespaceConfig::new().welcome(payload(&["welcome"])))
}

/// (payload, offset) of every event on `/`, in order.
fn received_with_offsets(sim: &SioSim) -> Vec<(String, Option<String>)> {
    sim.events()
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Message {
                payload, offset, ..
            } => Some((text(payload), offset.clone())),
            _ => None,
        })
        .collect()
}

fn kill(sim: &mut SioSim) {
    let sid = sim.server().last_sid().unwrap();
    sim.with_server(|s, now| s.kill(now, &sid));
    sim.run_for(ms(50));
}

fn news(sim: &mut SioSim, n: u32) -> socketio_test_kit::ServerEmit {
    sim.with_server(|s, now| s.sio_emit(now, "/", payload(&("news", n))))
        .unwrap()
}

#[test]
fn missed_events_are_replayed_once_in_order_before_the_connect_reply() {
    for (seed, transports) in [(80, POLLING), (81, WEBSOCKET), (82, UPGRADE)] {
        let mut sim = sim(
            seed,
            recovering(Duration::from_secs(120)),
            client_config(transports),
        );
        connect(&mut sim, "/", SocketConfig::default());
        until_connected(&mut sim, "/");
        assert!(news(&mut sim, 1).sent);
        sim.run_for(ms(500));
        kill(&mut sim);
        let missed: Vec<_> = (2..=4).map(|n| news(&mut sim, n)).collect();
        assert!(missed.iter().all(|m| !m.sent && m.offset.is_some()));
        sim.run_for(Duration::from_secs(5));

        let app = sim.server().app();
        let joins = app.joins_of("/");
        assert_eq!(joins.len(), 2, "{transports:?}");
        let JoinOutcome::Connected { sid, pid, .. } = joins[0].outcome.clone() else {
            panic!("first join refused");
        };
        assert_eq!(
            joins[1].outcome,
            JoinOutcome::Connected {
                sid: sid.clone(),
                pid: pid.clone(),
                recovered: true
            }
        );
        // The client asked with its pid and the last offset it saw (news 1).
        let first_news_offset = received_with_offsets(&sim)[1].1.clone().unwrap();
        assert_eq!(
            app.received("/")[1],
            format!(
                r#"0{{"pid":"{}","offset":"{first_news_offset}"}}"#,
                pid.clone().unwrap()
            )
        );

        // Each missed event once, in order, with its offset; then the welcome of the new
        // connection.
        let got = received_with_offsets(&sim);
        let texts: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                r#"["welcome"]"#,
                r#"["news",1]"#,
                r#"["news",2]"#,
                r#"["news",3]"#,
                r#"["news",4]"#,
                r#"["welcome"]"#
            ],
            "{transports:?}"
        );
        let offsets: Vec<_> = got[2..5].iter().map(|(_, o)| o.clone()).collect();
        let sent: Vec<_> = missed.iter().map(|m| m.offset.clone()).collect();
        assert_eq!(offsets, sent);

        // The replayed events come before `connect`, which says recovered, same id.
        let evs = events(&sim);
        let connect_at = evs
            .iter()
            .rposition(|e| matches!(e, Event::Connect { .. }))
            .unwrap();
        assert_eq!(
            evs[connect_at],
            Event::Connect {
                nsp: "/".into(),
                sid: sid.clone(),
                recovered: true
            }
        );
        let news4 = position(
            &evs,
            |e| matches!(e, Event::Message { payload, .. } if text(payload) == r#"["news",4]"#),
        );
        assert!(news4 < connect_at);
        let socket = sim.client().socket("/").unwrap();
        assert!(socket.recovered());
        assert_eq!(socket.id(), Some(sid.as_str()));

        // On the wire, the replay precedes the CONNECT reply.
        if transports == WEBSOCKET {
            let frames = sim.transcript().frames(Side::Server);
            let reply = frames
                .iter()
                .rposition(|f| f.starts_with("40{"))
                .expect("the second CONNECT reply");
            let replay: Vec<&String> = frames[reply - 3..reply].iter().collect();
            for (frame, (n, offset)) in replay.into_iter().zip((2..).zip(&sent)) {
                assert_eq!(
                    *frame,
                    format!(r#"42["news",{n},"{}"]"#, offset.clone().unwrap())
                );
            }
        }
    }
}

#[test]
fn no_recovery_after_the_max_disconnection_duration() {
    let mut sim = sim(83, recovering(ms(300)), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    let first = sim.client().socket("/").unwrap().id().unwrap().to_owned();
    kill(&mut sim);
    news(&mut sim, 1);
    // The first attempt comes at least 500 ms later: too late.
    sim.run_for(Duration::from_secs(5));
    let socket = sim.client().socket("/").unwrap();
    assert!(socket.connected() && !socket.recovered());
    assert_ne!(socket.id(), Some(first.as_str()));
    assert!(!messages(&sim, "/").contains(&r#"["news",1]"#.to_owned()));
    assert!(events(&sim).contains(&Event::Connect {
        nsp: "/".into(),
        sid: socket.id().unwrap().to_owned(),
        recovered: false
    }));
}

#[test]
fn a_client_disconnect_is_not_recoverable() {
    let mut sim = sim(
        84,
        recovering(Duration::from_secs(120)),
        client_config(WEBSOCKET),
    );
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    sim.with_client(|m, now| m.socket_mut("/").unwrap().disconnect(now));
    sim.run_for(ms(100));
    news(&mut sim, 1);
    sim.with_client(|m, now| m.socket_mut("/").unwrap().connect(now));
    until_connected(&mut sim, "/");
    sim.run_for(ms(100));
    assert!(!sim.client().socket("/").unwrap().recovered());
    let joins = sim.server().app().joins_of("/");
    assert!(matches!(
        joins[1].outcome,
        JoinOutcome::Connected {
            recovered: false,
            ..
        }
    ));
    // The CONNECT still carried pid and offset; the server just could not use them.
    assert!(joins[1].auth.as_ref().unwrap().get("offset").is_some());
}

#[test]
fn without_a_received_event_there_is_no_offset_to_recover_from() {
    let server = SioConfig::new().recovery(Duration::from_secs(120));
    let mut sim = sim(85, server, client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    kill(&mut sim);
    news(&mut sim, 1);
    sim.run_for(Duration::from_secs(5));
    let joins = sim.server().app().joins_of("/");
    let auth = joins[1].auth.clone().unwrap();
    assert!(auth.get("pid").is_some() && auth.get("offset").is_none());
    assert!(matches!(
        joins[1].outcome,
        JoinOutcome::Connected {
            recovered: false,
            ..
        }
    ));
    assert!(messages(&sim, "/").is_empty());
}
