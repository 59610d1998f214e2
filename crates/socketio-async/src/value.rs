//! [`Value`]: any argument, JSON with binary anywhere inside.

use std::fmt;

use bytes::Bytes;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Any argument, sent or received: JSON where binary data (`Bytes`) may be anywhere, as in
/// socket.io's `...args: any[]`.
///
/// Every received message converts to it ([`crate::Args::values`]) without losing its binary
/// parts, and it emits and acks back as it came: binary goes out as attachments, objects keep
/// their key order. `serde_json::Value` cannot hold bytes, which is why this type exists.
///
/// ```
/// use bytes::Bytes;
/// use socketio_async::{Payload, Value};
///
/// let value = Value::Array(vec![
///     Value::from("file"),
///     Value::Object(vec![("data".into(), Value::Binary(Bytes::from_static(&[1, 2, 3])))]),
/// ]);
/// let payload = Payload::from_serialize(&value).unwrap();
/// assert_eq!(payload.attachments(), [&[1u8, 2, 3][..]]);
/// let back: Value = payload.deserialize().unwrap();
/// assert_eq!(back, value);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null` (also what `undefined` arrives as).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// Binary data: an attachment on the wire.
    Binary(Bytes),
    /// An array.
    Array(Vec<Value>),
    /// An object, its keys in the order they came (or were given).
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is binary.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Self::Binary(b) => Some(b),
            _ => None,
        }
    }

    /// The number as `f64`, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The object's field `key` (the first, should a received object repeat it).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Self::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Converts to a typed value (`bytes::Bytes`, or `Vec<u8>` with `serde_bytes`, for the
    /// binary parts).
    pub fn deserialize_into<T: serde::de::DeserializeOwned>(&self) -> Result<T, crate::Error> {
        let payload =
            socketio_proto::codec::Payload::from_serialize(self).map_err(crate::Error::from)?;
        payload.deserialize().map_err(crate::Error::from)
    }

    /// The value as JSON, or `None` when it holds binary data (which JSON cannot).
    pub fn to_json(&self) -> Option<serde_json::Value> {
        Some(match self {
            Self::Null => serde_json::Value::Null,
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Number(n) => serde_json::Value::Number(n.clone()),
            Self::String(s) => serde_json::Value::String(s.clone()),
            Self::Binary(_) => return None,
            Self::Array(items) => {
                serde_json::Value::Array(items.iter().map(Value::to_json).collect::<Option<_>>()?)
            }
            Self::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Some((k.clone(), v.to_json()?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
}

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(b) => Self::Bool(b),
            serde_json::Value::Number(n) => Self::Number(n),
            serde_json::Value::String(s) => Self::String(s),
            serde_json::Value::Array(items) => {
                Self::Array(items.into_iter().map(Value::from).collect())
            }
            serde_json::Value::Object(map) => {
                Self::Object(map.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

impl From<Bytes> for Value {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

macro_rules! from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                Self::Number(n.into())
            }
        }
    )*};
}
from_number!(i8, i16, i32, i64, u8, u16, u32, u64);

impl From<f64> for Value {
    /// Not finite numbers become `null`, as in `JSON.stringify`.
    fn from(n: f64) -> Self {
        serde_json::Number::from_f64(n).map_or(Self::Null, Self::Number)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Binary(bytes) => serializer.serialize_bytes(bytes),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Reads any argument, taking bytes where the codec offers them (attachments, msgpack `bin`).
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value or binary data")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Binary(Bytes::copy_from_slice(v)))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Binary(v.into()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // The hint comes from the peer: capped so a lying length allocates little.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(entry) = map.next_entry::<String, Value>()? {
            fields.push(entry);
        }
        Ok(Value::Object(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socketio_proto::codec::Payload;

    #[test]
    fn binary_anywhere_round_trips_byte_exact() {
        let payload = Payload::from_json(Bytes::from_static(
            br#"["e",{"z":1,"a":[1.5,null,"s"]},true]"#,
        ))
        .unwrap();
        let value: Value = payload.deserialize().unwrap();
        let again = Payload::from_serialize(&value).unwrap();
        assert_eq!(again.json(), payload.json(), "key order and numbers kept");

        let with_bytes = Payload::from_serialize(&(
            Bytes::from_static(&[0, 255]),
            serde_json::json!({"k": 1}),
            (Bytes::from_static(&[7]), ()),
        ))
        .unwrap();
        let value: Value = with_bytes.deserialize().unwrap();
        let again = Payload::from_serialize(&value).unwrap();
        assert_eq!(again.json(), with_bytes.json());
        assert_eq!(again.attachments(), with_bytes.attachments());
        assert_eq!(value.to_json(), None, "JSON cannot hold the bytes");
    }
}
