//! The Engine.IO client state machine.

use std::collections::VecDeque;
use web_time::Instant;

use bytes::Bytes;

use crate::config::{Config, ConfigError, EngineProtocol, TransportKind};
use crate::cookie::CookieJar;
use crate::error::{
    CloseReason, DecodeError, IoError, IoErrorKind, PollRequest, ProtocolViolation, SendError,
    ServerError, ServerProtocol, TransportError,
};
use crate::handshake::Handshake;
use crate::input::{HttpResponse, TransportEvent};
use crate::output::{Event, Output, Transmit, TransportId, WsFrame};
use crate::packet::{Message, Packet, PayloadDecoder, decode_payload, encode_payload};
use crate::request::{Header, build_headers, build_url, cache_buster, request_path};
use crate::timer::{Timer, Timers};
use crate::v3::{self, Framing};

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for the handshake.
    Opening,
    /// Messages flow.
    Open,
    /// [`Client::close`] was called; waiting for the write buffer or an upgrade to finish.
    Closing,
    /// Over; see [`Client::close_reason`].
    Closed,
}

#[derive(Debug)]
struct Transport {
    id: TransportId,
    kind: TransportKind,
    /// Polling: the handshake arrived. WebSocket: the connection is established.
    open: bool,
    get_in_flight: bool,
    post_in_flight: bool,
    /// Polling paused for an upgrade: no new requests.
    paused: bool,
    /// The adapter reported this WebSocket closed: there is nothing left to close.
    gone: bool,
}

impl Transport {
    fn new(id: TransportId, kind: TransportKind) -> Self {
        Self {
            id,
            kind,
            open: false,
            get_in_flight: false,
            post_in_flight: false,
            paused: false,
            gone: false,
        }
    }

    fn is_polling(&self) -> bool {
        self.kind == TransportKind::Polling
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeStage {
    /// The WebSocket is connecting.
    Connecting,
    /// `2probe` sent, waiting for `3probe`.
    AwaitingPong,
    /// `3probe` received; waiting for the in-flight GET and POST to finish.
    Pausing,
}

#[derive(Debug)]
struct Probe {
    id: TransportId,
    kind: TransportKind,
    stage: ProbeStage,
}

/// A sans-IO Engine.IO client session (v4, or v3 with [`Config::protocol`]).
///
/// Feed it what happens ([`Client::handle_transport`] for every IO report,
/// [`Client::handle_timeout`] for time) and give it commands ([`Client::send`],
/// [`Client::close`]); then drain [`Client::poll_output`] until `None` and wait until
/// [`Client::poll_timeout`]. Every entry point takes `now`; time going backwards is treated as
/// no time passing. See the crate docs for the loop.
///
/// `Debug` shows the session's state, not its data: queued packets and outputs are counted,
/// the cookie jar shows names only, and the config hides query and header values.
pub struct Client {
    config: Config,
    state: State,
    close_reason: Option<CloseReason>,
    handshake: Option<Handshake>,
    transport: Option<Transport>,
    probe: Option<Probe>,
    /// Transports still worth trying while opening (`try_all_transports`).
    candidates: Vec<TransportKind>,
    write_buffer: VecDeque<Packet>,
    upgrading: bool,
    output: VecDeque<Output>,
    timers: Timers,
    last_now: Instant,
    rng_state: u64,
    next_id: u64,
    jar: CookieJar,
    /// The revision this session speaks: the configured one, or while detecting,
    /// [`EngineProtocol::Detect`] until the server's first answer tells.
    protocol: EngineProtocol,
    /// Detection read a WebSocket handshake without `maxPayload` as v3: a server ping proves
    /// it v4 after all (see [`EngineProtocol`]).
    tentative_v3: bool,
    /// Since when the caller holds the heartbeat deadline (see [`Client::hold_heartbeat`]).
    heartbeat_held_since: Option<Instant>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Queued packets may hold a CONNECT with `auth`, and queued transmits a body: count them.
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("state", &self.state)
            .field("close_reason", &self.close_reason)
            .field("handshake", &self.handshake)
            .field("transport", &self.transport)
            .field("probe", &self.probe)
            .field("candidates", &self.candidates)
            .field("write_buffer", &self.write_buffer.len())
            .field("upgrading", &self.upgrading)
            .field("output", &self.output.len())
            .field("timers", &self.timers)
            .field("jar", &self.jar)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a session: the first transmit (the handshake request) is ready at once.
    ///
    /// `rng` seeds the cache-busting values. `prior_websocket_success` is the last
    /// [`Event::RememberUpgrade`] value the adapter kept; with `remember_upgrade` it makes the
    /// client start over WebSocket.
    pub fn new(
        config: Config,
        now: Instant,
        rng: &mut dyn rand_core::RngCore,
        prior_websocket_success: bool,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let mut candidates: Vec<TransportKind> = Vec::with_capacity(2);
        for &kind in &config.transports {
            if !candidates.contains(&kind) {
                candidates.push(kind);
            }
        }
        let first = if config.remember_upgrade
            && prior_websocket_success
            && candidates.contains(&TransportKind::WebSocket)
        {
            TransportKind::WebSocket
        } else {
            candidates[0]
        };
        let mut client = Self {
            config,
            state: State::Opening,
            close_reason: None,
            handshake: None,
            transport: None,
            probe: None,
            candidates,
            write_buffer: VecDeque::new(),
            upgrading: false,
            output: VecDeque::new(),
            timers: Timers::default(),
            last_now: now,
            heartbeat_held_since: None,
            rng_state: rng.next_u64(),
            next_id: 0,
            jar: CookieJar::default(),
            protocol: EngineProtocol::V4,
            tentative_v3: false,
        };
        client.protocol = client.config.protocol;
        // Every request goes to the configured host and path: the jar refuses cookies meant
        // for another domain, path or (`Secure`) scheme.
        let path = request_path(&client.config);
        client.jar = CookieJar::for_server(&client.config.url, &path);
        client.open_transport(now, first);
        Ok(client)
    }

    // ----- queries -----

    /// Where the session is.
    pub fn state(&self) -> State {
        self.state
    }

    /// The handshake, once the session is open.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.handshake.as_ref()
    }

    /// The session id, once the session is open.
    pub fn sid(&self) -> Option<&str> {
        self.handshake.as_ref().map(|h| h.sid.as_str())
    }

    /// The Engine.IO revision the session speaks: the configured one, or with
    /// [`EngineProtocol::Detect`], `Detect` until the server's first answer tells, then
    /// [`EngineProtocol::V3`] or [`EngineProtocol::V4`].
    pub fn protocol(&self) -> EngineProtocol {
        self.protocol
    }

    /// The transport the session uses now.
    pub fn transport(&self) -> Option<TransportKind> {
        self.transport.as_ref().map(|t| t.kind)
    }

    /// Why the session closed; `None` while it is not closed.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_ref()
    }

    /// Whether a message sent now would be written at once rather than wait in the buffer:
    /// the session is open, no upgrade is in progress, and (polling) no POST is in flight.
    /// Volatile messages are sent only when this holds.
    pub fn is_writable(&self) -> bool {
        self.state == State::Open
            && !self.upgrading
            && self
                .transport
                .as_ref()
                .is_some_and(|t| t.open && !t.post_in_flight && !t.paused)
    }

    /// Whether the heartbeat deadline has passed at `now`. A session in that state is dead
    /// even if no timer has fired yet (a laptop that slept); the next entry point closes it.
    pub fn is_expired(&self, now: Instant) -> bool {
        matches!(self.state, State::Open | State::Closing)
            && self.heartbeat_held_since.is_none()
            && self
                .timers
                .get(Timer::Heartbeat)
                .is_some_and(|at| now >= at)
    }

    /// Number of packets waiting to be written.
    pub fn buffered(&self) -> usize {
        self.write_buffer.len()
    }

    // ----- the run loop -----

    /// The next transmit or event, in order. Drain until `None` after every input.
    #[must_use = "outputs are the client's only effect; drain until None"]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.output.pop_front()
    }

    /// Gives back the memory of the queues that are empty (a burst leaves them grown). Call
    /// it when the connection goes idle: holding nothing is an idle client's floor.
    pub fn shrink_to_fit(&mut self) {
        if self.output.is_empty() {
            self.output = VecDeque::new();
        }
        if self.write_buffer.is_empty() {
            self.write_buffer = VecDeque::new();
        }
    }

    /// When [`Client::handle_timeout`] should be called next; `None` when nothing is scheduled.
    #[must_use = "a client whose deadline is not waited for misses its heartbeat and probe timeouts"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        if self.heartbeat_held_since.is_some() {
            return self.timers.next_except(Timer::Heartbeat);
        }
        self.timers.next()
    }

    /// Holds the heartbeat deadline (`held`) or lets it run again: for a caller that stops
    /// reading the transport on purpose, to bound its memory while its application catches
    /// up (backpressure). While held, the deadline does not expire; when released, it moves
    /// later by the time it was held. A ping the server queued behind data the caller has
    /// not read yet cannot arrive before the caller reads again, so the time the caller
    /// spent not reading proves nothing about the server: counting it would close a healthy
    /// session as "ping timeout" because the application was slow. The server keeps its own
    /// pong deadline; if that fires, its close arrives in order once reading resumes.
    /// Repeated calls with the same `held` are harmless.
    pub fn hold_heartbeat(&mut self, now: Instant, held: bool) {
        match (held, self.heartbeat_held_since) {
            (true, None) => {
                // Time before the hold counts as usual: a deadline already passed closes.
                let now = self.enter(now);
                if self.state != State::Closed {
                    self.heartbeat_held_since = Some(now);
                }
            }
            (false, Some(since)) => {
                self.heartbeat_held_since = None;
                let now = now.max(self.last_now);
                if let Some(at) = self.timers.get(Timer::Heartbeat) {
                    // Too far to represent: the deadline never comes, as in `arm_heartbeat`.
                    let moved = at.checked_add(now.saturating_duration_since(since));
                    self.timers.set(Timer::Heartbeat, moved);
                }
                self.enter(now);
            }
            _ => {}
        }
    }

    /// Whether the heartbeat deadline is held (see [`Client::hold_heartbeat`]).
    pub fn is_heartbeat_held(&self) -> bool {
        self.heartbeat_held_since.is_some()
    }

    /// Fires what is due at `now`: the heartbeat deadline, the upgrade probe timeout, and
    /// (Engine.IO 3) the client's heartbeat ping. Harmless when early or repeated.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.enter(now);
        if self.state == State::Closed {
            return;
        }
        if self.timers.take_due(Timer::Probe, now) {
            self.probe_failed("probe timeout");
        }
        if self.state != State::Closed && self.timers.take_due(Timer::Ping, now) {
            self.send_heartbeat(now);
        }
    }

    /// Engine.IO 3: the client pings every pingInterval and the server must answer within
    /// pingTimeout (the reference's `setPing` then `onHeartbeat(pingTimeout)`).
    fn send_heartbeat(&mut self, now: Instant) {
        self.write_buffer.push_back(Packet::Ping { probe: false });
        let timeout = self.handshake.as_ref().map(|h| h.ping_timeout);
        self.timers
            .set(Timer::Heartbeat, timeout.and_then(|t| now.checked_add(t)));
        self.flush();
    }

    // ----- commands -----

    /// Queues a message. It is written when the transport can take it (batched into one POST
    /// on polling). Fails when the session is closing or closed, and closes the session with
    /// "ping timeout" instead of writing when the heartbeat deadline has passed.
    ///
    /// Engine.IO v4 does not escape the record separator (0x1E) of polling payloads, and
    /// neither does this client (nor the reference): text containing it would reach the
    /// server as several messages. Send such data as binary.
    pub fn send(&mut self, now: Instant, message: Message) -> Result<(), SendError> {
        let _ = self.enter(now);
        match self.state {
            State::Opening | State::Open => {
                self.write_buffer.push_back(Packet::Message(message));
                self.flush();
                Ok(())
            }
            State::Closing => Err(SendError::Closed(None)),
            State::Closed => Err(SendError::Closed(self.close_reason.clone())),
        }
    }

    /// Closes the session ("forced close") once the write buffer is flushed and any upgrade in
    /// progress has finished; on polling the server is told with a `1` POST.
    pub fn close(&mut self, now: Instant) {
        let _ = self.enter(now);
        match self.state {
            State::Opening => self.finish(CloseReason::ForcedClose),
            State::Open => {
                self.state = State::Closing;
                self.maybe_finish_closing();
            }
            State::Closing | State::Closed => {}
        }
    }

    /// Closes the session now with `reason`, dropping what is buffered. The layer above uses
    /// this for "parse error".
    pub fn close_with(&mut self, now: Instant, reason: CloseReason) {
        let _ = self.enter(now);
        self.finish(reason);
    }

    // ----- transport reports -----

    /// Reports what happened on `transport`, a transport this client asked for with a
    /// [`Transmit`]: every IO result comes in here, then [`Client::poll_output`] is drained as
    /// after any input. Reports about transports the client has dropped are ignored.
    pub fn handle_transport(
        &mut self,
        now: Instant,
        transport: TransportId,
        event: TransportEvent,
    ) {
        let now = self.enter(now);
        match event {
            TransportEvent::HttpResponse { request, response } => {
                self.on_http_response(now, transport, request, response)
            }
            TransportEvent::HttpError { request, error } => {
                self.on_http_error(transport, request, error)
            }
            TransportEvent::WsOpen { headers } => self.on_ws_open(now, transport, &headers),
            TransportEvent::WsFrame(frame) => self.on_ws_frame(now, transport, frame),
            TransportEvent::WsClose { error } => self.on_ws_close(transport, error),
        }
    }

    // ----- internals: one per transport report, `now` already clamped -----

    fn on_http_response(
        &mut self,
        now: Instant,
        transport: TransportId,
        request: PollRequest,
        response: HttpResponse,
    ) {
        // Cookies count even from a late response: the server set them.
        self.store_cookies(now, &response.headers);
        if self.state == State::Closed || !self.take_in_flight(transport, request) {
            return;
        }
        if response.status != 200 {
            let server_error = ServerError::parse(&response.body);
            return self.transport_failed(TransportError::HttpStatus {
                request,
                status: response.status,
                server_error,
            });
        }
        match request {
            PollRequest::Get => {
                if self.state == State::Opening && !self.check_framing(&response.body) {
                    return;
                }
                let packets = if self.protocol == EngineProtocol::V3 {
                    Payload::V3(v3::decode_payload(response.body))
                } else {
                    Payload::V4(decode_payload(response.body))
                };
                for packet in packets {
                    match packet {
                        Ok(packet) => self.on_packet(now, packet),
                        Err(e) => {
                            self.protocol_violation(ProtocolViolation::Decode(e));
                        }
                    }
                    if !self.is_active(transport) || self.state == State::Closed {
                        return;
                    }
                }
            }
            PollRequest::Post => self.flush(),
        }
        self.maybe_complete_pause();
        // A session that is done closing must not start one more GET first.
        self.maybe_finish_closing();
        self.poll();
    }

    fn on_http_error(&mut self, transport: TransportId, request: PollRequest, error: IoError) {
        if self.state == State::Closed || !self.take_in_flight(transport, request) {
            return;
        }
        self.transport_failed(TransportError::Request { request, error });
    }

    fn on_ws_open(&mut self, now: Instant, transport: TransportId, headers: &[Header]) {
        self.store_cookies(now, headers);
        if self.state == State::Closed {
            return;
        }
        if let Some(t) = self.transport.as_mut().filter(|t| t.id == transport) {
            if !t.is_polling() {
                t.open = true;
            }
            return;
        }
        if let Some(probe) = self.probe.as_mut().filter(|p| p.id == transport)
            && probe.stage == ProbeStage::Connecting
        {
            probe.stage = ProbeStage::AwaitingPong;
            let frame = WsFrame::Text(Packet::Ping { probe: true }.to_text());
            self.transmit(Transmit::WsSend { transport, frame });
        }
    }

    fn on_ws_frame(&mut self, now: Instant, transport: TransportId, frame: WsFrame) {
        if self.state == State::Closed {
            return;
        }
        let packet = match (frame, self.protocol == EngineProtocol::V3) {
            (WsFrame::Text(data), false) => Packet::decode_text(data),
            (WsFrame::Binary(data), false) => Ok(Packet::decode_binary(data)),
            (WsFrame::Text(data), true) => v3::decode_text(data),
            (WsFrame::Binary(data), true) => v3::decode_binary(data),
        };
        if self.is_active_ws(transport) {
            match packet {
                Ok(packet) => self.on_packet(now, packet),
                Err(e) => self.protocol_violation(ProtocolViolation::Decode(e)),
            }
        } else if self.probe.as_ref().is_some_and(|p| p.id == transport) {
            self.on_probe_packet(packet.ok());
        }
    }

    fn on_ws_close(&mut self, transport: TransportId, error: Option<IoError>) {
        if self.state == State::Closed {
            return;
        }
        if self.is_active_ws(transport) {
            if let Some(t) = self.transport.as_mut() {
                t.gone = true;
            }
            match error {
                // Reset without a close frame: the reference reports "transport close".
                Some(error) if error.kind() == IoErrorKind::Closed => {
                    self.finish(CloseReason::TransportClose {
                        description: error.message().to_owned(),
                    })
                }
                Some(error) => self.transport_failed(TransportError::WebSocket { error }),
                None => self.finish(CloseReason::TransportClose {
                    description: "websocket connection closed".into(),
                }),
            }
        } else if self.probe.as_ref().is_some_and(|p| p.id == transport) {
            self.probe = None;
            let description = error.map_or_else(|| "transport closed".into(), |e| e.to_string());
            self.probe_failed(&description);
        }
    }

    // ----- internals: shared -----

    /// Clamps `now` so time never runs backwards, then closes the session if the heartbeat
    /// deadline has passed: checked on every entry point, not only when a timer fires.
    fn enter(&mut self, now: Instant) -> Instant {
        let now = now.max(self.last_now);
        self.last_now = now;
        if self.is_expired(now) {
            self.finish(CloseReason::PingTimeout);
        }
        now
    }

    /// Checks what the handshake response is written in against the revision asked for; with
    /// detection, the answer decides. False (and the session fails) when they disagree.
    fn check_framing(&mut self, body: &[u8]) -> bool {
        let answered = match v3::sniff_polling(body) {
            Framing::V4 => EngineProtocol::V4,
            Framing::V3 => EngineProtocol::V3,
            // An explicit v4 client keeps the v4 decoder's own, more precise diagnosis.
            Framing::Unknown(_) if self.protocol == EngineProtocol::V4 => return true,
            Framing::Unknown(head) => {
                self.protocol_violation(ProtocolViolation::WrongProtocol {
                    requested: self.config.protocol,
                    answered: ServerProtocol::Unrecognized(head),
                });
                return false;
            }
        };
        if self.protocol == EngineProtocol::Detect {
            self.protocol = answered;
        } else if self.protocol != answered {
            let answered = match answered {
                EngineProtocol::V3 => ServerProtocol::EngineIo3,
                _ => ServerProtocol::EngineIo4,
            };
            self.protocol_violation(ProtocolViolation::WrongProtocol {
                requested: self.protocol,
                answered,
            });
            return false;
        }
        true
    }

    fn is_active(&self, id: TransportId) -> bool {
        self.transport.as_ref().is_some_and(|t| t.id == id)
    }

    /// Whether `id` is the active transport and a WebSocket: WebSocket reports about a polling
    /// transport are the adapter's mistake and are ignored.
    fn is_active_ws(&self, id: TransportId) -> bool {
        self.transport
            .as_ref()
            .is_some_and(|t| t.id == id && !t.is_polling())
    }

    /// Marks the `request` of polling transport `id` as answered. False (and nothing changes)
    /// when `id` is not the active polling transport or that request is not in flight: a report
    /// for a request the client never made must not clear the in-flight flag of a real one.
    fn take_in_flight(&mut self, id: TransportId, request: PollRequest) -> bool {
        let Some(t) = self
            .transport
            .as_mut()
            .filter(|t| t.id == id && t.is_polling())
        else {
            return false;
        };
        let flag = match request {
            PollRequest::Get => &mut t.get_in_flight,
            PollRequest::Post => &mut t.post_in_flight,
        };
        std::mem::replace(flag, false)
    }

    fn transmit(&mut self, t: Transmit) {
        self.output.push_back(Output::Transmit(t));
    }

    fn event(&mut self, e: Event) {
        self.output.push_back(Output::Event(e));
    }

    fn next_transport_id(&mut self) -> TransportId {
        self.next_id += 1;
        TransportId(self.next_id)
    }

    /// SplitMix64: the cache-buster needs spread, not secrecy.
    fn next_random(&mut self) -> u64 {
        self.rng_state = self.rng_state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng_state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn url(&mut self, kind: TransportKind) -> url::Url {
        let random = self.next_random();
        let sid = self.handshake.as_ref().map(|h| h.sid.as_str());
        let eio = self.protocol.eio();
        build_url(&self.config, kind, sid, eio, || cache_buster(random))
    }

    fn headers(&mut self, post: bool) -> Vec<Header> {
        let cookie = if self.config.with_credentials {
            self.jar.header(self.last_now)
        } else {
            None
        };
        build_headers(&self.config, post, cookie)
    }

    fn store_cookies(&mut self, now: Instant, headers: &[Header]) {
        if !self.config.with_credentials {
            return;
        }
        let date = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("date"))
            .map(|(_, v)| v.as_str());
        let set = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str());
        self.jar.store(now, set, date);
    }

    fn open_transport(&mut self, _now: Instant, kind: TransportKind) {
        let id = self.next_transport_id();
        let url = self.url(kind);
        match kind {
            TransportKind::Polling => {
                let mut t = Transport::new(id, kind);
                t.get_in_flight = true;
                self.transport = Some(t);
                let headers = self.headers(false);
                self.transmit(Transmit::HttpGet {
                    transport: id,
                    url,
                    headers,
                });
            }
            TransportKind::WebSocket => {
                self.transport = Some(Transport::new(id, kind));
                let headers = self.headers(false);
                let protocols = self.config.protocols.clone();
                self.transmit(Transmit::WsOpen {
                    transport: id,
                    url,
                    headers,
                    protocols,
                });
            }
        }
    }

    fn on_packet(&mut self, now: Instant, packet: Packet) {
        if self.state == State::Opening {
            return match packet {
                Packet::Open(json) => self.on_handshake(now, &json),
                _ => self.protocol_violation(ProtocolViolation::ExpectedOpen),
            };
        }
        if self.protocol == EngineProtocol::V3 {
            // The reference's v3 `onHeartbeat()`: any packet proves the server alive.
            self.arm_heartbeat(now);
        }
        match packet {
            Packet::Open(_) => self.protocol_violation(ProtocolViolation::UnexpectedOpen),
            Packet::Close => self.finish(CloseReason::TransportClose {
                description: "transport closed by the server".into(),
            }),
            Packet::Ping { probe: false } if self.protocol == EngineProtocol::V3 => {
                // A v3 server never pings. After a WebSocket detection that could only guess
                // v3, a ping proves the server v4: switch before our first ping goes out.
                if self.tentative_v3 {
                    self.tentative_v3 = false;
                    self.protocol = EngineProtocol::V4;
                    self.timers.set(Timer::Ping, None);
                    self.on_packet(now, Packet::Ping { probe: false });
                }
            }
            Packet::Pong { probe: false } if self.protocol == EngineProtocol::V3 => {
                // The answer to our heartbeat: the next one goes out a pingInterval from now.
                self.tentative_v3 = false;
                let interval = self.handshake.as_ref().map(|h| h.ping_interval);
                self.timers
                    .set(Timer::Ping, interval.and_then(|i| now.checked_add(i)));
                self.event(Event::Ping);
            }
            Packet::Ping { probe: false } => {
                self.arm_heartbeat(now);
                self.write_buffer.push_back(Packet::Pong { probe: false });
                self.event(Event::Ping);
                self.flush();
            }
            Packet::Message(m) => self.event(Event::Message(m)),
            // A server `3`, a stray probe, `5` and `6` carry nothing for an open session; `6`
            // only releases a parked GET, which the response already did.
            Packet::Ping { probe: true } | Packet::Pong { .. } | Packet::Upgrade | Packet::Noop => {
            }
        }
    }

    fn on_handshake(&mut self, now: Instant, json: &Bytes) {
        let handshake = match Handshake::parse(json) {
            Ok(h) => h,
            Err(e) => return self.protocol_violation(e),
        };
        if self.protocol == EngineProtocol::Detect {
            // Only a WebSocket handshake gets here undecided (polling decided on the body's
            // framing): v4 servers since engine.io 6.2 announce maxPayload, v3 never does.
            if handshake.max_payload > 0 {
                self.protocol = EngineProtocol::V4;
            } else {
                self.protocol = EngineProtocol::V3;
                self.tentative_v3 = true;
            }
        }
        self.state = State::Open;
        let kind = match self.transport.as_mut() {
            Some(t) => {
                t.open = true;
                t.kind
            }
            None => return,
        };
        self.handshake = Some(handshake.clone());
        self.arm_heartbeat(now);
        if self.protocol == EngineProtocol::V3 {
            let first_ping = now.checked_add(handshake.ping_interval);
            self.timers.set(Timer::Ping, first_ping);
        }
        self.event(Event::RememberUpgrade(kind == TransportKind::WebSocket));
        self.event(Event::Open(handshake));
        self.flush();
        self.start_probes(now);
    }

    fn arm_heartbeat(&mut self, now: Instant) {
        let window = self
            .handshake
            .as_ref()
            .map(Handshake::heartbeat_window)
            .unwrap_or_default();
        // A window too large to represent means the deadline never comes.
        self.timers.set(Timer::Heartbeat, now.checked_add(window));
    }

    fn start_probes(&mut self, now: Instant) {
        let Some(handshake) = self.handshake.as_ref() else {
            return;
        };
        if !self.config.upgrade || self.transport.as_ref().is_none_or(|t| !t.is_polling()) {
            return;
        }
        let target = TransportKind::WebSocket;
        if !handshake.offers(target) || !self.config.transports.contains(&target) {
            return;
        }
        let id = self.next_transport_id();
        let url = self.url(target);
        let headers = self.headers(false);
        let protocols = self.config.protocols.clone();
        self.probe = Some(Probe {
            id,
            kind: target,
            stage: ProbeStage::Connecting,
        });
        self.timers
            .set(Timer::Probe, now.checked_add(self.config.probe_timeout));
        self.transmit(Transmit::WsOpen {
            transport: id,
            url,
            headers,
            protocols,
        });
    }

    fn on_probe_packet(&mut self, packet: Option<Packet>) {
        let Some(probe) = self.probe.as_mut() else {
            return;
        };
        if probe.stage == ProbeStage::AwaitingPong && packet == Some(Packet::Pong { probe: true }) {
            probe.stage = ProbeStage::Pausing;
            let kind = probe.kind;
            self.upgrading = true;
            self.event(Event::Upgrading(kind));
            if let Some(t) = self.transport.as_mut() {
                t.paused = true;
            }
            self.maybe_complete_pause();
        } else {
            self.probe_failed("probe error");
        }
    }

    /// Finishes the upgrade once polling is paused: nothing in flight either way.
    fn maybe_complete_pause(&mut self) {
        let paused = self
            .transport
            .as_ref()
            .is_some_and(|t| t.paused && !t.get_in_flight && !t.post_in_flight);
        if !paused
            || self
                .probe
                .as_ref()
                .is_none_or(|p| p.stage != ProbeStage::Pausing)
        {
            return;
        }
        let Some(probe) = self.probe.take() else {
            return;
        };
        self.timers.set(Timer::Probe, None);
        let mut ws = Transport::new(probe.id, probe.kind);
        ws.open = true;
        // The paused polling transport is dropped without a word: the server discards it
        // when `5` arrives.
        self.transport = Some(ws);
        let frame = WsFrame::Text(Packet::Upgrade.to_text());
        self.transmit(Transmit::WsSend {
            transport: probe.id,
            frame,
        });
        self.upgrading = false;
        self.event(Event::Upgrade(probe.kind));
        self.event(Event::RememberUpgrade(true));
        self.flush();
        self.maybe_finish_closing();
    }

    fn probe_failed(&mut self, description: &str) {
        self.timers.set(Timer::Probe, None);
        if let Some(probe) = self.probe.take() {
            self.transmit(Transmit::WsClose {
                transport: probe.id,
            });
        }
        let kind = TransportKind::WebSocket;
        if self.upgrading {
            self.upgrading = false;
            if let Some(t) = self.transport.as_mut() {
                t.paused = false;
            }
        }
        self.event(Event::UpgradeError {
            transport: kind,
            description: description.to_owned(),
        });
        self.event(Event::RememberUpgrade(false));
        self.flush();
        self.maybe_finish_closing();
        self.poll();
    }

    /// Issues the next long-polling GET when none is in flight.
    fn poll(&mut self) {
        if !matches!(self.state, State::Open | State::Closing) {
            return;
        }
        let Some(t) = self.transport.as_mut() else {
            return;
        };
        if !t.is_polling() || !t.open || t.get_in_flight || t.paused {
            return;
        }
        t.get_in_flight = true;
        let id = t.id;
        let url = self.url(TransportKind::Polling);
        let headers = self.headers(false);
        self.transmit(Transmit::HttpGet {
            transport: id,
            url,
            headers,
        });
    }

    /// Writes the buffer if the transport can take it.
    fn flush(&mut self) {
        if !matches!(self.state, State::Open | State::Closing)
            || self.upgrading
            || self.write_buffer.is_empty()
        {
            return;
        }
        let Some(t) = self.transport.as_ref() else {
            return;
        };
        if !t.open {
            return;
        }
        let id = t.id;
        if t.is_polling() {
            if t.post_in_flight || t.paused {
                return;
            }
            let max_payload = self.handshake.as_ref().map_or(0, |h| h.max_payload);
            let count = writable_count(&self.write_buffer, max_payload);
            let batch = self.write_buffer.iter().take(count);
            let body = if self.protocol == EngineProtocol::V3 {
                v3::encode_payload(batch)
            } else {
                encode_payload(batch)
            };
            self.write_buffer.drain(..count);
            if let Some(t) = self.transport.as_mut() {
                t.post_in_flight = true;
            }
            let url = self.url(TransportKind::Polling);
            let headers = self.headers(true);
            self.transmit(Transmit::HttpPost {
                transport: id,
                url,
                headers,
                body,
            });
        } else {
            let v3 = self.protocol == EngineProtocol::V3;
            while let Some(packet) = self.write_buffer.pop_front() {
                let frame = match packet {
                    Packet::Message(Message::Binary(data)) if !self.config.force_base64 => {
                        if v3 {
                            WsFrame::Binary(v3::binary_frame(&data))
                        } else {
                            WsFrame::Binary(data)
                        }
                    }
                    other if v3 => WsFrame::Text(v3::to_text(&other)),
                    other => WsFrame::Text(other.to_text()),
                };
                self.transmit(Transmit::WsSend {
                    transport: id,
                    frame,
                });
            }
        }
    }

    fn maybe_finish_closing(&mut self) {
        if self.state != State::Closing || self.upgrading || !self.write_buffer.is_empty() {
            return;
        }
        if self.transport.as_ref().is_some_and(|t| t.post_in_flight) {
            return;
        }
        self.finish(CloseReason::ForcedClose);
    }

    fn protocol_violation(&mut self, violation: ProtocolViolation) {
        self.transport_failed(TransportError::Protocol(violation));
    }

    fn transport_failed(&mut self, error: TransportError) {
        if self.state == State::Opening
            && self.config.try_all_transports
            && let Some(failed) = self.transport.as_ref().map(|t| t.kind)
        {
            self.candidates.retain(|&k| k != failed);
            if let Some(&next) = self.candidates.first() {
                self.drop_transport();
                self.event(Event::RememberUpgrade(false));
                return self.open_transport(self.last_now, next);
            }
        }
        self.finish(CloseReason::TransportError(error));
    }

    /// Lets go of the active transport, closing a WebSocket.
    fn drop_transport(&mut self) {
        if let Some(t) = self.transport.take()
            && !t.is_polling()
            && !t.gone
        {
            self.transmit(Transmit::WsClose { transport: t.id });
        }
    }

    /// Ends the session with `reason`, once.
    fn finish(&mut self, reason: CloseReason) {
        if self.state == State::Closed {
            return;
        }
        // Tell the server on polling when it may still believe the session alive
        // (`CloseReason::says_goodbye`). The goodbye goes out even beside a POST in flight, as
        // the reference's does: the server then ends the session either on the `1` or on the
        // overlapping request (engine.io closes a session whose client overlaps its POSTs),
        // and a session it still believed alive would otherwise stay open until its
        // heartbeat ran out.
        if reason.says_goodbye()
            && let Some(t) = self.transport.as_ref()
            && t.is_polling()
            && t.open
        {
            let id = t.id;
            let url = self.url(TransportKind::Polling);
            let headers = self.headers(true);
            let body = if self.protocol == EngineProtocol::V3 {
                v3::encode_payload([&Packet::Close])
            } else {
                Packet::Close.to_text()
            };
            self.transmit(Transmit::HttpPost {
                transport: id,
                url,
                headers,
                body,
            });
        }
        self.drop_transport();
        if let Some(probe) = self.probe.take() {
            self.transmit(Transmit::WsClose {
                transport: probe.id,
            });
        }
        if matches!(reason, CloseReason::TransportError(_)) {
            self.event(Event::RememberUpgrade(false));
        }
        self.upgrading = false;
        self.write_buffer.clear();
        self.timers.clear();
        self.state = State::Closed;
        self.close_reason = Some(reason.clone());
        self.event(Event::Close(reason));
    }
}

/// The packets of a polling response, in the session's revision.
enum Payload {
    V3(std::vec::IntoIter<Result<Packet, DecodeError>>),
    V4(PayloadDecoder),
}

impl Iterator for Payload {
    type Item = Result<Packet, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::V3(it) => it.next(),
            Self::V4(it) => it.next(),
        }
    }
}

/// How many buffered packets fit one POST, with the reference's exact accounting: one byte for
/// the first type character, each packet's data length (base64-inflated by 1.33 for binary),
/// two bytes per separator and type. The first packet always goes, even if alone it exceeds the
/// limit (the server then answers 413).
pub(crate) fn writable_count(buffer: &VecDeque<Packet>, max_payload: u64) -> usize {
    if buffer.len() <= 1 || max_payload == 0 {
        return buffer.len();
    }
    let mut size: u64 = 1;
    for (i, packet) in buffer.iter().enumerate() {
        size = size.saturating_add(data_len(packet));
        if i > 0 && size > max_payload {
            return i;
        }
        size = size.saturating_add(2);
    }
    buffer.len()
}

fn data_len(packet: &Packet) -> u64 {
    match packet {
        Packet::Message(Message::Text(d)) | Packet::Open(d) => d.len() as u64,
        // The reference estimates base64 growth as ceil(len * 1.33).
        Packet::Message(Message::Binary(d)) => (d.len() as u64).saturating_mul(133).div_ceil(100),
        Packet::Ping { probe: true } | Packet::Pong { probe: true } => 5,
        _ => 0,
    }
}
