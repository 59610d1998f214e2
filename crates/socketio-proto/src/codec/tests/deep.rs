//! Deep nesting: accepted up to the configured limit, refused past it with an error naming
//! the limit, and read without exhausting a small thread stack.

use serde_json::Value;

use super::decode_text;
use crate::codec::{
    DEFAULT_MAX_DEPTH, Decoder, JsonErrorKind, Limits, ParseError, Payload, PayloadReason,
};

/// `2["deep",<arg>]` with the whole payload `depth` levels deep (the outer array counts).
fn event(depth: usize, open: &str, close: &str) -> String {
    let inner = depth - 1;
    format!("2[\"deep\",{}1{}]", open.repeat(inner), close.repeat(inner))
}

fn arrays(depth: usize) -> String {
    event(depth, "[", "]")
}

fn objects(depth: usize) -> String {
    event(depth, "{\"k\":", "}")
}

fn mixed(depth: usize) -> String {
    // Alternating levels: [{"k":[{"k":...}]}]
    let inner = depth - 1;
    let mut open = String::new();
    let mut close = String::new();
    for level in 0..inner {
        if level % 2 == 0 {
            open.push('[');
            close.insert(0, ']');
        } else {
            open.push_str("{\"k\":");
            close.insert(0, '}');
        }
    }
    format!("2[\"deep\",{open}1{close}]")
}

fn too_deep(text: &str, limits: Limits) -> bool {
    matches!(
        Decoder::new(limits).decode(super::text(text)),
        Err(ParseError::InvalidPayload(PayloadReason::Json(e))) if e.kind == JsonErrorKind::TooDeep
    )
}

/// Decodes and reads `text` every way an application can, on a thread with `stack` bytes.
fn read_on_small_stack(text: String, stack: usize) {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let packet = decode_text(&text).expect("valid").expect("complete");
            let data = packet.data.expect("payload");
            let arg: Value = data.arg(1).expect("typed read");
            let whole: Value = data.deserialize().expect("whole read");
            let (name, again): (&str, Value) = data.args(0).expect("args read");
            assert_eq!(name, "deep");
            assert_eq!(arg, again);
            assert_eq!(whole, data.to_value());
            assert_eq!(whole[1], arg);
            // Dropping a deep `Value` recurses too; it is part of what must fit.
            drop((arg, whole, again));
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}

#[test]
fn nesting_that_socket_io_client_delivers_is_accepted() {
    for text in [arrays(200), objects(200), mixed(200)] {
        let packet = decode_text(&text).unwrap().unwrap();
        let value = packet.data.unwrap().to_value();
        assert_ne!(value, Value::Null);
    }
}

#[test]
fn the_default_limit_reads_in_a_small_stack() {
    // The default limit, read into `serde_json::Value` (the deepest-recursing common target)
    // three ways and dropped, on a thread with half of Rust's default 2 MiB stack in an
    // optimized build (it needs 0.5-0.75 KiB a level there: 512 KiB overflows, 768 KiB
    // fits). Unoptimized frames are about 2.2 KiB a level, so 2 MiB is not enough at 1,000
    // levels: 3 MiB then. `DEEP_STACK=<bytes>` overrides, to find the bound on another target
    // (`cargo test --profile bench` for the optimized one).
    let stack = match std::env::var("DEEP_STACK")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(bytes) => bytes,
        None if cfg!(debug_assertions) => 3 << 20,
        None => 1 << 20,
    };
    for text in [
        arrays(DEFAULT_MAX_DEPTH),
        objects(DEFAULT_MAX_DEPTH),
        mixed(DEFAULT_MAX_DEPTH),
    ] {
        read_on_small_stack(text, stack);
    }
}

#[test]
fn deeper_than_the_limit_is_refused_with_the_limit_named() {
    let limits = Limits::default();
    assert!(decode_text(&arrays(DEFAULT_MAX_DEPTH)).unwrap().is_some());
    assert!(too_deep(&arrays(DEFAULT_MAX_DEPTH + 1), limits));
    assert!(too_deep(&objects(DEFAULT_MAX_DEPTH + 1), limits));
    let small = Limits {
        max_depth: 8,
        ..Limits::default()
    };
    assert!(Decoder::new(small).decode(super::text(&arrays(8))).is_ok());
    assert!(too_deep(&arrays(9), small));
    assert!(too_deep(&mixed(9), small));
    let message = ParseError::InvalidPayload(PayloadReason::Json(crate::codec::JsonError {
        offset: 0,
        kind: JsonErrorKind::TooDeep,
    }))
    .to_string();
    assert!(message.contains("max_depth"), "{message}");
}

#[test]
fn a_million_open_brackets_fail_without_recursion() {
    let text = format!("2[{}", "[{\"a\":".repeat(500_000));
    std::thread::Builder::new()
        .stack_size(64 << 10)
        .spawn(move || {
            assert!(decode_text(&text).is_err());
            assert!(Payload::from_json(bytes::Bytes::from(text[1..].to_owned())).is_err());
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn local_payloads_follow_the_default_limit() {
    let deep: Value = serde_json::from_str(&arrays(DEFAULT_MAX_DEPTH)[1..]).unwrap_or_default();
    // serde_json's own parser stops at 128 levels; build the value by hand instead.
    assert_eq!(deep, Value::Null);
    let mut value = Value::from(1);
    for _ in 0..DEFAULT_MAX_DEPTH {
        value = Value::Array(vec![value]);
    }
    let payload = Payload::from_serialize(&value).expect("at the limit");
    assert_eq!(payload.to_value(), value);
    let deeper = Value::Array(vec![value]);
    assert_eq!(
        Payload::from_serialize(&deeper),
        Err(crate::codec::EncodeError::TooDeep)
    );
    // Dropping the values recurses; keep it off this test's stack budget worries by
    // dismantling them level by level.
    for mut v in [deeper, payload.to_value()] {
        while let Value::Array(mut items) = v {
            v = items.pop().unwrap_or(Value::Null);
        }
    }
}

#[test]
fn limit_errors_name_their_limit() {
    let limits = Limits {
        max_attachments: 2,
        max_attachment_bytes: 4,
        ..Limits::default()
    };
    let mut decoder = Decoder::new(limits);
    let error = decoder
        .decode(super::text(r#"53-["a",{"_placeholder":true,"num":0}]"#))
        .unwrap_err();
    assert_eq!(error, ParseError::TooManyAttachments { count: 3, max: 2 });
    assert!(error.to_string().contains("max_attachments = 2"), "{error}");

    let header = r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
    assert_eq!(decoder.decode(super::text(header)), Ok(None));
    assert_eq!(decoder.decode(super::binary(b"abc")), Ok(None));
    let error = decoder.decode(super::binary(b"de")).unwrap_err();
    assert_eq!(error, ParseError::AttachmentsTooLarge { max: 4 });
    assert!(
        error.to_string().contains("max_attachment_bytes = 4"),
        "{error}"
    );
    // The half-received packet is gone: the decoder takes a new one.
    assert!(!decoder.is_reconstructing());
}
