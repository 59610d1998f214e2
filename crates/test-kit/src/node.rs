//! The real Node.js socket.io servers, started by the tests themselves: socket.io 4.8
//! (`node/server.js`, locked by `node/package-lock.json`) and socket.io 2.5, which speaks only
//! Engine.IO 3 (`node2/server.js`, locked by `node2/package-lock.json`). Each is started on 127.0.0.1 with a free port
//! and stopped when dropped. Its stdin is a pipe we hold: if the test process dies, the server
//! sees end-of-file and exits, so nothing is left running.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A running Node.js socket.io server.
#[derive(Debug)]
pub struct NodeServer {
    child: Child,
    _stdin: Option<ChildStdin>,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    env: Vec<(String, String)>,
    dir: PathBuf,
}

/// Where the server script and its `package.json` live.
pub fn node_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node")
}

/// Where the socket.io 2.x server script and its `package.json` live.
pub fn node2_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node2")
}

/// Installs the locked npm dependencies of the 4.8 server once per process (`npm ci`), unless
/// present.
pub fn ensure_installed() {
    install(node_dir());
}

/// Installs the locked npm dependencies of `dir` once per process (`npm ci`), unless present.
fn install(dir: PathBuf) {
    static INSTALLED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let mut done = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if done.contains(&dir) {
        return;
    }
    if !dir.join("node_modules/socket.io/package.json").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .unwrap_or_else(|e| panic!("npm is needed for the interop tests: {e}"));
        assert!(status.success(), "npm ci failed in {}", dir.display());
    }
    done.push(dir);
}

impl NodeServer {
    /// Starts the socket.io 4.8 server with these environment settings (see
    /// `node/server.js`).
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::spawn(node_dir(), owned(env), 0)
    }

    /// Starts the socket.io 4.8 server accepting Engine.IO 3 clients too (`allowEIO3`), with
    /// these environment settings.
    pub fn start_allow_eio3(env: &[(&str, &str)]) -> Self {
        let mut env = owned(env);
        env.push(("SERVER_OPTIONS".into(), r#"{"allowEIO3":true}"#.into()));
        Self::spawn(node_dir(), env, 0)
    }

    /// Starts the socket.io 2.5 server (Engine.IO 3 only) with these environment settings
    /// (see `node2/server.js`: PING_INTERVAL, PING_TIMEOUT, TRANSPORTS).
    pub fn start_v2(env: &[(&str, &str)]) -> Self {
        Self::spawn(node2_dir(), owned(env), 0)
    }

    fn spawn(dir: PathBuf, env: Vec<(String, String)>, port: u16) -> Self {
        install(dir.clone());
        let mut command = Command::new("node");
        command
            .arg("server.js")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in &env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("node is needed for the interop tests: {e}"));
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the node server exited before listening"))
                .expect("read server stdout");
            if let Some(port) = line.strip_prefix("LISTENING ") {
                break port.trim().parse().expect("a port number");
            }
            assert!(Instant::now() < deadline, "the node server did not start");
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            child,
            _stdin: stdin,
            port,
            env,
            dir,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Freezes the server process (SIGSTOP): its sockets stay open but nothing is answered,
    /// like a black-holed network or a hung server.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("the kill command");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Kills the server (abruptly, like a crash).
    pub fn kill(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return; // already gone
        }
        // A frozen process still dies on SIGKILL; thawing first keeps its exit orderly.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the server and starts it again on the same port with the same settings.
    pub fn restart(&mut self) {
        self.kill();
        let port = self.port;
        // The port may take a moment to be free again after the kill.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "port {port} stays busy");
            std::thread::sleep(Duration::from_millis(20));
        }
        let dir = self.dir.clone();
        *self = Self::spawn(dir, std::mem::take(&mut self.env), port);
    }
}

fn owned(env: &[(&str, &str)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        self.kill();
    }
}
