//! The decoder's reassembly state machine and its limits.

use bytes::Bytes;

use super::{binary, json, text};
use crate::codec::{
    Decoder, JsonParser, Limits, Packet, PacketDecoder, PacketKind, ParseError, Parser, Payload,
};

const HEADER2: &str =
    r#"52-/admin,7["baz",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]"#;

#[test]
fn attachments_arrive_in_order() {
    let mut decoder = Decoder::new(Limits::default());
    assert_eq!(decoder.decode(text(HEADER2)), Ok(None));
    assert!(decoder.is_reconstructing());
    assert_eq!(decoder.decode(binary(b"first")), Ok(None));
    let packet = decoder.decode(binary(b"second")).unwrap().unwrap();
    assert!(!decoder.is_reconstructing());
    assert_eq!(
        (packet.kind, packet.nsp.as_str(), packet.id),
        (PacketKind::Event, "/admin", Some(7))
    );
    let data = packet.data.unwrap();
    assert_eq!(
        data.attachments(),
        [Bytes::from_static(b"first"), Bytes::from_static(b"second")]
    );
    // num 1 comes first in the text.
    let (name, a, b): (String, Bytes, Bytes) = data.deserialize().unwrap();
    assert_eq!(
        (name.as_str(), &a[..], &b[..]),
        ("baz", &b"second"[..], &b"first"[..])
    );
}

#[test]
fn text_while_reconstructing_is_an_error_and_resets() {
    let mut decoder = Decoder::new(Limits::default());
    assert_eq!(decoder.decode(text(HEADER2)), Ok(None));
    assert_eq!(decoder.decode(binary(b"x")), Ok(None));
    assert_eq!(
        decoder.decode(text(r#"2["a"]"#)),
        Err(ParseError::UnexpectedText)
    );
    assert!(!decoder.is_reconstructing());
    // The decoder is usable again right away.
    let packet = decoder.decode(text(r#"2["a"]"#)).unwrap().unwrap();
    assert_eq!(packet, Packet::event("/", json(r#"["a"]"#), None));
    // ... and the orphaned attachment of the failed packet is refused.
    assert_eq!(
        decoder.decode(binary(b"y")),
        Err(ParseError::UnexpectedBinary)
    );
}

/// socket.io-parser "should resume decoding after calling destroy()".
#[test]
fn reset_forgets_a_half_received_packet() {
    let mut decoder = Decoder::new(Limits::default());
    assert_eq!(decoder.decode(text(r#"51-["hello"]"#)), Ok(None));
    decoder.reset();
    let packet = decoder.decode(text(r#"2["hello"]"#)).unwrap().unwrap();
    assert_eq!(packet.data.unwrap().event_name().as_deref(), Some("hello"));
}

#[test]
fn errors_leave_the_decoder_idle() {
    let mut decoder = Decoder::new(Limits::default());
    for bad in [
        "999",
        "5",
        r#"2["connect"]"#,
        r#"51-["a",{"_placeholder":true,"num":3}]"#,
    ] {
        assert!(decoder.decode(text(bad)).is_err(), "{bad}");
        assert!(!decoder.is_reconstructing());
        assert!(decoder.decode(text(r#"3[]"#)).unwrap().is_some());
    }
}

#[test]
fn zero_attachments_complete_at_once() {
    let mut decoder = Decoder::new(Limits::default());
    let packet = decoder.decode(text(r#"50-["a"]"#)).unwrap().unwrap();
    assert_eq!(packet, Packet::event("/", json(r#"["a"]"#), None));
    assert!(!decoder.is_reconstructing());
    assert!(!packet.data.unwrap().has_binary());
    // The next text is not taken for "plaintext while reconstructing" (unlike the reference,
    // which keeps its reconstructor in this case).
    assert!(decoder.decode(text(r#"2["b"]"#)).unwrap().is_some());
}

#[test]
fn attachment_bytes_are_bounded_per_packet() {
    let limits = Limits {
        max_attachments: 10,
        max_attachment_bytes: 10,
        ..Limits::default()
    };
    let mut decoder = Decoder::new(limits);
    assert_eq!(decoder.decode(text(HEADER2)), Ok(None));
    assert_eq!(decoder.decode(binary(&[0; 6])), Ok(None));
    assert_eq!(
        decoder.decode(binary(&[0; 5])),
        Err(ParseError::AttachmentsTooLarge { max: 10 })
    );
    assert!(!decoder.is_reconstructing());
    // Exactly at the limit is fine, and the count starts over for each packet.
    for _ in 0..2 {
        assert_eq!(decoder.decode(text(HEADER2)), Ok(None));
        assert_eq!(decoder.decode(binary(&[0; 6])), Ok(None));
        assert!(decoder.decode(binary(&[0; 4])).unwrap().is_some());
    }
}

#[test]
fn packets_follow_each_other() {
    let mut decoder = Decoder::new(Limits::default());
    let mut out = Vec::new();
    let data = Payload::from_serialize(&("a", Bytes::from_static(b"1"))).unwrap();
    let first = Packet::event("/", data.clone(), Some(1));
    let second = Packet::event("/x", json(r#"["b"]"#), None);
    let third = Packet::ack("/", 4, data);
    for packet in [&first, &second, &third] {
        crate::codec::encode(packet, &mut out);
    }
    let decoded: Vec<Packet> = out
        .into_iter()
        .filter_map(|m| decoder.decode(m).unwrap())
        .collect();
    assert_eq!(decoded, vec![first, second, third]);
}

#[test]
fn parser_trait_objects() {
    let parser: Box<dyn Parser> = Box::new(JsonParser);
    let mut decoder: Box<dyn PacketDecoder> = parser.decoder(Limits::default());
    let packet = Packet::event(
        "/",
        Payload::from_serialize(&("a", Bytes::from_static(b"z"))).unwrap(),
        None,
    );
    let mut out = Vec::new();
    parser.encode(&packet, &mut out);
    assert_eq!(decoder.decode(out[0].clone()), Ok(None));
    decoder.reset();
    assert_eq!(
        decoder.decode(out[1].clone()),
        Err(ParseError::UnexpectedBinary)
    );
    assert_eq!(decoder.decode(out[0].clone()), Ok(None));
    assert_eq!(decoder.decode(out[1].clone()), Ok(Some(packet)));
}

#[test]
fn limits_default_to_the_reference() {
    let limits = Limits::default();
    assert_eq!(limits.max_attachments, 10);
    assert_eq!(limits.max_attachment_bytes, 100 * 1024 * 1024);
}
