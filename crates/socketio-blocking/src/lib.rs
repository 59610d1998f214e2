//! A blocking Socket.IO client for programs with no async runtime.
//!
//! Built on the sans-IO core ([`socketio_proto::Manager`]) with `std::net`, rustls,
//! tungstenite's blocking WebSocket and a small HTTP/1 client for long-polling; no tokio, no
//! hidden runtime. Every transport (long-polling, WebSocket, polling upgraded to WebSocket),
//! TLS options, an HTTP proxy, auth, namespaces, acks both ways, binary, reconnection with
//! backoff, connection state recovery and the msgpack parser (`socketio-msgpack`, through
//! [`Options::parser`]) work as with the async clients.
//!
//! Two shapes:
//!
//! - [`Client`]: connect, emit, call (emit and wait for the ack), receive. `Send + Sync` and
//!   cheap to clone; one IO thread per connection, asleep in the OS until there is work.
//! - [`Connection`]: the same machinery without the thread, stepped by your own loop (a game
//!   loop's tick, `poll`/`select`, mio): a raw fd to wait on, the next deadline, and
//!   non-blocking steps.
//!
//! ```no_run
//! use std::time::Duration;
//! use socketio_blocking::{Client, Event, Options};
//!
//! let client = Client::connect("http://localhost:3000", Options::default())?;
//! let (echoed,): (String,) = client.call("echo", ("ping",), Duration::from_secs(5))?;
//! client.emit("hello", ("world", 42))?;
//! for event in &client {
//!     match event {
//!         Event::Message(message) => println!("{}", message.event()),
//!         Event::Disconnect(reason) => println!("disconnected: {reason}"),
//!         _ => {}
//!     }
//! }
//! # Ok::<(), socketio_blocking::Error>(())
//! ```
//!
//! Not supported here: socket.io-client's listener callbacks (`on`, `onAny`: receive
//! events and dispatch them in your own code), reconnect hooks (step a [`Connection`] and
//! change [`Connection::manager_mut`] between attempts), and `remember_upgrade` across
//! connections (one connection remembers it for its own reconnections).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod connection;
mod error;
mod http;
mod net;

pub use client::{Client, Event, Events, IO_THREAD_NAME, Message};
pub use connection::{Builder, Connection, Notifier};
pub use error::Error;
pub use socketio_async::proxy::ProxyOptions;
pub use socketio_async::tls::TlsOptions;
pub use socketio_async::tls::{TlsError, TlsOption};
pub use socketio_async::{ArgsVec, EmitArgs, Options, TransportKind};
pub use socketio_proto::codec::Payload;
pub use socketio_proto::{AckError, ConnectError, DisconnectReason};
