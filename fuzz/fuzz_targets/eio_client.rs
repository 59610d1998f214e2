//! The Engine.IO client driven through a handshake, then fed arbitrary transport reports,
//! time jumps (forwards and backwards), sends and closes. It must never panic, and it must keep
//! the rules an adapter relies on:
//!
//! - at most one GET and one POST in flight per polling transport (and the closing `1` beside
//!   them);
//! - frames only on a WebSocket that opened and was neither closed by the client nor reported
//!   closed;
//! - nothing at all after the `Close` event, and the close reason never changes;
//! - `handle_timeout(t)` with `t >= poll_timeout()` moves the deadline past `t`;
//! - an open client past its heartbeat deadline has a due `poll_timeout`;
//! - no message before `Open`, no `Upgrade` without `Upgrading`, and no polling request on a
//!   transport the session upgraded away from;
//! - once open, every request names the session (`sid`).

#![no_main]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::Bytes;
use engineio_proto::{
    Client, Config, Event, HttpResponse, Message, Output, Packet, PollRequest, State, Transmit,
    TransportEvent, TransportId, TransportKind, WsFrame,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    options: u8,
    rng_seed: u64,
    ping_interval: u16,
    ping_timeout: u16,
    max_payload: u8,
    offer_upgrade: bool,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Target {
    /// The n-th transport the client created (modulo their number).
    Known(u8),
    /// Any id, most likely one the client never created.
    Any(u8),
}

#[derive(Arbitrary, Debug)]
enum FuzzPacket {
    Open {
        sid: String,
        upgrades: bool,
        interval: u16,
        timeout: u16,
        max: u16,
    },
    Close,
    Ping,
    PingProbe,
    Pong,
    PongProbe,
    Text(String),
    Binary(Vec<u8>),
    Upgrade,
    Noop,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Body {
    Packets(Vec<FuzzPacket>),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Op {
    HttpResponse {
        target: Target,
        post: bool,
        status: u16,
        body: Body,
        cookie: Option<String>,
    },
    HttpError {
        target: Target,
        post: bool,
    },
    WsOpen {
        target: Target,
        cookie: Option<String>,
    },
    WsFrame {
        target: Target,
        packet: FuzzPacket,
        binary: bool,
    },
    WsClose {
        target: Target,
        error: Option<String>,
    },
    Advance {
        ms: u16,
    },
    AdvanceFar {
        secs: u32,
    },
    ToDeadline,
    Back {
        ms: u16,
    },
    Send {
        text: String,
    },
    SendBinary {
        data: Vec<u8>,
    },
    Close,
    CloseWithParseError,
}

fn encode(packet: &FuzzPacket) -> Bytes {
    match packet {
        FuzzPacket::Open {
            sid,
            upgrades,
            interval,
            timeout,
            max,
        } => {
            let upgrades = if *upgrades { r#"["websocket"]"# } else { "[]" };
            let sid = serde_escape(sid);
            Bytes::from(format!(
                r#"0{{"sid":{sid},"upgrades":{upgrades},"pingInterval":{interval},"pingTimeout":{timeout},"maxPayload":{max}}}"#
            ))
        }
        FuzzPacket::Close => Packet::Close.to_text(),
        FuzzPacket::Ping => Packet::Ping { probe: false }.to_text(),
        FuzzPacket::PingProbe => Packet::Ping { probe: true }.to_text(),
        FuzzPacket::Pong => Packet::Pong { probe: false }.to_text(),
        FuzzPacket::PongProbe => Packet::Pong { probe: true }.to_text(),
        FuzzPacket::Text(t) => Packet::Message(Message::text(t.as_str())).to_text(),
        FuzzPacket::Binary(b) => Packet::Message(Message::Binary(Bytes::from(b.clone()))).to_text(),
        FuzzPacket::Upgrade => Packet::Upgrade.to_text(),
        FuzzPacket::Noop => Packet::Noop.to_text(),
        FuzzPacket::Raw(r) => Bytes::from(r.clone()),
    }
}

/// A JSON string literal (the fuzzer's sid may hold anything).
fn serde_escape(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn body(body: &Body) -> Bytes {
    match body {
        Body::Raw(r) => Bytes::from(r.clone()),
        Body::Packets(ps) => {
            let mut out = Vec::new();
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    out.push(0x1e);
                }
                out.extend_from_slice(&encode(p));
            }
            Bytes::from(out)
        }
    }
}

struct Rng(u64);

impl engineio_proto::rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.iter_mut().for_each(|b| *b = self.next_u64() as u8);
    }
}

/// The adapter's bookkeeping, and the checks.
struct Harness {
    client: Client,
    now: Instant,
    /// Every transport the client named, in order.
    transports: Vec<TransportId>,
    gets: BTreeSet<TransportId>,
    posts: BTreeSet<TransportId>,
    ws_requested: BTreeSet<TransportId>,
    ws_open: BTreeSet<TransportId>,
    ws_dead: BTreeSet<TransportId>,
    closed: Option<engineio_proto::CloseReason>,
    opened: usize,
    upgrading: bool,
    /// Polling transports the session left by upgrading.
    abandoned: BTreeSet<TransportId>,
    /// The polling transport in use (the last that carried a GET).
    polling: Option<TransportId>,
}

impl Harness {
    fn drain(&mut self) {
        while let Some(output) = self.client.poll_output() {
            assert!(self.closed.is_none(), "output after Close: {output:?}");
            match output {
                Output::Transmit(t) => self.transmit(t),
                Output::Event(Event::Close(reason)) => {
                    assert_eq!(self.client.state(), State::Closed);
                    assert_eq!(self.client.close_reason(), Some(&reason));
                    self.closed = Some(reason);
                }
                Output::Event(Event::Open(_)) => {
                    self.opened += 1;
                    assert_eq!(self.opened, 1, "opened twice");
                }
                Output::Event(Event::Message(_)) => {
                    assert_eq!(self.opened, 1, "message before open")
                }
                Output::Event(Event::Upgrading(_)) => {
                    assert!(!self.upgrading);
                    self.upgrading = true;
                }
                Output::Event(Event::Upgrade(_)) => {
                    assert!(self.upgrading, "upgrade without upgrading");
                    self.upgrading = false;
                    self.abandoned.extend(self.polling);
                }
                Output::Event(Event::UpgradeError { .. }) => self.upgrading = false,
                Output::Event(_) => {}
            }
        }
        self.check();
    }

    fn transmit(&mut self, t: Transmit) {
        match t {
            Transmit::HttpGet { transport, url, .. } => {
                self.note(transport);
                self.polling = Some(transport);
                self.http_checks(transport, url.scheme(), url.query());
                assert!(
                    self.gets.insert(transport),
                    "second GET in flight on {transport:?}"
                );
            }
            Transmit::HttpPost {
                transport,
                body,
                headers,
                ..
            } => {
                self.note(transport);
                assert!(!body.is_empty());
                assert!(headers.iter().any(|(k, _)| k == "content-type"));
                // The goodbye may go out beside a POST in flight, as the reference's does.
                assert!(
                    self.posts.insert(transport) || is_goodbye(&body),
                    "second POST in flight on {transport:?}"
                );
            }
            Transmit::WsOpen { transport, url, .. } => {
                self.note(transport);
                assert!(url.scheme().starts_with("ws"));
                assert!(
                    self.ws_requested.insert(transport),
                    "WsOpen twice for {transport:?}"
                );
            }
            Transmit::WsSend { transport, .. } => {
                assert!(
                    self.ws_open.contains(&transport) && !self.ws_dead.contains(&transport),
                    "frame on a WebSocket that is not open: {transport:?}"
                );
            }
            Transmit::WsClose { transport } => {
                assert!(self.ws_requested.contains(&transport));
                self.ws_dead.insert(transport);
            }
        }
    }

    fn http_checks(&self, transport: TransportId, scheme: &str, query: Option<&str>) {
        assert!(scheme.starts_with("http"));
        assert!(
            !self.abandoned.contains(&transport),
            "polling after the upgrade"
        );
        let has_sid = query
            .unwrap_or("")
            .split('&')
            .any(|pair| pair.split('=').next() == Some("sid"));
        assert_eq!(has_sid, self.opened == 1, "{query:?}");
    }

    fn note(&mut self, id: TransportId) {
        if !self.transports.contains(&id) {
            self.transports.push(id);
        }
    }

    fn check(&self) {
        match &self.closed {
            Some(reason) => {
                assert_eq!(self.client.state(), State::Closed);
                assert_eq!(self.client.close_reason(), Some(reason));
                assert_eq!(self.client.poll_timeout(), None);
            }
            None => {
                assert_ne!(self.client.state(), State::Closed);
                // A deadline may fall due while an input is processed (a zero heartbeat
                // window); then the client must ask for `handle_timeout` at once.
                if self.client.is_expired(self.now) {
                    assert!(
                        self.client.poll_timeout().is_some_and(|t| t <= self.now),
                        "expired without a due timeout"
                    );
                }
            }
        }
    }

    fn target(&self, target: &Target) -> TransportId {
        match target {
            Target::Known(i) if !self.transports.is_empty() => {
                self.transports[*i as usize % self.transports.len()]
            }
            Target::Known(i) | Target::Any(i) => TransportId(u64::from(*i)),
        }
    }

    fn run(&mut self, op: &Op) {
        let now = self.now;
        match op {
            Op::HttpResponse {
                target,
                post,
                status,
                body: b,
                cookie,
            } => {
                let id = self.target(target);
                let request = if *post {
                    PollRequest::Post
                } else {
                    PollRequest::Get
                };
                self.answered(id, *post);
                let mut headers = vec![(
                    "date".to_owned(),
                    "Wed, 01 Jan 2025 00:00:00 GMT".to_owned(),
                )];
                if let Some(c) = cookie {
                    headers.push(("set-cookie".to_owned(), c.clone()));
                }
                let status = if *status % 4 == 0 { *status } else { 200 };
                let response = HttpResponse {
                    status,
                    headers,
                    body: body(b),
                };
                self.client.handle_transport(
                    now,
                    id,
                    TransportEvent::HttpResponse { request, response },
                );
            }
            Op::HttpError { target, post } => {
                let id = self.target(target);
                let request = if *post {
                    PollRequest::Post
                } else {
                    PollRequest::Get
                };
                self.answered(id, *post);
                self.client.handle_transport(
                    now,
                    id,
                    TransportEvent::HttpError {
                        request,
                        error: engineio_proto::IoError::new(
                            engineio_proto::IoErrorKind::Closed,
                            "reset",
                        ),
                    },
                );
            }
            Op::WsOpen { target, cookie } => {
                let id = self.target(target);
                if self.ws_requested.contains(&id) && !self.ws_dead.contains(&id) {
                    self.ws_open.insert(id);
                }
                let headers: Vec<(String, String)> = cookie
                    .iter()
                    .map(|c| ("set-cookie".to_owned(), c.clone()))
                    .collect();
                self.client
                    .handle_transport(now, id, TransportEvent::WsOpen { headers });
            }
            Op::WsFrame {
                target,
                packet,
                binary,
            } => {
                let id = self.target(target);
                let frame = match packet {
                    FuzzPacket::Binary(b) if *binary => WsFrame::Binary(Bytes::from(b.clone())),
                    other => {
                        let text = encode(other);
                        if std::str::from_utf8(&text).is_err() {
                            // WebSocket libraries only deliver UTF-8 text frames.
                            WsFrame::Binary(text)
                        } else {
                            WsFrame::Text(text)
                        }
                    }
                };
                self.client
                    .handle_transport(now, id, TransportEvent::WsFrame(frame));
            }
            Op::WsClose { target, error } => {
                let id = self.target(target);
                self.ws_dead.insert(id);
                self.client.handle_transport(
                    now,
                    id,
                    TransportEvent::WsClose {
                        error: io_error(error.clone()),
                    },
                );
            }
            Op::Advance { ms } => self.tick(now + Duration::from_millis(u64::from(*ms))),
            Op::AdvanceFar { secs } => self.tick(now + Duration::from_secs(u64::from(*secs))),
            Op::ToDeadline => {
                if let Some(at) = self.client.poll_timeout() {
                    self.tick(at.max(now));
                }
            }
            Op::Back { ms } => {
                // Time going backwards: inputs dated earlier than the last one.
                let earlier = now
                    .checked_sub(Duration::from_millis(u64::from(*ms)))
                    .unwrap_or(now);
                self.client.handle_timeout(earlier);
            }
            Op::Send { text } => {
                let r = self.client.send(now, Message::text(text.as_str()));
                assert_eq!(
                    r.is_err(),
                    self.client.state() == State::Closed || self.client.state() == State::Closing
                );
            }
            Op::SendBinary { data } => {
                let _ = self
                    .client
                    .send(now, Message::Binary(Bytes::from(data.clone())));
            }
            Op::Close => self.client.close(now),
            Op::CloseWithParseError => self.client.close_with(
                now,
                engineio_proto::CloseReason::ParseError {
                    description: "fuzz".into(),
                },
            ),
        }
        self.drain();
    }

    /// The harness answers a request: it is no longer in flight (only if it was).
    fn answered(&mut self, id: TransportId, post: bool) {
        if post {
            self.posts.remove(&id);
        } else {
            self.gets.remove(&id);
        }
    }

    fn tick(&mut self, at: Instant) {
        self.now = at;
        let due = self.client.poll_timeout().is_some_and(|t| t <= at);
        self.client.handle_timeout(at);
        if due {
            assert!(
                self.client.poll_timeout().is_none_or(|t| t > at),
                "handle_timeout left the deadline due"
            );
        }
    }
}

fuzz_target!(|input: Input| {
    let mut config = Config::new("http://localhost:3000/").unwrap();
    let o = input.options;
    config.transports = match o & 3 {
        0 => vec![TransportKind::Polling],
        1 => vec![TransportKind::WebSocket],
        2 => vec![TransportKind::WebSocket, TransportKind::Polling],
        _ => vec![TransportKind::Polling, TransportKind::WebSocket],
    };
    config.upgrade = o & 4 == 0;
    config.force_base64 = o & 8 != 0;
    config.try_all_transports = o & 16 != 0;
    config.with_credentials = o & 32 != 0;
    config.remember_upgrade = o & 64 != 0;
    config.probe_timeout = Duration::from_millis(u64::from(input.ping_timeout) + 1);
    let t0 = Instant::now();
    let client = Client::new(config, t0, &mut Rng(input.rng_seed), o & 128 != 0).unwrap();
    let mut h = Harness {
        client,
        now: t0,
        transports: Vec::new(),
        gets: BTreeSet::new(),
        posts: BTreeSet::new(),
        ws_requested: BTreeSet::new(),
        ws_open: BTreeSet::new(),
        ws_dead: BTreeSet::new(),
        closed: None,
        opened: 0,
        upgrading: false,
        abandoned: BTreeSet::new(),
        polling: None,
    };
    h.drain();

    // The handshake, on whichever transport the client chose.
    let open = FuzzPacket::Open {
        sid: "fuzz".into(),
        upgrades: input.offer_upgrade,
        interval: input.ping_interval,
        timeout: input.ping_timeout,
        max: u16::from(input.max_payload),
    };
    let first = h.transports[0];
    if h.ws_requested.contains(&first) {
        h.run(&Op::WsOpen {
            target: Target::Known(0),
            cookie: None,
        });
        h.run(&Op::WsFrame {
            target: Target::Known(0),
            packet: open,
            binary: false,
        });
    } else {
        let response = Op::HttpResponse {
            target: Target::Known(0),
            post: false,
            status: 200,
            body: Body::Packets(vec![open]),
            cookie: None,
        };
        h.run(&response);
    }
    assert_eq!(h.opened, 1, "the handshake opens the session");

    for op in input.ops.iter().take(256) {
        h.run(op);
    }
});

/// A fuzzed WebSocket failure: an empty message stands for a reset without a close frame
/// (kind `Closed`, "transport close"), any other for a failure.
fn io_error(error: Option<String>) -> Option<engineio_proto::IoError> {
    error.map(|e| {
        let kind = if e.is_empty() {
            engineio_proto::IoErrorKind::Closed
        } else {
            engineio_proto::IoErrorKind::Other
        };
        engineio_proto::IoError::new(kind, e)
    })
}

/// The closing `1` (v4) or `1:1` (v3 framing): the only POST that may overlap another.
fn is_goodbye(body: &[u8]) -> bool {
    body == b"1" || body == b"1:1"
}
