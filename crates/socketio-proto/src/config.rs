//! Manager and socket options, with socket.io-client's names and defaults, validated once.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::codec::{JsonParser, Limits, Parser};

/// Options of a [`crate::Manager`]: the engine's, plus reconnection and the parser.
#[derive(Clone)]
#[non_exhaustive]
pub struct ManagerConfig {
    /// The Engine.IO options (URL, path, transports, query, headers, ...). The path defaults
    /// to `/socket.io` here.
    pub engine: engineio_proto::Config,
    /// Reconnect after a lost connection. Default `true`.
    pub reconnection: bool,
    /// How many reconnection attempts before giving up; `None` (the default) never gives up.
    pub reconnection_attempts: Option<u32>,
    /// The first reconnection delay, doubled at each attempt. Default 1 s.
    pub reconnection_delay: Duration,
    /// The largest reconnection delay. Default 5 s.
    pub reconnection_delay_max: Duration,
    /// Jitter, from 0 (none) to 1: each delay moves by up to this fraction. Default 0.5.
    pub randomization_factor: f64,
    /// How long an Engine.IO connection may take to open; `None` waits forever. Default 20 s.
    pub timeout: Option<Duration>,
    /// Bounds on received packets: nesting depth, attachment count and attachment bytes.
    pub limits: Limits,
    /// The packet encoding. Default: the JSON parser.
    pub parser: Arc<dyn Parser>,
}

impl fmt::Debug for ManagerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerConfig")
            .field("engine", &self.engine)
            .field("reconnection", &self.reconnection)
            .field("reconnection_attempts", &self.reconnection_attempts)
            .field("reconnection_delay", &self.reconnection_delay)
            .field("reconnection_delay_max", &self.reconnection_delay_max)
            .field("randomization_factor", &self.randomization_factor)
            .field("timeout", &self.timeout)
            .field("limits", &self.limits)
            .field("parser", &self.parser)
            .finish()
    }
}

impl ManagerConfig {
    /// Options for the server at `url` with the reference's defaults.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        let mut engine = engineio_proto::Config::new(url)?;
        engine.path = "/socket.io".into();
        Ok(Self::from_engine(engine))
    }

    /// Options around engine options the caller already built.
    pub fn from_engine(engine: engineio_proto::Config) -> Self {
        Self {
            engine,
            reconnection: true,
            reconnection_attempts: None,
            reconnection_delay: Duration::from_millis(1000),
            reconnection_delay_max: Duration::from_millis(5000),
            randomization_factor: 0.5,
            timeout: Some(Duration::from_millis(20_000)),
            limits: Limits::default(),
            parser: Arc::new(JsonParser),
        }
    }

    /// Checks the options for values that make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.engine.validate()?;
        if self.reconnection_delay_max < self.reconnection_delay {
            return Err(ConfigError::DelayMaxBelowDelay {
                delay: self.reconnection_delay,
                max: self.reconnection_delay_max,
            });
        }
        if !(0.0..=1.0).contains(&self.randomization_factor) {
            return Err(ConfigError::RandomizationFactor(self.randomization_factor));
        }
        if self.timeout == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroTimeout);
        }
        Ok(())
    }
}

/// Options of one namespace socket.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SocketConfig {
    /// The default ack timeout for emits that ask for an ack.
    pub ack_timeout: Option<Duration>,
    /// Resend an unacknowledged emit up to this many times (at-least-once delivery, one emit in
    /// flight at a time). Needs `ack_timeout`: without a deadline a lost emit would wait forever.
    pub retries: Option<u32>,
}

impl SocketConfig {
    /// Checks the options for values that make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.retries.is_some_and(|r| r > 0) && self.ack_timeout.is_none() {
            return Err(ConfigError::RetriesWithoutAckTimeout);
        }
        if self.ack_timeout == Some(Duration::ZERO) {
            return Err(ConfigError::ZeroAckTimeout);
        }
        Ok(())
    }
}

/// An option value that cannot work. The caller's mistake: fix the option.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// An Engine.IO option is invalid.
    Engine(engineio_proto::ConfigError),
    /// `reconnection_delay_max` is below `reconnection_delay`.
    DelayMaxBelowDelay {
        /// `reconnection_delay`.
        delay: Duration,
        /// `reconnection_delay_max`.
        max: Duration,
    },
    /// `randomization_factor` outside 0..=1.
    RandomizationFactor(f64),
    /// A connect `timeout` of zero: use `None` to wait forever.
    ZeroTimeout,
    /// `retries` without `ack_timeout`.
    RetriesWithoutAckTimeout,
    /// An `ack_timeout` of zero.
    ZeroAckTimeout,
    /// A namespace that does not start with `/`.
    InvalidNamespace(String),
    /// `auth` that is not a JSON object, or that holds binary.
    InvalidAuth,
    /// `auth` with the engine protocol set to 3: the socket.io 2.x protocol has no CONNECT
    /// payload; use the query.
    AuthUnsupported,
}

impl From<engineio_proto::ConfigError> for ConfigError {
    fn from(e: engineio_proto::ConfigError) -> Self {
        Self::Engine(e)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Engine(e) => e.fmt(f),
            Self::DelayMaxBelowDelay { delay, max } => write!(
                f,
                "reconnection_delay_max ({max:?}) is below reconnection_delay ({delay:?}): raise the maximum"
            ),
            Self::RandomizationFactor(v) => {
                write!(f, "randomization_factor must be between 0 and 1, not {v}")
            }
            Self::ZeroTimeout => f.write_str("a connect timeout of zero can never succeed: use None to wait forever"),
            Self::RetriesWithoutAckTimeout => f.write_str(
                "retries needs ack_timeout: without a deadline an unacknowledged emit is never retried",
            ),
            Self::ZeroAckTimeout => f.write_str("an ack timeout of zero can never succeed"),
            Self::InvalidNamespace(n) => write!(f, "the namespace {n:?} must start with '/'"),
            Self::InvalidAuth => f.write_str("auth must be a JSON object without binary data"),
            Self::AuthUnsupported => f.write_str(
                "auth cannot be sent with protocol 3 (socket.io 2.x has no CONNECT payload): use the query",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}
