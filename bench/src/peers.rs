//! Running one peer's client in its own process, so that only the client's CPU and memory
//! are counted: the harness re-executes itself (`client ...`) for the Rust peers and runs
//! `node/client.js` for the JS peer.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::measure::Outcome;
use crate::workload::{Test, Transport, Workload};

/// A client implementation under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// This project on tokio.
    OursTokio,
    /// This project on async-std.
    OursAsyncStd,
    /// This project's blocking client (no runtime; its own IO thread).
    OursBlocking,
    /// rust_socketio 0.6, async.
    RustSocketio,
    /// socket.io-client 4.8 on Node.js.
    Node,
    /// The raw tokio-tungstenite floor.
    Raw,
}

impl Peer {
    /// Every peer, in table order.
    pub const ALL: [Peer; 6] = [
        Peer::OursTokio,
        Peer::OursAsyncStd,
        Peer::OursBlocking,
        Peer::RustSocketio,
        Peer::Node,
        Peer::Raw,
    ];

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Peer::OursTokio => "ours-tokio",
            Peer::OursAsyncStd => "ours-async-std",
            Peer::OursBlocking => "ours-blocking",
            Peer::RustSocketio => "rust_socketio",
            Peer::Node => "node",
            Peer::Raw => "raw",
        }
    }

    /// Its name in the tables.
    pub fn label(self) -> &'static str {
        match self {
            Peer::OursTokio => "this project (tokio)",
            Peer::OursAsyncStd => "this project (async-std)",
            Peer::OursBlocking => "this project (blocking)",
            Peer::RustSocketio => "rust_socketio 0.6",
            Peer::Node => "socket.io-client 4.8 (Node)",
            Peer::Raw => "raw tokio-tungstenite (floor)",
        }
    }

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Peer> {
        Peer::ALL.into_iter().find(|p| p.name() == name)
    }

    /// Whether it is this project (a failure of it fails the run).
    pub fn is_ours(self) -> bool {
        matches!(
            self,
            Peer::OursTokio | Peer::OursAsyncStd | Peer::OursBlocking
        )
    }
}

/// Where the JS peer lives.
pub fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// `npm ci` in `node/` unless its packages are there.
pub fn ensure_node_installed() -> Result<(), String> {
    let dir = node_dir();
    if dir
        .join("node_modules/socket.io-client/package.json")
        .exists()
    {
        return Ok(());
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("npm: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("npm ci failed in {}", dir.display()))
    }
}

/// Runs `peer` on `work` in a child process and reads its outcome.
pub async fn run(peer: Peer, work: &Workload, limit: Duration) -> Result<Outcome, String> {
    let args = [
        work.test.name().to_owned(),
        work.url.clone(),
        work.n.to_string(),
        work.transport.name().to_owned(),
    ];
    let mut command = if peer == Peer::Node {
        let mut command = Command::new("node");
        command.arg("client.js").args(&args).current_dir(node_dir());
        command
    } else {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut command = Command::new(exe);
        command.arg("client").arg(peer.name()).args(&args);
        command
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().map_err(|e| format!("spawn: {e}"))?;
    let output = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| format!("timed out after {} s", limit.as_secs()))?
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("{}: {last}", output.status));
    }
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line).map_err(|e| format!("bad outcome {line:?}: {e}"))
}

/// The child side: runs one Rust peer's workload and prints its outcome.
pub fn client_main(peer: Peer, work: Workload) -> Result<(), String> {
    let outcome = match peer {
        // No runtime at all: the client's IO thread and this one.
        Peer::OursBlocking => crate::blocking::run(&work)?,
        Peer::OursAsyncStd => {
            async_std::task::block_on(crate::ours::run(socketio_async_std::io, &work))
                .map_err(|e| e.to_string())?
        }
        Peer::OursTokio | Peer::RustSocketio | Peer::Raw => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                match peer {
                    Peer::OursTokio => crate::ours::run(socketio_tokio::io, &work)
                        .await
                        .map_err(|e| e.to_string()),
                    Peer::RustSocketio => crate::rsio::run(&work).await.map_err(|e| e.to_string()),
                    _ => crate::raw::run(&work).await.map_err(|e| e.to_string()),
                }
            })?
        }
        Peer::Node => return Err("the Node peer runs node/client.js".into()),
    };
    println!(
        "{}",
        serde_json::to_string(&outcome).map_err(|e| e.to_string())?
    );
    // Idle clients of the scale test would otherwise hold the runtime open.
    std::process::exit(0);
}

/// Parses `client <peer> <test> <url> <n> <transport>`.
pub fn parse_client(args: &[String]) -> Result<(Peer, Workload), String> {
    let [peer, test, url, n, transport] = args else {
        return Err("client <peer> <test> <url> <n> <transport>".into());
    };
    let peer = Peer::parse(peer).ok_or_else(|| format!("unknown peer {peer}"))?;
    let work = Workload {
        test: test.parse::<Test>()?,
        url: url.clone(),
        n: n.parse().map_err(|e| format!("n: {e}"))?,
        transport: transport.parse::<Transport>()?,
    };
    Ok((peer, work))
}
