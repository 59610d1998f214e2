//! The demo Socket.IO server that the quickstarts talk to when no `--url` is given, and that
//! `cargo run -p socketio-tokio --example serve` keeps running for trying `sio`.
//!
//! It is socketioxide (the established Rust Socket.IO server) on a thread and tokio runtime of
//! its own, so the tokio and the async-std quickstart start it the same way, and nothing but
//! cargo is needed. Its events follow the Node.js test server (crates/test-kit/node/server.js)
//! where the tour and the README's `sio` examples use them. It also holds what the quickstarts
//! share besides the server: the `--url` argument and how a refused connection is printed.
//! socketio-async-std's examples use this same file (a symlink).

// Each example uses a part of it.
#![allow(dead_code)]

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmpv::Value as Arg;
use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeTuple, Serializer};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::{ConnectHandler, FromMessageParts, Value};
use socketioxide::socket::Socket;
use tokio::net::{TcpListener, TcpSocket};

/// The running server. Dropping it stops it.
pub struct DemoServer {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl DemoServer {
    /// Starts the server on 127.0.0.1:`port` (0: any free port).
    pub fn start(port: u16) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("demo-server")
            .enable_all()
            .build()?;
        let listener = listen(&runtime, SocketAddr::from(([127, 0, 0, 1], port)))?;
        let addr = listener.local_addr()?;
        runtime.spawn(serve(listener));
        Ok(Self {
            addr,
            runtime: Some(runtime),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server (every connection is cut, as in a crash) and starts a new one on the
    /// same port: clients see the connection drop and reconnect on their own.
    pub fn restart(&mut self) -> std::io::Result<()> {
        if let Some(runtime) = self.runtime.take() {
            // Not `shutdown_timeout`: this may run inside the caller's async runtime.
            runtime.shutdown_background();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("demo-server")
            .enable_all()
            .build()?;
        // The old listener closes as its runtime winds down: try again for a moment.
        let mut tries = 0;
        let listener = loop {
            match listen(&runtime, self.addr) {
                Ok(listener) => break listener,
                Err(_) if tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        };
        runtime.spawn(serve(listener));
        self.runtime = Some(runtime);
        Ok(())
    }

    /// Serves until the process ends.
    pub fn run_forever(self) -> ! {
        loop {
            std::thread::park();
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The value of the quickstarts' `--url URL` (or `--url=URL`), if given.
pub fn url_argument() -> Result<Option<String>, String> {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    while let Some(arg) = args.next() {
        match arg.strip_prefix("--url") {
            Some("") => url = Some(args.next().ok_or("--url needs a value")?),
            Some(value) if value.starts_with('=') => url = Some(value[1..].to_owned()),
            _ => return Err(format!("unknown argument {arg:?}; usage: [--url URL]")),
        }
    }
    Ok(url)
}

/// How the quickstarts print a refused connection: the error and its root cause. A connect
/// error's own message is socket.io-client's short one ("xhr poll error"); the first cause that
/// has no cause of its own is what went wrong (the refused connection, the TLS failure). The
/// layers between repeat it in their messages.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut root = None;
    let mut cause = error.source();
    while let Some(e) = cause {
        root = Some(e);
        cause = e.source();
    }
    match root {
        Some(root) => format!("{error}: {root}"),
        None => error.to_string(),
    }
}

/// A listener on `addr` in `runtime`, with SO_REUSEADDR so that a restart can take the same
/// port while the old connections linger in TIME_WAIT.
fn listen(runtime: &tokio::runtime::Runtime, addr: SocketAddr) -> std::io::Result<TcpListener> {
    let _context = runtime.enter();
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

async fn serve(listener: TcpListener) {
    let (service, io) = SocketIo::new_svc();
    io.ns("/", on_connect);
    io.ns("/chat", on_connect);
    io.ns("/admin", on_connect.with(authorize));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        tokio::spawn(async move {
            // A client that goes away mid-request is no news here.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

/// `/admin` takes `{"token":"secret"}` as its auth, like the Node test server.
async fn authorize(Data(auth): Data<serde_json::Value>) -> Result<(), NotAuthorized> {
    if auth["token"] == "secret" {
        Ok(())
    } else {
        Err(NotAuthorized)
    }
}

#[derive(Debug)]
struct NotAuthorized;

impl fmt::Display for NotAuthorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not authorized")
    }
}

impl std::error::Error for NotAuthorized {}

async fn on_connect(socket: SocketRef, Data(auth): Data<serde_json::Value>) {
    let welcome = serde_json::json!({
        "nsp": socket.ns(),
        "id": socket.id.to_string(),
        "auth": auth,
        "transport": format!("{:?}", socket.transport_type()).to_lowercase(),
    });
    let _ = socket.emit("welcome", &welcome);

    // With an ack, answer through it; without, emit the arguments back.
    socket.on(
        "echo",
        async |socket: SocketRef, Data(Args(args)): Data<Args>, asked: Asked, ack: AckSender| {
            reply(&socket, asked, ack, "echo", &Args(args));
        },
    );
    // The sum of the numeric arguments: `add 1 2 --ack` in sio.
    socket.on(
        "add",
        async |socket: SocketRef, Data(Args(args)): Data<Args>, asked: Asked, ack: AckSender| {
            let sum: f64 = args.iter().filter_map(number).sum();
            let sum = if sum.fract() == 0.0 && sum.abs() < 1e15 {
                Arg::from(sum as i64)
            } else {
                Arg::from(sum)
            };
            reply(&socket, asked, ack, "sum", &Args(vec![sum]));
        },
    );
    // How many bytes of binary arrived, at any depth: `upload` in the README's sio examples.
    socket.on(
        "upload",
        async |socket: SocketRef, Data(Args(args)): Data<Args>, asked: Asked, ack: AckSender| {
            let bytes: usize = args.iter().map(binary_len).sum();
            let answer = Arg::Map(vec![(Arg::from("bytes"), Arg::from(bytes as u64))]);
            reply(&socket, asked, ack, "uploaded", &Args(vec![answer]));
        },
    );
    // Binary, nested, several buffers (what the Node server sends for "binary").
    socket.on(
        "binary",
        async |socket: SocketRef, asked: Asked, ack: AckSender| {
            let payload = vec![
                Arg::Binary(vec![1, 2, 3]),
                Arg::Map(vec![
                    (Arg::from("nested"), Arg::Binary(vec![4, 5])),
                    (Arg::from("text"), Arg::from("t")),
                ]),
            ];
            reply(&socket, asked, ack, "binary", &Args(payload));
        },
    );
    // Sent to everyone in the namespace, the sender too: open two `sio` sessions to chat.
    socket.on(
        "chat",
        async |socket: SocketRef, io: SocketIo, Data(Args(args)): Data<Args>| {
            if let Some(nsp) = io.of(socket.ns()) {
                let _ = nsp.emit("chat", &Args(args)).await;
            }
        },
    );
    // Asks the client a question with an ack and reports its answer as "answer".
    socket.on(
        "ask",
        async |socket: SocketRef, Data(Args(args)): Data<Args>| {
            let asked = socket
                .timeout(Duration::from_secs(30))
                .emit_with_ack::<_, Args>("question", &Args(args));
            let answer = match asked {
                Ok(pending) => match pending.await {
                    Ok(Args(answer)) => Arg::Array(answer),
                    Err(e) => Arg::Map(vec![(Arg::from("error"), Arg::from(e.to_string()))]),
                },
                Err(e) => Arg::Map(vec![(Arg::from("error"), Arg::from(e.to_string()))]),
            };
            let _ = socket.emit("answer", &Args(vec![answer]));
        },
    );
    // Never answers: for ack timeouts.
    socket.on("ignore", async || {});
    socket.on("kick", async |socket: SocketRef| {
        let _ = socket.disconnect();
    });
}

/// Answers through the ack when the client asked for one, or emits `event` back otherwise.
fn reply(socket: &SocketRef, asked: Asked, ack: AckSender, event: &str, args: &Args) {
    if asked.0 {
        let _ = ack.send(args);
    } else {
        let _ = socket.emit(event, args);
    }
}

fn number(value: &Arg) -> Option<f64> {
    match value {
        Arg::Integer(n) => n.as_f64(),
        Arg::F32(n) => Some(f64::from(*n)),
        Arg::F64(n) => Some(*n),
        _ => None,
    }
}

fn binary_len(value: &Arg) -> usize {
    match value {
        Arg::Binary(bytes) => bytes.len(),
        Arg::Array(items) => items.iter().map(binary_len).sum(),
        Arg::Map(entries) => entries.iter().map(|(_, v)| binary_len(v)).sum(),
        _ => 0,
    }
}

/// Whether the client asked for an ack (socketioxide's `AckSender` keeps that to itself).
struct Asked(bool);

impl<A: Adapter> FromMessageParts<A> for Asked {
    type Error = std::convert::Infallible;

    fn from_message_parts(
        _: &Arc<Socket<A>>,
        _: &mut Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Self::Error> {
        Ok(Asked(ack_id.is_some()))
    }
}

/// All the arguments of an event, however many, binary included (rmpv keeps binary apart
/// from arrays of numbers, serde_json::Value would not). Serialized as a tuple, so that
/// socketioxide sends them as separate arguments.
struct Args(Vec<Arg>);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct All;
        impl<'de> Visitor<'de> for All {
            type Value = Args;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("event arguments")
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Args, S::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element()? {
                    args.push(arg);
                }
                Ok(Args(args))
            }
        }
        // As a tuple: socketioxide then hands over every argument, not only the first.
        deserializer.deserialize_tuple(usize::MAX, All)
    }
}
