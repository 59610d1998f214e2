//! A sans-IO Socket.IO v5 client: socket.io-client's Manager and Sockets as a pure state
//! machine that owns an [`engineio_proto::Client`]. Over Engine.IO 3 it speaks the older
//! revision 4 of socket.io 2.x instead (see [`RESERVED_EVENTS_V4`] and docs/architecture.md).
//!
//! It multiplexes namespaces over one Engine.IO connection, sends CONNECT with `auth`, keeps
//! emits made before a namespace connects and sends them once, in order, after its CONNECT
//! reply; tracks acks both ways with deadlines; retries emits for at-least-once delivery;
//! reconnects with the reference's backoff (without its overflow); and recovers sessions
//! (connection state recovery). It does no IO and reads no clock.
//!
//! Each ack the client waits for is kept in one table with its namespace, wire id, deadline
//! and waiter: a layer that wants its own waiter per ack (a oneshot sender, a callback) makes
//! the manager with [`Manager::with_waiters`], emits with [`SocketMut::emit_with_ack`], and
//! gets the waiter back in [`Event::Ack`], so it keeps no table of its own.
//!
//! # The loop
//!
//! **Feed inputs (`handle_transport`, `handle_timeout`, socket commands), then drain
//! `poll_output()` until it returns `None`, then wait until `poll_timeout()` or the next
//! input.** Transmits are the engine's, with transport ids unique across reconnections; events
//! are the manager's and the sockets'.
//!
//! ```no_run
//! use std::time::Instant;
//! use socketio_proto::{Manager, ManagerConfig, SocketConfig, EmitOptions, Event, Output};
//! use socketio_proto::codec::Payload;
//!
//! # struct Rng; impl rand_core::RngCore for Rng {
//! #   fn next_u32(&mut self) -> u32 { 4 } fn next_u64(&mut self) -> u64 { 4 }
//! #   fn fill_bytes(&mut self, d: &mut [u8]) { d.fill(4) } }
//! let config = ManagerConfig::new("http://localhost:3000")?;
//! let mut manager = Manager::new(config, Instant::now(), Box::new(Rng))?;
//! let mut chat = manager.add_socket("/", SocketConfig::default())?;
//! chat.connect(Instant::now());
//! // Buffered until the namespace connects, then sent once.
//! chat.emit(Instant::now(), Payload::from_serialize(&("hello", 1))?, EmitOptions::with_ack())?;
//! loop {
//!     // 1. Drain.
//!     while let Some(output) = manager.poll_output() {
//!         match output {
//!             Output::Transmit(transmit) => {
//!                 // Perform it; report each result as a TransportEvent with
//!                 // manager.handle_transport(now, transport, event).
//!             }
//!             Output::Event(Event::Message { nsp, payload, ack, .. }) => {
//!                 if let Some(id) = ack {
//!                     let reply = Payload::from_serialize(&["ok"])?;
//!                     manager.socket_mut(&nsp).unwrap().ack(Instant::now(), id, reply)?;
//!                 }
//!             }
//!             Output::Event(Event::Ack { emit, result, .. }) => { /* the server answered */ }
//!             Output::Event(_) => {}
//!         }
//!     }
//!     // 2. Wait for IO or for manager.poll_timeout(); 3. feed what happened:
//!     manager.handle_timeout(Instant::now());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Differences from socket.io-client, on purpose
//!
//! - The connection-state-recovery offset the server appends to events is taken off the
//!   arguments and reported as [`Event::Message::offset`]; the reference leaves it as a last
//!   argument. Caveat shared with the reference: with recovery on, a *volatile* server event
//!   whose last argument is a string is read as carrying an offset.
//! - `retries` needs `ack_timeout` (the reference silently misreads the first ack argument
//!   as an error without it).
//! - Every pending ack is failed with [`AckError::Disconnected`] on disconnect (the
//!   reference drops callbacks without an error flag), so no awaited ack hangs.
//! - A volatile emit is dropped whenever the namespace cannot write now, including before its
//!   CONNECT reply (the reference buffers it then).
//! - Backoff delays never overflow or collapse to zero after many failures.
//! - [`Event::ReconnectAttempt`] comes one `handle_timeout` before the attempt opens, so the
//!   caller can change auth or query for that attempt.
//! - Leaving a namespace and joining it again on the same connection never sends a second
//!   CONNECT while one is unanswered (the server closes the connection for that), and what the
//!   server still sends to the socket that was left (events, a crossing DISCONNECT) is ignored.
//! - A CONNECT_ERROR for a namespace that is already connected is ignored.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ack;
mod backoff;
pub mod codec;
mod config;
mod emit;
mod event;
mod footprint;
mod legacy;
mod manager;
mod socket;
mod timer;
mod view;

pub use backoff::Backoff;
pub use config::{ConfigError, ManagerConfig, SocketConfig};
pub use emit::{AckReplyError, EmitError, EmitOptions, EmitStatus, Emitted};
pub use event::{
    AckError, ConnectError, DisconnectReason, EmitId, Event, ManagerError, Output, PrepareFailure,
};
pub use footprint::Footprint;
pub use legacy::RESERVED_EVENTS_V4;
pub use manager::{Manager, ReadyState};
/// The string type of namespaces and event names: inline up to 23 bytes (`"/"`, `"/chat"`,
/// most event names), shared beyond, cheap to clone; it dereferences to `str` and compares
/// with `&str` and `String`. A received event allocates no string for them.
pub use smol_str::SmolStr;
pub use view::{SocketMut, SocketRef};

// The engine types the manager's input and output are made of, so an adapter needs no second
// dependency to drive it.
pub use engineio_proto::{
    Header, HttpResponse, PollRequest, Transmit, TransportEvent, TransportId, WsFrame,
};

/// The Socket.IO protocol revision this crate speaks.
pub const PROTOCOL: u8 = 5;
