//! Golden vectors: shared/reference/protocol.md section 2.2 and the socket.io-parser tests.

use bytes::Bytes;
use engineio_proto::Message;

use super::{binary, decode_all, decode_text, encode_all, json, text};
use crate::codec::{Packet, PacketKind, Payload};

fn bin(b: &'static [u8]) -> Bytes {
    Bytes::from_static(b)
}

/// (packet, its text message, its attachments) — encode gives exactly these messages and
/// decoding them gives the packet back.
fn vectors() -> Vec<(Packet, &'static str, Vec<&'static [u8]>)> {
    vec![
        (Packet::connect("/", None), "0", vec![]),
        (
            Packet::connect("/", Some(json(r#"{"token":"123"}"#))),
            r#"0{"token":"123"}"#,
            vec![],
        ),
        (Packet::connect("/admin", None), "0/admin,", vec![]),
        (
            Packet::connect("/admin", Some(json(r#"{"token":"abc"}"#))),
            r#"0/admin,{"token":"abc"}"#,
            vec![],
        ),
        (
            Packet::connect("/", Some(json(r#"{"sid":"wZX3oN0bSVIhsaknAAAI"}"#))),
            r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
            vec![],
        ),
        (
            Packet::connect(
                "/",
                Some(json(
                    r#"{"sid":"3AJoW4ArLGb-SgisAAAA","pid":"Ljut4XbUc3FpTvMOAAAB"}"#,
                )),
            ),
            r#"0{"sid":"3AJoW4ArLGb-SgisAAAA","pid":"Ljut4XbUc3FpTvMOAAAB"}"#,
            vec![],
        ),
        (
            Packet::connect_error(
                "/private",
                json(r#"{"message":"not authorized","data":{"reason":"token expired"}}"#),
            ),
            r#"4/private,{"message":"not authorized","data":{"reason":"token expired"}}"#,
            vec![],
        ),
        (
            Packet::connect_error("/unknown", json(r#"{"message":"Invalid namespace"}"#)),
            r#"4/unknown,{"message":"Invalid namespace"}"#,
            vec![],
        ),
        // socket.io-parser "encodes an connect error"
        (
            Packet::connect_error("/", json(r#""Unauthorized""#)),
            r#"4"Unauthorized""#,
            vec![],
        ),
        (
            Packet::event("/", json(r#"["foo"]"#), None),
            r#"2["foo"]"#,
            vec![],
        ),
        (
            Packet::event("/admin", json(r#"["bar"]"#), None),
            r#"2/admin,["bar"]"#,
            vec![],
        ),
        (
            Packet::event("/", json(r#"["foo"]"#), Some(12)),
            r#"212["foo"]"#,
            vec![],
        ),
        (
            Packet::event("/admin", json(r#"["tellme"]"#), Some(1)),
            r#"2/admin,1["tellme"]"#,
            vec![],
        ),
        // socket.io-parser "encodes an event (with an integer as event name)"
        (
            Packet::event("/", json(r#"[1,"a",{}]"#), None),
            r#"2[1,"a",{}]"#,
            vec![],
        ),
        (
            Packet::event("/", json(r#"[1,"a"]"#), None),
            r#"2[1,"a"]"#,
            vec![],
        ),
        (
            Packet::event("/", json(r#"["echo","buffered-before-connect"]"#), Some(0)),
            r#"20["echo","buffered-before-connect"]"#,
            vec![],
        ),
        (
            Packet::ack("/", 12, json(r#"["bar"]"#)),
            r#"312["bar"]"#,
            vec![],
        ),
        (
            Packet::ack("/admin", 13, json(r#"["bar"]"#)),
            r#"3/admin,13["bar"]"#,
            vec![],
        ),
        (Packet::ack("/", 0, json("[]")), "30[]", vec![]),
        (
            Packet::ack("/", 0, json(r#"["buffered-before-connect"]"#)),
            r#"30["buffered-before-connect"]"#,
            vec![],
        ),
        (
            Packet::event(
                "/",
                Payload::from_serialize(&("baz", bin(b"\x01\x02\x03\x04"))).unwrap(),
                None,
            ),
            r#"51-["baz",{"_placeholder":true,"num":0}]"#,
            vec![b"\x01\x02\x03\x04"],
        ),
        (
            Packet::event(
                "/admin",
                Payload::from_serialize(&("baz", bin(b"\x01"), bin(b"\x02\x03"))).unwrap(),
                None,
            ),
            r#"52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            vec![b"\x01", b"\x02\x03"],
        ),
        (
            Packet::event(
                "/admin",
                Payload::from_serialize(&("baz", bin(b"\x01"), bin(b"\x02"))).unwrap(),
                Some(789),
            ),
            r#"52-/admin,789["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
            vec![b"\x01", b"\x02"],
        ),
        (
            Packet::event(
                "/",
                Payload::from_serialize(&("bin", bin(b"\x09\x09"))).unwrap(),
                Some(1),
            ),
            r#"51-1["bin",{"_placeholder":true,"num":0}]"#,
            vec![b"\x09\x09"],
        ),
        (
            Packet::ack(
                "/",
                15,
                Payload::from_serialize(&("bar", bin(b"\x01\x02\x03"))).unwrap(),
            ),
            r#"61-15["bar",{"_placeholder":true,"num":0}]"#,
            vec![b"\x01\x02\x03"],
        ),
        (
            Packet::ack(
                "/",
                1,
                Payload::from_serialize(&(bin(b"\x01\x02\x03"),)).unwrap(),
            ),
            r#"61-1[{"_placeholder":true,"num":0}]"#,
            vec![b"\x01\x02\x03"],
        ),
        (Packet::disconnect("/"), "1", vec![]),
        (Packet::disconnect("/admin"), "1/admin,", vec![]),
    ]
}

#[test]
fn encodes_reference_vectors() {
    for (packet, expected_text, attachments) in vectors() {
        let mut expected = vec![text(expected_text)];
        expected.extend(attachments.iter().map(|b| binary(b)));
        assert_eq!(encode_all(&packet), expected, "encoding {packet:?}");
    }
}

#[test]
fn decodes_reference_vectors() {
    for (packet, text_message, attachments) in vectors() {
        let mut messages = vec![text(text_message)];
        messages.extend(attachments.iter().map(|b| binary(b)));
        assert_eq!(decode_all(&messages), Ok(packet), "decoding {text_message}");
    }
}

#[test]
fn namespace_comma_is_optional_at_the_end() {
    let expected = Some(Packet::connect("/custom", None));
    assert_eq!(decode_text("0/custom"), Ok(expected.clone()));
    assert_eq!(decode_text("0/custom,"), Ok(expected));
    assert_eq!(
        decode_text("1/admin"),
        Ok(Some(Packet::disconnect("/admin")))
    );
    // "/" written explicitly is the main namespace.
    assert_eq!(
        decode_text(r#"2/,["a"]"#),
        Ok(Some(Packet::event("/", json(r#"["a"]"#), None)))
    );
}

#[test]
fn binary_kinds_decode_to_event_and_ack() {
    let packet = decode_all(&[
        text(r#"51-["a",{"_placeholder":true,"num":0}]"#),
        binary(b"x"),
    ])
    .unwrap();
    assert_eq!(packet.kind, PacketKind::Event);
    let packet = decode_text("60-[]").unwrap().unwrap();
    assert_eq!((packet.kind, packet.id), (PacketKind::Ack, None));
    // A binary packet without attachments re-encodes as a plain one (the same packet).
    assert_eq!(encode_all(&packet), vec![text("3[]")]);
}

#[test]
fn ack_ids_use_the_full_u64_range() {
    let packet = decode_text(r#"218446744073709551615["a"]"#)
        .unwrap()
        .unwrap();
    assert_eq!(packet.id, Some(u64::MAX));
    assert_eq!(
        encode_all(&packet),
        vec![text(r#"218446744073709551615["a"]"#)]
    );
    // Leading zeros read as the number.
    assert_eq!(decode_text(r#"2007["a"]"#).unwrap().unwrap().id, Some(7));
}

#[test]
fn payload_is_a_zero_copy_slice_of_the_message() {
    let frame = Bytes::from_static(br#"2/admin,1["tellme",{"x":1}]"#);
    let packet = decode_all(&[Message::Text(frame.clone())]).unwrap();
    let json = packet.data.as_ref().unwrap().json();
    assert_eq!(json, br#"["tellme",{"x":1}]"#);
    assert_eq!(json.as_ptr(), frame[9..].as_ptr());
}

#[test]
fn whitespace_around_the_payload_is_kept() {
    let packet = decode_text("2 [ \"a\" , 1 ] ").unwrap().unwrap();
    assert_eq!(
        packet.data.as_ref().unwrap().event_name().as_deref(),
        Some("a")
    );
    assert_eq!(encode_all(&packet), vec![text("2 [ \"a\" , 1 ] ")]);
}

#[test]
fn empty_namespace_is_not_written() {
    let packet = Packet::event("", json(r#"["a"]"#), None);
    assert_eq!(encode_all(&packet), vec![text(r#"2["a"]"#)]);
}

#[test]
fn attachments_of_non_event_packets_are_not_sent() {
    let auth = Payload::from_serialize(&serde_json::json!({"k": 1})).unwrap();
    let mut packet = Packet::connect("/", Some(auth));
    assert_eq!(encode_all(&packet), vec![text(r#"0{"k":1}"#)]);
    packet.data = Some(Payload::from_serialize(&(bin(b"\x01"),)).unwrap());
    assert_eq!(
        encode_all(&packet),
        vec![text(r#"0[{"_placeholder":true,"num":0}]"#)]
    );
}
