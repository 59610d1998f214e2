//! Binary arguments as `{"$binary": "<base64>"}`, both ways and at any depth.
//!
//! An [`Arg`] is a JSON value that may hold bytes. Outgoing, [`Arg::from_json`] turns every
//! `$binary` object of the input into bytes, which the client sends as an attachment. Incoming,
//! an `Arg` deserializes with serde from the received payload, taking bytes where the codec
//! offers them (its attachment placeholders arrive as bytes), and [`Shown`] prints them back
//! as `$binary` objects.

use std::fmt;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// The key of a binary object.
pub const BINARY_KEY: &str = "$binary";

/// Standard base64, padding optional when reading.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An argument, sent or received: JSON, with bytes where binary data is.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A JSON scalar (null, boolean, number, string).
    Scalar(Value),
    /// Bytes, sent as an attachment.
    Binary(Bytes),
    /// An array.
    Array(Vec<Arg>),
    /// An object, in its input order.
    Object(Vec<(String, Arg)>),
}

impl Arg {
    /// Converts a JSON value, decoding every `{"$binary": "<base64>"}` object in it.
    pub fn from_json(value: Value) -> Result<Arg, String> {
        Ok(match value {
            Value::Array(items) => Arg::Array(
                items
                    .into_iter()
                    .map(Arg::from_json)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) if map.len() == 1 && map.contains_key(BINARY_KEY) => {
                match &map[BINARY_KEY] {
                    Value::String(text) => Arg::Binary(
                        LENIENT
                            .decode(text)
                            .map_err(|e| format!("invalid base64 in {BINARY_KEY}: {e}"))?
                            .into(),
                    ),
                    _ => return Err(format!("{BINARY_KEY} takes a base64 string")),
                }
            }
            Value::Object(map) => Arg::Object(
                map.into_iter()
                    .map(|(k, v)| Ok((k, Arg::from_json(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            scalar => Arg::Scalar(scalar),
        })
    }
}

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Scalar(value) => value.serialize(serializer),
            Arg::Binary(bytes) => serializer.serialize_bytes(bytes),
            Arg::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Arg::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Shows an argument as JSON, its bytes as `{"$binary": "<base64>"}` objects, object keys in
/// the order received.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a Arg);

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Arg::Scalar(value) => value.serialize(serializer),
            Arg::Binary(bytes) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(BINARY_KEY, &STANDARD.encode(bytes))?;
                map.end()
            }
            Arg::Array(items) => serializer.collect_seq(items.iter().map(Shown)),
            Arg::Object(fields) => {
                serializer.collect_map(fields.iter().map(|(key, value)| (key, Shown(value))))
            }
        }
    }
}

impl Arg {
    /// The argument as JSON text (see [`Shown`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Shown(self)).unwrap_or_else(|_| "null".to_owned())
    }
}

/// Reads a received argument, taking bytes where the codec offers them (attachments).
impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ArgVisitor)
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value or binary data")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Arg, E> {
        Ok(Arg::Scalar(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Arg, E> {
        Ok(Arg::Scalar(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Arg, E> {
        Ok(Arg::Scalar(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Arg, E> {
        Ok(Arg::Scalar(
            serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
        ))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Arg, E> {
        Ok(Arg::Scalar(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Arg, E> {
        Ok(Arg::Scalar(Value::String(v)))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Arg, E> {
        Ok(Arg::Binary(Bytes::copy_from_slice(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Scalar(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Arg, E> {
        Ok(Arg::Scalar(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Arg, D::Error> {
        Arg::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arg, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Arg::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(entry) = map.next_entry::<String, Arg>()? {
            fields.push(entry);
        }
        Ok(Arg::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use socketio_tokio::Payload;

    #[test]
    fn binary_objects_become_bytes_at_any_depth() {
        let arg = Arg::from_json(json!([{"$binary": "AQID"}, {"a": {"$binary": "BAU"}}])).unwrap();
        let payload = Payload::from_serialize(&arg).unwrap();
        assert_eq!(
            payload.json(),
            br#"[{"_placeholder":true,"num":0},{"a":{"_placeholder":true,"num":1}}]"#
        );
        assert_eq!(payload.attachments(), [&[1u8, 2, 3][..], &[4, 5][..]]);
    }

    #[test]
    fn received_bytes_become_binary_objects() {
        let payload = Payload::from_serialize(&(
            Bytes::from_static(&[1, 2, 3]),
            json!({"s": "x", "n": 1.5}),
            (Bytes::from_static(&[255]), Option::<u8>::None),
        ))
        .unwrap();
        let arg: Arg = payload.deserialize().unwrap();
        assert_eq!(
            arg.to_json(),
            r#"[{"$binary":"AQID"},{"n":1.5,"s":"x"},[{"$binary":"/w=="},null]]"#
        );
        // Keys keep the order they came in.
        let payload = Payload::from_json(Bytes::from_static(br#"{"z":1,"a":{"$binary":"AA=="}}"#));
        let arg: Arg = payload.unwrap().deserialize().unwrap();
        assert_eq!(arg.to_json(), r#"{"z":1,"a":{"$binary":"AA=="}}"#);
    }

    #[test]
    fn bad_binary_objects_are_refused() {
        assert!(Arg::from_json(json!({"$binary": 1})).is_err());
        assert!(Arg::from_json(json!({"$binary": "***"})).is_err());
        // With another key it is an ordinary object.
        assert!(matches!(
            Arg::from_json(json!({"$binary": 1, "x": 2})),
            Ok(Arg::Object(_))
        ));
    }
}
