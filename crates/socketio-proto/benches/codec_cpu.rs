//! The codec cases of `codec.rs` as a plain loop, for measuring CPU time and instructions with
//! `perf stat` when the machine is shared (criterion's wall-clock rates then move with the
//! load; a process's own task-clock and instruction count do not, or much less):
//!
//! `cargo bench -p socketio-proto --bench codec_cpu --no-run`, then
//! `perf stat -e task-clock,instructions target/release/deps/codec_cpu-* <op> <case> <n>`
//! with `<op>` one of `decode`, `decode_typed`, `decode_borrowed` (`&str`, `&[u8]`), `encode`, `<case>` one of `small`, `10KiB`,
//! `binary_1KiB`. The typed decode reads the arguments as the `bench/` harness does (owned
//! `String`s, like the JS parser's objects).

// A benchmark binary, not an API.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use engineio_proto::Message;
use serde::{Deserialize, Serialize};
use socketio_proto::codec::{Decoder, Limits, Packet, Payload, encode};

#[derive(Serialize, Deserialize, Clone)]
struct Record {
    id: u32,
    name: String,
    tags: Vec<String>,
    score: f64,
    active: bool,
}

/// The same record borrowing its strings from the payload (what `decode_borrowed` reads).
#[derive(Deserialize)]
struct BorrowedRecord<'a> {
    #[allow(dead_code)]
    id: u32,
    #[serde(borrow)]
    name: &'a str,
    #[serde(borrow)]
    tags: Vec<&'a str>,
    #[allow(dead_code)]
    score: f64,
    #[allow(dead_code)]
    active: bool,
}

fn records() -> Vec<Record> {
    (0..112)
        .map(|id| Record {
            id,
            name: "user-name-0123456789".into(),
            tags: vec!["alpha".into(), "beta".into()],
            score: 12.75,
            active: id % 2 == 0,
        })
        .collect()
}

fn packet(case: &str, records: &[Record], file: &Bytes) -> Packet {
    let data = match case {
        "small" => Payload::from_serialize(&("message", "hello")),
        "10KiB" => Payload::from_serialize(&("update", records)),
        "binary_1KiB" => Payload::from_serialize(&("upload", file)),
        other => panic!("unknown case {other}"),
    };
    Packet::event("/", data.expect("serializable"), None)
}

fn decode_one(decoder: &mut Decoder, messages: &[Message]) -> Packet {
    let mut packet = None;
    for message in messages {
        packet = decoder.decode(message.clone()).expect("valid");
    }
    packet.expect("complete")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` runs every bench target with `--bench`: nothing to do then.
    if args.len() < 4 {
        return;
    }
    let (op, case) = (args[1].as_str(), args[2].as_str());
    let n: u64 = args[3].parse().expect("iterations");
    let records = records();
    let file = Bytes::from(vec![0xab; 1024]);
    let mut messages = Vec::new();
    encode(&packet(case, &records, &file), &mut messages);
    let mut decoder = Decoder::new(Limits::default());
    let mut out = Vec::with_capacity(4);
    let start = std::time::Instant::now();
    for _ in 0..n {
        match op {
            "decode" => {
                black_box(decode_one(&mut decoder, black_box(&messages)));
            }
            "decode_typed" => {
                let data = decode_one(&mut decoder, black_box(&messages))
                    .data
                    .expect("payload");
                let len = match case {
                    "small" => data.arg::<String>(1).expect("string").len(),
                    "10KiB" => data.arg::<Vec<Record>>(1).expect("records").len(),
                    _ => data.arg::<Bytes>(1).expect("bytes").len(),
                };
                black_box(len);
            }
            "decode_borrowed" => {
                let data = decode_one(&mut decoder, black_box(&messages))
                    .data
                    .expect("payload");
                let len = match case {
                    "small" => data.arg::<&str>(1).expect("string").len(),
                    "10KiB" => {
                        let list = data.arg::<Vec<BorrowedRecord<'_>>>(1).expect("records");
                        list.iter().map(|r| r.name.len() + r.tags.len()).sum()
                    }
                    _ => data.arg::<&[u8]>(1).expect("bytes").len(),
                };
                black_box(len);
            }
            "encode" => {
                out.clear();
                encode(
                    &packet(case, black_box(&records), black_box(&file)),
                    &mut out,
                );
                black_box(&out);
            }
            other => panic!("unknown op {other}"),
        }
    }
    let elapsed = start.elapsed();
    println!(
        "{op} {case}: {n} in {elapsed:?} wall ({:.0} ns/op wall)",
        elapsed.as_nanos() as f64 / n as f64
    );
}
