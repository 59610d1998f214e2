//! Building and reading payloads.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json as value;

use super::{binary, decode_all, json, text};
use crate::codec::{DEFAULT_MAX_DEPTH, EncodeError, JsonErrorKind, Payload, PayloadError};

fn bin(b: &'static [u8]) -> Bytes {
    Bytes::from_static(b)
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Upload {
    name: String,
    file: Bytes,
    thumbnails: Vec<Bytes>,
    meta: Meta,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Meta {
    #[serde(with = "bytes_as_vec")]
    checksum: Vec<u8>,
    size: u64,
    cover: Option<Bytes>,
}

/// `Vec<u8>` through `serialize_bytes` (what `#[serde(with = "serde_bytes")]` does).
mod bytes_as_vec {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        bytes::Bytes::deserialize(d).map(|b| b.to_vec())
    }
}

fn upload() -> Upload {
    Upload {
        name: "cat.png".into(),
        file: bin(b"\x89PNG"),
        thumbnails: vec![bin(b"t1"), bin(b"t2")],
        meta: Meta {
            checksum: vec![0xde, 0xad],
            size: 4,
            cover: Some(bin(b"c")),
        },
    }
}

#[test]
fn from_serialize_replaces_binary_depth_first() {
    let payload = Payload::from_serialize(&("ev", 1, bin(b"\x01"))).unwrap();
    assert_eq!(payload.json(), br#"["ev",1,{"_placeholder":true,"num":0}]"#);
    assert_eq!(payload.attachments(), [bin(b"\x01")]);
    assert!(payload.has_binary());

    let payload = Payload::from_serialize(&("upload", upload())).unwrap();
    let expected = concat!(
        r#"["upload",{"name":"cat.png","file":{"_placeholder":true,"num":0},"#,
        r#""thumbnails":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}],"#,
        r#""meta":{"checksum":{"_placeholder":true,"num":3},"size":4,"#,
        r#""cover":{"_placeholder":true,"num":4}}}]"#
    );
    assert_eq!(std::str::from_utf8(payload.json()).unwrap(), expected);
    let attachments: Vec<&[u8]> = payload.attachments().iter().map(|b| &b[..]).collect();
    assert_eq!(
        attachments,
        [&b"\x89PNG"[..], b"t1", b"t2", b"\xde\xad", b"c"]
    );
}

#[test]
fn deserialize_puts_the_bytes_back() {
    let sent = Payload::from_serialize(&("upload", upload())).unwrap();
    let mut messages = Vec::new();
    crate::codec::encode(&crate::codec::Packet::event("/", sent, None), &mut messages);
    let packet = decode_all(&messages).unwrap();
    let data = packet.data.unwrap();
    let (name, got): (String, Upload) = data.deserialize().unwrap();
    assert_eq!(name, "upload");
    assert_eq!(got, upload());
    assert_eq!(data.arg::<Upload>(1).unwrap(), upload());
    let (got,): (Upload,) = data.args(1).unwrap();
    assert_eq!(got, upload());
}

#[test]
fn binary_reads_as_any_byte_type() {
    let payload = Payload::from_serialize(&("x", bin(b"\x01\x02"), [bin(b"\x03")])).unwrap();
    assert_eq!(payload.arg::<Bytes>(1).unwrap(), bin(b"\x01\x02"));
    assert_eq!(payload.arg::<Vec<u8>>(1).unwrap(), vec![1, 2]);
    assert_eq!(payload.arg::<[u8; 2]>(1).unwrap(), [1, 2]);
    assert_eq!(
        payload.arg::<Option<Bytes>>(1).unwrap(),
        Some(bin(b"\x01\x02"))
    );
    let borrowed: &[u8] = payload.arg(1).unwrap();
    assert_eq!(
        borrowed.as_ptr(),
        payload.attachments()[0].as_ptr(),
        "borrowed, not copied"
    );
    assert_eq!(payload.arg::<Vec<Vec<u8>>>(2).unwrap(), vec![vec![3]]);
    // A Value cannot hold bytes; to_value shows the placeholders instead.
    assert!(payload.arg::<serde_json::Value>(1).is_err());
    assert_eq!(
        payload.to_value(),
        value!(["x", {"_placeholder": true, "num": 0}, [{"_placeholder": true, "num": 1}]])
    );
}

#[test]
fn placeholders_inside_maps_and_enums() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Msg {
        Unit,
        One(Bytes),
        Pair(Bytes, u8),
        Named { data: Bytes, n: i32 },
    }
    let msgs = vec![
        Msg::Unit,
        Msg::One(bin(b"a")),
        Msg::Pair(bin(b"b"), 2),
        Msg::Named {
            data: bin(b"c"),
            n: -1,
        },
    ];
    let payload = Payload::from_serialize(&msgs).unwrap();
    assert_eq!(payload.attachments().len(), 3);
    assert_eq!(payload.deserialize::<Vec<Msg>>().unwrap(), msgs);

    let mut map = BTreeMap::new();
    map.insert(7u32, bin(b"seven"));
    map.insert(9u32, bin(b"nine"));
    let payload = Payload::from_serialize(&(map.clone(), "tail")).unwrap();
    assert_eq!(
        payload.json(),
        br#"[{"7":{"_placeholder":true,"num":0},"9":{"_placeholder":true,"num":1}},"tail"]"#
    );
    let (got, tail): (HashMap<u32, Bytes>, &str) = payload.deserialize().unwrap();
    assert_eq!(got.into_iter().collect::<BTreeMap<_, _>>(), map);
    assert_eq!(tail, "tail");
    // A whole payload can be one attachment.
    let payload = Payload::from_serialize(&bin(b"root")).unwrap();
    assert_eq!(payload.deserialize::<Bytes>().unwrap(), bin(b"root"));
}

#[test]
fn raw_value_sees_the_text_around_placeholders() {
    let payload = Payload::from_serialize(&("e", [bin(b"z")])).unwrap();
    let raw: Box<serde_json::value::RawValue> = payload.arg(1).unwrap();
    assert_eq!(raw.get(), r#"[{"_placeholder":true,"num":0}]"#);
}

/// One number, boolean or null read alone is read from the bytes, without checking the text
/// before it; what asks for its text (a `RawValue`, a 128-bit integer, a float beyond the
/// fast path) still gets it.
#[test]
fn a_scalar_read_alone_reads_its_own_text() {
    let payload = json(r#"["é",-12,18446744073709551616,1.5e-320,true,null,"x"]"#);
    assert_eq!(payload.arg::<i64>(1).unwrap(), -12);
    assert_eq!(payload.arg::<u128>(2).unwrap(), 18446744073709551616);
    assert_eq!(payload.arg::<f64>(2).unwrap(), 18446744073709551616.0);
    assert_eq!(payload.arg::<f64>(3).unwrap(), 1.5e-320);
    let raw: Box<serde_json::value::RawValue> = payload.arg(1).unwrap();
    assert_eq!(raw.get(), "-12");
    assert!(payload.arg::<bool>(4).unwrap());
    assert_eq!(payload.arg::<Option<u8>>(5).unwrap(), None);
    assert!(payload.arg::<String>(1).is_err());
    assert_eq!(payload.arg::<String>(6).unwrap(), "x");
    assert_eq!(payload.arg::<String>(0).unwrap(), "é");
}

#[test]
fn strings_are_borrowed_from_the_message() {
    let packet = decode_all(&[text(r#"2["message","hello",{"k":"v"}]"#)]).unwrap();
    let data = packet.data.unwrap();
    let (msg, obj): (&str, BTreeMap<&str, &str>) = data.args(1).unwrap();
    assert_eq!((msg, obj["k"]), ("hello", "v"));
    let json = data.json().as_ptr_range();
    assert!(json.contains(&msg.as_ptr()));
    let whole: (&str, &str, BTreeMap<&str, &str>) = data.deserialize().unwrap();
    assert!(json.contains(&whole.1.as_ptr()));
    // With binary too, outside the subtrees that hold placeholders.
    let packet = decode_all(&[
        text(r#"51-["message","hello",{"_placeholder":true,"num":0}]"#),
        binary(b"\x00"),
    ])
    .unwrap();
    let data = packet.data.unwrap();
    let (msg, raw): (&str, &[u8]) = data.args(1).unwrap();
    assert!(data.json().as_ptr_range().contains(&msg.as_ptr()));
    assert_eq!(raw, b"\x00");
}

#[test]
fn array_helpers() {
    let data = json(r#"["chat", 42, {"a":[1,2]}, "Q8JfXQM"]"#);
    assert_eq!(data.len(), 4);
    assert!(!data.is_empty());
    assert_eq!(data.event_name(), Some(Cow::Borrowed("chat")));
    assert_eq!(data.arg::<u32>(1).unwrap(), 42);
    assert_eq!(data.arg::<Option<u32>>(9).unwrap(), None);
    assert!(matches!(
        data.arg::<u32>(9),
        Err(PayloadError::Deserialize(_))
    ));
    assert_eq!(
        data.args::<(u8, serde_json::Value)>(1).unwrap(),
        (42, value!({"a": [1, 2]}))
    );
    assert_eq!(
        data.args::<Vec<serde_json::Value>>(9).unwrap(),
        Vec::<serde_json::Value>::new()
    );
    assert_eq!(data.last_str(), Some("Q8JfXQM"));

    assert_eq!(json(r#"[1,"a"]"#).event_name().as_deref(), Some("1"));
    assert_eq!(json(r#"[-2.5e1]"#).event_name().as_deref(), Some("-2.5e1"));
    assert_eq!(
        json(r#"["a\u00e9\n"]"#).event_name().as_deref(),
        Some("aé\n")
    );
    assert_eq!(
        json(r#"["\ud800x"]"#).event_name().as_deref(),
        Some("\u{fffd}x")
    );
    assert_eq!(json(r#"[null]"#).event_name(), None);
    assert_eq!(json(r#"["a","esc\"aped"]"#).last_str(), None);
    assert_eq!(json(r#"["a",1]"#).last_str(), None);

    let object = json(r#"{"a":1}"#);
    assert_eq!(
        (object.len(), object.is_empty(), object.event_name()),
        (0, true, None)
    );
    assert_eq!(object.args::<Vec<u8>>(0), Err(PayloadError::NotAnArray));
    assert_eq!(object.arg::<u8>(0), Err(PayloadError::NotAnArray));
    assert_eq!(object.last_str(), None);
    let mut unchanged = object.clone();
    unchanged.pop_last();
    assert_eq!(unchanged, object);
}

#[test]
fn pop_last_hides_the_recovery_offset() {
    let mut data = decode_all(&[text(r#"2["hello","world","Q8JfXQM"]"#)])
        .unwrap()
        .data
        .unwrap();
    assert_eq!(data.last_str(), Some("Q8JfXQM"));
    data.pop_last();
    assert_eq!(data.json(), br#"["hello","world"]"#);
    assert_eq!(data.args::<(&str,)>(1).unwrap(), ("world",));
    data.pop_last();
    data.pop_last();
    assert_eq!(data.json(), b"[]");
    assert_eq!(data.len(), 0);
    data.pop_last();
    assert_eq!(data.json(), b"[]");

    let mut spaced = json(" [ 1 , \"x\" ] ");
    spaced.pop_last();
    assert_eq!(spaced.json(), b" [ 1]");
    spaced.pop_last();
    assert_eq!(spaced.json(), b" []");

    // Attachments stay, and placeholders before the cut still resolve.
    let mut data = Payload::from_serialize(&("e", bin(b"1"), "offset")).unwrap();
    data.pop_last();
    assert_eq!(data.args::<(Bytes,)>(1).unwrap(), (bin(b"1"),));
    let mut data = Payload::from_serialize(&("e", bin(b"1"))).unwrap();
    data.pop_last();
    assert_eq!(data.json(), br#"["e"]"#);
    assert_eq!(data.attachments().len(), 1);
}

#[test]
fn from_json_validates() {
    assert_eq!(
        json(r#" {"a" : [1, 2.5, "x"]} "#).json(),
        br#" {"a" : [1, 2.5, "x"]} "#
    );
    let err = Payload::from_json(Bytes::from_static(b"[1,")).unwrap_err();
    assert!(matches!(err, PayloadError::InvalidJson(e) if e.kind == JsonErrorKind::UnexpectedEnd));
    let err = Payload::from_json(Bytes::from_static(b"[\"\xc3\"]")).unwrap_err();
    assert!(matches!(err, PayloadError::InvalidJson(e) if e.kind == JsonErrorKind::InvalidUtf8));
    assert!(!json("[]").has_binary());
}

#[test]
fn payloads_without_attachments_keep_look_alike_objects() {
    let data = json(r#"["a",{"_placeholder":true,"num":0}]"#);
    assert_eq!(
        data.arg::<serde_json::Value>(1).unwrap(),
        value!({"_placeholder": true, "num": 0})
    );
    let value = value!({"_placeholder": true, "num": 0});
    let data = Payload::from_serialize(&("a", &value)).unwrap();
    assert!(!data.has_binary());
    assert_eq!(data.arg::<serde_json::Value>(1).unwrap(), value);
}

#[test]
fn encode_errors() {
    let conflict = (bin(b"x"), value!({"_placeholder": true, "num": 0}));
    assert_eq!(
        Payload::from_serialize(&conflict),
        Err(EncodeError::PlaceholderConflict)
    );
    let conflict = (bin(b"x"), value!({"_placeholder": true, "num": 7}));
    assert_eq!(
        Payload::from_serialize(&conflict),
        Err(EncodeError::PlaceholderConflict)
    );

    let mut map = HashMap::new();
    map.insert((1, 2), 3);
    assert!(matches!(
        Payload::from_serialize(&map),
        Err(EncodeError::Serialize(_))
    ));

    let mut deep = value!(1);
    for _ in 0..DEFAULT_MAX_DEPTH {
        deep = value!([deep]);
    }
    assert!(Payload::from_serialize(&deep).is_ok());
    let deeper = value!([deep]);
    assert_eq!(Payload::from_serialize(&deeper), Err(EncodeError::TooDeep));
    // The placeholder object counts as a level.
    struct Nest(usize);
    impl Serialize for Nest {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            if self.0 == 0 {
                return s.serialize_bytes(b"x");
            }
            let mut seq = s.serialize_seq(Some(1))?;
            seq.serialize_element(&Nest(self.0 - 1))?;
            seq.end()
        }
    }
    assert_eq!(
        Payload::from_serialize(&Nest(DEFAULT_MAX_DEPTH)),
        Err(EncodeError::TooDeep)
    );
    let ok = Payload::from_serialize(&Nest(DEFAULT_MAX_DEPTH - 1)).unwrap();
    assert_eq!(ok.attachments().len(), 1);
    let mut messages = Vec::new();
    crate::codec::encode(
        &crate::codec::Packet::ack("/", 1, ok.clone()),
        &mut messages,
    );
    assert_eq!(decode_all(&messages).unwrap().data, Some(ok));
}

#[test]
fn json_that_serde_cannot_hold_is_still_valid_protocol() {
    let data = json(r#"["e",1e400,"\ud800"]"#);
    assert_eq!(data.len(), 3);
    assert!(data.arg::<f64>(1).is_err());
    assert!(data.arg::<String>(2).is_err());
    assert_eq!(data.to_value(), serde_json::Value::Null);
    assert!(data.arg::<serde::de::IgnoredAny>(1).is_ok());
}

/// Integers of up to 19 digits are read without overflow checks, longer ones with them:
/// either way they read as serde_json reads them, at and around the limits.
#[test]
fn integers_read_like_serde_json_at_the_limits() {
    let cases = [
        "0",
        "7",
        "-1",
        "999999999999999999",
        "9999999999999999999",
        "10000000000000000000",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "-9223372036854775809",
        "-9999999999999999999",
        "00000000000000000001",
    ];
    for case in cases {
        let text = format!("[\"ev\",{case}]");
        let Ok(payload) = Payload::from_json(Bytes::from(text.clone())) else {
            assert!(
                serde_json::from_str::<serde_json::Value>(&text).is_err(),
                "{case}"
            );
            continue;
        };
        let ours_u64 = payload.arg::<u64>(1).ok();
        let ours_i64 = payload.arg::<i64>(1).ok();
        let ours_f64 = payload.arg::<f64>(1).ok();
        assert_eq!(
            ours_u64,
            serde_json::from_str::<u64>(case).ok(),
            "u64 {case}"
        );
        assert_eq!(
            ours_i64,
            serde_json::from_str::<i64>(case).ok(),
            "i64 {case}"
        );
        assert_eq!(
            ours_f64,
            serde_json::from_str::<f64>(case).ok(),
            "f64 {case}"
        );
        let value: serde_json::Value = payload.arg(1).unwrap();
        assert_eq!(
            value,
            serde_json::from_str::<serde_json::Value>(case).unwrap(),
            "{case}"
        );
    }
}
