//! Runs the built `sio` binary as a real process: writes its standard input, reads its
//! output lines as they come (every wait has a deadline), and checks its exit status.

#![allow(dead_code)] // each test file uses part of it

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::Value;
use socketio_test_kit::node::NodeServer;

/// How long any one wait may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// The Node.js socket.io server the tests of this file share.
pub fn server() -> &'static NodeServer {
    static SERVER: OnceLock<NodeServer> = OnceLock::new();
    SERVER.get_or_init(|| NodeServer::start(&[]))
}

/// `http://127.0.0.1:<port>` plus `path` (the namespace).
pub fn url(path: &str) -> String {
    format!("{}{path}", server().url())
}

/// A running `sio`.
pub struct Sio {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    err: Receiver<String>,
    /// Every stdout line read so far.
    pub stdout: Vec<String>,
    /// Every stderr line read so far.
    pub stderr: Vec<String>,
    args: Vec<String>,
}

fn lines(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Sio {
    /// Starts `sio` with these arguments.
    pub fn spawn(args: &[&str]) -> Sio {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sio"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sio");
        let stdin = child.stdin.take();
        let out = lines(child.stdout.take().expect("stdout"));
        let err = lines(child.stderr.take().expect("stderr"));
        Sio {
            child,
            stdin,
            out,
            err,
            stdout: Vec::new(),
            stderr: Vec::new(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// Writes one line to its standard input.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to sio");
        stdin.flush().expect("flush sio's stdin");
    }

    /// Closes its standard input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    fn context(&self) -> String {
        format!(
            "sio {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.args,
            self.stdout.join("\n"),
            self.stderr.join("\n")
        )
    }

    /// Reads stdout until a line matches; panics at the deadline or when sio exits.
    pub fn line(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            self.drain_err();
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    self.stdout.push(line.clone());
                    if matches(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
                Err(e) => panic!("no stdout line {what} ({e:?})\n{}", self.context()),
            }
        }
    }

    /// Reads stdout JSON lines until one matches.
    pub fn json(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let line = self.line(what, |line| {
            serde_json::from_str::<Value>(line).is_ok_and(|v| matches(&v))
        });
        serde_json::from_str(&line).expect("JSON line")
    }

    /// Reads stderr until a line matches.
    pub fn err_line(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(line) = self.stderr.iter().find(|l| matches(l)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(line) => self.stderr.push(line),
                Err(e) => panic!("no stderr line {what} ({e:?})\n{}", self.context()),
            }
        }
    }

    fn drain_err(&mut self) {
        while let Ok(line) = self.err.try_recv() {
            self.stderr.push(line);
        }
    }

    /// Waits for sio to exit (its output closes) and returns its status; reads what is
    /// left of its output.
    pub fn status(&mut self) -> i32 {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(line) => self.stdout.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("sio did not exit\n{}", self.context());
                }
            }
        }
        let status = self.child.wait().expect("wait for sio");
        // stderr closes with the process.
        while let Ok(line) = self.err.recv_timeout(DEADLINE) {
            self.stderr.push(line);
        }
        status
            .code()
            .unwrap_or_else(|| panic!("sio killed by a signal\n{}", self.context()))
    }

    /// Asserts the exit status.
    pub fn expect_status(&mut self, expected: i32) {
        let status = self.status();
        assert_eq!(status, expected, "exit status\n{}", self.context());
    }
}

impl Drop for Sio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs sio to the end with this standard input; returns it for its output and status.
pub fn run(args: &[&str], input: &str) -> (Sio, i32) {
    let mut sio = Sio::spawn(args);
    if let Some(stdin) = sio.stdin.as_mut() {
        // sio may exit before reading it all (e.g. on a connect_error): not an error here.
        let _ = stdin.write_all(input.as_bytes());
    }
    sio.close_stdin();
    let status = sio.status();
    (sio, status)
}

/// Parses every stdout line as JSON.
pub fn json_lines(sio: &Sio) -> Vec<Value> {
    sio.stdout
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}
