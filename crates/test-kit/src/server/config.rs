//! The fake server's options and scripted refusals.

use std::time::Duration;

use engineio_proto::TransportKind;

use crate::wire::Method;

/// How the fake server behaves. Defaults are the Node `engine.io` server's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The endpoint path, exactly as requests must use it. Default `/engine.io/`.
    pub path: String,
    /// `pingInterval`. Default 25 s.
    pub ping_interval: Duration,
    /// `pingTimeout`. Default 20 s.
    pub ping_timeout: Duration,
    /// `maxHttpBufferSize`, announced as `maxPayload`. Default 1 000 000.
    pub max_payload: u64,
    /// Transports the server accepts. Default polling and WebSocket.
    pub transports: Vec<TransportKind>,
    /// Whether polling sessions are offered the upgrade to WebSocket. Default true.
    pub allow_upgrades: bool,
    /// How long a probe WebSocket may take to send `5`. Default 10 s.
    pub upgrade_timeout: Duration,
    /// How often a parked GET is released with a noop during an upgrade. Default 100 ms.
    pub noop_interval: Duration,
    /// Session ids to hand out, in order; generated (20 characters, seeded) once used up.
    pub sids: Vec<String>,
    /// Cookies set on the handshake response (`Set-Cookie` values).
    pub handshake_cookies: Vec<String>,
    /// How the server answers `2probe`. Default: `3probe`, like the reference.
    pub probe: ProbeBehavior,
    /// Panic at the first client violation, with the transcript. Default true; turn it off
    /// for tests that provoke violations on purpose and inspect them.
    pub strict: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            path: "/engine.io/".into(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            allow_upgrades: true,
            upgrade_timeout: Duration::from_secs(10),
            noop_interval: Duration::from_millis(100),
            sids: Vec::new(),
            handshake_cookies: Vec::new(),
            probe: ProbeBehavior::Answer,
            strict: true,
        }
    }
}

impl ServerConfig {
    /// The defaults with the given heartbeat.
    pub fn with_heartbeat(mut self, ping_interval_ms: u64, ping_timeout_ms: u64) -> Self {
        self.ping_interval = Duration::from_millis(ping_interval_ms);
        self.ping_timeout = Duration::from_millis(ping_timeout_ms);
        self
    }

    /// Sets `maxPayload`.
    pub fn with_max_payload(mut self, max_payload: u64) -> Self {
        self.max_payload = max_payload;
        self
    }

    /// Sets the path.
    pub fn with_path(mut self, path: &str) -> Self {
        self.path = path.into();
        self
    }

    /// Sets the session ids to hand out.
    pub fn with_sids<S: Into<String>>(mut self, sids: impl IntoIterator<Item = S>) -> Self {
        self.sids = sids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the accepted transports.
    pub fn with_transports(mut self, transports: &[TransportKind]) -> Self {
        self.transports = transports.to_vec();
        self
    }

    /// Sets whether upgrades are offered.
    pub fn with_upgrades(mut self, allow: bool) -> Self {
        self.allow_upgrades = allow;
        self
    }

    /// Sets how probes are answered.
    pub fn with_probe(mut self, probe: ProbeBehavior) -> Self {
        self.probe = probe;
        self
    }

    /// Sets strict mode.
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

/// How the server treats an upgrade probe, to test the client's failure paths.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProbeBehavior {
    /// `3probe`, then noops into the parked GET until `5`.
    Answer,
    /// No answer at all (the client's probe timeout fires).
    Ignore,
    /// This text frame instead of `3probe` (the client's "probe error").
    Reply(String),
}

/// Which requests a [`Refusal`] applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestMatch {
    /// Every request and WebSocket handshake.
    Any,
    /// Requests and WebSocket handshakes without a sid (new sessions).
    Handshake,
    /// Requests and WebSocket handshakes on this transport.
    Transport(TransportKind),
    /// Polling requests with this method.
    Method(Method),
}

/// A scripted refusal: matching requests get `status` with `body` instead of being served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Which requests.
    pub matches: RequestMatch,
    /// The HTTP status.
    pub status: u16,
    /// The body, e.g. `{"code":4,"message":"Forbidden"}`.
    pub body: String,
    /// How many requests to refuse; `None` for all of them.
    pub times: Option<u32>,
}

impl Refusal {
    /// Refuses matching requests with the server's error JSON `{"code":..,"message":..}`.
    pub fn error(matches: RequestMatch, status: u16, code: i64, message: &str) -> Self {
        Self {
            matches,
            status,
            body: error_body(code, message),
            times: None,
        }
    }

    /// Refuses only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// The server's error JSON.
pub fn error_body(code: i64, message: &str) -> String {
    serde_json::json!({ "code": code, "message": message }).to_string()
}
