//! What the manager tells the layer above ([`Event`]), interleaved with the engine's transmits
//! in [`Output`].

use std::fmt;

use engineio_proto::{CloseReason, TransportKind};
use smol_str::SmolStr;

use crate::codec::Payload;

/// Names one emit for the life of a manager, so its ack result can be matched. Not the wire ack
/// id: that one changes when an emit is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmitId(pub u64);

/// Why a namespace socket disconnected, with the reference's exact strings ([`Self::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The server sent DISCONNECT for the namespace. No automatic reconnection.
    IoServerDisconnect,
    /// The caller disconnected the socket. No automatic reconnection.
    IoClientDisconnect,
    /// No ping from the server in time.
    PingTimeout,
    /// The connection was closed (server close, WebSocket close, network).
    TransportClose,
    /// The connection failed (HTTP error, WebSocket error).
    TransportError,
    /// The server sent a packet that does not parse.
    ParseError,
    /// The manager or engine was closed locally.
    ForcedClose,
}

impl DisconnectReason {
    /// The reference's reason string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IoServerDisconnect => "io server disconnect",
            Self::IoClientDisconnect => "io client disconnect",
            Self::PingTimeout => "ping timeout",
            Self::TransportClose => "transport close",
            Self::TransportError => "transport error",
            Self::ParseError => "parse error",
            Self::ForcedClose => "forced close",
        }
    }

    /// Whether the manager reconnects after this reason (all but the two deliberate ones).
    pub fn reconnects(self) -> bool {
        !matches!(self, Self::IoServerDisconnect | Self::IoClientDisconnect)
    }

    pub(crate) fn from_close(reason: &CloseReason) -> Self {
        match reason {
            CloseReason::TransportClose { .. } => Self::TransportClose,
            CloseReason::TransportError(_) => Self::TransportError,
            CloseReason::PingTimeout => Self::PingTimeout,
            CloseReason::ParseError { .. } => Self::ParseError,
            _ => Self::ForcedClose,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a namespace could not connect.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConnectError {
    /// The server refused the namespace (CONNECT_ERROR): a middleware said no, or the namespace
    /// does not exist. The socket is now inactive; connect it again to retry.
    Refused {
        /// The server's message, e.g. "Invalid namespace" or "not authorized".
        message: String,
        /// The `data` the server's middleware attached, if any.
        data: Option<Payload>,
    },
    /// The Engine.IO connection could not be opened (or timed out): the HTTP status and the
    /// server's `{code, message}`, the IO failure (DNS, TCP, TLS, proxy, timeout), or the
    /// protocol error, in [`ManagerError`]; [`ConnectError::message`] is the reference's short
    /// message and [`std::error::Error::source`] the cause.
    Engine(ManagerError),
    /// The CONNECT reply carried no `sid` over Engine.IO 4: a Socket.IO v5 server always
    /// sends one. A socket.io 2.x server answers so, but only over Engine.IO 3, where the
    /// client derives the id itself: set the engine protocol to 3 or detect.
    IncompatibleServer,
    /// The namespace has `auth`, but the server speaks the Socket.IO protocol of socket.io
    /// 2.x (over Engine.IO 3), which has no CONNECT payload: put the credentials in the query
    /// instead (the server reads it as `socket.handshake.query`, or as `auth` for a 3.x/4.x
    /// server with `allowEIO3`). The socket is now inactive.
    AuthUnsupported,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused { message, .. } => write!(f, "the server refused the namespace: {message}"),
            Self::Engine(e) => f.write_str(e.short_message()),
            Self::IncompatibleServer => f.write_str(
                "the server answered CONNECT without a sid over Engine.IO 4: if it is a socket.io 2.x server, set the protocol option to 3 or detect",
            ),
            Self::AuthUnsupported => f.write_str(
                "the server speaks the socket.io 2.x protocol, which cannot carry auth: send the credentials in the query instead",
            ),
        }
    }
}

impl ConnectError {
    /// The reference's short message, as socket.io-client's `connect_error` gives it: the
    /// server's message when it refused the namespace; "xhr poll error", "websocket error",
    /// "timeout"... when the connection could not be opened.
    pub fn message(&self) -> &str {
        match self {
            Self::Refused { message, .. } => message,
            Self::Engine(e) => e.short_message(),
            Self::IncompatibleServer => "incompatible server",
            Self::AuthUnsupported => "auth unsupported",
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Engine(e) => Some(e),
            _ => None,
        }
    }
}

/// Why an emit's ack did not come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckError {
    /// The ack did not arrive within the timeout (after every retry, with `retries`).
    Timeout,
    /// The socket disconnected before the ack arrived.
    Disconnected,
    /// A volatile emit was dropped because the connection could not take it.
    Dropped,
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Timeout => "operation has timed out",
            Self::Disconnected => "socket has been disconnected",
            Self::Dropped => "volatile packet dropped: the connection could not take it",
        })
    }
}

impl std::error::Error for AckError {}

/// Why opening the Engine.IO connection failed (the manager's `error` event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagerError {
    /// The connection did not open within `timeout`.
    Timeout,
    /// The engine closed while opening.
    Engine(CloseReason),
    /// The engine options (changed between attempts) are invalid: the caller's fault.
    Config(engineio_proto::ConfigError),
    /// The layer above refused the opening at the gate ([`crate::Manager::fail_open`]), e.g.
    /// a token refresh failed; it has the details.
    Prepare(PrepareFailure),
}

/// Why the layer above refused an opening at the gate (e.g. its token refresh failed), as it
/// said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareFailure {
    message: String,
}

impl PrepareFailure {
    /// A refusal described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// What the layer above said.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PrepareFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PrepareFailure {}

impl fmt::Display for ManagerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timeout"),
            Self::Engine(reason) => reason.fmt(f),
            Self::Config(e) => write!(f, "invalid options: {e}"),
            Self::Prepare(e) => write!(f, "the connection could not be prepared: {e}"),
        }
    }
}

impl ManagerError {
    /// The reference's short message: "timeout", "xhr poll error", "xhr post error",
    /// "websocket error", "parse error", "transport close"...
    pub fn short_message(&self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Engine(CloseReason::TransportError(e)) => e.short_message(),
            Self::Engine(reason) => reason.as_str(),
            Self::Config(_) => "invalid options",
            Self::Prepare(_) => "prepare error",
        }
    }

    /// The transport failure behind it, if it was one: the HTTP status and server error, or
    /// the IO failure.
    pub fn transport_error(&self) -> Option<&engineio_proto::TransportError> {
        match self {
            Self::Engine(CloseReason::TransportError(e)) => Some(e),
            _ => None,
        }
    }
}

impl std::error::Error for ManagerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Timeout => None,
            Self::Prepare(e) => Some(e),
            Self::Engine(reason) => Some(reason),
            Self::Config(e) => Some(e),
        }
    }
}

/// Something that happened, in order with the transmits. `W` is the manager's ack waiter
/// (see [`crate::Manager`]), handed back in [`Event::Ack`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event<W = ()> {
    // ----- manager -----
    /// A connection is about to open and waits at the gate (only with
    /// [`crate::Manager::set_open_gate`]): change the engine options or auths, then call
    /// [`crate::Manager::proceed_open`] or [`crate::Manager::fail_open`].
    Prepare {
        /// 0 for a connection, n for the n-th reconnection attempt.
        attempt: u32,
    },
    /// The Engine.IO connection opened.
    Open,
    /// The Engine.IO connection closed.
    Close {
        /// Why.
        reason: DisconnectReason,
        /// Details, when there are any.
        description: Option<String>,
        /// Whether the client said goodbye to a server that may still be listening (the
        /// client closed, or the server broke the Engine.IO protocol: see
        /// [`engineio_proto::CloseReason::says_goodbye`]): the `1` POST or the WebSocket close
        /// handshake may still be on its way, so an adapter lets this connection's requests
        /// and WebSockets finish (for a grace period) instead of dropping them.
        goodbye: bool,
    },
    /// Opening the connection failed.
    Error(ManagerError),
    /// The server pinged.
    Ping,
    /// The connection moved to another transport.
    Upgrade(TransportKind),
    /// Whether a WebSocket worked; kept by the manager for `remember_upgrade`, and reported so
    /// an adapter can keep it across managers like the reference's process-wide flag.
    RememberUpgrade(bool),
    /// A reconnection attempt starts now (1 for the first). Change auth or query here: the
    /// attempt opens the connection on the next [`crate::Manager::handle_timeout`].
    ReconnectAttempt(u32),
    /// Reconnected after this many attempts.
    Reconnect(u32),
    /// A reconnection attempt failed.
    ReconnectError(ManagerError),
    /// `reconnection_attempts` were all used; the manager stays closed.
    ReconnectFailed,

    // ----- namespace sockets -----
    /// The namespace is connected.
    Connect {
        /// The namespace.
        nsp: SmolStr,
        /// The socket id the server assigned (not the Engine.IO sid).
        sid: String,
        /// Whether the server restored the previous session (connection state recovery).
        recovered: bool,
    },
    /// The namespace could not connect.
    ConnectError {
        /// The namespace.
        nsp: SmolStr,
        /// Why.
        error: ConnectError,
    },
    /// The namespace disconnected.
    Disconnect {
        /// The namespace.
        nsp: SmolStr,
        /// Why.
        reason: DisconnectReason,
    },
    /// An event from the server.
    Message {
        /// The namespace.
        nsp: SmolStr,
        /// `[event name, args...]`; the recovery offset, when there is one, is removed.
        payload: Payload,
        /// Set when the server asked for an ack: answer with
        /// [`crate::SocketMut::ack`] and this id.
        ack: Option<u64>,
        /// The connection-state-recovery offset the server appended, when recovery is on.
        offset: Option<String>,
    },
    /// The result of an emit that asked for an ack.
    Ack {
        /// The namespace.
        nsp: SmolStr,
        /// The emit.
        emit: EmitId,
        /// Whoever waits for the ack, as given to the emit (`()` from
        /// [`crate::SocketMut::emit`] on a manager without waiters).
        waiter: W,
        /// The server's ack arguments, or why they did not come.
        result: Result<Payload, AckError>,
    },
    /// An event was written (the reference's `onAnyOutgoing`; reported only when enabled
    /// with [`crate::Manager::set_report_outgoing`]).
    Outgoing {
        /// The namespace.
        nsp: SmolStr,
        /// `[event name, args...]`.
        payload: Payload,
    },
}

/// The next thing for the adapter or the layer above, drained by
/// [`crate::Manager::poll_output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output<W = ()> {
    /// An IO action for the adapter (transport ids are unique across reconnections).
    Transmit(engineio_proto::Transmit),
    /// Something that happened.
    Event(Event<W>),
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn a_pointer_sized_waiter_does_not_grow_the_event() {
        // Events are moved through the output queue and the adapters' channels: the waiter a
        // driver keeps (a oneshot sender, one pointer) must fit in what `Message` needs anyway.
        assert_eq!(
            std::mem::size_of::<Event<Option<Box<u8>>>>(),
            std::mem::size_of::<Event>()
        );
    }
}
