//! The measurements: which peers run against which server, and the tables they make.

use std::time::Duration;

use socketio_test_kit::node::NodeServer;

use crate::codec;
use crate::measure::Outcome;
use crate::peers::{self, Peer};
use crate::replay;
use crate::report::{Table, per_second, ratio};
use crate::workload::{Test, Transport, Workload};

/// How big each measurement is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// Events per receive run against the replay server.
    pub recv_replay: u64,
    /// Events per receive run against the Node server (its own CPU bounds the rate).
    pub recv_node: u64,
    /// Sequential acks per client, over all rounds.
    pub ack: u64,
    /// Interleaved rounds the acks are split in (see `ack.rs`).
    pub ack_rounds: usize,
    /// Concurrent clients.
    pub scale: u64,
    /// Sequential connections per run.
    pub connect: u64,
    /// Events per slow-consumer run.
    pub slow: u64,
    /// Time per codec case and direction.
    pub codec: Duration,
    /// Longest one client run may take.
    pub limit: Duration,
}

impl Sizes {
    /// The sizes of the issue.
    pub const FULL: Sizes = Sizes {
        recv_replay: 1_000_000,
        recv_node: 100_000,
        ack: 10_000,
        ack_rounds: 50,
        scale: 10_000,
        connect: 200,
        slow: 1_000_000,
        codec: Duration::from_secs(2),
        limit: Duration::from_secs(600),
    };

    /// Seconds in all, so CI can run it and it cannot rot.
    pub const SMOKE: Sizes = Sizes {
        recv_replay: 2_000,
        recv_node: 500,
        ack: 50,
        ack_rounds: 2,
        scale: 20,
        connect: 3,
        slow: 2_000,
        codec: Duration::from_millis(20),
        limit: Duration::from_secs(60),
    };
}

/// What a run found: the tables, the target lines, and whether this project always worked.
pub struct Run {
    pub sizes: Sizes,
    /// The peers whose rows are measured, in table order.
    pub peers: Vec<Peer>,
    ours_ok: bool,
    pub targets: Table,
}

/// Runs the named measurements and prints the markdown. `Ok(false)` when this project's
/// client failed somewhere.
pub fn main(what: &[&str], sizes: Sizes, peers: Vec<Peer>) -> Result<bool, String> {
    peers::ensure_node_installed()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut run = Run {
        sizes,
        peers,
        ours_ok: true,
        targets: Table::new(&["target", "measured", "met"]),
    };
    let all = what.contains(&"all");
    let wants = |name: &str| all || what.contains(&name);
    println!(
        "# socketio-bench ({})\n",
        if sizes.recv_replay < Sizes::FULL.recv_replay {
            "smoke sizes: NOT a measurement"
        } else {
            "full sizes"
        }
    );
    if wants("codec") {
        codec_section(&mut run)?;
    }
    runtime.block_on(async {
        let replay = replay::start().await.map_err(|e| e.to_string())?;
        // The Node server starts lazily: the codec-only run does not need it.
        let node = if wants("recv") || wants("ack") || wants("connect") {
            Some(NodeServer::start(&[]))
        } else {
            None
        };
        let servers = |with_node: bool| {
            let mut list = vec![("replay", replay.url())];
            if let (true, Some(node)) = (with_node, &node) {
                list.push(("Node socket.io 4.8", node.url()));
            }
            list
        };
        if wants("recv") {
            recv_section(&mut run, &servers(true)).await;
        }
        if wants("ack") {
            crate::ack::section(&mut run, &servers(true)).await;
        }
        if wants("scale") {
            scale_section(&mut run, &replay.url()).await;
        }
        if wants("connect") {
            connect_section(&mut run, &servers(true)).await;
        }
        if wants("slow") {
            slow_section(&mut run, &replay.url()).await;
        }
        Ok::<_, String>(())
    })?;
    println!("## Targets\n\n{}", run.targets.render());
    Ok(run.ours_ok)
}

fn codec_section(run: &mut Run) -> Result<(), String> {
    eprintln!("codec: this project");
    let ours = codec::ours(run.sizes.codec);
    eprintln!("codec: socket.io-parser (Node)");
    let js = codec::js(&peers::node_dir(), run.sizes.codec)?;
    let mut table = Table::new(&[
        "case",
        "decode: this",
        "decode: JS",
        "this ÷ JS",
        "encode: this",
        "encode: JS",
        "this ÷ JS",
    ]);
    let mut worst = f64::INFINITY;
    for (o, j) in ours.iter().zip(&js) {
        let (d, e) = (o.decode / j.decode, o.encode / j.encode);
        worst = worst.min(d).min(e);
        table.row(vec![
            o.name.clone(),
            per_second(o.decode),
            per_second(j.decode),
            ratio(d),
            per_second(o.encode),
            per_second(j.encode),
            ratio(e),
        ]);
    }
    println!(
        "## Codec (packets/s, one thread)\n\nrust_socketio 0.6 keeps its packet parser private \
         (`pub(crate) mod packet`): its codec cost is inside its receive row.\n\n{}",
        table.render()
    );
    run.targets.row(vec![
        "codec ≥ 2× the JS parsers (worst case and direction)".into(),
        ratio(worst),
        met(worst >= 2.0),
    ]);
    Ok(())
}

pub fn met(ok: bool) -> String {
    if ok { "yes".into() } else { "**no**".into() }
}

/// Runs one peer, logging, and marking the run failed if it is ours.
pub async fn one(run: &mut Run, peer: Peer, work: &Workload) -> Result<Outcome, String> {
    eprintln!(
        "{} {} {} n={} via {}",
        work.test.name(),
        peer.name(),
        work.transport.name(),
        work.n,
        work.url
    );
    let result = peers::run(peer, work, run.sizes.limit).await;
    if let Err(e) = &result {
        eprintln!("  failed: {e}");
        if peer.is_ours() {
            run.ours_ok = false;
        }
    }
    result
}

pub fn failed(e: &str) -> String {
    format!("failed ({})", e.replace('|', "/"))
}

async fn recv_section(run: &mut Run, servers: &[(&str, String)]) {
    let mut table = Table::new(&[
        "server",
        "transport",
        "client",
        "events/s",
        "CPU s per 1M events",
        "CPU × this (tokio)",
    ]);
    for (server, url) in servers {
        let n = if *server == "replay" {
            run.sizes.recv_replay
        } else {
            run.sizes.recv_node
        };
        for transport in [Transport::WebSocket, Transport::Polling] {
            let mut ours_cpu = f64::NAN;
            let mut cpus = Vec::new();
            for peer in run.peers.clone() {
                if peer == Peer::Raw && transport != Transport::WebSocket {
                    continue;
                }
                let work = Workload {
                    test: Test::Recv,
                    url: url.clone(),
                    n,
                    transport,
                };
                let cells = match one(run, peer, &work).await {
                    Ok(o) => {
                        let cpu = o.cpu / o.count as f64 * 1e6;
                        if peer == Peer::OursTokio {
                            ours_cpu = cpu;
                        }
                        cpus.push((peer, cpu));
                        vec![
                            per_second(o.count as f64 / o.wall),
                            format!("{cpu:.2}"),
                            ratio(cpu / ours_cpu),
                        ]
                    }
                    Err(e) => vec![failed(&e), "—".into(), "—".into()],
                };
                let mut row = vec![
                    (*server).to_owned(),
                    transport.name().to_owned(),
                    peer.label().to_owned(),
                ];
                row.extend(cells);
                table.row(row);
            }
            if *server == "replay" {
                let cpu_of = |p: Peer| cpus.iter().find(|(q, _)| *q == p).map(|(_, c)| *c);
                if let Some(raw) = cpu_of(Peer::Raw) {
                    let r = ours_cpu / raw;
                    run.targets.row(vec![
                        "receive CPU/event ≤ 1.5× the raw WebSocket floor (replay)".into(),
                        ratio(r),
                        met(r <= 1.5),
                    ]);
                }
                if let Some(theirs) = cpu_of(Peer::RustSocketio) {
                    let r = theirs / ours_cpu;
                    run.targets.row(vec![
                        format!(
                            "receive CPU/event ≥ 3× below rust_socketio (replay, {})",
                            transport.name()
                        ),
                        ratio(r),
                        met(r >= 3.0),
                    ]);
                }
            }
        }
    }
    println!(
        "## Receive throughput ({} events from the replay server, {} from the Node server)\n\n{}",
        run.sizes.recv_replay,
        run.sizes.recv_node,
        table.render()
    );
}

/// Peak resident memory receiving from the replay server with a consumer ten times slower
/// than it sends.
async fn slow_section(run: &mut Run, url: &str) {
    let n = std::env::var("SLOW_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(run.sizes.slow);
    let mut table = Table::new(&["client", "events", "events/s", "peak RSS"]);
    for peer in [
        Peer::OursTokio,
        Peer::OursAsyncStd,
        Peer::RustSocketio,
        Peer::Node,
    ] {
        let work = Workload {
            test: Test::Slow,
            url: url.to_owned(),
            n,
            transport: Transport::WebSocket,
        };
        let cells = match one(run, peer, &work).await {
            Ok(o) => vec![
                o.count.to_string(),
                per_second(o.count as f64 / o.wall),
                format!("{:.1} MiB", o.peak_rss_kib / 1024.0),
            ],
            Err(e) => vec![failed(&e), "—".into(), "—".into()],
        };
        let mut row = vec![peer.label().to_owned()];
        row.extend(cells);
        table.row(row);
    }
    println!(
        "## Slow consumer ({n} events from the replay server over WebSocket, {} µs of work per event)\n\n{}",
        crate::workload::SLOW_EVENT.as_micros(),
        table.render()
    );
}

async fn scale_section(run: &mut Run, url: &str) {
    let mut table = Table::new(&["client", "connect all (s)", "RSS KiB per idle client"]);
    for peer in run.peers.clone() {
        // One IO thread per client: not what the blocking client is for (see blocking.rs).
        if peer == Peer::OursBlocking {
            continue;
        }
        let work = Workload {
            test: Test::Scale,
            url: url.to_owned(),
            n: run.sizes.scale,
            transport: Transport::WebSocket,
        };
        let cells = match one(run, peer, &work).await {
            Ok(o) => {
                if peer == Peer::OursTokio {
                    run.targets.row(vec![
                        format!("< 16 KiB RSS per idle connection at {}", run.sizes.scale),
                        format!("{:.1} KiB", o.rss_per_client_kib),
                        met(o.rss_per_client_kib < 16.0),
                    ]);
                }
                vec![
                    format!("{:.2}", o.wall),
                    format!("{:.1}", o.rss_per_client_kib),
                ]
            }
            Err(e) => vec![failed(&e), "—".into()],
        };
        let mut row = vec![peer.label().to_owned()];
        row.extend(cells);
        table.row(row);
    }
    println!(
        "## Scale ({} concurrent WebSocket clients in one process, replay server)\n\n{}",
        run.sizes.scale,
        table.render()
    );
}

async fn connect_section(run: &mut Run, servers: &[(&str, String)]) {
    let mut table = Table::new(&["server", "transports", "client", "p50 ms", "p99 ms"]);
    for (server, url) in servers {
        for transport in [Transport::Upgrade, Transport::WebSocket] {
            for peer in run.peers.clone() {
                if peer == Peer::Raw && transport != Transport::WebSocket {
                    continue;
                }
                let work = Workload {
                    test: Test::Connect,
                    url: url.clone(),
                    n: run.sizes.connect,
                    transport,
                };
                let cells = match one(run, peer, &work).await {
                    Ok(o) => vec![
                        format!("{:.2}", o.p50_us / 1e3),
                        format!("{:.2}", o.p99_us / 1e3),
                    ],
                    Err(e) => vec![failed(&e), "—".into()],
                };
                let name = match transport {
                    Transport::Upgrade => "polling + upgrade",
                    _ => "WebSocket only",
                };
                let mut row = vec![
                    (*server).to_owned(),
                    name.to_owned(),
                    peer.label().to_owned(),
                ];
                row.extend(cells);
                table.row(row);
            }
        }
    }
    println!(
        "## Connect time ({} sequential connections, to the `connect` event)\n\n{}",
        run.sizes.connect,
        table.render()
    );
}
