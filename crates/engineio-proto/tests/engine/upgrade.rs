//! The upgrade from polling to WebSocket: probe, pause, `5`, flush; and its failures.

use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{Event, State, Transmit, TransportEvent, TransportId, TransportKind, WsFrame};

use crate::support::*;

/// A polling session offered an upgrade, with its probe WebSocket not yet open.
/// Returns (polling id, probe id).
fn offered() -> (H, TransportId, TransportId) {
    let mut h = H::new(config());
    let (id, d) = h.handshake_polling(&open_packet(&["websocket"], 25_000, 20_000, 1_000_000));
    assert_eq!(d.transmits.len(), 2, "{:#?}", d.all);
    let probe = expect_ws_open(&d.transmits[0]);
    assert_eq!(expect_get(&d.transmits[1]), id);
    assert_ne!(probe, id);
    (h, id, probe)
}

/// Like [`offered`], with `2probe` sent.
fn probing() -> (H, TransportId, TransportId) {
    let (mut h, id, probe) = offered();
    let d = h.ws_open(probe);
    assert_eq!(expect_ws_send(d.one()), (probe, "2probe".into()));
    assert!(d.events.is_empty());
    (h, id, probe)
}

fn upgrade_error(d: &Drained) -> Option<&str> {
    d.events.iter().find_map(|e| match e {
        Event::UpgradeError {
            transport,
            description,
        } => {
            assert_eq!(*transport, TransportKind::WebSocket);
            Some(description.as_str())
        }
        _ => None,
    })
}

#[test]
fn the_upgrade_pauses_polling_sends_5_and_flushes_on_the_websocket() {
    let (mut h, id, probe) = probing();
    let d = h.ws_text(probe, "3probe");
    assert_eq!(d.events, [Event::Upgrading(TransportKind::WebSocket)]);
    assert!(
        d.transmits.is_empty(),
        "the parked GET must come back first"
    );
    assert!(!h.client.is_writable());
    // Messages sent meanwhile wait for the new transport, in order.
    assert!(h.send_text("a").transmits.is_empty());
    assert!(h.send_text("b").transmits.is_empty());
    // The server releases the parked GET with a noop.
    let d = h.get_ok(id, "6");
    let sent: Vec<_> = d.transmits.iter().map(expect_ws_send).collect();
    assert_eq!(
        sent,
        [
            (probe, "5".to_owned()),
            (probe, "4a".to_owned()),
            (probe, "4b".to_owned())
        ]
    );
    assert_eq!(
        d.events,
        [
            Event::Upgrade(TransportKind::WebSocket),
            Event::RememberUpgrade(true)
        ]
    );
    assert_eq!(h.client.transport(), Some(TransportKind::WebSocket));
    assert!(h.client.is_writable());
    // The polling transport is gone: its late reports are ignored.
    assert!(h.get_ok(id, "4late").all.is_empty());
    // Traffic now flows on the WebSocket.
    assert_eq!(h.ws_text(probe, "4hi").messages(), ["hi"]);
    assert_eq!(expect_ws_send(h.send_text("c").one()), (probe, "4c".into()));
    // Only the heartbeat remains scheduled.
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(45_000))
    );
}

#[test]
fn the_pause_also_waits_for_the_post_in_flight() {
    let (mut h, id, probe) = probing();
    let post = h.send_text("a");
    assert_eq!(expect_post(post.one()).1, "4a");
    h.ws_text(probe, "3probe");
    h.send_text("b");
    // The GET returns with data (the captured trace got `430[1]`), not a noop.
    let d = h.get_ok(id, "430[1]");
    assert_eq!(d.messages(), ["30[1]"]);
    assert!(
        d.transmits.is_empty(),
        "paused: no new GET, and the POST is still out"
    );
    let d = h.post_ok(id);
    let sent: Vec<_> = d.transmits.iter().map(|t| expect_ws_send(t).1).collect();
    assert_eq!(sent, ["5", "4b"]);
}

#[test]
fn a_ping_in_the_releasing_get_is_answered_on_the_websocket() {
    let (mut h, id, probe) = probing();
    h.ws_text(probe, "3probe");
    let d = h.get_ok(id, "2");
    let sent: Vec<_> = d.transmits.iter().map(|t| expect_ws_send(t).1).collect();
    assert_eq!(sent, ["5", "3"]);
    assert!(d.events.contains(&Event::Ping));
}

#[test]
fn a_get_response_while_none_is_in_flight_is_ignored() {
    // Regression: a GET report with no GET in flight (here: paused, waiting for the POST)
    // used to be decoded and delivered.
    let (mut h, id, probe) = probing();
    h.send_text("a");
    h.ws_text(probe, "3probe");
    assert!(h.get_ok(id, "6").transmits.is_empty());
    let d = h.get_ok(id, "4bogus");
    assert!(d.all.is_empty(), "{:#?}", d.all);
    let d = h.post_ok(id);
    assert_eq!(expect_ws_send(&d.transmits[0]).1, "5");
}

#[test]
fn a_wrong_probe_answer_leaves_the_session_on_polling() {
    for answer in ["3", "4hello", "2probe", "6"] {
        let (mut h, id, probe) = probing();
        let d = h.ws_text(probe, answer);
        assert_eq!(
            d.transmits,
            [Transmit::WsClose { transport: probe }],
            "{answer}"
        );
        assert_eq!(upgrade_error(&d), Some("probe error"));
        assert!(d.events.contains(&Event::RememberUpgrade(false)));
        assert_eq!(h.client.transport(), Some(TransportKind::Polling));
        assert_eq!(
            h.client.poll_timeout(),
            Some(h.t0 + Duration::from_millis(45_000))
        );
        // Polling goes on: the parked GET is still ours and sends go by POST.
        assert_eq!(h.get_ok(id, "4m").messages(), ["m"]);
        assert_eq!(expect_post(h.send_text("x").one()).1, "4x");
        // Later reports about the abandoned probe are ignored.
        assert!(h.ws_text(probe, "3probe").all.is_empty());
        assert!(h.ws_close(probe, None).all.is_empty());
    }
}

#[test]
fn a_binary_probe_answer_is_a_probe_error() {
    let (mut h, _, probe) = probing();
    let now = h.now;
    h.client.handle_transport(
        now,
        probe,
        TransportEvent::WsFrame(WsFrame::Binary(Bytes::from_static(b"3probe"))),
    );
    assert_eq!(upgrade_error(&h.drain()), Some("probe error"));
}

#[test]
fn a_refused_probe_leaves_the_session_on_polling() {
    let (mut h, id, probe) = offered();
    let d = h.ws_close(probe, Some("HTTP 400"));
    assert!(
        d.transmits.is_empty(),
        "the probe is already closed: {:#?}",
        d.all
    );
    assert_eq!(upgrade_error(&d), Some("HTTP 400"));
    assert_eq!(h.client.state(), State::Open);
    assert_eq!(h.get_ok(id, "6").transmits.len(), 1);
}

#[test]
fn a_probe_closed_while_pausing_resumes_polling_and_flushes_by_post() {
    let (mut h, id, probe) = probing();
    h.send_text("a");
    h.ws_text(probe, "3probe");
    h.send_text("b");
    assert!(h.get_ok(id, "6").transmits.is_empty(), "paused");
    let d = h.ws_close(probe, None);
    assert_eq!(upgrade_error(&d), Some("transport closed"));
    // Resumed: a new GET at once; `b` waits for the POST in flight.
    assert_eq!(d.transmits.len(), 1, "{:#?}", d.all);
    assert_eq!(expect_get(&d.transmits[0]), id);
    assert!(!h.client.is_writable());
    let d = h.post_ok(id);
    assert_eq!(expect_post(d.one()).1, "4b");
}

#[test]
fn a_probe_that_never_opens_times_out() {
    let (mut h, id, probe) = offered();
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_secs(10))
    );
    h.at(9_999);
    assert!(h.timeout().all.is_empty());
    h.at(10_000);
    let d = h.timeout();
    assert_eq!(d.transmits, [Transmit::WsClose { transport: probe }]);
    assert_eq!(upgrade_error(&d), Some("probe timeout"));
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_secs(45))
    );
    assert_eq!(h.get_ok(id, "4still").messages(), ["still"]);
}

#[test]
fn a_pause_that_never_completes_times_out_and_polling_resumes() {
    let mut c = config();
    c.probe_timeout = Duration::from_secs(3);
    let mut h = H::new(c);
    let (id, d) = h.handshake_polling(&open_packet(&["websocket"], 25_000, 20_000, 0));
    let probe = expect_ws_open(&d.transmits[0]);
    h.ws_open(probe);
    h.ws_text(probe, "3probe");
    h.send_text("queued");
    h.at(3_000);
    let d = h.timeout();
    assert_eq!(upgrade_error(&d), Some("probe timeout"));
    // The GET is still parked (no new one); the buffer goes by POST.
    assert_eq!(d.transmits[0], Transmit::WsClose { transport: probe });
    assert_eq!(expect_post(&d.transmits[1]), (id, "4queued".into()));
    assert_eq!(d.transmits.len(), 2);
}

#[test]
fn a_frame_before_the_probe_opens_is_a_probe_error() {
    let (mut h, _, probe) = offered();
    let d = h.ws_text(probe, "3probe");
    assert_eq!(upgrade_error(&d), Some("probe error"));
}

#[test]
fn no_probe_without_upgrade_or_without_websocket_in_transports() {
    let offer = open_packet(&["websocket"], 25_000, 20_000, 0);
    let mut c = config();
    c.upgrade = false;
    let mut h = H::new(c);
    assert_eq!(h.handshake_polling(&offer).1.transmits.len(), 1);
    let mut c = config();
    c.transports = vec![TransportKind::Polling];
    let mut h = H::new(c);
    assert_eq!(h.handshake_polling(&offer).1.transmits.len(), 1);
    // Unknown upgrade names are kept but never probed.
    let mut h = H::new(config());
    let (_, d) = h.handshake_polling(&open_packet(&["webtransport"], 25_000, 20_000, 0));
    assert_eq!(d.transmits.len(), 1);
    assert!(h.client.handshake().unwrap().upgrades == ["webtransport"]);
}

#[test]
fn close_during_the_upgrade_waits_for_it_then_closes_the_websocket() {
    let (mut h, id, probe) = probing();
    h.ws_text(probe, "3probe");
    h.send_text("last");
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.client.state(), State::Closing);
    assert!(h.drain().all.is_empty());
    assert!(
        h.client
            .send(now, engineio_proto::Message::text("x"))
            .is_err()
    );
    let d = h.get_ok(id, "6");
    let kinds: Vec<String> = d
        .transmits
        .iter()
        .map(|t| match t {
            Transmit::WsSend { .. } => expect_ws_send(t).1,
            Transmit::WsClose { .. } => "close".into(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["5", "4last", "close"]);
    assert_eq!(d.close_reason(), Some("forced close"));
}

#[test]
fn close_during_the_upgrade_closes_on_polling_when_the_probe_fails() {
    let (mut h, id, probe) = probing();
    h.ws_text(probe, "3probe");
    let now = h.now;
    h.client.close(now);
    h.drain();
    let d = h.ws_close(probe, Some("reset"));
    assert_eq!(upgrade_error(&d), Some("reset"));
    // No new GET for a session that is done: straight to the `1` POST.
    assert_eq!(d.transmits.len(), 1, "{:#?}", d.all);
    assert_eq!(expect_post(&d.transmits[0]), (id, "1".into()));
    assert_eq!(d.close_reason(), Some("forced close"));
}
