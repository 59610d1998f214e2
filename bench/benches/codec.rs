//! Criterion view of the codec comparison: this project's `socketio-proto` on the harness's
//! three cases, next to `rust_engineio`'s public packet parser on the same bytes (the
//! Engine.IO layer only: rust_socketio keeps its Socket.IO packet parser private). The JS
//! parsers are measured by `socketio-bench codec` (Node cannot run under criterion).
//!
//! `cargo bench --manifest-path bench/Cargo.toml --bench codec -- --warm-up-time 1 --measurement-time 3`

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engineio_proto::Message;
use socketio_proto::codec::{Decoder, Limits, encode};

#[path = "../src/codec.rs"]
#[allow(dead_code)]
mod codec;

fn bench(c: &mut Criterion) {
    let cases = codec::cases();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(1));
    for case in &cases {
        let mut decoder = Decoder::new(Limits::default());
        group.bench_function(format!("this/{}", case.name), |b| {
            b.iter(|| black_box(case.decode(&mut decoder)))
        });
        group.bench_function(format!("this+typed_args/{}", case.name), |b| {
            b.iter(|| black_box(case.decode_typed(&mut decoder)))
        });
    }
    for case in &cases {
        // The same packet as rust_engineio sees it: "4" + the Socket.IO text, then the
        // binary attachments as separate packets.
        let mut messages = Vec::new();
        encode(&case.packet(), &mut messages);
        let wire: Vec<Bytes> = messages
            .iter()
            .map(|m| match m {
                Message::Text(text) => {
                    let mut framed = b"4".to_vec();
                    framed.extend_from_slice(text);
                    Bytes::from(framed)
                }
                Message::Binary(data) => data.clone(),
            })
            .collect();
        group.bench_function(format!("rust_engineio/{}", case.name), |b| {
            b.iter(|| {
                for frame in &wire {
                    let _ = black_box(rust_engineio::Packet::try_from(black_box(frame.clone())));
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    for case in &cases {
        let mut out = Vec::new();
        group.bench_function(format!("this/{}", case.name), |b| {
            b.iter(|| {
                black_box(case).encode(&mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
