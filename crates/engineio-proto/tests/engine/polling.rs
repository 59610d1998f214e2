//! Long-polling: the handshake, one GET and one POST in flight, maxPayload batching, errors.

use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{
    CloseReason, Event, Handshake, Message, PollRequest, ProtocolViolation, ServerError, State,
    Transmit, TransportError, TransportEvent, TransportId,
};

use crate::support::*;

fn open_with_max_payload(max_payload: u64) -> (H, TransportId) {
    let mut h = H::new(config());
    let (id, d) = h.handshake_polling(&open_packet(&[], 25_000, 20_000, max_payload));
    assert_eq!(d.transmits.len(), 1);
    (h, id)
}

#[test]
fn the_polling_handshake() {
    let mut h = H::new(config());
    assert_eq!(h.client.state(), State::Opening);
    assert_eq!(h.client.sid(), None);
    let first = h.drain();
    let id = expect_get(first.one());
    assert!(first.events.is_empty());
    let open = r#"0{"sid":"F-u0OIq_O9rLDLoFAAAA","upgrades":["websocket"],"pingInterval":400,"pingTimeout":300,"maxPayload":1000000}"#;
    let mut c = config();
    c.upgrade = false;
    let mut h = H::new(c);
    let (id2, d) = h.handshake_polling(open);
    assert_eq!(id, id2, "ids are deterministic per client");
    let handshake = Handshake {
        sid: SID.into(),
        upgrades: vec!["websocket".into()],
        ping_interval: Duration::from_millis(400),
        ping_timeout: Duration::from_millis(300),
        max_payload: 1_000_000,
    };
    assert_eq!(
        d.events,
        [
            Event::RememberUpgrade(false),
            Event::Open(handshake.clone())
        ]
    );
    assert_eq!(d.transmits.len(), 1, "upgrade off: only the next GET");
    assert_eq!(expect_get(&d.transmits[0]), id);
    assert_eq!(h.client.state(), State::Open);
    assert_eq!(h.client.sid(), Some(SID));
    assert_eq!(h.client.handshake(), Some(&handshake));
    assert_eq!(
        h.client.transport(),
        Some(engineio_proto::TransportKind::Polling)
    );
    assert!(h.client.is_writable());
}

#[test]
fn messages_of_one_response_arrive_in_order_then_one_get() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.get_ok(id, "4hello\x1ebAQIDBA==\x1e4€");
    assert_eq!(d.messages(), ["hello", "01 02 03 04", "€"]);
    assert_eq!(d.transmits.len(), 1);
    expect_get(&d.transmits[0]);
}

#[test]
fn the_handshake_response_may_carry_messages() {
    let mut h = H::new(config());
    let (_, d) = h.handshake_polling(&format!("{}\x1e4hi", open_polling_only()));
    assert_eq!(d.messages(), ["hi"]);
    assert!(matches!(d.events[1], Event::Open(_)));
}

#[test]
fn messages_sent_while_opening_wait_for_the_handshake() {
    let mut h = H::new(config());
    let first = h.drain();
    h.send_text("early");
    assert_eq!(h.client.buffered(), 1);
    let d = h.get_ok(expect_get(first.one()), &open_polling_only());
    assert_eq!(d.transmits.len(), 2);
    assert_eq!(expect_post(&d.transmits[0]).1, "4early");
    expect_get(&d.transmits[1]);
}

#[test]
fn at_most_one_post_in_flight_and_the_rest_batched() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.send_text("a");
    assert_eq!(expect_post(d.one()), (id, "4a".into()));
    assert!(!h.client.is_writable());
    assert!(h.send_text("b").transmits.is_empty());
    assert!(h.send_text("c").transmits.is_empty());
    let now = h.now;
    h.client
        .send(now, Message::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        .unwrap();
    assert!(h.drain().transmits.is_empty());
    assert_eq!(h.client.buffered(), 3);
    let d = h.post_ok(id);
    assert_eq!(expect_post(d.one()).1, "4b\x1e4c\x1ebAQIDBA==");
    assert!(h.post_ok(id).all.is_empty());
    assert!(h.client.is_writable());
}

#[test]
fn at_most_one_get_in_flight() {
    let mut h = H::new(config());
    let id = h.open_polling();
    // Sending, pinging and idle time never start a second GET while one is parked.
    for _ in 0..3 {
        assert!(
            h.send_text("x")
                .transmits
                .iter()
                .all(|t| matches!(t, Transmit::HttpPost { .. }))
        );
        h.post_ok(id);
    }
    let d = h.get_ok(id, "4m");
    assert_eq!(
        d.transmits
            .iter()
            .filter(|t| matches!(t, Transmit::HttpGet { .. }))
            .count(),
        1
    );
}

/// A Socket.IO event string whose Engine.IO data is `len` bytes.
fn data_of_len(tag: char, len: usize) -> String {
    let head = format!("2[\"{tag}\",\"");
    let fill = len - head.len() - 2;
    format!("{head}{}\"]", "w".repeat(fill))
}

#[test]
fn max_payload_batching_matches_the_captured_split() {
    // protocol.md 1.7, server maxHttpBufferSize 60: packets a, b, c with 29 bytes of data and
    // d = `42["d","wwwww"]` (15 bytes on the wire).
    let (mut h, id) = open_with_max_payload(60);
    let [a, b, c] = ['a', 'b', 'c'].map(|t| data_of_len(t, 29));
    let d = data_of_len('d', 14);
    assert_eq!(format!("4{d}"), r#"42["d","wwwww"]"#);
    let first = h.send_text(&a);
    for m in [&b, &c, &d] {
        assert!(h.send_text(m).transmits.is_empty());
    }
    assert_eq!(expect_post(first.one()).1, format!("4{a}"));
    assert_eq!(expect_post(h.post_ok(id).one()).1, format!("4{b}"));
    let last = h.post_ok(id);
    let body = expect_post(last.one()).1;
    assert_eq!(body, format!("4{c}\x1e4{d}"));
    assert_eq!(body.len(), 46, "the accounting is exactly the body length");
    assert!(h.post_ok(id).all.is_empty());
}

#[test]
fn max_payload_batching_matches_the_engine_test() {
    // engine.io-client "should merge packets according to maxPayload value", maxPayload 100.
    let (mut h, id) = open_with_max_payload(100);
    let msgs = [
        "a".repeat(99),
        "b".repeat(30),
        "c".repeat(30),
        "d".repeat(35),
        "€".repeat(33),
        "f".repeat(99),
    ];
    let mut bodies = Vec::new();
    let first = h.send_text(&msgs[0]);
    bodies.push(expect_post(first.one()).1);
    for m in &msgs[1..] {
        h.send_text(m);
    }
    loop {
        let d = h.post_ok(id);
        match d.transmits.first() {
            Some(t) => bodies.push(expect_post(t).1),
            None => break,
        }
    }
    let expected = [
        format!("4{}", msgs[0]),
        format!("4{}\x1e4{}\x1e4{}", msgs[1], msgs[2], msgs[3]),
        format!("4{}", msgs[4]),
        format!("4{}", msgs[5]),
    ];
    assert_eq!(bodies, expected);
    assert!(bodies.iter().all(|b| b.len() <= 100));
}

#[test]
fn binary_counts_with_the_base64_estimate() {
    // 30 bytes of binary count ceil(30 * 1.33) = 40: with maxPayload 85 two of them fit
    // (1 + 40 + 2 + 40 = 83) but not three.
    let (mut h, id) = open_with_max_payload(85);
    h.send_text("x");
    for _ in 0..3 {
        let now = h.now;
        h.client
            .send(now, Message::Binary(Bytes::from(vec![7u8; 30])))
            .unwrap();
    }
    let body = expect_post(h.post_ok(id).one()).1;
    assert_eq!(body.matches('\x1e').count(), 1, "{body}");
    let body = expect_post(h.post_ok(id).one()).1;
    assert!(!body.contains('\x1e'));
}

#[test]
fn no_max_payload_means_no_limit() {
    let (mut h, id) = open_with_max_payload(0);
    h.send_text("x");
    for _ in 0..50 {
        h.send_text(&"y".repeat(1000));
    }
    let body = expect_post(h.post_ok(id).one()).1;
    assert_eq!(body.matches('\x1e').count(), 49);
}

#[test]
fn an_oversized_packet_goes_alone_and_413_closes_with_transport_error() {
    let (mut h, id) = open_with_max_payload(60);
    h.send_text("x");
    let big = data_of_len('e', 89);
    h.send_text(&big);
    h.send_text("small");
    let body = expect_post(h.post_ok(id).one()).1;
    assert_eq!(body, format!("4{big}"));
    let d = h.post_response(id, 413, "");
    assert_eq!(d.close_reason(), Some("transport error"));
    assert!(
        d.transmits.is_empty(),
        "no `1` after a transport error: {:#?}",
        d.all
    );
    assert_eq!(
        h.client.close_reason(),
        Some(&CloseReason::TransportError(TransportError::HttpStatus {
            request: PollRequest::Post,
            status: 413,
            server_error: None,
        }))
    );
    assert!(
        h.client
            .close_reason()
            .unwrap()
            .to_string()
            .contains("xhr post error (HTTP 413)")
    );
    assert_eq!(h.client.buffered(), 0, "the buffer is dropped on close");
}

#[test]
fn session_id_unknown_is_a_typed_server_error() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.get_response(id, 400, r#"{"code":1,"message":"Session ID unknown"}"#);
    assert_eq!(d.close_reason(), Some("transport error"));
    let expected = CloseReason::TransportError(TransportError::HttpStatus {
        request: PollRequest::Get,
        status: 400,
        server_error: Some(ServerError {
            code: 1,
            message: "Session ID unknown".into(),
        }),
    });
    assert_eq!(d.events.last(), Some(&Event::Close(expected.clone())));
    assert_eq!(
        expected.to_string(),
        "transport error: xhr poll error (HTTP 400): server error 1: Session ID unknown"
    );
    assert!(d.events.contains(&Event::RememberUpgrade(false)));
}

#[test]
fn a_refused_handshake_is_a_transport_error() {
    let mut h = H::new(config());
    let id = expect_get(h.drain().one());
    let d = h.get_response(id, 403, r#"{"code":4,"message":"Forbidden"}"#);
    assert_eq!(d.close_reason(), Some("transport error"));
    assert_eq!(ServerError::parse(br#"{"code":4}"#).unwrap().message, "");
    assert_eq!(ServerError::parse(b"<html>"), None);
}

#[test]
fn a_request_failure_is_a_transport_error() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let now = h.now;
    h.client.handle_transport(
        now,
        id,
        TransportEvent::HttpError {
            request: PollRequest::Get,
            error: engineio_proto::IoError::new(
                engineio_proto::IoErrorKind::Other,
                "connection reset",
            ),
        },
    );
    let d = h.drain();
    assert_eq!(
        d.events.last(),
        Some(&Event::Close(CloseReason::TransportError(
            TransportError::Request {
                request: PollRequest::Get,
                error: engineio_proto::IoError::new(
                    engineio_proto::IoErrorKind::Other,
                    "connection reset"
                ),
            }
        )))
    );
}

#[test]
fn noop_only_triggers_the_next_poll() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.get_ok(id, "6");
    assert!(d.events.is_empty());
    assert_eq!(expect_get(d.one()), id);
}

#[test]
fn a_server_close_packet_is_transport_close() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let d = h.get_ok(id, "4a\x1e1\x1e4b");
    assert_eq!(d.messages(), ["a"], "nothing after the close packet");
    assert_eq!(
        d.events.last(),
        Some(&Event::Close(CloseReason::TransportClose {
            description: "transport closed by the server".into()
        }))
    );
    assert!(d.transmits.is_empty(), "{:#?}", d.all);
}

#[test]
fn undecodable_responses_are_protocol_errors() {
    let cases: [(&str, ProtocolViolation); 4] = [
        (
            "4a\x1e9",
            ProtocolViolation::Decode(engineio_proto::DecodeError::UnknownType(b'9')),
        ),
        (
            "",
            ProtocolViolation::Decode(engineio_proto::DecodeError::Empty),
        ),
        ("0{\"sid\":\"again\"}", ProtocolViolation::UnexpectedOpen),
        (
            "2hello",
            ProtocolViolation::Decode(engineio_proto::DecodeError::UnexpectedData),
        ),
    ];
    for (body, violation) in cases {
        let mut h = H::new(config());
        let id = h.open_polling();
        let d = h.get_ok(id, body);
        assert_eq!(
            d.events.last(),
            Some(&Event::Close(CloseReason::TransportError(
                TransportError::Protocol(violation)
            ))),
            "{body:?}"
        );
        // The server may still believe the session alive: it is told, as the reference's
        // "transport error" close of an open polling transport tells it.
        assert_eq!(expect_post(d.one()), (id, "1".into()), "{body:?}");
    }
}

#[test]
fn a_protocol_violation_says_goodbye_beside_a_post_in_flight_but_not_before_the_handshake() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let post = h.send_text("a");
    assert_eq!(expect_post(post.one()).1, "4a");
    h.at(1_000);
    let d = h.get_ok(id, "9");
    assert_eq!(d.close_reason(), Some("transport error"));
    assert_eq!(expect_post(d.one()), (id, "1".into()));
    // The POST in flight finishing changes nothing: the session is over.
    assert!(h.post_ok(id).all.is_empty());

    // Before the handshake the transport is not open: nothing to say goodbye on (the
    // reference defers its `1` to an open that never comes).
    let mut h = H::new(config());
    let id = expect_get(h.drain().one());
    let d = h.get_ok(id, "9");
    assert_eq!(d.close_reason(), Some("transport error"));
    assert!(d.transmits.is_empty(), "{:#?}", d.all);
}

#[test]
fn a_bad_handshake_is_a_protocol_error() {
    for body in ["4hello", "0", "0{}", "0{\"sid\":\"\"}", "0{\"sid\":1}", "6"] {
        let mut h = H::new(config());
        let id = expect_get(h.drain().one());
        let d = h.get_ok(id, body);
        let Some(Event::Close(CloseReason::TransportError(TransportError::Protocol(v)))) =
            d.events.last()
        else {
            panic!("{body:?}: {:#?}", d.all)
        };
        if body.starts_with('0') {
            assert!(
                matches!(v, ProtocolViolation::InvalidHandshake(_)),
                "{body}"
            );
        } else {
            assert_eq!(v, &ProtocolViolation::ExpectedOpen);
        }
    }
}

#[test]
fn handshake_defaults_for_absent_fields() {
    let h = Handshake::parse(br#"{"sid":"x"}"#).unwrap();
    assert_eq!(h.ping_interval, Duration::from_millis(25_000));
    assert_eq!(h.ping_timeout, Duration::from_millis(20_000));
    assert_eq!(h.max_payload, 0);
    assert!(h.upgrades.is_empty());
    assert_eq!(h.heartbeat_window(), Duration::from_millis(45_000));
}

#[test]
fn reports_for_other_transports_or_requests_not_in_flight_are_ignored() {
    let mut h = H::new(config());
    let id = h.open_polling();
    let stranger = TransportId(id.0 + 100);
    assert!(h.get_ok(stranger, "4x").all.is_empty());
    assert!(h.get_response(stranger, 500, "").all.is_empty());
    // No POST is in flight: a POST response is not ours to take.
    assert!(h.post_ok(id).all.is_empty());
    let first = h.send_text("a");
    expect_post(first.one());
    assert!(h.send_text("b").transmits.is_empty());
    // A WebSocket report about the polling transport is the adapter's mistake.
    assert!(h.ws_text(id, "4x").all.is_empty());
    assert!(h.ws_close(id, None).all.is_empty());
    assert!(h.ws_open(id).all.is_empty());
    assert_eq!(h.client.state(), State::Open);
    // The real POST response releases the batch: still one POST at a time.
    let d = h.post_ok(id);
    assert_eq!(expect_post(d.one()).1, "4b");
    let now = h.now;
    h.client.handle_transport(
        now,
        stranger,
        TransportEvent::HttpError {
            request: PollRequest::Post,
            error: engineio_proto::IoError::new(engineio_proto::IoErrorKind::Other, "x"),
        },
    );
    assert!(h.drain().all.is_empty());
}
