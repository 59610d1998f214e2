//! Deeply nested payloads: the decoder refuses what is deeper than its limit with a typed
//! error, and everything it accepts can be read (typed, as `serde_json::Value`, whole or by
//! argument) and dropped on a thread with a 1 MiB stack, half of Rust's default.
//!
//! Input: byte 0 picks the limit (`< 128`: that many levels plus one; otherwise the default,
//! 1,000), byte 1 a corruption (`% 4`: 0 none, 1 cut the text short, 2 drop a closing
//! bracket, 3 flip a byte in the middle), then pairs `shape, repeat`: `repeat + 1` levels of
//! `shape % 6`: `[`, `{"k":`, `[1,`, `{"a":null,"k":`, a placeholder-shaped object
//! `{"_placeholder":true,"num":0,"k":`, or `["\u00e9",`. The leaf is `"x"`.
//! A text is at most about 3,000 levels deep, so inputs reach past the default limit.
//!
//! Checks: no panic, no stack overflow; the outcome is `TooDeep` exactly when the text is
//! well-formed and deeper than the limit; an accepted packet reads the same through
//! `to_value`, `deserialize` and `arg`.

#![no_main]

use bytes::Bytes;
use engineio_proto::Message;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use socketio_proto::codec::{
    DEFAULT_MAX_DEPTH, Decoder, JsonErrorKind, Limits, ParseError, Payload, PayloadReason,
};

const SHAPES: [(&str, &str); 6] = [
    ("[", "]"),
    ("{\"k\":", "}"),
    ("[1,", "]"),
    ("{\"a\":null,\"k\":", "}"),
    ("{\"_placeholder\":true,\"num\":0,\"k\":", "}"),
    ("[\"\\u00e9\",", "]"),
];

/// A stack half of Rust's default for spawned threads: what the decoder and the reads of
/// an accepted payload must fit in, at the default limit, in an optimized build.
const STACK: usize = 1 << 20;

fn run(data: &[u8]) {
    let [limit, corruption, shape @ ..] = data else {
        return;
    };
    let max_depth = if *limit < 128 {
        usize::from(*limit) + 1
    } else {
        DEFAULT_MAX_DEPTH
    };
    let mut open = String::from("2[\"deep\",");
    let mut close = String::from("]");
    let mut depth = 1;
    for pair in shape.chunks(2).take(24) {
        let (o, c) = SHAPES[usize::from(pair[0]) % SHAPES.len()];
        let repeat = pair.get(1).map_or(1, |r| usize::from(*r) / 2 + 1);
        for _ in 0..repeat {
            open.push_str(o);
            close.insert_str(0, c);
        }
        depth += repeat;
    }
    let mut text = format!("{open}\"x\"{close}").into_bytes();
    let well_formed = match corruption % 4 {
        0 => true,
        1 => {
            text.truncate(text.len() / 2 + 1);
            false
        }
        2 => {
            text.pop();
            false
        }
        _ => {
            let middle = text.len() / 2;
            text[middle] ^= 0x55;
            false
        }
    };
    let limits = Limits {
        max_depth,
        ..Limits::default()
    };
    let result = Decoder::new(limits).decode(Message::Text(Bytes::from(text.clone())));
    let too_deep = matches!(
        &result,
        Err(ParseError::InvalidPayload(PayloadReason::Json(e))) if e.kind == JsonErrorKind::TooDeep
    );
    if well_formed {
        assert_eq!(
            too_deep,
            depth > max_depth,
            "depth {depth}, limit {max_depth}"
        );
        assert_eq!(result.is_ok(), depth <= max_depth, "{result:?}");
    } else if depth <= max_depth {
        assert!(!too_deep);
    }
    let Ok(Some(packet)) = result else {
        return;
    };
    let data = packet.data.expect("an event has a payload");
    let value = data.to_value();
    let whole: Value = data.deserialize().expect("valid JSON reads as a Value");
    assert_eq!(value, whole);
    let arg: Value = data.arg(1).expect("the argument reads as a Value");
    assert_eq!(&whole[1], &arg);
    let _ = data
        .args::<(String, serde::de::IgnoredAny)>(0)
        .expect("skipping is typed");
    if max_depth <= DEFAULT_MAX_DEPTH {
        let local = Payload::from_json(Bytes::copy_from_slice(data.json()));
        assert!(local.is_ok(), "a received payload is a valid local one");
    }
    drop((value, whole, arg));
}

fuzz_target!(|data: &[u8]| {
    let data = data.to_vec();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || run(&data))
        .expect("spawn")
        .join()
        .expect("no panic, no stack overflow");
});
