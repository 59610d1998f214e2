//! The server's open packet: `0{"sid":...,"upgrades":[...],"pingInterval":...}`.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::config::TransportKind;
use crate::error::{HandshakeError, ProtocolViolation};

/// The parameters the server announced in its open packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// The Engine.IO session id, sent back on every later request. Treat it as a secret: it
    /// lets its holder act as this session.
    pub sid: String,
    /// Transports the client may upgrade to (names as sent; unknown ones are kept).
    pub upgrades: Vec<String>,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long the server waits for a pong.
    pub ping_timeout: Duration,
    /// The server's largest accepted payload in bytes; `0` means no limit is known.
    pub max_payload: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    sid: String,
    #[serde(default)]
    upgrades: Vec<String>,
    #[serde(default = "default_ping_interval")]
    ping_interval: u64,
    #[serde(default = "default_ping_timeout")]
    ping_timeout: u64,
    #[serde(default)]
    max_payload: u64,
}

const fn default_ping_interval() -> u64 {
    25_000
}

const fn default_ping_timeout() -> u64 {
    20_000
}

impl Handshake {
    /// Parses the JSON of an open packet. Only `sid` is required; absent intervals take the
    /// server defaults (25 s / 20 s), as the reference's server would have sent them.
    pub fn parse(json: &[u8]) -> Result<Self, ProtocolViolation> {
        let raw: Raw = serde_json::from_slice(json)
            .map_err(|e| ProtocolViolation::InvalidHandshake(HandshakeError::Json(Arc::new(e))))?;
        if raw.sid.is_empty() {
            return Err(ProtocolViolation::InvalidHandshake(
                HandshakeError::EmptySid,
            ));
        }
        Ok(Self {
            sid: raw.sid,
            upgrades: raw.upgrades,
            ping_interval: Duration::from_millis(raw.ping_interval),
            ping_timeout: Duration::from_millis(raw.ping_timeout),
            max_payload: raw.max_payload,
        })
    }

    /// Whether the server offers an upgrade to `kind`.
    pub fn offers(&self, kind: TransportKind) -> bool {
        self.upgrades.iter().any(|u| u == kind.as_str())
    }

    /// How long the client waits for a ping before the session is dead: pingInterval +
    /// pingTimeout.
    pub fn heartbeat_window(&self) -> Duration {
        self.ping_interval.saturating_add(self.ping_timeout)
    }
}
