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

/// The arguments of each case as the application holds them.
enum Args {
    Small(&'static str),
    Large(Vec<Record>),
    Binary(Bytes),
}

/// One codec case: its arguments, and its engine messages.
pub struct Case {
    /// `small`, `10KiB` or `binary_1KiB`.
    pub name: &'static str,
    args: Args,
    messages: Vec<Message>,
}

/// The three cases of the issue: a small event, a 10 KiB event, a binary event.
pub fn cases() -> Vec<Case> {
    let records: Vec<Record> = (0..112)
        .map(|id| Record {
            id,
            name: "user-name-0123456789".into(),
            tags: vec!["alpha".into(), "beta".into()],
            score: 12.75,
            active: id % 2 == 0,
        })
        .collect();
    [
        ("small", Args::Small("hello")),
        ("10KiB", Args::Large(records)),
        ("binary_1KiB", Args::Binary(Bytes::from(vec![0xab; 1024]))),
    ]
    .into_iter()
    .map(|(name, args)| {
        let mut case = Case {
            name,
            args,
            messages: Vec::new(),
        };
        let mut messages = Vec::new();
        encode(&case.packet(), &mut messages);
        case.messages = messages;
        case
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

    /// Engine messages → the event's arguments as typed values (what the JS decoder's
    /// `JSON.parse` gives an application).
    pub fn decode_typed(&self, decoder: &mut Decoder) -> usize {
        let packet = self.decode(decoder);
        let data = packet.data.expect("an event");
        match self.args {
            Args::Small(_) => data.arg::<String>(1).expect("a string").len(),
            Args::Large(_) => data.arg::<Vec<Record>>(1).expect("records").len(),
            Args::Binary(_) => data.arg::<Bytes>(1).expect("bytes").len(),
        }
    }

    /// The typed arguments → engine messages (serialization included, as the JS encoder
    /// stringifies its packet object).
    pub fn encode(&self, out: &mut Vec<Message>) {
        out.clear();
        encode(&self.packet(), out);
    }

    /// The packet this case encodes.
    pub fn packet(&self) -> Packet {
        let payload = match &self.args {
            Args::Small(text) => Payload::from_serialize(&("message", text)),
            Args::Large(records) => Payload::from_serialize(&("update", records)),
            Args::Binary(file) => Payload::from_serialize(&("upload", file)),
        };
        Packet::event("/", payload.expect("serializable"), None)
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
                black_box(case.decode_typed(&mut decoder));
            });
            let mut out = Vec::new();
            let encode = rate(time, || {
                black_box(case).encode(&mut out);
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
