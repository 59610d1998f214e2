//! The browser adapter of the Socket.IO client, for `wasm32-unknown-unknown` (Leptos, Yew,
//! Dioxus, or plain `wasm-bindgen` apps): the browser's `WebSocket` (binary type
//! `arraybuffer`), `fetch` for long-polling and the browser's timers, under the same sans-IO
//! core and the same API as the native adapters (`socketio_async`'s, re-exported).
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")]
//! # async fn demo() -> Result<(), socketio_wasm::Error> {
//! use socketio_wasm::Options;
//!
//! // Listeners first, then connect: nothing the server sends on connection is missed.
//! let socket = socketio_wasm::builder("https://chat.example.com/chat", Options::default())?
//!     .on("news", |msg| web_sys_log(&format!("{:?}", msg.args.values())))
//!     .connect()
//!     .await?;
//! socket.emit("hello", "world")?;
//! let (reply,): (String,) = socket.emit_with_ack("echo", "hello").await?;
//! # Ok(()) }
//! # fn web_sys_log(_: &str) {}
//! ```
//!
//! The client runs on the page's event loop (`wasm_bindgen_futures::spawn_local`); listeners
//! run there too, so keep them short. Everything else (reconnection with backoff, connection
//! state recovery, acks both ways, binary as `bytes::Bytes`, namespaces, the polling to
//! WebSocket upgrade) is the shared core's and behaves as on native targets.
//!
//! # What the browser does not allow
//!
//! The browser owns the network, so some options of the native adapters do not exist here or
//! are refused with a typed error instead of being ignored:
//!
//! - TLS material (CAs, client certificates, `reject_unauthorized`): the browser verifies
//!   certificates itself. This crate has no TLS options (there is no `io_with_tls`).
//! - Proxies: the browser's own settings apply; there is no `with_proxy`.
//! - Headers on the WebSocket handshake: the browser's `WebSocket` sends none of the caller's,
//!   so `extra_headers` with the WebSocket transport allowed is refused with
//!   `Error::Unsupported(Unsupported::WebSocketHeaders)`. With
//!   `transports([TransportKind::Polling])` they go on every `fetch` (the server must allow
//!   them through CORS); otherwise carry the value in `auth` or `query`. Headers added later
//!   by a `before_connect` hook fail that WebSocket attempt with an error that says so.
//! - Cookies: `with_credentials` maps to fetch's `credentials` (`include` when set,
//!   `same-origin` otherwise); the browser keeps the cookies, not the client.
//!
//! On targets other than wasm32 this crate is empty.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use socketio_async::*;
#[cfg(target_arch = "wasm32")]
pub use web::{WasmRuntime, builder, io};
