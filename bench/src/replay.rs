//! The replay server: a minimal Engine.IO 4 / Socket.IO 5 server that costs the client as
//! little as possible, so a receive benchmark measures the client and not the server.
//!
//! It answers the polling handshake (`0{...}` open packet), the WebSocket upgrade of a polling
//! session (`2probe`/`3probe`/`5`) and WebSocket-only connections; replies to the namespace
//! CONNECT; answers every event that asks for an ack with the event's own arguments (`43<id>`);
//! and on `42["burst",N,...]` streams N events `42["burst",i,""]` — the same bytes the Node
//! test server's `burst` handler sends — as fast as the socket takes them: over WebSocket as
//! pre-encoded frames written straight to the socket, over polling as large `\x1e`-joined
//! payloads, one per GET. It never pings (its ping interval is 300 s).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

/// Events per polling payload: large payloads, as a busy Node server sends them.
const POLL_CHUNK: usize = 4096;
/// Bytes per socket write of pre-encoded WebSocket frames.
const WS_CHUNK: usize = 64 * 1024;

/// A running replay server.
pub struct Replay {
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Replay {
    /// The client URL of this server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

#[derive(Default)]
struct State {
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    next_sid: AtomicU64,
}

/// A polling session (also the one a WebSocket upgrade continues).
#[derive(Default)]
struct Session {
    out: Mutex<Outbox>,
    ready: Notify,
}

#[derive(Default)]
struct Outbox {
    queue: VecDeque<String>,
    stream: VecDeque<Bytes>,
    upgraded: bool,
    closed: bool,
}

/// What one client packet asks of the server.
enum Action {
    Nothing,
    Reply(String),
    Stream(u64),
    Close,
}

/// Starts the server on 127.0.0.1 with a free port, on the current tokio runtime.
pub async fn start() -> std::io::Result<Replay> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State::default());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                // Out of descriptors or similar: back off rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(state.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Ok(Replay { addr })
}

fn query(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        "text/plain; charset=UTF-8".parse().expect("static header"),
    );
    response
}

fn open_packet(sid: &str, upgrades: bool) -> String {
    let upgrades = if upgrades { r#"["websocket"]"# } else { "[]" };
    format!(
        r#"0{{"sid":"{sid}","upgrades":{upgrades},"pingInterval":300000,"pingTimeout":20000,"maxPayload":1000000}}"#
    )
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if !req.uri().path().starts_with("/socket.io") {
        return Ok(text(StatusCode::NOT_FOUND, ""));
    }
    let sid = query(&req, "sid");
    let is_ws = req
        .headers()
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if is_ws {
        return Ok(upgrade(state, sid, req));
    }
    let Some(sid) = sid else {
        // The polling handshake.
        let sid = format!("r{}", state.next_sid.fetch_add(1, Ordering::Relaxed));
        let body = open_packet(&sid, true);
        state
            .sessions
            .lock()
            .expect("sessions")
            .insert(sid, Arc::default());
        return Ok(text(StatusCode::OK, body));
    };
    let Some(session) = state.sessions.lock().expect("sessions").get(&sid).cloned() else {
        return Ok(text(
            StatusCode::BAD_REQUEST,
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ));
    };
    if req.method() == Method::POST {
        use http_body_util::BodyExt;
        let body = match req.into_body().collect().await {
            Ok(body) => body.to_bytes(),
            Err(_) => return Ok(text(StatusCode::BAD_REQUEST, "")),
        };
        let body = String::from_utf8_lossy(&body);
        for packet in body.split('\x1e') {
            let action = act(packet);
            let mut out = session.out.lock().expect("outbox");
            match action {
                Action::Nothing => continue,
                Action::Reply(reply) => out.queue.push_back(reply),
                Action::Stream(n) => out.stream = polling_chunks(n),
                Action::Close => out.closed = true,
            }
            drop(out);
            session.ready.notify_one();
        }
        return Ok(text(StatusCode::OK, "ok"));
    }
    // A long-polling GET: whatever is queued, else the next chunk of a stream, else wait.
    loop {
        let notified = session.ready.notified();
        {
            let mut out = session.out.lock().expect("outbox");
            if !out.queue.is_empty() {
                let body: Vec<String> = out.queue.drain(..).collect();
                return Ok(text(StatusCode::OK, body.join("\x1e")));
            }
            if let Some(chunk) = out.stream.pop_front() {
                return Ok(text(StatusCode::OK, chunk));
            }
            if out.upgraded {
                return Ok(text(StatusCode::OK, "6"));
            }
            if out.closed {
                state.sessions.lock().expect("sessions").remove(&sid);
                return Ok(text(StatusCode::OK, "1"));
            }
        }
        if tokio::time::timeout(Duration::from_secs(20), notified)
            .await
            .is_err()
        {
            return Ok(text(StatusCode::OK, "6"));
        }
    }
}

fn upgrade(
    state: Arc<State>,
    sid: Option<String>,
    mut req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return text(StatusCode::BAD_REQUEST, "");
    };
    let session = match &sid {
        Some(sid) => match state.sessions.lock().expect("sessions").get(sid).cloned() {
            Some(session) => Some(session),
            None => return text(StatusCode::BAD_REQUEST, ""),
        },
        None => None,
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let _ = serve_ws(state, session, ws).await;
    });
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, "websocket".parse().expect("static header"));
    headers.insert(CONNECTION, "Upgrade".parse().expect("static header"));
    headers.insert(
        "sec-websocket-accept",
        derive_accept_key(key.as_bytes())
            .parse()
            .expect("base64 header"),
    );
    response
}

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

async fn serve_ws(
    state: Arc<State>,
    session: Option<Arc<Session>>,
    mut ws: Ws,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if session.is_none() {
        let sid = format!("w{}", state.next_sid.fetch_add(1, Ordering::Relaxed));
        ws.send(Message::text(open_packet(&sid, false))).await?;
    }
    while let Some(message) = ws.next().await {
        let message = message?;
        let Message::Text(packet) = message else {
            if let Message::Close(_) = message {
                break;
            }
            continue;
        };
        match packet.as_str() {
            "2probe" => {
                ws.send(Message::text("3probe")).await?;
                continue;
            }
            "5" => {
                if let Some(session) = &session {
                    // What polling had not delivered yet goes over the WebSocket now; the
                    // pending GET gets a noop.
                    let queued: Vec<String> = {
                        let mut out = session.out.lock().expect("outbox");
                        out.upgraded = true;
                        out.queue.drain(..).collect()
                    };
                    session.ready.notify_one();
                    for packet in queued {
                        ws.send(Message::text(packet)).await?;
                    }
                }
                continue;
            }
            _ => {}
        }
        match act(packet.as_str()) {
            Action::Nothing => {}
            Action::Reply(reply) => ws.send(Message::text(reply)).await?,
            Action::Close => break,
            Action::Stream(n) => {
                ws.flush().await?;
                // Nothing is buffered in tungstenite now: write the frames under it.
                let socket = ws.get_mut();
                for chunk in ws_chunks(n) {
                    socket.write_all(&chunk).await?;
                }
                socket.flush().await?;
            }
        }
    }
    Ok(())
}

/// The server's answer to one Engine.IO packet of the client.
fn act(packet: &str) -> Action {
    let Some(kind) = packet.as_bytes().first() else {
        return Action::Nothing;
    };
    match kind {
        b'1' => Action::Close,
        b'2' => Action::Reply(format!("3{}", &packet[1..])),
        b'4' => socketio(&packet[1..]),
        _ => Action::Nothing,
    }
}

fn socketio(packet: &str) -> Action {
    match packet.as_bytes().first() {
        // CONNECT to the main namespace (with or without auth).
        Some(b'0') => Action::Reply(r#"40{"sid":"replay"}"#.to_owned()),
        Some(b'2') => {
            let rest = &packet[1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let (id, args) = rest.split_at(digits);
            let Ok(serde_json::Value::Array(mut args)) = serde_json::from_str(args) else {
                return Action::Nothing;
            };
            if !id.is_empty() {
                // Ack with the arguments after the event name.
                args.remove(0);
                return Action::Reply(format!("43{id}{}", serde_json::Value::Array(args)));
            }
            if args.first().and_then(|v| v.as_str()) == Some("burst") {
                return Action::Stream(args.get(1).and_then(|v| v.as_u64()).unwrap_or(0));
            }
            Action::Nothing
        }
        _ => Action::Nothing,
    }
}

fn burst_event(i: u64) -> String {
    format!(r#"42["burst",{i},""]"#)
}

/// N events as unmasked WebSocket text frames, in chunks of about [`WS_CHUNK`] bytes.
fn ws_chunks(n: u64) -> impl Iterator<Item = Bytes> {
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= n {
            return None;
        }
        let mut chunk = BytesMut::with_capacity(WS_CHUNK + 64);
        while i < n && chunk.len() < WS_CHUNK {
            let event = burst_event(i);
            chunk.put_u8(0x81); // FIN + text
            let len = event.len();
            if len < 126 {
                chunk.put_u8(len as u8);
            } else {
                chunk.put_u8(126);
                chunk.put_u16(len as u16);
            }
            chunk.put_slice(event.as_bytes());
            i += 1;
        }
        Some(chunk.freeze())
    })
}

/// N events as polling payloads of [`POLL_CHUNK`] packets each.
fn polling_chunks(n: u64) -> VecDeque<Bytes> {
    let mut chunks = VecDeque::new();
    let mut i = 0;
    while i < n {
        let end = (i + POLL_CHUNK as u64).min(n);
        let payload: Vec<String> = (i..end).map(burst_event).collect();
        chunks.push_back(Bytes::from(payload.join("\x1e")));
        i = end;
    }
    chunks
}
