//! The async Socket.IO client, runtime-agnostic.
//!
//! This crate holds the user API ([`io`], [`Manager`], [`Socket`]) and the one driver loop
//! that runs the sans-IO [`socketio_proto::Manager`]. It has no runtime of its own: an adapter
//! crate (`socketio-tokio`, `socketio-async-std`) implements [`Runtime`] and re-exports a
//! ready `io()`.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn runtime() -> Arc<dyn socketio_async::Runtime> { unimplemented!() }
//! # async fn demo() -> Result<(), socketio_async::Error> {
//! use socketio_async::{Options, SocketBuilder, Value};
//!
//! // Listeners are in place before the first byte is read; `connect()` waits for the
//! // namespace's CONNECT (or fails with the connect error).
//! let socket = SocketBuilder::new("http://localhost:3000/chat", Options::default(), runtime())?
//!     .on("message", |msg| println!("{}: {:?}", msg.event, msg.args.values()))
//!     .connect()
//!     .await?;
//! socket.emit("hello", "world")?; // one argument
//! socket.emit("hello", ("world", 42))?; // several: a tuple
//! let (echoed,): (String,) = socket.emit_with_ack("echo", "ping").await?;
//! // Any arguments, binary included, as values that emit back unchanged.
//! let back: Vec<Value> = socket.emit_with_ack("echo", ("a", bytes::Bytes::from_static(b"b"))).await?;
//! socket.emit("again", back)?;
//! # Ok(()) }
//! ```
//!
//! [`io`] is socket.io-client's `io()`: it connects at once, so listeners added after it
//! may miss the first events (the connection runs on its own task); await
//! [`Socket::connect`] for the outcome.
//!
//! # Where handlers run
//!
//! Synchronous listeners ([`Socket::on`], [`Socket::on_any`], [`Manager::on`], lifecycle
//! listeners) run on the connection's task, one after another in the order events arrive:
//! keep them short and never block in them, or the connection stalls. Async listeners
//! ([`Socket::on_async`]) run on a task of the runtime, one listener's futures one at a
//! time in arrival order. Streams ([`Socket::events`], [`Manager::events`]) are unbounded
//! and read on your task.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod builder;
mod driver;
mod error;
mod events;
mod flow;
mod manager;
#[cfg(feature = "net")]
pub mod net;
mod options;
mod prepare;
pub mod proxy;
mod rng;
pub mod runtime;
mod send;
mod shared;
mod socket;
#[cfg(feature = "rustls")]
pub mod tls;
mod value;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

pub use args::{Args, ArgsVec, EmitArgs, One};
pub use builder::SocketBuilder;
/// What is wrong with an Engine.IO option or the URL (inside [`ConfigError::Engine`]).
pub use engineio_proto::ConfigError as EngineConfigError;
pub use engineio_proto::{EngineProtocol, TransportKind};
pub use error::{AckError, ConnectError, DisconnectReason, Error};
pub use events::{AckSender, ManagerEvent, Message, SocketEvent};
pub use flow::{
    DEFAULT_QUEUE_CAPACITY, DEFAULT_READ_AHEAD, EventStream, FlowOptions, FlowSnapshot, Overflow,
};
pub use manager::Manager;
pub use options::{DEFAULT_MAX_MESSAGE, Options};
pub use prepare::{BeforeConnect, BoxError, ConnectAttempt};
pub use runtime::Runtime;
pub use send::{SendBufferOptions, SendBufferSnapshot, SendOverflow};
pub use shared::ListenerId;
pub use socket::{Connecting, Emitter, Socket};
pub use socketio_proto::ConfigError;
pub use socketio_proto::SmolStr;
pub use socketio_proto::codec::Payload;
pub use value::Value;

use manager::ManagerInner;

fn cache() -> &'static Mutex<HashMap<String, Weak<ManagerInner>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Weak<ManagerInner>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Whether a WebSocket last worked, per server (the cache key), for `remember_upgrade`: the
/// reference keeps one process-wide flag; keyed by server, one server's failure does not make
/// another start over polling.
fn websocket_memory() -> &'static Mutex<HashMap<String, bool>> {
    static MEMORY: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    MEMORY.get_or_init(Default::default)
}

/// What the process remembers about `key` (false when nothing).
pub(crate) fn prior_websocket_success(key: &str) -> bool {
    let memory = websocket_memory().lock().unwrap_or_else(|p| p.into_inner());
    memory.get(key).copied().unwrap_or(false)
}

/// Remembers whether a WebSocket to `key` worked.
pub(crate) fn remember_websocket(key: &str, worked: bool) {
    let mut memory = websocket_memory().lock().unwrap_or_else(|p| p.into_inner());
    memory.insert(key.to_owned(), worked);
}

/// The cache key of socket.io-client: scheme, host, port (defaulted) and path option.
fn cache_key(url: &url::Url, options: &Options) -> String {
    let port = url.port_or_known_default().unwrap_or(0);
    let host = match url.host() {
        Some(url::Host::Ipv6(addr)) => format!("[{addr}]"),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    format!("{}://{host}:{port}{}", url.scheme(), options.path)
}

/// Connects to the namespace in `url`'s path (`http://host/admin` is namespace `/admin`),
/// reusing the connection already open to that server unless `force_new`, `multiplex: false`,
/// or that connection already has a socket for the namespace (socket.io-client's `io()`).
pub fn io(url: &str, options: Options, runtime: Arc<dyn Runtime>) -> Result<Socket, Error> {
    let parsed = engineio_proto::parse_server_url(url)?;
    // The socket's options are checked before a manager exists: refused, they must not have
    // opened a connection.
    options.socket_config()?;
    let nsp = match parsed.path() {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    let key = cache_key(&parsed, &options);
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|_, weak| weak.strong_count() > 0);
    let cached = cache
        .get(&key)
        .and_then(Weak::upgrade)
        .map(|inner| Manager { inner });
    let same_namespace = cached
        .as_ref()
        .is_some_and(|m| m.inner.shared.socket(&nsp).is_some());
    let new_connection = options.force_new || !options.multiplex || same_namespace;
    let manager = match cached {
        Some(m) if !new_connection => m,
        _ => {
            // The socket's connect below opens it (with `auto_connect`).
            let manager =
                Manager::with_open(&parsed, key.clone(), options.clone(), runtime, false)?;
            if !new_connection {
                cache.insert(key, Arc::downgrade(&manager.inner));
            }
            manager
        }
    };
    drop(cache);
    manager.socket_with(&nsp, &options)
}
