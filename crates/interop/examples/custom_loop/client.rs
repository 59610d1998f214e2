//! A complete Socket.IO client with no async runtime: `std::net`, tungstenite's blocking
//! WebSocket, and one loop around the sans-IO `socketio_proto::Manager`.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use engineio_proto::{Transmit, TransportId, TransportKind, WsFrame};
use socketio_proto::{Event, Manager, ManagerConfig, Output};
use tungstenite::{Message, WebSocket, client::IntoClientRequest};

/// The manager, the one WebSocket it uses, and the events it reported.
pub struct BlockingClient {
    pub manager: Manager,
    ws: Option<(TransportId, WebSocket<TcpStream>)>,
    pub events: VecDeque<Event>,
}

impl BlockingClient {
    /// A client for `url` over WebSocket only (a blocking HTTP client would add polling).
    pub fn new(url: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let mut config = ManagerConfig::new(url)?;
        config.engine.transports = vec![TransportKind::WebSocket];
        // Jitter for reconnection delays: any `rand_core::RngCore` will do.
        let rng = Box::new(rand_core::UnwrapErr(rand_core::OsRng));
        let manager = Manager::new(config, Instant::now(), rng)?;
        Ok(Self {
            manager,
            ws: None,
            events: VecDeque::new(),
        })
    }

    /// Runs the loop until `done` accepts an event (returned) or `limit` passes (`None`).
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Event) -> bool,
    ) -> Option<Event> {
        let end = Instant::now() + limit;
        loop {
            // 1. Drain: perform transmits, collect events.
            while let Some(output) = self.manager.poll_output() {
                match output {
                    Output::Transmit(t) => self.perform(t),
                    Output::Event(e) if done(&e) => return Some(e),
                    Output::Event(e) => self.events.push_back(e),
                }
            }
            // 2. Wait for a frame, at most until the manager's deadline.
            let now = Instant::now();
            if now >= end {
                return None;
            }
            let deadline = self.manager.poll_timeout().unwrap_or(end).min(end);
            let wait = deadline
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            match &mut self.ws {
                Some((id, ws)) => {
                    let id = *id;
                    let _ = ws.get_mut().set_read_timeout(Some(wait));
                    match ws.read() {
                        Ok(Message::Text(t)) => self.frame(id, WsFrame::Text(t.into())),
                        Ok(Message::Binary(b)) => self.frame(id, WsFrame::Binary(b)),
                        Ok(_) => {}
                        Err(tungstenite::Error::Io(e))
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                        Err(e) => {
                            self.ws = None;
                            let error = match e {
                                tungstenite::Error::ConnectionClosed => None,
                                other => Some(other.to_string()),
                            };
                            self.manager.handle_ws_close(Instant::now(), id, error);
                        }
                    }
                }
                None => std::thread::sleep(wait),
            }
            // 3. Fire what is due.
            self.manager.handle_timeout(Instant::now());
        }
    }

    fn frame(&mut self, id: TransportId, frame: WsFrame) {
        self.manager.handle_ws_frame(Instant::now(), id, frame);
    }

    fn perform(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::WsOpen {
                transport,
                url,
                headers,
                ..
            } => match connect(url.as_str(), &headers) {
                Ok(ws) => {
                    self.ws = Some((transport, ws));
                    self.manager.handle_ws_open(Instant::now(), transport, &[]);
                }
                Err(e) => self
                    .manager
                    .handle_ws_close(Instant::now(), transport, Some(e)),
            },
            Transmit::WsSend { transport, frame } => {
                if let Some((id, ws)) = self.ws.as_mut().filter(|(id, _)| *id == transport) {
                    let message = match frame {
                        WsFrame::Text(t) => {
                            Message::Text(String::from_utf8_lossy(&t).into_owned().into())
                        }
                        WsFrame::Binary(b) => Message::Binary(b),
                    };
                    if let Err(e) = ws.send(message) {
                        let id = *id;
                        self.ws = None;
                        self.manager
                            .handle_ws_close(Instant::now(), id, Some(e.to_string()));
                    }
                }
            }
            Transmit::WsClose { transport } => {
                if self.ws.as_ref().is_some_and(|(id, _)| *id == transport)
                    && let Some((_, mut ws)) = self.ws.take()
                {
                    let _ = ws.close(None);
                    let _ = ws.flush();
                }
            }
            Transmit::HttpGet { .. } | Transmit::HttpPost { .. } => unreachable!("websocket only"),
        }
    }
}

fn connect(url: &str, headers: &[(String, String)]) -> Result<WebSocket<TcpStream>, String> {
    let mut request = url.into_client_request().map_err(|e| e.to_string())?;
    for (name, value) in headers {
        let name: tungstenite::http::HeaderName = name.parse().map_err(|_| "bad header")?;
        request
            .headers_mut()
            .insert(name, value.parse().map_err(|_| "bad header")?);
    }
    let host = request.uri().host().unwrap_or("localhost").to_owned();
    let port = request.uri().port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host.as_str(), port)).map_err(|e| e.to_string())?;
    let (ws, _) = tungstenite::client(request, stream).map_err(|e| e.to_string())?;
    Ok(ws)
}
