//! Reconnection under virtual time with a seeded RNG: backoff bounds, attempts, events, the
//! reasons that do and do not reconnect, the connect timeout, the heartbeat.

mod support;

use std::time::Duration;

use socketio_proto::codec::Payload;
use socketio_proto::{
    DisconnectReason, EmitOptions, EmitStatus, Event, ManagerError, ReadyState, SocketConfig,
    TransportEvent,
};
use support::{Harness, config};

const MS: Duration = Duration::from_millis(1);

/// Runs until the next WebSocket open; returns the time waited.
fn until_next_open(h: &mut Harness) -> Duration {
    let start = h.now;
    let opens = h.opens.len();
    while h.opens.len() == opens {
        assert!(h.step(Duration::from_secs(3600)), "nothing scheduled");
    }
    h.now - start
}

#[test]
fn reconnects_after_transport_close_with_events_in_order() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.drop_ws(None);
    let events = h.take_events();
    assert_eq!(
        events,
        [
            Event::Close {
                reason: DisconnectReason::TransportClose,
                description: Some("transport close: websocket connection closed".into()),
                goodbye: false,
            },
            Event::Disconnect {
                nsp: "/".into(),
                reason: DisconnectReason::TransportClose
            },
        ]
    );
    until_next_open(&mut h);
    assert_eq!(h.take_events(), [Event::ReconnectAttempt(1)]);
    h.accept();
    h.frame(r#"40{"sid":"second"}"#);
    let events = h.take_events();
    assert_eq!(events[0], Event::Open);
    assert!(events.contains(&Event::Reconnect(1)));
    assert!(events.contains(&Event::Connect {
        nsp: "/".into(),
        sid: "second".into(),
        recovered: false
    }));
    assert_eq!(h.take_sent(), ["40"], "the active socket connects again");
}

#[test]
fn delays_follow_the_backoff_formula_bounds() {
    // Every attempt fails at once (connection refused): delays must lie in
    // [min(base*(1-f), max), min(base*(1+f), max)] with base = 1000 * 2^(n-1).
    for seed in 0..20 {
        let mut h = Harness::with_seed(config(), seed);
        h.connect("/", SocketConfig::default());
        h.drop_ws(Some("connection refused"));
        for attempt in 1..=12u32 {
            let waited = until_next_open(&mut h).as_millis() as f64;
            let base = 1000.0 * 2f64.powi(attempt as i32 - 1);
            let lo = (base * 0.5).min(5000.0).floor();
            let hi = (base * 1.5).min(5000.0);
            assert!(
                waited >= lo && waited <= hi,
                "seed {seed} attempt {attempt}: waited {waited} outside [{lo}, {hi}]"
            );
            h.drop_ws(Some("connection refused"));
        }
        let attempts: Vec<u32> = h
            .take_events()
            .into_iter()
            .filter_map(|e| match e {
                Event::ReconnectAttempt(n) => Some(n),
                _ => None,
            })
            .collect();
        assert_eq!(attempts, (1..=12).collect::<Vec<_>>());
    }
}

#[test]
fn the_same_seed_gives_the_same_delays() {
    let run = |seed| {
        let mut h = Harness::with_seed(config(), seed);
        h.connect("/", SocketConfig::default());
        h.drop_ws(Some("refused"));
        (0..5)
            .map(|_| {
                let d = until_next_open(&mut h);
                h.drop_ws(Some("refused"));
                d
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
}

#[test]
fn gives_up_after_reconnection_attempts() {
    let mut c = config();
    c.reconnection_attempts = Some(3);
    let mut h = Harness::new(c);
    h.connect("/", SocketConfig::default());
    h.drop_ws(Some("refused"));
    for _ in 0..3 {
        until_next_open(&mut h);
        h.drop_ws(Some("refused"));
    }
    let events = h.take_events();
    let failed = events
        .iter()
        .filter(|e| **e == Event::ReconnectFailed)
        .count();
    assert_eq!(failed, 1, "{events:?}");
    let errors = events
        .iter()
        .filter(|e| matches!(e, Event::ReconnectError(_)))
        .count();
    assert_eq!(errors, 3);
    assert_eq!(h.opens.len(), 4, "the first try and three attempts");
    assert_eq!(h.manager.poll_timeout(), None, "nothing more scheduled");
}

#[test]
fn no_reconnection_when_turned_off() {
    let mut c = config();
    c.reconnection = false;
    let mut h = Harness::connected(c, SocketConfig::default());
    h.drop_ws(None);
    assert_eq!(h.manager.poll_timeout(), None);
    assert_eq!(h.manager.ready_state(), ReadyState::Closed);
}

#[test]
fn a_connect_timeout_fails_the_attempt() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    // The WebSocket never opens.
    h.advance(Duration::from_millis(19_999));
    assert!(h.take_events().is_empty());
    h.advance(MS);
    let events = h.take_events();
    assert_eq!(events[0], Event::Error(ManagerError::Timeout), "{events:?}");
    assert!(matches!(events[1], Event::ConnectError { .. }));
    assert_eq!(h.closed.len(), 1, "the stalled websocket is abandoned");
    assert!(h.manager.is_reconnecting());
}

#[test]
fn ping_timeout_disconnects_and_reconnects() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    // 25 s interval + 20 s timeout with no ping.
    h.advance(Duration::from_millis(44_999));
    assert!(h.take_events().is_empty());
    h.advance(MS);
    let events = h.take_events();
    assert!(
        events.contains(&Event::Disconnect {
            nsp: "/".into(),
            reason: DisconnectReason::PingTimeout
        }),
        "{events:?}"
    );
    assert!(h.manager.is_reconnecting());
}

#[test]
fn pings_keep_the_connection_for_a_long_time() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    for _ in 0..100 {
        h.advance(Duration::from_secs(25));
        h.frame("2");
    }
    let sent = h.take_sent();
    assert_eq!(sent.len(), 100);
    assert!(sent.iter().all(|s| s == "3"));
    assert!(h.manager.socket("/").expect("socket").connected());
}

#[test]
fn an_emit_after_the_heartbeat_deadline_is_buffered_not_written() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    // The laptop slept: no timer fired, but the deadline has passed.
    h.now += Duration::from_secs(60);
    let now = h.now;
    let out = h
        .manager
        .socket_mut("/")
        .expect("socket")
        .emit(
            now,
            Payload::from_serialize(&("late",)).expect("payload"),
            EmitOptions::default(),
        )
        .expect("emit");
    h.drain();
    assert_eq!(out.status, EmitStatus::Buffered);
    assert!(
        h.take_sent().is_empty(),
        "nothing written to a dead connection"
    );
    assert!(h.take_events().contains(&Event::Disconnect {
        nsp: "/".into(),
        reason: DisconnectReason::PingTimeout
    }));
    // It goes out after the reconnection.
    until_next_open(&mut h);
    h.accept();
    h.frame(r#"40{"sid":"x"}"#);
    assert_eq!(h.take_sent(), ["40", r#"42["late"]"#]);
}

#[test]
fn manager_close_stops_everything() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let now = h.now;
    h.manager.close(now);
    h.drain();
    assert!(h.take_events().contains(&Event::Disconnect {
        nsp: "/".into(),
        reason: DisconnectReason::ForcedClose
    }));
    assert_eq!(h.closed.len(), 1);
    assert_eq!(h.manager.poll_timeout(), None);
    // The socket is still active: connecting it opens again.
    let now = h.now;
    h.manager.socket_mut("/").expect("socket").connect(now);
    h.drain();
    assert_eq!(h.opens.len(), 2);
}

#[test]
fn reports_about_a_previous_connection_are_ignored() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let old = h.ws.expect("ws");
    h.drop_ws(None);
    until_next_open(&mut h);
    // A late frame on the old WebSocket must not reach the new engine.
    h.manager.handle_transport(
        h.now,
        old,
        TransportEvent::WsFrame(engineio_proto::WsFrame::Text(bytes::Bytes::from_static(
            b"0{}",
        ))),
    );
    h.drain();
    h.accept();
    assert_eq!(h.take_sent(), ["40"]);
}

#[test]
fn auth_can_change_on_the_reconnect_attempt() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.drop_ws(None);
    // Run until the attempt is announced, but not opened.
    while !h.events.contains(&Event::ReconnectAttempt(1)) {
        assert!(h.step(Duration::from_secs(10)));
    }
    assert_eq!(h.opens.len(), 1, "announced before opening");
    let auth = Payload::from_serialize(&serde_json::json!({"token": "fresh"})).expect("payload");
    h.manager
        .socket_mut("/")
        .expect("socket")
        .set_auth(Some(auth))
        .expect("auth");
    until_next_open(&mut h);
    h.accept();
    assert_eq!(h.take_sent(), [r#"40{"token":"fresh"}"#]);
}

#[test]
fn the_open_gate_holds_every_opening_until_proceed_or_fail() {
    let mut h = Harness::new(config());
    h.manager.set_open_gate(true);
    h.connect("/", SocketConfig::default());
    assert_eq!(h.take_events(), [Event::Prepare { attempt: 0 }]);
    assert!(h.opens.is_empty() && h.manager.is_gated());
    assert_eq!(h.manager.ready_state(), ReadyState::Opening);
    // What changes at the gate is what the engine opens with.
    h.manager
        .engine_config_mut()
        .query
        .push(("t".into(), "1".into()));
    let now = h.now;
    h.manager.proceed_open(now);
    h.drain();
    assert_eq!(h.opens.len(), 1);
    h.accept();
    h.frame(r#"40{"sid":"a"}"#);
    h.take_events();
    // A reconnection waits at the gate too; failing it is a failed attempt, with backoff.
    h.drop_ws(None);
    while !h.events.contains(&Event::Prepare { attempt: 1 }) {
        assert!(h.step(Duration::from_secs(10)));
    }
    assert_eq!(h.opens.len(), 1, "nothing opened at the gate");
    let now = h.now;
    let why = socketio_proto::PrepareFailure::new("the token service is down");
    h.manager.fail_open(now, why.clone());
    h.drain();
    let events = h.take_events();
    assert!(
        events.contains(&Event::Error(ManagerError::Prepare(why.clone()))),
        "{events:?}"
    );
    assert!(events.contains(&Event::ReconnectError(ManagerError::Prepare(why))));
    assert!(!h.manager.is_gated());
    while !h.events.contains(&Event::Prepare { attempt: 2 }) {
        assert!(h.step(Duration::from_secs(10)));
    }
    // The connect timeout runs at the gate as well.
    h.advance(Duration::from_secs(20));
    assert!(
        h.take_events()
            .contains(&Event::Error(ManagerError::Timeout))
    );
    assert!(!h.manager.is_gated());
}
