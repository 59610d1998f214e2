//! The ack round trip, measured in interleaved rounds and pooled.
//!
//! This machine has two latency modes (a wake-up of an idle core is several times slower than
//! one of a busy core, and which mode a run gets changes within seconds, with whatever else
//! the machine runs): one long run per peer, one after the other, compared peers measured in
//! different modes. So every peer runs `Sizes::ack_rounds` short times, in an order that rotates from
//! round to round, and each peer's samples of all rounds are pooled before its p50 and p99 are
//! taken: every peer's samples are then spread over the same stretch of time, so both modes
//! weigh alike in every peer's numbers, and the p99 comes from all the samples rather than
//! from the few largest of one short run. The first [`WARM_UP`] acks of each run are left out
//! (first use of the connection, the allocator, the caches). The median of the per-round
//! ratios to the raw echo is shown beside the pooled one, as a check.

use crate::measure::Outcome;
use crate::peers::Peer;
use crate::report::{Table, ratio};
use crate::run::{Run, failed, met, one};
use crate::workload::{Test, Transport, Workload};

/// Acks at the start of each run that are not measured.
pub const WARM_UP: usize = 10;

/// One peer's rounds on one server.
struct Rounds {
    peer: Peer,
    /// Each round's samples (µs, in order, warm-up left out).
    rounds: Vec<Vec<f64>>,
    /// Why a round failed (then no more rounds run for this peer).
    error: Option<String>,
}

impl Rounds {
    /// Every round's samples, sorted; `None` if a round failed.
    fn pooled(&self) -> Option<Vec<f64>> {
        if self.error.is_some() || self.rounds.is_empty() {
            return None;
        }
        let mut all: Vec<f64> = self.rounds.concat();
        all.sort_by(f64::total_cmp);
        Some(all)
    }

    /// Each round's p50.
    fn round_p50s(&self) -> Vec<f64> {
        self.rounds
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.sort_by(f64::total_cmp);
                quantile(&r, 0.5)
            })
            .collect()
    }
}

/// The `q` quantile of sorted `samples` (nearest rank, as `measure::percentiles`).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// The median of `values`.
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A run's samples without its warm-up.
fn measured(outcome: Outcome) -> Vec<f64> {
    outcome.samples_us.into_iter().skip(WARM_UP).collect()
}

pub async fn section(run: &mut Run, servers: &[(&str, String)]) {
    let rounds = run.sizes.ack_rounds.max(1);
    let per_round = (run.sizes.ack / rounds as u64).max(1);
    let mut table = Table::new(&[
        "server",
        "client",
        "p50 µs",
        "p99 µs",
        "p50 × raw echo",
        "p50 × raw, median of rounds (range)",
    ]);
    for (server, url) in servers {
        let mut peers: Vec<Rounds> = run
            .peers
            .iter()
            .map(|&peer| Rounds {
                peer,
                rounds: Vec::new(),
                error: None,
            })
            .collect();
        let work = Workload {
            test: Test::Ack,
            url: url.clone(),
            n: per_round + WARM_UP as u64,
            transport: Transport::WebSocket,
        };
        for round in 0..rounds {
            for i in 0..peers.len() {
                let slot = &mut peers[(i + round) % run.peers.len()];
                if slot.error.is_some() {
                    continue;
                }
                match one(run, slot.peer, &work).await {
                    Ok(outcome) => slot.rounds.push(measured(outcome)),
                    Err(e) => slot.error = Some(e),
                }
            }
        }
        let pooled = |peer: Peer| peers.iter().find(|r| r.peer == peer)?.pooled();
        let raw = peers.iter().find(|r| r.peer == Peer::Raw);
        let raw50 = pooled(Peer::Raw).map(|s| quantile(&s, 0.5));
        for r in &peers {
            let cells = match r.pooled() {
                Some(all) => {
                    let p50 = quantile(&all, 0.5);
                    let rounds = match raw.filter(|raw| raw.error.is_none()) {
                        Some(raw) => {
                            let ratios: Vec<f64> = r
                                .round_p50s()
                                .iter()
                                .zip(raw.round_p50s())
                                .map(|(a, b)| a / b)
                                .collect();
                            let (lo, hi) = ratios
                                .iter()
                                .fold((f64::INFINITY, 0f64), |(l, h), v| (l.min(*v), h.max(*v)));
                            format!("{} ({lo:.2}-{hi:.2})", ratio(median(&ratios)))
                        }
                        None => "—".into(),
                    };
                    vec![
                        format!("{p50:.0}"),
                        format!("{:.0}", quantile(&all, 0.99)),
                        raw50.map_or("—".into(), |raw| ratio(p50 / raw)),
                        rounds,
                    ]
                }
                None => vec![
                    failed(r.error.as_deref().unwrap_or("no rounds")),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                ],
            };
            let mut row = vec![(*server).to_owned(), r.peer.label().to_owned()];
            row.extend(cells);
            table.row(row);
        }
        targets(run, server, &pooled);
    }
    println!(
        "## Ack round trip ({rounds} interleaved rounds of {per_round} sequential \
         `emit_with_ack` per client, WebSocket; samples of all rounds pooled)\n\n{}",
        table.render()
    );
}

/// Issue 12's targets, from the pooled samples.
fn targets(run: &mut Run, server: &str, pooled: &dyn Fn(Peer) -> Option<Vec<f64>>) {
    let Some(tokio) = pooled(Peer::OursTokio) else {
        return;
    };
    let (p50, p99) = (quantile(&tokio, 0.5), quantile(&tokio, 0.99));
    if let Some(raw) = pooled(Peer::Raw) {
        let r = p50 / quantile(&raw, 0.5);
        run.targets.row(vec![
            format!("ack p50 ≤ 1.1× the raw echo ({server})"),
            ratio(r),
            met(r <= 1.1),
        ]);
    }
    for theirs in [Peer::RustSocketio, Peer::Node] {
        if let Some(samples) = pooled(theirs) {
            let r = p50 / quantile(&samples, 0.5);
            run.targets.row(vec![
                format!("ack p50 below {}'s ({server})", theirs.label()),
                ratio(r),
                met(r < 1.0),
            ]);
        }
    }
    if let Some(samples) = pooled(Peer::RustSocketio) {
        let r = p99 / quantile(&samples, 0.99);
        run.targets.row(vec![
            format!("ack p99 ≤ rust_socketio's ({server})"),
            ratio(r),
            met(r <= 1.0),
        ]);
    }
    if let Some(samples) = pooled(Peer::OursAsyncStd) {
        let (r50, r99) = (
            quantile(&samples, 0.5) / p50,
            quantile(&samples, 0.99) / p99,
        );
        run.targets.row(vec![
            format!("ack async-std ≤ 1.1× tokio, p50 / p99 ({server})"),
            format!("{} / {}", ratio(r50), ratio(r99)),
            met(r50 <= 1.1 && r99 <= 1.1),
        ]);
    }
}
