//! The Socket.IO manager over a WebSocket-only or polling-only engine, fed an arbitrary
//! sequence of server deliveries (handshakes, Socket.IO packets valid or not, attachments,
//! pings, closes, HTTP responses with any status and body), user commands (sockets, connect,
//! disconnect, emits with and without ack / volatile, ack replies, auth, manager close/open)
//! and time jumps. It must never panic, and it must keep these rules:
//!
//! - what the client writes always decodes (Engine.IO, then Socket.IO);
//! - no EVENT, ACK or DISCONNECT for a namespace on an engine before a CONNECT reply for that
//!   namespace was delivered on that engine (the server's rule, protocol.md 2.4);
//! - every `Ack` event resolves an emit that asked for an ack, at most once, and hands back
//!   the waiter that emit gave;
//! - after `handle_timeout(now)`, `poll_timeout()` is never in the past, and a deadline due
//!   at `now` clears within a few more calls (no livelock);
//! - at most one GET and one POST in flight per polling transport; WebSocket frames only on a
//!   WebSocket that opened and was not closed.

#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::Bytes;
use engineio_proto::packet::{decode_payload, encode_payload};
use engineio_proto::{
    HttpResponse, Message, Packet as EnginePacket, PollRequest, Transmit, TransportEvent,
    TransportId, TransportKind, WsFrame,
};
use libfuzzer_sys::fuzz_target;
use socketio_proto::codec::{Decoder, Limits, PacketKind, Payload};
use socketio_proto::{EmitId, EmitOptions, Event, Manager, ManagerConfig, Output, SocketConfig};

const NAMESPACES: [&str; 3] = ["/", "/a", "/b"];
const NAMES: [&str; 4] = ["news", "message", "x", "disconnect"];

fn nsp(i: u8) -> &'static str {
    NAMESPACES[usize::from(i) % NAMESPACES.len()]
}

#[derive(Arbitrary, Debug)]
struct Input {
    websocket: bool,
    rng_seed: u64,
    options: u8,
    delay_ms: u8,
    ops: Vec<Op>,
}

#[derive(Arbitrary, Debug)]
enum Arg {
    Num(i32),
    Str(String),
    Null,
    Bool(bool),
    Obj(String),
}

/// Something the server sends, as the Socket.IO layer sees it.
#[derive(Arbitrary, Debug)]
enum Sio {
    ConnectReply {
        nsp: u8,
        sid: Option<String>,
        pid: Option<String>,
    },
    ConnectError {
        nsp: u8,
        message: String,
        data: Option<i32>,
    },
    Event {
        nsp: u8,
        id: Option<u16>,
        name: u8,
        args: Vec<Arg>,
        offset: Option<u8>,
    },
    BinaryEvent {
        nsp: u8,
        id: Option<u16>,
        announced: u8,
        blobs: Vec<Vec<u8>>,
    },
    Ack {
        nsp: u8,
        id: u16,
        args: Vec<Arg>,
    },
    BinaryAck {
        nsp: u8,
        id: u16,
        blobs: Vec<Vec<u8>>,
    },
    Disconnect {
        nsp: u8,
    },
    Raw(String),
    Attachment(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Op {
    // ----- the server and the network -----
    Handshake {
        ping_interval: u16,
        ping_timeout: u16,
    },
    Send(Vec<Sio>),
    Ping,
    Noop,
    EngineClose,
    HttpResponse {
        post: bool,
        status: u16,
        body: Vec<u8>,
    },
    HttpError {
        post: bool,
    },
    WsOpen,
    WsClose {
        error: bool,
    },
    // ----- the application -----
    AddSocket {
        nsp: u8,
        ack_timeout: Option<u8>,
        retries: Option<u8>,
    },
    Connect {
        nsp: u8,
    },
    Disconnect {
        nsp: u8,
    },
    Emit {
        nsp: u8,
        name: u8,
        arg: Arg,
        binary: bool,
        ack: bool,
        volatile: bool,
        timeout: Option<u16>,
    },
    AckReply {
        pick: u8,
        binary: bool,
    },
    SetAuth {
        nsp: u8,
        auth: Option<u8>,
    },
    ClearSendBuffer {
        nsp: u8,
    },
    ManagerClose,
    ManagerOpen,
    SetReconnection(bool),
    // ----- time -----
    Advance {
        ms: u16,
    },
    AdvanceFar {
        secs: u16,
    },
    ToDeadline,
    Back {
        ms: u16,
    },
}

fn json_string(s: &str) -> String {
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

fn json_arg(arg: &Arg) -> String {
    match arg {
        Arg::Num(n) => n.to_string(),
        Arg::Str(s) => json_string(s),
        Arg::Null => "null".into(),
        Arg::Bool(b) => b.to_string(),
        Arg::Obj(s) => format!("{{\"k\":{}}}", json_string(s)),
    }
}

/// `<digit>[<n>-][<nsp>,][<id>]`.
fn header(kind: char, attachments: Option<usize>, nsp: &str, id: Option<u16>) -> String {
    let mut h = String::new();
    h.push(kind);
    if let Some(n) = attachments {
        h.push_str(&format!("{n}-"));
    }
    if nsp != "/" {
        h.push_str(nsp);
        h.push(',');
    }
    if let Some(id) = id {
        h.push_str(&id.to_string());
    }
    h
}

fn placeholders(n: usize) -> String {
    (0..n)
        .map(|i| format!(",{{\"_placeholder\":true,\"num\":{i}}}"))
        .collect()
}

/// The engine messages for one server-side Socket.IO delivery.
fn messages(sio: &Sio) -> Vec<Message> {
    match sio {
        Sio::ConnectReply { nsp: n, sid, pid } => {
            let mut body = String::from("{");
            if let Some(sid) = sid {
                body.push_str(&format!("\"sid\":{}", json_string(sid)));
            }
            if let Some(pid) = pid {
                if sid.is_some() {
                    body.push(',');
                }
                body.push_str(&format!("\"pid\":{}", json_string(pid)));
            }
            body.push('}');
            vec![Message::text(format!(
                "{}{body}",
                header('0', None, nsp(*n), None)
            ))]
        }
        Sio::ConnectError {
            nsp: n,
            message,
            data,
        } => {
            let data = data
                .map(|d| format!(",\"data\":{{\"n\":{d}}}"))
                .unwrap_or_default();
            vec![Message::text(format!(
                "{}{{\"message\":{}{data}}}",
                header('4', None, nsp(*n), None),
                json_string(message)
            ))]
        }
        Sio::Event {
            nsp: n,
            id,
            name,
            args,
            offset,
        } => {
            let mut json = json_string(NAMES[usize::from(*name) % NAMES.len()]);
            for a in args.iter().take(6) {
                json.push(',');
                json.push_str(&json_arg(a));
            }
            if let Some(o) = offset {
                json.push_str(&format!(",\"off-{o}\""));
            }
            vec![Message::text(format!(
                "{}[{json}]",
                header('2', None, nsp(*n), *id)
            ))]
        }
        Sio::BinaryEvent {
            nsp: n,
            id,
            announced,
            blobs,
        } => {
            let count = usize::from(*announced % 4);
            let mut out = vec![Message::text(format!(
                "{}[\"news\"{}]",
                header('5', Some(count), nsp(*n), *id),
                placeholders(count)
            ))];
            out.extend(
                blobs
                    .iter()
                    .take(5)
                    .map(|b| Message::Binary(Bytes::from(b.clone()))),
            );
            out
        }
        Sio::Ack { nsp: n, id, args } => {
            let json: Vec<String> = args.iter().take(6).map(json_arg).collect();
            vec![Message::text(format!(
                "{}[{}]",
                header('3', None, nsp(*n), Some(*id)),
                json.join(",")
            ))]
        }
        Sio::BinaryAck { nsp: n, id, blobs } => {
            let blobs: Vec<&Vec<u8>> = blobs.iter().take(4).collect();
            let mut out = vec![Message::text(format!(
                "{}[1{}]",
                header('6', Some(blobs.len()), nsp(*n), Some(*id)),
                placeholders(blobs.len())
            ))];
            out.extend(
                blobs
                    .into_iter()
                    .map(|b| Message::Binary(Bytes::from(b.clone()))),
            );
            out
        }
        Sio::Disconnect { nsp: n } => vec![Message::text(header('1', None, nsp(*n), None))],
        Sio::Raw(text) => vec![Message::text(text.clone())],
        Sio::Attachment(data) => vec![Message::Binary(Bytes::from(data.clone()))],
    }
}

fn generation(id: TransportId) -> u64 {
    id.0 >> 32
}

struct Rng(u64);

impl engineio_proto::rand_core::RngCore for Rng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
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

/// The adapter and the server's bookkeeping, and the checks.
struct Harness {
    /// Each ack's waiter is a token: the emit's number among those that asked for an ack.
    manager: Manager<u64>,
    now: Instant,
    websocket: bool,
    /// Polling requests in flight: (transport, is POST).
    in_flight: BTreeSet<(TransportId, bool)>,
    ws_requested: BTreeSet<TransportId>,
    ws_open: BTreeSet<TransportId>,
    ws_dead: BTreeSet<TransportId>,
    /// The newest WebSocket the client asked for.
    ws_current: Option<TransportId>,
    /// The newest polling transport.
    polling_current: Option<TransportId>,
    /// Server messages waiting for a GET.
    pending: Vec<Message>,
    /// Per engine generation: a decoder of what the client wrote.
    client_decoders: BTreeMap<u64, Decoder>,
    /// Per engine generation: namespaces a CONNECT reply was delivered for.
    replied: BTreeMap<u64, BTreeSet<String>>,
    /// Emits that asked for an ack, with their waiter, and those resolved.
    ack_emits: BTreeMap<EmitId, u64>,
    resolved: BTreeSet<EmitId>,
    /// Ack requests from the server: (namespace, id).
    requests: Vec<(String, u64)>,
}

impl Harness {
    fn drain(&mut self) {
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::Transmit(t) => self.transmit(t),
                Output::Event(e) => self.event(e),
            }
        }
    }

    fn event(&mut self, e: Event<u64>) {
        match e {
            Event::Ack { emit, waiter, .. } => {
                assert_eq!(
                    self.ack_emits.get(&emit),
                    Some(&waiter),
                    "an ack for {emit:?}, which did not ask for one or gave another waiter"
                );
                assert!(self.resolved.insert(emit), "{emit:?} resolved twice");
            }
            Event::Message {
                nsp, ack: Some(id), ..
            } => self.requests.push((nsp.to_string(), id)),
            Event::Connect { nsp, .. } | Event::Disconnect { nsp, .. } => {
                assert!(self.manager.socket(&nsp).is_some());
            }
            _ => {}
        }
    }

    fn transmit(&mut self, t: Transmit) {
        match t {
            Transmit::HttpGet { transport, .. } => {
                assert!(!self.websocket);
                assert!(
                    self.in_flight.insert((transport, false)),
                    "a second GET in flight on {transport:?}"
                );
                if self.polling_current.is_none_or(|c| c.0 < transport.0) {
                    self.polling_current = Some(transport);
                }
            }
            Transmit::HttpPost {
                transport, body, ..
            } => {
                // The goodbye may go out beside a POST in flight, as the reference's does.
                assert!(
                    self.in_flight.insert((transport, true))
                        || body[..] == b"1"[..]
                        || body[..] == b"1:1"[..],
                    "a second POST in flight on {transport:?}"
                );
                for packet in decode_payload(body) {
                    let packet = packet.expect("the client's POST body decodes");
                    if let EnginePacket::Message(m) = packet {
                        self.client_wrote(transport, m);
                    }
                }
            }
            Transmit::WsOpen { transport, .. } => {
                assert!(self.websocket);
                assert!(self.ws_requested.insert(transport));
                self.ws_current = Some(transport);
            }
            Transmit::WsSend { transport, frame } => {
                assert!(
                    self.ws_open.contains(&transport) && !self.ws_dead.contains(&transport),
                    "a frame on a WebSocket that is not open: {transport:?}"
                );
                let message = match frame {
                    WsFrame::Text(text) => {
                        match EnginePacket::decode_text(text).expect("the client's frame decodes") {
                            EnginePacket::Message(m) => Some(m),
                            _ => None,
                        }
                    }
                    WsFrame::Binary(data) => Some(Message::Binary(data)),
                };
                if let Some(m) = message {
                    self.client_wrote(transport, m);
                }
            }
            Transmit::WsClose { transport } => {
                assert!(self.ws_requested.contains(&transport));
                self.ws_dead.insert(transport);
            }
        }
    }

    /// The server's view of what the client wrote: it must decode and respect the rules.
    fn client_wrote(&mut self, transport: TransportId, message: Message) {
        let g = generation(transport);
        let decoder = self
            .client_decoders
            .entry(g)
            .or_insert_with(|| Decoder::new(Limits::default()));
        let packet = match decoder.decode(message) {
            Ok(Some(packet)) => packet,
            Ok(None) => return,
            Err(e) => panic!("the client wrote a packet that does not decode: {e}"),
        };
        let replied = self.replied.entry(g).or_default();
        match packet.kind {
            PacketKind::Connect => {}
            PacketKind::ConnectError => panic!("the client wrote CONNECT_ERROR"),
            PacketKind::Event | PacketKind::Ack | PacketKind::Disconnect => {
                assert!(
                    replied.contains(packet.nsp.as_str()),
                    "{:?} for {:?} on engine {g} before any CONNECT reply there",
                    packet.kind,
                    packet.nsp
                );
                if packet.kind == PacketKind::Disconnect {
                    replied.remove(packet.nsp.as_str());
                }
            }
        }
    }

    /// Delivers server messages on the current transport.
    fn deliver(&mut self, batch: Vec<Message>) {
        if self.websocket {
            let Some(t) = self.ws_current else { return };
            for m in batch {
                self.mark_replies(t, &m);
                let frame = match m {
                    Message::Text(_) => WsFrame::Text(EnginePacket::Message(m).to_text()),
                    Message::Binary(b) => WsFrame::Binary(b),
                };
                self.manager
                    .handle_transport(self.now, t, TransportEvent::WsFrame(frame));
                self.drain();
            }
        } else {
            self.pending.extend(batch);
            self.flush_pending();
        }
    }

    /// Notes a CONNECT reply delivered on `t`'s engine. An over-approximation: anything that
    /// decodes as CONNECT counts, so the rule check never blames the client for a reply it
    /// could not see.
    fn mark_replies(&mut self, t: TransportId, m: &Message) {
        if let Message::Text(text) = m
            && let Ok(Some(p)) = Decoder::new(Limits::default()).decode(Message::Text(text.clone()))
            && p.kind == PacketKind::Connect
        {
            self.replied.entry(generation(t)).or_default().insert(p.nsp.to_string());
        }
    }

    /// Answers the newest GET in flight with the pending messages.
    fn flush_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let Some(&(t, _)) = self.in_flight.iter().rev().find(|(_, post)| !post) else {
            return;
        };
        let pending = std::mem::take(&mut self.pending);
        for m in &pending {
            self.mark_replies(t, m);
        }
        let packets: Vec<EnginePacket> = pending.into_iter().map(EnginePacket::Message).collect();
        let body = encode_payload(&packets);
        self.respond(t, false, 200, body);
    }

    fn respond(&mut self, t: TransportId, post: bool, status: u16, body: Bytes) {
        self.in_flight.remove(&(t, post));
        let request = if post {
            PollRequest::Post
        } else {
            PollRequest::Get
        };
        let response = HttpResponse {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=UTF-8".into())],
            body,
        };
        self.manager.handle_transport(
            self.now,
            t,
            TransportEvent::HttpResponse { request, response },
        );
        self.drain();
    }

    fn engine_packet(&mut self, packet: EnginePacket) {
        if self.websocket {
            if let Some(t) = self.ws_current {
                self.manager.handle_transport(
                    self.now,
                    t,
                    TransportEvent::WsFrame(WsFrame::Text(packet.to_text())),
                );
            }
        } else if let Some(&(t, _)) = self.in_flight.iter().rev().find(|(_, post)| !post) {
            self.respond(t, false, 200, packet.to_text());
        }
        self.drain();
    }

    fn tick(&mut self, at: Instant) {
        self.now = at;
        self.manager.handle_timeout(at);
        self.drain();
        assert!(
            self.manager.poll_timeout().is_none_or(|t| t >= at),
            "poll_timeout in the past after handle_timeout"
        );
        // A step due at once (the reconnection attempt opens one call after it is announced)
        // is fine; one that never clears is a livelock.
        for _ in 0..16 {
            if self.manager.poll_timeout() != Some(at) {
                return;
            }
            self.manager.handle_timeout(at);
            self.drain();
        }
        panic!("poll_timeout stays at now after 16 handle_timeout calls");
    }

    fn run(&mut self, op: &Op) {
        let now = self.now;
        match op {
            Op::Handshake {
                ping_interval,
                ping_timeout,
            } => {
                let open = format!(
                    r#"{{"sid":"fuzz","upgrades":[],"pingInterval":{ping_interval},"pingTimeout":{ping_timeout},"maxPayload":100000}}"#
                );
                let packet = EnginePacket::Open(Bytes::from(open));
                if self.websocket
                    && let Some(t) = self.ws_current
                    && !self.ws_open.contains(&t)
                    && !self.ws_dead.contains(&t)
                {
                    self.ws_open.insert(t);
                    self.manager.handle_transport(
                        now,
                        t,
                        TransportEvent::WsOpen {
                            headers: Vec::new(),
                        },
                    );
                    self.drain();
                }
                self.engine_packet(packet);
            }
            Op::Send(batch) => {
                let messages: Vec<Message> = batch.iter().take(8).flat_map(messages).collect();
                self.deliver(messages);
            }
            Op::Ping => self.engine_packet(EnginePacket::Ping { probe: false }),
            Op::Noop => self.engine_packet(EnginePacket::Noop),
            Op::EngineClose => self.engine_packet(EnginePacket::Close),
            Op::HttpResponse { post, status, body } => {
                if let Some(&(t, _)) = self.in_flight.iter().rev().find(|(_, p)| p == post) {
                    let status = if status % 3 == 0 { *status } else { 200 };
                    self.respond(t, *post, status, Bytes::from(body.clone()));
                }
            }
            Op::HttpError { post } => {
                if let Some(&(t, _)) = self.in_flight.iter().rev().find(|(_, p)| p == post) {
                    self.in_flight.remove(&(t, *post));
                    let request = if *post {
                        PollRequest::Post
                    } else {
                        PollRequest::Get
                    };
                    self.manager.handle_transport(
                        now,
                        t,
                        TransportEvent::HttpError {
                            request,
                            error: engineio_proto::IoError::new(
                                engineio_proto::IoErrorKind::Closed,
                                "reset",
                            ),
                        },
                    );
                    self.drain();
                }
            }
            Op::WsOpen => {
                if let Some(t) = self.ws_current
                    && !self.ws_dead.contains(&t)
                {
                    self.ws_open.insert(t);
                    self.manager.handle_transport(
                        now,
                        t,
                        TransportEvent::WsOpen {
                            headers: Vec::new(),
                        },
                    );
                    self.drain();
                }
            }
            Op::WsClose { error } => {
                if let Some(t) = self.ws_current
                    && !self.ws_dead.contains(&t)
                {
                    self.ws_dead.insert(t);
                    let error = error.then(|| "reset".to_owned());
                    self.manager.handle_transport(
                        now,
                        t,
                        TransportEvent::WsClose {
                            error: io_error(error),
                        },
                    );
                    self.drain();
                }
            }
            Op::AddSocket {
                nsp: n,
                ack_timeout,
                retries,
            } => {
                let mut config = SocketConfig::default();
                config.ack_timeout = ack_timeout.map(|t| Duration::from_millis(u64::from(t)));
                config.retries = retries.map(|r| u32::from(r % 4));
                let _ = self.manager.add_socket(nsp(*n), config).map(|_| ());
            }
            Op::Connect { nsp: n } => {
                if let Some(mut s) = self.manager.socket_mut(nsp(*n)) {
                    s.connect(now);
                }
                self.drain();
            }
            Op::Disconnect { nsp: n } => {
                if let Some(mut s) = self.manager.socket_mut(nsp(*n)) {
                    s.disconnect(now);
                }
                self.drain();
            }
            Op::Emit {
                nsp: n,
                name,
                arg,
                binary,
                ack,
                volatile,
                timeout,
            } => {
                let name = json_string(NAMES[usize::from(*name) % NAMES.len()]);
                let json = format!("[{name},{}]", json_arg(arg));
                let payload = if *binary {
                    let blob = Bytes::from_static(&[1, 2, 3]);
                    Payload::from_serialize(&(NAMES[0], blob, 7)).unwrap()
                } else {
                    Payload::from_json(Bytes::from(json)).unwrap()
                };
                let mut options = EmitOptions::default();
                if let Some(t) = timeout {
                    options = options.timeout(Duration::from_millis(u64::from(*t) + 1));
                }
                if *volatile {
                    options = options.volatile();
                }
                let token = self.ack_emits.len() as u64 + 1;
                if let Some(mut s) = self.manager.socket_mut(nsp(*n)) {
                    let emitted = if *ack {
                        s.emit_with_ack(now, payload, options, token)
                    } else {
                        s.emit(now, payload, options)
                    };
                    if let Ok(emitted) = emitted
                        && *ack
                    {
                        self.ack_emits.insert(emitted.id, token);
                    }
                }
                self.drain();
            }
            Op::AckReply { pick, binary } => {
                let (nsp, id) = if self.requests.is_empty() {
                    ("/".to_owned(), u64::from(*pick))
                } else {
                    self.requests[usize::from(*pick) % self.requests.len()].clone()
                };
                let payload = if *binary {
                    Payload::from_serialize(&(Bytes::from_static(&[9]),)).unwrap()
                } else {
                    Payload::from_json(Bytes::from_static(b"[\"ok\"]")).unwrap()
                };
                if let Some(mut s) = self.manager.socket_mut(&nsp) {
                    let _ = s.ack(now, id, payload);
                }
                self.drain();
            }
            Op::SetAuth { nsp: n, auth } => {
                let payload = auth.map(|a| {
                    let json = if a % 5 == 0 {
                        "[1]".to_owned()
                    } else {
                        format!("{{\"token\":{a}}}")
                    };
                    Payload::from_json(Bytes::from(json)).unwrap()
                });
                if let Some(mut s) = self.manager.socket_mut(nsp(*n)) {
                    let _ = s.set_auth(payload);
                }
            }
            Op::ClearSendBuffer { nsp: n } => {
                if let Some(mut s) = self.manager.socket_mut(nsp(*n)) {
                    s.clear_send_buffer(now);
                }
                self.drain();
            }
            Op::ManagerClose => {
                self.manager.close(now);
                self.drain();
            }
            Op::ManagerOpen => {
                self.manager.open(now);
                self.drain();
            }
            Op::SetReconnection(on) => self.manager.set_reconnection(*on),
            Op::Advance { ms } => self.tick(now + Duration::from_millis(u64::from(*ms))),
            Op::AdvanceFar { secs } => self.tick(now + Duration::from_secs(u64::from(*secs))),
            Op::ToDeadline => {
                if let Some(at) = self.manager.poll_timeout() {
                    self.tick(at.max(now));
                }
            }
            Op::Back { ms } => {
                // An input dated earlier than the last one: clamped, never a panic.
                let earlier = now
                    .checked_sub(Duration::from_millis(u64::from(*ms)))
                    .unwrap_or(now);
                self.manager.handle_timeout(earlier);
                self.drain();
            }
        }
        if !self.websocket {
            self.flush_pending();
        }
    }
}

fuzz_target!(|input: Input| {
    let mut config = ManagerConfig::new("http://localhost:3000").unwrap();
    config.engine.transports = vec![if input.websocket {
        TransportKind::WebSocket
    } else {
        TransportKind::Polling
    }];
    let o = input.options;
    config.reconnection = o & 1 == 0;
    config.reconnection_attempts = (o & 2 != 0).then_some(u32::from(o >> 5));
    config.reconnection_delay = Duration::from_millis(u64::from(input.delay_ms));
    config.reconnection_delay_max = Duration::from_millis(u64::from(input.delay_ms) * 4);
    config.randomization_factor = f64::from(o >> 2 & 7) / 7.0;
    config.timeout = (o & 128 == 0).then_some(Duration::from_millis(1500));
    let t0 = Instant::now();
    let Ok(manager) = Manager::with_waiters(config, t0, Box::new(Rng(input.rng_seed))) else {
        return;
    };
    let mut h = Harness {
        manager,
        now: t0,
        websocket: input.websocket,
        in_flight: BTreeSet::new(),
        ws_requested: BTreeSet::new(),
        ws_open: BTreeSet::new(),
        ws_dead: BTreeSet::new(),
        ws_current: None,
        polling_current: None,
        pending: Vec::new(),
        client_decoders: BTreeMap::new(),
        replied: BTreeMap::new(),
        ack_emits: BTreeMap::new(),
        resolved: BTreeSet::new(),
        requests: Vec::new(),
    };
    for op in input.ops.iter().take(200) {
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
