//! What a client process measures about itself: CPU seconds (getrusage), resident memory
//! (/proc/self/status), latency percentiles; and the one JSON line it reports them in.

use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use serde::{Deserialize, Serialize};

/// One client run's result, printed by the client process as its last stdout line (the Node
/// peer prints the same fields).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// Events, acks, connections or clients done.
    pub count: u64,
    /// Wall-clock seconds of the measured phase.
    pub wall: f64,
    /// CPU seconds (user + system) of the client process in the measured phase.
    pub cpu: f64,
    /// Resident memory growth per client in KiB (scale test only).
    #[serde(default)]
    pub rss_per_client_kib: f64,
    /// Latency percentiles in microseconds (ack and connect tests).
    #[serde(default)]
    pub p50_us: f64,
    /// See `p50_us`.
    #[serde(default)]
    pub p99_us: f64,
    /// The process's peak resident memory in KiB (slow-consumer test).
    #[serde(default)]
    pub peak_rss_kib: f64,
    /// Every latency sample in microseconds, in the order they were taken (ack and connect
    /// tests), for pooling runs (see `ack.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples_us: Vec<f64>,
}

/// Peak resident memory of this process in KiB (`VmHWM`).
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM")
}

/// CPU seconds (user + system) this process used so far, every thread included.
pub fn cpu_seconds() -> f64 {
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let tv = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
            tv(usage.user_time()) + tv(usage.system_time())
        }
        Err(_) => f64::NAN,
    }
}

/// Resident memory of this process in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS")
}

/// A field of `/proc/self/status` that is counted in KiB (`VmRSS`, `VmHWM`); 0 where it
/// cannot be read (not Linux).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)?
                    .strip_prefix(':')?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// Wall clock and CPU from a starting point.
pub struct Meter {
    wall: Instant,
    cpu: f64,
}

impl Meter {
    /// Starts measuring now.
    pub fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    /// The outcome of `count` things done since the start.
    pub fn stop(&self, count: u64) -> Outcome {
        Outcome {
            count,
            wall: self.wall.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - self.cpu,
            ..Outcome::default()
        }
    }
}

/// Fills in p50 and p99 from latency samples, and the samples themselves.
pub fn percentiles(outcome: &mut Outcome, samples: &mut [Duration]) {
    if samples.is_empty() {
        return;
    }
    outcome.samples_us = samples.iter().map(|d| d.as_secs_f64() * 1e6).collect();
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1e6
    };
    outcome.p50_us = at(0.50);
    outcome.p99_us = at(0.99);
}

/// Ends the process with an error when `count` stops moving for 10 s before reaching
/// `target`: a client that stalls is a failed run, not a 10-minute wait.
pub fn watchdog(count: std::sync::Arc<std::sync::atomic::AtomicU64>, target: u64) {
    std::thread::spawn(move || {
        let mut last = u64::MAX;
        loop {
            std::thread::sleep(Duration::from_secs(10));
            let now = count.load(std::sync::atomic::Ordering::Relaxed);
            if now >= target {
                return;
            }
            if now == last {
                eprintln!("stalled after {now} of {target}");
                std::process::exit(3);
            }
            last = now;
        }
    });
}
