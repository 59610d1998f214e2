//! All of the engine's timers in one table, so the next deadline is one minimum.

use web_time::Instant;

/// The engine's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// No ping within pingInterval + pingTimeout: the session is dead.
    Heartbeat = 0,
    /// An upgrade probe that did not finish in time.
    Probe = 1,
    /// Engine.IO 3: the client's next heartbeat `2` (the client pings, the server answers).
    Ping = 2,
}

const COUNT: usize = 3;

#[derive(Debug, Default, Clone)]
pub(crate) struct Timers([Option<Instant>; COUNT]);

impl Timers {
    pub(crate) fn set(&mut self, timer: Timer, at: Option<Instant>) {
        self.0[timer as usize] = at;
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.0[timer as usize]
    }

    /// Clears `timer` and returns true if it was due at `now`.
    pub(crate) fn take_due(&mut self, timer: Timer, now: Instant) -> bool {
        if self.get(timer).is_some_and(|at| at <= now) {
            self.set(timer, None);
            true
        } else {
            false
        }
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// The earliest deadline but `skip`'s.
    pub(crate) fn next_except(&self, skip: Timer) -> Option<Instant> {
        self.0
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip as usize)
            .filter_map(|(_, at)| *at)
            .min()
    }

    pub(crate) fn clear(&mut self) {
        self.0 = [None; COUNT];
    }
}
