//! Bad input from the server, decided by the engine: absurd handshake fields, bytes that are
//! not UTF-8, a record separator inside a message, and refused requests with every status the
//! issue lists. Each ends in a typed error or a clean close, never a panic or a stuck session.
//! (Unknown packet types and malformed records: `codec::malformed_packets_give_typed_errors`,
//! `polling::undecodable_responses_are_protocol_errors`; a zero heartbeat window:
//! `heartbeat::a_zero_heartbeat_window_is_due_at_once`.)

use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{
    CloseReason, DecodeError, Event, Handshake, HttpResponse, PollRequest, ProtocolViolation,
    ServerError, State, TransportError, TransportEvent,
};

use crate::support::*;

/// The close of `d`, which must be a protocol violation.
fn violation(d: &Drained) -> ProtocolViolation {
    match d.events.last() {
        Some(Event::Close(CloseReason::TransportError(TransportError::Protocol(v)))) => v.clone(),
        _ => panic!("expected a protocol error close, got {:#?}", d.all),
    }
}

/// Runs a polling handshake with this open packet; what it produced.
fn handshake(open: &str) -> (H, Drained) {
    let mut h = H::new(config());
    let (_, d) = h.handshake_polling(open);
    (h, d)
}

#[test]
fn handshake_fields_of_the_wrong_type_or_range_are_invalid_handshakes() {
    let sid = SID;
    for fields in [
        r#""pingInterval":-1"#,
        r#""pingInterval":1.5"#,
        r#""pingInterval":"25000""#,
        r#""pingTimeout":null"#,
        r#""pingTimeout":18446744073709551616"#,
        r#""maxPayload":1e30"#,
        r#""maxPayload":-1"#,
        r#""upgrades":"websocket""#,
        r#""upgrades":[1]"#,
    ] {
        let open = format!(r#"0{{"sid":"{sid}",{fields}}}"#);
        let (h, d) = handshake(&open);
        assert!(
            matches!(violation(&d), ProtocolViolation::InvalidHandshake(_)),
            "{open}"
        );
        assert_eq!(h.client.state(), State::Closed);
        assert!(d.transmits.is_empty(), "{open}: {:#?}", d.all);
    }
    // Not JSON at all, or JSON that is not an object.
    for open in [
        "0{",
        "0[]",
        "0null",
        "0\"sid\"",
        "0{\"sid\":\"x\"} trailing",
    ] {
        let (_, d) = handshake(open);
        assert!(
            matches!(violation(&d), ProtocolViolation::InvalidHandshake(_)),
            "{open}"
        );
    }
}

#[test]
fn the_largest_intervals_open_a_session_whose_deadline_is_beyond_reach() {
    // u64::MAX milliseconds: the deadline cannot be represented, so there is none (the
    // session lives until the transport ends it) instead of an overflow panic.
    let (mut h, d) = handshake(&open_packet(&[], u64::MAX, u64::MAX, u64::MAX));
    let Some(Event::Open(handshake)) = d.events.last() else {
        panic!("{:#?}", d.all)
    };
    assert_eq!(
        handshake.heartbeat_window(),
        handshake.ping_interval + handshake.ping_timeout
    );
    assert_eq!(h.client.state(), State::Open);
    let deadline = h.client.poll_timeout();
    assert!(
        deadline.is_none_or(|at| at >= h.now + Duration::from_secs(365 * 24 * 3600)),
        "{deadline:?}"
    );
    h.at(3_600_000);
    assert!(h.timeout().events.is_empty());
    assert_eq!(h.client.state(), State::Open);
}

#[test]
fn a_huge_max_payload_means_everything_fits_in_one_post() {
    let mut h = H::new(config());
    let (id, _) = h.handshake_polling(&open_packet(&[], 25_000, 20_000, u64::MAX));
    let first = h.send_text("a");
    expect_post(first.one());
    h.send_text(&"b".repeat(100_000));
    h.send_text("c");
    let d = h.post_ok(id);
    let body = expect_post(d.one()).1;
    assert_eq!(body.len(), 100_001 + 1 + 2);
}

#[test]
fn a_max_payload_of_one_byte_sends_every_packet_alone() {
    let mut h = H::new(config());
    let (id, _) = h.handshake_polling(&open_packet(&[], 25_000, 20_000, 1));
    expect_post(h.send_text("first").one());
    for text in ["a", "b", "c"] {
        h.send_text(text);
    }
    for expected in ["4a", "4b", "4c"] {
        let d = h.post_ok(id);
        assert_eq!(expect_post(d.one()).1, expected);
    }
}

#[test]
fn upgrades_the_client_does_not_know_are_ignored() {
    let (h, d) = handshake(&open_packet(&["carrier-pigeon", ""], 25_000, 20_000, 0));
    assert!(matches!(d.events.last(), Some(Event::Open(_))));
    // Only the next GET: no probe for a transport the client does not have.
    expect_get(d.one());
    assert_eq!(h.client.state(), State::Open);
}

#[test]
fn text_that_is_not_utf8_closes_with_a_decode_error() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let now = h.now;
    h.client.handle_transport(
        now,
        id,
        TransportEvent::HttpResponse {
            request: PollRequest::Get,
            response: HttpResponse::new(200, Bytes::from_static(b"4ok\x1e4\xc3\x28")),
        },
    );
    let d = h.drain();
    // The body is checked as a whole: nothing of it is delivered.
    assert!(d.messages().is_empty());
    assert_eq!(
        violation(&d),
        ProtocolViolation::Decode(DecodeError::InvalidUtf8)
    );
    // The open packet too.
    let mut h = H::new(config());
    let id = expect_get(h.drain().one());
    let now = h.now;
    h.client.handle_transport(
        now,
        id,
        TransportEvent::HttpResponse {
            request: PollRequest::Get,
            response: HttpResponse::new(200, Bytes::from_static(b"0{\"sid\":\"\xff\"}")),
        },
    );
    assert!(matches!(
        violation(&h.drain()),
        ProtocolViolation::Decode(DecodeError::InvalidUtf8)
            | ProtocolViolation::InvalidHandshake(_)
    ));
}

#[test]
fn a_record_separator_splits_a_polling_message_but_not_a_websocket_one() {
    // Polling: the payload is split at every \x1e, as the reference's decodePayload does, so a
    // separator inside a message makes two records; the second is not a packet.
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.get_ok(id, "4hello\x1eworld");
    assert_eq!(d.messages(), ["hello"]);
    assert_eq!(
        violation(&d),
        ProtocolViolation::Decode(DecodeError::UnknownType(b'w'))
    );
    // One that happens to start with a packet type becomes a packet of its own.
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.get_ok(id, "4a\x1e4b");
    assert_eq!(d.messages(), ["a", "b"]);
    // WebSocket: one frame is one packet, separator and all.
    let mut config = config();
    config.transports = vec![engineio_proto::TransportKind::WebSocket];
    let mut h = H::new(config);
    let ws = expect_ws_open(h.drain().one());
    h.ws_open(ws);
    h.ws_text(ws, &open_polling_only());
    let d = h.ws_text(ws, "4a\x1eb");
    assert_eq!(d.messages(), ["a\u{1e}b"]);
    assert_eq!(h.client.state(), State::Open);
}

#[test]
fn every_refused_handshake_status_is_a_typed_transport_error() {
    let error_json = r#"{"code":3,"message":"Bad request"}"#;
    for status in [400, 403, 404, 413, 500, 502, 503] {
        for body in [error_json, "", "<html>Not here</html>", "{\"code\":\"x\"}"] {
            let mut h = H::new(config());
            let id = expect_get(h.drain().one());
            let d = h.get_response(id, status, body);
            let Some(Event::Close(CloseReason::TransportError(TransportError::HttpStatus {
                request,
                status: seen,
                server_error,
            }))) = d.events.last()
            else {
                panic!("{status} {body:?}: {:#?}", d.all)
            };
            assert_eq!((*request, *seen), (PollRequest::Get, status));
            let expected = (body == error_json).then(|| ServerError {
                code: 3,
                message: "Bad request".into(),
            });
            assert_eq!(server_error, &expected, "{status} {body:?}");
            assert!(d.transmits.is_empty());
            assert_eq!(h.client.state(), State::Closed);
        }
    }
}

#[test]
fn every_refused_post_status_is_a_typed_transport_error() {
    for status in [400, 403, 404, 413, 500] {
        let mut h = H::new(config());
        let id = h.open_polling();
        expect_post(h.send_text("x").one());
        let d = h.post_response(id, status, r#"{"code":1,"message":"Session ID unknown"}"#);
        assert_eq!(
            d.events.last(),
            Some(&Event::Close(CloseReason::TransportError(
                TransportError::HttpStatus {
                    request: PollRequest::Post,
                    status,
                    server_error: Some(ServerError {
                        code: 1,
                        message: "Session ID unknown".into()
                    }),
                }
            ))),
            "{status}"
        );
    }
}

#[test]
fn a_second_handshake_and_other_misplaced_packets_close_the_session() {
    // `open` twice over WebSocket.
    let mut config = config();
    config.transports = vec![engineio_proto::TransportKind::WebSocket];
    let mut h = H::new(config);
    let ws = expect_ws_open(h.drain().one());
    h.ws_open(ws);
    h.ws_text(ws, &open_polling_only());
    assert_eq!(
        violation(&h.ws_text(ws, &open_polling_only())),
        ProtocolViolation::UnexpectedOpen
    );
    // A message before the handshake.
    let mut h = H::new(engineio_proto::Config::new("ws://localhost:3000").unwrap());
    let id = expect_get(h.drain().one());
    assert_eq!(
        violation(&h.get_ok(id, "4early")),
        ProtocolViolation::ExpectedOpen
    );
    assert!(Handshake::parse(b"{}").is_err());
}
