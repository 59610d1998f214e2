//! Codec throughput: this project's `socketio-proto` against the JS parsers (a Node script on
//! the same bytes). rust_socketio keeps its Socket.IO packet parser private (`pub(crate) mod
//! packet`), so it has no codec row: its parsing cost is inside its receive measurement.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio_proto::Message;
use serde::{Deserialize, Serialize};
use socketio_proto::codec::{Decoder, Limits, Packet, Payload, encode};

/// A record of the 10 KiB case (112 of them make about 10 KiB of JSON).
#[derive(Serialize, Deserialize, Clone)]
struct Record {
    id: u32,
    name: String,
    tags: Vec<String>,
    score: f64,
    active: bool,
}

/// One codec case: how to build its packet, and its engine messages.
pub struct Case {
    /// `small`, `10KiB` or `binary_1KiB`.
    pub name: &'static str,
    packet: fn() -> Packet,
    messages: Vec<Message>,
}

fn small() -> Packet {
    let payload = Payload::from_serialize(&("message", "hello")).expect("serializable");
    Packet::event("/", payload, None)
}

fn large() -> Packet {
    let records: Vec<Record> = (0..112)
        .map(|id| Record {
            id,
            name: "user-name-0123456789".into(),
            tags: vec!["alpha".into(), "beta".into()],
            score: 12.75,
            active: id % 2 == 0,
        })
        .collect();
    let payload = Payload::from_serialize(&("update", records)).expect("serializable");
    Packet::event("/", payload, None)
}

fn binary() -> Packet {
    let file = Bytes::from(vec![0xab; 1024]);
    let payload = Payload::from_serialize(&("upload", file)).expect("serializable");
    Packet::event("/", payload, None)
}

/// The three cases of the issue: a small event, a 10 KiB event, a binary event.
pub fn cases() -> Vec<Case> {
    let builders: [(&'static str, fn() -> Packet); 3] =
        [("small", small), ("10KiB", large), ("binary_1KiB", binary)];
    builders
        .into_iter()
        .map(|(name, packet)| {
            let mut messages = Vec::new();
            encode(&packet(), &mut messages);
            Case {
                name,
                packet,
                messages,
            }
        })
        .collect()
}

impl Case {
    /// Engine messages → one `Packet` (header parsed, JSON validated and its arguments
    /// located, attachments reassembled).
    pub fn decode(&self, decoder: &mut Decoder) -> Packet {
        let mut packet = None;
        for message in &self.messages {
            packet = decoder.decode(message.clone()).expect("valid bytes");
        }
        packet.expect("a whole packet")
    }

    /// The packet → engine messages (the arguments already serialized, as when the JS
    /// encoder gets its packet object).
    pub fn encode(&self, packet: &Packet, out: &mut Vec<Message>) {
        out.clear();
        encode(packet, out);
    }

    /// The packet this case encodes.
    pub fn packet(&self) -> Packet {
        (self.packet)()
    }
}

/// Calls `f` for about `time`, returning calls per second.
pub fn rate(time: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < time {
        for _ in 0..100 {
            f();
        }
        done += 100;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// Packets per second of one codec.
#[derive(Debug, Clone, Deserialize)]
pub struct Rates {
    /// The case.
    pub name: String,
    /// Decodes per second.
    pub decode: f64,
    /// Encodes per second.
    pub encode: f64,
}

/// This project's codec.
pub fn ours(time: Duration) -> Vec<Rates> {
    cases()
        .iter()
        .map(|case| {
            let mut decoder = Decoder::new(Limits::default());
            let decode = rate(time, || {
                black_box(case.decode(&mut decoder));
            });
            let packet = case.packet();
            let mut out = Vec::new();
            let encode = rate(time, || {
                case.encode(black_box(&packet), &mut out);
                black_box(&out);
            });
            Rates {
                name: case.name.into(),
                decode,
                encode,
            }
        })
        .collect()
}

/// socket.io-parser on Node.js, on the same engine messages.
pub fn js(node_dir: &Path, time: Duration) -> Result<Vec<Rates>, String> {
    let cases: Vec<serde_json::Value> = cases()
        .iter()
        .map(|case| {
            let messages: Vec<serde_json::Value> = case
                .messages
                .iter()
                .map(|m| match m {
                    Message::Text(text) => {
                        serde_json::json!({ "text": String::from_utf8_lossy(text) })
                    }
                    Message::Binary(data) => {
                        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
                        serde_json::json!({ "hex": hex })
                    }
                })
                .collect();
            serde_json::json!({ "name": case.name, "messages": messages })
        })
        .collect();
    let file =
        std::env::temp_dir().join(format!("socketio-bench-codec-{}.json", std::process::id()));
    std::fs::write(
        &file,
        serde_json::to_vec(&cases).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let output = std::process::Command::new("node")
        .arg("codec.js")
        .arg(&file)
        .arg(time.as_secs_f64().to_string())
        .current_dir(node_dir)
        .output()
        .map_err(|e| format!("node: {e}"));
    let _ = std::fs::remove_file(&file);
    let output = output?;
    if !output.status.success() {
        return Err(format!(
            "codec.js failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).map_err(|e| format!("{e}: {line}")))
        .collect()
}
