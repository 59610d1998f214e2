//! Virtual time: an origin `Instant` plus a duration that only the simulation moves.

use std::time::{Duration, Instant, SystemTime};

/// The wall-clock time the simulation starts at (2025-01-01T00:00:00Z), for `Date` headers and
/// cookie `Expires` dates. Fixed so transcripts do not depend on when the test runs.
pub const WALL_ORIGIN_UNIX_SECS: u64 = 1_735_689_600;

/// Simulated time. `Instant`s handed to the sans-IO machines are `origin + elapsed`; the
/// origin is read once from the real clock (an `Instant` cannot be built otherwise) and only
/// differences from it matter, so runs are reproducible.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    origin: Instant,
    elapsed: Duration,
}

impl VirtualClock {
    /// A clock at elapsed zero.
    pub fn new() -> Self {
        Self::with_origin(Instant::now())
    }

    /// A clock at elapsed zero whose zero is `origin`.
    pub fn with_origin(origin: Instant) -> Self {
        Self {
            origin,
            elapsed: Duration::ZERO,
        }
    }

    /// The instant that stands for elapsed zero.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// The current instant.
    pub fn now(&self) -> Instant {
        self.origin + self.elapsed
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Time since the start at `at` (zero for instants before the origin).
    pub fn since_origin(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.origin)
    }

    /// Moves the clock to `at`; never backwards.
    pub fn advance_to(&mut self, at: Instant) {
        self.elapsed = self.elapsed.max(self.since_origin(at));
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&mut self, by: Duration) {
        self.elapsed += by;
    }

    /// The simulated wall-clock time now.
    pub fn wall(&self) -> SystemTime {
        wall_at(self.elapsed)
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

/// The simulated wall-clock time `elapsed` after the start.
pub fn wall_at(elapsed: Duration) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(WALL_ORIGIN_UNIX_SECS) + elapsed
}

/// An HTTP `Date` header value for the simulated time `elapsed` after the start.
pub fn http_date_at(elapsed: Duration) -> String {
    httpdate::fmt_http_date(wall_at(elapsed))
}
