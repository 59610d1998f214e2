//! A hand-driven harness: a client, a virtual clock and helpers to pick transmits apart.

use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio_proto::{
    Client, Config, Event, HttpResponse, Message, Output, PollRequest, Transmit, TransportEvent,
    TransportId, WsFrame,
};

/// The session id of the captured Socket.IO session in protocol.md 2.8.
pub const SID: &str = "F-u0OIq_O9rLDLoFAAAA";

/// An open packet with the given parameters.
pub fn open_packet(
    upgrades: &[&str],
    ping_interval: u64,
    ping_timeout: u64,
    max_payload: u64,
) -> String {
    let upgrades: Vec<String> = upgrades.iter().map(|u| format!("{u:?}")).collect();
    format!(
        r#"0{{"sid":"{SID}","upgrades":[{}],"pingInterval":{ping_interval},"pingTimeout":{ping_timeout},"maxPayload":{max_payload}}}"#,
        upgrades.join(",")
    )
}

/// The captured polling handshake of protocol.md 1.5 (no upgrades so probes stay out of the
/// way unless a test asks for them).
pub fn open_polling_only() -> String {
    open_packet(&[], 25_000, 20_000, 1_000_000)
}

/// A fixed random source: tests only need determinism.
pub struct FixedRng(pub u64);

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = self.next_u64() as u8;
        }
    }
}

/// A default config for `http://localhost:3000`.
pub fn config() -> Config {
    Config::new("http://localhost:3000").unwrap()
}

/// Drained outputs, split but each kept in order.
#[derive(Debug, Default)]
pub struct Drained {
    pub transmits: Vec<Transmit>,
    pub events: Vec<Event>,
    pub all: Vec<Output>,
}

impl Drained {
    /// The only transmit; panics otherwise.
    pub fn one(&self) -> &Transmit {
        assert_eq!(
            self.transmits.len(),
            1,
            "expected one transmit, got {:#?}",
            self.all
        );
        &self.transmits[0]
    }

    /// The close reason string, if the session closed.
    pub fn close_reason(&self) -> Option<&'static str> {
        self.events.iter().find_map(|e| match e {
            Event::Close(r) => Some(r.as_str()),
            _ => None,
        })
    }

    /// The messages received, as strings (binary as hex).
    pub fn messages(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message(Message::Text(t)) => Some(String::from_utf8(t.to_vec()).unwrap()),
                Event::Message(Message::Binary(b)) => Some(hex(b)),
                _ => None,
            })
            .collect()
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A client on a virtual clock.
pub struct H {
    pub client: Client,
    pub t0: Instant,
    pub now: Instant,
}

impl H {
    pub fn new(config: Config) -> Self {
        Self::with_prior(config, false)
    }

    pub fn with_prior(config: Config, prior_websocket_success: bool) -> Self {
        let t0 = Instant::now();
        let client = Client::new(config, t0, &mut FixedRng(7), prior_websocket_success)
            .expect("valid config");
        Self {
            client,
            t0,
            now: t0,
        }
    }

    /// Moves the clock to `ms` after the start (never used to go backwards by accident).
    pub fn at(&mut self, ms: u64) -> Instant {
        self.now = self.t0 + Duration::from_millis(ms);
        self.now
    }

    pub fn drain(&mut self) -> Drained {
        let mut d = Drained::default();
        while let Some(o) = self.client.poll_output() {
            match &o {
                Output::Transmit(t) => d.transmits.push(t.clone()),
                Output::Event(e) => d.events.push(e.clone()),
            }
            d.all.push(o);
        }
        d
    }

    pub fn get_response(&mut self, id: TransportId, status: u16, body: &str) -> Drained {
        let now = self.now;
        self.client.handle_transport(
            now,
            id,
            TransportEvent::HttpResponse {
                request: PollRequest::Get,
                response: HttpResponse::new(status, Bytes::copy_from_slice(body.as_bytes())),
            },
        );
        self.drain()
    }

    /// Answers the handshake GET `id` with a polling-only open packet and these
    /// `Set-Cookie` headers.
    pub fn open_setting_cookies(&mut self, id: TransportId, cookies: &[&str]) -> Drained {
        let now = self.now;
        let headers = cookies
            .iter()
            .map(|c| ("set-cookie".to_owned(), (*c).to_owned()))
            .collect();
        self.client.handle_transport(
            now,
            id,
            TransportEvent::HttpResponse {
                request: PollRequest::Get,
                response: HttpResponse {
                    status: 200,
                    headers,
                    body: Bytes::from(open_polling_only()),
                },
            },
        );
        self.drain()
    }

    pub fn get_ok(&mut self, id: TransportId, body: &str) -> Drained {
        self.get_response(id, 200, body)
    }

    pub fn post_response(&mut self, id: TransportId, status: u16, body: &str) -> Drained {
        let now = self.now;
        self.client.handle_transport(
            now,
            id,
            TransportEvent::HttpResponse {
                request: PollRequest::Post,
                response: HttpResponse::new(status, Bytes::copy_from_slice(body.as_bytes())),
            },
        );
        self.drain()
    }

    pub fn post_ok(&mut self, id: TransportId) -> Drained {
        self.post_response(id, 200, "ok")
    }

    pub fn send_text(&mut self, text: &str) -> Drained {
        let now = self.now;
        self.client
            .send(now, Message::text(text))
            .expect("send accepted");
        self.drain()
    }

    pub fn ws_open(&mut self, id: TransportId) -> Drained {
        let now = self.now;
        self.client.handle_transport(
            now,
            id,
            TransportEvent::WsOpen {
                headers: Vec::new(),
            },
        );
        self.drain()
    }

    pub fn ws_text(&mut self, id: TransportId, text: &str) -> Drained {
        let now = self.now;
        self.client.handle_transport(
            now,
            id,
            TransportEvent::WsFrame(WsFrame::Text(Bytes::copy_from_slice(text.as_bytes()))),
        );
        self.drain()
    }

    pub fn ws_close(&mut self, id: TransportId, error: Option<&str>) -> Drained {
        let now = self.now;
        self.client.handle_transport(
            now,
            id,
            TransportEvent::WsClose {
                error: error
                    .map(|e| engineio_proto::IoError::new(engineio_proto::IoErrorKind::Other, e)),
            },
        );
        self.drain()
    }

    pub fn timeout(&mut self) -> Drained {
        let now = self.now;
        self.client.handle_timeout(now);
        self.drain()
    }

    /// Runs the polling handshake with `open` as the GET body. Returns the polling transport
    /// and what the handshake response produced.
    pub fn handshake_polling(&mut self, open: &str) -> (TransportId, Drained) {
        let first = self.drain();
        let id = expect_get(first.one());
        let d = self.get_ok(id, open);
        (id, d)
    }

    /// A polling session with no upgrades offered, opened, with its next GET parked.
    pub fn open_polling(&mut self) -> TransportId {
        let (id, d) = self.handshake_polling(&open_polling_only());
        assert!(
            matches!(d.events.last(), Some(Event::Open(_))),
            "{:#?}",
            d.all
        );
        assert_eq!(d.transmits.len(), 1);
        expect_get(&d.transmits[0]);
        id
    }
}

/// The transport of an `HttpGet`; panics on anything else.
pub fn expect_get(t: &Transmit) -> TransportId {
    match t {
        Transmit::HttpGet { transport, .. } => *transport,
        other => panic!("expected an HttpGet, got {other:?}"),
    }
}

/// The transport and body of an `HttpPost`; panics on anything else.
pub fn expect_post(t: &Transmit) -> (TransportId, String) {
    match t {
        Transmit::HttpPost {
            transport, body, ..
        } => (*transport, String::from_utf8(body.to_vec()).unwrap()),
        other => panic!("expected an HttpPost, got {other:?}"),
    }
}

/// The transport of a `WsOpen`; panics on anything else.
pub fn expect_ws_open(t: &Transmit) -> TransportId {
    match t {
        Transmit::WsOpen { transport, .. } => *transport,
        other => panic!("expected a WsOpen, got {other:?}"),
    }
}

/// The transport and frame of a `WsSend` as text (binary as `<hex>`).
pub fn expect_ws_send(t: &Transmit) -> (TransportId, String) {
    match t {
        Transmit::WsSend { transport, frame } => {
            let s = match frame {
                WsFrame::Text(b) => String::from_utf8(b.to_vec()).unwrap(),
                WsFrame::Binary(b) => format!("<{}>", hex(b)),
            };
            (*transport, s)
        }
        other => panic!("expected a WsSend, got {other:?}"),
    }
}

/// The URL of a GET, POST or WsOpen.
pub fn url_of(t: &Transmit) -> &url::Url {
    match t {
        Transmit::HttpGet { url, .. }
        | Transmit::HttpPost { url, .. }
        | Transmit::WsOpen { url, .. } => url,
        other => panic!("no URL in {other:?}"),
    }
}

/// The headers of a GET, POST or WsOpen.
pub fn headers_of(t: &Transmit) -> &[(String, String)] {
    match t {
        Transmit::HttpGet { headers, .. }
        | Transmit::HttpPost { headers, .. }
        | Transmit::WsOpen { headers, .. } => headers,
        other => panic!("no headers in {other:?}"),
    }
}

/// The query of a URL as pairs, in order.
pub fn query(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The query keys of a URL, in order.
pub fn query_keys(url: &url::Url) -> Vec<String> {
    query(url).into_iter().map(|(k, _)| k).collect()
}
