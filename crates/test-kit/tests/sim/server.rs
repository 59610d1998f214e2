//! The fake server on its own, against the engine.io-protocol test-suite's expectations.

use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio_proto::{TransportKind, WsFrame};
use socketio_test_kit::{
    ConnId, Echo, FakeServer, HttpRequest, Method, RequestId, ServerConfig, ServerOutput,
    ViolationKind,
};

struct T {
    server: FakeServer<Echo>,
    t0: Instant,
    next: u64,
}

impl T {
    fn new() -> Self {
        let t0 = Instant::now();
        let config = ServerConfig::default()
            .with_heartbeat(300, 200)
            .with_sids(["s1", "s2"])
            .with_strict(false);
        Self {
            server: FakeServer::new(config, Echo, t0, 1),
            t0,
            next: 0,
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn request(&mut self, ms: u64, method: Method, query: &str, body: &str) -> RequestId {
        self.next += 1;
        let id = RequestId(self.next);
        let url = url::Url::parse(&format!("http://localhost/engine.io/?{query}")).unwrap();
        let headers = if method == Method::Post {
            vec![("content-type".into(), "text/plain;charset=UTF-8".into())]
        } else {
            vec![]
        };
        let body = Bytes::copy_from_slice(body.as_bytes());
        self.server.handle_http_request(
            self.at(ms),
            HttpRequest {
                id,
                method,
                url,
                headers,
                body,
            },
        );
        id
    }

    fn get(&mut self, ms: u64, query: &str) -> RequestId {
        self.request(ms, Method::Get, query, "")
    }

    fn post(&mut self, ms: u64, query: &str, body: &str) -> RequestId {
        self.request(ms, Method::Post, query, body)
    }

    /// Drained outputs rendered as `#id status body` / `wsN frame`.
    fn out(&mut self) -> Vec<String> {
        let mut v = Vec::new();
        while let Some(o) = self.server.poll_output() {
            v.push(match o {
                ServerOutput::HttpResponse { request, response } => format!(
                    "{request} {} {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                ),
                ServerOutput::HttpAbort { request } => format!("{request} abort"),
                ServerOutput::WsAccept { conn, .. } => format!("{conn} 101"),
                ServerOutput::WsReject { conn, status, .. } => format!("{conn} {status}"),
                ServerOutput::WsSend { conn, frame } => {
                    format!("{conn} {}", socketio_test_kit::render_frame(&frame))
                }
                ServerOutput::WsClose { conn } => format!("{conn} close"),
                ServerOutput::WsAbort { conn } => format!("{conn} abort"),
            });
        }
        v
    }

    fn tick(&mut self, ms: u64) {
        self.server.handle_timeout(self.at(ms));
    }
}

const OPEN_S1: &str = r#"0{"sid":"s1","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#;

#[test]
fn handshake_and_echo_over_polling() {
    let mut t = T::new();
    t.get(0, "EIO=4&transport=polling");
    assert_eq!(t.out(), [format!("#1 200 {OPEN_S1}")]);
    t.post(1, "EIO=4&transport=polling&sid=s1", "4hello\x1ebAQIDBA==");
    assert_eq!(t.out(), ["#2 200 ok"]);
    t.get(2, "EIO=4&transport=polling&sid=s1");
    assert_eq!(t.out(), ["#3 200 4hello\x1ebAQIDBA=="]);
    assert!(t.server.violations().is_empty());
}

#[test]
fn bad_requests_get_the_reference_errors() {
    let mut t = T::new();
    t.get(0, "transport=polling");
    t.get(0, "EIO=3&transport=polling");
    t.get(0, "EIO=4&transport=abc");
    t.get(0, "EIO=4&transport=polling&sid=abc");
    t.post(0, "EIO=4&transport=polling", "4x");
    assert_eq!(
        t.out(),
        [
            r#"#1 400 {"code":5,"message":"Unsupported protocol version"}"#,
            r#"#2 400 {"code":5,"message":"Unsupported protocol version"}"#,
            r#"#3 400 {"code":0,"message":"Transport unknown"}"#,
            r#"#4 400 {"code":1,"message":"Session ID unknown"}"#,
            r#"#5 400 {"code":2,"message":"Bad handshake method"}"#,
        ]
    );
    assert_eq!(
        t.server.violations().len(),
        4,
        "{:?}",
        t.server.violations()
    );
}

#[test]
fn a_duplicate_get_kills_the_session() {
    let mut t = T::new();
    t.get(0, "EIO=4&transport=polling");
    t.get(1, "EIO=4&transport=polling&sid=s1");
    t.get(2, "EIO=4&transport=polling&sid=s1");
    t.get(3, "EIO=4&transport=polling&sid=s1");
    let out = t.out();
    assert_eq!(
        out[1..],
        [
            "#3 400 ",
            "#2 200 1",
            r#"#4 400 {"code":1,"message":"Session ID unknown"}"#
        ]
    );
    assert_eq!(t.server.violations()[0].kind, ViolationKind::ConcurrentGet);
}

#[test]
fn an_invalid_post_closes_the_session() {
    let mut t = T::new();
    t.get(0, "EIO=4&transport=polling");
    t.post(1, "EIO=4&transport=polling&sid=s1", "abc");
    t.get(2, "EIO=4&transport=polling&sid=s1");
    let out = t.out();
    assert!(out[1].starts_with("#2 400"));
    assert!(out[2].starts_with("#3 400"));
    assert!(matches!(
        t.server.violations()[0].kind,
        ViolationKind::Malformed(_)
    ));
}

#[test]
fn the_heartbeat_and_its_timeout() {
    let mut t = T::new();
    t.get(0, "EIO=4&transport=polling");
    t.get(1, "EIO=4&transport=polling&sid=s1");
    t.out();
    assert_eq!(t.server.poll_timeout(), Some(t.at(300)));
    t.tick(300);
    assert_eq!(t.out(), ["#2 200 2"]);
    t.post(310, "EIO=4&transport=polling&sid=s1", "3");
    t.get(310, "EIO=4&transport=polling&sid=s1");
    t.out();
    assert_eq!(t.server.poll_timeout(), Some(t.at(610)));
    t.tick(610);
    assert_eq!(t.out(), ["#4 200 2"]);
    // No pong: closed 200 ms later; later requests are refused.
    t.tick(810);
    t.get(811, "EIO=4&transport=polling&sid=s1");
    assert_eq!(
        t.out(),
        [r#"#5 400 {"code":1,"message":"Session ID unknown"}"#]
    );
    assert_eq!(
        t.server.session("s1").unwrap().closed.as_deref(),
        Some("ping timeout")
    );
}

#[test]
fn a_client_close_releases_the_parked_get_with_a_noop() {
    let mut t = T::new();
    t.get(0, "EIO=4&transport=polling");
    t.get(1, "EIO=4&transport=polling&sid=s1");
    t.post(2, "EIO=4&transport=polling&sid=s1", "1");
    assert_eq!(t.out()[1..], ["#2 200 6", "#3 200 ok"]);
    assert_eq!(t.server.poll_timeout(), None);
}

#[test]
fn the_upgrade_of_the_protocol_test_suite() {
    let mut t = T::new();
    t.get(0, "EIO=4&transport=polling");
    t.out();
    let ws = ConnId(1);
    let url =
        url::Url::parse("ws://localhost/engine.io/?EIO=4&transport=websocket&sid=s1").unwrap();
    t.server.handle_ws_connect(t.at(1), ws, url.clone(), vec![]);
    t.server
        .handle_ws_frame(t.at(2), ws, WsFrame::Text(Bytes::from_static(b"2probe")));
    t.get(3, "EIO=4&transport=polling&sid=s1");
    assert_eq!(t.out(), ["ws1 101", "ws1 3probe"]);
    // The noop comes with the server's 100 ms check.
    assert_eq!(t.server.poll_timeout(), Some(t.at(102)));
    t.tick(102);
    assert_eq!(t.out(), ["#2 200 6"]);
    t.server
        .handle_ws_frame(t.at(103), ws, WsFrame::Text(Bytes::from_static(b"5")));
    t.server
        .handle_ws_frame(t.at(104), ws, WsFrame::Text(Bytes::from_static(b"4hello")));
    t.server.handle_ws_frame(
        t.at(104),
        ws,
        WsFrame::Binary(Bytes::from_static(&[1, 2, 3, 4])),
    );
    assert_eq!(t.out(), ["ws1 4hello", "ws1 <01 02 03 04>"]);
    assert_eq!(
        t.server.session("s1").unwrap().transport,
        TransportKind::WebSocket
    );
    // Polling with that sid is refused, and so is a second WebSocket.
    t.get(105, "EIO=4&transport=polling&sid=s1");
    t.server
        .handle_ws_connect(t.at(105), ConnId(2), url, vec![]);
    assert_eq!(
        t.out(),
        [
            r#"#3 400 {"code":3,"message":"Bad request"}"#.to_owned(),
            "ws2 400".to_owned()
        ]
    );
    // The heartbeat now runs on the WebSocket.
    t.tick(300);
    assert_eq!(t.out(), ["ws1 2"]);
}

#[test]
fn a_probe_without_5_is_closed_after_the_upgrade_timeout() {
    let mut t = T::new();
    t.get(0, "EIO=4&transport=polling");
    t.out();
    let url =
        url::Url::parse("ws://localhost/engine.io/?EIO=4&transport=websocket&sid=s1").unwrap();
    t.server.handle_ws_connect(t.at(1), ConnId(1), url, vec![]);
    t.out();
    // Pings keep it alive over polling meanwhile; the probe never sends `2probe`.
    t.get(2, "EIO=4&transport=polling&sid=s1");
    let mut closed_at = None;
    while closed_at.is_none() {
        let next = t.server.poll_timeout().unwrap();
        let ms = next.duration_since(t.t0).as_millis() as u64;
        assert!(ms <= 10_001, "no upgrade timeout");
        t.tick(ms);
        for line in t.out() {
            if line.ends_with(" 200 2") {
                t.post(ms + 1, "EIO=4&transport=polling&sid=s1", "3");
                t.get(ms + 1, "EIO=4&transport=polling&sid=s1");
            }
            if line == "ws1 close" {
                closed_at = Some(ms);
            }
        }
    }
    assert_eq!(closed_at, Some(10_001));
    assert_eq!(
        t.server.session("s1").unwrap().transport,
        TransportKind::Polling
    );
    assert_eq!(t.server.session("s1").unwrap().closed, None);
}

#[test]
fn a_websocket_frame_over_max_payload_closes_the_session() {
    let t0 = Instant::now();
    let config = ServerConfig::default()
        .with_max_payload(10)
        .with_sids(["w"]);
    let mut server = FakeServer::new(config, Echo, t0, 1);
    let url = url::Url::parse("ws://localhost/engine.io/?EIO=4&transport=websocket").unwrap();
    server.handle_ws_connect(t0, ConnId(1), url, vec![]);
    server.handle_ws_frame(
        t0,
        ConnId(1),
        WsFrame::Text(Bytes::from_static(b"4this is too long")),
    );
    let last = std::iter::from_fn(|| server.poll_output()).last();
    assert_eq!(last, Some(ServerOutput::WsClose { conn: ConnId(1) }));
    assert_eq!(
        server.session("w").unwrap().closed.as_deref(),
        Some("transport error")
    );
}
