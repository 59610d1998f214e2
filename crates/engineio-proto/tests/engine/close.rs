//! Closing: `1` on polling, a close frame on WebSocket, the deferred close, sticky reasons.

use engineio_proto::{
    CloseReason, Event, Message, SendError, State, Transmit, TransportEvent, TransportKind,
};

use crate::support::*;

#[test]
fn closing_an_idle_polling_session_posts_1() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let now = h.now;
    h.client.close(now);
    let d = h.drain();
    assert_eq!(expect_post(d.one()), (id, "1".into()));
    assert_eq!(d.events, [Event::Close(CloseReason::ForcedClose)]);
    assert_eq!(h.client.state(), State::Closed);
    assert_eq!(h.client.poll_timeout(), None);
    // The server answers the parked GET with a noop and the POST with ok: nothing follows.
    assert!(h.get_ok(id, "6").all.is_empty());
    assert!(h.post_ok(id).all.is_empty());
}

#[test]
fn close_waits_for_the_buffer_like_the_captured_session() {
    // protocol.md 2.8: POST 41 ← ok, POST 1 ← ok, parked GET ← 6.
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.send_text("2[\"a\",\"x\"]");
    assert_eq!(expect_post(d.one()).1, "42[\"a\",\"x\"]");
    h.send_text("1");
    let now = h.now;
    h.client.close(now);
    assert_eq!(h.client.state(), State::Closing);
    assert!(h.drain().all.is_empty());
    assert_eq!(
        h.client.send(now, Message::text("too late")),
        Err(SendError::Closed(None))
    );
    // Messages still arrive while closing.
    let d = h.get_ok(id, "4still here");
    assert_eq!(d.messages(), ["still here"]);
    let d = h.post_ok(id);
    assert_eq!(expect_post(d.one()).1, "41");
    let d = h.post_ok(id);
    assert_eq!(expect_post(d.one()).1, "1");
    assert_eq!(d.close_reason(), Some("forced close"));
    assert!(h.get_ok(id, "6").all.is_empty());
}

#[test]
fn closing_a_websocket_sends_no_close_packet() {
    let mut c = config();
    c.transports = vec![TransportKind::WebSocket];
    let mut h = H::new(c);
    let ws = expect_ws_open(h.drain().one());
    h.ws_open(ws);
    h.ws_text(ws, &open_packet(&[], 25_000, 20_000, 0));
    let now = h.now;
    h.client.close(now);
    let d = h.drain();
    assert_eq!(d.transmits, [Transmit::WsClose { transport: ws }]);
    assert_eq!(d.close_reason(), Some("forced close"));
}

#[test]
fn closing_while_opening_abandons_the_handshake() {
    let mut h = H::new(config());
    let id = expect_get(h.drain().one());
    let now = h.now;
    h.client.close(now);
    let d = h.drain();
    assert!(
        d.transmits.is_empty(),
        "no sid, nobody to tell: {:#?}",
        d.all
    );
    assert_eq!(d.events, [Event::Close(CloseReason::ForcedClose)]);
    assert!(h.get_ok(id, &open_polling_only()).all.is_empty());
}

#[test]
fn a_parse_error_from_the_layer_above_closes_at_once() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let post = h.send_text("a");
    expect_post(post.one());
    h.send_text("dropped");
    let now = h.now;
    let reason = CloseReason::ParseError {
        description: "invalid payload".into(),
    };
    h.client.close_with(now, reason.clone());
    let d = h.drain();
    // A POST is in flight: the `1` goes out beside it (as the reference's does), so the server
    // ends the session now rather than at its heartbeat; what was buffered is dropped.
    assert_eq!(d.transmits.len(), 1, "{:#?}", d.all);
    assert_eq!(expect_post(&d.transmits[0]).1, "1");
    assert_eq!(d.events, [Event::Close(reason.clone())]);
    assert_eq!(reason.as_str(), "parse error");
    assert_eq!(h.client.buffered(), 0);

    let mut h = H::new(config());
    let id2 = h.open_polling();
    assert_eq!(id, id2);
    let now = h.now;
    h.client.close_with(now, reason);
    assert_eq!(expect_post(h.drain().one()).1, "1");
}

#[test]
fn the_close_reason_is_sticky() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.get_ok(id, "1");
    let reason = CloseReason::TransportClose {
        description: "transport closed by the server".into(),
    };
    assert_eq!(d.events, [Event::Close(reason.clone())]);
    // Nothing later changes it or produces output.
    let now = h.now;
    h.client.close(now);
    h.client.close_with(now, CloseReason::PingTimeout);
    h.client.handle_transport(
        now,
        id,
        TransportEvent::HttpError {
            request: engineio_proto::PollRequest::Get,
            error: engineio_proto::IoError::new(engineio_proto::IoErrorKind::Other, "boom"),
        },
    );
    h.at(1_000_000);
    h.client.handle_timeout(h.now);
    assert!(h.drain().all.is_empty());
    assert_eq!(h.client.close_reason(), Some(&reason));
    assert_eq!(
        h.client.send(h.now, Message::text("x")),
        Err(SendError::Closed(Some(reason.clone())))
    );
    assert!(!h.client.is_writable());
    assert!(!h.client.is_expired(h.now));
    assert_eq!(h.client.poll_timeout(), None);
    assert_eq!(
        reason.to_string(),
        "transport close: transport closed by the server"
    );
}

#[test]
fn close_reasons_read_like_the_reference() {
    assert_eq!(CloseReason::PingTimeout.to_string(), "ping timeout");
    assert_eq!(CloseReason::ForcedClose.to_string(), "forced close");
    assert_eq!(
        SendError::Closed(Some(CloseReason::ForcedClose)).to_string(),
        "the Engine.IO session is closed (forced close)"
    );
}
