//! Codec tests: golden vectors from the reference, invalid vectors, the decoder's state
//! machine, payload access, the JSON scanner against serde_json, and property round trips.

mod decoder;
mod deep;
mod golden;
mod invalid;
mod json;
mod payload;
mod prop;
mod tree;

use bytes::Bytes;
use engineio_proto::Message;

use super::{Decoder, Limits, Packet, ParseError, Payload, encode};

/// A payload from JSON text (panics on invalid JSON: test input).
fn json(text: &str) -> Payload {
    Payload::from_json(Bytes::copy_from_slice(text.as_bytes())).expect("valid JSON")
}

fn text(s: &str) -> Message {
    Message::Text(Bytes::copy_from_slice(s.as_bytes()))
}

fn binary(b: &[u8]) -> Message {
    Message::Binary(Bytes::copy_from_slice(b))
}

fn encode_all(packet: &Packet) -> Vec<Message> {
    let mut out = Vec::new();
    encode(packet, &mut out);
    out
}

/// Decodes a whole sequence with a fresh decoder (allowing up to 1000 attachments); the packet
/// must complete on the last one.
fn decode_all(messages: &[Message]) -> Result<Packet, ParseError> {
    let mut decoder = Decoder::new(Limits {
        max_attachments: 1000,
        ..Limits::default()
    });
    let (last, init) = messages.split_last().expect("at least one message");
    for message in init {
        assert_eq!(decoder.decode(message.clone())?, None, "completed early");
    }
    Ok(decoder
        .decode(last.clone())?
        .expect("packet complete after the last message"))
}

/// Decodes one text message.
fn decode_text(s: &str) -> Result<Option<Packet>, ParseError> {
    Decoder::new(Limits::default()).decode(text(s))
}

#[test]
fn types_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Packet>();
    send_sync::<Payload>();
    send_sync::<super::JsonParser>();
    send::<Decoder>();
    send::<Box<dyn super::PacketDecoder>>();
}

/// A received event is moved from queue to queue on its way to the application; its payload
/// is one pointer so that those moves stay cheap (see `Repr`).
#[test]
fn a_payload_is_one_pointer() {
    assert_eq!(std::mem::size_of::<Payload>(), std::mem::size_of::<usize>());
}
