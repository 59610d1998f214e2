//! Socket.IO packet decoder: arbitrary sequences of engine messages.
//!
//! Input: one byte of limits, then records `tag, len_lo, len_hi, bytes[len]` (a short last
//! record takes what is left). Tag % 4: 0 = text (lossy UTF-8), 1 = binary, 2 = reset,
//! 3 = text with the raw bytes (possibly not UTF-8).
//!
//! Checks: nothing panics; every decoded packet re-encodes to messages that decode to an
//! equal packet; payload accessors work on whatever was accepted; a popped payload is still
//! valid JSON.

#![no_main]

use bytes::Bytes;
use engineio_proto::Message;
use libfuzzer_sys::fuzz_target;
use socketio_proto::codec::{Decoder, Limits, Packet, Payload, encode};

fn exercise(payload: &Payload) {
    let _ = payload.len();
    let _ = payload.is_empty();
    let _ = payload.event_name();
    let _ = payload.last_str();
    let _ = payload.has_binary();
    let _ = payload.to_value().to_string();
    let _ = payload.deserialize::<Vec<Option<Bytes>>>();
    let _ = payload.deserialize::<std::collections::BTreeMap<String, Vec<u8>>>();
    let _ = payload.args::<Vec<Option<String>>>(1);
    let _ = payload.args::<(String, Bytes, Option<u64>)>(0);
    for i in 0..payload.len().min(8) {
        let _ = payload.arg::<Bytes>(i);
        let _ = payload.arg::<&str>(i);
        let _ = payload.arg::<Vec<Bytes>>(i);
    }
    let mut popped = payload.clone();
    popped.pop_last();
    Payload::from_json(Bytes::copy_from_slice(popped.json())).expect("popped payload is JSON");
    assert_eq!(popped.attachments(), payload.attachments());
}

fn check_round_trip(packet: &Packet, limits: Limits) {
    let mut messages = Vec::new();
    encode(packet, &mut messages);
    let mut decoder = Decoder::new(limits);
    let mut decoded = None;
    for (i, message) in messages.into_iter().enumerate() {
        assert!(decoded.is_none(), "packet completed before message {i}");
        decoded = decoder.decode(message).expect("re-encoded packet decodes");
    }
    assert_eq!(decoded.as_ref(), Some(packet));
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, mut rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_attachments: usize::from(config & 7),
        max_attachment_bytes: 16 << ((config >> 3) & 7),
        // Shallow to deep: 1, 4, 16, 64 levels (the default, 1,000, is sio_deep's).
        max_depth: 1 << (2 * usize::from(config >> 6)),
    };
    let mut decoder = Decoder::new(limits);
    while let [tag, rest_after_tag @ ..] = rest {
        let (len, body) = match rest_after_tag {
            [lo, hi, body @ ..] => (usize::from(u16::from_le_bytes([*lo, *hi])), body),
            _ => (rest_after_tag.len(), &[][..]),
        };
        let len = len.min(body.len());
        let (content, next) = body.split_at(len);
        rest = next;
        let message = match tag % 4 {
            0 => {
                let text = String::from_utf8_lossy(content).into_owned();
                if let Ok(payload) = Payload::from_json(Bytes::from(text.clone())) {
                    exercise(&payload);
                }
                Message::Text(Bytes::from(text))
            }
            1 => Message::Binary(Bytes::copy_from_slice(content)),
            2 => {
                decoder.reset();
                continue;
            }
            _ => Message::Text(Bytes::copy_from_slice(content)),
        };
        if let Ok(Some(packet)) = decoder.decode(message) {
            if let Some(payload) = &packet.data {
                exercise(payload);
            }
            check_round_trip(&packet, limits);
        }
    }
});
