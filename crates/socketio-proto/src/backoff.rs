//! Reconnection delays: the reference's Backoff formula, without its overflow.
//!
//! The reference computes `min * 2^attempts`, which becomes `Infinity` after about a thousand
//! failures; with jitter, `Infinity - Infinity` is `NaN` and `NaN | 0` is a zero delay, so a
//! long outage ends in a tight reconnect loop. Here the exponent is capped (the cap is far past
//! the point where `max` applies) and the result is clamped to `[0, max]`.

use std::time::Duration;

/// Past this exponent `min * 2^n` exceeds any sane `max`, and it stays finite in an f64.
const MAX_EXPONENT: u32 = 62;

/// Exponential backoff with jitter; see the module docs.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    jitter: f64,
    attempts: u32,
}

impl Backoff {
    /// A backoff from `min` doubling up to `max`, each delay moved by up to `jitter` (0..=1) of
    /// itself.
    pub fn new(min: Duration, max: Duration, jitter: f64) -> Self {
        Self {
            min,
            max,
            jitter: if jitter > 0.0 && jitter <= 1.0 {
                jitter
            } else {
                0.0
            },
            attempts: 0,
        }
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The next delay. `random` is a uniform draw in `[0, 1)`; as in the reference, the one
    /// draw decides both the size of the deviation and (by the parity of its first decimal
    /// digit) its sign.
    pub fn duration(&mut self, random: f64) -> Duration {
        let exponent = self.attempts.min(MAX_EXPONENT);
        self.attempts = self.attempts.saturating_add(1);
        let mut ms = self.min.as_secs_f64() * 1000.0 * 2f64.powi(exponent as i32);
        if self.jitter > 0.0 {
            let random = random.clamp(0.0, 1.0);
            let deviation = (random * self.jitter * ms).floor();
            ms = if ((random * 10.0).floor() as u64) & 1 == 0 {
                ms - deviation
            } else {
                ms + deviation
            };
        }
        let max_ms = self.max.as_secs_f64() * 1000.0;
        let ms = ms.min(max_ms).max(0.0).trunc();
        Duration::from_millis(ms as u64)
    }

    /// Starts over from `min`.
    pub fn reset(&mut self) {
        self.attempts = 0;
    }

    /// Changes the first delay.
    pub fn set_min(&mut self, min: Duration) {
        self.min = min;
    }

    /// Changes the largest delay.
    pub fn set_max(&mut self, max: Duration) {
        self.max = max;
    }

    /// Changes the jitter (0..=1).
    pub fn set_jitter(&mut self, jitter: f64) {
        self.jitter = if jitter > 0.0 && jitter <= 1.0 {
            jitter
        } else {
            0.0
        };
    }
}

/// A uniform draw in `[0, 1)` from 53 random bits.
pub(crate) fn unit_f64(rng: &mut dyn rand_core::RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn without_jitter_doubles_up_to_max() {
        let mut b = Backoff::new(ms(1000), ms(5000), 0.0);
        let seq: Vec<u64> = (0..6).map(|_| b.duration(0.3).as_millis() as u64).collect();
        assert_eq!(seq, [1000, 2000, 4000, 5000, 5000, 5000]);
        assert_eq!(b.attempts(), 6);
        b.reset();
        assert_eq!(b.duration(0.3), ms(1000));
    }

    #[test]
    fn jitter_sign_follows_first_decimal_parity() {
        // 0.25: first decimal 2 (even) => subtract floor(0.25 * 0.5 * 1000) = 125.
        let mut b = Backoff::new(ms(1000), ms(5000), 0.5);
        assert_eq!(b.duration(0.25), ms(875));
        // 0.35: first decimal 3 (odd) => add floor(0.35 * 0.5 * 2000) = 350.
        assert_eq!(b.duration(0.35), ms(2350));
    }

    #[test]
    fn ten_thousand_failures_never_give_zero_or_overflow() {
        let mut b = Backoff::new(ms(1000), ms(5000), 0.5);
        for i in 0..10_000u32 {
            // Alternate draws that hit both signs and the extremes.
            let r = [0.0, 0.05, 0.15, 0.999_999, 0.5][i as usize % 5];
            let d = b.duration(r);
            assert!(d > Duration::ZERO, "attempt {i} gave zero");
            assert!(d <= ms(5000), "attempt {i} gave {d:?}");
        }
    }

    #[test]
    fn huge_max_does_not_wrap() {
        let mut b = Backoff::new(ms(1000), Duration::from_secs(10 * 365 * 24 * 3600), 1.0);
        for _ in 0..200 {
            assert!(b.duration(0.95) > Duration::ZERO);
        }
    }
}
