//! The manager's own timers in one table; ack deadlines live in an ordered set beside it and
//! the engine's deadline is folded in by [`crate::Manager::poll_timeout`].

use web_time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The engine did not open within `timeout`.
    Connect = 0,
    /// The backoff delay before a reconnection attempt is over.
    Reconnect = 1,
    /// Open the attempt's engine, one step after announcing it.
    ReconnectOpen = 2,
}

const COUNT: usize = 3;

#[derive(Debug, Default, Clone)]
pub(crate) struct Timers([Option<Instant>; COUNT]);

impl Timers {
    pub(crate) fn set(&mut self, timer: Timer, at: Option<Instant>) {
        self.0[timer as usize] = at;
    }

    pub(crate) fn take_due(&mut self, timer: Timer, now: Instant) -> bool {
        let slot = &mut self.0[timer as usize];
        if slot.is_some_and(|at| at <= now) {
            *slot = None;
            true
        } else {
            false
        }
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
}
