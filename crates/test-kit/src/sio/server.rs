//! The fake Socket.IO v5 server: an [`Application`] on the fake Engine.IO server that decodes
//! each session's messages with the client crate's decoder, keeps the namespace sockets, and
//! records everything it receives.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use bytes::Bytes;
use engineio_proto::Message;
use serde_json::value::RawValue;
use socketio_proto::codec::{Decoder, Limits, Packet, PacketKind, Payload, encode};

use super::config::{AckPolicy, ConnectRefusal, ConnectRequest, SioConfig};
use crate::server::{Application, SessionCtx, ViolationKind};

/// One packet the server received, whole (binary packets once their attachments arrived).
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// When it was complete.
    pub at: Instant,
    /// The Engine.IO session it came on.
    pub eio_sid: String,
    /// The packet.
    pub packet: Packet,
    /// The Socket.IO text as received (without the Engine.IO `4`), e.g. `2/admin,1["x"]` or
    /// `51-["up",{"_placeholder":true,"num":0}]`.
    pub text: String,
}

/// An ACK the client sent for a server event that asked for one.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientAck {
    /// When it arrived.
    pub at: Instant,
    /// The namespace.
    pub nsp: String,
    /// The server's ack id.
    pub id: u64,
    /// The ack arguments.
    pub payload: Payload,
    /// Whether the server was waiting for this id (false: unknown or already answered, and
    /// ignored like the Node server does).
    pub expected: bool,
}

/// How a CONNECT ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome {
    /// Connected with this socket id and private session id.
    Connected {
        /// The socket id.
        sid: String,
        /// The private session id (recovery on).
        pid: Option<String>,
        /// The previous session was restored.
        recovered: bool,
    },
    /// Refused with this message (a middleware, or `Invalid namespace`).
    Refused(String),
}

/// One CONNECT the server handled.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// When.
    pub at: Instant,
    /// The Engine.IO session.
    pub eio_sid: String,
    /// The namespace.
    pub nsp: String,
    /// The CONNECT payload.
    pub auth: Option<serde_json::Value>,
    /// What the server answered.
    pub outcome: JoinOutcome,
}

/// What a scripted server emit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerEmit {
    /// The server's ack id, when the emit asked for an ack.
    pub ack: Option<u64>,
    /// The recovery offset appended to the arguments, when recovery is on.
    pub offset: Option<String>,
    /// Whether it was sent now (false: the socket is disconnected and the event is only
    /// stored, for a recovery to replay).
    pub sent: bool,
}

/// One Engine.IO session as the Socket.IO server sees it (the Node `Client`).
#[derive(Debug)]
struct Conn {
    decoder: Decoder,
    /// The text of a binary packet waiting for its attachments.
    header: Option<String>,
    /// Connected namespaces → socket.
    nsps: BTreeMap<String, usize>,
    /// Namespaces the server disconnected on this session: packets the client sent before it
    /// heard of it are a race, not a violation, and are dropped.
    left: BTreeSet<String>,
    /// No namespace joined in time → the session is closed.
    connect_deadline: Option<Instant>,
    /// Acks to send later: (due, sequence, namespace, messages).
    delayed: Vec<(Instant, u64, String, Vec<Message>)>,
    open: bool,
}

/// One namespace socket (kept after it disconnects, for recovery and inspection).
#[derive(Debug)]
struct Sock {
    nsp: String,
    sid: String,
    pid: Option<String>,
    /// The Engine.IO session while connected.
    eio: Option<String>,
    /// Disconnected by the transport (not by either side's DISCONNECT) at this time: recoverable
    /// until `maxDisconnectionDuration` has passed.
    lost_at: Option<Instant>,
    /// Events sent with an offset, for replay: (offset, messages).
    stored: Vec<(String, Vec<Message>)>,
    next_ack: u64,
    waiting: BTreeSet<u64>,
}

/// The fake Socket.IO server. Put it on a [`crate::FakeServer`] (usually through
/// [`crate::Sim`]) and script it with the `sio_*` methods of `FakeServer<SioServer>`.
///
/// It behaves like the Node server where the client can tell: CONNECT replies
/// `{"sid":...}` (plus `pid` with recovery), CONNECT_ERROR from middlewares and for unknown
/// namespaces, acks (at once, later or never), echoes, server DISCONNECT, the connect timeout,
/// and connection state recovery (offsets appended to events, missed events replayed before
/// the CONNECT reply). It enforces the server's rules (protocol.md 2.4): a non-CONNECT packet
/// for a namespace not connected on the session, a second CONNECT, a CONNECT_ERROR from the
/// client, or a packet that does not decode is a [`ViolationKind::SocketIo`] (a test failure
/// in strict mode), and the session is closed as the Node server does.
///
/// Ids are deterministic: socket ids `sid-N`, private session ids `pid-N`, offsets `off-N`.
#[derive(Debug)]
pub struct SioServer {
    config: SioConfig,
    conns: BTreeMap<String, Conn>,
    sockets: Vec<Sock>,
    received: Vec<Received>,
    client_acks: Vec<ClientAck>,
    joins: Vec<Joined>,
    attempts: BTreeMap<String, u32>,
    next_id: u64,
    next_seq: u64,
    /// The latest time the server heard of (`on_close` carries none).
    last_now: Option<Instant>,
}

impl Default for SioServer {
    fn default() -> Self {
        Self::new(SioConfig::default())
    }
}

impl SioServer {
    /// A server with `config`.
    pub fn new(config: SioConfig) -> Self {
        Self {
            config,
            conns: BTreeMap::new(),
            sockets: Vec::new(),
            received: Vec::new(),
            client_acks: Vec::new(),
            joins: Vec::new(),
            attempts: BTreeMap::new(),
            next_id: 0,
            next_seq: 0,
            last_now: None,
        }
    }

    /// The options (namespaces may be changed between steps).
    pub fn config_mut(&mut self) -> &mut SioConfig {
        &mut self.config
    }

    // ----- what happened -----

    /// Every packet received, in order, over every session.
    pub fn log(&self) -> &[Received] {
        &self.received
    }

    /// The packets received for namespace `nsp`, in order.
    pub fn packets(&self, nsp: &str) -> Vec<&Received> {
        self.received
            .iter()
            .filter(|r| r.packet.nsp == nsp)
            .collect()
    }

    /// The Socket.IO texts received for namespace `nsp`, in order (attachments not shown).
    pub fn received(&self, nsp: &str) -> Vec<String> {
        self.packets(nsp)
            .into_iter()
            .map(|r| r.text.clone())
            .collect()
    }

    /// The EVENT payloads received for `nsp`, in order.
    pub fn events(&self, nsp: &str) -> Vec<&Payload> {
        self.packets(nsp)
            .into_iter()
            .filter(|r| r.packet.kind == PacketKind::Event)
            .filter_map(|r| r.packet.data.as_ref())
            .collect()
    }

    /// The client's ACKs for namespace `nsp`, in order.
    pub fn client_acks(&self, nsp: &str) -> Vec<&ClientAck> {
        self.client_acks.iter().filter(|a| a.nsp == nsp).collect()
    }

    /// Every CONNECT handled, in order, with its outcome.
    pub fn joins(&self) -> &[Joined] {
        &self.joins
    }

    /// The CONNECTs handled for `nsp`.
    pub fn joins_of(&self, nsp: &str) -> Vec<&Joined> {
        self.joins.iter().filter(|j| j.nsp == nsp).collect()
    }

    /// The socket id of the latest socket of `nsp`, if it is connected.
    pub fn socket_id(&self, nsp: &str) -> Option<&str> {
        let i = self.latest(nsp)?;
        let sock = &self.sockets[i];
        sock.eio.as_ref().map(|_| sock.sid.as_str())
    }

    /// Whether namespace `nsp` is connected on some open session.
    pub fn is_connected(&self, nsp: &str) -> bool {
        self.socket_id(nsp).is_some()
    }

    /// The namespaces connected on Engine.IO session `eio_sid`.
    pub fn namespaces_of(&self, eio_sid: &str) -> Vec<String> {
        self.conns
            .get(eio_sid)
            .map(|c| c.nsps.keys().cloned().collect())
            .unwrap_or_default()
    }

    // ----- scripting (see `FakeServer<SioServer>`) -----

    /// Prepares an emit to the latest socket of `nsp`: the messages and the session to send
    /// them on (`None`: stored for recovery only). `None` if `nsp` never had a socket.
    pub(crate) fn emit(
        &mut self,
        now: Instant,
        nsp: &str,
        payload: Payload,
        ack: bool,
        volatile: bool,
    ) -> Option<(ServerEmit, Option<String>, Vec<Message>)> {
        self.tick(now);
        let i = self.latest(nsp)?;
        let sock = &mut self.sockets[i];
        let target = sock.eio.clone();
        let recovery = self.config.recovery.is_some();
        if target.is_none() && (ack || volatile || sock.lost_at.is_none() || !recovery) {
            // Nobody to give it to now, and nothing a recovery would replay.
            return Some((
                ServerEmit {
                    ack: None,
                    offset: None,
                    sent: false,
                },
                None,
                Vec::new(),
            ));
        }
        let id = ack.then(|| {
            let id = sock.next_ack;
            sock.next_ack += 1;
            sock.waiting.insert(id);
            id
        });
        let (messages, offset) = self.event_messages(i, payload, id, volatile);
        let sent = target.is_some();
        Some((
            ServerEmit {
                ack: id,
                offset,
                sent,
            },
            target,
            messages,
        ))
    }

    /// Prepares a server DISCONNECT of `nsp`: the session it goes to and the messages.
    pub(crate) fn disconnect(&mut self, now: Instant, nsp: &str) -> Option<(String, Vec<Message>)> {
        self.tick(now);
        let i = self.latest(nsp)?;
        let eio = self.sockets[i].eio.take()?;
        self.sockets[i].lost_at = None;
        if let Some(conn) = self.conns.get_mut(&eio) {
            conn.nsps.remove(nsp);
            conn.left.insert(nsp.to_owned());
        }
        let mut messages = Vec::new();
        encode(&Packet::disconnect(nsp), &mut messages);
        Some((eio, messages))
    }

    /// Whether Engine.IO session `eio_sid` has no namespace left.
    pub(crate) fn is_empty(&self, eio_sid: &str) -> bool {
        self.conns.get(eio_sid).is_none_or(|c| c.nsps.is_empty())
    }

    // ----- internals -----

    fn tick(&mut self, now: Instant) {
        self.last_now = Some(self.last_now.map_or(now, |t| t.max(now)));
    }

    fn latest(&self, nsp: &str) -> Option<usize> {
        self.sockets.iter().rposition(|s| s.nsp == nsp)
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    /// The messages of an EVENT to socket `i`; with recovery on, a plain (no ack, not
    /// volatile) event gets a fresh offset as its last argument and is stored for replay.
    fn event_messages(
        &mut self,
        i: usize,
        payload: Payload,
        id: Option<u64>,
        volatile: bool,
    ) -> (Vec<Message>, Option<String>) {
        let mut messages = Vec::new();
        encode(
            &Packet::event(&self.sockets[i].nsp, payload, id),
            &mut messages,
        );
        if self.config.recovery.is_none() || id.is_some() || volatile {
            return (messages, None);
        }
        let offset = self.next_id("off");
        if let Some(Message::Text(text)) = messages.first_mut() {
            // An event's data is a non-empty array: the offset goes before its `]`.
            let mut with = text[..text.len() - 1].to_vec();
            with.extend_from_slice(format!(",\"{offset}\"]").as_bytes());
            *text = Bytes::from(with);
        }
        self.sockets[i]
            .stored
            .push((offset.clone(), messages.clone()));
        (messages, Some(offset))
    }

    fn violation(ctx: &mut SessionCtx<'_>, what: String) {
        ctx.violation(ViolationKind::SocketIo(what));
        // The Node server closes the whole connection.
        ctx.close();
    }

    fn on_packet(&mut self, ctx: &mut SessionCtx<'_>, packet: Packet, text: String) {
        let eio = ctx.sid().to_owned();
        self.received.push(Received {
            at: ctx.now(),
            eio_sid: eio.clone(),
            packet: packet.clone(),
            text,
        });
        let Some(conn) = self.conns.get(&eio) else {
            return;
        };
        let socket = conn.nsps.get(packet.nsp.as_str()).copied();
        match (packet.kind, socket) {
            (PacketKind::Connect, None) => self.on_connect(ctx, packet),
            (PacketKind::Connect, Some(_)) => Self::violation(
                ctx,
                format!("a second CONNECT for {:?}, already connected", packet.nsp),
            ),
            (PacketKind::ConnectError, _) => Self::violation(
                ctx,
                format!("a CONNECT_ERROR from the client for {:?}", packet.nsp),
            ),
            (_, None) if conn.left.contains(packet.nsp.as_str()) => {}
            (kind, None) => Self::violation(
                ctx,
                format!(
                    "{kind:?} for namespace {:?}, which is not connected on this session",
                    packet.nsp
                ),
            ),
            (PacketKind::Event, Some(i)) => self.on_event(ctx, i, packet),
            (PacketKind::Ack, Some(i)) => {
                let sock = &mut self.sockets[i];
                let id = packet.id.unwrap_or_default();
                let expected = packet.id.is_some() && sock.waiting.remove(&id);
                let payload = packet
                    .data
                    .unwrap_or_else(|| Payload::from_json(Bytes::from_static(b"[]")).unwrap());
                self.client_acks.push(ClientAck {
                    at: ctx.now(),
                    nsp: packet.nsp.to_string(),
                    id,
                    payload,
                    expected,
                });
            }
            (PacketKind::Disconnect, Some(i)) => {
                // "client namespace disconnect": not recoverable.
                self.sockets[i].eio = None;
                self.sockets[i].lost_at = None;
                if let Some(conn) = self.conns.get_mut(&eio) {
                    conn.nsps.remove(packet.nsp.as_str());
                }
            }
        }
    }

    fn on_connect(&mut self, ctx: &mut SessionCtx<'_>, packet: Packet) {
        let now = ctx.now();
        let eio = ctx.sid().to_owned();
        let nsp = packet.nsp.to_string();
        let auth: Option<serde_json::Value> = packet
            .data
            .as_ref()
            .and_then(|d| serde_json::from_slice(d.json()).ok());
        let attempt = {
            let n = self.attempts.entry(nsp.clone()).or_default();
            *n += 1;
            *n
        };
        let mut join = Joined {
            at: now,
            eio_sid: eio.clone(),
            nsp: nsp.clone(),
            auth: auth.clone(),
            outcome: JoinOutcome::Refused(String::new()),
        };
        if !self.config.namespaces.contains_key(&nsp) {
            let refusal = ConnectRefusal::new("Invalid namespace");
            self.refuse(ctx, &nsp, &refusal);
            join.outcome = JoinOutcome::Refused(refusal.message);
            self.joins.push(join);
            return;
        }
        if let Some((i, position)) = self.recoverable(now, &nsp, auth.as_ref()) {
            let sock = &mut self.sockets[i];
            sock.eio = Some(eio.clone());
            sock.lost_at = None;
            // Missed events first, with their offsets, then the CONNECT reply.
            for (_, messages) in &sock.stored[position + 1..] {
                for m in messages {
                    ctx.send(m.clone());
                }
            }
            let (sid, pid) = (sock.sid.clone(), sock.pid.clone());
            self.joined(ctx, i, &sid, pid.as_deref());
            join.outcome = JoinOutcome::Connected {
                sid,
                pid,
                recovered: true,
            };
            self.joins.push(join);
            return;
        }
        let request = ConnectRequest {
            nsp: &nsp,
            auth: auth.as_ref(),
            attempt,
            now,
        };
        let verdict = match self.config.namespaces.get_mut(&nsp) {
            Some(ns) => ns.middleware.as_mut().map_or(Ok(()), |mw| mw(&request)),
            None => Ok(()),
        };
        if let Err(refusal) = verdict {
            self.refuse(ctx, &nsp, &refusal);
            join.outcome = JoinOutcome::Refused(refusal.message);
            self.joins.push(join);
            return;
        }
        let sid = self.next_id("sid");
        let pid = self.config.recovery.map(|_| self.next_id("pid"));
        self.sockets.push(Sock {
            nsp: nsp.clone(),
            sid: sid.clone(),
            pid: pid.clone(),
            eio: Some(eio),
            lost_at: None,
            stored: Vec::new(),
            next_ack: 0,
            waiting: BTreeSet::new(),
        });
        let i = self.sockets.len() - 1;
        self.joined(ctx, i, &sid, pid.as_deref());
        join.outcome = JoinOutcome::Connected {
            sid,
            pid,
            recovered: false,
        };
        self.joins.push(join);
    }

    /// The socket a CONNECT with `{pid, offset}` restores, and the position of the offset in
    /// its stored events.
    fn recoverable(
        &self,
        now: Instant,
        nsp: &str,
        auth: Option<&serde_json::Value>,
    ) -> Option<(usize, usize)> {
        let max = self.config.recovery?;
        let auth = auth?;
        let pid = auth.get("pid")?.as_str()?;
        let offset = auth.get("offset")?.as_str()?;
        let i = self
            .sockets
            .iter()
            .position(|s| s.nsp == nsp && s.pid.as_deref() == Some(pid))?;
        let sock = &self.sockets[i];
        let lost = sock.lost_at?;
        if sock.eio.is_some() || now.saturating_duration_since(lost) > max {
            return None;
        }
        let position = sock.stored.iter().position(|(o, _)| o == offset)?;
        Some((i, position))
    }

    /// Sends the CONNECT reply (and the welcome) for socket `i` on this session.
    fn joined(&mut self, ctx: &mut SessionCtx<'_>, i: usize, sid: &str, pid: Option<&str>) {
        let nsp = self.sockets[i].nsp.clone();
        let reply = match pid {
            Some(pid) => serde_json::json!({ "sid": sid, "pid": pid }),
            None => serde_json::json!({ "sid": sid }),
        };
        let data = Payload::from_json(Bytes::from(reply.to_string())).expect("valid JSON");
        send_packet(ctx, &Packet::connect(&nsp, Some(data)));
        if let Some(conn) = self.conns.get_mut(ctx.sid()) {
            conn.nsps.insert(nsp.clone(), i);
            conn.left.remove(&nsp);
            conn.connect_deadline = None;
        }
        let welcome = self
            .config
            .namespaces
            .get(&nsp)
            .and_then(|ns| ns.welcome.clone());
        if let Some(welcome) = welcome {
            let (messages, _) = self.event_messages(i, welcome, None, false);
            for m in messages {
                ctx.send(m);
            }
        }
    }

    fn refuse(&mut self, ctx: &mut SessionCtx<'_>, nsp: &str, refusal: &ConnectRefusal) {
        let data = Payload::from_json(Bytes::from(refusal.to_json())).expect("valid JSON");
        send_packet(ctx, &Packet::connect_error(nsp, data));
    }

    fn on_event(&mut self, ctx: &mut SessionCtx<'_>, i: usize, packet: Packet) {
        let Some(payload) = packet.data else {
            return;
        };
        let nsp = packet.nsp.to_string();
        let Some(ns) = self.config.namespaces.get(&nsp) else {
            return;
        };
        let Some(id) = packet.id else {
            if ns.echo {
                let (messages, _) = self.event_messages(i, payload, None, false);
                for m in messages {
                    ctx.send(m);
                }
            }
            return;
        };
        let policy = ns.policy(payload.event_name().as_deref());
        let messages = match &ns.ack_with {
            Some(args) => {
                let mut out = Vec::new();
                encode(&Packet::ack(&nsp, id, args.clone()), &mut out);
                out
            }
            None => ack_with_args(&nsp, id, &payload),
        };
        match policy {
            AckPolicy::Immediate => messages.into_iter().for_each(|m| ctx.send(m)),
            AckPolicy::After(delay) => {
                self.next_seq += 1;
                let seq = self.next_seq;
                if let Some(conn) = self.conns.get_mut(ctx.sid()) {
                    conn.delayed.push((ctx.now() + delay, seq, nsp, messages));
                    conn.delayed.sort_by_key(|(at, seq, ..)| (*at, *seq));
                }
            }
            AckPolicy::Never => {}
        }
    }
}

impl Application for SioServer {
    fn on_open(&mut self, ctx: &mut SessionCtx<'_>) {
        self.tick(ctx.now());
        let deadline = self
            .config
            .connect_timeout
            .and_then(|t| ctx.now().checked_add(t));
        self.conns.insert(
            ctx.sid().to_owned(),
            Conn {
                decoder: Decoder::new(Limits::default()),
                header: None,
                nsps: BTreeMap::new(),
                left: BTreeSet::new(),
                connect_deadline: deadline,
                delayed: Vec::new(),
                open: true,
            },
        );
    }

    fn on_message(&mut self, ctx: &mut SessionCtx<'_>, message: Message) {
        self.tick(ctx.now());
        let Some(conn) = self.conns.get_mut(ctx.sid()).filter(|c| c.open) else {
            return;
        };
        let text = match &message {
            Message::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
            Message::Binary(_) => None,
        };
        match conn.decoder.decode(message) {
            Ok(Some(packet)) => {
                let text = text.or_else(|| conn.header.take()).unwrap_or_default();
                conn.header = None;
                self.on_packet(ctx, packet, text);
            }
            Ok(None) => {
                if text.is_some() {
                    conn.header = text;
                }
            }
            Err(e) => {
                conn.header = None;
                Self::violation(ctx, format!("a packet that does not decode: {e}"));
            }
        }
    }

    fn on_close(&mut self, sid: &str, _reason: &str) {
        let now = self.last_now;
        let Some(conn) = self.conns.get_mut(sid) else {
            return;
        };
        conn.open = false;
        conn.delayed.clear();
        conn.connect_deadline = None;
        // Every socket still connected lost its transport: recoverable for a while.
        for (_, i) in std::mem::take(&mut conn.nsps) {
            let sock = &mut self.sockets[i];
            sock.eio = None;
            sock.lost_at = now;
            sock.waiting.clear();
        }
    }

    fn poll_timeout(&self, sid: &str) -> Option<Instant> {
        let conn = self.conns.get(sid).filter(|c| c.open)?;
        let ack = conn.delayed.first().map(|(at, ..)| *at);
        ack.into_iter().chain(conn.connect_deadline).min()
    }

    fn on_timeout(&mut self, ctx: &mut SessionCtx<'_>) {
        let now = ctx.now();
        self.tick(now);
        let Some(conn) = self.conns.get_mut(ctx.sid()) else {
            return;
        };
        while conn.delayed.first().is_some_and(|(at, ..)| *at <= now) {
            let (_, _, nsp, messages) = conn.delayed.remove(0);
            if conn.nsps.contains_key(&nsp) {
                messages.into_iter().for_each(|m| ctx.send(m));
            }
        }
        if conn.connect_deadline.is_some_and(|at| at <= now) {
            conn.connect_deadline = None;
            if conn.nsps.is_empty() {
                ctx.close();
            }
        }
    }
}

/// Encodes and queues a packet.
fn send_packet(ctx: &mut SessionCtx<'_>, packet: &Packet) {
    let mut messages = Vec::new();
    encode(packet, &mut messages);
    for m in messages {
        ctx.send(m);
    }
}

/// The ACK (or BINARY_ACK) answering event `payload` with its own arguments (the name taken
/// off), attachments included: written from the JSON text, since the arguments keep their
/// placeholders and numbers.
fn ack_with_args(nsp: &str, id: u64, payload: &Payload) -> Vec<Message> {
    let elements: Vec<&RawValue> = serde_json::from_slice(payload.json()).unwrap_or_default();
    let args: Vec<&str> = elements.iter().skip(1).map(|e| e.get()).collect();
    let json = format!("[{}]", args.join(","));
    let attachments = payload.attachments();
    let mut text = String::new();
    if attachments.is_empty() {
        text.push('3');
    } else {
        text.push_str(&format!("6{}-", attachments.len()));
    }
    if nsp != "/" {
        text.push_str(nsp);
        text.push(',');
    }
    text.push_str(&id.to_string());
    text.push_str(&json);
    let mut out = vec![Message::text(text)];
    out.extend(attachments.iter().cloned().map(Message::Binary));
    out
}
