//! When the driver gives back the room its queues grew (the manager's and the engine's output
//! queues, the read-ahead) as it goes to sleep.
//!
//! An idle connection should hold only what its state needs (docs/benchmarks.md, idle memory
//! per connection), but a connection that sleeps between bursts must not give its queues back
//! at every sleep: a long-polling stream sleeps once per GET, and each GET's payload (thousands
//! of packets) grew the three queues again from nothing, into memory the allocator had just
//! returned to the kernel, so every page was faulted in again (1M events over polling from the
//! bench's replay server: 52,000 page faults where the same run before the shrink had 8,000,
//! and seven times the system time, at the same instruction count).
//!
//! So room a burst grew is kept while bursts come, and given back at the first sleep a while
//! after the last one; what a quiet wake grew (a few entries, which the allocator recycles
//! without the kernel) is given back at every sleep, as an idle connection's first events are.

use std::time::Duration;
use web_time::Instant;

/// Entries one queue held at once above which a wake was a burst. 64 outputs of about 264
/// bytes are some 17 KiB: below it the allocator serves and takes back the room from its own
/// free lists; far above it (a polling payload of 4,096 packets is 1 MiB per queue) the room
/// comes from, and goes back to, the kernel.
const BURST: usize = 64;

/// How long the room of a burst is kept after it: bursts closer together than this (a
/// polling stream's GETs, a server that sends in batches) reuse the same room.
const KEEP_AFTER_BURST: Duration = Duration::from_secs(1);

/// The driver's record of how full its queues have been.
#[derive(Debug, Default)]
pub(super) struct Room {
    /// The most entries a queue held at once since the driver last went to sleep.
    peak: usize,
    /// When the driver last went to sleep after a burst, while its room is kept.
    last_burst: Option<Instant>,
}

impl Room {
    /// A queue holds `entries` now.
    pub(super) fn saw(&mut self, entries: usize) {
        self.peak = self.peak.max(entries);
    }

    /// The driver goes to sleep at `now`: whether to give back its queues' room.
    pub(super) fn sleep(&mut self, now: Instant) -> bool {
        if std::mem::take(&mut self.peak) > BURST {
            self.last_burst = Some(now);
        }
        match self.last_burst {
            Some(at) if now.saturating_duration_since(at) < KEEP_AFTER_BURST => false,
            _ => {
                self.last_burst = None;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_wakes_give_back_at_every_sleep() {
        let start = Instant::now();
        let mut room = Room::default();
        assert!(room.sleep(start), "nothing grew");
        room.saw(3);
        room.saw(BURST);
        assert!(
            room.sleep(start),
            "a connection's first events are no burst"
        );
    }

    #[test]
    fn bursts_keep_their_room_until_a_sleep_after_the_last() {
        let start = Instant::now();
        let mut room = Room::default();
        // A polling stream: a burst per GET, quiet wakes (parts of the next body) between.
        for i in 0..10u32 {
            let at = start + i * Duration::from_millis(300);
            room.saw(4096);
            assert!(!room.sleep(at), "burst {i}");
            assert!(
                !room.sleep(at + Duration::from_millis(100)),
                "between bursts {i}"
            );
        }
        let last = start + 9 * Duration::from_millis(300);
        assert!(!room.sleep(last + KEEP_AFTER_BURST - Duration::from_millis(1)));
        assert!(room.sleep(last + KEEP_AFTER_BURST), "the stream is over");
        // Given back once: the next quiet wake gives back what it grew, as any other.
        room.saw(2);
        assert!(room.sleep(last + KEEP_AFTER_BURST + Duration::from_millis(1)));
    }

    #[test]
    fn time_going_backwards_keeps_the_room() {
        let start = Instant::now() + Duration::from_secs(10);
        let mut room = Room::default();
        room.saw(BURST + 1);
        assert!(!room.sleep(start));
        assert!(!room.sleep(start - Duration::from_secs(5)));
        assert!(room.sleep(start + KEEP_AFTER_BURST));
    }
}
