//! The msgpack parser for the Socket.IO client, wire-compatible with the server's
//! `socket.io-msgpack-parser` (used with `new Server({ parser: require("socket.io-msgpack-parser") })`).
//!
//! Each Socket.IO packet is one Engine.IO binary message holding the msgpack map
//! `{type, nsp, data?, id?}`; binary values are msgpack `bin` inside `data`, so there are no
//! attachments and no BINARY_EVENT/BINARY_ACK types on the wire.
//!
//! Inside the client, payloads stay the JSON-with-attachments [`Payload`] every other layer
//! uses: this parser converts at the edge (msgpack `bin` ↔ attachment), so typed arguments,
//! acks and `bytes::Bytes` work the same with either parser.
//!
//! ```
//! use std::sync::Arc;
//! use socketio_msgpack::MsgPackParser;
//!
//! let mut config = socketio_proto::ManagerConfig::new("http://localhost:3000").unwrap();
//! config.parser = Arc::new(MsgPackParser);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use bytes::Bytes;
use engineio_proto::Message;
use rmpv::Value;
use socketio_proto::codec::{
    Limits, Packet, PacketDecoder, PacketKind, ParseError, Parser, Payload, PayloadReason,
};

/// The msgpack [`Parser`].
#[derive(Debug, Default, Clone, Copy)]
pub struct MsgPackParser;

impl Parser for MsgPackParser {
    fn encode(&self, packet: &Packet, out: &mut Vec<Message>) {
        let mut fields = vec![
            (Value::from("type"), Value::from(type_number(packet.kind))),
            (Value::from("nsp"), Value::from(nsp_or_root(&packet.nsp))),
        ];
        if let Some(data) = &packet.data {
            // Payloads are valid JSON with their attachments; reading them as a msgpack value
            // turns each attachment into `bin`. A value msgpack cannot hold does not exist.
            let value = data.deserialize::<Value>().unwrap_or(Value::Nil);
            fields.push((Value::from("data"), value));
        }
        if let Some(id) = packet.id {
            fields.push((Value::from("id"), Value::from(id)));
        }
        let mut buf = Vec::with_capacity(64);
        // Writing to a Vec cannot fail.
        let _ = rmpv::encode::write_value(&mut buf, &Value::Map(fields));
        out.push(Message::Binary(Bytes::from(buf)));
    }

    fn decoder(&self, limits: Limits) -> Box<dyn PacketDecoder> {
        Box::new(MsgPackDecoder { limits })
    }
}

fn type_number(kind: PacketKind) -> u8 {
    match kind {
        PacketKind::Connect => 0,
        PacketKind::Disconnect => 1,
        PacketKind::Event => 2,
        PacketKind::Ack => 3,
        PacketKind::ConnectError => 4,
    }
}

fn nsp_or_root(nsp: &str) -> &str {
    if nsp.is_empty() { "/" } else { nsp }
}

/// Decodes one binary message per packet.
#[derive(Debug)]
pub struct MsgPackDecoder {
    limits: Limits,
}

fn format(why: impl std::fmt::Display) -> ParseError {
    ParseError::Format(why.to_string())
}

fn invalid(reason: PayloadReason) -> ParseError {
    ParseError::InvalidPayload(reason)
}

impl PacketDecoder for MsgPackDecoder {
    fn decode(&mut self, message: Message) -> Result<Option<Packet>, ParseError> {
        let Message::Binary(bytes) = message else {
            return Err(ParseError::UnexpectedText);
        };
        let mut reader = &bytes[..];
        let value = rmpv::decode::read_value_with_max_depth(&mut reader, 128).map_err(format)?;
        let Value::Map(fields) = value else {
            return Err(format("a packet must be a msgpack map"));
        };
        let (mut kind, mut nsp, mut data, mut id) = (None, None, None, None);
        for (key, value) in fields {
            match key.as_str() {
                Some("type") => kind = value.as_u64(),
                Some("nsp") => nsp = value.as_str().map(str::to_owned),
                Some("data") => data = Some(value),
                Some("id") => {
                    id = Some(value.as_u64().ok_or(ParseError::InvalidAckId)?);
                }
                _ => {}
            }
        }
        let kind = match kind {
            Some(0) => PacketKind::Connect,
            Some(1) => PacketKind::Disconnect,
            Some(2) => PacketKind::Event,
            Some(3) => PacketKind::Ack,
            Some(4) => PacketKind::ConnectError,
            Some(n) => {
                return Err(ParseError::UnknownPacketType(
                    u8::try_from(n).unwrap_or(u8::MAX),
                ));
            }
            None => return Err(format("invalid packet type")),
        };
        let nsp = nsp.ok_or_else(|| format("invalid namespace"))?;
        let data = data.map(without_ext);
        check_data(kind, data.as_ref())?;
        // Binary rides inside the message, whose size the engine already bounds; the byte
        // limit still applies, the attachment count does not (the reference has none here).
        if data.as_ref().map_or(0, binary_bytes) > self.limits.max_attachment_bytes {
            return Err(ParseError::AttachmentsTooLarge {
                max: self.limits.max_attachment_bytes,
            });
        }
        let data = match data {
            Some(value) => Some(Payload::from_serialize(&value).map_err(format)?),
            None => None,
        };
        Ok(Some(Packet {
            kind,
            nsp: nsp.into(),
            id,
            data,
        }))
    }

    fn reset(&mut self) {}
}

/// The reference decoder's `isDataValid`, with the JSON decoder's event-name rule.
fn check_data(kind: PacketKind, data: Option<&Value>) -> Result<(), ParseError> {
    match (kind, data) {
        (PacketKind::Connect, None) => Ok(()),
        (PacketKind::Connect, Some(Value::Map(_))) => Ok(()),
        (PacketKind::Connect, Some(_)) => Err(invalid(PayloadReason::NotObject)),
        (PacketKind::Disconnect, None) => Ok(()),
        (PacketKind::Disconnect, Some(_)) => Err(invalid(PayloadReason::Unexpected)),
        (PacketKind::ConnectError, Some(Value::Map(_) | Value::String(_))) => Ok(()),
        (PacketKind::ConnectError, Some(_)) => Err(invalid(PayloadReason::NotObjectOrString)),
        (PacketKind::Event, Some(Value::Array(items))) => match items.first() {
            None => Err(invalid(PayloadReason::EmptyEvent)),
            Some(Value::String(name)) => match name.as_str() {
                Some(n) if socketio_proto::codec::RESERVED_EVENTS.contains(&n) => {
                    Err(invalid(PayloadReason::ReservedEventName(n.to_owned())))
                }
                _ => Ok(()),
            },
            Some(Value::Integer(_)) => Ok(()),
            // JSON has no NaN or infinity: such a name would read as null.
            Some(Value::F32(n)) if n.is_finite() => Ok(()),
            Some(Value::F64(n)) if n.is_finite() => Ok(()),
            Some(_) => Err(invalid(PayloadReason::InvalidEventName)),
        },
        (PacketKind::Ack, Some(Value::Array(_))) => Ok(()),
        (PacketKind::Event | PacketKind::Ack, Some(_)) => Err(invalid(PayloadReason::NotArray)),
        (_, None) => Err(invalid(PayloadReason::Missing)),
    }
}

/// notepack (the server's msgpack) writes JavaScript's `undefined` as the extension value
/// `(0, [0])`: an object key holding it is absent, an array slot holding it is `null`
/// (what `JSON.stringify` does). Other extensions have no JSON meaning and read as `null`.
/// A string that is not UTF-8 reads with U+FFFD in place of the bad bytes, as a JavaScript
/// peer decodes it; left as bytes it would turn into a binary attachment (found by fuzzing:
/// an event "name" that was a buffer).
fn without_ext(value: Value) -> Value {
    let undefined = |v: &Value| matches!(v, Value::Ext(0, data) if data.as_slice() == [0]);
    match value {
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .filter(|(_, v)| !undefined(v))
                .map(|(k, v)| (without_ext(k), without_ext(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_ext).collect()),
        Value::Ext(..) => Value::Nil,
        Value::String(text) if text.as_str().is_none() => {
            Value::from(String::from_utf8_lossy(text.as_bytes()).into_owned())
        }
        other => other,
    }
}

fn binary_bytes(value: &Value) -> usize {
    match value {
        Value::Binary(b) => b.len(),
        Value::Array(items) => items.iter().map(binary_bytes).sum(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| binary_bytes(k) + binary_bytes(v))
            .sum(),
        _ => 0,
    }
}
