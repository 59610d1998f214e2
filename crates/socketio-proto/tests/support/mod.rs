//! A scripted WebSocket-only server for manager tests: every frame the client writes is kept
//! as text (binary frames as `<bin:HEX>`), every event is kept, and time is virtual.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio_proto::{Transmit, TransportEvent, TransportId, TransportKind, WsFrame};
use socketio_proto::{Event, Manager, ManagerConfig, Output, SocketConfig};

/// SplitMix64, seeded: deterministic jitter.
pub struct SeededRng(pub u64);

impl rand_core::RngCore for SeededRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for b in dst {
            *b = self.next_u64() as u8;
        }
    }
}

pub const HANDSHAKE: &str = r#"0{"sid":"eio-sid","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// `W` is the manager's ack waiter (see `Manager::with_waiters`).
pub struct Harness<W = ()> {
    pub manager: Manager<W>,
    pub now: Instant,
    pub start: Instant,
    /// The WebSocket the client has open (or is opening).
    pub ws: Option<TransportId>,
    /// WebSockets the client asked to open, in order, with the time of asking.
    pub opens: Vec<(TransportId, Instant)>,
    pub closed: Vec<TransportId>,
    /// Frames the client wrote, as text.
    pub sent: Vec<String>,
    pub events: Vec<Event<W>>,
}

pub fn config() -> ManagerConfig {
    let mut config = ManagerConfig::new("http://server.test").expect("valid url");
    config.engine.transports = vec![TransportKind::WebSocket];
    config
}

impl Harness {
    pub fn new(config: ManagerConfig) -> Self {
        Self::with_seed(config, 7)
    }

    pub fn with_seed(config: ManagerConfig, seed: u64) -> Self {
        Harness::with_waiters(config, seed)
    }

    /// Connects `/` completely: open, handshake, CONNECT, reply.
    pub fn connected(config: ManagerConfig, socket: SocketConfig) -> Self {
        Harness::connected_with_waiters(config, socket)
    }
}

impl<W> Harness<W> {
    /// A harness whose manager keeps a `W` with each ack.
    pub fn with_waiters(config: ManagerConfig, seed: u64) -> Self {
        let now = Instant::now();
        let manager =
            Manager::with_waiters(config, now, Box::new(SeededRng(seed))).expect("valid config");
        Self {
            manager,
            now,
            start: now,
            ws: None,
            opens: Vec::new(),
            closed: Vec::new(),
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Adds and connects a socket.
    pub fn connect(&mut self, nsp: &str, config: SocketConfig) {
        let now = self.now;
        self.manager
            .add_socket(nsp, config)
            .expect("valid socket")
            .connect(now);
        self.drain();
    }

    pub fn drain(&mut self) {
        while let Some(out) = self.manager.poll_output() {
            match out {
                Output::Transmit(Transmit::WsOpen { transport, .. }) => {
                    self.ws = Some(transport);
                    self.opens.push((transport, self.now));
                }
                Output::Transmit(Transmit::WsSend { frame, .. }) => self.sent.push(match frame {
                    WsFrame::Text(t) => String::from_utf8(t.to_vec()).expect("utf-8"),
                    WsFrame::Binary(b) => format!("<bin:{}>", hex(&b)),
                }),
                Output::Transmit(Transmit::WsClose { transport }) => {
                    self.closed.push(transport);
                    if self.ws == Some(transport) {
                        self.ws = None;
                    }
                }
                Output::Transmit(other) => panic!("unexpected transmit {other:?}"),
                // The upgrade memory is the adapter's business; tests look at the rest.
                Output::Event(Event::RememberUpgrade(_)) => {}
                Output::Event(e) => self.events.push(e),
            }
        }
    }

    fn ws_id(&self) -> TransportId {
        self.ws.expect("a websocket is open")
    }

    /// The server accepts the WebSocket and sends its handshake.
    pub fn accept(&mut self) {
        self.accept_with(HANDSHAKE);
    }

    pub fn accept_with(&mut self, handshake: &str) {
        let id = self.ws_id();
        self.manager.handle_transport(
            self.now,
            id,
            TransportEvent::WsOpen {
                headers: Vec::new(),
            },
        );
        self.frame(handshake);
    }

    /// The server sends a text frame.
    pub fn frame(&mut self, text: &str) {
        let id = self.ws_id();
        self.manager.handle_transport(
            self.now,
            id,
            TransportEvent::WsFrame(WsFrame::Text(Bytes::copy_from_slice(text.as_bytes()))),
        );
        self.drain();
    }

    /// The server sends a binary frame.
    pub fn binary(&mut self, data: &[u8]) {
        let id = self.ws_id();
        self.manager.handle_transport(
            self.now,
            id,
            TransportEvent::WsFrame(WsFrame::Binary(Bytes::copy_from_slice(data))),
        );
        self.drain();
    }

    /// The WebSocket closes (`error` set: it failed).
    pub fn drop_ws(&mut self, error: Option<&str>) {
        let id = self.ws_id();
        self.ws = None;
        self.manager.handle_transport(
            self.now,
            id,
            TransportEvent::WsClose {
                error: error
                    .map(|e| engineio_proto::IoError::new(engineio_proto::IoErrorKind::Other, e)),
            },
        );
        self.drain();
    }

    /// Moves virtual time forward by `d` and fires what is due.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.manager.handle_timeout(self.now);
        self.drain();
    }

    /// Jumps to the next deadline (if any, and not beyond `limit` from now); returns whether
    /// one fired.
    pub fn step(&mut self, limit: Duration) -> bool {
        match self.manager.poll_timeout() {
            Some(at) if at <= self.now + limit => {
                self.now = self.now.max(at);
                self.manager.handle_timeout(self.now);
                self.drain();
                true
            }
            _ => false,
        }
    }

    /// Takes the frames written so far.
    pub fn take_sent(&mut self) -> Vec<String> {
        std::mem::take(&mut self.sent)
    }

    /// Takes the events so far.
    pub fn take_events(&mut self) -> Vec<Event<W>> {
        std::mem::take(&mut self.events)
    }

    /// Connects `/` completely, with waiters: open, handshake, CONNECT, reply.
    pub fn connected_with_waiters(config: ManagerConfig, socket: SocketConfig) -> Self {
        let mut h = Self::with_waiters(config, 7);
        h.connect("/", socket);
        h.accept();
        assert_eq!(h.take_sent(), ["40"]);
        h.frame(r#"40{"sid":"sio-sid"}"#);
        h.take_events();
        h
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
