//! The Manager: one Engine.IO connection at a time, the namespace sockets multiplexed over it,
//! and reconnection with backoff.

use std::collections::VecDeque;
use web_time::Instant;

use engineio_proto::{
    Client as Engine, CloseReason, EngineProtocol, Event as EngineEvent, Message,
    Output as EngineOutput, Transmit, TransportEvent, TransportId,
};

use crate::ack::AckTable;
use crate::backoff::{Backoff, unit_f64};
use crate::codec::{Packet, PacketDecoder, PacketKind};
use crate::config::{ConfigError, ManagerConfig, SocketConfig};
use crate::event::{ConnectError, DisconnectReason, EmitId, Event, ManagerError, Output};
use crate::legacy::{Legacy, Root};
use crate::socket::{NspState, Socket};
use crate::timer::{Timer, Timers};

/// Where the manager's connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    /// No connection (maybe waiting to reconnect).
    Closed,
    /// The engine is opening.
    Opening,
    /// The engine is open.
    Open,
}

/// Transport ids handed to the adapter carry the engine's generation in their high bits, so a
/// report about a previous connection can never reach the current one.
const GENERATION_SHIFT: u32 = 32;

#[derive(Debug)]
pub(crate) struct EngineSlot {
    pub(crate) client: Engine,
    pub(crate) generation: u64,
}

/// The injected randomness (jitter, cache-busters); opaque in `Debug`.
struct Rng(Box<dyn rand_core::RngCore + Send>);

impl std::fmt::Debug for Rng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rng")
    }
}

/// A sans-IO Socket.IO v5 client: the reference's Manager and its namespace Sockets.
///
/// Same loop as the engine: feed inputs, drain [`Manager::poll_output`] until `None`, sleep
/// until [`Manager::poll_timeout`]. Per-namespace operations go through borrowed views:
/// `manager.socket_mut("/chat")?.emit(now, payload, options)`.
///
/// `W` is what the caller keeps with each ack it waits for (a oneshot sender, a callback, a
/// request id): the manager holds it beside the ack's wire id, namespace and deadline, and
/// hands it back in the ack's [`Event::Ack`], so the caller needs no table of its own. It is
/// `()` unless the manager is made with [`Manager::with_waiters`]; emits then name their
/// acks by [`EmitId`] only.
#[derive(Debug)]
pub struct Manager<W = ()> {
    pub(crate) config: ManagerConfig,
    pub(crate) engine: Option<EngineSlot>,
    /// Engines closed by the manager that still finish their goodbye (flush, `1`).
    pub(crate) closing: Vec<EngineSlot>,
    generation: u64,
    pub(crate) ready: ReadyState,
    reconnecting: bool,
    skip_reconnect: bool,
    /// The engine now opening is a reconnection attempt.
    attempt_is_reconnect: bool,
    backoff: Backoff,
    pub(crate) sockets: Vec<Socket<W>>,
    decoder: Box<dyn PacketDecoder>,
    pub(crate) output: VecDeque<Output<W>>,
    timers: Timers,
    /// Every ack the sockets wait for; its earliest deadline is folded into
    /// [`Manager::poll_timeout`].
    pub(crate) acks: AckTable<W>,
    next_emit: u64,
    rng: Rng,
    prior_websocket_success: bool,
    pub(crate) report_outgoing: bool,
    last_now: Instant,
    encode_buf: Vec<Message>,
    /// Inside [`Manager::pump`].
    pumping: bool,
    /// The open connection speaks the socket.io 2.x protocol (its engine speaks Engine.IO 3).
    pub(crate) legacy: Option<Legacy>,
    /// Opening waits for [`Manager::proceed_open`] (see [`Manager::set_open_gate`]).
    open_gate: bool,
    /// An open is waiting at the gate.
    gated: bool,
}

impl Manager {
    /// A manager for `config`. Nothing happens until a socket connects or [`Manager::open`]
    /// is called.
    pub fn new(
        config: ManagerConfig,
        now: Instant,
        rng: Box<dyn rand_core::RngCore + Send>,
    ) -> Result<Self, ConfigError> {
        Self::with_waiters(config, now, rng)
    }
}

impl<W> Manager<W> {
    /// A manager for `config` whose acks carry a waiter of the caller's type `W`, given to
    /// [`crate::SocketMut::emit_with_ack`] and handed back in [`Event::Ack`].
    ///
    /// ```
    /// use std::time::Instant;
    /// use std::sync::mpsc::{Sender, channel};
    /// use socketio_proto::{AckError, Manager, ManagerConfig, SocketConfig, EmitOptions, Event, Output};
    /// use socketio_proto::codec::Payload;
    ///
    /// # struct Rng; impl rand_core::RngCore for Rng {
    /// #   fn next_u32(&mut self) -> u32 { 4 } fn next_u64(&mut self) -> u64 { 4 }
    /// #   fn fill_bytes(&mut self, d: &mut [u8]) { d.fill(4) } }
    /// type Reply = Sender<Result<Payload, AckError>>;
    /// let config = ManagerConfig::new("http://localhost:3000")?;
    /// let mut manager = Manager::<Option<Reply>>::with_waiters(config, Instant::now(), Box::new(Rng))?;
    /// let (reply, answer) = channel();
    /// let mut socket = manager.add_socket("/", SocketConfig::default())?;
    /// socket.emit_with_ack(Instant::now(), Payload::from_serialize(&("hello",))?, EmitOptions::default(), Some(reply))?;
    /// while let Some(output) = manager.poll_output() {
    ///     if let Output::Event(Event::Ack { waiter: Some(reply), result, .. }) = output {
    ///         let _ = reply.send(result);
    ///     }
    /// }
    /// # drop(answer);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_waiters(
        config: ManagerConfig,
        now: Instant,
        rng: Box<dyn rand_core::RngCore + Send>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let decoder = config.parser.decoder(config.limits);
        let backoff = Backoff::new(
            config.reconnection_delay,
            config.reconnection_delay_max,
            config.randomization_factor,
        );
        Ok(Self {
            config,
            engine: None,
            closing: Vec::new(),
            generation: 0,
            ready: ReadyState::Closed,
            reconnecting: false,
            skip_reconnect: false,
            attempt_is_reconnect: false,
            backoff,
            sockets: Vec::new(),
            decoder,
            output: VecDeque::new(),
            timers: Timers::default(),
            acks: AckTable::default(),
            next_emit: 0,
            rng: Rng(rng),
            prior_websocket_success: false,
            report_outgoing: false,
            last_now: now,
            encode_buf: Vec::new(),
            pumping: false,
            legacy: None,
            open_gate: false,
            gated: false,
        })
    }

    // ----- queries and settings -----

    /// Where the connection is.
    pub fn ready_state(&self) -> ReadyState {
        self.ready
    }

    /// Whether a reconnection is scheduled or in progress.
    pub fn is_reconnecting(&self) -> bool {
        self.reconnecting
    }

    /// The options.
    pub fn config(&self) -> &ManagerConfig {
        &self.config
    }

    /// The engine options, to change `query` or `extra_headers` before the next connection
    /// (e.g. on [`Event::ReconnectAttempt`]). Values are checked when the engine opens.
    pub fn engine_config_mut(&mut self) -> &mut engineio_proto::Config {
        &mut self.config.engine
    }

    /// The current engine, if any (its sid, transport, handshake).
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref().map(|e| &e.client)
    }

    /// Holds the current engine's heartbeat deadline while the caller stops reading the
    /// transport to apply backpressure, or lets it run again (see
    /// [`engineio_proto::Client::hold_heartbeat`]). A new engine starts released.
    pub fn hold_heartbeat(&mut self, now: Instant, held: bool) {
        let now = self.clamp(now);
        if let Some(slot) = self.engine.as_mut() {
            slot.client.hold_heartbeat(now, held);
        }
        self.pump(now);
    }

    /// Turns reconnection on or off; off also stops a reconnection in progress.
    pub fn set_reconnection(&mut self, on: bool) {
        self.config.reconnection = on;
        if !on {
            self.skip_reconnect = true;
            self.timers.set(Timer::Reconnect, None);
            self.timers.set(Timer::ReconnectOpen, None);
            self.reconnecting = false;
        }
    }

    /// Reports every written event as [`Event::Outgoing`] (the reference's `onAnyOutgoing`).
    pub fn set_report_outgoing(&mut self, on: bool) {
        self.report_outgoing = on;
    }

    /// With the gate on, every opening (the first connection, a reconnection attempt, a socket
    /// connecting a closed manager) stops before the engine exists: the manager is `Opening`,
    /// the connect timeout runs, and [`Event::Prepare`] says so. The layer above then changes
    /// what it wants ([`Manager::engine_config_mut`], auths) and calls
    /// [`Manager::proceed_open`], or [`Manager::fail_open`], which counts as a failed
    /// connection (backoff and all). An async client uses it to run an async hook (a token
    /// refresh) before each connection without blocking its loop.
    pub fn set_open_gate(&mut self, on: bool) {
        self.open_gate = on;
    }

    /// Whether an open waits at the gate for [`Manager::proceed_open`] or
    /// [`Manager::fail_open`].
    pub fn is_gated(&self) -> bool {
        self.gated
    }

    /// Opens the engine of the opening that waits at the gate, with the engine options as
    /// they are now. Harmless when nothing waits.
    pub fn proceed_open(&mut self, now: Instant) {
        let now = self.clamp(now);
        if !self.gated || self.ready != ReadyState::Opening {
            self.gated = false;
            return;
        }
        self.gated = false;
        self.start_engine(now);
    }

    /// Fails the opening that waits at the gate ([`ManagerError::Prepare`]): reported and
    /// retried like any connection that could not open. Harmless when nothing waits.
    pub fn fail_open(&mut self, now: Instant, why: crate::PrepareFailure) {
        let now = self.clamp(now);
        if !self.gated || self.ready != ReadyState::Opening {
            self.gated = false;
            return;
        }
        self.open_failed(now, ManagerError::Prepare(why));
    }

    /// Seeds the `remember_upgrade` memory (e.g. from another manager of the same process).
    pub fn set_prior_websocket_success(&mut self, worked: bool) {
        self.prior_websocket_success = worked;
    }

    // ----- sockets -----

    /// Adds the socket for `nsp` (inactive until [`crate::SocketMut::connect`]), or returns
    /// the existing one unchanged.
    pub fn add_socket(
        &mut self,
        nsp: &str,
        config: SocketConfig,
    ) -> Result<crate::SocketMut<'_, W>, ConfigError> {
        if !nsp.starts_with('/') {
            return Err(ConfigError::InvalidNamespace(nsp.to_owned()));
        }
        config.validate()?;
        let index = match self.index_of(nsp) {
            Some(i) => i,
            None => {
                // Most managers hold one or two namespaces: grow one at a time rather than
                // to four slots at once (a socket's state is large; measured with bench/,
                // `socketio-bench scale`).
                self.sockets.reserve_exact(1);
                self.sockets.push(Socket::new(nsp.into(), config));
                self.sockets.len() - 1
            }
        };
        Ok(crate::SocketMut::new(self, index))
    }

    /// The socket for `nsp`, to act on it.
    pub fn socket_mut(&mut self, nsp: &str) -> Option<crate::SocketMut<'_, W>> {
        let index = self.index_of(nsp)?;
        Some(crate::SocketMut::new(self, index))
    }

    /// The socket for `nsp`, to look at it.
    pub fn socket(&self, nsp: &str) -> Option<crate::SocketRef<'_, W>> {
        let index = self.index_of(nsp)?;
        Some(crate::SocketRef::new(self, index))
    }

    /// The namespaces with a socket.
    pub fn namespaces(&self) -> impl Iterator<Item = &str> {
        self.sockets.iter().map(|s| s.nsp.as_str())
    }

    fn index_of(&self, nsp: &str) -> Option<usize> {
        self.sockets.iter().position(|s| s.nsp == nsp)
    }

    // ----- the run loop -----

    /// The next transmit or event, in order. Drain until `None` after every input.
    #[must_use = "outputs are the manager's only effect; drain until None"]
    pub fn poll_output(&mut self) -> Option<Output<W>> {
        self.output.pop_front()
    }

    /// Gives back the memory of the queues that are empty, the engines' included (a burst
    /// leaves them grown). Call it when the connection goes idle: the driver of an idle
    /// connection then holds only what its state needs.
    pub fn shrink_to_fit(&mut self) {
        if self.output.is_empty() {
            self.output = VecDeque::new();
        }
        self.acks.shrink_to_fit();
        for slot in self.engine.iter_mut().chain(self.closing.iter_mut()) {
            slot.client.shrink_to_fit();
        }
    }

    /// When [`Manager::handle_timeout`] should be called next; `None` when nothing is
    /// scheduled.
    #[must_use = "a manager whose deadline is not waited for misses heartbeats, acks and reconnects"]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let engines = self
            .engine
            .iter()
            .chain(self.closing.iter())
            .filter_map(|e| e.client.poll_timeout());
        let acks = self.acks.next_deadline();
        engines.chain(self.timers.next()).chain(acks).min()
    }

    /// Fires what is due at `now`: engine timers, the connect timeout, reconnection steps and
    /// ack deadlines. Harmless when early or repeated.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.clamp(now);
        for slot in &mut self.closing {
            slot.client.handle_timeout(now);
        }
        self.pump_closing();
        if let Some(slot) = self.engine.as_mut() {
            slot.client.handle_timeout(now);
        }
        self.pump(now);
        if self.timers.take_due(Timer::Connect, now) {
            self.abandon_engine(now);
            self.open_failed(now, ManagerError::Timeout);
        }
        if self.timers.take_due(Timer::Reconnect, now) && !self.skip_reconnect {
            let attempt = self.backoff.attempts();
            self.event(Event::ReconnectAttempt(attempt));
            // Open on the next call, after the caller has seen the attempt and had its chance
            // to change auth or query.
            self.timers.set(Timer::ReconnectOpen, Some(now));
        } else if self.timers.take_due(Timer::ReconnectOpen, now) && !self.skip_reconnect {
            self.attempt_is_reconnect = true;
            self.open(now);
        }
        self.fire_ack_deadlines(now);
    }

    // ----- commands -----

    /// Opens the connection unless it is opening or open. Sockets normally do this for you.
    pub fn open(&mut self, now: Instant) {
        let now = self.clamp(now);
        if self.ready != ReadyState::Closed {
            return;
        }
        if self.open_gate {
            self.ready = ReadyState::Opening;
            self.gated = true;
            self.skip_reconnect = false;
            self.timers.set(
                Timer::Connect,
                self.config.timeout.and_then(|t| now.checked_add(t)),
            );
            let attempt = if self.attempt_is_reconnect {
                self.backoff.attempts()
            } else {
                0
            };
            self.event(Event::Prepare { attempt });
            return;
        }
        self.ready = ReadyState::Opening;
        self.timers.set(
            Timer::Connect,
            self.config.timeout.and_then(|t| now.checked_add(t)),
        );
        self.start_engine(now);
    }

    /// Creates and starts the engine of an opening (the manager is `Opening`, the connect
    /// timer armed).
    fn start_engine(&mut self, now: Instant) {
        self.generation += 1;
        self.legacy = None;
        let client = match Engine::new(
            self.config.engine.clone(),
            now,
            &mut *self.rng.0,
            self.prior_websocket_success,
        ) {
            Ok(client) => client,
            Err(e) => {
                // Only engine_config_mut can bring an invalid value here.
                self.ready = ReadyState::Opening;
                return self.open_failed(now, ManagerError::Config(e));
            }
        };
        self.engine = Some(EngineSlot {
            client,
            generation: self.generation,
        });
        self.ready = ReadyState::Opening;
        self.skip_reconnect = false;
        self.decoder.reset();
        self.pump(now);
    }

    /// Closes the connection and stops reconnecting (the reference's `manager.disconnect()`).
    /// Sockets stay active: connecting one opens a new connection.
    pub fn close(&mut self, now: Instant) {
        let now = self.clamp(now);
        self.skip_reconnect = true;
        self.reconnecting = false;
        self.timers.set(Timer::Reconnect, None);
        self.timers.set(Timer::ReconnectOpen, None);
        let was = self.ready;
        self.abandon_engine(now);
        if was != ReadyState::Closed {
            // The engine was closed like any "forced close": it says goodbye.
            self.on_close(now, DisconnectReason::ForcedClose, None, true);
        }
    }

    // ----- transport reports (ids as transmitted) -----

    /// Reports what happened on `transport`, an id from one of this manager's
    /// [`Transmit`]s (the engine's id with its connection's generation folded in). Reports
    /// about the connection being closed still reach it, so it can finish saying goodbye;
    /// reports about older connections are ignored.
    pub fn handle_transport(
        &mut self,
        now: Instant,
        transport: TransportId,
        event: TransportEvent,
    ) {
        self.route(now, transport, |e, now, id| {
            e.handle_transport(now, id, event)
        });
    }

    // ----- internals: engine plumbing -----

    pub(crate) fn clamp(&mut self, now: Instant) -> Instant {
        let now = now.max(self.last_now);
        self.last_now = now;
        now
    }

    pub(crate) fn event(&mut self, e: Event<W>) {
        self.output.push_back(Output::Event(e));
    }

    pub(crate) fn next_emit_id(&mut self) -> EmitId {
        self.next_emit += 1;
        EmitId(self.next_emit)
    }

    fn route(
        &mut self,
        now: Instant,
        transport: TransportId,
        call: impl FnOnce(&mut Engine, Instant, TransportId),
    ) {
        let now = self.clamp(now);
        let generation = transport.0 >> GENERATION_SHIFT;
        let local = TransportId(transport.0 & ((1 << GENERATION_SHIFT) - 1));
        if let Some(slot) = self.engine.as_mut().filter(|s| s.generation == generation) {
            call(&mut slot.client, now, local);
            self.pump(now);
        } else if let Some(slot) = self.closing.iter_mut().find(|s| s.generation == generation) {
            call(&mut slot.client, now, local);
            self.pump_closing();
        }
    }

    fn global_id(generation: u64, id: TransportId) -> TransportId {
        TransportId((generation << GENERATION_SHIFT) | id.0)
    }

    fn forward(output: &mut VecDeque<Output<W>>, generation: u64, mut t: Transmit) {
        match &mut t {
            Transmit::HttpGet { transport, .. }
            | Transmit::HttpPost { transport, .. }
            | Transmit::WsOpen { transport, .. }
            | Transmit::WsSend { transport, .. }
            | Transmit::WsClose { transport } => {
                *transport = Self::global_id(generation, *transport)
            }
        }
        output.push_back(Output::Transmit(t));
    }

    /// Drains the current engine, forwarding its transmits and handling its events, until it
    /// has nothing more (handling an event may make it produce more).
    pub(crate) fn pump(&mut self, now: Instant) {
        // Handling an event may write (and so call back here); the outer loop drains what
        // that produced. Re-entering would hand later engine events over before the
        // current one's own events, out of order.
        if self.pumping {
            return;
        }
        self.pumping = true;
        self.pump_inner(now);
        self.pumping = false;
    }

    fn pump_inner(&mut self, now: Instant) {
        loop {
            let Some(slot) = self.engine.as_mut() else {
                return;
            };
            let Some(out) = slot.client.poll_output() else {
                return;
            };
            let generation = slot.generation;
            match out {
                EngineOutput::Transmit(t) => Self::forward(&mut self.output, generation, t),
                EngineOutput::Event(e) => self.on_engine_event(now, e),
            }
        }
    }

    /// Forwards the transmits of engines being closed and forgets the closed ones.
    fn pump_closing(&mut self) {
        for slot in &mut self.closing {
            while let Some(out) = slot.client.poll_output() {
                if let EngineOutput::Transmit(t) = out {
                    Self::forward(&mut self.output, slot.generation, t);
                }
            }
        }
        self.closing
            .retain(|s| s.client.state() != engineio_proto::State::Closed);
    }

    /// Lets go of the current engine: closes it (it may still flush and say goodbye) without
    /// listening to its events any more.
    fn abandon_engine(&mut self, now: Instant) {
        // Forward what it produced so far, in order, before closing.
        self.pump(now);
        if let Some(mut slot) = self.engine.take() {
            slot.client.close(now);
            self.closing.push(slot);
            self.pump_closing();
        }
        self.timers.set(Timer::Connect, None);
        self.ready = ReadyState::Closed;
    }

    fn on_engine_event(&mut self, now: Instant, event: EngineEvent) {
        match event {
            EngineEvent::Open(_) => self.on_open(now),
            EngineEvent::Message(m) => self.on_message(now, m),
            EngineEvent::Ping => self.event(Event::Ping),
            EngineEvent::Upgrade(kind) => self.event(Event::Upgrade(kind)),
            EngineEvent::RememberUpgrade(worked) => {
                self.prior_websocket_success = worked;
                self.event(Event::RememberUpgrade(worked));
            }
            EngineEvent::Close(reason) => {
                self.engine = None;
                if self.ready == ReadyState::Opening {
                    self.open_failed(now, ManagerError::Engine(reason));
                } else {
                    let description = Some(reason.to_string());
                    let goodbye = reason.says_goodbye();
                    let reason = DisconnectReason::from_close(&reason);
                    self.on_close(now, reason, description, goodbye);
                }
            }
            _ => {}
        }
    }

    fn on_open(&mut self, now: Instant) {
        self.legacy = self
            .engine
            .as_ref()
            .filter(|e| e.client.protocol() == EngineProtocol::V3)
            .map(|e| Legacy {
                root: Root::Awaiting,
                engine_sid: e.client.sid().unwrap_or_default().to_owned(),
            });
        self.ready = ReadyState::Open;
        self.timers.set(Timer::Connect, None);
        self.event(Event::Open);
        for index in 0..self.sockets.len() {
            // A new engine carries no session of any namespace.
            self.connect_namespace(now, index, false);
        }
        if self.attempt_is_reconnect {
            self.attempt_is_reconnect = false;
            let attempt = self.backoff.attempts();
            self.reconnecting = false;
            self.backoff.reset();
            self.event(Event::Reconnect(attempt));
        }
    }

    fn on_message(&mut self, now: Instant, message: Message) {
        match self.decoder.decode(message) {
            Ok(Some(packet)) => self.on_packet(now, packet),
            Ok(None) => {}
            Err(e) => {
                if let Some(slot) = self.engine.as_mut() {
                    slot.client.close_with(
                        now,
                        CloseReason::ParseError {
                            description: e.to_string(),
                        },
                    );
                }
            }
        }
    }

    /// The engine failed to open (or timed out).
    fn open_failed(&mut self, now: Instant, error: ManagerError) {
        self.engine = None;
        self.gated = false;
        self.ready = ReadyState::Closed;
        self.timers.set(Timer::Connect, None);
        self.event(Event::Error(error.clone()));
        for socket in &mut self.sockets {
            if socket.state.is_active() && !socket.state.is_connected() {
                let nsp = socket.nsp.clone();
                self.output.push_back(Output::Event(Event::ConnectError {
                    nsp,
                    error: ConnectError::Engine(error.clone()),
                }));
            }
        }
        if self.attempt_is_reconnect {
            self.attempt_is_reconnect = false;
            self.reconnecting = false;
            self.reconnect(now);
            self.event(Event::ReconnectError(error));
        } else if !self.reconnecting && self.config.reconnection && self.backoff.attempts() == 0 {
            self.reconnect(now);
        }
    }

    /// The connection closed after it had opened.
    fn on_close(
        &mut self,
        now: Instant,
        reason: DisconnectReason,
        description: Option<String>,
        goodbye: bool,
    ) {
        self.engine = None;
        self.legacy = None;
        self.gated = false;
        self.backoff.reset();
        self.ready = ReadyState::Closed;
        self.timers.set(Timer::Connect, None);
        self.event(Event::Close {
            reason,
            description,
            goodbye,
        });
        for index in 0..self.sockets.len() {
            let state = self.sockets[index].state;
            if state.is_active() {
                self.socket_closed(now, index, reason, state.engine_closed());
            } else {
                self.sockets[index].state = state.engine_closed();
            }
        }
        if self.config.reconnection && !self.skip_reconnect {
            self.reconnect(now);
        }
    }

    fn reconnect(&mut self, now: Instant) {
        if self.reconnecting || self.skip_reconnect {
            return;
        }
        let exhausted = self
            .config
            .reconnection_attempts
            .is_some_and(|max| self.backoff.attempts() >= max);
        if exhausted {
            self.backoff.reset();
            self.reconnecting = false;
            self.event(Event::ReconnectFailed);
            return;
        }
        let random = unit_f64(&mut *self.rng.0);
        let delay = self.backoff.duration(random);
        self.reconnecting = true;
        self.timers.set(Timer::Reconnect, now.checked_add(delay));
    }

    /// Closes the connection when no socket is active any more (the reference's `_destroy`).
    pub(crate) fn maybe_close_after_destroy(&mut self, now: Instant) {
        if self.sockets.iter().any(|s| s.state.is_active()) {
            return;
        }
        self.close(now);
    }

    // ----- internals: packets -----

    /// Encodes and writes a packet on the current engine.
    pub(crate) fn write(&mut self, now: Instant, packet: &Packet) {
        let Some(slot) = self.engine.as_mut() else {
            return;
        };
        self.config.parser.encode(packet, &mut self.encode_buf);
        for message in self.encode_buf.drain(..) {
            // A closing engine refuses writes; the socket is disconnecting anyway.
            let _ = slot.client.send(now, message);
        }
        self.pump(now);
    }

    fn on_packet(&mut self, now: Instant, packet: Packet) {
        if let Some(legacy) = self.legacy.as_mut()
            && legacy.root == Root::Awaiting
            && packet.kind == PacketKind::Connect
            && packet.nsp == "/"
        {
            // socket.io 2.x connects `/` unasked; no socket of `/` wants it yet.
            legacy.root = Root::Arrived;
            return;
        }
        if matches!(packet.kind, PacketKind::Connect | PacketKind::ConnectError)
            && let Some(left) = self
                .sockets
                .iter()
                .position(|s| !s.state.is_active() && s.state.connect_sent() && s.nsp == packet.nsp)
        {
            // The namespace was left while its CONNECT was pending: now that the server has
            // answered, leave it there too.
            let socket = &mut self.sockets[left];
            socket.state = socket.state.answered_inactive();
            if packet.kind == PacketKind::Connect {
                self.write(now, &Packet::disconnect(&packet.nsp));
            }
            return;
        }
        // Packets for a namespace nobody asked for, or that was left, are ignored.
        let Some(index) = self
            .sockets
            .iter()
            .position(|s| s.state.is_active() && s.nsp == packet.nsp)
        else {
            return;
        };
        match packet.kind {
            PacketKind::Connect => self.on_connect_reply(now, index, packet),
            PacketKind::ConnectError => self.on_connect_error(now, index, packet),
            PacketKind::Event => {
                let socket = &mut self.sockets[index];
                if socket.state.is_connected() {
                    self.dispatch(index, packet);
                } else if !socket.state.left_session() {
                    // Recovery replays missed events before the CONNECT reply.
                    socket.receive_buffer.push_back(packet);
                }
                // Otherwise it was sent to the server socket the caller just left: a session
                // left on purpose is never recovered, so it is not a replay. Dropped.
            }
            PacketKind::Ack => self.on_ack(now, index, packet),
            PacketKind::Disconnect => {
                // The server refuses a pending CONNECT with CONNECT_ERROR, never DISCONNECT: a
                // DISCONNECT before the reply was meant for a socket the caller already left.
                if self.sockets[index].state.is_connected() {
                    let reason = DisconnectReason::IoServerDisconnect;
                    self.socket_closed(now, index, reason, NspState::Inactive);
                    self.maybe_close_after_destroy(now);
                }
            }
        }
    }

    pub(crate) fn on_connect_reply(&mut self, now: Instant, index: usize, packet: Packet) {
        #[derive(serde::Deserialize)]
        struct Reply {
            sid: Option<String>,
            pid: Option<String>,
        }
        let reply = packet
            .data
            .as_ref()
            .and_then(|d| d.deserialize::<Reply>().ok());
        let (sid, pid) = match (reply, &self.legacy) {
            (
                Some(Reply {
                    sid: Some(sid),
                    pid,
                }),
                _,
            ) => (sid, pid),
            // socket.io 2.x sends no sid: the id is derived, as socket.io-client 2.x did.
            (_, Some(legacy)) => (legacy.socket_id(&self.sockets[index].nsp), None),
            (_, None) => {
                let nsp = self.sockets[index].nsp.clone();
                self.event(Event::ConnectError {
                    nsp,
                    error: ConnectError::IncompatibleServer,
                });
                return;
            }
        };
        if self.sockets[index].state.is_connected() {
            return;
        }
        let socket = &mut self.sockets[index];
        socket.recovered = pid.is_some() && pid == socket.pid;
        socket.pid = pid;
        socket.id = Some(sid.clone());
        socket.state = NspState::Connected;
        // Missed events first, then what was emitted while offline, then the retry queue,
        // and only then `connect`: an emit from the connect handler goes after all of them.
        while let Some(packet) = self.sockets[index].receive_buffer.pop_front() {
            self.dispatch(index, packet);
        }
        while let Some(buffered) = self.sockets[index].send_buffer.pop_front() {
            self.write_event(now, index, &buffered.packet);
        }
        self.drain_queue(now, index, true);
        let socket = &self.sockets[index];
        let event = Event::Connect {
            nsp: socket.nsp.clone(),
            sid,
            recovered: socket.recovered,
        };
        self.event(event);
    }

    fn on_connect_error(&mut self, now: Instant, index: usize, packet: Packet) {
        // A refusal answers a CONNECT: for a namespace that is connected it makes no sense
        // (the Node server never sends one). The reference deactivates the socket but leaves
        // it connected, so it would write events on the next engine without a CONNECT.
        if self.sockets[index].state.is_connected() {
            return;
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Refusal {
            Object { message: Option<String> },
            Text(String),
        }
        let data = packet.data;
        let message = match data.as_ref().map(|d| d.deserialize::<Refusal>()) {
            Some(Ok(Refusal::Object { message })) => message.unwrap_or_default(),
            Some(Ok(Refusal::Text(text))) => text,
            _ => String::new(),
        };
        let legacy_object =
            self.legacy.is_some() && data.as_ref().is_some_and(|d| d.json().starts_with(b"{"));
        let extra = if legacy_object {
            // The 2.x ERROR carries the middleware's `err.data` itself (a 4.x server with
            // `allowEIO3` sends it so too), not `{message, data}`.
            data.clone()
        } else {
            data.as_ref().and_then(|d| {
                #[derive(serde::Deserialize)]
                struct WithData<'a> {
                    #[serde(borrow)]
                    data: Option<&'a serde_json::value::RawValue>,
                }
                let raw = d.deserialize::<WithData<'_>>().ok()?.data?;
                crate::codec::Payload::from_json(bytes::Bytes::copy_from_slice(
                    raw.get().as_bytes(),
                ))
                .ok()
            })
        };
        let socket = &mut self.sockets[index];
        socket.state = socket.state.answered_inactive();
        let nsp = socket.nsp.clone();
        self.event(Event::ConnectError {
            nsp,
            error: ConnectError::Refused {
                message,
                data: extra,
            },
        });
        self.maybe_close_after_destroy(now);
    }

    /// A socket lost its connection (the reference's `Socket.onclose`) and is now in `next`,
    /// which its caller chose: subscribed still or not.
    pub(crate) fn socket_closed(
        &mut self,
        now: Instant,
        index: usize,
        reason: DisconnectReason,
        next: NspState,
    ) {
        let socket = &mut self.sockets[index];
        let was_connected = socket.state.is_connected();
        socket.state = next;
        socket.id = None;
        socket.server_acks.clear();
        if was_connected {
            let nsp = socket.nsp.clone();
            self.event(Event::Disconnect { nsp, reason });
        }
        self.clear_acks(now, index);
    }
}
