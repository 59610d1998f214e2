//! Acks both ways: answered at once, later, or never; timeouts; binary acks; the server's
//! ack requests answered by the client.

use std::time::Duration;

use bytes::Bytes;
use socketio_proto::{AckError, AckReplyError, EmitOptions, Event, SocketConfig};
use socketio_test_kit::{AckPolicy, NamespaceConfig, Side, SioConfig, SioSim};

use crate::support::*;

fn server() -> SioConfig {
    let ns = || {
        NamespaceConfig::new()
            .acks_for("slow", AckPolicy::After(ms(300)))
            .acks_for("ignore", AckPolicy::Never)
    };
    SioConfig::new()
        .namespace("/", ns())
        .namespace("/chat", ns())
}

fn ack_time(sim: &SioSim, id: socketio_proto::EmitId) -> Duration {
    timed_events(sim)
        .into_iter()
        .find_map(|(at, e)| matches!(e, Event::Ack { emit, .. } if emit == id).then_some(at))
        .expect("an ack event")
}

#[test]
fn acks_come_at_once_later_or_time_out() {
    for (seed, transports) in [(30, POLLING), (31, WEBSOCKET), (32, UPGRADE)] {
        let mut sim = sim(seed, server(), client_config(transports));
        connect(&mut sim, "/", with_ack_timeout(1000));
        until_connected(&mut sim, "/");
        sim.run_for(ms(500));
        let ack = EmitOptions::with_ack();
        let t0 = sim.elapsed();
        let echo = emit(&mut sim, "/", payload(&("echo", 1, "x")), ack);
        let slow = emit(&mut sim, "/", payload(&("slow", 2)), ack);
        let ignored = emit(&mut sim, "/", payload(&("ignore",)), ack);
        let short = emit(&mut sim, "/", payload(&("slow", 3)), ack.timeout(ms(100)));
        sim.run_for(Duration::from_secs(3));

        let results = acks(&sim);
        assert_eq!(
            results,
            [
                (echo.id, Ok(r#"[1,"x"]"#.to_owned())),
                (short.id, Err(AckError::Timeout)),
                (slow.id, Ok("[2]".to_owned())),
                (ignored.id, Err(AckError::Timeout)),
            ],
            "{transports:?}"
        );
        // Timeouts fire exactly at their deadlines; the slow ack after the server's delay.
        assert_eq!(ack_time(&sim, short.id) - t0, ms(100));
        assert_eq!(ack_time(&sim, ignored.id) - t0, ms(1000));
        assert!(ack_time(&sim, slow.id) - t0 >= ms(300));
        // The late answer to the short emit reached the client and was ignored: one result each.
        assert_eq!(
            sim.server().app().received("/")[1..],
            [
                r#"20["echo",1,"x"]"#,
                r#"21["slow",2]"#,
                r#"22["ignore"]"#,
                r#"23["slow",3]"#
            ]
        );
    }
}

#[test]
fn ack_ids_count_per_namespace() {
    let mut sim = sim(33, server(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    connect(&mut sim, "/chat", SocketConfig::default());
    for nsp in ["/", "/chat", "/", "/chat"] {
        emit(
            &mut sim,
            nsp,
            payload(&("echo", nsp)),
            EmitOptions::with_ack(),
        );
    }
    sim.run_for(Duration::from_secs(1));
    let app = sim.server().app();
    assert_eq!(
        app.received("/"),
        ["0", r#"20["echo","/"]"#, r#"21["echo","/"]"#]
    );
    assert_eq!(
        app.received("/chat"),
        [
            "0/chat,",
            r#"2/chat,0["echo","/chat"]"#,
            r#"2/chat,1["echo","/chat"]"#
        ]
    );
    assert_eq!(acks(&sim).len(), 4);
    assert!(acks(&sim).iter().all(|(_, r)| r.is_ok()));
}

#[test]
fn binary_acks_both_ways() {
    for (seed, transports) in [(34, POLLING), (35, WEBSOCKET)] {
        let mut sim = sim(seed, server(), client_config(transports));
        connect(&mut sim, "/", SocketConfig::default());
        let blob = Bytes::from_static(&[1, 2, 3]);
        let sent = emit(
            &mut sim,
            "/",
            payload(&("bin", blob.clone())),
            EmitOptions::with_ack(),
        );
        sim.run_for(Duration::from_secs(1));
        assert_eq!(
            sim.server().app().received("/")[1],
            r#"51-0["bin",{"_placeholder":true,"num":0}]"#
        );
        // The server answers with the event's own arguments: a BINARY_ACK.
        let result = sim
            .events()
            .iter()
            .find_map(|(_, e)| match e {
                Event::Ack { emit, result, .. } if *emit == sent.id => Some(result.clone()),
                _ => None,
            })
            .unwrap()
            .unwrap();
        assert_eq!(result.attachments(), [blob]);
        let (got,): (Bytes,) = result.deserialize().unwrap();
        assert_eq!(&got[..], [1, 2, 3]);
        if transports == WEBSOCKET {
            let frames = sim.transcript().frames(Side::Server);
            let at = frames
                .iter()
                .position(|f| f == r#"461-0[{"_placeholder":true,"num":0}]"#)
                .expect("binary ack header");
            assert!(frames[at + 1].contains("01 02 03"), "{}", frames[at + 1]);
        }

        // The server asks; the client answers with binary.
        let asked = sim
            .with_server(|s, now| s.sio_emit_with_ack(now, "/", payload(&("question", 7))))
            .unwrap();
        assert_eq!(asked.ack, Some(0));
        sim.run_for(ms(100));
        let request = sim
            .events()
            .iter()
            .find_map(|(_, e)| match e {
                Event::Message { payload, ack, .. } if text(payload) == r#"["question",7]"# => {
                    Some(*ack)
                }
                _ => None,
            })
            .expect("the question arrived");
        assert_eq!(request, Some(0));
        let answer = payload(&(Bytes::from_static(&[9, 9]), "ok"));
        sim.with_client(|m, now| m.socket_mut("/").unwrap().ack(now, 0, answer))
            .unwrap();
        // A second answer to the same request is refused locally.
        let again =
            sim.with_client(|m, now| m.socket_mut("/").unwrap().ack(now, 0, payload(&["twice"])));
        assert_eq!(again, Err(AckReplyError::Unknown(0)));
        sim.run_for(ms(100));
        let acks = sim.server().app().client_acks("/");
        assert_eq!(acks.len(), 1, "{transports:?}");
        assert_eq!((acks[0].id, acks[0].expected), (0, true));
        assert_eq!(acks[0].payload.attachments(), [Bytes::from_static(&[9, 9])]);
        assert_eq!(
            sim.server().app().received("/").last().unwrap(),
            r#"61-0[{"_placeholder":true,"num":0},"ok"]"#
        );
    }
}

#[test]
fn server_ack_ids_count_per_namespace_and_plain_acks_work() {
    let mut sim = sim(36, server(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    connect(&mut sim, "/chat", SocketConfig::default());
    until_connected(&mut sim, "/chat");
    until_connected(&mut sim, "/");
    let ids: Vec<Option<u64>> = ["/", "/", "/chat"]
        .into_iter()
        .map(|nsp| {
            sim.with_server(|s, now| s.sio_emit_with_ack(now, nsp, payload(&("q", nsp))))
                .unwrap()
                .ack
        })
        .collect();
    assert_eq!(ids, [Some(0), Some(1), Some(0)]);
    sim.run_for(ms(50));
    let requests: Vec<(String, u64)> = sim
        .events()
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Message {
                nsp, ack: Some(id), ..
            } => Some((nsp.to_string(), *id)),
            _ => None,
        })
        .collect();
    for (nsp, id) in &requests {
        sim.with_client(|m, now| {
            m.socket_mut(nsp)
                .unwrap()
                .ack(now, *id, payload(&[] as &[u8; 0]))
        })
        .unwrap();
    }
    sim.run_for(ms(50));
    assert_eq!(sim.server().app().received("/")[1..], ["30[]", "31[]"]);
    assert_eq!(sim.server().app().received("/chat")[1..], ["3/chat,0[]"]);
}

#[test]
fn pending_acks_fail_when_the_connection_drops() {
    let mut sim = sim(37, server(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    let waiting = emit(
        &mut sim,
        "/",
        payload(&("ignore",)),
        EmitOptions::with_ack(),
    );
    sim.run_for(ms(100));
    let sid = sim.server().last_sid().unwrap();
    sim.with_server(|s, now| s.kill(now, &sid));
    sim.run_for(ms(100));
    assert_eq!(acks(&sim), [(waiting.id, Err(AckError::Disconnected))]);
}
