//! Deterministic simulation for the sans-IO Engine.IO and Socket.IO clients.
//!
//! - [`FakeServer`]: a scriptable sans-IO Engine.IO v4 server that behaves like the Node
//!   server (handshake, parked GETs, pings, upgrades, errors, cookies, closes) and records a
//!   [`Transcript`] of everything on the wire, plus the client's protocol [`Violation`]s.
//! - [`Link`]: seeded latency, random connection resets and cuts between the two.
//! - [`Sim`]: runs any [`SansIoClient`] against the server on virtual time that jumps to the
//!   next deadline, so a minute of heartbeats takes a millisecond.
//! - [`SimRng`]: the seeded [`rand_core::RngCore`] behind every random choice.
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
//! # Extending
//!
//! - Another client (the Socket.IO manager): implement [`SansIoClient`] for it; its transmits
//!   are the engine's, its events are its own.
//! - Another server behaviour (a fake Socket.IO server): implement [`Application`]; it sees
//!   each session's opening, messages and close, and can send, send malformed bytes or close
//!   through [`SessionCtx`]. Scripted steps go through [`Sim::with_server`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
mod driven;
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
    AckPolicy, ClientAck, ConnectRefusal, ConnectRequest, JoinOutcome, Joined, Middleware,
    NamespaceConfig, Received, ServerEmit, SioConfig, SioServer, SioSim, sio_server_config,
    sio_sim,
};
pub use transcript::{Entry, Record, RenderOptions, Side, Transcript, render_frame};
pub use wire::{ConnId, HttpRequest, Method, RequestId, ServerOutput, header, query};
