//! Engine.IO 3 (`EIO=3`, socket.io 2.x): the client pings and the server pongs, `<length>:`
//! payloads counted in UTF-16 units, binary payloads, `b4` base64, type-prefixed binary
//! frames, and detection of the server's revision.

use std::time::Duration;

use bytes::Bytes;
use engineio_proto::v3;
use engineio_proto::{
    CloseReason, EngineProtocol, Event, HttpResponse, Message, Packet, PollRequest,
    ProtocolViolation, ServerProtocol, State, TransportError, TransportEvent, TransportKind,
    WsFrame,
};

use crate::support::*;

/// A socket.io 2.x handshake: no maxPayload, pingTimeout 5000.
fn open_v3(upgrades: &[&str]) -> String {
    let upgrades: Vec<String> = upgrades.iter().map(|u| format!("{u:?}")).collect();
    format!(
        r#"0{{"sid":"{SID}","upgrades":[{}],"pingInterval":25000,"pingTimeout":5000}}"#,
        upgrades.join(",")
    )
}

/// Frames `packets` as a v3 text payload, lengths in UTF-16 units.
fn framed(packets: &[&str]) -> String {
    packets
        .iter()
        .map(|p| format!("{}:{p}", p.encode_utf16().count()))
        .collect()
}

fn config_v(protocol: EngineProtocol) -> engineio_proto::Config {
    let mut c = config();
    c.protocol = protocol;
    c
}

/// A v3 polling session opened at t = 0 (the 2.x server's `40` rides along).
fn open_polling(protocol: EngineProtocol) -> (H, engineio_proto::TransportId, Drained) {
    let mut h = H::new(config_v(protocol));
    let (id, d) = h.handshake_polling(&framed(&[&open_v3(&[]), "40"]));
    assert_eq!(h.client.state(), State::Open, "{:#?}", d.all);
    assert_eq!(h.client.protocol(), EngineProtocol::V3);
    (h, id, d)
}

#[test]
fn the_handshake_asks_for_eio_3() {
    let mut h = H::new(config_v(EngineProtocol::V3));
    let d = h.drain();
    assert!(query(url_of(d.one())).contains(&("EIO".into(), "3".into())));
    let mut h = H::new(config_v(EngineProtocol::Detect));
    let d = h.drain();
    assert!(query(url_of(d.one())).contains(&("EIO".into(), "4".into())));
}

#[test]
fn a_framed_handshake_opens_and_delivers_the_implicit_connect() {
    let (_, _, d) = open_polling(EngineProtocol::V3);
    assert!(matches!(d.events[1], Event::Open(ref hs) if hs.max_payload == 0));
    assert_eq!(d.messages(), ["0"]);
}

#[test]
fn detection_reads_a_v3_answer_as_v3() {
    let (h, _, d) = open_polling(EngineProtocol::Detect);
    assert_eq!(d.messages(), ["0"]);
    // Later requests ask for what the server speaks.
    let get = d.transmits.last().unwrap();
    assert!(query(url_of(get)).contains(&("EIO".into(), "3".into())));
    assert_eq!(h.client.protocol(), EngineProtocol::V3);
}

#[test]
fn detection_reads_a_v4_answer_as_v4() {
    let mut h = H::new(config_v(EngineProtocol::Detect));
    let (_, d) = h.handshake_polling(&open_polling_only());
    assert!(matches!(d.events.last(), Some(Event::Open(_))));
    assert_eq!(h.client.protocol(), EngineProtocol::V4);
}

#[test]
fn a_v4_client_names_a_v3_server() {
    let mut h = H::new(config());
    let (_, d) = h.handshake_polling(&framed(&[&open_v3(&[])]));
    let Some(Event::Close(CloseReason::TransportError(TransportError::Protocol(v)))) =
        d.events.last()
    else {
        panic!("{:#?}", d.all)
    };
    assert_eq!(
        *v,
        ProtocolViolation::WrongProtocol {
            requested: EngineProtocol::V4,
            answered: ServerProtocol::EngineIo3
        }
    );
    assert!(
        v.to_string().contains("set the protocol option to 3"),
        "{v}"
    );
}

#[test]
fn a_v3_client_names_a_v4_server_and_detection_names_neither() {
    let mut h = H::new(config_v(EngineProtocol::V3));
    let (_, d) = h.handshake_polling(&open_polling_only());
    assert!(
        format!("{:?}", d.events.last()).contains("EngineIo4"),
        "{:#?}",
        d.all
    );
    let mut h = H::new(config_v(EngineProtocol::Detect));
    let (_, d) = h.handshake_polling("<html>hello</html>");
    let Some(Event::Close(CloseReason::TransportError(TransportError::Protocol(v)))) =
        d.events.last()
    else {
        panic!("{:#?}", d.all)
    };
    assert!(matches!(
        v,
        ProtocolViolation::WrongProtocol {
            answered: ServerProtocol::Unrecognized(head),
            ..
        } if head == "<html>hello</html>"
    ));
}

#[test]
fn the_client_pings_and_the_server_pongs() {
    let (mut h, id, _) = open_polling(EngineProtocol::V3);
    // First ping at pingInterval; the deadline is interval + timeout until then.
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(25_000))
    );
    h.at(25_000);
    let d = h.timeout();
    assert_eq!(expect_post(d.one()), (id, "1:2".into()));
    // Now the pong must come within pingTimeout.
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(30_000))
    );
    h.post_ok(id);
    h.at(26_000);
    let d = h.get_ok(id, "1:3");
    assert_eq!(d.events, [Event::Ping]);
    // The next ping goes out a pingInterval after the pong.
    assert_eq!(
        h.client.poll_timeout(),
        Some(h.t0 + Duration::from_millis(51_000))
    );
    h.at(51_000);
    let d = h.timeout();
    assert_eq!(expect_post(d.one()).1, "1:2");
}

#[test]
fn a_missing_pong_is_a_ping_timeout() {
    let (mut h, id, _) = open_polling(EngineProtocol::V3);
    h.at(25_000);
    h.timeout();
    h.post_ok(id);
    h.at(30_000);
    let d = h.timeout();
    assert_eq!(d.close_reason(), Some("ping timeout"));
    assert_eq!(h.client.state(), State::Closed);
}

#[test]
fn a_server_ping_is_not_answered_in_v3() {
    let (mut h, id, _) = open_polling(EngineProtocol::V3);
    h.at(1_000);
    let d = h.get_ok(id, "1:2");
    assert!(d.events.is_empty(), "{:#?}", d.all);
    assert_eq!(d.transmits.len(), 1, "only the next GET: {:#?}", d.all);
}

#[test]
fn posts_are_framed_with_utf16_lengths_and_b4_base64() {
    let (mut h, id, _) = open_polling(EngineProtocol::V3);
    let d = h.send_text("é😀");
    assert_eq!(expect_post(d.one()), (id, "4:4é😀".into()));
    let now = h.now;
    h.client
        .send(now, Message::Binary(Bytes::from_static(&[1, 2, 3])))
        .unwrap();
    h.client.send(now, Message::text("x")).unwrap();
    assert!(h.drain().transmits.is_empty(), "one POST in flight");
    let d = h.post_ok(id);
    assert_eq!(expect_post(d.one()), (id, "6:b4AQID2:4x".into()));
}

#[test]
fn binary_payloads_from_the_server_decode() {
    let (mut h, id, _) = open_polling(EngineProtocol::V3);
    // `451-["b",{...}]` as text, then the attachment as binary (type byte 4 + data).
    let text = br#"451-["b",{"_placeholder":true,"num":0}]"#;
    let mut body = vec![0u8];
    body.extend(text.len().to_string().bytes().map(|d| d - b'0'));
    body.push(255);
    body.extend_from_slice(text);
    body.extend_from_slice(&[1, 4, 255, 4, 9, 8, 7]);
    let now = h.now;
    h.client.handle_transport(
        now,
        id,
        TransportEvent::HttpResponse {
            request: PollRequest::Get,
            response: HttpResponse::new(200, body),
        },
    );
    let d = h.drain();
    assert_eq!(
        d.messages(),
        [r#"51-["b",{"_placeholder":true,"num":0}]"#, "09 08 07"]
    );
}

#[test]
fn a_bad_payload_fails_after_the_good_records() {
    let (mut h, id, _) = open_polling(EngineProtocol::V3);
    let d = h.get_ok(id, "2:4a9:4b");
    assert_eq!(d.messages(), ["a"]);
    assert_eq!(d.close_reason(), Some("transport error"));
    // engine.io-client 3.x turns the bad record into an error packet, closes, and its
    // polling transport writes the (framed) close packet.
    assert_eq!(expect_post(d.one()), (id, "1:1".into()));
}

#[test]
fn the_close_post_is_framed() {
    let (mut h, id, _) = open_polling(EngineProtocol::V3);
    let now = h.now;
    h.client.close(now);
    let d = h.drain();
    assert_eq!(expect_post(&d.transmits[0]), (id, "1:1".into()));
}

#[test]
fn websocket_binary_frames_carry_the_type_byte() {
    let mut c = config_v(EngineProtocol::V3);
    c.transports = vec![TransportKind::WebSocket];
    let mut h = H::new(c);
    let id = expect_ws_open(h.drain().one());
    h.ws_open(id);
    let d = h.ws_text(id, &open_v3(&[]));
    assert!(matches!(d.events.last(), Some(Event::Open(_))));
    let now = h.now;
    h.client.handle_transport(
        now,
        id,
        TransportEvent::WsFrame(WsFrame::Binary(Bytes::from_static(&[4, 1, 2]))),
    );
    assert_eq!(h.drain().messages(), ["01 02"]);
    h.client
        .send(now, Message::Binary(Bytes::from_static(&[5, 6])))
        .unwrap();
    assert_eq!(expect_ws_send(h.drain().one()).1, "<04 05 06>");
    // The heartbeat goes out as a text frame.
    h.at(25_000);
    assert_eq!(expect_ws_send(h.timeout().one()).1, "2");
}

#[test]
fn websocket_detection_uses_max_payload_and_a_server_ping() {
    let mut c = config_v(EngineProtocol::Detect);
    c.transports = vec![TransportKind::WebSocket];
    // With maxPayload: v4.
    let mut h = H::new(c.clone());
    let id = expect_ws_open(h.drain().one());
    h.ws_open(id);
    h.ws_text(id, &open_packet(&[], 25_000, 20_000, 1_000_000));
    assert_eq!(h.client.protocol(), EngineProtocol::V4);
    // Without: v3 until the server pings, which only a v4 server does.
    let mut h = H::new(c);
    let id = expect_ws_open(h.drain().one());
    h.ws_open(id);
    h.ws_text(id, &open_packet(&[], 25_000, 20_000, 0));
    assert_eq!(h.client.protocol(), EngineProtocol::V3);
    h.at(24_990);
    let d = h.ws_text(id, "2");
    assert_eq!(h.client.protocol(), EngineProtocol::V4);
    assert_eq!(d.events, [Event::Ping]);
    assert_eq!(expect_ws_send(d.one()).1, "3");
    // No v3 ping follows.
    h.at(25_000);
    assert!(h.timeout().all.is_empty());
}

#[test]
fn the_upgrade_works_in_v3() {
    let mut h = H::new(config_v(EngineProtocol::V3));
    let (poll, d) = h.handshake_polling(&framed(&[&open_v3(&["websocket"])]));
    let ws = expect_ws_open(&d.transmits[0]);
    h.ws_open(ws);
    let d = h.ws_text(ws, "3probe");
    // The parked GET is released by the server's noop.
    assert!(d.transmits.is_empty(), "{:#?}", d.all);
    let d = h.get_ok(poll, "1:6");
    assert_eq!(expect_ws_send(d.one()).1, "5");
    assert_eq!(h.client.transport(), Some(TransportKind::WebSocket));
}

#[test]
fn codec_round_trips() {
    let packets = [
        Packet::Message(Message::text("hello")),
        Packet::Message(Message::Binary(Bytes::from_static(&[0, 255]))),
        Packet::Ping { probe: false },
        Packet::Close,
    ];
    let body = v3::encode_payload(&packets);
    assert_eq!(&body[..], b"6:4hello6:b4AP8=1:21:1");
    let back: Vec<_> = v3::decode_payload(body).map(Result::unwrap).collect();
    assert_eq!(back, packets);
    assert_eq!(&v3::encode_payload([])[..], b"0:");
    assert_eq!(v3::decode_payload(Bytes::from_static(b"0:")).count(), 0);
}
