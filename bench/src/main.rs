//! Benchmarks of this Socket.IO client against its peers; prints a markdown table.
//!
//! ```sh
//! cargo run --release --manifest-path bench/Cargo.toml -- all          # everything (minutes)
//! cargo run --release --manifest-path bench/Cargo.toml -- all --smoke  # tiny sizes (seconds)
//! cargo run --release --manifest-path bench/Cargo.toml -- recv         # one measurement
//! cargo run --release --manifest-path bench/Cargo.toml -- ack --peers=ours-tokio,raw  # some rows
//! ```
//!
//! Measurements: `codec`, `recv`, `ack`, `scale`, `connect` (see docs/benchmarks.md for
//! their methods). Each client runs in its own process (`client ...`, internal), so the
//! servers' CPU is never counted.

#![forbid(unsafe_code)]

mod ack;
mod blocking;
mod codec;
mod measure;
mod ours;
mod peers;
mod raw;
mod replay;
mod report;
mod rsio;
mod run;
mod workload;

fn main() {
    // 10,000 clients need 10,000 descriptors in one process: raise the soft limit to the
    // hard one (children inherit it).
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("could not raise the descriptor limit: {e}");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("client") {
        let result =
            peers::parse_client(&args[1..]).and_then(|(peer, work)| peers::client_main(peer, work));
        if let Err(e) = result {
            eprintln!("client failed: {e}");
            std::process::exit(1);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("replay") {
        // The replay server alone, for profiling a client by hand.
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        runtime.block_on(async {
            let server = replay::start().await.expect("bind 127.0.0.1");
            println!("LISTENING {}", server.addr.port());
            std::future::pending::<()>().await;
        });
        return;
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    // `--peers=a,b`: only those peers' rows (names as in `client <peer>`), to measure a few
    // rows on a busy machine.
    let peers = match args.iter().find_map(|a| a.strip_prefix("--peers=")) {
        None => peers::Peer::ALL.to_vec(),
        Some(list) => {
            let mut chosen = Vec::new();
            for name in list.split(',').filter(|n| !n.is_empty()) {
                match peers::Peer::parse(name) {
                    Some(peer) => chosen.push(peer),
                    None => {
                        let known: Vec<&str> = peers::Peer::ALL.iter().map(|p| p.name()).collect();
                        eprintln!("unknown peer {name}; known: {}", known.join(", "));
                        std::process::exit(2);
                    }
                }
            }
            chosen
        }
    };
    let what: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let what = if what.is_empty() { vec!["all"] } else { what };
    for name in &what {
        if !["all", "codec", "recv", "ack", "scale", "connect", "slow"].contains(name) {
            eprintln!(
                "usage: socketio-bench [all|codec|recv|ack|scale|connect|slow]... [--smoke] \
                 [--peers=NAME,...]\nunknown: {name}"
            );
            std::process::exit(2);
        }
    }
    let sizes = if smoke {
        run::Sizes::SMOKE
    } else {
        run::Sizes::FULL
    };
    match run::main(&what, sizes, peers) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("this project's client failed in a measurement (see the table)");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
