//! Packets the decoder must refuse.

use bytes::Bytes;
use engineio_proto::Message;

use super::{binary, decode_text, text};
use crate::codec::{DEFAULT_MAX_DEPTH, Decoder, JsonErrorKind, Limits, ParseError, PayloadReason};

fn invalid_payload(s: &str) -> PayloadReason {
    match decode_text(s) {
        Err(ParseError::InvalidPayload(reason)) => reason,
        other => panic!("{s}: expected an invalid payload, got {other:?}"),
    }
}

fn json_error(s: &str) -> JsonErrorKind {
    match invalid_payload(s) {
        PayloadReason::Json(e) => e.kind,
        other => panic!("{s}: expected a JSON error, got {other:?}"),
    }
}

/// socket.io-parser `test/parser.js` "throw an error upon parsing error": invalid payload.
#[test]
fn reference_invalid_payloads() {
    assert_eq!(
        json_error(r#"442["some","data""#),
        JsonErrorKind::UnexpectedEnd
    );
    assert_eq!(
        invalid_payload(r#"0/admin,"invalid""#),
        PayloadReason::NotObject
    );
    assert_eq!(invalid_payload("0[]"), PayloadReason::NotObject);
    assert_eq!(invalid_payload("1/admin,{}"), PayloadReason::Unexpected);
    assert_eq!(
        json_error(r#"2/admin,"invalid"#),
        JsonErrorKind::UnexpectedEnd
    );
    assert_eq!(invalid_payload("2/admin,{}"), PayloadReason::NotArray);
    assert_eq!(
        invalid_payload(r#"2[{"toString":"foo"}]"#),
        PayloadReason::InvalidEventName
    );
    assert_eq!(
        invalid_payload(r#"2[true,"foo"]"#),
        PayloadReason::InvalidEventName
    );
    assert_eq!(
        invalid_payload(r#"2[null,"bar"]"#),
        PayloadReason::InvalidEventName
    );
    assert_eq!(
        invalid_payload(r#"2["connect"]"#),
        PayloadReason::ReservedEventName("connect".into())
    );
    assert_eq!(
        invalid_payload(r#"2["disconnect","123"]"#),
        PayloadReason::ReservedEventName("disconnect".into())
    );
}

/// socket.io-parser: `Illegal attachments` and `unknown packet type 9`.
#[test]
fn reference_invalid_headers() {
    for s in ["5", "51", "5a-", "51.23-", r#"5-["a"]"#, r#"6/admin,1-[]"#] {
        assert_eq!(decode_text(s), Err(ParseError::IllegalAttachments), "{s}");
    }
    assert_eq!(decode_text("999"), Err(ParseError::UnknownPacketType(b'9')));
    assert_eq!(decode_text("7"), Err(ParseError::UnknownPacketType(b'7')));
    assert_eq!(
        decode_text(r#"a["x"]"#),
        Err(ParseError::UnknownPacketType(b'a'))
    );
    assert_eq!(decode_text(""), Err(ParseError::Empty));
}

#[test]
fn every_reserved_event_name_is_refused() {
    for name in crate::codec::RESERVED_EVENTS {
        let reason = invalid_payload(&format!(r#"2["{name}",1]"#));
        assert_eq!(reason, PayloadReason::ReservedEventName((*name).into()));
    }
    // Escapes are decoded before comparing, as JSON.parse does.
    assert_eq!(
        invalid_payload(r#"2["conn\u0065ct"]"#),
        PayloadReason::ReservedEventName("connect".into())
    );
    // Close but not equal is fine.
    assert!(decode_text(r#"2["Connect"]"#).is_ok());
    assert!(decode_text(r#"2["connect "]"#).is_ok());
}

#[test]
fn payload_shape_per_type() {
    assert_eq!(invalid_payload("2"), PayloadReason::Missing);
    assert_eq!(invalid_payload("2/admin,"), PayloadReason::Missing);
    assert_eq!(invalid_payload("3"), PayloadReason::Missing);
    assert_eq!(invalid_payload("4/admin,"), PayloadReason::Missing);
    assert_eq!(invalid_payload("2[]"), PayloadReason::EmptyEvent);
    assert_eq!(invalid_payload(r#"2"a""#), PayloadReason::NotArray);
    assert_eq!(invalid_payload("3{}"), PayloadReason::NotArray);
    assert_eq!(invalid_payload("31"), PayloadReason::Missing);
    assert_eq!(invalid_payload("4[]"), PayloadReason::NotObjectOrString);
    assert_eq!(invalid_payload("4null"), PayloadReason::NotObjectOrString);
    assert_eq!(invalid_payload("0null"), PayloadReason::NotObject);
    assert_eq!(invalid_payload(r#"1"x""#), PayloadReason::Unexpected);
    assert_eq!(invalid_payload(r#"50-{}"#), PayloadReason::NotArray);
    assert_eq!(invalid_payload(r#"60-"a""#), PayloadReason::NotArray);
    assert_eq!(invalid_payload(r#"50-[]"#), PayloadReason::EmptyEvent);
    assert_eq!(
        invalid_payload(r#"51-[true]"#),
        PayloadReason::InvalidEventName
    );
    // Numbers of any JSON form name events.
    assert!(decode_text(r#"2[-1.5e3]"#).unwrap().is_some());
    // Whitespace only is not JSON.
    assert_eq!(json_error("2 "), JsonErrorKind::UnexpectedEnd);
}

#[test]
fn ack_id_overflow_is_a_typed_error() {
    assert_eq!(
        decode_text(r#"218446744073709551616["a"]"#),
        Err(ParseError::InvalidAckId)
    );
    assert_eq!(
        decode_text(&format!(r#"2{}["a"]"#, "9".repeat(400))),
        Err(ParseError::InvalidAckId)
    );
}

#[test]
fn attachment_count_is_bounded() {
    assert_eq!(
        decode_text(r#"511-["a"]"#),
        Err(ParseError::TooManyAttachments { count: 11, max: 10 })
    );
    assert_eq!(decode_text(r#"510-["a"]"#), Ok(None));
    let huge = format!(r#"5{}-["a"]"#, "9".repeat(40));
    assert_eq!(
        decode_text(&huge),
        Err(ParseError::TooManyAttachments {
            count: usize::MAX,
            max: 10
        })
    );
    let mut decoder = Decoder::new(Limits {
        max_attachments: 2,
        ..Limits::default()
    });
    assert_eq!(
        decoder.decode(text(r#"53-["a"]"#)),
        Err(ParseError::TooManyAttachments { count: 3, max: 2 })
    );
}

/// socket.io-parser `buffer.js`: "throws an error when adding an attachment with an invalid
/// 'num' attribute (string)" / "(out-of-bound)", plus the other ways a num can be wrong.
#[test]
fn placeholder_numbers_are_checked() {
    let bad = [
        r#"51-["a",{"_placeholder":true,"num":"0"}]"#,
        r#"51-["a",{"_placeholder":true,"num":1}]"#,
        r#"51-["a",{"_placeholder":true,"num":-1}]"#,
        r#"52-["a",{"_placeholder":true,"num":0.5}]"#,
        r#"51-["a",{"_placeholder":true}]"#,
        r#"51-["a",{"_placeholder":true,"num":null}]"#,
        r#"51-["a",{"_placeholder":true,"num":99999999999999999999999}]"#,
        r#"51-["a",[[{"x":{"_placeholder":true,"num":7}}]]]"#,
        r#"51-["a",{"_placeholder":true,"num":0,"num":3}]"#,
        r#"50-["a",{"_placeholder":true,"num":0}]"#,
        r#"61-[{"\u005fplaceholder":true,"num":4}]"#,
    ];
    for s in bad {
        assert_eq!(decode_text(s), Err(ParseError::IllegalAttachments), "{s}");
    }
    let good = [
        r#"52-["a",{"_placeholder":true,"num":1.0}]"#,
        r#"52-["a",{"_placeholder":true,"num":1e0}]"#,
        r#"52-["a",{"num":1,"_placeholder":true}]"#,
        r#"51-["a",{"_placeholder":true,"num":0,"extra":[1]}]"#,
        // Not a placeholder: `_placeholder` must be exactly `true` (the last one wins).
        r#"51-["a",{"_placeholder":1,"num":9}]"#,
        r#"51-["a",{"_placeholder":true,"_placeholder":false,"num":9}]"#,
        // A placeholder replaces what is inside it, unchecked (as the reference).
        r#"51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":5}}]"#,
        // Attachments that no placeholder references are allowed.
        r#"52-["a"]"#,
    ];
    for s in good {
        assert_eq!(decode_text(s), Ok(None), "{s}");
    }
    // In a plain (type 2) event a look-alike object is just an object.
    assert!(
        decode_text(r#"2["a",{"_placeholder":true,"num":5}]"#)
            .unwrap()
            .is_some()
    );
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| {
        format!(
            "2[\"a\",{}{}]",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    };
    assert!(decode_text(&nested(DEFAULT_MAX_DEPTH)).unwrap().is_some());
    assert_eq!(
        json_error(&nested(DEFAULT_MAX_DEPTH + 1)),
        JsonErrorKind::TooDeep
    );
    // Far deeper input fails the same way, without recursion.
    let deep = format!("2[{}", "[".repeat(1_000_000));
    assert_eq!(json_error(&deep), JsonErrorKind::TooDeep);
}

#[test]
fn text_must_be_utf8() {
    let message = Message::Text(Bytes::from_static(b"2[\"\xff\"]"));
    assert_eq!(
        Decoder::new(Limits::default()).decode(message),
        Err(ParseError::InvalidUtf8)
    );
}

/// The whole text is not checked up front: the scan checks the strings, where alone JSON
/// allows non-ASCII bytes, and the header checks the namespace. Whatever the position (in
/// the scan's eight-byte steps or in the last bytes, in a key, in the namespace, outside any
/// string), invalid UTF-8 fails as `InvalidUtf8`, and valid text decodes.
#[test]
fn utf8_is_checked_wherever_it_is() {
    let decode = |text: &[u8]| {
        Decoder::new(Limits::default()).decode(Message::Text(Bytes::copy_from_slice(text)))
    };
    let bad: [&[u8]; 4] = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82"];
    for seq in bad {
        let cases = [
            [&b"2[\""[..], seq, b"\"]"].concat(),
            [&b"2[\"abcdefghijklmnop"[..], seq, b"qrstuvwxyz\",1]"].concat(),
            [&b"2[\"e\",{\""[..], seq, b"\":1}]"].concat(),
            [&b"2/a"[..], seq, b",[\"e\"]"].concat(),
            [&b"2[\"e\","[..], seq, b"]"].concat(),
            [&b"2[\"e\"]"[..], seq].concat(),
        ];
        for text in cases {
            assert_eq!(decode(&text), Err(ParseError::InvalidUtf8), "{text:?}");
        }
    }
    let good = "2/ñ,[\"événement\",\"日本語のテキスト、少し長め\",{\"clé\":\"€\"},\"ok 😀\"]";
    let packet = decode(good.as_bytes()).unwrap().unwrap();
    assert_eq!(packet.nsp, "/ñ");
    let data = packet.data.unwrap();
    assert_eq!(data.event_name().as_deref(), Some("événement"));
    let (text, map, last): (&str, std::collections::BTreeMap<String, String>, &str) =
        data.args(1).unwrap();
    assert_eq!(text, "日本語のテキスト、少し長め");
    assert_eq!(map["clé"], "€");
    assert_eq!(last, "ok 😀");
}

#[test]
fn json_errors_are_located() {
    let cases = [
        ("2[\"a\"]x", JsonErrorKind::TrailingCharacters),
        ("2[\"a\",]", JsonErrorKind::UnexpectedByte(b']')),
        ("2[\"a\" 1]", JsonErrorKind::UnexpectedByte(b'1')),
        ("2[\"a\",01]", JsonErrorKind::UnexpectedByte(b'1')),
        ("2[\"a\",1.]", JsonErrorKind::InvalidNumber),
        ("2[\"a\",-]", JsonErrorKind::InvalidNumber),
        ("2[\"a\",1e+]", JsonErrorKind::InvalidNumber),
        ("2[\"a\\x\"]", JsonErrorKind::InvalidEscape),
        ("2[\"a\\u12G4\"]", JsonErrorKind::InvalidEscape),
        ("2[\"a\tb\"]", JsonErrorKind::ControlCharacter),
        ("2[\"a\",tru]", JsonErrorKind::UnexpectedByte(b']')),
        ("2[\"a\",{1:2}]", JsonErrorKind::UnexpectedByte(b'1')),
        ("2[\"a\",{\"k\" 2}]", JsonErrorKind::UnexpectedByte(b'2')),
        ("2['a']", JsonErrorKind::UnexpectedByte(b'\'')),
    ];
    for (s, kind) in cases {
        assert_eq!(json_error(s), kind, "{s}");
    }
}

#[test]
fn binary_messages_need_a_header() {
    let mut decoder = Decoder::new(Limits::default());
    assert_eq!(
        decoder.decode(binary(b"\x01")),
        Err(ParseError::UnexpectedBinary)
    );
}
