//! The packet and payload codec against the reference vectors (engine.io-parser tests and the
//! captured bytes of protocol.md 1.2-1.3).

use bytes::Bytes;
use engineio_proto::packet::{RECORD_SEPARATOR, decode_payload, encode_payload};
use engineio_proto::{DecodeError, Message, Packet, PacketType};

fn text(s: &str) -> Packet {
    Packet::Message(Message::text(s))
}

fn binary(b: &[u8]) -> Packet {
    Packet::Message(Message::Binary(Bytes::copy_from_slice(b)))
}

fn decode(s: &str) -> Result<Packet, DecodeError> {
    Packet::decode_text(Bytes::copy_from_slice(s.as_bytes()))
}

fn encode(p: &Packet) -> String {
    String::from_utf8(p.to_text().to_vec()).unwrap()
}

fn payload(s: &[u8]) -> Vec<Result<Packet, DecodeError>> {
    decode_payload(Bytes::copy_from_slice(s)).collect()
}

#[test]
fn every_packet_type_encodes_to_its_character() {
    let open = r#"{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
    let vectors: Vec<(Packet, String)> = vec![
        (Packet::Open(Bytes::from(open)), format!("0{open}")),
        (Packet::Close, "1".into()),
        (Packet::Ping { probe: false }, "2".into()),
        (Packet::Pong { probe: false }, "3".into()),
        (text("hello"), "4hello".into()),
        (text(""), "4".into()),
        (Packet::Upgrade, "5".into()),
        (Packet::Noop, "6".into()),
        (Packet::Ping { probe: true }, "2probe".into()),
        (Packet::Pong { probe: true }, "3probe".into()),
    ];
    for (packet, wire) in vectors {
        assert_eq!(encode(&packet), wire, "{packet:?}");
        assert_eq!(packet.encoded_text_len(), wire.len());
        assert_eq!(decode(&wire), Ok(packet.clone()), "{wire}");
    }
}

#[test]
fn packet_type_characters_round_trip() {
    for c in b'0'..=b'6' {
        let ty = PacketType::from_char(c).unwrap();
        assert_eq!(ty.as_char(), c);
    }
    assert_eq!(PacketType::from_char(b'7'), None);
    assert_eq!(PacketType::from_char(b'b'), None);
    assert_eq!(text("x").packet_type(), PacketType::Message);
    assert_eq!(binary(&[1]).packet_type(), PacketType::Message);
}

#[test]
fn binary_is_b_plus_base64_in_text_and_raw_on_websocket() {
    let packet = binary(&[1, 2, 3, 4]);
    assert_eq!(encode(&packet), "bAQIDBA==");
    assert_eq!(packet.encoded_text_len(), "bAQIDBA==".len());
    assert_eq!(decode("bAQIDBA=="), Ok(packet.clone()));
    assert_eq!(
        Packet::decode_binary(Bytes::from_static(&[1, 2, 3, 4])),
        packet
    );
    // An empty binary message is `b` alone.
    assert_eq!(encode(&binary(&[])), "b");
    assert_eq!(decode("b"), Ok(binary(&[])));
    // A binary frame is a message even when it looks like a packet type.
    assert_eq!(
        Packet::decode_binary(Bytes::from_static(b"2probe")),
        binary(b"2probe")
    );
}

#[test]
fn multibyte_utf8_text_is_kept_byte_for_byte() {
    let s = "4пойду спать всем спокойной ночи €";
    let p = decode(s).unwrap();
    assert_eq!(p, text("пойду спать всем спокойной ночи €"));
    assert_eq!(encode(&p), s);
    assert_eq!(p.encoded_text_len(), s.len());
}

#[test]
fn decoded_text_is_a_slice_of_the_frame() {
    let frame = Bytes::from_static(b"4hello");
    let Packet::Message(Message::Text(data)) = Packet::decode_text(frame.clone()).unwrap() else {
        panic!()
    };
    assert_eq!(data.as_ptr(), frame[1..].as_ptr(), "no copy");
}

#[test]
fn data_on_packets_that_carry_none_is_ignored_like_the_reference() {
    // The reference decodes `1x`, `5x`, `6x` to their types and drops the data.
    assert_eq!(decode("1xyz"), Ok(Packet::Close));
    assert_eq!(decode("5x"), Ok(Packet::Upgrade));
    assert_eq!(decode("6x"), Ok(Packet::Noop));
}

#[test]
fn malformed_packets_give_typed_errors() {
    assert_eq!(decode(""), Err(DecodeError::Empty));
    assert_eq!(decode("7"), Err(DecodeError::UnknownType(b'7')));
    assert_eq!(decode("abc"), Err(DecodeError::UnknownType(b'a')));
    assert_eq!(decode("{}"), Err(DecodeError::UnknownType(b'{')));
    assert_eq!(decode("b!!!"), Err(DecodeError::InvalidBase64));
    assert_eq!(
        decode("bAQIDBA"),
        Err(DecodeError::InvalidBase64),
        "padding required"
    );
    assert_eq!(decode("2hello"), Err(DecodeError::UnexpectedData));
    assert_eq!(decode("3probes"), Err(DecodeError::UnexpectedData));
    assert_eq!(
        Packet::decode_text(Bytes::from_static(b"4\xff\xfe")),
        Err(DecodeError::InvalidUtf8)
    );
    // Errors say what is wrong.
    assert_eq!(
        DecodeError::UnknownType(b'7').to_string(),
        "unknown Engine.IO packet type '7'"
    );
}

#[test]
fn payload_of_the_captured_get_response() {
    // protocol.md 1.3: a Socket.IO CONNECT reply and a binary event with its attachment.
    let wire = b"40{\"sid\":\"hzMUBRas4q7N7nqMAAAA\"}\x1e451-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1ebAQIDBA==";
    let packets = vec![
        text(r#"0{"sid":"hzMUBRas4q7N7nqMAAAA"}"#),
        text(r#"51-["bin",{"_placeholder":true,"num":0}]"#),
        binary(&[1, 2, 3, 4]),
    ];
    assert_eq!(
        payload(wire),
        packets.iter().cloned().map(Ok).collect::<Vec<_>>()
    );
    assert_eq!(&encode_payload(&packets)[..], &wire[..]);
}

#[test]
fn payload_of_the_captured_post_with_a_euro_sign() {
    // protocol.md 1.3: `€` is E2 82 AC on the wire.
    let wire = "42[\"b\",\"€\"]\x1e451-[\"c\",{\"_placeholder\":true,\"num\":0}]\x1ebBQY=";
    assert!(wire.as_bytes().windows(3).any(|w| w == [0xe2, 0x82, 0xac]));
    let packets = vec![
        text(r#"2["b","€"]"#),
        text(r#"51-["c",{"_placeholder":true,"num":0}]"#),
        binary(&[5, 6]),
    ];
    assert_eq!(
        payload(wire.as_bytes()),
        packets.iter().cloned().map(Ok).collect::<Vec<_>>()
    );
    assert_eq!(&encode_payload(&packets)[..], wire.as_bytes());
}

#[test]
fn payloads_of_every_packet_type() {
    let packets = vec![
        Packet::Open(Bytes::from_static(b"{\"sid\":\"x\"}")),
        Packet::Close,
        Packet::Ping { probe: false },
        Packet::Pong { probe: true },
        text("test"),
        Packet::Upgrade,
        Packet::Noop,
        binary(&[0, 255]),
    ];
    let wire = encode_payload(&packets);
    assert_eq!(
        &wire[..],
        b"0{\"sid\":\"x\"}\x1e1\x1e2\x1e3probe\x1e4test\x1e5\x1e6\x1eb AP8=".replace_space()
    );
    assert_eq!(
        payload(&wire),
        packets.into_iter().map(Ok).collect::<Vec<_>>()
    );
}

/// `b AP8=` reads better in the vector above; drop the space.
trait ReplaceSpace {
    fn replace_space(&self) -> Vec<u8>;
}

impl ReplaceSpace for [u8] {
    fn replace_space(&self) -> Vec<u8> {
        self.iter().copied().filter(|&b| b != b' ').collect()
    }
}

#[test]
fn the_protocol_test_suite_payloads() {
    assert_eq!(
        payload(b"4test1\x1e4test2\x1e4test3"),
        vec![Ok(text("test1")), Ok(text("test2")), Ok(text("test3"))]
    );
    assert_eq!(
        payload(b"4hello\x1ebAQIDBA=="),
        vec![Ok(text("hello")), Ok(binary(&[1, 2, 3, 4]))]
    );
    assert_eq!(
        encode_payload(&[text("hello"), binary(&[1, 2, 3, 4])]),
        &b"4hello\x1ebAQIDBA=="[..]
    );
}

#[test]
fn a_single_packet_payload_has_no_separator() {
    assert_eq!(encode_payload(&[Packet::Pong { probe: false }]), &b"3"[..]);
    assert_eq!(payload(b"2"), vec![Ok(Packet::Ping { probe: false })]);
    assert!(!encode_payload(&[text("x")]).contains(&RECORD_SEPARATOR));
}

#[test]
fn malformed_payloads_stop_at_the_first_bad_record() {
    assert_eq!(payload(b""), vec![Err(DecodeError::Empty)]);
    assert_eq!(
        payload(b"4a\x1e"),
        vec![Ok(text("a")), Err(DecodeError::Empty)]
    );
    assert_eq!(payload(b"\x1e4a"), vec![Err(DecodeError::Empty)]);
    assert_eq!(
        payload(b"4a\x1e9b\x1e4c"),
        vec![Ok(text("a")), Err(DecodeError::UnknownType(b'9'))],
        "nothing after the error"
    );
    assert_eq!(
        payload(b"4a\x1eb%%\x1e4c"),
        vec![Ok(text("a")), Err(DecodeError::InvalidBase64)]
    );
    // The body is UTF-8 as a whole or nothing of it is taken.
    assert_eq!(payload(b"4a\x1e4\xff"), vec![Err(DecodeError::InvalidUtf8)]);
    assert_eq!(payload(b"abc"), vec![Err(DecodeError::UnknownType(b'a'))]);
}

#[test]
fn payload_records_keep_multibyte_text_whole() {
    // The body is checked as UTF-8 once; its records are not checked again, so each must
    // still come out as the whole characters it holds (a separator never splits one).
    assert_eq!(
        payload("4é\x1e4€😀\x1e4ü".as_bytes()),
        vec![Ok(text("é")), Ok(text("€😀")), Ok(text("ü"))]
    );
    // A lone separator byte inside a multibyte sequence is not UTF-8: refused whole.
    assert_eq!(
        payload(b"4\xc3\x1e\xa94a"),
        vec![Err(DecodeError::InvalidUtf8)]
    );
}
