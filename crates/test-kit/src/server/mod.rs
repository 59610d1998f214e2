//! A scriptable, sans-IO fake Engine.IO v4 server that behaves like the Node `engine.io`
//! server as protocol.md describes it.
//!
//! It is driven like the client: inputs (`handle_http_request`, `handle_ws_connect`,
//! `handle_ws_frame`, `handle_ws_close`, `handle_timeout`) only record; outputs come from
//! [`FakeServer::poll_output`]; [`FakeServer::poll_timeout`] says when its timers (pings, pong
//! deadlines, upgrade noops and timeouts) are due. [`crate::Sim`] wires it to a client.
//!
//! What it implements:
//!
//! - polling handshake (`0{...}` with `upgrades: ["websocket"]`), parked GETs answered as soon
//!   as there is something to send, POSTs answered `ok` after their packets are processed;
//! - WebSocket sessions (`upgrades: []`) and upgrades: `2probe` → `3probe`, a noop `6` into
//!   the parked GET every [`ServerConfig::noop_interval`] until `5` arrives, then the buffer
//!   flushed on the WebSocket; probes that do not finish in `upgrade_timeout` are closed;
//! - the heartbeat: a ping every `pingInterval`, the session closed ("ping timeout") when the
//!   pong does not come within `pingTimeout`;
//! - the reference's error responses (`{"code":N,"message":...}`), 413 over `maxPayload`,
//!   and the session killed by a concurrent GET (first GET `1`, second 400);
//! - scripted refusals, cookies, messages (even malformed ones), graceful close, abrupt kill.
//!
//! Client mistakes are recorded as [`Violation`]s; in strict mode (the default) the first
//! one panics with the transcript, so a test fails where the mistake happens.

mod app;
mod config;
mod session;
mod violation;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use engineio_proto::packet::{RECORD_SEPARATOR, decode_payload};
use engineio_proto::{Header, HttpResponse, Message, Packet, TransportKind, WsFrame};
use rand_core::RngCore;
use url::Url;

pub use app::{Application, Echo, Outgoing, SessionCtx, Silent};
pub use config::{ProbeBehavior, Refusal, RequestMatch, ServerConfig, error_body};
pub use session::{SessionInfo, SessionStats};
pub use violation::{Violation, ViolationKind};

use crate::clock::http_date_at;
use crate::rng::SimRng;
use crate::transcript::{Record, Side, Transcript};
use crate::wire::{ConnId, HttpRequest, Method, RequestId, ServerOutput, query};
use app::AppAction;
use session::{Active, Session, Upgrade};

/// What a WebSocket connection is to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Conn {
    /// The transport of this session.
    Active(String),
    /// Probing an upgrade of this session.
    Probe(String),
    /// Closed (or refused).
    Closed,
}

/// What a parked GET gets when its session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    /// `1`: the server closes the session.
    Close,
    /// `6`: the client closed it (POST `1`).
    Noop,
    /// No answer: the connection drops.
    Abort,
}

/// The fake server. `A` is what runs on top (see [`Application`]).
#[derive(Debug)]
pub struct FakeServer<A = Silent> {
    config: ServerConfig,
    app: A,
    origin: Instant,
    rng: SimRng,
    sessions: BTreeMap<String, Session>,
    /// The order sessions were created in.
    order: Vec<String>,
    conns: BTreeMap<ConnId, Conn>,
    /// Methods of requests not yet answered, for the transcript.
    pending: BTreeMap<RequestId, Method>,
    refusals: Vec<Refusal>,
    next_cookies: Vec<String>,
    output: VecDeque<ServerOutput>,
    transcript: Transcript,
    violations: Vec<Violation>,
}

impl<A: Application> FakeServer<A> {
    /// A server whose time starts at `origin` (the same origin as the client's clock) and whose
    /// generated session ids come from `seed`.
    pub fn new(config: ServerConfig, app: A, origin: Instant, seed: u64) -> Self {
        Self {
            config,
            app,
            origin,
            rng: SimRng::new(seed),
            sessions: BTreeMap::new(),
            order: Vec::new(),
            conns: BTreeMap::new(),
            pending: BTreeMap::new(),
            refusals: Vec::new(),
            next_cookies: Vec::new(),
            output: VecDeque::new(),
            transcript: Transcript::default(),
            violations: Vec::new(),
        }
    }
}

impl<A> FakeServer<A> {
    /// The options.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The application.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// The application, mutably.
    pub fn app_mut(&mut self) -> &mut A {
        &mut self.app
    }

    /// Everything on the wire so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The transcript, for the simulation's notes.
    pub fn transcript_mut(&mut self) -> &mut Transcript {
        &mut self.transcript
    }

    /// The client's protocol violations so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// A session by id.
    pub fn session(&self, sid: &str) -> Option<SessionInfo> {
        self.sessions.get(sid).map(Session::info)
    }

    /// Every session, in the order they were created.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.order
            .iter()
            .filter_map(|sid| self.session(sid))
            .collect()
    }

    /// The id of the newest session.
    pub fn last_sid(&self) -> Option<String> {
        self.order.last().cloned()
    }
}

impl<A: Application> FakeServer<A> {
    /// The next thing to send to the client.
    pub fn poll_output(&mut self) -> Option<ServerOutput> {
        self.output.pop_front()
    }

    /// When [`FakeServer::handle_timeout`] is due next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let app = self
            .sessions
            .values()
            .filter(|s| s.is_open())
            .filter_map(|s| self.app.poll_timeout(&s.sid));
        self.sessions
            .values()
            .filter_map(Session::next_deadline)
            .chain(app)
            .min()
    }

    /// Fires the pings, pong deadlines and upgrade timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let sids: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.next_deadline().is_some_and(|at| at <= now))
            .map(|s| s.sid.clone())
            .collect();
        for sid in sids {
            self.session_timers(now, &sid);
        }
        let due: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.is_open() && self.app.poll_timeout(&s.sid).is_some_and(|at| at <= now))
            .map(|s| s.sid.clone())
            .collect();
        for sid in due {
            let mut ctx = SessionCtx::new(&sid, now);
            self.app.on_timeout(&mut ctx);
            let actions = ctx.actions;
            self.apply(now, &sid, actions);
        }
    }

    fn session_timers(&mut self, now: Instant, sid: &str) {
        let timeout = self.config.ping_timeout;
        let noop_interval = self.config.noop_interval;
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if s.pong_deadline.is_some_and(|at| at <= now) {
            self.end_session(now, sid, "ping timeout", Release::Close);
            return;
        }
        if s.next_ping.is_some_and(|at| at <= now) {
            s.next_ping = None;
            s.pong_deadline = Some(now + timeout);
            s.stats.pings_sent += 1;
            // The next ping is scheduled when the pong arrives, as the reference does.
            s.buffer
                .push_back(Outgoing::Packet(Packet::Ping { probe: false }));
            self.flush(now, sid);
        }
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let Some(upgrade) = s.upgrade.as_mut() else {
            return;
        };
        if upgrade.deadline <= now {
            let conn = upgrade.conn;
            s.upgrade = None;
            self.conns.insert(conn, Conn::Closed);
            self.ws_close(now, conn);
            return;
        }
        if upgrade.next_noop.is_some_and(|at| at <= now) {
            upgrade.next_noop = Some(now + noop_interval);
            if let Some(get) = s.parked_get.take() {
                let body = Packet::Noop.to_text();
                self.respond_payload(now, get, body);
            }
        }
    }

    // ----- HTTP -----

    /// An HTTP request arrived.
    pub fn handle_http_request(&mut self, now: Instant, request: HttpRequest) {
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::HttpRequest {
                id: request.id,
                method: request.method,
                url: request.url.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
            },
        );
        self.pending.insert(request.id, request.method);
        let sid = request.query("sid");
        if let Some(refusal) =
            self.take_refusal(TransportKind::Polling, Some(request.method), sid.is_none())
        {
            return self.respond(
                now,
                request.id,
                refusal.status,
                "application/json",
                Bytes::from(refusal.body),
            );
        }
        if let Err((status, code, message)) = self.route(now, &request.url, TransportKind::Polling)
        {
            return self.respond_error(now, request.id, status, code, message);
        }
        match (sid, request.method) {
            (None, Method::Get) => self.polling_handshake(now, &request),
            (None, Method::Post) => {
                self.violation(
                    now,
                    None,
                    ViolationKind::BadRequest("POST without sid".into()),
                );
                self.respond_error(now, request.id, 400, 2, "Bad handshake method");
            }
            (Some(sid), method) => {
                let Some(s) = self.sessions.get(&sid).filter(|s| s.is_open()) else {
                    return self.respond_error(now, request.id, 400, 1, "Session ID unknown");
                };
                if s.active != Active::Polling {
                    self.violation(
                        now,
                        Some(&sid),
                        ViolationKind::BadRequest("polling request after the upgrade".into()),
                    );
                    return self.respond_error(now, request.id, 400, 3, "Bad request");
                }
                match method {
                    Method::Get => self.on_get(now, &sid, request.id),
                    Method::Post => self.on_post(now, &sid, &request),
                }
            }
        }
    }

    /// Checks path, `EIO` and `transport`; `Err((status, code, message))` to refuse.
    fn route(
        &mut self,
        now: Instant,
        url: &Url,
        expected: TransportKind,
    ) -> Result<(), (u16, i64, &'static str)> {
        if url.path() != self.config.path {
            let why = format!("path {:?}, expected {:?}", url.path(), self.config.path);
            self.violation(now, None, ViolationKind::BadRequest(why));
            return Err((404, 3, "Bad request"));
        }
        if query(url, "EIO").as_deref() != Some("4") {
            self.violation(now, None, ViolationKind::BadRequest("EIO is not 4".into()));
            return Err((400, 5, "Unsupported protocol version"));
        }
        let transport = query(url, "transport");
        match transport.as_deref().and_then(TransportKind::from_name) {
            Some(kind) if kind == expected => {}
            Some(_) => {
                let why = format!("transport {transport:?} on a {expected} request");
                self.violation(now, None, ViolationKind::BadRequest(why));
                return Err((400, 3, "Bad request"));
            }
            None => {
                let why = format!("transport {transport:?}");
                self.violation(now, None, ViolationKind::BadRequest(why));
                return Err((400, 0, "Transport unknown"));
            }
        }
        if !self.config.transports.contains(&expected) {
            return Err((400, 0, "Transport unknown"));
        }
        Ok(())
    }

    fn polling_handshake(&mut self, now: Instant, request: &HttpRequest) {
        let sid = self.next_sid();
        let base64 = request.query("b64").as_deref() == Some("1");
        let upgrades = self.config.allow_upgrades
            && self.config.transports.contains(&TransportKind::WebSocket);
        self.open_session(now, &sid, Active::Polling, base64, upgrades);
        let cookies = self.config.handshake_cookies.clone();
        self.next_cookies.extend(cookies);
        self.on_get(now, &sid, request.id);
    }

    fn on_get(&mut self, now: Instant, sid: &str, id: RequestId) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if s.parked_get.is_some() {
            // The reference: the parked GET gets `1`, the newcomer 400, the session dies.
            self.violation(now, Some(sid), ViolationKind::ConcurrentGet);
            self.respond(now, id, 400, "text/html", Bytes::new());
            self.end_session(now, sid, "transport error", Release::Close);
            return;
        }
        s.parked_get = Some(id);
        self.flush(now, sid);
    }

    fn on_post(&mut self, now: Instant, sid: &str, request: &HttpRequest) {
        let content_type = request.header("content-type").unwrap_or("").to_owned();
        if content_type.eq_ignore_ascii_case("application/octet-stream") {
            self.violation(now, Some(sid), ViolationKind::BadContentType(content_type));
            self.respond_error(now, request.id, 400, 3, "Bad request");
            self.end_session(now, sid, "transport error", Release::Close);
            return;
        }
        if !content_type.starts_with("text/plain") {
            self.violation(now, Some(sid), ViolationKind::BadContentType(content_type));
        }
        if request.body.len() as u64 > self.config.max_payload {
            self.respond(now, request.id, 413, "text/html", Bytes::new());
            self.end_session(now, sid, "transport error", Release::Close);
            return;
        }
        let mut packets = Vec::new();
        for packet in decode_payload(request.body.clone()) {
            match packet {
                Ok(p) => packets.push(p),
                Err(e) => {
                    let why = format!("POST body {:?}: {e}", request.body);
                    self.violation(now, Some(sid), ViolationKind::Malformed(why));
                    self.respond_error(now, request.id, 400, 3, "Bad request");
                    self.end_session(now, sid, "parse error", Release::Close);
                    return;
                }
            }
        }
        for packet in packets {
            if !self.sessions.get(sid).is_some_and(Session::is_open) {
                break;
            }
            if packet == Packet::Close {
                self.end_session(now, sid, "transport close", Release::Noop);
                break;
            }
            self.on_packet(now, sid, packet);
        }
        self.respond(now, request.id, 200, "text/html", Bytes::from_static(b"ok"));
    }

    /// A packet from the client on the session's active transport.
    fn on_packet(&mut self, now: Instant, sid: &str, packet: Packet) {
        let interval = self.config.ping_interval;
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        match packet {
            Packet::Pong { probe: false } => {
                if s.pong_deadline.take().is_some() {
                    s.stats.pongs_received += 1;
                    s.next_ping = Some(now + interval + std::mem::take(&mut s.ping_delay));
                } else {
                    self.violation(now, Some(sid), ViolationKind::UnsolicitedPong);
                }
            }
            Packet::Message(message) => {
                s.stats.received.push(message.clone());
                let mut ctx = SessionCtx::new(sid, now);
                self.app.on_message(&mut ctx, message);
                let actions = ctx.actions;
                self.apply(now, sid, actions);
            }
            Packet::Close => {
                self.end_session(now, sid, "transport close", Release::Noop);
            }
            Packet::Ping { probe: false } => {
                self.violation(now, Some(sid), ViolationKind::ClientPing);
                self.end_session(now, sid, "transport error", Release::Close);
            }
            other => {
                let what = format!("{:?} on the active transport", other.to_text());
                self.violation(now, Some(sid), ViolationKind::UnexpectedPacket(what));
            }
        }
    }

    // ----- WebSocket -----

    /// A WebSocket handshake request arrived on connection `conn`.
    pub fn handle_ws_connect(
        &mut self,
        now: Instant,
        conn: ConnId,
        url: Url,
        headers: Vec<Header>,
    ) {
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::WsConnect {
                conn,
                url: url.clone(),
                headers,
            },
        );
        let sid = query(&url, "sid");
        if let Some(refusal) = self.take_refusal(TransportKind::WebSocket, None, sid.is_none()) {
            return self.ws_reject(now, conn, refusal.status, Bytes::from(refusal.body));
        }
        if let Err((status, code, message)) = self.route(now, &url, TransportKind::WebSocket) {
            return self.ws_reject(now, conn, status, Bytes::from(error_body(code, message)));
        }
        let base64 = query(&url, "b64").as_deref() == Some("1");
        let Some(sid) = sid else {
            let sid = self.next_sid();
            self.conns.insert(conn, Conn::Active(sid.clone()));
            self.ws_accept(now, conn);
            self.open_session(now, &sid, Active::WebSocket(conn), base64, false);
            return;
        };
        let allow = self.config.allow_upgrades;
        let deadline = now + self.config.upgrade_timeout;
        let Some(s) = self.sessions.get_mut(&sid).filter(|s| s.is_open()) else {
            let body = error_body(1, "Session ID unknown");
            return self.ws_reject(now, conn, 400, Bytes::from(body));
        };
        if !allow || s.active != Active::Polling || s.upgrade.is_some() {
            let body = error_body(3, "Bad request");
            return self.ws_reject(now, conn, 400, Bytes::from(body));
        }
        s.base64 |= base64;
        s.upgrade = Some(Upgrade {
            conn,
            probed: false,
            next_noop: None,
            deadline,
        });
        self.conns.insert(conn, Conn::Probe(sid));
        self.ws_accept(now, conn);
    }

    /// A frame arrived on connection `conn`.
    pub fn handle_ws_frame(&mut self, now: Instant, conn: ConnId, frame: WsFrame) {
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::WsFrame {
                conn,
                from: Side::Client,
                frame: frame.clone(),
            },
        );
        let len = match &frame {
            WsFrame::Text(b) | WsFrame::Binary(b) => b.len() as u64,
        };
        let decoded = match frame {
            WsFrame::Text(data) => Packet::decode_text(data),
            WsFrame::Binary(data) => Ok(Packet::decode_binary(data)),
        };
        match self.conns.get(&conn).cloned() {
            Some(Conn::Active(sid)) => {
                if len > self.config.max_payload {
                    // `ws` closes with 1009 (message too big).
                    return self.end_session(now, &sid, "transport error", Release::Close);
                }
                match decoded {
                    Ok(Packet::Close) => {
                        self.end_session(now, &sid, "transport close", Release::Close)
                    }
                    Ok(packet) => self.on_packet(now, &sid, packet),
                    Err(e) => {
                        self.violation(now, Some(&sid), ViolationKind::Malformed(e.to_string()));
                        self.end_session(now, &sid, "parse error", Release::Close);
                    }
                }
            }
            Some(Conn::Probe(sid)) => self.on_probe_packet(now, conn, &sid, decoded.ok()),
            Some(Conn::Closed) | None => {
                self.violation(now, None, ViolationKind::FrameOnClosedWebSocket);
            }
        }
    }

    fn on_probe_packet(&mut self, now: Instant, conn: ConnId, sid: &str, packet: Option<Packet>) {
        let noop_interval = self.config.noop_interval;
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let Some(upgrade) = s.upgrade.as_mut().filter(|u| u.conn == conn) else {
            return;
        };
        match packet {
            Some(Packet::Ping { probe: true }) if !upgrade.probed => {
                match self.config.probe.clone() {
                    ProbeBehavior::Answer => {
                        upgrade.probed = true;
                        upgrade.next_noop = Some(now + noop_interval);
                        let frame = WsFrame::Text(Packet::Pong { probe: true }.to_text());
                        self.ws_send(now, conn, frame);
                    }
                    ProbeBehavior::Ignore => {}
                    ProbeBehavior::Reply(text) => {
                        self.ws_send(now, conn, WsFrame::Text(Bytes::from(text)));
                    }
                }
            }
            Some(Packet::Upgrade) if upgrade.probed => {
                if let Some(get) = s.parked_get.take() {
                    self.violation(now, Some(sid), ViolationKind::UpgradeWhileBusy);
                    self.respond_payload(now, get, Packet::Close.to_text());
                }
                let Some(s) = self.sessions.get_mut(sid) else {
                    return;
                };
                s.upgrade = None;
                s.active = Active::WebSocket(conn);
                s.stats.upgraded = true;
                self.conns.insert(conn, Conn::Active(sid.to_owned()));
                self.flush(now, sid);
            }
            other => {
                s.upgrade = None;
                let what = format!("{:?} on a probe", other.map(|p| p.to_text()));
                self.violation(now, Some(sid), ViolationKind::UnexpectedPacket(what));
                self.conns.insert(conn, Conn::Closed);
                self.ws_close(now, conn);
            }
        }
    }

    /// The client closed connection `conn`.
    pub fn handle_ws_close(&mut self, now: Instant, conn: ConnId) {
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::WsClose {
                conn,
                from: Side::Client,
            },
        );
        match self.conns.insert(conn, Conn::Closed) {
            Some(Conn::Active(sid)) => {
                self.end_session(now, &sid, "transport close", Release::Close)
            }
            Some(Conn::Probe(sid)) => {
                if let Some(s) = self.sessions.get_mut(&sid)
                    && s.upgrade.as_ref().is_some_and(|u| u.conn == conn)
                {
                    s.upgrade = None;
                }
            }
            Some(Conn::Closed) | None => {}
        }
    }

    // ----- scripting -----

    /// Queues a message for session `sid`, sent at once when the transport can take it.
    pub fn send(&mut self, now: Instant, sid: &str, message: Message) {
        self.send_outgoing(now, sid, Outgoing::Packet(Packet::Message(message)));
    }

    /// Queues any packet for session `sid`.
    pub fn send_packet(&mut self, now: Instant, sid: &str, packet: Packet) {
        self.send_outgoing(now, sid, Outgoing::Packet(packet));
    }

    /// Queues raw bytes for session `sid`: one polling record or one WebSocket text frame.
    pub fn send_raw(&mut self, now: Instant, sid: &str, raw: impl Into<Bytes>) {
        self.send_outgoing(now, sid, Outgoing::Raw(raw.into()));
    }

    fn send_outgoing(&mut self, now: Instant, sid: &str, outgoing: Outgoing) {
        if let Some(s) = self.sessions.get_mut(sid).filter(|s| s.is_open()) {
            s.buffer.push_back(outgoing);
            self.flush(now, sid);
        }
    }

    /// Closes session `sid` the way the server's `socket.close()` does: what is queued is
    /// sent, then `1` on polling (in the next GET) or a close frame on WebSocket.
    pub fn close(&mut self, now: Instant, sid: &str) {
        let Some(s) = self
            .sessions
            .get_mut(sid)
            .filter(|s| s.is_open() && !s.closing)
        else {
            return;
        };
        s.closing = true;
        if s.active == Active::Polling {
            s.buffer.push_back(Outgoing::Packet(Packet::Close));
        }
        self.flush(now, sid);
    }

    /// Drops session `sid` without a word: a parked GET's connection and the WebSocket are cut,
    /// as when the server process dies.
    pub fn kill(&mut self, now: Instant, sid: &str) {
        self.end_session(now, sid, "killed", Release::Abort);
    }

    /// Holds back the heartbeat of session `sid`: its next ping goes out `by` later than
    /// planned, as from a server stalled by a long pause. (If a ping is waiting for its pong,
    /// the one after it is delayed.) The client waits `pingInterval + pingTimeout` after the
    /// previous ping (or the handshake), then closes with "ping timeout". No-op for a closed
    /// session.
    pub fn delay_pings(&mut self, sid: &str, by: Duration) {
        let Some(s) = self.sessions.get_mut(sid).filter(|s| s.is_open()) else {
            return;
        };
        match s.next_ping.as_mut() {
            Some(at) => *at += by,
            None => s.ping_delay += by,
        }
    }

    /// Adds a scripted refusal.
    pub fn refuse(&mut self, refusal: Refusal) {
        self.refusals.push(refusal);
    }

    /// Removes every scripted refusal.
    pub fn clear_refusals(&mut self) {
        self.refusals.clear();
    }

    /// `Set-Cookie` values to add to the next response (HTTP or WebSocket handshake).
    pub fn set_cookies<S: Into<String>>(&mut self, cookies: impl IntoIterator<Item = S>) {
        self.next_cookies
            .extend(cookies.into_iter().map(Into::into));
    }

    /// Records a violation found outside the server (by the simulation watching the client).
    pub fn report_violation(&mut self, now: Instant, sid: Option<&str>, kind: ViolationKind) {
        self.violation(now, sid, kind);
    }

    // ----- internals -----

    fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.origin)
    }

    fn violation(&mut self, now: Instant, sid: Option<&str>, kind: ViolationKind) {
        let v = Violation {
            at: self.elapsed(now),
            sid: sid.map(str::to_owned),
            kind,
        };
        if self.config.strict {
            panic!(
                "client protocol violation {v}\n--- transcript ---\n{}",
                self.transcript
            );
        }
        self.violations.push(v);
    }

    fn next_sid(&mut self) -> String {
        if !self.config.sids.is_empty() {
            return self.config.sids.remove(0);
        }
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        loop {
            let sid: String = (0..20)
                .map(|_| char::from(ALPHABET[(self.rng.next_u32() % 64) as usize]))
                .collect();
            if !self.sessions.contains_key(&sid) {
                return sid;
            }
        }
    }

    fn take_refusal(
        &mut self,
        transport: TransportKind,
        method: Option<Method>,
        handshake: bool,
    ) -> Option<Refusal> {
        let i = self.refusals.iter().position(|r| match &r.matches {
            RequestMatch::Any => true,
            RequestMatch::Handshake => handshake,
            RequestMatch::Transport(t) => *t == transport,
            RequestMatch::Method(m) => Some(*m) == method,
        })?;
        let refusal = self.refusals[i].clone();
        match &mut self.refusals[i].times {
            Some(0) | Some(1) => {
                self.refusals.remove(i);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(refusal)
    }

    fn open_session(
        &mut self,
        now: Instant,
        sid: &str,
        active: Active,
        base64: bool,
        upgrades: bool,
    ) {
        let mut s = Session::new(sid.to_owned(), active, base64);
        let open = format!(
            r#"{{"sid":"{sid}","upgrades":[{}],"pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
            if upgrades { "\"websocket\"" } else { "" },
            self.config.ping_interval.as_millis(),
            self.config.ping_timeout.as_millis(),
            self.config.max_payload,
        );
        s.buffer
            .push_back(Outgoing::Packet(Packet::Open(Bytes::from(open))));
        s.next_ping = Some(now + self.config.ping_interval);
        self.sessions.insert(sid.to_owned(), s);
        self.order.push(sid.to_owned());
        let mut ctx = SessionCtx::new(sid, now);
        self.app.on_open(&mut ctx);
        let actions = ctx.actions;
        // The open packet (and what the application queued) goes out in one go.
        self.apply(now, sid, actions);
        self.flush(now, sid);
    }

    fn apply(&mut self, now: Instant, sid: &str, actions: Vec<AppAction>) {
        for action in actions {
            match action {
                AppAction::Send(outgoing) => {
                    if let Some(s) = self.sessions.get_mut(sid).filter(|s| s.is_open()) {
                        s.buffer.push_back(outgoing);
                    }
                }
                AppAction::Close => self.close(now, sid),
                AppAction::Violation(kind) => self.violation(now, Some(sid), kind),
            }
        }
        self.flush(now, sid);
    }

    /// Sends what is buffered if the session's transport can take it.
    fn flush(&mut self, now: Instant, sid: &str) {
        let Some(s) = self.sessions.get_mut(sid).filter(|s| s.is_open()) else {
            return;
        };
        match s.active {
            Active::Polling => {
                if s.buffer.is_empty() {
                    return;
                }
                let Some(get) = s.parked_get.take() else {
                    return;
                };
                let mut body = BytesMut::new();
                for (i, item) in s.buffer.drain(..).enumerate() {
                    if i > 0 {
                        body.put_u8(RECORD_SEPARATOR);
                    }
                    match item {
                        Outgoing::Packet(p) => p.encode_text(&mut body),
                        Outgoing::Raw(raw) => body.put_slice(&raw),
                    }
                }
                let closing = s.closing;
                self.respond_payload(now, get, body.freeze());
                if closing {
                    self.finish_session(now, sid, "forced close");
                }
            }
            Active::WebSocket(conn) => {
                let base64 = s.base64;
                let items: Vec<Outgoing> = s.buffer.drain(..).collect();
                let closing = s.closing;
                for item in items {
                    let frame = match item {
                        Outgoing::Packet(Packet::Message(Message::Binary(b))) if !base64 => {
                            WsFrame::Binary(b)
                        }
                        Outgoing::Packet(p) => WsFrame::Text(p.to_text()),
                        Outgoing::Raw(raw) => WsFrame::Text(raw),
                    };
                    self.ws_send(now, conn, frame);
                }
                if closing {
                    self.conns.insert(conn, Conn::Closed);
                    self.ws_close(now, conn);
                    self.finish_session(now, sid, "forced close");
                }
            }
        }
    }

    /// Ends a session: releases its parked GET, closes its WebSockets, tells the application.
    fn end_session(&mut self, now: Instant, sid: &str, reason: &str, release: Release) {
        let Some(s) = self.sessions.get_mut(sid).filter(|s| s.is_open()) else {
            return;
        };
        s.buffer.clear();
        let parked = s.parked_get.take();
        let active = s.active;
        let probe = s.upgrade.take().map(|u| u.conn);
        if let Some(get) = parked {
            match release {
                Release::Close => self.respond_payload(now, get, Packet::Close.to_text()),
                Release::Noop => self.respond_payload(now, get, Packet::Noop.to_text()),
                Release::Abort => self.http_abort(now, get),
            }
        }
        for conn in [active_conn(active), probe].into_iter().flatten() {
            if matches!(
                self.conns.get(&conn),
                Some(Conn::Active(_) | Conn::Probe(_))
            ) {
                self.conns.insert(conn, Conn::Closed);
                if release == Release::Abort {
                    self.ws_abort(now, conn);
                } else {
                    self.ws_close(now, conn);
                }
            }
        }
        self.finish_session(now, sid, reason);
    }

    /// Marks a session closed and tells the application.
    fn finish_session(&mut self, _now: Instant, sid: &str, reason: &str) {
        let Some(s) = self.sessions.get_mut(sid).filter(|s| s.is_open()) else {
            return;
        };
        s.closed = Some(reason.to_owned());
        s.next_ping = None;
        s.pong_deadline = None;
        s.upgrade = None;
        self.app.on_close(sid, reason);
    }

    fn response_headers(&mut self, now: Instant, content_type: &str) -> Vec<Header> {
        let mut headers = vec![
            ("content-type".to_owned(), content_type.to_owned()),
            ("date".to_owned(), http_date_at(self.elapsed(now))),
        ];
        for cookie in self.next_cookies.drain(..) {
            headers.push(("set-cookie".to_owned(), cookie));
        }
        headers
    }

    fn respond(
        &mut self,
        now: Instant,
        id: RequestId,
        status: u16,
        content_type: &str,
        body: Bytes,
    ) {
        let headers = self.response_headers(now, content_type);
        let method = self.pending.remove(&id).unwrap_or(Method::Get);
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::HttpResponse {
                id,
                method,
                status,
                headers: headers.clone(),
                body: body.clone(),
            },
        );
        self.output.push_back(ServerOutput::HttpResponse {
            request: id,
            response: HttpResponse {
                status,
                headers,
                body,
            },
        });
    }

    fn respond_payload(&mut self, now: Instant, id: RequestId, body: Bytes) {
        self.respond(now, id, 200, "text/plain; charset=UTF-8", body);
    }

    fn respond_error(
        &mut self,
        now: Instant,
        id: RequestId,
        status: u16,
        code: i64,
        message: &str,
    ) {
        let body = Bytes::from(error_body(code, message));
        self.respond(now, id, status, "application/json", body);
    }

    fn http_abort(&mut self, now: Instant, id: RequestId) {
        self.pending.remove(&id);
        let at = self.elapsed(now);
        self.transcript.push(at, Record::HttpAbort { id });
        self.output
            .push_back(ServerOutput::HttpAbort { request: id });
    }

    fn ws_accept(&mut self, now: Instant, conn: ConnId) {
        let headers: Vec<Header> = self
            .next_cookies
            .drain(..)
            .map(|c| ("set-cookie".to_owned(), c))
            .collect();
        let at = self.elapsed(now);
        self.transcript.push(at, Record::WsAccept { conn });
        self.output
            .push_back(ServerOutput::WsAccept { conn, headers });
    }

    fn ws_reject(&mut self, now: Instant, conn: ConnId, status: u16, body: Bytes) {
        self.conns.insert(conn, Conn::Closed);
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::WsReject {
                conn,
                status,
                body: body.clone(),
            },
        );
        self.output
            .push_back(ServerOutput::WsReject { conn, status, body });
    }

    fn ws_send(&mut self, now: Instant, conn: ConnId, frame: WsFrame) {
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::WsFrame {
                conn,
                from: Side::Server,
                frame: frame.clone(),
            },
        );
        self.output.push_back(ServerOutput::WsSend { conn, frame });
    }

    fn ws_close(&mut self, now: Instant, conn: ConnId) {
        let at = self.elapsed(now);
        self.transcript.push(
            at,
            Record::WsClose {
                conn,
                from: Side::Server,
            },
        );
        self.output.push_back(ServerOutput::WsClose { conn });
    }

    fn ws_abort(&mut self, now: Instant, conn: ConnId) {
        let at = self.elapsed(now);
        self.transcript.push(at, Record::WsAbort { conn });
        self.output.push_back(ServerOutput::WsAbort { conn });
    }
}

fn active_conn(active: Active) -> Option<ConnId> {
    match active {
        Active::Polling => None,
        Active::WebSocket(conn) => Some(conn),
    }
}
