//! Byte-level compatibility with socket.io-msgpack-parser (vectors produced by its encoder,
//! notepack.io, in Node), and round trips.

use bytes::Bytes;
use engineio_proto::Message;
use proptest::prelude::*;
use socketio_msgpack::MsgPackParser;
use socketio_proto::codec::{Limits, Packet, PacketKind, ParseError, Parser, Payload};

fn hex(s: &str) -> Bytes {
    Bytes::from(
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect::<Vec<u8>>(),
    )
}

fn decode(bytes: Bytes) -> Result<Packet, ParseError> {
    let mut decoder = MsgPackParser.decoder(Limits::default());
    decoder
        .decode(Message::Binary(bytes))
        .map(|p| p.expect("one message is one packet"))
}

fn encode(packet: &Packet) -> Bytes {
    let mut out = Vec::new();
    MsgPackParser.encode(packet, &mut out);
    assert_eq!(out.len(), 1, "one binary message per packet");
    match out.pop() {
        Some(Message::Binary(b)) => b,
        other => panic!("{other:?}"),
    }
}

#[test]
fn decodes_what_the_node_parser_encodes() {
    // {type:2, data:["hello",1], nsp:"/"}
    let p = decode(hex("83a47479706502a46461746192a568656c6c6f01a36e7370a12f")).expect("event");
    assert_eq!(
        (p.kind, p.nsp.as_str(), p.id),
        (PacketKind::Event, "/", None)
    );
    assert_eq!(p.data.expect("data").json(), br#"["hello",1]"#);

    // {type:2, data:["bin", <01 02 03>, {nested: <04>}], nsp:"/chat", id:7}
    let p = decode(hex(
        "84a47479706502a46461746193a362696ec40301020381a66e6573746564c40104a36e7370a52f63686174a2696407",
    ))
    .expect("binary event");
    assert_eq!((p.nsp.as_str(), p.id), ("/chat", Some(7)));
    let data = p.data.expect("data");
    #[derive(serde::Deserialize)]
    struct Nested {
        nested: Bytes,
    }
    let (name, first, nested): (String, Bytes, Nested) = data.deserialize().expect("typed");
    assert_eq!(
        (name.as_str(), &first[..], &nested.nested[..]),
        ("bin", &[1u8, 2, 3][..], &[4u8][..])
    );

    // {type:0, data:{sid:"abc"}, nsp:"/"}
    let p = decode(hex(
        "83a47479706500a46461746181a3736964a3616263a36e7370a12f",
    ))
    .expect("connect");
    assert_eq!(p.kind, PacketKind::Connect);
    assert_eq!(p.data.expect("data").json(), br#"{"sid":"abc"}"#);

    // {type:0, data:{sid:"abc", pid:undefined}, nsp:"/"}: notepack's undefined is absent.
    let p = decode(hex(
        "83a47479706500a46461746182a3736964a3616263a3706964d40000a36e7370a12f",
    ))
    .expect("connect with undefined pid");
    assert_eq!(p.data.expect("data").json(), br#"{"sid":"abc"}"#);

    // {type:4, data:{message:"not authorized", data:{reason:"x"}}, nsp:"/admin"}
    let p = decode(hex(
        "83a47479706504a46461746182a76d657373616765ae6e6f7420617574686f72697a6564a46461746181a6726561736f6ea178a36e7370a62f61646d696e",
    ))
    .expect("connect error");
    assert_eq!(
        (p.kind, p.nsp.as_str()),
        (PacketKind::ConnectError, "/admin")
    );
}

#[test]
fn refuses_what_the_node_parser_refuses() {
    let cases = [
        "c0",                                     // nil: not a map
        "81a474797065a6737472696e67",             // {type:"string"}
        "82a47479706509a36e7370a12f",             // {type:9, nsp:"/"}
        "81a47479706502",                         // {type:2} without nsp
        "83a47479706502a46461746180a36e7370a12f", // event with an object payload
        "82a47479706502a36e7370a12f",             // event without data
        "83a47479706501a46461746190a36e7370a12f", // disconnect with data
        "c1",                                     // never-used msgpack byte
        "",                                       // nothing
    ];
    for case in cases {
        assert!(decode(hex(case)).is_err(), "{case} decoded");
    }
    let mut decoder = MsgPackParser.decoder(Limits::default());
    assert_eq!(
        decoder.decode(Message::text("2[\"x\"]")),
        Err(ParseError::UnexpectedText)
    );
}

#[test]
fn binary_travels_inside_the_one_message() {
    let payload =
        Payload::from_serialize(&("file", Bytes::from_static(&[9, 8, 7]))).expect("payload");
    let packet = Packet::event("/", payload, Some(3));
    let bytes = encode(&packet);
    let back = decode(bytes).expect("decode");
    assert_eq!(back, packet);
}

proptest! {
    #[test]
    fn round_trips(
        nsp in "/[a-z]{0,8}",
        id in proptest::option::of(any::<u64>()),
        words in proptest::collection::vec("[a-zA-Z0-9 ]{0,12}", 0..4),
        blobs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..32), 0..4),
        n in any::<i64>(),
    ) {
        let blobs: Vec<Bytes> = blobs.into_iter().map(Bytes::from).collect();
        let payload = Payload::from_serialize(&("ev", &words, &blobs, n)).expect("payload");
        let packet = Packet::event(&nsp, payload, id);
        let back = decode(encode(&packet)).expect("decode");
        prop_assert_eq!(back, packet);
    }
}

/// Found by the sio_msgpack fuzz target: a msgpack string that is not UTF-8 (here the event
/// name `\xa2ello`) used to pass as a string, then turn into a binary attachment in the
/// payload, so the event's "name" was a buffer and the packet did not survive a re-encoding.
/// Such strings now read as JavaScript reads them, with U+FFFD for the bad bytes, keys
/// included.
#[test]
fn strings_that_are_not_utf8_read_with_replacement_characters() {
    // {type:2, nsp:"/", data:["\xa2ello", {"\xff": "w\xfe"}]}
    let p = decode(hex(
        "83a474797065 02 a36e7370 a12f a464617461 92 a5a2656c6c6f 81 a1ff a277fe"
            .replace(' ', "")
            .as_str(),
    ))
    .expect("an event");
    let data = p.data.as_ref().expect("data");
    assert_eq!(data.event_name().as_deref(), Some("\u{fffd}ello"));
    assert!(!data.has_binary());
    assert_eq!(
        data.to_value(),
        serde_json::json!(["\u{fffd}ello", {"\u{fffd}": "w\u{fffd}"}])
    );
    let again = decode(encode(&p)).expect("re-encoded");
    assert_eq!(again, p);
}

/// Found by the sio_msgpack fuzz target: a NaN (or infinite) event name passed the numeric
/// name rule, then became `null` in the JSON payload. It is refused like any other name that
/// is not a string or a number.
#[test]
fn an_event_named_by_a_non_finite_float_is_refused() {
    for float in ["cafffffffa", "ca7f800000", "cbfff0000000000000"] {
        // {type:2, nsp:"/", data:[<float>, "ld"]}
        let bytes = hex(&format!(
            "83a47479706502a36e7370a12fa46461746192{float}a26c64"
        ));
        assert_eq!(
            decode(bytes),
            Err(ParseError::InvalidPayload(
                socketio_proto::codec::PayloadReason::InvalidEventName
            )),
            "{float}"
        );
    }
}
