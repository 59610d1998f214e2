//! The msgpack packet decoder (socket.io-msgpack-parser's format): arbitrary binary and text
//! messages from a server.
//!
//! Input: records `tag, len_lo, len_hi, bytes[len]` (a short last record takes what is left);
//! tag % 3: 0 = binary, 1 = text, 2 = reset.
//!
//! Checks: nothing panics, depth and size stay bounded; payload accessors work on whatever was
//! accepted; a decoded packet re-encodes to a message that decodes to a packet of the same
//! kind, namespace (an empty one is written as `/`) and id, and that second packet is a fixed point (encoding it again gives it
//! back exactly): msgpack values that JSON cannot tell apart are normalised once, not drifting.

#![no_main]

use bytes::Bytes;
use engineio_proto::Message;
use libfuzzer_sys::fuzz_target;
use socketio_msgpack::MsgPackParser;
use socketio_proto::codec::{Limits, Packet, ParseError, Parser, Payload};

fn exercise(payload: &Payload) {
    let _ = payload.len();
    let _ = payload.event_name();
    let _ = payload.has_binary();
    let _ = payload.to_value().to_string();
    let _ = payload.deserialize::<Vec<Option<Bytes>>>();
    for i in 0..payload.len().min(4) {
        let _ = payload.arg::<Bytes>(i);
        let _ = payload.arg::<&str>(i);
    }
}

/// The packet decoded from its own encoding; `None` when that runs into the decoder's nesting
/// limit (the limit is rmpv's count, which a value written back with string keys can exceed
/// near the limit: it bounds what we accept, not what we write).
fn round_trip(packet: &Packet, limits: Limits) -> Option<Packet> {
    let mut messages = Vec::new();
    MsgPackParser.encode(packet, &mut messages);
    let mut decoder = MsgPackParser.decoder(limits);
    let mut decoded = None;
    for message in messages {
        assert!(decoded.is_none(), "one message per msgpack packet");
        decoded = match decoder.decode(message) {
            Err(ParseError::Format(why)) if why.contains("depth limit") => return None,
            other => other.expect("a re-encoded packet decodes"),
        };
    }
    Some(decoded.expect("a re-encoded packet is complete"))
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let mut decoder = MsgPackParser.decoder(limits);
    let mut rest = data;
    while let [tag, after_tag @ ..] = rest {
        let (len, body) = match after_tag {
            [lo, hi, body @ ..] => (usize::from(u16::from_le_bytes([*lo, *hi])), body),
            _ => (after_tag.len(), &[][..]),
        };
        let (content, next) = body.split_at(len.min(body.len()));
        rest = next;
        let message = match tag % 3 {
            0 => Message::Binary(Bytes::copy_from_slice(content)),
            1 => Message::Text(Bytes::copy_from_slice(content)),
            _ => {
                decoder.reset();
                continue;
            }
        };
        if let Ok(Some(packet)) = decoder.decode(message) {
            if let Some(payload) = &packet.data {
                exercise(payload);
            }
            let Some(once) = round_trip(&packet, limits) else {
                continue;
            };
            // The encoder writes an empty namespace as "/", like the reference encoder.
            let nsp = if packet.nsp.is_empty() {
                "/"
            } else {
                packet.nsp.as_str()
            };
            assert_eq!(
                (once.kind, once.nsp.as_str(), once.id),
                (packet.kind, nsp, packet.id)
            );
            if let Some(twice) = round_trip(&once, limits) {
                assert_eq!(twice, once, "msgpack re-encoding is not a fixed point");
            }
        }
    }
});
