//! The heartbeat over minutes of virtual time, ping timeouts on both sides.

use std::time::{Duration, Instant};

use engineio_proto::{CloseReason, Event, TransportKind};
use socketio_test_kit::{LinkConfig, Silent};

use crate::support::*;

fn pongs<A>(sim: &EngineSim<A>) -> usize {
    sim.events()
        .iter()
        .filter(|(_, e)| matches!(e, Event::Ping))
        .count()
}

#[test]
fn a_minute_of_heartbeats_runs_in_milliseconds() {
    for (transports, seed) in [
        (&[TransportKind::Polling][..], 21),
        (&[TransportKind::WebSocket][..], 22),
        (&[TransportKind::Polling, TransportKind::WebSocket][..], 23),
    ] {
        let server = server_config(&["hb"]).with_heartbeat(400, 300);
        let link = LinkConfig::jitter(Duration::from_millis(1), Duration::from_millis(20));
        let mut sim = sim_with_link(seed, link, server, Silent, client_config(transports));
        let started = Instant::now();
        sim.run_for(Duration::from_secs(60));
        let real = started.elapsed();
        let info = sim.server().session("hb").unwrap();
        // Every ping answered, none missed: one cycle is 400 ms plus a round trip.
        assert_eq!(
            info.stats.pongs_received, info.stats.pings_sent,
            "{transports:?}"
        );
        assert!(
            (140..=150).contains(&info.stats.pings_sent),
            "{transports:?}: {} pings",
            info.stats.pings_sent
        );
        assert_eq!(pongs(&sim), info.stats.pings_sent as usize);
        assert_eq!(info.closed, None);
        assert_eq!(close_reason(&sim), None);
        assert!(sim.violations().is_empty());
        assert!(
            real < Duration::from_secs(2),
            "{transports:?} took {real:?}"
        );
        if transports.len() == 2 {
            assert_eq!(info.transport, TransportKind::WebSocket, "upgraded");
        }
    }
}

#[test]
fn the_default_heartbeat_over_ten_minutes() {
    let mut sim = sim(
        24,
        server_config(&["d"]),
        Silent,
        client_config(&[TransportKind::Polling]),
    );
    sim.run_for(Duration::from_secs(600));
    let info = sim.server().session("d").unwrap();
    // 25 s interval plus two 1 ms hops per cycle.
    assert_eq!(info.stats.pings_sent, 23);
    assert_eq!(info.stats.pongs_received, 23);
    assert_eq!(close_reason(&sim), None);
}

#[test]
fn a_cut_link_is_a_ping_timeout_on_both_sides() {
    let server = server_config(&["c"]).with_heartbeat(1_000, 500);
    let link = LinkConfig::fixed(Duration::from_millis(1))
        .with_cut(Duration::from_millis(100), Duration::from_secs(60));
    let mut sim = sim_with_link(
        25,
        link,
        server,
        Silent,
        client_config(&[TransportKind::Polling]),
    );
    sim.run_for(Duration::from_secs(5));
    // The client saw the handshake at 2 ms and no ping after: it gives up at 2 + 1500 ms.
    let (at, reason) = sim
        .events()
        .iter()
        .find_map(|(at, e)| match e {
            Event::Close(r) => Some((*at, r.clone())),
            _ => None,
        })
        .expect("closed");
    assert_eq!(reason, CloseReason::PingTimeout);
    assert_eq!(at, Duration::from_millis(1_502));
    // The server pinged at 1 001 ms into the void and gave up 500 ms later.
    let info = sim.server().session("c").unwrap();
    assert_eq!(info.closed.as_deref(), Some("ping timeout"));
    assert_eq!(info.stats.pings_sent, 1);
    // After the cut began, only the server's ping (into the void) is on record: the client
    // wrote nothing at or after its deadline.
    let late: Vec<String> = sim
        .transcript()
        .render(&socketio_test_kit::RenderOptions {
            times: true,
            notes: true,
            ..Default::default()
        })
        .into_iter()
        .skip_while(|l| !l.contains("#2 200 2"))
        .collect();
    assert_eq!(late.len(), 2, "{late:#?}");
    assert!(late[1].ends_with("-- #2 response vanished"), "{late:#?}");
}

#[test]
fn a_silent_server_is_a_ping_timeout_on_websocket() {
    // The server's pings stop reaching the client halfway through.
    let server = server_config(&["s"]).with_heartbeat(300, 200);
    let link = LinkConfig::fixed(Duration::from_millis(2))
        .with_cut(Duration::from_secs(3), Duration::from_secs(10));
    let mut sim = sim_with_link(
        26,
        link,
        server,
        Silent,
        client_config(&[TransportKind::WebSocket]),
    );
    sim.run_for(Duration::from_secs(10));
    assert_eq!(close_reason(&sim), Some("ping timeout"));
    assert_eq!(
        sim.server().session("s").unwrap().closed.as_deref(),
        Some("ping timeout")
    );
    // The client released its WebSocket (the close vanished in the cut).
    assert_eq!(sim.client().state(), engineio_proto::State::Closed);
}

#[test]
fn a_send_after_a_missed_deadline_closes_and_writes_nothing() {
    let server = server_config(&["z"]).with_heartbeat(1_000, 500);
    let link = LinkConfig::fixed(Duration::from_millis(1))
        .with_cut(Duration::from_millis(10), Duration::from_secs(60));
    let mut sim = sim_with_link(
        27,
        link,
        server,
        Silent,
        client_config(&[TransportKind::Polling]),
    );
    // Jump over the deadline without letting the client's timer fire (a sleeping laptop).
    sim.run_for(Duration::from_millis(5));
    let late = sim.now() + Duration::from_secs(30);
    let before = sim.transcript().entries().len();
    let result = sim.with_client(|c, _| c.send(late, engineio_proto::Message::text("late")));
    assert_eq!(
        result,
        Err(engineio_proto::SendError::Closed(Some(
            CloseReason::PingTimeout
        )))
    );
    sim.run_for(Duration::from_millis(5));
    assert_eq!(close_reason(&sim), Some("ping timeout"));
    assert_eq!(sim.transcript().entries().len(), before, "nothing written");
}

#[test]
fn late_pings_are_tolerated_up_to_the_ping_timeout() {
    for (delay, closes) in [(250, false), (350, true)] {
        let server = server_config(&["late"]).with_heartbeat(400, 300);
        let mut sim = sim(
            25,
            server,
            Silent,
            client_config(&[TransportKind::WebSocket]),
        );
        open(&mut sim);
        sim.run_for(Duration::from_millis(1000));
        let pings = sim.server().session("late").unwrap().stats.pings_sent;
        // The next ping (due within 400 ms of the last pong) comes `delay` later; the one after
        // it, if any, on time again.
        sim.with_server(|s, _| s.delay_pings("late", Duration::from_millis(delay)));
        sim.run_for(Duration::from_secs(3));
        let info = sim.server().session("late").unwrap();
        if closes {
            assert_eq!(close_reason(&sim), Some("ping timeout"), "{delay} ms");
            assert_eq!(info.stats.pings_sent, pings, "closed before the late ping");
            // 700 ms (400 + 300) after the last ping it heard.
            let events = sim.events();
            let (closed, _) = events
                .iter()
                .find(|(_, e)| matches!(e, Event::Close(_)))
                .unwrap();
            let (pinged, _) = events
                .iter()
                .rfind(|(_, e)| matches!(e, Event::Ping))
                .unwrap();
            assert_eq!(*closed - *pinged, Duration::from_millis(700));
        } else {
            assert_eq!(close_reason(&sim), None, "{delay} ms");
            assert_eq!(info.closed, None);
            // 3 s at ~400 ms a cycle, one of them 250 ms longer.
            assert!(info.stats.pings_sent >= pings + 6, "{:?}", info.stats);
        }
        assert!(sim.violations().is_empty());
    }
}
