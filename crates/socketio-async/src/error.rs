//! The client's one error type.

use std::fmt;

pub use socketio_proto::{AckError, ConnectError, DisconnectReason};

/// What went wrong, by whose fault.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// An option is invalid: fix the option.
    Config(socketio_proto::ConfigError),
    /// The TLS options cannot be built (bad PEM, a wrong passphrase, an unknown cipher, an
    /// option whose Cargo feature is off): fix the option the variant names
    /// ([`TlsError::OsTrustStore`](crate::tls::TlsError::OsTrustStore) is the machine's).
    #[cfg(feature = "rustls")]
    Tls(crate::tls::TlsError),
    /// An emit the protocol forbids (a reserved event name).
    Emit(socketio_proto::EmitError),
    /// Arguments that could not be serialized (the caller's values).
    Encode(socketio_proto::codec::EncodeError),
    /// Received arguments that do not read as the type asked for (the caller's type and the
    /// peer's data disagree).
    Decode(socketio_proto::codec::PayloadError),
    /// The ack did not come: timeout, disconnect, or a dropped volatile emit.
    Ack(AckError),
    /// Answering the server's ack failed (already answered, or from a previous connection).
    AckReply(socketio_proto::AckReplyError),
    /// The socket's send buffer is full ([`crate::SendOverflow::Fail`]): the connection is
    /// offline or not keeping up with the caller. Emit later, await room with
    /// [`crate::Socket::emit_wait`], or bound the rate; the snapshot is the buffer as found.
    SendBufferFull(crate::SendBufferSnapshot),
    /// The client's background task is gone (the manager was dropped).
    Closed,
    /// Connecting failed: the namespace was refused, or the connection could not open.
    /// Reconnection (when on) keeps trying behind it. Boxed: it is the largest variant,
    /// and every `Result` of this crate would carry its size.
    Connect(Box<ConnectError>),
    /// Connecting took longer than the `timeout` option.
    ConnectTimeout,
    /// An option the runtime cannot honour (e.g. headers on a browser's WebSocket
    /// handshake): change the option; it is refused rather than silently ignored.
    Unsupported(crate::runtime::Unsupported),
    /// No async runtime to run the client on (e.g. `socketio_tokio::io` called outside a
    /// tokio runtime).
    NoRuntime,
}

impl From<socketio_proto::codec::EncodeError> for Error {
    fn from(e: socketio_proto::codec::EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<socketio_proto::codec::PayloadError> for Error {
    fn from(e: socketio_proto::codec::PayloadError) -> Self {
        Self::Decode(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "invalid option: {e}"),
            #[cfg(feature = "rustls")]
            Self::Tls(e) => write!(f, "TLS options: {e}"),
            Self::Emit(e) => e.fmt(f),
            Self::Encode(e) => write!(f, "arguments: {e}"),
            Self::Decode(e) => write!(f, "received arguments: {e}"),
            Self::Ack(e) => write!(f, "no ack: {e}"),
            Self::AckReply(e) => e.fmt(f),
            Self::SendBufferFull(s) => write!(
                f,
                "send buffer full ({} emits, {} bytes): the connection is not keeping up; \
                 emit later or await room with emit_wait",
                s.emits, s.bytes
            ),
            Self::Closed => f.write_str("the client has shut down: create a new one"),
            Self::Connect(e) => e.fmt(f),
            Self::ConnectTimeout => f.write_str("connecting timed out"),
            Self::NoRuntime => f.write_str("no async runtime: call this from within one"),
            Self::Unsupported(e) => write!(f, "unsupported option: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            #[cfg(feature = "rustls")]
            Self::Tls(e) => Some(e),
            Self::Emit(e) => Some(e),
            Self::Ack(e) => Some(e),
            Self::AckReply(e) => Some(e),
            Self::Connect(e) => Some(e.as_ref()),
            Self::Encode(e) => Some(e),
            Self::Decode(e) => Some(e),
            Self::Unsupported(e) => Some(e),
            Self::SendBufferFull(_) | Self::Closed | Self::ConnectTimeout | Self::NoRuntime => None,
        }
    }
}

impl From<socketio_proto::ConfigError> for Error {
    fn from(e: socketio_proto::ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<engineio_proto::ConfigError> for Error {
    fn from(e: engineio_proto::ConfigError) -> Self {
        Self::Config(e.into())
    }
}

impl From<socketio_proto::EmitError> for Error {
    fn from(e: socketio_proto::EmitError) -> Self {
        Self::Emit(e)
    }
}

impl From<crate::runtime::Unsupported> for Error {
    fn from(e: crate::runtime::Unsupported) -> Self {
        Self::Unsupported(e)
    }
}

impl From<AckError> for Error {
    fn from(e: AckError) -> Self {
        Self::Ack(e)
    }
}
