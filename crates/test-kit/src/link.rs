//! The network between client and server: seeded latency, random connection resets, and cuts.
//!
//! The model, per transmission (an HTTP request or response, a WebSocket handshake, frame or
//! close):
//!
//! - it takes a latency drawn uniformly from `latency`;
//! - with probability `loss` the connection carrying it is reset: the transmission is not
//!   delivered, and both ends learn of the failure (an HTTP request fails, a WebSocket closes
//!   with an error) one latency later;
//! - during a cut it vanishes silently: nobody is told, like a network that black-holes
//!   packets, so only timeouts (the heartbeat) can notice.
//!
//! HTTP requests travel on separate connections and may overtake each other; the frames of one
//! WebSocket, each way, arrive in the order they were sent.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use crate::rng::SimRng;

/// How the link behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// The smallest one-way latency.
    pub min_latency: Duration,
    /// The largest one-way latency.
    pub max_latency: Duration,
    /// The probability that a transmission resets its connection.
    pub loss: f64,
    /// Windows of simulated time (since the start) during which everything sent vanishes.
    pub cuts: Vec<Range<Duration>>,
}

impl LinkConfig {
    /// Zero latency, no loss, no cut.
    pub fn ideal() -> Self {
        Self::fixed(Duration::ZERO)
    }

    /// The same latency for every transmission.
    pub fn fixed(latency: Duration) -> Self {
        Self::jitter(latency, latency)
    }

    /// A latency drawn from `min..=max` for every transmission.
    pub fn jitter(min: Duration, max: Duration) -> Self {
        Self {
            min_latency: min,
            max_latency: max.max(min),
            loss: 0.0,
            cuts: Vec::new(),
        }
    }

    /// Sets the reset probability.
    pub fn with_loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// Adds a cut from `from` to `until` (simulated time since the start).
    pub fn with_cut(mut self, from: Duration, until: Duration) -> Self {
        self.cuts.push(from..until);
        self
    }
}

impl Default for LinkConfig {
    /// 1 to 5 ms of latency, no loss.
    fn default() -> Self {
        Self::jitter(Duration::from_millis(1), Duration::from_millis(5))
    }
}

/// What the link does with one transmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered at this time (since the start).
    Deliver(Duration),
    /// The connection resets; both ends hear of it at this time.
    Reset(Duration),
    /// Vanishes (a cut).
    Vanish,
}

/// A path whose transmissions keep their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// An HTTP exchange: its own connection, no ordering with anything else.
    Http,
    /// One direction of one WebSocket: FIFO.
    Ordered {
        /// The connection.
        conn: u64,
        /// True for client to server.
        upstream: bool,
    },
}

/// The seeded link.
#[derive(Debug, Clone)]
pub struct Link {
    config: LinkConfig,
    rng: SimRng,
    /// The last delivery time of each ordered lane, so later frames never overtake.
    last: BTreeMap<Lane, Duration>,
}

impl Link {
    /// A link drawing from `rng`.
    pub fn new(config: LinkConfig, rng: SimRng) -> Self {
        Self {
            config,
            rng,
            last: BTreeMap::new(),
        }
    }

    /// The link's configuration.
    pub fn config(&self) -> &LinkConfig {
        &self.config
    }

    /// Replaces the configuration (e.g. to start a cut now).
    pub fn set_config(&mut self, config: LinkConfig) {
        self.config = config;
    }

    /// Whether `at` falls in a cut.
    pub fn is_cut(&self, at: Duration) -> bool {
        self.config.cuts.iter().any(|c| c.contains(&at))
    }

    /// Decides the fate of a transmission sent at `now` on `lane`.
    pub fn send(&mut self, now: Duration, lane: Lane) -> Fate {
        if self.is_cut(now) {
            return Fate::Vanish;
        }
        let min = self.config.min_latency.as_micros() as u64;
        let max = self.config.max_latency.as_micros() as u64;
        let latency = Duration::from_micros(self.rng.between(min, max));
        let mut at = now + latency;
        if lane != Lane::Http {
            let last = self.last.entry(lane).or_default();
            at = at.max(*last);
            *last = at;
        }
        if self.rng.chance(self.config.loss) {
            Fate::Reset(at)
        } else {
            Fate::Deliver(at)
        }
    }
}
