//! Opening the socket from the flags, and funnelling everything that happens to it into one
//! ordered channel.

use std::time::Duration;

use socketio_tokio::{
    ConnectError, DisconnectReason, ManagerEvent, Message, Options, Socket, TlsOptions,
    TransportKind,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::binary::Arg;
use crate::cli::{Common, Transport};

/// Something that happened, in the order it happened.
#[derive(Debug)]
pub enum Happening {
    /// An event from the server.
    Message(Message),
    /// Connected to the namespace.
    Connect {
        /// Whether the session was restored.
        recovered: bool,
    },
    /// Could not connect.
    ConnectError(ConnectError),
    /// Disconnected.
    Disconnect(DisconnectReason),
    /// The connection's lifecycle.
    Manager(ManagerEvent),
    /// A line of standard input; `None` at its end.
    Line(Option<String>),
    /// An ack (or its failure) for the emit sio numbered `n`.
    Ack {
        /// sio's number of the emit.
        n: u64,
        /// Its arguments, or why it did not come.
        result: Result<Vec<Arg>, socketio_tokio::Error>,
    },
}

/// The options built from the flags; an error is a usage error.
pub fn options(common: &Common, reconnection: bool) -> Result<(Options, TlsOptions), String> {
    let mut options = Options::default()
        .auto_connect(false)
        .force_new(true)
        .reconnection(reconnection && !common.no_reconnect);
    if !common.transports.is_empty() {
        options = options.transports(common.transports.iter().map(|t| match t {
            Transport::Polling => TransportKind::Polling,
            Transport::Websocket => TransportKind::WebSocket,
        }));
    }
    if let Some(protocol) = common.protocol {
        options.protocol = protocol;
    }
    if let Some(auth) = &common.auth {
        let value: serde_json::Value =
            serde_json::from_str(auth).map_err(|e| format!("--auth is not JSON: {e}"))?;
        if !value.is_object() {
            return Err("--auth must be a JSON object, e.g. '{\"token\":\"secret\"}'".into());
        }
        options = options.auth(value);
    }
    for (name, value) in &common.query {
        options = options.query(name, value);
    }
    for (name, value) in &common.header {
        options = options.extra_header(name, value);
    }
    if let Some(path) = &common.path {
        options = options.path(path);
    }
    if let Some(timeout) = common.timeout {
        options = options.timeout(Some(timeout.max(Duration::from_millis(1))));
    }
    let mut tls = TlsOptions::default();
    if let Some(file) = &common.ca {
        let pem =
            std::fs::read(file).map_err(|e| format!("--ca {}: {e}", file.to_string_lossy()))?;
        tls.ca.push(pem);
    }
    tls.reject_unauthorized = !common.insecure;
    Ok((options, tls))
}

/// A socket whose every happening arrives on `rx`, not yet connecting.
pub struct Connection {
    /// The socket.
    pub socket: Socket,
    /// Where happenings arrive.
    pub rx: UnboundedReceiver<Happening>,
    /// Where they are sent (for stdin and ack tasks).
    pub tx: UnboundedSender<Happening>,
}

/// Creates the socket and its listeners, then connects. Must run inside the tokio runtime.
pub fn open(url: &str, options: Options, tls: &TlsOptions) -> Result<Connection, String> {
    let socket = socketio_tokio::io_with_tls(url, options, tls).map_err(|e| e.to_string())?;
    let (tx, rx) = unbounded_channel();
    // Every listener runs on the client's task in the order things happen, so one channel
    // keeps that order.
    let send = |tx: &UnboundedSender<Happening>| {
        let tx = tx.clone();
        move |h: Happening| {
            let _ = tx.send(h);
        }
    };
    let to = send(&tx);
    socket.on_any(move |m| to(Happening::Message(m)));
    let to = send(&tx);
    socket.on_connect(move |recovered| to(Happening::Connect { recovered }));
    let to = send(&tx);
    socket.on_connect_error(move |e| to(Happening::ConnectError(e.clone())));
    let to = send(&tx);
    socket.on_disconnect(move |r| to(Happening::Disconnect(r)));
    let to = send(&tx);
    socket.io().on(move |e| to(Happening::Manager(e.clone())));
    socket.connect();
    Ok(Connection { socket, rx, tx })
}

/// Reads standard input lines on a thread of their own (a blocked read must never hold up
/// the exit).
pub fn read_stdin(tx: UnboundedSender<Happening>) {
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(Happening::Line(Some(line))).is_err() {
                return;
            }
        }
        let _ = tx.send(Happening::Line(None));
    });
}

/// How long sio waits after its last event without an ack before it disconnects. A socket.io
/// server drops the events that reach it together with the disconnection (it handles events
/// on the next tick, and by then the socket is gone), so the two must not travel together.
pub const LINGER: Duration = Duration::from_millis(100);

/// Disconnects and lets the connection finish: the client reports the close once the last
/// packets are handed to its transport tasks, so sio gives those tasks (a little) time to
/// end before the process exits and takes them down.
pub async fn close(mut connection: Connection) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let was_connected = connection.socket.connected();
    connection.socket.disconnect();
    if was_connected {
        while let Ok(Some(h)) = tokio::time::timeout_at(deadline, connection.rx.recv()).await {
            if matches!(h, Happening::Manager(ManagerEvent::Close(_))) {
                break;
            }
        }
    }
    // The last handle gone, the client shuts down and its tasks end once their work is done.
    drop(connection);
    let metrics = tokio::runtime::Handle::current().metrics();
    while metrics.num_alive_tasks() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
