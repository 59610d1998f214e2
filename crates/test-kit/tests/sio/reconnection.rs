//! Reconnection under virtual time with a seeded RNG: every delay within the reference's
//! Backoff bounds, the manager's events in the reference's order, giving up, and ten thousand
//! failures without a zero delay.

use std::time::{Duration, Instant};

use socketio_proto::{DisconnectReason, Event, ManagerConfig, ManagerError, SocketConfig};
use socketio_test_kit::{LinkConfig, Refusal, RequestMatch, SioConfig, SioSim};

use crate::support::*;

/// The server refuses every new session (HTTP 503 / WebSocket handshake refused).
fn refuse_all(sim: &mut SioSim) {
    sim.with_server(|s, _| s.refuse(Refusal::error(RequestMatch::Handshake, 503, 4, "busy")));
}

/// Each attempt with the delay before it: from the failure that scheduled it (`Close`,
/// `Error` or `ReconnectError`, all at one instant) to its `ReconnectAttempt`.
fn delays(events: &[(Duration, Event)]) -> Vec<(u32, Duration)> {
    let mut failure = None;
    let mut out = Vec::new();
    for (at, e) in events {
        match e {
            Event::Close { .. } | Event::Error(_) | Event::ReconnectError(_) => failure = Some(*at),
            Event::ReconnectAttempt(n) => {
                out.push((*n, *at - failure.expect("an attempt follows a failure")))
            }
            _ => {}
        }
    }
    out
}

/// The reference formula's bounds for attempt `n`: base = delay * 2^(n-1), within
/// [base * (1 - f), base * (1 + f)], clamped to `max`.
fn assert_within_bounds(n: u32, waited: Duration, delay: Duration, max: Duration, f: f64) {
    let base = delay.as_millis() as f64 * 2f64.powi(n as i32 - 1);
    let max = max.as_millis() as f64;
    let lo = (base * (1.0 - f)).floor().min(max);
    let hi = (base * (1.0 + f)).min(max);
    let waited = waited.as_millis() as f64;
    assert!(
        lo <= waited && waited <= hi,
        "attempt {n}: waited {waited} ms, outside [{lo}, {hi}]"
    );
}

/// A compact view of the manager-level events, to compare orders.
fn story(sim: &SioSim) -> Vec<String> {
    events(sim)
        .into_iter()
        .filter_map(|e| match e {
            Event::Open => Some("open".to_owned()),
            Event::Close { reason, .. } => Some(format!("close {reason}")),
            Event::Error(_) => Some("error".to_owned()),
            Event::ReconnectAttempt(n) => Some(format!("reconnect_attempt {n}")),
            Event::ReconnectError(_) => Some("reconnect_error".to_owned()),
            Event::Reconnect(n) => Some(format!("reconnect {n}")),
            Event::ReconnectFailed => Some("reconnect_failed".to_owned()),
            Event::Connect { nsp, .. } => Some(format!("connect {nsp}")),
            Event::ConnectError { nsp, .. } => Some(format!("connect_error {nsp}")),
            Event::Disconnect { nsp, reason } => Some(format!("disconnect {nsp} {reason}")),
            _ => None,
        })
        .collect()
}

fn backoff_config(delay: u64, max: u64, factor: f64) -> ManagerConfig {
    let mut c = client_config(WEBSOCKET);
    c.reconnection_delay = ms(delay);
    c.reconnection_delay_max = ms(max);
    c.randomization_factor = factor;
    c
}

#[test]
fn delays_lie_within_the_backoff_bounds_and_events_come_in_order() {
    const FAILURES: u32 = 10;
    for (delay, max, factor) in [(1000, 5000, 0.5), (100, 10_000, 0.2), (500, 2000, 1.0)] {
        for seed in 0..8 {
            let mut sim = sim(seed, SioConfig::new(), backoff_config(delay, max, factor));
            refuse_all(&mut sim);
            connect(&mut sim, "/", SocketConfig::default());
            let done = sim.run_until(Duration::from_secs(3600), |s| {
                s.events()
                    .iter()
                    .filter(|(_, e)| matches!(e, Event::ReconnectError(_)))
                    .count()
                    == FAILURES as usize
            });
            assert!(done);
            // The server comes back: the next attempt succeeds.
            sim.with_server(|s, _| s.clear_refusals());
            until_connected_within(&mut sim, "/", Duration::from_secs(60));

            let waits = delays(&timed_events(&sim));
            assert_eq!(waits.len(), FAILURES as usize + 1);
            for (i, (n, waited)) in waits.iter().enumerate() {
                assert_eq!(*n, i as u32 + 1);
                assert_within_bounds(*n, *waited, ms(delay), ms(max), factor);
            }

            let mut expected = vec!["error".to_owned(), "connect_error /".to_owned()];
            for n in 1..=FAILURES {
                expected.push(format!("reconnect_attempt {n}"));
                expected.extend(["error", "connect_error /", "reconnect_error"].map(String::from));
            }
            expected.extend([
                format!("reconnect_attempt {}", FAILURES + 1),
                "open".into(),
                format!("reconnect {}", FAILURES + 1),
                "connect /".into(),
            ]);
            assert_eq!(story(&sim), expected, "seed {seed}");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_delays_and_others_differ() {
    let run = |seed| {
        let mut sim = sim(seed, SioConfig::new(), backoff_config(1000, 5000, 0.5));
        refuse_all(&mut sim);
        connect(&mut sim, "/", SocketConfig::default());
        sim.run_for(Duration::from_secs(60));
        delays(&timed_events(&sim))
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn gives_up_after_reconnection_attempts() {
    let mut config = backoff_config(1000, 5000, 0.5);
    config.reconnection_attempts = Some(3);
    let mut sim = sim(60, SioConfig::new(), config);
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    refuse_all(&mut sim);
    let sid = sim.server().last_sid().unwrap();
    sim.with_server(|s, now| s.kill(now, &sid));
    sim.run_for(Duration::from_secs(3600));

    let mut expected: Vec<String> = [
        "open",
        "connect /",
        "close transport error",
        "disconnect / transport error",
    ]
    .map(String::from)
    .to_vec();
    for n in 1..=3 {
        expected.push(format!("reconnect_attempt {n}"));
        expected.extend(["error", "connect_error /"].map(String::from));
        if n == 3 {
            // As in the reference: the attempt's callback calls reconnect() (which gives up)
            // before it emits reconnect_error.
            expected.push("reconnect_failed".into());
        }
        expected.push("reconnect_error".into());
    }
    assert_eq!(story(&sim), expected);
    // Three refused handshakes after the first session, then silence for an hour.
    let attempts = sim
        .transcript()
        .count(|r| matches!(r, socketio_test_kit::Record::WsConnect { .. }));
    assert_eq!(attempts, 4);
    assert!(!sim.client().is_reconnecting());
}

#[test]
fn ten_thousand_failures_never_give_a_zero_delay() {
    const ATTEMPTS: usize = 10_000;
    let started = Instant::now();
    let mut sim = sim_with(
        61,
        LinkConfig::ideal(),
        engine_server(),
        SioConfig::new(),
        backoff_config(1000, 5000, 0.5),
    );
    refuse_all(&mut sim);
    connect(&mut sim, "/", SocketConfig::default());
    // Measured as they come, so the check stays linear.
    let mut seen = 0;
    let mut failure = Duration::ZERO;
    let mut waits = Vec::with_capacity(ATTEMPTS);
    let done = sim.run_until(Duration::from_secs(24 * 3600), |s| {
        for (at, e) in &s.events()[seen..] {
            match e {
                Event::Error(_) | Event::ReconnectError(_) => failure = *at,
                Event::ReconnectAttempt(_) => waits.push(*at - failure),
                _ => {}
            }
        }
        seen = s.events().len();
        waits.len() >= ATTEMPTS
    });
    assert!(done, "only {} attempts", waits.len());
    for (i, waited) in waits.iter().enumerate() {
        let n = i as u32 + 1;
        assert!(*waited > Duration::ZERO, "attempt {n} came without a delay");
        assert_within_bounds(n, *waited, ms(1000), ms(5000), 0.5);
    }
    // Past the reference's overflow (about attempt 1015) every delay is the maximum.
    assert!(waits[1014..].iter().all(|w| *w == ms(5000)));
    let attempts = sim
        .events()
        .iter()
        .filter(|(_, e)| matches!(e, Event::ReconnectAttempt(_)))
        .count();
    assert_eq!(attempts, ATTEMPTS);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_killed_or_closed_connection_reconnects_with_a_new_socket_id() {
    for (seed, transports, graceful) in [
        (62, POLLING, false),
        (63, WEBSOCKET, false),
        (64, POLLING, true),
        (65, WEBSOCKET, true),
    ] {
        let mut sim = sim(seed, SioConfig::new(), client_config(transports));
        connect(&mut sim, "/", SocketConfig::default());
        until_connected(&mut sim, "/");
        let old_id = sim.client().socket("/").unwrap().id().unwrap().to_owned();
        sim.run_for(ms(300));
        let sid = sim.server().last_sid().unwrap();
        if graceful {
            sim.with_server(|s, now| s.close(now, &sid));
        } else {
            sim.with_server(|s, now| s.kill(now, &sid));
        }
        sim.run_for(Duration::from_secs(3));
        let reason = if graceful {
            DisconnectReason::TransportClose
        } else {
            DisconnectReason::TransportError
        };
        assert_eq!(
            story(&sim),
            [
                "open".to_owned(),
                "connect /".to_owned(),
                format!("close {reason}"),
                format!("disconnect / {reason}"),
                "reconnect_attempt 1".into(),
                "open".into(),
                "reconnect 1".into(),
                "connect /".into(),
            ],
            "{transports:?} graceful: {graceful}"
        );
        let waits = delays(&timed_events(&sim));
        assert_within_bounds(1, waits[0].1, ms(1000), ms(5000), 0.5);
        let new_id = sim.client().socket("/").unwrap().id().unwrap();
        assert_ne!(new_id, old_id);
        assert_eq!(sim.server().sessions().len(), 2);
    }
}

#[test]
fn a_cut_link_is_noticed_by_the_heartbeat_then_the_manager_reconnects() {
    let mut config = client_config(WEBSOCKET);
    config.timeout = Some(Duration::from_secs(2));
    let mut sim = sim(66, SioConfig::new(), config);
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    sim.cut_for(Duration::from_secs(8));
    sim.run_for(Duration::from_secs(30));
    let story = story(&sim);
    assert_eq!(
        story[..4],
        [
            "open",
            "connect /",
            "close ping timeout",
            "disconnect / ping timeout"
        ]
    );
    // Attempts during the cut time out (the handshake vanishes); one after it succeeds.
    assert!(story.iter().any(|s| s == "reconnect_error"));
    assert_eq!(story.last().unwrap(), "connect /");
    assert!(matches!(
        events(&sim)
            .iter()
            .find(|e| matches!(e, Event::ReconnectError(_))),
        Some(Event::ReconnectError(ManagerError::Timeout))
    ));
    assert!(sim.client().socket("/").unwrap().connected());
}

#[test]
fn no_reconnection_when_turned_off() {
    let mut config = client_config(WEBSOCKET);
    config.reconnection = false;
    let mut sim = sim(67, SioConfig::new(), config);
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    let sid = sim.server().last_sid().unwrap();
    sim.with_server(|s, now| s.kill(now, &sid));
    sim.run_for(Duration::from_secs(60));
    assert_eq!(sim.server().sessions().len(), 1);
    assert!(!story(&sim).iter().any(|s| s.starts_with("reconnect")));
}
