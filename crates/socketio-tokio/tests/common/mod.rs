//! Helpers shared by the tests against the real Node.js server: options per transport mode,
//! and waiting for events with a guard (never a fixed sleep).

#![allow(dead_code)]

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use serde_json::Value;
use socketio_tokio::{ManagerEvent, Options, Socket, SocketEvent, TransportKind};

/// The longest any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// The transport modes the suites run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Long-polling only.
    Polling,
    /// WebSocket only.
    WebSocket,
    /// Polling, upgraded to WebSocket.
    Upgrade,
}

impl Mode {
    /// The mode by its name in the test modules.
    pub fn from_name(name: &str) -> Self {
        match name {
            "polling" => Self::Polling,
            "websocket" => Self::WebSocket,
            _ => Self::Upgrade,
        }
    }

    /// The transports option for the mode.
    pub fn transports(self) -> Vec<TransportKind> {
        match self {
            Self::Polling => vec![TransportKind::Polling],
            Self::WebSocket => vec![TransportKind::WebSocket],
            Self::Upgrade => vec![TransportKind::Polling, TransportKind::WebSocket],
        }
    }
}

/// Options for a transport mode (by name), always a new connection.
pub fn options(mode: &str) -> Options {
    Options::default()
        .transports(Mode::from_name(mode).transports())
        .force_new(true)
}

/// Awaits `future`, failing the test after [`WAIT`].
pub async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(WAIT, future).await.expect("in time")
}

/// Waits for the next event matching `pick`.
pub async fn next_event<T>(
    events: &mut (impl Stream<Item = SocketEvent> + Unpin),
    mut pick: impl FnMut(SocketEvent) -> Option<T>,
) -> T {
    within(async {
        loop {
            let event = events.next().await.expect("event stream open");
            if let Some(v) = pick(event) {
                return v;
            }
        }
    })
    .await
}

/// Waits for the next manager event matching `pick`.
pub async fn next_manager_event<T>(
    events: &mut (impl Stream<Item = ManagerEvent> + Unpin),
    mut pick: impl FnMut(ManagerEvent) -> Option<T>,
) -> T {
    within(async {
        loop {
            let event = events.next().await.expect("event stream open");
            if let Some(v) = pick(event) {
                return v;
            }
        }
    })
    .await
}

/// Waits until the socket is connected; a connect error fails the test.
pub async fn connected(socket: &Socket, events: &mut (impl Stream<Item = SocketEvent> + Unpin)) {
    if socket.connected() {
        return;
    }
    next_event(events, |e| match e {
        SocketEvent::Connect { .. } => Some(()),
        SocketEvent::ConnectError(e) => panic!("connect error: {e}"),
        _ => None,
    })
    .await;
}

/// Waits for the connect error (a connection fails the test).
pub async fn connect_error(
    events: &mut (impl Stream<Item = SocketEvent> + Unpin),
) -> socketio_tokio::ConnectError {
    next_event(events, |e| match e {
        SocketEvent::ConnectError(e) => Some(e),
        SocketEvent::Connect { .. } => panic!("connected"),
        _ => None,
    })
    .await
}

/// Waits for the next disconnection.
pub async fn disconnected(
    events: &mut (impl Stream<Item = SocketEvent> + Unpin),
) -> socketio_tokio::DisconnectReason {
    next_event(events, |e| match e {
        SocketEvent::Disconnect(r) => Some(r),
        _ => None,
    })
    .await
}

/// Waits for the server's next "welcome" (sent on every connection): namespace, auth, query,
/// headers, request URL, engine id and transport of the handshake.
pub async fn welcome(events: &mut (impl Stream<Item = SocketEvent> + Unpin)) -> Value {
    let message = next_event(events, |e| match e {
        SocketEvent::Message(m) if m.event == "welcome" => Some(m),
        SocketEvent::ConnectError(e) => panic!("connect error: {e}"),
        _ => None,
    })
    .await;
    message.args.get(0).expect("welcome argument")
}

/// Every request the server saw so far: `{method, url, headers}`.
pub async fn server_requests(socket: &Socket) -> Vec<Value> {
    let (requests,): (Vec<Value>,) = within(socket.emit_with_ack("requests", ()))
        .await
        .expect("requests");
    requests
}

/// The transport the server sees this socket on now.
pub async fn server_transport(socket: &Socket) -> String {
    let (transport,): (String,) = within(socket.emit_with_ack("transport", ()))
        .await
        .expect("transport");
    transport
}

/// Asks until the server sees the socket on `expected` (an upgrade may still be under way).
pub async fn settles_on(socket: &Socket, expected: &str) {
    within(async {
        loop {
            if server_transport(socket).await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A query parameter of a request URL as the server logged it (`/socket.io/?EIO=4&...`).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(&format!("http://x{url}")).expect("request URL");
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
