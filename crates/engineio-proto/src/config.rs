//! The engine's options, with socket.io-client's names and defaults, validated once.

use std::fmt;
use std::time::Duration;

use url::Url;

/// A way to carry Engine.IO packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling: one GET and one POST in flight at most.
    Polling,
    /// One WebSocket, one packet per frame.
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter and the `upgrades` list.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Polling => "polling",
            Self::WebSocket => "websocket",
        }
    }

    /// The transport of a protocol name, if this client implements it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "polling" => Some(Self::Polling),
            "websocket" => Some(Self::WebSocket),
            _ => None,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which Engine.IO protocol revision a client speaks.
///
/// [`EngineProtocol::Detect`] asks in v4 (`EIO=4`) and speaks v3 when the answer is v3:
///
/// - Over polling the first response decides, unambiguously: a v4 handshake body starts with
///   `0{`; a server that speaks only v3 (socket.io 2.x ignores `EIO`) answers with a v3
///   payload, `<length>:0{...}` (or a binary payload starting with byte 0 or 1). Anything else
///   is refused with [`crate::ProtocolViolation::WrongProtocol`].
/// - Over WebSocket both revisions send the same `0{...}` frame. v4 servers since socket.io
///   4.5 (engine.io 6.2) include `maxPayload`, which v3 never sends: with it the session is v4.
///   Without it the session starts as v3 and switches to v4 if the server sends a heartbeat
///   `2` (a v3 server never pings; a v4 server pings after `pingInterval`, counted from
///   before the client received the handshake, so before the client's first v3 ping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EngineProtocol {
    /// Engine.IO 3 (`EIO=3`): socket.io 2.x, or 3.x/4.x servers with `allowEIO3: true`.
    V3,
    /// Engine.IO 4 (`EIO=4`): socket.io 3.x and later. The default.
    #[default]
    V4,
    /// Ask for v4 and speak v3 when the server answers in v3 (see above).
    Detect,
}

impl EngineProtocol {
    /// The `EIO` query value sent: `3`, or `4` for v4 and detection.
    pub const fn eio(self) -> &'static str {
        match self {
            Self::V3 => "3",
            Self::V4 | Self::Detect => "4",
        }
    }
}

impl fmt::Display for EngineProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V3 => "Engine.IO 3",
            Self::V4 => "Engine.IO 4",
            Self::Detect => "Engine.IO 3 or 4",
        })
    }
}

impl std::str::FromStr for EngineProtocol {
    type Err = ConfigError;

    /// `3`, `4` or `detect` (also `auto`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "3" | "v3" | "eio3" => Ok(Self::V3),
            "4" | "v4" | "eio4" => Ok(Self::V4),
            "detect" | "auto" => Ok(Self::Detect),
            _ => Err(ConfigError::InvalidProtocolVersion(s.to_owned())),
        }
    }
}

/// Options of an Engine.IO client session. Start from [`Config::new`] and set fields.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The server: `http`, `https`, `ws` or `wss`, host and port. Its path and query are
    /// ignored here (see `path` and `query`).
    pub url: Url,
    /// The Engine.IO endpoint path. Default `/engine.io` (Socket.IO uses `/socket.io`).
    pub path: String,
    /// Whether the path ends with `/`. Default `true`.
    pub add_trailing_slash: bool,
    /// Query parameters sent on every request, before the protocol's own.
    pub query: Vec<(String, String)>,
    /// Transports in the order they are tried. Default polling, then WebSocket.
    pub transports: Vec<TransportKind>,
    /// Whether to probe the server's `upgrades` after opening over polling. Default `true`.
    pub upgrade: bool,
    /// Start over WebSocket when a WebSocket worked before (the adapter keeps that memory and
    /// passes it to [`crate::Client::new`]). Default `false`.
    pub remember_upgrade: bool,
    /// When opening fails, try the next transport instead of failing. Default `false`.
    pub try_all_transports: bool,
    /// Add a random cache-busting parameter. `None` (the default) means the reference's
    /// behaviour: on every polling request, never on the WebSocket.
    pub timestamp_requests: Option<bool>,
    /// The name of the cache-busting parameter. Default `t`.
    pub timestamp_param: String,
    /// Send binary as base64 text, and tell the server with `b64=1`. Default `false`.
    pub force_base64: bool,
    /// Headers added to every polling request and to the WebSocket handshake.
    pub extra_headers: Vec<(String, String)>,
    /// Keep the cookies the server sets and send them back (sticky sessions). Default `false`.
    pub with_credentials: bool,
    /// WebSocket sub-protocols to offer.
    pub protocols: Vec<String>,
    /// How long an upgrade probe may take before the session stays on polling. The reference
    /// has no client timer; the server gives up after its `upgradeTimeout` (10 s), so this
    /// defaults to the same.
    pub probe_timeout: Duration,
    /// The Engine.IO revision to speak: 3, 4 (the default) or detected. See
    /// [`EngineProtocol`].
    pub protocol: EngineProtocol,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Query values, headers and the URL's user and password may hold tokens: show only
        // names.
        let names = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().map(|(k, _)| k.clone()).collect()
        };
        f.debug_struct("Config")
            .field("url", &crate::redact::display_url(&self.url))
            .field("path", &self.path)
            .field("add_trailing_slash", &self.add_trailing_slash)
            .field("query", &names(&self.query))
            .field("transports", &self.transports)
            .field("upgrade", &self.upgrade)
            .field("remember_upgrade", &self.remember_upgrade)
            .field("try_all_transports", &self.try_all_transports)
            .field("timestamp_requests", &self.timestamp_requests)
            .field("timestamp_param", &self.timestamp_param)
            .field("force_base64", &self.force_base64)
            .field("extra_headers", &names(&self.extra_headers))
            .field("with_credentials", &self.with_credentials)
            .field("protocols", &self.protocols)
            .field("probe_timeout", &self.probe_timeout)
            .field("protocol", &self.protocol)
            .finish()
    }
}

impl Config {
    /// Options for the server at `url` with the reference's defaults.
    ///
    /// The URL needs a scheme (`http`, `https`, `ws`, `wss`) and a host.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        Self::from_url(parse_server_url(url)?)
    }

    /// [`Config::new`] for a URL parsed already (with [`parse_server_url`]): parsing a URL
    /// is a large part of what starting a connection costs (the host goes through IDNA
    /// mapping), so a caller that holds one need not have it parsed again.
    pub fn from_url(url: Url) -> Result<Self, ConfigError> {
        check_scheme(&url)?;
        Ok(Self {
            url,
            path: "/engine.io".into(),
            add_trailing_slash: true,
            query: Vec::new(),
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            upgrade: true,
            remember_upgrade: false,
            try_all_transports: false,
            timestamp_requests: None,
            timestamp_param: "t".into(),
            force_base64: false,
            extra_headers: Vec::new(),
            with_credentials: false,
            protocols: Vec::new(),
            probe_timeout: Duration::from_secs(10),
            protocol: EngineProtocol::V4,
        })
    }

    /// Checks the options for values that make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_scheme(&self.url)?;
        if self.transports.is_empty() {
            return Err(ConfigError::NoTransports);
        }
        for (name, value) in &self.extra_headers {
            check_header(name, value)?;
        }
        if self.timestamp_param.is_empty() {
            return Err(ConfigError::EmptyTimestampParam);
        }
        for p in &self.protocols {
            if p.is_empty() || p.bytes().any(|b| !b.is_ascii_graphic() || b == b',') {
                return Err(ConfigError::InvalidProtocol(p.clone()));
            }
        }
        Ok(())
    }

    /// Whether the URL asks for TLS (`https` or `wss`).
    pub fn secure(&self) -> bool {
        matches!(self.url.scheme(), "https" | "wss")
    }
}

/// Parses a server URL, requiring an explicit scheme and a host.
pub fn parse_server_url(url: &str) -> Result<Url, ConfigError> {
    let parsed = Url::parse(url).map_err(|e| match e {
        url::ParseError::RelativeUrlWithoutBase => ConfigError::MissingScheme(url.to_owned()),
        source => ConfigError::InvalidUrl {
            url: url.to_owned(),
            source,
        },
    })?;
    let supported = matches!(parsed.scheme(), "http" | "https" | "ws" | "wss");
    if !supported && !url.contains("://") {
        // `localhost:3000` parses as scheme "localhost" with path "3000": what is missing is
        // the scheme, so say that rather than "unsupported scheme localhost".
        return Err(ConfigError::MissingScheme(url.to_owned()));
    }
    check_scheme(&parsed)?;
    Ok(parsed)
}

fn check_scheme(url: &Url) -> Result<(), ConfigError> {
    if !matches!(url.scheme(), "http" | "https" | "ws" | "wss") {
        return Err(ConfigError::UnsupportedScheme(url.as_str().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError::NoHost(url.as_str().to_owned()));
    }
    Ok(())
}

/// Checks a header name and value: a token name, and no CR, LF or NUL in the value.
pub fn check_header(name: &str, value: &str) -> Result<(), ConfigError> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(ConfigError::InvalidHeaderName(name.to_owned()));
    }
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(ConfigError::InvalidHeaderValue(name.to_owned()));
    }
    Ok(())
}

/// An option value that cannot work. The caller's mistake: fix the option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL has no scheme; write `http://host:port` (or https, ws, wss).
    MissingScheme(String),
    /// The scheme is not http, https, ws or wss.
    UnsupportedScheme(String),
    /// The URL does not parse.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What the URL parser said.
        source: url::ParseError,
    },
    /// The URL parses but names no host (e.g. `http:/path`).
    NoHost(String),
    /// `transports` is empty.
    NoTransports,
    /// A header name that is not an HTTP token.
    InvalidHeaderName(String),
    /// A header value with CR, LF or NUL (it would split the request); carries the name only.
    InvalidHeaderValue(String),
    /// `timestamp_param` is empty.
    EmptyTimestampParam,
    /// A WebSocket sub-protocol that is not a token.
    InvalidProtocol(String),
    /// An Engine.IO protocol revision that is not `3`, `4` or `detect`.
    InvalidProtocolVersion(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingScheme(u) => write!(
                f,
                "the URL {u:?} has no scheme: write it as http://host:port (or https, ws, wss)"
            ),
            Self::UnsupportedScheme(u) => {
                write!(f, "the URL {u:?} must use http, https, ws or wss")
            }
            Self::InvalidUrl { url, source } => write!(f, "invalid server URL {url:?}: {source}"),
            Self::NoHost(u) => write!(f, "the server URL {u:?} has no host"),
            Self::NoTransports => f.write_str("`transports` is empty: allow polling or websocket"),
            Self::InvalidHeaderName(n) => write!(f, "the header name {n:?} is not a valid token"),
            Self::InvalidHeaderValue(n) => write!(
                f,
                "the value of header {n:?} contains CR, LF or NUL, which would split the request"
            ),
            Self::EmptyTimestampParam => f.write_str("`timestamp_param` must not be empty"),
            Self::InvalidProtocol(p) => {
                write!(f, "the WebSocket sub-protocol {p:?} is not a valid token")
            }
            Self::InvalidProtocolVersion(p) => {
                write!(f, "the Engine.IO protocol {p:?} is not 3, 4 or detect")
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidUrl { source, .. } => Some(source),
            _ => None,
        }
    }
}
