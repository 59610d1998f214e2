//! Binary arguments as `{"$binary": "<base64>"}`, both ways and at any depth.
//!
//! An [`Arg`] is the client's `Value`: JSON that may hold bytes. Outgoing, [`from_json`] turns
//! every `$binary` object of the input into bytes, which the client sends as an attachment.
//! Incoming, a `Value` reads the received payload with its bytes, and [`Shown`] prints them
//! back as `$binary` objects.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// The key of a binary object.
pub const BINARY_KEY: &str = "$binary";

/// Standard base64, padding optional when reading.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An argument, sent or received: the client's own dynamic value (JSON with bytes where
/// binary data is), which reads any received payload and emits back byte-exact. This module
/// adds only the command line's text form of its bytes.
pub use socketio_tokio::Value as Arg;

/// Converts a JSON value, decoding every `{"$binary": "<base64>"}` object in it.
pub fn from_json(value: Value) -> Result<Arg, String> {
    Ok(match value {
        Value::Array(items) => {
            Arg::Array(items.into_iter().map(from_json).collect::<Result<_, _>>()?)
        }
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
                .map(|(k, v)| Ok((k, from_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        scalar => Arg::from(scalar),
    })
}

/// Shows an argument as JSON, its bytes as `{"$binary": "<base64>"}` objects, object keys in
/// the order received.
#[derive(Debug, Clone, Copy)]
pub struct Shown<'a>(pub &'a Arg);

impl Serialize for Shown<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Arg::Binary(bytes) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(BINARY_KEY, &STANDARD.encode(bytes))?;
                map.end()
            }
            Arg::Array(items) => serializer.collect_seq(items.iter().map(Shown)),
            Arg::Object(fields) => {
                serializer.collect_map(fields.iter().map(|(key, value)| (key, Shown(value))))
            }
            scalar => scalar.serialize(serializer),
        }
    }
}

/// The argument as JSON text (see [`Shown`]).
pub fn to_json(arg: &Arg) -> String {
    serde_json::to_string(&Shown(arg)).unwrap_or_else(|_| "null".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde_json::json;
    use socketio_tokio::Payload;

    #[test]
    fn binary_objects_become_bytes_at_any_depth() {
        let arg = from_json(json!([{"$binary": "AQID"}, {"a": {"$binary": "BAU"}}])).unwrap();
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
            to_json(&arg),
            r#"[{"$binary":"AQID"},{"n":1.5,"s":"x"},[{"$binary":"/w=="},null]]"#
        );
        // Keys keep the order they came in.
        let payload = Payload::from_json(Bytes::from_static(br#"{"z":1,"a":{"$binary":"AA=="}}"#));
        let arg: Arg = payload.unwrap().deserialize().unwrap();
        assert_eq!(to_json(&arg), r#"{"z":1,"a":{"$binary":"AA=="}}"#);
    }

    #[test]
    fn bad_binary_objects_are_refused() {
        assert!(from_json(json!({"$binary": 1})).is_err());
        assert!(from_json(json!({"$binary": "***"})).is_err());
        // With another key it is an ordinary object.
        assert!(matches!(
            from_json(json!({"$binary": 1, "x": 2})),
            Ok(Arg::Object(_))
        ));
    }
}
