//! The simulation: a client, the fake server and the link between them on virtual time.
//!
//! Time jumps straight to the next thing that can happen (a delivery, the client's
//! `poll_timeout`, a server timer), so a minute of heartbeats runs in a millisecond of real
//! time, and every run with the same seed is the same run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use engineio_proto::{
    Header, HttpResponse, PollRequest, Transmit, TransportEvent, TransportId, WsFrame,
};

use crate::clock::VirtualClock;
use crate::driven::{ClientOutput, SansIoClient};
use crate::link::{Fate, Lane, Link, LinkConfig};
use crate::rng::SimRng;
use crate::server::{Application, FakeServer, ServerConfig, Silent, ViolationKind};
use crate::transcript::Transcript;
use crate::wire::{ConnId, HttpRequest, Method, RequestId, ServerOutput};

/// How much can happen at one instant before the simulation calls it a livelock.
const MAX_STEPS_PER_INSTANT: usize = 10_000;

/// Something in flight on the link.
#[derive(Debug, Clone)]
enum Delivery {
    ServerHttp(HttpRequest),
    ServerWsConnect {
        conn: ConnId,
        url: url::Url,
        headers: Vec<Header>,
    },
    ServerWsFrame {
        conn: ConnId,
        frame: WsFrame,
    },
    ServerWsClose {
        conn: ConnId,
    },
    ClientHttpResponse {
        request: RequestId,
        response: HttpResponse,
    },
    ClientHttpError {
        request: RequestId,
        description: String,
    },
    ClientWsOpen {
        conn: ConnId,
        headers: Vec<Header>,
    },
    ClientWsFrame {
        conn: ConnId,
        frame: WsFrame,
    },
    ClientWsClose {
        conn: ConnId,
        error: Option<String>,
    },
}

/// The simulation's view of one WebSocket.
#[derive(Debug, Clone)]
struct WsState {
    transport: TransportId,
    /// The client was told it opened.
    open_reported: bool,
    /// The client was told it closed (or failed).
    close_reported: bool,
    /// The client closed it (it expects no more reports).
    client_closed: bool,
    /// The server closed it (it expects no more frames).
    server_closed: bool,
}

/// The simulation's view of one HTTP exchange.
#[derive(Debug, Clone, Copy)]
struct Exchange {
    transport: TransportId,
    request: PollRequest,
}

/// Options of a simulation.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Every random choice derives from this.
    pub seed: u64,
    /// The link.
    pub link: LinkConfig,
    /// The fake server.
    pub server: ServerConfig,
}

impl SimConfig {
    /// Default link (1-5 ms) and server, with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            link: LinkConfig::default(),
            server: ServerConfig::default(),
        }
    }

    /// Sets the link.
    pub fn link(mut self, link: LinkConfig) -> Self {
        self.link = link;
        self
    }

    /// Sets the server options.
    pub fn server(mut self, server: ServerConfig) -> Self {
        self.server = server;
        self
    }
}

/// A client and a fake server connected by a seeded link, on virtual time.
///
/// ```
/// use std::time::Duration;
/// use engineio_proto::{Client, Config, Event};
/// use socketio_test_kit::{Sim, SimConfig, Silent};
///
/// let mut sim = Sim::new(SimConfig::new(42), Silent, |now, rng| {
///     Client::new(Config::new("http://localhost").unwrap(), now, rng, false).unwrap()
/// });
/// sim.run_for(Duration::from_secs(60));
/// assert!(sim.events().iter().any(|(_, e)| matches!(e, Event::Open(_))));
/// assert!(sim.violations().is_empty());
/// ```
#[derive(Debug)]
pub struct Sim<C: SansIoClient, A = Silent> {
    clock: VirtualClock,
    client: C,
    server: FakeServer<A>,
    link: Link,
    queue: BTreeMap<(Duration, u64), Delivery>,
    seq: u64,
    next_request: u64,
    next_conn: u64,
    exchanges: BTreeMap<RequestId, Exchange>,
    /// (transport, is POST) → the request in flight.
    in_flight: BTreeMap<(u64, bool), RequestId>,
    conn_of: BTreeMap<TransportId, ConnId>,
    ws: BTreeMap<ConnId, WsState>,
    events: Vec<(Duration, C::Event)>,
}

impl<C: SansIoClient, A: Application> Sim<C, A> {
    /// Builds a simulation. `make_client` gets the start instant and a seeded generator for
    /// the client's randomness.
    pub fn new(
        config: SimConfig,
        app: A,
        make_client: impl FnOnce(Instant, &mut SimRng) -> C,
    ) -> Self {
        let clock = VirtualClock::new();
        let mut rng = SimRng::new(config.seed);
        let link = Link::new(config.link, rng.fork());
        let server_seed = rand_core::RngCore::next_u64(&mut rng);
        let server = FakeServer::new(config.server, app, clock.origin(), server_seed);
        let mut client_rng = rng.fork();
        let client = make_client(clock.now(), &mut client_rng);
        let mut sim = Self {
            clock,
            client,
            server,
            link,
            queue: BTreeMap::new(),
            seq: 0,
            next_request: 0,
            next_conn: 0,
            exchanges: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            conn_of: BTreeMap::new(),
            ws: BTreeMap::new(),
            events: Vec::new(),
        };
        sim.pump();
        sim
    }
}

impl<C: SansIoClient, A> Sim<C, A> {
    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }

    /// The client.
    pub fn client(&self) -> &C {
        &self.client
    }

    /// The client, mutably. Outputs produced by calls made through this are collected at the
    /// next run call; prefer [`Sim::with_client`].
    pub fn client_mut(&mut self) -> &mut C {
        &mut self.client
    }

    /// The fake server.
    pub fn server(&self) -> &FakeServer<A> {
        &self.server
    }

    /// The fake server, mutably; prefer [`Sim::with_server`].
    pub fn server_mut(&mut self) -> &mut FakeServer<A> {
        &mut self.server
    }

    /// The link.
    pub fn link_mut(&mut self) -> &mut Link {
        &mut self.link
    }

    /// Cuts the link from now for `duration`: everything sent meanwhile vanishes.
    pub fn cut_for(&mut self, duration: Duration) {
        let from = self.elapsed();
        let config = self.link.config().clone().with_cut(from, from + duration);
        self.link.set_config(config);
    }

    /// The client's events so far, with their times.
    pub fn events(&self) -> &[(Duration, C::Event)] {
        &self.events
    }

    /// Takes the client's events so far.
    pub fn take_events(&mut self) -> Vec<C::Event> {
        self.events.drain(..).map(|(_, e)| e).collect()
    }

    /// Everything on the wire.
    pub fn transcript(&self) -> &Transcript {
        self.server.transcript()
    }

    /// The transcript's lines with the default rendering.
    pub fn lines(&self) -> Vec<String> {
        self.server.transcript().lines()
    }

    /// The client's protocol violations (empty unless the server is not strict).
    pub fn violations(&self) -> &[crate::server::Violation] {
        self.server.violations()
    }

    /// How many deliveries are on the link.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }
}

impl<C: SansIoClient, A: Application> Sim<C, A> {
    /// Runs `f` on the client at the current instant, then collects what it produced.
    pub fn with_client<R>(&mut self, f: impl FnOnce(&mut C, Instant) -> R) -> R {
        let now = self.now();
        let r = f(&mut self.client, now);
        self.pump();
        r
    }

    /// Runs `f` on the server at the current instant, then collects what it produced.
    pub fn with_server<R>(&mut self, f: impl FnOnce(&mut FakeServer<A>, Instant) -> R) -> R {
        let now = self.now();
        let r = f(&mut self.server, now);
        self.pump();
        r
    }

    /// Resets WebSocket `conn` now, as a network failure would: both ends hear of it one
    /// latency later (the client as a close with an error).
    pub fn reset_websocket(&mut self, conn: ConnId) {
        let at = self.elapsed() + self.link.config().min_latency;
        self.break_ws(conn, at);
    }

    /// Runs until `deadline`, then leaves the clock there.
    pub fn run_to(&mut self, deadline: Instant) {
        self.pump();
        while let Some(next) = self.next_time() {
            if next > deadline {
                break;
            }
            self.clock.advance_to(next);
            self.process_due();
        }
        self.clock.advance_to(deadline);
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        let deadline = self.now() + duration;
        self.run_to(deadline);
    }

    /// Runs until nothing is in flight on the link (timers that fall before the last delivery
    /// fire on the way; later ones wait). Gives up after `limit` of virtual time.
    pub fn settle(&mut self, limit: Duration) {
        let deadline = self.now() + limit;
        self.pump();
        while !self.queue.is_empty() {
            let Some(next) = self.next_time().filter(|&n| n <= deadline) else {
                break;
            };
            self.clock.advance_to(next);
            self.process_due();
        }
    }

    /// Runs until `done` holds (checked after every instant processed) or `limit` of virtual
    /// time has passed. Returns whether `done` held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = self.now() + limit;
        self.pump();
        if done(self) {
            return true;
        }
        while let Some(next) = self.next_time() {
            if next > deadline {
                break;
            }
            self.clock.advance_to(next);
            self.process_due();
            if done(self) {
                return true;
            }
        }
        self.clock.advance_to(deadline);
        done(self)
    }

    /// The next instant something can happen.
    pub fn next_time(&self) -> Option<Instant> {
        let delivery = self
            .queue
            .keys()
            .next()
            .map(|(at, _)| self.clock.origin() + *at);
        [
            delivery,
            self.client.poll_timeout(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Processes everything due at the current instant.
    fn process_due(&mut self) {
        let now = self.now();
        let elapsed = self.elapsed();
        for _ in 0..MAX_STEPS_PER_INSTANT {
            if let Some(entry) = self.queue.first_entry()
                && entry.key().0 <= elapsed
            {
                let delivery = entry.remove();
                self.deliver(delivery);
                self.pump();
                continue;
            }
            let due = self.client.poll_timeout().filter(|&t| t <= now);
            if let Some(due) = due {
                self.client.handle_timeout(now);
                self.pump();
                // A new deadline may fall due at once, but the one just fired must be gone.
                if self.client.poll_timeout() == Some(due) {
                    panic!(
                        "the client's poll_timeout is still {due:?} after handle_timeout({now:?}): \
                         it would be called forever\n{}",
                        self.server.transcript()
                    );
                }
                continue;
            }
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
                self.pump();
                continue;
            }
            return;
        }
        panic!(
            "livelock: more than {MAX_STEPS_PER_INSTANT} steps at {elapsed:?}\n{}",
            self.server.transcript()
        );
    }

    /// Moves everything both sides produced onto the link, and records the client's events.
    fn pump(&mut self) {
        let now = self.now();
        self.client.set_now(now);
        loop {
            let mut progressed = false;
            while let Some(output) = self.client.poll_output() {
                progressed = true;
                match output {
                    ClientOutput::Transmit(t) => self.on_transmit(t),
                    ClientOutput::Event(e) => self.events.push((self.elapsed(), e)),
                }
            }
            while let Some(output) = self.server.poll_output() {
                progressed = true;
                self.on_server_output(output);
            }
            if !progressed {
                return;
            }
        }
    }

    fn schedule(&mut self, at: Duration, delivery: Delivery) {
        self.seq += 1;
        self.queue.insert((at, self.seq), delivery);
    }

    fn note(&mut self, note: String) {
        let at = self.elapsed();
        self.server.transcript_mut().note(at, note);
    }

    fn violation(&mut self, kind: ViolationKind) {
        let now = self.now();
        self.server.report_violation(now, None, kind);
    }

    // ----- client → server -----

    fn on_transmit(&mut self, transmit: Transmit) {
        let elapsed = self.elapsed();
        match transmit {
            Transmit::HttpGet {
                transport,
                url,
                headers,
            } => self.http(
                transport,
                PollRequest::Get,
                url,
                headers,
                bytes::Bytes::new(),
            ),
            Transmit::HttpPost {
                transport,
                url,
                headers,
                body,
            } => self.http(transport, PollRequest::Post, url, headers, body),
            Transmit::WsOpen {
                transport,
                url,
                headers,
                protocols: _,
            } => {
                self.next_conn += 1;
                let conn = ConnId(self.next_conn);
                self.conn_of.insert(transport, conn);
                self.ws.insert(
                    conn,
                    WsState {
                        transport,
                        open_reported: false,
                        close_reported: false,
                        client_closed: false,
                        server_closed: false,
                    },
                );
                let lane = upstream(conn);
                match self.link.send(elapsed, lane) {
                    Fate::Deliver(at) => {
                        self.schedule(at, Delivery::ServerWsConnect { conn, url, headers })
                    }
                    Fate::Reset(at) => {
                        self.note(format!("{conn} handshake reset"));
                        let error = Some("connection reset".to_owned());
                        self.schedule(at, Delivery::ClientWsClose { conn, error });
                    }
                    Fate::Vanish => self.note(format!("{conn} handshake vanished")),
                }
            }
            Transmit::WsSend { transport, frame } => {
                let Some(&conn) = self.conn_of.get(&transport) else {
                    return self.violation(ViolationKind::FrameOnClosedWebSocket);
                };
                let state = &self.ws[&conn];
                if !state.open_reported || state.client_closed || state.close_reported {
                    return self.violation(ViolationKind::FrameOnClosedWebSocket);
                }
                match self.link.send(elapsed, upstream(conn)) {
                    Fate::Deliver(at) => self.schedule(at, Delivery::ServerWsFrame { conn, frame }),
                    Fate::Reset(at) => self.break_ws(conn, at),
                    Fate::Vanish => self.note(format!("{conn} frame from the client vanished")),
                }
            }
            Transmit::WsClose { transport } => {
                let Some(&conn) = self.conn_of.get(&transport) else {
                    return;
                };
                let Some(state) = self.ws.get_mut(&conn) else {
                    return;
                };
                if state.client_closed {
                    return;
                }
                state.client_closed = true;
                match self.link.send(elapsed, upstream(conn)) {
                    Fate::Deliver(at) | Fate::Reset(at) => {
                        self.schedule(at, Delivery::ServerWsClose { conn })
                    }
                    Fate::Vanish => self.note(format!("{conn} close from the client vanished")),
                }
            }
        }
    }

    fn http(
        &mut self,
        transport: TransportId,
        request: PollRequest,
        url: url::Url,
        headers: Vec<Header>,
        body: bytes::Bytes,
    ) {
        self.next_request += 1;
        let id = RequestId(self.next_request);
        let post = request == PollRequest::Post;
        if self.in_flight.insert((transport.0, post), id).is_some() {
            self.violation(if post {
                ViolationKind::PostWhilePostInFlight
            } else {
                ViolationKind::GetWhileGetInFlight
            });
        }
        self.exchanges.insert(id, Exchange { transport, request });
        let method = if post { Method::Post } else { Method::Get };
        match self.link.send(self.elapsed(), Lane::Http) {
            Fate::Deliver(at) => self.schedule(
                at,
                Delivery::ServerHttp(HttpRequest {
                    id,
                    method,
                    url,
                    headers,
                    body,
                }),
            ),
            Fate::Reset(at) => {
                self.note(format!(
                    "{id} {} reset before reaching the server",
                    method.as_str()
                ));
                let description = "connection reset".to_owned();
                self.schedule(
                    at,
                    Delivery::ClientHttpError {
                        request: id,
                        description,
                    },
                );
            }
            Fate::Vanish => self.note(format!("{id} {} vanished", method.as_str())),
        }
    }

    // ----- server → client -----

    fn on_server_output(&mut self, output: ServerOutput) {
        let elapsed = self.elapsed();
        match output {
            ServerOutput::HttpResponse { request, response } => {
                match self.link.send(elapsed, Lane::Http) {
                    Fate::Deliver(at) => {
                        self.schedule(at, Delivery::ClientHttpResponse { request, response })
                    }
                    Fate::Reset(at) => {
                        self.note(format!("{request} response reset"));
                        let description = "connection reset".to_owned();
                        self.schedule(
                            at,
                            Delivery::ClientHttpError {
                                request,
                                description,
                            },
                        );
                    }
                    Fate::Vanish => self.note(format!("{request} response vanished")),
                }
            }
            ServerOutput::HttpAbort { request } => match self.link.send(elapsed, Lane::Http) {
                Fate::Deliver(at) | Fate::Reset(at) => {
                    let description = "connection reset".to_owned();
                    self.schedule(
                        at,
                        Delivery::ClientHttpError {
                            request,
                            description,
                        },
                    );
                }
                Fate::Vanish => {}
            },
            ServerOutput::WsAccept { conn, headers } => {
                self.downstream(conn, Delivery::ClientWsOpen { conn, headers })
            }
            ServerOutput::WsReject { conn, status, body } => {
                self.mark_server_closed(conn);
                let error = Some(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
                self.downstream(conn, Delivery::ClientWsClose { conn, error });
            }
            ServerOutput::WsSend { conn, frame } => {
                self.downstream(conn, Delivery::ClientWsFrame { conn, frame })
            }
            ServerOutput::WsClose { conn } => {
                self.mark_server_closed(conn);
                self.downstream(conn, Delivery::ClientWsClose { conn, error: None });
            }
            ServerOutput::WsAbort { conn } => {
                self.mark_server_closed(conn);
                let error = Some("connection reset".to_owned());
                self.downstream(conn, Delivery::ClientWsClose { conn, error });
            }
        }
    }

    fn downstream(&mut self, conn: ConnId, delivery: Delivery) {
        let lane = Lane::Ordered {
            conn: conn.0,
            upstream: false,
        };
        match self.link.send(self.elapsed(), lane) {
            Fate::Deliver(at) => self.schedule(at, delivery),
            Fate::Reset(at) => self.break_ws(conn, at),
            Fate::Vanish => self.note(format!("{conn} transmission from the server vanished")),
        }
    }

    fn mark_server_closed(&mut self, conn: ConnId) {
        if let Some(state) = self.ws.get_mut(&conn) {
            state.server_closed = true;
        }
    }

    /// A WebSocket's connection resets: both ends hear of it at `at`.
    fn break_ws(&mut self, conn: ConnId, at: Duration) {
        self.note(format!("{conn} connection reset"));
        let error = Some("connection reset".to_owned());
        self.schedule(at, Delivery::ClientWsClose { conn, error });
        self.schedule(at, Delivery::ServerWsClose { conn });
    }

    // ----- deliveries -----

    fn deliver(&mut self, delivery: Delivery) {
        let now = self.now();
        match delivery {
            Delivery::ServerHttp(request) => self.server.handle_http_request(now, request),
            Delivery::ServerWsConnect { conn, url, headers } => {
                self.server.handle_ws_connect(now, conn, url, headers)
            }
            Delivery::ServerWsFrame { conn, frame } => {
                if self.ws.get(&conn).is_some_and(|s| !s.server_closed) {
                    self.server.handle_ws_frame(now, conn, frame);
                }
            }
            Delivery::ServerWsClose { conn } => {
                if let Some(state) = self.ws.get_mut(&conn)
                    && !state.server_closed
                {
                    state.server_closed = true;
                    self.server.handle_ws_close(now, conn);
                }
            }
            Delivery::ClientHttpResponse { request, response } => {
                if let Some(ex) = self.finish_exchange(request) {
                    let event = TransportEvent::HttpResponse {
                        request: ex.request,
                        response,
                    };
                    self.client.handle_transport(now, ex.transport, event);
                }
            }
            Delivery::ClientHttpError {
                request,
                description,
            } => {
                if let Some(ex) = self.finish_exchange(request) {
                    let event = TransportEvent::HttpError {
                        request: ex.request,
                        error: sim_io_error(description),
                    };
                    self.client.handle_transport(now, ex.transport, event);
                }
            }
            Delivery::ClientWsOpen { conn, headers } => {
                let Some(state) = self.ws.get_mut(&conn) else {
                    return;
                };
                if state.client_closed || state.close_reported {
                    return;
                }
                state.open_reported = true;
                let transport = state.transport;
                self.client
                    .handle_transport(now, transport, TransportEvent::WsOpen { headers });
            }
            Delivery::ClientWsFrame { conn, frame } => {
                let Some(state) = self.ws.get(&conn) else {
                    return;
                };
                if state.client_closed || state.close_reported {
                    return;
                }
                let transport = state.transport;
                self.client
                    .handle_transport(now, transport, TransportEvent::WsFrame(frame));
            }
            Delivery::ClientWsClose { conn, error } => {
                let Some(state) = self.ws.get_mut(&conn) else {
                    return;
                };
                if state.client_closed || state.close_reported {
                    return;
                }
                state.close_reported = true;
                let transport = state.transport;
                let error = error.map(sim_io_error);
                self.client
                    .handle_transport(now, transport, TransportEvent::WsClose { error });
            }
        }
    }

    fn finish_exchange(&mut self, request: RequestId) -> Option<Exchange> {
        let ex = self.exchanges.remove(&request)?;
        let key = (ex.transport.0, ex.request == PollRequest::Post);
        if self.in_flight.get(&key) == Some(&request) {
            self.in_flight.remove(&key);
        }
        Some(ex)
    }
}

fn upstream(conn: ConnId) -> Lane {
    Lane::Ordered {
        conn: conn.0,
        upstream: true,
    }
}

/// What the simulated link reports for a failed request or WebSocket: a reset, a refusal or
/// a server error, all IO failures of no more specific kind.
fn sim_io_error(description: String) -> engineio_proto::IoError {
    engineio_proto::IoError::new(engineio_proto::IoErrorKind::Other, description)
}
