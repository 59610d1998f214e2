//! Choosing the transport: `try_all_transports` fallback and `remember_upgrade`.

use engineio_proto::{Event, State, Transmit, TransportKind};

use crate::support::*;

#[test]
fn try_all_transports_falls_back_from_polling_to_websocket() {
    let mut c = config();
    c.try_all_transports = true;
    let mut h = H::new(c);
    let id = expect_get(h.drain().one());
    let d = h.get_response(id, 403, r#"{"code":4,"message":"Forbidden"}"#);
    assert_eq!(d.events, [Event::RememberUpgrade(false)]);
    let ws = expect_ws_open(d.one());
    assert_ne!(ws, id);
    assert_eq!(h.client.state(), State::Opening);
    h.ws_open(ws);
    let d = h.ws_text(ws, &open_packet(&[], 25_000, 20_000, 0));
    assert!(d.events.iter().any(|e| matches!(e, Event::Open(_))));
    assert_eq!(h.client.transport(), Some(TransportKind::WebSocket));
    // The dead polling transport is forgotten.
    assert!(h.get_ok(id, "4x").all.is_empty());
}

#[test]
fn try_all_transports_falls_back_from_websocket_to_polling() {
    let mut c = config();
    c.try_all_transports = true;
    c.transports = vec![TransportKind::WebSocket, TransportKind::Polling];
    let mut h = H::new(c);
    let ws = expect_ws_open(h.drain().one());
    let d = h.ws_close(ws, Some("HTTP 400"));
    assert!(
        d.transmits
            .iter()
            .all(|t| !matches!(t, Transmit::WsClose { .. }))
    );
    let id = expect_get(d.transmits.last().unwrap());
    assert!(!query_keys(url_of(d.transmits.last().unwrap())).contains(&"sid".to_owned()));
    let d = h.get_ok(id, &open_polling_only());
    assert!(d.events.iter().any(|e| matches!(e, Event::Open(_))));
}

#[test]
fn when_every_transport_failed_the_session_closes() {
    let mut c = config();
    c.try_all_transports = true;
    let mut h = H::new(c);
    let id = expect_get(h.drain().one());
    let ws = expect_ws_open(h.get_response(id, 500, "").one());
    let d = h.ws_close(ws, Some("refused"));
    assert_eq!(d.close_reason(), Some("transport error"));
}

#[test]
fn without_try_all_transports_the_first_failure_closes() {
    let mut h = H::new(config());
    let id = expect_get(h.drain().one());
    let d = h.get_response(id, 500, "");
    assert_eq!(d.close_reason(), Some("transport error"));
    assert!(d.transmits.is_empty());
}

#[test]
fn a_failure_after_the_handshake_does_not_fall_back() {
    let mut c = config();
    c.try_all_transports = true;
    let mut h = H::new(c);
    let id = h.open_polling();
    let d = h.get_response(id, 400, r#"{"code":1,"message":"Session ID unknown"}"#);
    assert_eq!(d.close_reason(), Some("transport error"));
    assert!(d.transmits.is_empty());
}

#[test]
fn remember_upgrade_starts_over_websocket_after_a_websocket_success() {
    let mut c = config();
    c.remember_upgrade = true;
    let mut h = H::with_prior(c.clone(), true);
    let first = h.drain();
    let ws = expect_ws_open(first.one());
    assert_eq!(url_of(first.one()).scheme(), "ws");
    h.ws_open(ws);
    let d = h.ws_text(ws, &open_packet(&[], 25_000, 20_000, 0));
    assert_eq!(d.events[0], Event::RememberUpgrade(true));

    // No prior success, or the option off: polling first.
    expect_get(H::with_prior(c.clone(), false).drain().one());
    expect_get(H::with_prior(config(), true).drain().one());
    // A prior success does not bring back a transport the options leave out.
    let mut polling_only = c;
    polling_only.transports = vec![TransportKind::Polling];
    expect_get(H::with_prior(polling_only, true).drain().one());
}

#[test]
fn the_remembered_value_follows_the_session() {
    // Polling handshake: false; successful upgrade: true; transport error: false.
    let mut h = H::new(config());
    let (id, d) = h.handshake_polling(&open_packet(&["websocket"], 25_000, 20_000, 0));
    assert_eq!(d.events[0], Event::RememberUpgrade(false));
    let probe = expect_ws_open(&d.transmits[0]);
    h.ws_open(probe);
    h.ws_text(probe, "3probe");
    let d = h.get_ok(id, "6");
    assert!(d.events.contains(&Event::RememberUpgrade(true)));
    let d = h.ws_close(probe, Some("reset"));
    assert!(d.events.contains(&Event::RememberUpgrade(false)));
}
