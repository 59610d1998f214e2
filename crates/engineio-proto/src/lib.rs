//! A sans-IO Engine.IO client (protocol 4, and 3 for socket.io 2.x servers, chosen or detected
//! with [`Config::protocol`]; the v3 codec is in [`v3`]): the handshake, HTTP long-polling, the WebSocket transport,
//! the upgrade from one to the other, the heartbeat and the close, as a pure state machine.
//!
//! It does no IO, reads no clock and starts no task: time comes in as `now: Instant`,
//! randomness through [`rand_core`], and what it wants done comes out as [`Transmit`]s that an
//! adapter performs (with hyper and tungstenite, or `std::net`, or anything else).
//!
//! # The loop
//!
//! **Feed inputs (`handle_transport`, `handle_timeout`, `send`, `close`), then drain
//! `poll_output()` until it returns `None`, then sleep until `poll_timeout()` or the next input,
//! and call `handle_timeout(now)` when that instant comes.** Outputs keep transmits and events in
//! the order they happened. Every IO result is one [`TransportEvent`], reported with the
//! [`TransportId`] of the [`Transmit`] that asked for it.
//!
//! ```no_run
//! use std::time::Instant;
//! use engineio_proto::{Client, Config, Event, Output, Transmit};
//!
//! # fn rng() -> impl rand_core::RngCore { struct Z; impl rand_core::RngCore for Z {
//! #   fn next_u32(&mut self) -> u32 { 4 } fn next_u64(&mut self) -> u64 { 4 }
//! #   fn fill_bytes(&mut self, d: &mut [u8]) { d.fill(4) } } Z }
//! let config = Config::new("http://localhost:3000")?;
//! let mut client = Client::new(config, Instant::now(), &mut rng(), false)?;
//! loop {
//!     // 1. Drain everything the inputs produced.
//!     while let Some(output) = client.poll_output() {
//!         match output {
//!             Output::Transmit(Transmit::HttpGet { transport, url, headers }) => {
//!                 // Start the request; when it completes call
//!                 // client.handle_transport(now, transport, TransportEvent::HttpResponse {
//!                 //     request: PollRequest::Get, response })
//!                 // or TransportEvent::HttpError { .. } if it failed.
//!             }
//!             Output::Transmit(other) => { /* HttpPost, WsOpen, WsSend, WsClose likewise */ }
//!             Output::Event(Event::Message(message)) => { /* application data */ }
//!             Output::Event(Event::Close(reason)) => return Ok(()),
//!             Output::Event(_) => {}
//!         }
//!     }
//!     // 2. Wait for IO completions or the deadline, whichever comes first.
//!     let deadline = client.poll_timeout();
//!     // ... wait ...
//!     // 3. Feed what happened; on reaching the deadline:
//!     client.handle_timeout(Instant::now());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it guarantees
//!
//! - At most one GET and one POST in flight on polling; buffered messages are batched into a
//!   POST under the server's `maxPayload` with the reference's accounting.
//! - The upgrade follows the reference: `2probe`/`3probe`, polling paused until the in-flight
//!   requests return, `5`, then the buffer flushed on the WebSocket. A failed or slow probe
//!   leaves the session on polling.
//! - The heartbeat deadline (pingInterval + pingTimeout) is checked on every entry point, so a
//!   message sent after it closes the session with "ping timeout" instead of being written to
//!   a dead connection.
//! - Errors are typed by whose fault they are and a closed client stays closed with the same
//!   reason.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod cookie;
mod error;
mod handshake;
mod input;
mod output;
pub mod packet;
pub mod redact;
mod request;
mod timer;
pub mod v3;

pub use client::{Client, State};
pub use config::{
    Config, ConfigError, EngineProtocol, TransportKind, check_header, parse_server_url,
};
pub use cookie::CookieJar;
pub use error::{
    CloseReason, DecodeError, HandshakeError, IoError, IoErrorKind, PollRequest, ProtocolViolation,
    SendError, ServerError, ServerProtocol, TransportError,
};
pub use handshake::Handshake;
pub use input::{HttpResponse, TransportEvent};
pub use output::{Event, Output, Transmit, TransportId, WsFrame};
pub use packet::{Message, Packet, PacketType};
pub use request::Header;

/// The `rand_core` this crate takes randomness through, so callers implement or pass the same
/// version of [`rand_core::RngCore`].
pub use rand_core;

/// The Engine.IO protocol revision this crate speaks by default (`EIO=4`); it speaks 3 as
/// well, see [`EngineProtocol`].
pub const PROTOCOL: u8 = 4;
