//! Socket.IO codec throughput, in packets per second.
//!
//! `cargo bench -p socketio-proto --bench codec -- --warm-up-time 1 --measurement-time 3`
//!
//! Cases: a small event (`42["message","hello"]`), a 10 KiB event (an array of records), and a
//! binary event with a 1 KiB attachment. Groups:
//! - `decode`: engine message(s) → validated `Packet` (payload left as JSON text);
//! - `decode+args`: the same, then the typed arguments deserialized from the text;
//! - `value_baseline`: what a naive client does with the same bytes: parse the whole text into
//!   a `serde_json::Value`, then pull the name and arguments (and the buffer) out of it;
//! - `encode`: typed arguments → `Payload::from_serialize` → `encode` → engine messages;
//! - `encode_value_baseline`: build a `serde_json::Value`, then stringify it behind a header.

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engineio_proto::Message;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use socketio_proto::codec::{Decoder, Limits, Packet, Payload, encode};

#[derive(Serialize, Deserialize, Clone)]
struct Record<'a> {
    id: u32,
    #[serde(borrow)]
    name: &'a str,
    tags: Vec<&'a str>,
    score: f64,
    active: bool,
}

fn records() -> Vec<Record<'static>> {
    (0..112)
        .map(|id| Record {
            id,
            name: "user-name-0123456789",
            tags: vec!["alpha", "beta"],
            score: 12.75,
            active: id % 2 == 0,
        })
        .collect()
}

struct Case {
    name: &'static str,
    messages: Vec<Message>,
}

fn cases() -> Vec<Case> {
    let small = Packet::event(
        "/",
        Payload::from_serialize(&("message", "hello")).unwrap(),
        None,
    );
    let large = Packet::event(
        "/",
        Payload::from_serialize(&("update", records())).unwrap(),
        None,
    );
    let file = Bytes::from(vec![0xab; 1024]);
    let binary = Packet::event(
        "/",
        Payload::from_serialize(&("upload", file)).unwrap(),
        None,
    );
    [("small", small), ("10KiB", large), ("binary_1KiB", binary)]
        .into_iter()
        .map(|(name, packet)| {
            let mut messages = Vec::new();
            encode(&packet, &mut messages);
            Case { name, messages }
        })
        .collect()
}

fn decode_one(decoder: &mut Decoder, messages: &[Message]) -> Packet {
    let mut packet = None;
    for message in messages {
        packet = decoder.decode(message.clone()).unwrap();
    }
    packet.unwrap()
}

fn bench_decode(c: &mut Criterion) {
    let cases = cases();
    let sizes: Vec<usize> = cases
        .iter()
        .map(|c| c.messages[0].as_bytes().len())
        .collect();
    eprintln!("text sizes: {sizes:?}");

    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for case in &cases {
        let mut decoder = Decoder::new(Limits::default());
        group.bench_function(case.name, |b| {
            b.iter(|| black_box(decode_one(&mut decoder, black_box(&case.messages))))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("decode+args");
    group.throughput(Throughput::Elements(1));
    let mut decoder = Decoder::new(Limits::default());
    group.bench_function("small", |b| {
        b.iter(|| {
            let packet = decode_one(&mut decoder, black_box(&cases[0].messages));
            let data = packet.data.unwrap();
            let name = data.event_name().unwrap().len();
            let (text,): (&str,) = data.args(1).unwrap();
            black_box((name, text.len()))
        })
    });
    group.bench_function("10KiB", |b| {
        b.iter(|| {
            let packet = decode_one(&mut decoder, black_box(&cases[1].messages));
            let data = packet.data.unwrap();
            let name = data.event_name().unwrap().len();
            let list: Vec<Record<'_>> = data.arg(1).unwrap();
            black_box((name, list.len()))
        })
    });
    group.bench_function("binary_1KiB", |b| {
        b.iter(|| {
            let packet = decode_one(&mut decoder, black_box(&cases[2].messages));
            let data = packet.data.unwrap();
            let name = data.event_name().unwrap().len();
            let file: Bytes = data.arg(1).unwrap();
            black_box((name, file.len()))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("value_baseline");
    group.throughput(Throughput::Elements(1));
    for case in &cases {
        group.bench_function(case.name, |b| {
            b.iter(|| {
                let messages = black_box(&case.messages);
                let text = messages[0].as_bytes();
                // Skip the header the way a naive parser does: up to the first '['.
                let start = text.iter().position(|&c| c == b'[').unwrap();
                let mut value: Value = serde_json::from_slice(&text[start..]).unwrap();
                let Value::Array(items) = &mut value else {
                    unreachable!()
                };
                let name = items[0].as_str().unwrap().to_owned();
                let mut args: Vec<Value> = items.drain(1..).collect();
                // Swap placeholders for their buffers.
                let mut buffers = Vec::new();
                for arg in &mut args {
                    if arg.get("_placeholder") == Some(&Value::Bool(true)) {
                        let num = arg["num"].as_u64().unwrap() as usize;
                        buffers.push(messages[1 + num].as_bytes().clone());
                        *arg = Value::Null;
                    }
                }
                black_box((name, args, buffers))
            })
        });
    }
    group.finish();
}

fn bench_encode(c: &mut Criterion) {
    let records = records();
    let file = Bytes::from(vec![0xab; 1024]);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(4);
    group.bench_function("small", |b| {
        b.iter(|| {
            out.clear();
            let data = Payload::from_serialize(black_box(&("message", "hello"))).unwrap();
            encode(&Packet::event("/", data, None), &mut out);
            black_box(&out);
        })
    });
    group.bench_function("10KiB", |b| {
        b.iter(|| {
            out.clear();
            let data = Payload::from_serialize(black_box(&("update", &records))).unwrap();
            encode(&Packet::event("/", data, None), &mut out);
            black_box(&out);
        })
    });
    group.bench_function("binary_1KiB", |b| {
        b.iter(|| {
            out.clear();
            let data = Payload::from_serialize(black_box(&("upload", &file))).unwrap();
            encode(&Packet::event("/", data, None), &mut out);
            black_box(&out);
        })
    });
    group.finish();

    let mut group = c.benchmark_group("encode_value_baseline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("small", |b| {
        b.iter(|| {
            let value = serde_json::json!(["message", black_box("hello")]);
            let mut text = b"2".to_vec();
            serde_json::to_writer(&mut text, &value).unwrap();
            black_box(Message::Text(Bytes::from(text)))
        })
    });
    group.bench_function("10KiB", |b| {
        b.iter(|| {
            let value = serde_json::json!(["update", black_box(&records)]);
            let mut text = b"2".to_vec();
            serde_json::to_writer(&mut text, &value).unwrap();
            black_box(Message::Text(Bytes::from(text)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode, bench_encode);
criterion_main!(benches);
