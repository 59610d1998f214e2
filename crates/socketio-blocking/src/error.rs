//! The crate's one error type.

use std::fmt;
use std::sync::Arc;

pub use socketio_proto::codec::{EncodeError, PayloadError};
pub use socketio_proto::{AckError, ConfigError, ConnectError, EmitError};

/// What went wrong, by whose fault.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// An option or the URL is invalid: fix the option.
    Config(ConfigError),
    /// The TLS options cannot be built (bad PEM, wrong passphrase, unknown cipher...): fix
    /// the option the variant names ([`TlsError::OsTrustStore`](crate::TlsError::OsTrustStore)
    /// is the machine's).
    Tls(socketio_async::tls::TlsError),
    /// The namespace could not connect: the server refused it, or the connection could not
    /// be opened. Boxed: it is by far the largest variant, and every result carries its size.
    Connect(Box<ConnectError>),
    /// Connecting, or waiting for an ack, took longer than the timeout given.
    Timeout,
    /// The ack did not come: the socket disconnected, or a volatile emit was dropped (a
    /// timeout is [`Error::Timeout`]).
    Ack(AckError),
    /// An emit the protocol forbids (a reserved event name).
    Emit(EmitError),
    /// Arguments that could not be serialized.
    Encode(EncodeError),
    /// Received arguments that do not read as the type asked for.
    Payload(PayloadError),
    /// The client has shut down (after [`crate::Client::close`], or its IO thread failed).
    Closed,
    /// The operating system refused the readiness poller or its waker.
    Io(Arc<std::io::Error>),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "invalid option: {e}"),
            Self::Tls(e) => write!(f, "invalid TLS option: {e}"),
            Self::Connect(e) => e.fmt(f),
            Self::Timeout => f.write_str("operation has timed out"),
            Self::Ack(e) => write!(f, "no ack: {e}"),
            Self::Emit(e) => e.fmt(f),
            Self::Encode(e) => write!(f, "arguments: {e}"),
            Self::Payload(e) => write!(f, "received arguments: {e}"),
            Self::Closed => f.write_str("the client has shut down: connect a new one"),
            Self::Io(e) => write!(f, "readiness poller: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(e) => Some(e),
            Self::Tls(e) => Some(e),
            Self::Connect(e) => Some(&**e),
            Self::Ack(e) => Some(e),
            Self::Emit(e) => Some(e),
            Self::Encode(e) => Some(e),
            Self::Payload(e) => Some(e),
            Self::Io(e) => Some(&**e),
            Self::Timeout | Self::Closed => None,
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<engineio_proto::ConfigError> for Error {
    fn from(e: engineio_proto::ConfigError) -> Self {
        Self::Config(e.into())
    }
}

impl From<EmitError> for Error {
    fn from(e: EmitError) -> Self {
        Self::Emit(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Self::Encode(e)
    }
}

impl From<PayloadError> for Error {
    fn from(e: PayloadError) -> Self {
        Self::Payload(e)
    }
}

impl From<AckError> for Error {
    fn from(e: AckError) -> Self {
        match e {
            AckError::Timeout => Self::Timeout,
            e => Self::Ack(e),
        }
    }
}

impl From<ConnectError> for Error {
    fn from(e: ConnectError) -> Self {
        Self::Connect(Box::new(e))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(Arc::new(e))
    }
}

/// `socketio_async::Options`' checks fail only with option errors.
impl From<socketio_async::Error> for Error {
    fn from(e: socketio_async::Error) -> Self {
        match e {
            socketio_async::Error::Config(e) => Self::Config(e),
            socketio_async::Error::Emit(e) => Self::Emit(e),
            socketio_async::Error::Ack(e) => e.into(),
            _ => Self::Closed,
        }
    }
}
