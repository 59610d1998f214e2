//! The ack round trip, measured in interleaved rounds.
//!
//! This machine has two latency modes (a wake-up from an idle core is several times slower
//! than one from a busy core, and which mode a run gets changes over seconds): one long run
//! per peer, one after the other, compared peers measured in different modes. So every peer
//! runs [`ROUNDS`] times, a share of the acks each time, in an order that rotates from round
//! to round; ratios are taken between peers of the same round (a second or two apart) and
//! the median over the rounds is what is reported, so a round whose mode flipped half-way
//! moves no result. Absolute p50 and p99 are the medians of the rounds' values.

use crate::measure::Outcome;
use crate::peers::Peer;
use crate::report::{Table, ratio};
use crate::run::{Run, failed, met, one};
use crate::workload::{Test, Transport, Workload};

/// Rounds per server; each peer does `Sizes::ack / ROUNDS` acks per round.
pub const ROUNDS: usize = 5;

/// One peer's rounds on one server.
struct Rounds {
    peer: Peer,
    /// One outcome per round, in round order; empty once a round failed.
    outcomes: Vec<Outcome>,
    /// Why a round failed.
    error: Option<String>,
}

impl Rounds {
    /// Each round's value of `f`, `None` if any round failed.
    fn each(&self, f: impl Fn(&Outcome) -> f64) -> Option<Vec<f64>> {
        self.error
            .is_none()
            .then(|| self.outcomes.iter().map(f).collect())
    }
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The median over rounds of `a`'s value over `b`'s in the same round.
fn median_ratio(a: &[f64], b: &[f64]) -> f64 {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    median(&ratios)
}

pub async fn section(run: &mut Run, servers: &[(&str, String)]) {
    let per_round = (run.sizes.ack / ROUNDS as u64).max(1);
    let mut table = Table::new(&[
        "server",
        "client",
        "p50 µs",
        "p99 µs",
        "p50 × raw echo",
        "p50 × raw, each round",
    ]);
    for (server, url) in servers {
        let peers = run.peers.clone();
        let mut rounds: Vec<Rounds> = peers
            .iter()
            .map(|&peer| Rounds {
                peer,
                outcomes: Vec::new(),
                error: None,
            })
            .collect();
        for round in 0..ROUNDS {
            for i in 0..rounds.len() {
                let slot = (i + round) % rounds.len();
                if rounds[slot].error.is_some() {
                    continue;
                }
                let work = Workload {
                    test: Test::Ack,
                    url: url.clone(),
                    n: per_round,
                    transport: Transport::WebSocket,
                };
                match one(run, rounds[slot].peer, &work).await {
                    Ok(outcome) => rounds[slot].outcomes.push(outcome),
                    Err(e) => rounds[slot].error = Some(e),
                }
            }
        }
        let of = |peer: Peer| rounds.iter().find(|r| r.peer == peer);
        let p50s = |peer: Peer| of(peer).and_then(|r| r.each(|o| o.p50_us));
        let p99s = |peer: Peer| of(peer).and_then(|r| r.each(|o| o.p99_us));
        let raw = p50s(Peer::Raw);
        for r in &rounds {
            let cells = match (&r.error, r.each(|o| o.p50_us), r.each(|o| o.p99_us)) {
                (None, Some(p50), Some(p99)) => {
                    let each = match &raw {
                        Some(raw) => p50
                            .iter()
                            .zip(raw)
                            .map(|(a, b)| format!("{:.2}", a / b))
                            .collect::<Vec<_>>()
                            .join(" "),
                        None => "—".into(),
                    };
                    vec![
                        format!("{:.0}", median(&p50)),
                        format!("{:.0}", median(&p99)),
                        raw.as_ref()
                            .map_or("—".into(), |raw| ratio(median_ratio(&p50, raw))),
                        each,
                    ]
                }
                (error, ..) => vec![
                    failed(error.as_deref().unwrap_or("no rounds")),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                ],
            };
            let mut row = vec![(*server).to_owned(), r.peer.label().to_owned()];
            row.extend(cells);
            table.row(row);
        }
        // Issue 12's targets, each a median of same-round ratios.
        let Some(tokio50) = p50s(Peer::OursTokio) else {
            continue;
        };
        let tokio99 = p99s(Peer::OursTokio).unwrap_or_default();
        if let Some(raw) = &raw {
            let r = median_ratio(&tokio50, raw);
            run.targets.row(vec![
                format!("ack p50 ≤ 1.1× the raw echo ({server})"),
                ratio(r),
                met(r <= 1.1),
            ]);
        }
        for theirs in [Peer::RustSocketio, Peer::Node] {
            if let Some(their50) = p50s(theirs) {
                let r = median_ratio(&tokio50, &their50);
                run.targets.row(vec![
                    format!("ack p50 below {}'s ({server})", theirs.label()),
                    ratio(r),
                    met(r < 1.0),
                ]);
            }
        }
        if let Some(their99) = p99s(Peer::RustSocketio) {
            let r = median_ratio(&tokio99, &their99);
            run.targets.row(vec![
                format!("ack p99 ≤ rust_socketio's ({server})"),
                ratio(r),
                met(r <= 1.0),
            ]);
        }
        if let (Some(std50), Some(std99)) = (p50s(Peer::OursAsyncStd), p99s(Peer::OursAsyncStd)) {
            let (r50, r99) = (
                median_ratio(&std50, &tokio50),
                median_ratio(&std99, &tokio99),
            );
            run.targets.row(vec![
                format!("ack async-std ≤ 1.1× tokio, p50 / p99 ({server})"),
                format!("{} / {}", ratio(r50), ratio(r99)),
                met(r50 <= 1.1 && r99 <= 1.1),
            ]);
        }
    }
    println!(
        "## Ack round trip ({ROUNDS} interleaved rounds of {per_round} sequential \
         `emit_with_ack` per client, WebSocket; medians over the rounds)\n\n{}",
        table.render()
    );
}
