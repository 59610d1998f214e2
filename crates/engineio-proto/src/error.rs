//! Errors, typed by whose fault they are: the peer broke the protocol ([`DecodeError`],
//! [`TransportError::Protocol`]), the network or server failed ([`TransportError`]), the caller
//! misused the API ([`SendError`], [`crate::ConfigError`]), or the session ended ([`CloseReason`]).

use std::fmt;
use std::sync::Arc;

/// A packet or payload the server sent could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// An empty packet (an empty frame, body or payload record).
    Empty,
    /// The first character is not a packet type (`0`-`6`) nor `b`.
    UnknownType(u8),
    /// A `b` record whose base64 is invalid.
    InvalidBase64,
    /// Text that is not UTF-8.
    InvalidUtf8,
    /// A packet that carries data it must not (e.g. `2hello`).
    UnexpectedData,
    /// An Engine.IO 3 payload whose record length is missing, malformed, or does not end on a
    /// record boundary.
    InvalidLength,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty Engine.IO packet"),
            Self::UnknownType(c) => write!(f, "unknown Engine.IO packet type {:?}", char::from(*c)),
            Self::InvalidBase64 => f.write_str("invalid base64 in a binary Engine.IO packet"),
            Self::InvalidUtf8 => f.write_str("Engine.IO text that is not UTF-8"),
            Self::UnexpectedData => f.write_str("Engine.IO packet with unexpected data"),
            Self::InvalidLength => f.write_str("invalid record length in an Engine.IO 3 payload"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The `{"code":N,"message":...}` body an Engine.IO server sends with a refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    /// The server's error code: 0 transport unknown, 1 session ID unknown, 2 bad handshake
    /// method, 3 bad request, 4 forbidden, 5 unsupported protocol version.
    pub code: i64,
    /// The server's message.
    pub message: String,
}

impl ServerError {
    /// Parses an error body; `None` when it is not the server's error JSON.
    pub fn parse(body: &[u8]) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Raw {
            code: i64,
            message: Option<String>,
        }
        let raw: Raw = serde_json::from_slice(body).ok()?;
        Some(Self {
            code: raw.code,
            message: raw.message.unwrap_or_default(),
        })
    }
}

/// Which request of the polling transport failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PollRequest {
    /// The receiving GET ("xhr poll error" in the reference).
    Get,
    /// The sending POST ("xhr post error" in the reference).
    Post,
}

/// What kind of IO failure an adapter reported: the part to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IoErrorKind {
    /// The host name did not resolve.
    Dns,
    /// The TCP connection could not be made (refused, unreachable).
    Connect,
    /// The TLS handshake failed (an untrusted or expired certificate, no common protocol).
    Tls,
    /// The HTTP proxy refused or failed the `CONNECT` tunnel.
    Proxy,
    /// The operation did not finish in time.
    Timeout,
    /// The peer closed or reset the connection (for a WebSocket: without a close frame).
    Closed,
    /// A message or response body was larger than the configured limit.
    TooLarge,
    /// The server's answer was not usable HTTP, or not a WebSocket handshake.
    Protocol,
    /// Anything else the IO layer reported.
    Other,
}

impl IoErrorKind {
    /// A short name for logs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Proxy => "proxy",
            Self::Timeout => "timeout",
            Self::Closed => "closed",
            Self::TooLarge => "too large",
            Self::Protocol => "protocol",
            Self::Other => "io",
        }
    }

    /// The kind of an operating-system IO error, as the bundled adapters classify the errors
    /// their sockets report.
    ///
    /// `WouldBlock` is [`IoErrorKind::Other`] here: on a non-blocking socket it is no failure
    /// at all, and on a socket with a read or write timeout it is that timeout expiring (Unix
    /// reports an `SO_RCVTIMEO` so), which only the caller can know; a caller whose sockets
    /// have timeouts maps it to [`IoErrorKind::Timeout`] before asking.
    pub fn of(error: &std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        match error.kind() {
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                Self::Closed
            }
            K::TimedOut => Self::Timeout,
            K::ConnectionRefused
            | K::AddrNotAvailable
            | K::NetworkUnreachable
            | K::HostUnreachable
            | K::NetworkDown => Self::Connect,
            _ => {
                // The standard library's resolver reports a failed lookup as an uncategorised
                // error; its message is the only mark of it.
                let message = error.to_string();
                if message.contains("lookup") || message.contains("resolve") {
                    Self::Dns
                } else {
                    Self::Other
                }
            }
        }
    }
}

/// Why the IO layer could not complete an HTTP request or keep a WebSocket open, as an
/// adapter reports it in a [`crate::TransportEvent`]: a kind to branch on, the underlying
/// error's message (never a secret: adapters strip credentials from what they report), and,
/// where the adapter kept it, the underlying error itself as [`source`] (the bundled adapters
/// keep rustls's error for TLS failures: `downcast_ref::<rustls::Error>()` tells an unknown
/// issuer from a name mismatch).
///
/// Two `IoError`s are equal when their kind and message are; the source is not compared.
///
/// [`source`]: std::error::Error::source
#[derive(Debug, Clone)]
pub struct IoError {
    kind: IoErrorKind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl IoError {
    /// A failure of `kind`, described by `message`.
    pub fn new(kind: IoErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same failure, keeping the error that caused it as its [`source`].
    ///
    /// [`source`]: std::error::Error::source
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// What kind of failure.
    pub fn kind(&self) -> IoErrorKind {
        self.kind
    }

    /// The underlying error's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for IoError {}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Why a transport failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// An HTTP request answered with a status other than 200.
    HttpStatus {
        /// The request that failed.
        request: PollRequest,
        /// The HTTP status.
        status: u16,
        /// The server's error JSON, when the body held one.
        server_error: Option<ServerError>,
    },
    /// The adapter could not complete an HTTP request (connect, TLS, IO, timeout).
    Request {
        /// The request that failed.
        request: PollRequest,
        /// What the adapter reported.
        error: IoError,
    },
    /// The WebSocket failed (handshake refused, IO error, protocol error).
    WebSocket {
        /// What the adapter reported.
        error: IoError,
    },
    /// The server sent something the Engine.IO protocol does not allow.
    Protocol(ProtocolViolation),
}

/// What the server did wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A packet or payload did not decode.
    Decode(DecodeError),
    /// The open packet is not a valid handshake.
    InvalidHandshake(HandshakeError),
    /// The first packet of a session was not `open`.
    ExpectedOpen,
    /// An `open` packet arrived on a session that is already open.
    UnexpectedOpen,
    /// The server answered the handshake in another Engine.IO revision than the one asked
    /// for, or in none this client knows.
    WrongProtocol {
        /// What the client was configured to speak.
        requested: crate::EngineProtocol,
        /// What the server's answer was written in.
        answered: ServerProtocol,
    },
}

/// What a server's handshake answer was written in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerProtocol {
    /// Engine.IO 3: socket.io 2.x (or a later server with `allowEIO3`).
    EngineIo3,
    /// Engine.IO 4: socket.io 3.x and later.
    EngineIo4,
    /// Neither: the first bytes of the answer, printable and shortened.
    Unrecognized(String),
}

impl fmt::Display for ServerProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EngineIo3 => f.write_str("Engine.IO 3 (socket.io 2.x)"),
            Self::EngineIo4 => f.write_str("Engine.IO 4 (socket.io 3.x or later)"),
            Self::Unrecognized(head) => {
                write!(
                    f,
                    "no Engine.IO revision this client knows (it began {head:?})"
                )
            }
        }
    }
}

impl std::error::Error for ProtocolViolation {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            Self::InvalidHandshake(e) => Some(e),
            _ => None,
        }
    }
}

/// Why the server's `open` packet is not a valid handshake. The server's fault.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Not JSON, or JSON without the fields a handshake has (`sid`, `upgrades`,
    /// `pingInterval`, `pingTimeout`): serde_json's error, shared so that errors stay `Clone`.
    Json(Arc<serde_json::Error>),
    /// `sid` is the empty string.
    EmptySid,
}

/// Two JSON errors are equal when serde_json classifies them alike at the same place (its
/// error type has no equality of its own).
impl PartialEq for HandshakeError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Json(a), Self::Json(b)) => {
                (a.classify(), a.line(), a.column()) == (b.classify(), b.line(), b.column())
            }
            (Self::EmptySid, Self::EmptySid) => true,
            _ => false,
        }
    }
}

impl Eq for HandshakeError {}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(e) => e.fmt(f),
            Self::EmptySid => f.write_str("empty sid"),
        }
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Json(e) => Some(&**e),
            Self::EmptySid => None,
        }
    }
}

impl fmt::Display for ProtocolViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::InvalidHandshake(why) => write!(f, "invalid handshake: {why}"),
            Self::ExpectedOpen => f.write_str("the server's first packet was not a handshake"),
            Self::UnexpectedOpen => f.write_str("a second handshake on an open session"),
            Self::WrongProtocol {
                requested,
                answered,
            } => {
                write!(
                    f,
                    "the client speaks {requested} but the server answered in {answered}"
                )?;
                match (requested, answered) {
                    (crate::EngineProtocol::V4, ServerProtocol::EngineIo3) => {
                        f.write_str(": set the protocol option to 3 (or detect)")
                    }
                    (crate::EngineProtocol::V3, ServerProtocol::EngineIo4) => {
                        f.write_str(": set the protocol option to 4 (or detect)")
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HttpStatus {
                request,
                status,
                server_error,
            } => {
                write!(f, "{} (HTTP {status})", request_label(*request))?;
                if let Some(e) = server_error {
                    write!(f, ": server error {}: {}", e.code, e.message)?;
                }
                Ok(())
            }
            Self::Request { request, error } => write!(f, "{}: {error}", request_label(*request)),
            Self::WebSocket { error } => write!(f, "websocket error: {error}"),
            Self::Protocol(p) => write!(f, "protocol error from the server: {p}"),
        }
    }
}

fn request_label(request: PollRequest) -> &'static str {
    match request {
        PollRequest::Get => "xhr poll error",
        PollRequest::Post => "xhr post error",
    }
}

impl TransportError {
    /// The reference's short message for this failure, as socket.io-client's `connect_error`
    /// gives it: "xhr poll error", "xhr post error", "websocket error" or "parse error" (the
    /// details are in [`std::error::Error::source`] and [`fmt::Display`]).
    pub fn short_message(&self) -> &'static str {
        match self {
            Self::HttpStatus { request, .. } | Self::Request { request, .. } => {
                request_label(*request)
            }
            Self::WebSocket { .. } => "websocket error",
            Self::Protocol(_) => "parse error",
        }
    }

    /// What the IO layer reported, when the failure was one.
    pub fn io_error(&self) -> Option<&IoError> {
        match self {
            Self::Request { error, .. } | Self::WebSocket { error } => Some(error),
            _ => None,
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request { error, .. } | Self::WebSocket { error } => Some(error),
            Self::Protocol(p) => Some(p),
            Self::HttpStatus { .. } => None,
        }
    }
}

/// Why an Engine.IO session ended. Once closed, a client keeps reporting the same reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server or the network closed the transport (`"transport close"`).
    TransportClose {
        /// What closed it, e.g. "transport closed by the server".
        description: String,
    },
    /// The transport failed (`"transport error"`).
    TransportError(TransportError),
    /// No ping arrived within pingInterval + pingTimeout (`"ping timeout"`).
    PingTimeout,
    /// The caller closed the session (`"forced close"`).
    ForcedClose,
    /// The layer above could not parse a message (`"parse error"`); set through
    /// [`crate::Client::close_with`].
    ParseError {
        /// What failed to parse.
        description: String,
    },
}

impl CloseReason {
    /// The reference's reason string, as socket.io-client reports it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TransportClose { .. } => "transport close",
            Self::TransportError(_) => "transport error",
            Self::PingTimeout => "ping timeout",
            Self::ForcedClose => "forced close",
            Self::ParseError { .. } => "parse error",
        }
    }

    /// Whether a session that ends for this reason says goodbye to a server that may still
    /// be listening: on polling a `1` POST (when the transport is open), on WebSocket the
    /// close handshake. The transports that carry it should be given time to finish rather
    /// than dropped.
    ///
    /// As the reference, it tells the server when the client closes ("forced close", "parse
    /// error") and when the server broke the Engine.IO protocol (engine.io-client turns an
    /// undecodable packet into a "transport error" close, which closes the open polling
    /// transport with a `1`). Not when the server closed the session: nobody is left to
    /// tell. Nor when the transport failed or no ping came: the reference still writes its
    /// `1` then, but to a connection presumed broken; this client writes nothing more to it.
    pub fn says_goodbye(&self) -> bool {
        matches!(
            self,
            Self::ForcedClose
                | Self::ParseError { .. }
                | Self::TransportError(TransportError::Protocol(_))
        )
    }
}

impl std::error::Error for CloseReason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::TransportError(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TransportClose { description } => write!(f, "transport close: {description}"),
            Self::TransportError(e) => write!(f, "transport error: {e}"),
            Self::ParseError { description } => write!(f, "parse error: {description}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// A message could not be accepted for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closing or closed; the message was not taken. Carries the close reason
    /// when the session has closed.
    Closed(Option<CloseReason>),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed(Some(reason)) => write!(f, "the Engine.IO session is closed ({reason})"),
            Self::Closed(None) => f.write_str("the Engine.IO session is closing"),
        }
    }
}

impl std::error::Error for SendError {}

#[cfg(test)]
mod tests {
    use std::io;

    use super::IoErrorKind;

    #[test]
    fn io_errors_classify_by_kind_and_resolver_message() {
        let of = |e: io::Error| IoErrorKind::of(&e);
        assert_eq!(
            of(io::ErrorKind::ConnectionReset.into()),
            IoErrorKind::Closed
        );
        assert_eq!(of(io::ErrorKind::UnexpectedEof.into()), IoErrorKind::Closed);
        assert_eq!(of(io::ErrorKind::TimedOut.into()), IoErrorKind::Timeout);
        assert_eq!(
            of(io::ErrorKind::ConnectionRefused.into()),
            IoErrorKind::Connect
        );
        assert_eq!(
            of(io::Error::other("failed to lookup address information")),
            IoErrorKind::Dns
        );
        // Only the caller knows whether its socket has a timeout that this would be.
        assert_eq!(of(io::ErrorKind::WouldBlock.into()), IoErrorKind::Other);
    }
}
