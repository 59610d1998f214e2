//! The heartbeat: the server pings, the client pongs, and the deadline pingInterval +
//! pingTimeout is reset only by a ping.

use std::time::Duration;

use engineio_proto::{CloseReason, Event, Message, SendError, State, TransportKind};

use crate::support::*;

/// A polling session with pingInterval 25 000 and pingTimeout 20 000, opened at t = 0.
fn open() -> (H, engineio_proto::TransportId) {
    let mut h = H::new(config());
    let id = h.open_polling();
    (h, id)
}

/// The heartbeat deadline is `ms` after the handshake: the client asks to be woken then,
/// nothing happens a millisecond before, and the session closes with "ping timeout" at it.
fn expires_at(h: &mut H, ms: u64) {
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(ms))
    );
    h.at(ms - 1);
    assert!(h.timeout().all.is_empty());
    h.at(ms);
    assert_eq!(h.timeout().close_reason(), Some("ping timeout"));
}

#[test]
fn a_ping_is_answered_with_a_pong_post() {
    let (mut h, id) = open();
    h.at(25_000);
    let d = h.get_ok(id, "2");
    assert_eq!(d.events, [Event::Ping]);
    assert_eq!(d.transmits.len(), 2, "{:#?}", d.all);
    assert_eq!(expect_post(&d.transmits[0]), (id, "3".into()));
    expect_get(&d.transmits[1]);
    assert!(h.post_ok(id).all.is_empty());
}

#[test]
fn the_deadline_is_interval_plus_timeout_from_the_handshake() {
    let (mut h, _) = open();
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(45_000))
    );
    // Early and repeated timeouts do nothing.
    h.at(44_999);
    assert!(h.timeout().all.is_empty());
    assert!(h.timeout().all.is_empty());
    assert!(!h.client.is_expired(h.now));
    assert_eq!(h.client.state(), State::Open);
    h.at(45_000);
    assert!(h.client.is_expired(h.now));
    let d = h.timeout();
    assert_eq!(d.close_reason(), Some("ping timeout"));
    // A dead connection is not written to: no `1` POST.
    assert!(d.transmits.is_empty(), "{:#?}", d.all);
    assert_eq!(h.client.state(), State::Closed);
    assert_eq!(h.client.poll_timeout(), None);
    assert!(h.timeout().all.is_empty(), "closing happens once");
}

#[test]
fn only_a_ping_resets_the_deadline() {
    let (mut h, id) = open();
    h.at(20_000);
    h.get_ok(id, "4not a ping");
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(45_000))
    );
    h.get_ok(id, "3");
    h.get_ok(id, "6");
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(45_000))
    );
    h.at(30_000);
    let d = h.get_ok(id, "2");
    assert_eq!(d.events, [Event::Ping]);
    expires_at(&mut h, 75_000);
}

#[test]
fn a_send_after_the_deadline_closes_with_ping_timeout_and_writes_nothing() {
    let (mut h, _) = open();
    // The timer never fired (a laptop that slept); the next entry point notices.
    h.at(60_000);
    let err = h.client.send(h.now, Message::text("late")).unwrap_err();
    assert_eq!(err, SendError::Closed(Some(CloseReason::PingTimeout)));
    let d = h.drain();
    assert_eq!(d.events, [Event::Close(CloseReason::PingTimeout)]);
    assert!(d.transmits.is_empty(), "{:#?}", d.all);
    assert_eq!(h.client.close_reason(), Some(&CloseReason::PingTimeout));
    assert_eq!(h.client.buffered(), 0);
}

#[test]
fn a_response_after_the_deadline_is_not_processed() {
    let (mut h, id) = open();
    h.at(45_001);
    // The ping arrives too late: the session is already dead.
    let d = h.get_ok(id, "2");
    assert_eq!(d.close_reason(), Some("ping timeout"));
    assert!(!d.events.contains(&Event::Ping));
    assert!(d.transmits.is_empty());
}

#[test]
fn the_pong_waits_for_the_post_in_flight_and_joins_the_batch() {
    let (mut h, id) = open();
    let post = h.send_text("a");
    assert_eq!(expect_post(post.one()).1, "4a");
    h.send_text("b");
    h.at(25_000);
    let d = h.get_ok(id, "2");
    assert_eq!(
        d.transmits.len(),
        1,
        "only the next GET: a POST is in flight"
    );
    expect_get(&d.transmits[0]);
    let d = h.post_ok(id);
    assert_eq!(expect_post(d.one()).1, "4b\x1e3");
}

#[test]
fn a_websocket_ping_is_answered_on_the_websocket() {
    let mut c = config();
    c.transports = vec![TransportKind::WebSocket];
    let mut h = H::new(c);
    let ws = expect_ws_open(h.drain().one());
    h.ws_open(ws);
    h.ws_text(ws, &open_packet(&[], 300, 200, 1_000_000));
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(500))
    );
    h.at(300);
    let d = h.ws_text(ws, "2");
    assert_eq!(d.events, [Event::Ping]);
    assert_eq!(expect_ws_send(d.one()), (ws, "3".into()));
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(800))
    );
    h.at(800);
    let d = h.timeout();
    assert_eq!(d.close_reason(), Some("ping timeout"));
    // The WebSocket is released, and nothing is sent on it.
    assert_eq!(
        d.transmits,
        [engineio_proto::Transmit::WsClose { transport: ws }]
    );
}

#[test]
fn a_server_pong_and_a_stray_probe_are_ignored() {
    let (mut h, id) = open();
    let d = h.get_ok(id, "3\x1e3probe\x1e2probe\x1e5\x1e6");
    assert!(d.events.is_empty(), "{:#?}", d.all);
    assert_eq!(d.transmits.len(), 1);
    expect_get(&d.transmits[0]);
}

#[test]
fn a_zero_heartbeat_window_is_due_at_once() {
    // Found by the eio_client fuzz target: with pingInterval + pingTimeout = 0 the deadline
    // falls due while the handshake is processed; the client must ask for handle_timeout now.
    let mut h = H::new(config());
    let (_, d) = h.handshake_polling(&open_packet(&[], 0, 0, 0));
    assert!(d.events.iter().any(|e| matches!(e, Event::Open(_))));
    assert_eq!(h.client.poll_timeout(), Some(h.now));
    assert!(h.client.is_expired(h.now));
    assert_eq!(h.timeout().close_reason(), Some("ping timeout"));
    assert_eq!(h.client.poll_timeout(), None);
}

/// Backpressure: the caller stopped reading on purpose, so the time it held the deadline
/// does not count, and the deadline is not offered as a timeout meanwhile (a driver would
/// spin on it).
#[test]
fn a_held_heartbeat_does_not_expire_and_moves_by_the_time_held() {
    let (mut h, _) = open();
    h.at(40_000);
    h.client.hold_heartbeat(h.now, true);
    assert!(h.client.is_heartbeat_held());
    assert_eq!(h.client.poll_timeout(), None);
    h.at(100_000);
    assert!(!h.client.is_expired(h.now));
    assert!(h.timeout().all.is_empty());
    assert_eq!(h.client.state(), State::Open);
    // Held from 40 s to 100 s: the 45 s deadline is now at 105 s.
    h.client.hold_heartbeat(h.now, false);
    assert!(!h.client.is_heartbeat_held());
    expires_at(&mut h, 105_000);
}

/// Time before the hold counts: a deadline already passed closes the session when the hold
/// starts, and holding twice or releasing twice changes nothing.
#[test]
fn a_hold_after_the_deadline_closes_and_repeats_are_harmless() {
    let (mut h, _) = open();
    h.at(10_000);
    h.client.hold_heartbeat(h.now, true);
    h.at(20_000);
    h.client.hold_heartbeat(h.now, true);
    h.client.hold_heartbeat(h.now, false);
    h.client.hold_heartbeat(h.now, false);
    // Held once, from 10 s to 20 s.
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(55_000))
    );
    h.at(56_000);
    h.client.hold_heartbeat(h.now, true);
    assert!(!h.client.is_heartbeat_held());
    assert_eq!(h.client.state(), State::Closed);
}
