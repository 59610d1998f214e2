//! The Socket.IO v5 packet codec.
//!
//! A packet travels as one engine text message, `<type>[<attachments>-][<nsp>,][<ack
//! id>][<JSON>]`, followed by one engine binary message per attachment:
//!
//! ```
//! use socketio_proto::codec::{Decoder, Limits, Packet, Payload, encode};
//!
//! let data = Payload::from_serialize(&("upload", bytes::Bytes::from_static(b"\x01\x02")))?;
//! let mut messages = Vec::new();
//! encode(&Packet::event("/admin", data, Some(7)), &mut messages);
//! // 51-/admin,7["upload",{"_placeholder":true,"num":0}]  then  <01 02>
//! assert_eq!(messages.len(), 2);
//!
//! let mut decoder = Decoder::new(Limits::default());
//! assert!(decoder.decode(messages[0].clone())?.is_none()); // waits for its attachment
//! let packet = decoder.decode(messages[1].clone())?.expect("complete");
//! assert_eq!(packet.nsp, "/admin");
//! let (name, file): (&str, bytes::Bytes) = packet.data.as_ref().unwrap().deserialize()?;
//! assert_eq!((name, &file[..]), ("upload", &[1u8, 2][..]));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Decoding validates everything the reference decoder (socket.io-parser 4.2) validates, plus
//! bounds on attachments, nesting and ack ids, so that a packet that comes out is safe to hand
//! to the application. Payloads stay JSON text (a zero-copy slice of the received message)
//! until a typed value is asked for.
//!
//! Deliberate differences from the reference decoder, all about input it never produces:
//! a payload is required for EVENT, ACK and CONNECT_ERROR (as its `isPacketValid`); a binary
//! header needs at least one digit (`5-` is refused); an empty text is an error (not a
//! CONNECT); only ASCII digits form an ack id; ack ids above `u64::MAX`, nesting deeper
//! than [`Limits::max_depth`] (default [`DEFAULT_MAX_DEPTH`], 1,000) and more attachments
//! or attachment bytes than [`Limits`] allows are refused (each with an error naming the
//! limit); placeholders are checked against the announced count even when it is 0.

mod de;
mod decode;
mod encode;
mod error;
mod json;
mod packet;
mod payload;
mod ser;
#[cfg(test)]
mod tests;

pub use decode::{Decoder, Limits};
pub use encode::encode;
pub use error::{EncodeError, JsonError, JsonErrorKind, ParseError, PayloadError, PayloadReason};
pub use json::DEFAULT_MAX_DEPTH;
pub use packet::{Packet, PacketKind};
pub use payload::Payload;

use engineio_proto::Message;

/// Event names an application may not emit, and that the decoder refuses in received events.
pub const RESERVED_EVENTS: &[&str] = &[
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// A Socket.IO packet format (the reference's "parser"): how packets become engine messages
/// and back. [`JsonParser`] is the default format; both ends of a connection must use the
/// same one.
pub trait Parser: Send + Sync + std::fmt::Debug {
    /// Encodes `packet`, pushing its engine messages onto `out`.
    fn encode(&self, packet: &Packet, out: &mut Vec<Message>);

    /// A fresh decoder for one connection.
    fn decoder(&self, limits: Limits) -> Box<dyn PacketDecoder>;
}

/// The receiving half of a [`Parser`]: stateful, one per connection.
pub trait PacketDecoder: Send + std::fmt::Debug {
    /// Decodes one engine message; `Ok(None)` while a packet still waits for attachments.
    /// After an error the decoder is idle again.
    fn decode(&mut self, message: Message) -> Result<Option<Packet>, ParseError>;

    /// Forgets a half-received packet (call when the engine connection is replaced).
    fn reset(&mut self);
}

/// The default Socket.IO format: JSON text with binary attachments ([`encode`], [`Decoder`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonParser;

impl Parser for JsonParser {
    fn encode(&self, packet: &Packet, out: &mut Vec<Message>) {
        encode(packet, out);
    }

    fn decoder(&self, limits: Limits) -> Box<dyn PacketDecoder> {
        Box::new(Decoder::new(limits))
    }
}

impl PacketDecoder for Decoder {
    fn decode(&mut self, message: Message) -> Result<Option<Packet>, ParseError> {
        Decoder::decode(self, message)
    }

    fn reset(&mut self) {
        Decoder::reset(self);
    }
}
