//! A scripted HTTP/WebSocket server on 127.0.0.1 for bad-input tests: plain std threads (so it
//! serves every runtime alike), HTTP/1.1 keep-alive, and a script that answers each request
//! with whatever the test needs, including what no real server would send: a body that never
//! ends, one that trickles, a WebSocket frame announcing more bytes than exist.
// Each test binary that includes this uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as sent (a POST's packets).
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the URL carries a session id (not the handshake).
    pub fn has_sid(&self) -> bool {
        self.target.contains("sid=")
    }
}

/// What to do on the WebSocket after the handshake, in order; the connection is then held open
/// until the client closes it.
pub enum WsAction {
    Text(String),
    /// Bytes written as they are: a hand-made frame.
    Raw(Vec<u8>),
}

/// The answer to one request.
pub enum Reply {
    /// A complete response.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// 200, chunked, 64 KiB chunks for as long as the client reads. The bytes written are
    /// reported on the server's `written` channel when the client gives up.
    Endless,
    /// 200, chunked, one byte every 20 ms for as long as the client reads.
    Trickle,
    /// Accept the WebSocket, then these actions.
    WebSocket(Vec<WsAction>),
}

impl Reply {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200, body)
    }

    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Full {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

type Script = dyn Fn(&Request) -> Reply + Send + Sync;

pub struct Scripted {
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// Every request, in arrival order.
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// Bytes an `Endless` or `Trickle` body had written when the client stopped reading.
    pub written: Receiver<usize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Scripted {
    pub fn start(script: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (tx, written) = channel();
        let script: Arc<Script> = Arc::new(script);
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                while let Ok((stream, _)) = listener.accept() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (script, requests, tx, stop) =
                        (script.clone(), requests.clone(), tx.clone(), stop.clone());
                    std::thread::spawn(move || serve(stream, &*script, &requests, &tx, &stop));
                }
            })
        };
        Self {
            port,
            stop,
            requests,
            written,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves one connection: requests in turn until the client closes it or a reply ends it.
fn serve(
    stream: TcpStream,
    script: &Script,
    log: &Mutex<Vec<Request>>,
    written: &Sender<usize>,
    stop: &AtomicBool,
) {
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        log.lock().unwrap().push(request.clone());
        let reply = script(&request);
        let stream = reader.get_mut();
        match reply {
            Reply::Full {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\ncontent-type: text/plain; charset=UTF-8\r\n",
                    reason(status),
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                if stream.write_all(head.as_bytes()).is_err() || stream.write_all(&body).is_err() {
                    return;
                }
            }
            Reply::Endless | Reply::Trickle => {
                let trickle = matches!(reply, Reply::Trickle);
                let head = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/plain; charset=UTF-8\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                // A payload of one message that never ends: "4xxxxx...".
                let mut total = 0;
                let mut first = true;
                // Until the client stops reading, or the server is dropped.
                while !stop.load(Ordering::Relaxed) {
                    let data: Vec<u8> = if trickle {
                        std::thread::sleep(Duration::from_millis(20));
                        b"x".to_vec()
                    } else {
                        vec![b'x'; 64 * 1024]
                    };
                    let data = if first {
                        first = false;
                        [b"4".as_slice(), &data].concat()
                    } else {
                        data
                    };
                    let chunk = [
                        format!("{:x}\r\n", data.len()).into_bytes(),
                        data,
                        b"\r\n".to_vec(),
                    ]
                    .concat();
                    if stream.write_all(&chunk).is_err() {
                        break;
                    }
                    total += chunk.len();
                }
                let _ = written.send(total);
                return;
            }
            Reply::WebSocket(actions) => {
                let key = request.header("sec-websocket-key").unwrap_or_default();
                let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
                let head = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let mut ws = WebSocket::from_raw_socket(reader.into_inner(), Role::Server, None);
                for action in actions {
                    let sent = match action {
                        WsAction::Text(text) => ws.send(Message::text(text)).is_ok(),
                        WsAction::Raw(bytes) => {
                            ws.get_mut().write_all(&bytes).is_ok() && ws.get_mut().flush().is_ok()
                        }
                    };
                    if !sent {
                        return;
                    }
                }
                // Hold it open until the client goes (or the server is dropped).
                let _ = ws
                    .get_mut()
                    .set_read_timeout(Some(Duration::from_millis(100)));
                while !stop.load(Ordering::Relaxed) {
                    match ws.read() {
                        Ok(_) => {}
                        Err(tungstenite::Error::Io(e))
                            if matches!(
                                e.kind(),
                                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                            ) => {}
                        Err(_) => break,
                    }
                }
                return;
            }
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

/// An open packet with these heartbeat settings and no upgrades.
pub fn open_packet(ping_interval: u64, ping_timeout: u64) -> String {
    format!(
        r#"0{{"sid":"scripted","upgrades":[],"pingInterval":{ping_interval},"pingTimeout":{ping_timeout},"maxPayload":1000000}}"#
    )
}

/// The script of a polling session that connects the main namespace, then answers the GETs
/// after that with `then` (the n-th one after the CONNECT reply, from 0). POSTs are accepted.
pub fn polling_session(
    ping_interval: u64,
    then: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    let gets = AtomicUsize::new(0);
    move |request| {
        if request.method == "POST" {
            return Reply::ok("ok");
        }
        if !request.has_sid() {
            return Reply::ok(open_packet(ping_interval, ping_interval));
        }
        match gets.fetch_add(1, Ordering::Relaxed) {
            0 => Reply::ok(r#"40{"sid":"scripted-socket"}"#),
            n => then(n - 1),
        }
    }
}
