//! Deterministic simulation for the sans-IO Engine.IO and Socket.IO clients.
//!
//! - [`FakeServer`]: a scriptable sans-IO Engine.IO v4 server that behaves like the Node
//!   server (handshake, parked GETs, pings, upgrades, errors, cookies, closes) and records a
//!   [`Transcript`] of everything on the wire, plus the client's protocol [`Violation`]s.
//! - [`Link`]: seeded latency, random connection resets and cuts between the two.
//! - [`Sim`]: runs any [`SansIoClient`] against the server on virtual time that jumps to the
//!   next deadline, so a minute of heartbeats takes a millisecond.
//! - [`SimRng`]: the seeded [`rand_core::RngCore`] behind every random choice.
//! - [`SioServer`], [`sio_sim`]: a fake Socket.IO server, and the Socket.IO manager against it.
//! - [`SioApp`], [`app_sim`]: your own client-side logic on the manager, tested offline
//!   against a scripted server (see [Testing your application](#testing-your-application)).
//! - [`fault_proxy`]: a fault-injecting TCP proxy for tests against a real server (cuts,
//!   black holes, delay, throttling, refused connections, cuts triggered by what crosses it).
//!
//! A run is a pure function of its seed: the same seed gives the same transcript.
//!
//! # Driving a client
//!
//! **The simulation repeats the sans-IO loop for you: feed each delivery or due timer to the
//! client, drain `poll_output()` until `None` (transmits go on the link, events are recorded),
//! then jump to the earliest of the client's `poll_timeout()`, the server's timers and the next
//! delivery.**
//!
//! ```
//! use std::time::Duration;
//! use engineio_proto::{Client, Config, Message};
//! use socketio_test_kit::{Echo, ServerConfig, Side, Sim, SimConfig};
//!
//! let config = SimConfig::new(7).server(ServerConfig::default().with_sids(["abc"]));
//! let mut sim = Sim::new(config, Echo, |now, rng| {
//!     let mut c = Config::new("http://localhost:3000").unwrap();
//!     c.transports = vec![engineio_proto::TransportKind::WebSocket];
//!     Client::new(c, now, rng, false).unwrap()
//! });
//! sim.run_for(Duration::from_millis(100));
//! sim.with_client(|client, now| client.send(now, Message::text("hello")).unwrap());
//! sim.run_for(Duration::from_millis(100));
//! assert_eq!(sim.transcript().frames(Side::Server).last().unwrap(), "4hello");
//! ```

//!
//! # What a transcript test looks like
//!
//! Run a scenario, then compare [`Sim::lines`] with the expected exchange: `#n` names an HTTP
//! exchange, `wsn` a WebSocket, `t=*` masks the cache-buster. The fake server records what it
//! receives when it receives it and what it sends when it sends it, so a parked GET's answer
//! appears where the server released it. [`Transcript`]'s `Display` adds times and link notes
//! (resets, transmissions lost in a cut), which is what a failing assertion should print.
//!
//! # Failures
//!
//! The server checks the client as it goes: a second GET while one is parked, a POST while
//! one is in flight (seen by the simulation), a client ping, a bad query, a frame on a closed
//! WebSocket, `5` with a request still in flight... In strict mode (the default) the first
//! [`Violation`] panics with the transcript; otherwise they are listed by
//! [`Sim::violations`]. A client whose `handle_timeout` does not clear the deadline it fired,
//! or that keeps producing work at one instant, makes the simulation panic too.
//!
//! # The link
//!
//! See [`link`](Link): latency drawn per transmission, WebSocket frames kept in order, random
//! resets that both ends hear about, and cuts during which everything vanishes silently (only
//! heartbeats notice).
//!
//! # Socket.IO
//!
//! [`SioServer`] is a fake Socket.IO v5 server, an [`Application`] on the fake Engine.IO
//! server: namespaces with middlewares ([`NamespaceConfig`]), CONNECT replies and
//! CONNECT_ERRORs, acks at once, later or never ([`AckPolicy`]), echoes, scripted emits and
//! DISCONNECTs (the `sio_*` methods of `FakeServer<SioServer>`), connection state recovery,
//! and the record of every packet it received per namespace. It checks the server's rules
//! (no packet for a namespace before its CONNECT reply, no second CONNECT): a broken rule is a
//! [`Violation`] like an Engine.IO one. [`socketio_proto::Manager`] is a [`SansIoClient`], so
//! [`sio_sim`] runs it against the server on virtual time.
//!
//! ```
//! use std::time::Duration;
//! use socketio_proto::codec::Payload;
//! use socketio_proto::{EmitOptions, Event, ManagerConfig, SocketConfig};
//! use socketio_test_kit::{NamespaceConfig, SimConfig, SioConfig, SioServer};
//! use socketio_test_kit::{sio_server_config, sio_sim};
//!
//! let server = SioServer::new(SioConfig::new().namespace("/chat", NamespaceConfig::new().echo(true)));
//! let config = SimConfig::new(7).server(sio_server_config());
//! let mut sim = sio_sim(config, server, ManagerConfig::new("http://localhost:3000").unwrap());
//! sim.with_client(|manager, now| {
//!     let mut chat = manager.add_socket("/chat", SocketConfig::default()).unwrap();
//!     chat.connect(now);
//!     // Kept until the CONNECT reply, then sent once.
//!     let hello = Payload::from_serialize(&("hello", 1)).unwrap();
//!     chat.emit(now, hello, EmitOptions::default()).unwrap();
//! });
//! sim.run_for(Duration::from_secs(1));
//! assert_eq!(sim.server().app().received("/chat"), ["0/chat,", r#"2/chat,["hello",1]"#]);
//! let echoed = sim.events().iter().any(|(_, e)| matches!(e, Event::Message { nsp, .. } if nsp == "/chat"));
//! assert!(echoed);
//! ```
//!
//! # Testing your application
//!
//! Write your client-side logic against the sans-IO [`socketio_proto::Manager`] as a
//! [`SioApp`]: it gets each manager event with the current instant and acts through the
//! manager. [`app_sim`] runs it on virtual time against the fake server, which you script
//! (emits, ack requests, [`FakeServer::kill`], [`FakeServer::refuse`],
//! [`FakeServer::delay_pings`]...), then you assert what your application did. The guide is
//! `docs/simulation.md`; here is its example: a chat whose outbox must be delivered in order
//! and whose news feed must not miss an item across an outage.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::time::{Duration, Instant};
//! use engineio_proto::TransportKind;
//! use socketio_proto::codec::Payload;
//! use socketio_proto::{EmitId, EmitOptions, Event, Manager, ManagerConfig, SocketConfig};
//! use socketio_test_kit::{Refusal, RequestMatch, SimConfig, SioApp, SioConfig, SioServer};
//! use socketio_test_kit::{app_sim, sio_server_config};
//!
//! /// The application: lines delivered in order, one in flight at a time; the last news seen.
//! #[derive(Default)]
//! struct Chat {
//!     outbox: VecDeque<String>,
//!     in_flight: Option<EmitId>,
//!     delivered: Vec<String>,
//!     last_news: u64,
//! }
//!
//! impl Chat {
//!     fn say(&mut self, manager: &mut Manager, now: Instant, text: &str) {
//!         self.outbox.push_back(text.to_owned());
//!         self.flush(manager, now);
//!     }
//!
//!     fn flush(&mut self, manager: &mut Manager, now: Instant) {
//!         let mut socket = manager.socket_mut("/").unwrap();
//!         let idle = self.in_flight.is_none() && socket.get().connected();
//!         if let (true, Some(text)) = (idle, self.outbox.front()) {
//!             let line = Payload::from_serialize(&("say", text)).unwrap();
//!             let sent = socket.emit(now, line, EmitOptions::with_ack()).unwrap();
//!             self.in_flight = Some(sent.id);
//!         }
//!     }
//! }
//!
//! impl SioApp for Chat {
//!     fn on_event(&mut self, manager: &mut Manager, now: Instant, event: &Event) {
//!         match event {
//!             Event::Connect { .. } => self.flush(manager, now),
//!             Event::Message { payload, .. } => self.last_news = payload.arg(1).unwrap(),
//!             Event::Ack { emit, result, .. } if Some(*emit) == self.in_flight => {
//!                 self.in_flight = None;
//!                 if result.is_ok() {
//!                     let line = self.outbox.pop_front().unwrap();
//!                     self.delivered.push(line);
//!                 } // else: it goes out again on the next connect
//!                 self.flush(manager, now);
//!             }
//!             _ => {}
//!         }
//!     }
//! }
//!
//! let started = Instant::now();
//! // A server with connection state recovery; the client on WebSocket.
//! let server = SioServer::new(SioConfig::new().recovery(Duration::from_secs(300)));
//! let mut client = ManagerConfig::new("http://localhost:3000").unwrap();
//! client.engine.transports = vec![TransportKind::WebSocket];
//! let config = SimConfig::new(1).server(sio_server_config());
//! let mut sim = app_sim(config, server, client, Chat::default());
//! sim.with_client(|c, now| {
//!     let mut socket = c.manager.add_socket("/", SocketConfig::default()).unwrap();
//!     socket.connect(now);
//! });
//! sim.run_for(Duration::from_secs(1));
//! let news = |n: u64| Payload::from_serialize(&("news", n)).unwrap();
//! sim.with_server(|s, now| s.sio_emit(now, "/", news(1)));
//!
//! // The connection drops and the server turns reconnections away for two minutes; meanwhile
//! // news 2 is published and the user writes two lines.
//! let sid = sim.server().last_sid().unwrap();
//! sim.with_server(|s, now| {
//!     s.refuse(Refusal::error(RequestMatch::Handshake, 503, 4, "busy"));
//!     s.kill(now, &sid);
//!     s.sio_emit(now, "/", news(2)); // kept for the recovery
//! });
//! for text in ["are", "you there?"] {
//!     sim.with_client(|c, now| c.app.say(&mut c.manager, now, text));
//! }
//! sim.run_for(Duration::from_secs(120));
//! assert!(sim.client().app.delivered.is_empty());
//!
//! // The server is back: the session is recovered with what it missed, the outbox drains.
//! sim.with_server(|s, _| s.clear_refusals());
//! sim.run_for(Duration::from_secs(10));
//! assert!(sim.client().manager.socket("/").unwrap().recovered());
//! assert_eq!(sim.client().app.last_news, 2);
//! assert_eq!(sim.client().app.delivered, ["are", "you there?"]);
//! assert_eq!(sim.server().app().events("/").len(), 2);
//! // Two minutes of reconnection attempts ran in milliseconds.
//! assert!(started.elapsed() < sim.elapsed() / 100);
//! ```
//!
//! # Extending
//!
//! - Another client (the Socket.IO manager): implement [`SansIoClient`] for it; its transmits
//!   are the engine's, its events are its own.
//! - Your application on the manager: implement [`SioApp`] and run it with [`app_sim`]
//!   (or implement [`SansIoClient`] for your own wrapper).
//! - Another server behaviour (a fake Socket.IO server): implement [`Application`]; it sees
//!   each session's opening, messages and close, and can send, send malformed bytes or close
//!   through [`SessionCtx`]. Scripted steps go through [`Sim::with_server`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
mod driven;
pub mod fault_proxy;
mod link;
pub mod node;
mod rng;
mod server;
mod sim;
mod sio;
mod transcript;
mod wire;

pub use clock::{VirtualClock, WALL_ORIGIN_UNIX_SECS, http_date_at, wall_at};
pub use driven::{ClientOutput, SansIoClient};
pub use link::{Fate, Lane, Link, LinkConfig};
pub use rng::SimRng;
pub use server::{
    Application, Echo, FakeServer, Outgoing, ProbeBehavior, Refusal, RequestMatch, ServerConfig,
    SessionCtx, SessionInfo, SessionStats, Silent, Violation, ViolationKind, error_body,
};
pub use sim::{Sim, SimConfig};
pub use sio::{
    AckPolicy, AppClient, AppSim, ClientAck, ConnectRefusal, ConnectRequest, JoinOutcome, Joined,
    Middleware, NamespaceConfig, Received, ServerEmit, SioApp, SioConfig, SioServer, SioSim,
    app_sim, sio_server_config, sio_sim,
};
pub use transcript::{Entry, Record, RenderOptions, Side, Transcript, render_frame};
pub use wire::{ConnId, HttpRequest, Method, RequestId, ServerOutput, header, query};

/// The guide, `docs/simulation.md`, whose examples run as doc tests (only in this
/// repository: the file is not part of the package).
#[cfg(doctest)]
#[doc = include_str!("../../../docs/simulation.md")]
pub struct SimulationGuide;
