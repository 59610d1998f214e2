//! Every option against the real Node.js server: what the default does, and a test that fails
//! if the option is ignored. Tests wait on events (with a guard), never on fixed sleeps; where
//! a test shows that something does *not* happen, a second client with the default option
//! shows that it would have happened by then.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{
    WAIT, connect_error, connected, disconnected, next_manager_event, options, query_param,
    server_requests, settles_on, welcome, within,
};
use futures_util::{FutureExt, StreamExt};
use serde_json::{Value, json};
use socketio_test_kit::node::NodeServer;
use socketio_tokio::{
    AckError, ConfigError, ConnectError, EngineConfigError, Error, ManagerEvent, Options,
    TransportKind, io,
};

fn fresh() -> Options {
    Options::default().force_new(true)
}

/// Manager events as `Manager::on` sees them, with the instant each arrived.
fn record(socket: &socketio_tokio::Socket) -> Arc<Mutex<Vec<(Instant, ManagerEvent)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    socket
        .io()
        .on(move |e| log.lock().unwrap().push((Instant::now(), e.clone())));
    seen
}

/// The manager events already delivered, without waiting.
fn drain(
    events: &mut (impl futures_util::Stream<Item = ManagerEvent> + Unpin),
) -> Vec<ManagerEvent> {
    let mut out = Vec::new();
    while let Some(Some(e)) = events.next().now_or_never() {
        out.push(e);
    }
    out
}

// ----- defaults -----

#[test]
fn defaults_are_the_reference_defaults() {
    let o = Options::default();
    assert!(!o.force_new);
    assert!(o.multiplex);
    assert!(o.auto_connect);
    assert_eq!(o.path, "/socket.io");
    assert!(o.add_trailing_slash);
    assert!(o.query.is_empty());
    assert_eq!(
        o.transports,
        [TransportKind::Polling, TransportKind::WebSocket]
    );
    assert!(o.upgrade);
    assert!(!o.remember_upgrade);
    assert!(!o.try_all_transports);
    assert_eq!(o.timestamp_requests, None);
    assert_eq!(o.timestamp_param, "t");
    assert!(!o.force_base64);
    assert!(o.extra_headers.is_empty());
    assert!(!o.with_credentials);
    assert!(o.protocols.is_empty());
    assert!(o.reconnection);
    assert_eq!(o.reconnection_attempts, None);
    assert_eq!(o.reconnection_delay, Duration::from_millis(1000));
    assert_eq!(o.reconnection_delay_max, Duration::from_millis(5000));
    assert_eq!(o.randomization_factor, 0.5);
    assert_eq!(o.timeout, Some(Duration::from_millis(20_000)));
    assert_eq!(o.auth, None);
    assert_eq!(o.ack_timeout, None);
    assert_eq!(o.retries, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_options_handshake_over_polling_then_upgrade() {
    let server = NodeServer::start(&[]);
    let socket = io(&server.url(), fresh()).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let w = welcome(&mut events).await;
    assert_eq!(w["transport"], "polling");
    let url = w["url"].as_str().expect("url");
    assert!(url.starts_with("/socket.io/?"), "{url}");
    assert_eq!(w["query"]["EIO"], "4");
    assert!(w["query"]["t"].is_string(), "polling requests carry t: {w}");
    assert!(w["query"].get("b64").is_none());
    assert_eq!(w["auth"], json!({}));
    next_manager_event(&mut manager_events, |e| {
        (e == ManagerEvent::Upgrade(TransportKind::WebSocket)).then_some(())
    })
    .await;
    settles_on(&socket, "websocket").await;
    // The WebSocket carries no cache-buster by default.
    let requests = server_requests(&socket).await;
    let ws: Vec<&Value> = requests
        .iter()
        .filter(|r| r["url"].as_str().unwrap().contains("transport=websocket"))
        .collect();
    assert_eq!(ws.len(), 1, "{requests:?}");
    assert_eq!(query_param(ws[0]["url"].as_str().unwrap(), "t"), None);
}

// ----- transports -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transports_order_decides_the_first_transport() {
    let server = NodeServer::start(&[]);
    let socket = io(
        &server.url(),
        fresh().transports([TransportKind::WebSocket, TransportKind::Polling]),
    )
    .expect("io");
    let mut events = socket.events();
    let w = welcome(&mut events).await;
    assert_eq!(w["transport"], "websocket");
    assert_eq!(w["query"]["transport"], "websocket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_false_stays_on_polling() {
    let server = NodeServer::start(&[]);
    let socket = io(&server.url(), fresh().upgrade(false)).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let engine = welcome(&mut events).await["engine"].clone();
    // A client with the default upgrades: once it has, ours would have too.
    let control = io(&server.url(), fresh()).expect("io");
    let mut control_events = control.io().events();
    next_manager_event(&mut control_events, |e| {
        matches!(e, ManagerEvent::Upgrade(_)).then_some(())
    })
    .await;
    assert_eq!(common::server_transport(&socket).await, "polling");
    let requests = server_requests(&socket).await;
    let probes = requests
        .iter()
        .filter_map(|r| r["url"].as_str())
        .filter(|u| query_param(u, "transport").as_deref() == Some("websocket"))
        .filter(|u| query_param(u, "sid").as_ref() == engine.as_str().map(str::to_owned).as_ref())
        .count();
    assert_eq!(probes, 0, "no probe from the client with upgrade: false");
    assert!(
        !drain(&mut manager_events)
            .iter()
            .any(|e| matches!(e, ManagerEvent::Upgrade(_))),
        "no upgrade event"
    );
}

/// With `remember_upgrade`, a connection to a server where a WebSocket worked starts on
/// WebSocket: on reconnection, and for a new manager. Without it, polling first again.
async fn remember_upgrade(on: bool) {
    let server = NodeServer::start(&[]);
    let mut opts = fresh().reconnection_delay(Duration::from_millis(50));
    opts.remember_upgrade = on;
    let socket = io(&server.url(), opts.clone()).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    assert_eq!(welcome(&mut events).await["transport"], "polling");
    next_manager_event(&mut manager_events, |e| {
        matches!(e, ManagerEvent::Upgrade(_)).then_some(())
    })
    .await;
    // The server drops the connection: the reconnection's handshake.
    socket.emit("drop", ()).expect("emit");
    disconnected(&mut events).await;
    let again = welcome(&mut events).await;
    let expected = if on { "websocket" } else { "polling" };
    assert_eq!(again["transport"], expected, "{again}");
    // A new manager for the same server.
    let other = io(&server.url(), opts).expect("io");
    let mut other_events = other.events();
    assert_eq!(welcome(&mut other_events).await["transport"], expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remember_upgrade_starts_on_websocket() {
    remember_upgrade(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_remember_upgrade_starts_on_polling() {
    remember_upgrade(false).await;
}

async fn try_all_transports(on: bool) {
    let server = NodeServer::start(&[("TRANSPORTS", "polling")]);
    let mut opts = fresh()
        .transports([TransportKind::WebSocket, TransportKind::Polling])
        .reconnection(false);
    opts.try_all_transports = on;
    let socket = io(&server.url(), opts).expect("io");
    let mut events = socket.events();
    if on {
        assert_eq!(welcome(&mut events).await["transport"], "polling");
    } else {
        let error = connect_error(&mut events).await;
        assert!(matches!(error, ConnectError::Engine(_)), "{error:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_all_transports_falls_back_to_polling() {
    try_all_transports(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_try_all_transports_a_refused_websocket_fails() {
    try_all_transports(false).await;
}

// ----- the request URL -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_reaches_a_server_on_another_path() {
    let server = NodeServer::start(&[("PATH_PREFIX", "/custom")]);
    let socket = io(&server.url(), fresh().path("/custom")).expect("io");
    let mut events = socket.events();
    let url = welcome(&mut events).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/custom/?EIO=4"), "{url}");
    // The default path finds nothing there.
    let lost = io(&server.url(), fresh().reconnection(false)).expect("io");
    let mut lost_events = lost.events();
    connect_error(&mut lost_events).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_trailing_slash_false_drops_the_slash() {
    let server = NodeServer::start(&[("SERVER_OPTIONS", r#"{"addTrailingSlash":false}"#)]);
    let mut opts = fresh();
    opts.add_trailing_slash = false;
    let socket = io(&server.url(), opts.clone()).expect("io");
    let mut events = socket.events();
    let url = welcome(&mut events).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/socket.io?EIO=4"), "{url}");
    // A default server answers only under `/socket.io/`.
    let strict = NodeServer::start(&[]);
    let lost = io(&strict.url(), opts.reconnection(false)).expect("io");
    let mut lost_events = lost.events();
    connect_error(&mut lost_events).await;
}

async fn query_and_headers(mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = io(
        &format!("{}/?from=url", server.url()),
        options(mode)
            .query("token", "abc")
            .extra_header("x-custom", "hello"),
    )
    .expect("io");
    let mut events = socket.events();
    let w = welcome(&mut events).await;
    assert_eq!(w["query"]["token"], "abc", "{w}");
    assert_eq!(w["query"]["from"], "url", "the URL's own query: {w}");
    assert_eq!(w["headers"]["x-custom"], "hello", "{w}");
    if mode == "upgrade" {
        settles_on(&socket, "websocket").await;
    }
    // Every request, not only the handshake.
    let requests = server_requests(&socket).await;
    assert!(!requests.is_empty());
    for r in &requests {
        let url = r["url"].as_str().unwrap();
        assert_eq!(query_param(url, "token").as_deref(), Some("abc"), "{r}");
        assert_eq!(r["headers"]["x-custom"], "hello", "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_extra_headers_polling() {
    query_and_headers("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_extra_headers_websocket() {
    query_and_headers("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_extra_headers_upgrade() {
    query_and_headers("upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocols_are_offered_on_the_websocket() {
    let server = NodeServer::start(&[]);
    let mut opts = options("websocket");
    opts.protocols = vec!["chat-v1".into(), "chat-v2".into()];
    let socket = io(&server.url(), opts).expect("io");
    let mut events = socket.events();
    let w = welcome(&mut events).await;
    assert_eq!(
        w["headers"]["sec-websocket-protocol"], "chat-v1, chat-v2",
        "{w}"
    );
    // None by default.
    let plain = io(&server.url(), options("websocket")).expect("io");
    let mut plain_events = plain.events();
    let w = welcome(&mut plain_events).await;
    assert!(w["headers"].get("sec-websocket-protocol").is_none(), "{w}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamp_requests_and_param() {
    let server = NodeServer::start(&[]);
    /// Mode, `timestamp_requests`, `timestamp_param`, then whether `t` and `ts` are expected.
    type Case = (
        &'static str,
        Option<bool>,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: [Case; 4] = [
        ("polling", None, "t", Some("t"), None),
        ("websocket", None, "t", None, None),
        ("websocket", Some(true), "ts", None, Some("ts")),
        ("polling", Some(false), "t", None, None),
    ];
    for (mode, stamp, param, t, ts) in cases {
        let mut opts = options(mode);
        opts.timestamp_requests = stamp;
        opts.timestamp_param = param.into();
        let socket = io(&server.url(), opts).expect("io");
        let mut events = socket.events();
        let w = welcome(&mut events).await;
        let query = w["query"].clone();
        let engine = w["engine"].as_str().unwrap().to_owned();
        let has = |name: &'static str| query.get(name).is_some().then_some(name);
        assert_eq!(
            (has("t"), has("ts")),
            (t, ts),
            "{mode} {stamp:?} {param}: {query}"
        );
        if mode == "polling" {
            // Each polling request gets its own value.
            let requests = server_requests(&socket).await;
            let values: Vec<Option<String>> = requests
                .iter()
                .map(|r| r["url"].as_str().unwrap())
                .filter(|url| query_param(url, "sid").as_deref() == Some(engine.as_str()))
                .map(|url| query_param(url, "t"))
                .collect();
            assert!(!values.is_empty());
            if t.is_some() {
                assert!(values.iter().all(Option::is_some), "{values:?}");
                let mut unique = values.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), values.len(), "{values:?}");
            } else {
                assert!(values.iter().all(Option::is_none), "{values:?}");
            }
        }
    }
}

// ----- cookies -----

/// The `io` cookie the server sets on the handshake comes back on every later request of the
/// session with `with_credentials`, and never without. (As in the reference, the jar belongs
/// to one Engine.IO session: a reconnection starts without cookies, so a WebSocket-only
/// connection, one request per session, never sends one.)
async fn cookies(mode: &str, with_credentials: bool) {
    let server = NodeServer::start(&[("COOKIE", "1")]);
    let socket = io(
        &server.url(),
        options(mode)
            .with_credentials(with_credentials)
            .reconnection_delay(Duration::from_millis(50)),
    )
    .expect("io");
    let mut events = socket.events();
    let engine = welcome(&mut events).await["engine"]
        .as_str()
        .unwrap()
        .to_owned();
    if mode == "upgrade" {
        settles_on(&socket, "websocket").await;
    }
    let requests = server_requests(&socket).await;
    assert!(requests.len() >= 2, "{requests:?}");
    assert_eq!(
        requests[0]["headers"].get("cookie"),
        None,
        "the first has none"
    );
    let expected = format!("io={engine}");
    for r in &requests[1..] {
        let cookie = r["headers"]["cookie"].as_str();
        if with_credentials {
            assert_eq!(cookie, Some(expected.as_str()), "{r}");
        } else {
            assert_eq!(cookie, None, "{r}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_polling() {
    cookies("polling", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_credentials_upgrade() {
    cookies("upgrade", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_no_cookie() {
    cookies("polling", false).await;
}

// ----- binary -----

async fn force_base64(mode: &str) {
    let server = NodeServer::start(&[]);
    let mut opts = options(mode);
    opts.force_base64 = true;
    let socket = io(&server.url(), opts).expect("io");
    let mut events = socket.events();
    let w = welcome(&mut events).await;
    assert_eq!(w["query"]["b64"], "1", "{w}");
    if mode == "upgrade" {
        settles_on(&socket, "websocket").await;
    }
    let payload = Bytes::from_static(&[0, 1, 2, 255, 254]);
    let (back,): (Bytes,) = within(socket.emit_with_ack("echo", (payload.clone(),)))
        .await
        .expect("binary ack");
    assert_eq!(back, payload);
    #[derive(serde::Deserialize)]
    struct Nested {
        nested: Bytes,
    }
    let (first, second): (Bytes, Nested) = within(socket.emit_with_ack("binary", ()))
        .await
        .expect("server binary");
    assert_eq!(
        (&first[..], &second.nested[..]),
        (&[1u8, 2, 3][..], &[4u8, 5][..])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_base64_polling() {
    force_base64("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_base64_websocket() {
    force_base64("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_base64_upgrade() {
    force_base64("upgrade").await;
}

// ----- reconnection -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnection_false_stays_disconnected() {
    let mut server = NodeServer::start(&[]);
    let quick = |o: Options| {
        o.reconnection_delay(Duration::from_millis(100))
            .randomization_factor(0.0)
    };
    let socket = io(&server.url(), quick(fresh()).reconnection(false)).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let control = io(&server.url(), quick(fresh())).expect("io");
    let mut control_events = control.events();
    connected(&socket, &mut events).await;
    connected(&control, &mut control_events).await;
    server.restart();
    assert!(disconnected(&mut events).await.reconnects());
    disconnected(&mut control_events).await;
    // The control, with the same delay, is back: ours would have tried by now. (The control
    // may fail an attempt or two while the server restarts.)
    common::next_event(&mut control_events, |e| {
        matches!(e, socketio_tokio::SocketEvent::Connect { .. }).then_some(())
    })
    .await;
    let seen = drain(&mut manager_events);
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, ManagerEvent::ReconnectAttempt(_))),
        "{seen:?}"
    );
    assert!(!socket.connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnection_attempts_then_reconnect_failed() {
    let mut server = NodeServer::start(&[]);
    let socket = io(
        &server.url(),
        fresh()
            .reconnection_attempts(Some(2))
            .reconnection_delay(Duration::from_millis(50))
            .reconnection_delay_max(Duration::from_millis(100)),
    )
    .expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    connected(&socket, &mut events).await;
    server.kill();
    let mut seen = Vec::new();
    let mut failed = false;
    // Up to the error of the last attempt, which comes after reconnect_failed.
    next_manager_event(&mut manager_events, |e| {
        let done = failed && matches!(e, ManagerEvent::ReconnectError(_));
        failed |= e == ManagerEvent::ReconnectFailed;
        seen.push(e);
        done.then_some(())
    })
    .await;
    let from = seen
        .iter()
        .position(|e| matches!(e, ManagerEvent::Close(_)))
        .expect("close");
    let kinds: Vec<String> = seen[from..]
        .iter()
        .filter(|e| !matches!(e, ManagerEvent::Upgrade(_) | ManagerEvent::Ping))
        .map(|e| match e {
            ManagerEvent::Close(_) => "close".to_owned(),
            ManagerEvent::Error(_) => "error".to_owned(),
            ManagerEvent::ReconnectAttempt(n) => format!("attempt {n}"),
            ManagerEvent::ReconnectError(_) => "reconnect_error".to_owned(),
            ManagerEvent::ReconnectFailed => "failed".to_owned(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "close",
            "attempt 1",
            "error",
            "reconnect_error",
            "attempt 2",
            "error",
            "failed",
            "reconnect_error"
        ]
    );
    // Each failed attempt is a connect_error for the socket, and then nothing more.
    for _ in 0..2 {
        connect_error(&mut events).await;
    }
    assert!(!socket.connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnection_delays_double_up_to_the_max() {
    let mut server = NodeServer::start(&[]);
    let socket = io(
        &server.url(),
        fresh()
            .transports([TransportKind::WebSocket])
            .reconnection_attempts(Some(3))
            .reconnection_delay(Duration::from_millis(200))
            .reconnection_delay_max(Duration::from_millis(500))
            .randomization_factor(0.0),
    )
    .expect("io");
    let seen = record(&socket);
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    connected(&socket, &mut events).await;
    server.kill();
    next_manager_event(&mut manager_events, |e| {
        (e == ManagerEvent::ReconnectFailed).then_some(())
    })
    .await;
    let seen = seen.lock().unwrap().clone();
    let at = |pick: &dyn Fn(&ManagerEvent) -> bool| {
        seen.iter()
            .find(|(_, e)| pick(e))
            .map(|(t, _)| *t)
            .expect("event seen")
    };
    let close = at(&|e| matches!(e, ManagerEvent::Close(_)));
    let attempt = |n: u32| at(&move |e| *e == ManagerEvent::ReconnectAttempt(n));
    let gaps = [
        attempt(1) - close,
        attempt(2) - attempt(1),
        attempt(3) - attempt(2),
    ];
    let ms = Duration::from_millis;
    // 200 ms, doubled to 400 ms, doubled to 800 ms but capped at 500 ms.
    assert!(gaps[0] >= ms(200) && gaps[0] < ms(400), "{gaps:?}");
    assert!(gaps[1] >= ms(400), "{gaps:?}");
    assert!(gaps[2] >= ms(500) && gaps[2] < ms(800), "{gaps:?}");
}

// ----- connecting -----

async fn connect_timeout(mode: &str) {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mute = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let socket = io(
        &format!("http://127.0.0.1:{port}"),
        options(mode)
            .timeout(Some(Duration::from_millis(300)))
            .reconnection(false),
    )
    .expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let start = Instant::now();
    let error = connect_error(&mut events).await;
    assert_eq!(error, ConnectError::Engine("timeout".into()));
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        next_manager_event(&mut manager_events, |e| match e {
            ManagerEvent::Error(e) => Some(e),
            _ => None,
        })
        .await,
        "timeout"
    );
    mute.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_polling() {
    connect_timeout("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_websocket() {
    connect_timeout("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_connect_false_waits_for_connect() {
    let server = NodeServer::start(&[]);
    let lazy = io(&server.url(), fresh().auto_connect(false)).expect("io");
    let mut lazy_events = lazy.events();
    // Another client connects, and asks the server how many there are.
    let control = io(&server.url(), fresh()).expect("io");
    let mut control_events = control.events();
    connected(&control, &mut control_events).await;
    let clients = |socket: socketio_tokio::Socket| async move {
        let (stats,): (Value,) = within(socket.emit_with_ack("stats", ()))
            .await
            .expect("stats");
        stats["clientsCount"].as_u64().unwrap()
    };
    assert_eq!(clients(control.clone()).await, 1);
    let handshakes = server_requests(&control)
        .await
        .iter()
        .filter(|r| query_param(r["url"].as_str().unwrap(), "sid").is_none())
        .count();
    assert_eq!(handshakes, 1, "only the control's handshake");
    assert!(!lazy.active());
    lazy.connect();
    connected(&lazy, &mut lazy_events).await;
    assert_eq!(clients(control.clone()).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_and_the_reconnect_hook() {
    let server = NodeServer::start(&[]);
    let socket = io(
        &server.url(),
        fresh()
            .auth(json!({"token": "t0"}))
            .query("v", "0")
            .reconnection_delay(Duration::from_millis(50)),
    )
    .expect("io");
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let log = attempts.clone();
    socket.io().on_reconnect_attempt(move |n, ctx| {
        log.lock().unwrap().push(n);
        ctx.set_auth("/", json!({"token": format!("t{n}")}))
            .expect("auth");
        let query = ctx.query_mut();
        query.retain(|(k, _)| k != "v");
        query.push(("v".into(), n.to_string()));
    });
    let mut events = socket.events();
    let first = welcome(&mut events).await;
    assert_eq!(
        (&first["auth"], &first["query"]["v"]),
        (&json!({"token": "t0"}), &json!("0"))
    );
    socket.emit("drop", ()).expect("emit");
    disconnected(&mut events).await;
    let second = welcome(&mut events).await;
    assert_eq!(
        (&second["auth"], &second["query"]["v"]),
        (&json!({"token": "t1"}), &json!("1")),
        "{second}"
    );
    assert_eq!(*attempts.lock().unwrap(), [1]);
    // Socket::set_auth changes the next CONNECT too.
    socket.set_auth(json!({"token": "manual"})).expect("auth");
    socket.disconnect();
    disconnected(&mut events).await;
    socket.connect();
    assert_eq!(
        welcome(&mut events).await["auth"],
        json!({"token": "manual"})
    );
}

// ----- acks -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_timeout_fails_unanswered_emits() {
    let server = NodeServer::start(&[]);
    let socket = io(
        &server.url(),
        fresh().ack_timeout(Some(Duration::from_millis(200))),
    )
    .expect("io");
    // The deadline runs from the emit, connecting included: connect first.
    let mut events = socket.events();
    connected(&socket, &mut events).await;
    let (v,): (u32,) = within(socket.emit_with_ack("echo", (1,)))
        .await
        .expect("answered in time");
    assert_eq!(v, 1);
    let start = Instant::now();
    let result = within(socket.emit_with_ack::<_, ()>("ignore", ())).await;
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(200));
    // Without the option an unanswered ack waits (until a disconnect).
    let patient = io(&server.url(), fresh()).expect("io");
    let waiting = patient.emit_with_ack::<_, ()>("ignore", ());
    let (v,): (u32,) = within(patient.emit_with_ack("echo", (2,)))
        .await
        .expect("echo");
    assert_eq!(v, 2);
    let mut waiting = Box::pin(waiting);
    assert!((&mut waiting).now_or_never().is_none(), "still waiting");
    patient.disconnect();
    assert!(matches!(
        within(waiting).await,
        Err(Error::Ack(AckError::Disconnected))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_resend_until_acked() {
    let server = NodeServer::start(&[]);
    let with = |retries: Option<u32>| {
        fresh()
            .ack_timeout(Some(Duration::from_millis(300)))
            .retries(retries)
    };
    // The server acks "flaky" from its 3rd arrival on.
    let enough = io(&server.url(), with(Some(3))).expect("io");
    let (tries,): (u32,) = within(enough.emit_with_ack("flaky", (3,)))
        .await
        .expect("acked on the third try");
    // The third; the fourth only if the third's ack came later than the timeout.
    assert!((3..=4).contains(&tries), "{tries}");
    let too_few = io(&server.url(), with(Some(1))).expect("io");
    let result = within(too_few.emit_with_ack::<_, (u32,)>("flaky", (3,))).await;
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
    let none = io(&server.url(), with(None)).expect("io");
    let result = within(none.emit_with_ack::<_, (u32,)>("flaky", (3,))).await;
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
}

// ----- validation -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_options_are_refused_at_construction() {
    let url = "http://127.0.0.1:9";
    let config = |r: Result<socketio_tokio::Socket, Error>| match r {
        Err(Error::Config(e)) => e,
        other => panic!("{other:?}"),
    };
    let e = config(io(
        url,
        fresh()
            .reconnection_delay(Duration::from_secs(2))
            .reconnection_delay_max(Duration::from_secs(1)),
    ));
    assert!(matches!(e, ConfigError::DelayMaxBelowDelay { .. }), "{e:?}");
    for factor in [1.5, -0.1, f64::NAN] {
        let e = config(io(url, fresh().randomization_factor(factor)));
        assert!(matches!(e, ConfigError::RandomizationFactor(_)), "{e:?}");
    }
    for value in ["a\r\nb", "a\nb", "a\rb"] {
        let e = config(io(url, fresh().extra_header("x-custom", value)));
        assert!(
            matches!(
                e,
                ConfigError::Engine(EngineConfigError::InvalidHeaderValue(_))
            ),
            "{e:?}"
        );
    }
    let e = config(io("localhost:3000", fresh()));
    assert!(
        matches!(e, ConfigError::Engine(EngineConfigError::MissingScheme(_))),
        "{e:?}"
    );
    let e = config(io("ftp://localhost", fresh()));
    assert!(
        matches!(
            e,
            ConfigError::Engine(EngineConfigError::UnsupportedScheme(_))
        ),
        "{e:?}"
    );
    let e = config(io(url, fresh().retries(Some(2))));
    assert_eq!(e, ConfigError::RetriesWithoutAckTimeout);
    let e = config(io(url, fresh().timeout(Some(Duration::ZERO))));
    assert_eq!(e, ConfigError::ZeroTimeout);
    let e = config(io(url, fresh().transports([])));
    assert_eq!(e, ConfigError::Engine(EngineConfigError::NoTransports));
    let e = config(io(url, fresh().auth(json!("not an object"))));
    assert_eq!(e, ConfigError::InvalidAuth);
    // And the messages say what to change.
    let message = Error::Config(ConfigError::RetriesWithoutAckTimeout).to_string();
    assert!(message.contains("ack_timeout"), "{message}");
    let _ = WAIT;
}
