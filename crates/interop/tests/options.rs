//! Every option against the real Node.js server, on every runtime: what the default does, and
//! a test that fails if the option is ignored. Tests wait on events (with a guard), never on
//! fixed sleeps; where a test shows that something does *not* happen, a second client with the
//! default option shows that it would have happened by then.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use serde_json::{Value, json};
use socketio_async::{
    AckError, ConfigError, ConnectAttempt, ConnectError, EngineConfigError, Error, ManagerEvent,
    Options, Socket, SocketEvent, TransportKind,
};
use socketio_interop::{MuteServer, NodeServer, Rt, on_every_runtime, options, query_param};

fn fresh() -> Options {
    Options::default().force_new(true)
}

/// Manager events as `Manager::on` sees them, with the instant each arrived.
fn record(socket: &Socket) -> Arc<Mutex<Vec<(Instant, ManagerEvent)>>> {
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

/// Plain values, no runtime involved: once is enough.
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

async fn default_options_handshake_over_polling_then_upgrade(rt: Rt) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), fresh()).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let w = rt.welcome(&mut events).await;
    assert_eq!(w["transport"], "polling");
    let url = w["url"].as_str().expect("url");
    assert!(url.starts_with("/socket.io/?"), "{url}");
    assert_eq!(w["query"]["EIO"], "4");
    assert!(w["query"]["t"].is_string(), "polling requests carry t: {w}");
    assert!(w["query"].get("b64").is_none());
    assert_eq!(w["auth"], json!({}));
    rt.next_manager_event(&mut manager_events, |e| {
        (e == ManagerEvent::Upgrade(TransportKind::WebSocket)).then_some(())
    })
    .await;
    rt.settles_on(&socket, "websocket").await;
    // The WebSocket carries no cache-buster by default.
    let requests = rt.server_requests(&socket).await;
    let ws: Vec<&Value> = requests
        .iter()
        .filter(|r| r["url"].as_str().unwrap().contains("transport=websocket"))
        .collect();
    assert_eq!(ws.len(), 1, "{requests:?}");
    assert_eq!(query_param(ws[0]["url"].as_str().unwrap(), "t"), None);
}

// ----- transports -----

async fn transports_order_decides_the_first_transport(rt: Rt) {
    let server = NodeServer::start(&[]);
    let socket = rt
        .io(
            &server.url(),
            fresh().transports([TransportKind::WebSocket, TransportKind::Polling]),
        )
        .expect("io");
    let mut events = socket.events();
    let w = rt.welcome(&mut events).await;
    assert_eq!(w["transport"], "websocket");
    assert_eq!(w["query"]["transport"], "websocket");
}

async fn upgrade_false_stays_on_polling(rt: Rt) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), fresh().upgrade(false)).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let engine = rt.welcome(&mut events).await["engine"].clone();
    // A client with the default upgrades: once it has, ours would have too.
    let control = rt.io(&server.url(), fresh()).expect("io");
    let mut control_events = control.io().events();
    rt.next_manager_event(&mut control_events, |e| {
        matches!(e, ManagerEvent::Upgrade(_)).then_some(())
    })
    .await;
    assert_eq!(rt.server_transport(&socket).await, "polling");
    let requests = rt.server_requests(&socket).await;
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
async fn remember_upgrade(rt: Rt, on: bool) {
    let server = NodeServer::start(&[]);
    let mut opts = fresh().reconnection_delay(Duration::from_millis(50));
    opts.remember_upgrade = on;
    let socket = rt.io(&server.url(), opts.clone()).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    assert_eq!(rt.welcome(&mut events).await["transport"], "polling");
    rt.next_manager_event(&mut manager_events, |e| {
        matches!(e, ManagerEvent::Upgrade(_)).then_some(())
    })
    .await;
    // The server drops the connection: the reconnection's handshake.
    socket.emit("drop", ()).expect("emit");
    rt.disconnected(&mut events).await;
    let again = rt.welcome(&mut events).await;
    let expected = if on { "websocket" } else { "polling" };
    assert_eq!(again["transport"], expected, "{again}");
    // A new manager for the same server.
    let other = rt.io(&server.url(), opts).expect("io");
    let mut other_events = other.events();
    assert_eq!(rt.welcome(&mut other_events).await["transport"], expected);
}

async fn remember_upgrade_starts_on_websocket(rt: Rt) {
    remember_upgrade(rt, true).await;
}

async fn without_remember_upgrade_starts_on_polling(rt: Rt) {
    remember_upgrade(rt, false).await;
}

async fn try_all_transports(rt: Rt, on: bool) {
    let server = NodeServer::start(&[("TRANSPORTS", "polling")]);
    let mut opts = fresh()
        .transports([TransportKind::WebSocket, TransportKind::Polling])
        .reconnection(false);
    opts.try_all_transports = on;
    let socket = rt.io(&server.url(), opts).expect("io");
    let mut events = socket.events();
    if on {
        assert_eq!(rt.welcome(&mut events).await["transport"], "polling");
    } else {
        let error = rt.failed_to_connect(&socket, &mut events).await;
        assert!(matches!(error, ConnectError::Engine(_)), "{error:?}");
    }
}

async fn try_all_transports_falls_back_to_polling(rt: Rt) {
    try_all_transports(rt, true).await;
}

async fn without_try_all_transports_a_refused_websocket_fails(rt: Rt) {
    try_all_transports(rt, false).await;
}

// ----- the request URL -----

async fn path_reaches_a_server_on_another_path(rt: Rt) {
    let server = NodeServer::start(&[("PATH_PREFIX", "/custom")]);
    let socket = rt.io(&server.url(), fresh().path("/custom")).expect("io");
    let mut events = socket.events();
    let url = rt.welcome(&mut events).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/custom/?EIO=4"), "{url}");
    // The default path finds nothing there.
    let lost = rt
        .io(&server.url(), fresh().reconnection(false))
        .expect("io");
    let mut lost_events = lost.events();
    rt.failed_to_connect(&lost, &mut lost_events).await;
}

async fn add_trailing_slash_false_drops_the_slash(rt: Rt) {
    let server = NodeServer::start(&[("SERVER_OPTIONS", r#"{"addTrailingSlash":false}"#)]);
    let mut opts = fresh();
    opts.add_trailing_slash = false;
    let socket = rt.io(&server.url(), opts.clone()).expect("io");
    let mut events = socket.events();
    let url = rt.welcome(&mut events).await["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with("/socket.io?EIO=4"), "{url}");
    // A default server answers only under `/socket.io/`.
    let strict = NodeServer::start(&[]);
    let lost = rt.io(&strict.url(), opts.reconnection(false)).expect("io");
    let mut lost_events = lost.events();
    rt.failed_to_connect(&lost, &mut lost_events).await;
}

async fn query_and_headers(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt
        .io(
            &format!("{}/?from=url", server.url()),
            options(mode)
                .query("token", "abc")
                .extra_header("x-custom", "hello"),
        )
        .expect("io");
    let mut events = socket.events();
    let w = rt.welcome(&mut events).await;
    assert_eq!(w["query"]["token"], "abc", "{w}");
    assert_eq!(w["query"]["from"], "url", "the URL's own query: {w}");
    assert_eq!(w["headers"]["x-custom"], "hello", "{w}");
    if mode == "upgrade" {
        rt.settles_on(&socket, "websocket").await;
    }
    // Every request, not only the handshake.
    let requests = rt.server_requests(&socket).await;
    assert!(!requests.is_empty());
    for r in &requests {
        let url = r["url"].as_str().unwrap();
        assert_eq!(query_param(url, "token").as_deref(), Some("abc"), "{r}");
        assert_eq!(r["headers"]["x-custom"], "hello", "{r}");
    }
}

async fn query_and_extra_headers_polling(rt: Rt) {
    query_and_headers(rt, "polling").await;
}

async fn query_and_extra_headers_websocket(rt: Rt) {
    query_and_headers(rt, "websocket").await;
}

async fn query_and_extra_headers_upgrade(rt: Rt) {
    query_and_headers(rt, "upgrade").await;
}

async fn protocols_are_offered_on_the_websocket(rt: Rt) {
    let server = NodeServer::start(&[]);
    let mut opts = options("websocket");
    opts.protocols = vec!["chat-v1".into(), "chat-v2".into()];
    let socket = rt.io(&server.url(), opts).expect("io");
    let mut events = socket.events();
    let w = rt.welcome(&mut events).await;
    assert_eq!(
        w["headers"]["sec-websocket-protocol"], "chat-v1, chat-v2",
        "{w}"
    );
    // None by default.
    let plain = rt.io(&server.url(), options("websocket")).expect("io");
    let mut plain_events = plain.events();
    let w = rt.welcome(&mut plain_events).await;
    assert!(w["headers"].get("sec-websocket-protocol").is_none(), "{w}");
}

async fn timestamp_requests_and_param(rt: Rt) {
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
        let socket = rt.io(&server.url(), opts).expect("io");
        let mut events = socket.events();
        let w = rt.welcome(&mut events).await;
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
            let requests = rt.server_requests(&socket).await;
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
async fn cookies(rt: Rt, mode: &str, with_credentials: bool) {
    let server = NodeServer::start(&[("COOKIE", "1")]);
    let socket = rt
        .io(
            &server.url(),
            options(mode)
                .with_credentials(with_credentials)
                .reconnection_delay(Duration::from_millis(50)),
        )
        .expect("io");
    let mut events = socket.events();
    let engine = rt.welcome(&mut events).await["engine"]
        .as_str()
        .unwrap()
        .to_owned();
    if mode == "upgrade" {
        rt.settles_on(&socket, "websocket").await;
    }
    let requests = rt.server_requests(&socket).await;
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

async fn with_credentials_polling(rt: Rt) {
    cookies(rt, "polling", true).await;
}

async fn with_credentials_upgrade(rt: Rt) {
    cookies(rt, "upgrade", true).await;
}

async fn without_credentials_no_cookie(rt: Rt) {
    cookies(rt, "polling", false).await;
}

// ----- binary -----

async fn force_base64(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let mut opts = options(mode);
    opts.force_base64 = true;
    let socket = rt.io(&server.url(), opts).expect("io");
    let mut events = socket.events();
    let w = rt.welcome(&mut events).await;
    assert_eq!(w["query"]["b64"], "1", "{w}");
    if mode == "upgrade" {
        rt.settles_on(&socket, "websocket").await;
    }
    let payload = Bytes::from_static(&[0, 1, 2, 255, 254]);
    let (back,): (Bytes,) = rt
        .within(
            "the binary ack",
            socket.emit_with_ack("echo", (payload.clone(),)),
        )
        .await
        .expect("binary ack");
    assert_eq!(back, payload);
    #[derive(serde::Deserialize)]
    struct Nested {
        nested: Bytes,
    }
    let (first, second): (Bytes, Nested) = rt
        .within("the server's binary", socket.emit_with_ack("binary", ()))
        .await
        .expect("server binary");
    assert_eq!(
        (&first[..], &second.nested[..]),
        (&[1u8, 2, 3][..], &[4u8, 5][..])
    );
}

async fn force_base64_polling(rt: Rt) {
    force_base64(rt, "polling").await;
}

async fn force_base64_websocket(rt: Rt) {
    force_base64(rt, "websocket").await;
}

async fn force_base64_upgrade(rt: Rt) {
    force_base64(rt, "upgrade").await;
}

// ----- reconnection -----

async fn reconnection_false_stays_disconnected(rt: Rt) {
    let mut server = NodeServer::start(&[]);
    let quick = |o: Options| {
        o.reconnection_delay(Duration::from_millis(100))
            .randomization_factor(0.0)
    };
    let socket = rt
        .io(&server.url(), quick(fresh()).reconnection(false))
        .expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let control = rt.io(&server.url(), quick(fresh())).expect("io");
    let mut control_events = control.events();
    rt.connected(&socket, &mut events).await;
    rt.connected(&control, &mut control_events).await;
    server.restart();
    assert!(rt.disconnected(&mut events).await.reconnects());
    rt.disconnected(&mut control_events).await;
    // The control, with the same delay, is back: ours would have tried by now. (The control
    // may fail an attempt or two while the server restarts.)
    rt.next_event(&mut control_events, |e| {
        matches!(e, SocketEvent::Connect { .. }).then_some(())
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

async fn reconnection_attempts_then_reconnect_failed(rt: Rt) {
    let mut server = NodeServer::start(&[]);
    let socket = rt
        .io(
            &server.url(),
            fresh()
                .reconnection_attempts(Some(2))
                .reconnection_delay(Duration::from_millis(50))
                .reconnection_delay_max(Duration::from_millis(100)),
        )
        .expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    server.kill();
    let mut seen = Vec::new();
    let mut failed = false;
    // Up to the error of the last attempt, which comes after reconnect_failed.
    rt.next_manager_event(&mut manager_events, |e| {
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
        rt.connect_error(&mut events).await;
    }
    assert!(!socket.connected());
}

async fn reconnection_delays_double_up_to_the_max(rt: Rt) {
    let mut server = NodeServer::start(&[]);
    let socket = rt
        .io(
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
    rt.connected(&socket, &mut events).await;
    // The driver reads its clock for the first deadline just before it delivers the close, and
    // async-io's timers fire on the dot (tokio's round up to the millisecond): from the close
    // as the listener saw it, the first delay can look a few microseconds short. From before
    // the kill it cannot.
    let killed = Instant::now();
    server.kill();
    rt.next_manager_event(&mut manager_events, |e| {
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
    let first = attempt(1) - killed;
    assert!(first >= ms(200) && gaps[0] < ms(400), "{first:?} {gaps:?}");
    assert!(gaps[1] >= ms(400), "{gaps:?}");
    assert!(gaps[2] >= ms(500) && gaps[2] < ms(800), "{gaps:?}");
}

// ----- connecting -----

async fn connect_timeout(rt: Rt, mode: &str) {
    // Accepts connections and never says a word.
    let mute = MuteServer::start();
    // Before `io()`: its task may start the connect timer before this task runs on (tokio's
    // timers round up to the millisecond, async-io's do not).
    let start = Instant::now();
    let socket = rt
        .io(
            &mute.url(),
            options(mode)
                .timeout(Some(Duration::from_millis(300)))
                .reconnection(false),
        )
        .expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    let error = rt.failed_to_connect(&socket, &mut events).await;
    assert_eq!(
        error,
        ConnectError::Engine(socketio_proto::ManagerError::Timeout)
    );
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert_eq!(
        rt.next_manager_event(&mut manager_events, |e| match e {
            ManagerEvent::Error(e) => Some(e),
            _ => None,
        })
        .await,
        socketio_proto::ManagerError::Timeout
    );
    drop(mute);
}

async fn timeout_polling(rt: Rt) {
    connect_timeout(rt, "polling").await;
}

async fn timeout_websocket(rt: Rt) {
    connect_timeout(rt, "websocket").await;
}

async fn auto_connect_false_waits_for_connect(rt: Rt) {
    let server = NodeServer::start(&[]);
    let lazy = rt
        .io(&server.url(), fresh().auto_connect(false))
        .expect("io");
    let mut lazy_events = lazy.events();
    // Another client connects, and asks the server how many there are.
    let control = rt.io(&server.url(), fresh()).expect("io");
    let mut control_events = control.events();
    rt.connected(&control, &mut control_events).await;
    let clients = |socket: Socket| {
        let rt = rt.clone();
        async move {
            let (stats,): (Value,) = rt
                .within("the stats", socket.emit_with_ack("stats", ()))
                .await
                .expect("stats");
            stats["clientsCount"].as_u64().unwrap()
        }
    };
    assert_eq!(clients(control.clone()).await, 1);
    let handshakes = rt
        .server_requests(&control)
        .await
        .iter()
        .filter(|r| query_param(r["url"].as_str().unwrap(), "sid").is_none())
        .count();
    assert_eq!(handshakes, 1, "only the control's handshake");
    assert!(!lazy.active());
    lazy.connect();
    rt.connected(&lazy, &mut lazy_events).await;
    assert_eq!(clients(control.clone()).await, 2);
}

async fn auth_and_the_reconnect_hook(rt: Rt) {
    let server = NodeServer::start(&[]);
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let log = attempts.clone();
    let builder = rt
        .builder(
            &server.url(),
            fresh()
                .auth(json!({"token": "t0"}))
                .query("v", "0")
                .reconnection_delay(Duration::from_millis(50))
                .before_connect(move |mut attempt: ConnectAttempt| {
                    let log = log.clone();
                    async move {
                        let n = attempt.attempt;
                        log.lock().unwrap().push(n);
                        if n > 0 {
                            attempt
                                .auth
                                .insert("/".into(), json!({"token": format!("t{n}")}));
                            attempt.query.retain(|(k, _)| k != "v");
                            attempt.query.push(("v".into(), n.to_string()));
                        }
                        Ok(attempt)
                    }
                }),
        )
        .expect("io");
    let mut events = builder.events();
    let socket = builder.build();
    let first = rt.welcome(&mut events).await;
    assert_eq!(
        (&first["auth"], &first["query"]["v"]),
        (&json!({"token": "t0"}), &json!("0"))
    );
    socket.emit("drop", ()).expect("emit");
    rt.disconnected(&mut events).await;
    let second = rt.welcome(&mut events).await;
    assert_eq!(
        (&second["auth"], &second["query"]["v"]),
        (&json!({"token": "t1"}), &json!("1")),
        "{second}"
    );
    assert_eq!(*attempts.lock().unwrap(), [0, 1]);
    // Socket::set_auth changes the next CONNECT too.
    socket.set_auth(json!({"token": "manual"})).expect("auth");
    socket.disconnect();
    rt.disconnected(&mut events).await;
    socket.connect();
    assert_eq!(
        rt.welcome(&mut events).await["auth"],
        json!({"token": "manual"})
    );
}

// ----- acks -----

async fn ack_timeout_fails_unanswered_emits(rt: Rt) {
    let server = NodeServer::start(&[]);
    let socket = rt
        .io(
            &server.url(),
            fresh().ack_timeout(Some(Duration::from_millis(200))),
        )
        .expect("io");
    // The deadline runs from the emit, connecting included: connect first.
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let (v,): (u32,) = rt
        .within("the echo", socket.emit_with_ack("echo", (1,)))
        .await
        .expect("answered in time");
    assert_eq!(v, 1);
    let start = Instant::now();
    let result = rt
        .within(
            "the ack timeout",
            socket.emit_with_ack::<_, ()>("ignore", ()),
        )
        .await;
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(200));
    // Without the option an unanswered ack waits (until a disconnect).
    let patient = rt.io(&server.url(), fresh()).expect("io");
    let waiting = patient.emit_with_ack::<_, ()>("ignore", ());
    let (v,): (u32,) = rt
        .within("the echo", patient.emit_with_ack("echo", (2,)))
        .await
        .expect("echo");
    assert_eq!(v, 2);
    let mut waiting = Box::pin(waiting);
    assert!((&mut waiting).now_or_never().is_none(), "still waiting");
    patient.disconnect();
    assert!(matches!(
        rt.within("the failed ack", waiting).await,
        Err(Error::Ack(AckError::Disconnected))
    ));
}

async fn retries_resend_until_acked(rt: Rt) {
    let server = NodeServer::start(&[]);
    let with = |retries: Option<u32>| {
        fresh()
            .ack_timeout(Some(Duration::from_millis(300)))
            .retries(retries)
    };
    // The server acks "flaky" from its 3rd arrival on.
    let enough = rt.io(&server.url(), with(Some(3))).expect("io");
    let (tries,): (u32,) = rt
        .within("the ack", enough.emit_with_ack("flaky", (3,)))
        .await
        .expect("acked on the third try");
    // The third; the fourth only if the third's ack came later than the timeout.
    assert!((3..=4).contains(&tries), "{tries}");
    let too_few = rt.io(&server.url(), with(Some(1))).expect("io");
    let result = rt
        .within(
            "the ack timeout",
            too_few.emit_with_ack::<_, (u32,)>("flaky", (3,)),
        )
        .await;
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
    let none = rt.io(&server.url(), with(None)).expect("io");
    let result = rt
        .within(
            "the ack timeout",
            none.emit_with_ack::<_, (u32,)>("flaky", (3,)),
        )
        .await;
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
}

// ----- validation -----

async fn invalid_options_are_refused_at_construction(rt: Rt) {
    let url = "http://127.0.0.1:9";
    let config = |r: Result<Socket, Error>| match r {
        Err(Error::Config(e)) => e,
        other => panic!("{other:?}"),
    };
    let e = config(
        rt.io(
            url,
            fresh()
                .reconnection_delay(Duration::from_secs(2))
                .reconnection_delay_max(Duration::from_secs(1)),
        ),
    );
    assert!(matches!(e, ConfigError::DelayMaxBelowDelay { .. }), "{e:?}");
    for factor in [1.5, -0.1, f64::NAN] {
        let e = config(rt.io(url, fresh().randomization_factor(factor)));
        assert!(matches!(e, ConfigError::RandomizationFactor(_)), "{e:?}");
    }
    for value in ["a\r\nb", "a\nb", "a\rb"] {
        let e = config(rt.io(url, fresh().extra_header("x-custom", value)));
        assert!(
            matches!(
                e,
                ConfigError::Engine(EngineConfigError::InvalidHeaderValue(_))
            ),
            "{e:?}"
        );
    }
    let e = config(rt.io("localhost:3000", fresh()));
    assert!(
        matches!(e, ConfigError::Engine(EngineConfigError::MissingScheme(_))),
        "{e:?}"
    );
    let e = config(rt.io("ftp://localhost", fresh()));
    assert!(
        matches!(
            e,
            ConfigError::Engine(EngineConfigError::UnsupportedScheme(_))
        ),
        "{e:?}"
    );
    let e = config(rt.io(url, fresh().retries(Some(2))));
    assert_eq!(e, ConfigError::RetriesWithoutAckTimeout);
    let e = config(rt.io(url, fresh().timeout(Some(Duration::ZERO))));
    assert_eq!(e, ConfigError::ZeroTimeout);
    let e = config(rt.io(url, fresh().transports([])));
    assert_eq!(e, ConfigError::Engine(EngineConfigError::NoTransports));
    let e = config(rt.io(url, fresh().auth(json!("not an object"))));
    assert_eq!(e, ConfigError::InvalidAuth);
    // And the messages say what to change.
    let message = Error::Config(ConfigError::RetriesWithoutAckTimeout).to_string();
    assert!(message.contains("ack_timeout"), "{message}");
}

on_every_runtime!(
    default_options_handshake_over_polling_then_upgrade,
    transports_order_decides_the_first_transport,
    upgrade_false_stays_on_polling,
    remember_upgrade_starts_on_websocket,
    without_remember_upgrade_starts_on_polling,
    try_all_transports_falls_back_to_polling,
    without_try_all_transports_a_refused_websocket_fails,
    path_reaches_a_server_on_another_path,
    add_trailing_slash_false_drops_the_slash,
    query_and_extra_headers_polling,
    query_and_extra_headers_websocket,
    query_and_extra_headers_upgrade,
    protocols_are_offered_on_the_websocket,
    timestamp_requests_and_param,
    with_credentials_polling,
    with_credentials_upgrade,
    without_credentials_no_cookie,
    force_base64_polling,
    force_base64_websocket,
    force_base64_upgrade,
    reconnection_false_stays_disconnected,
    reconnection_attempts_then_reconnect_failed,
    reconnection_delays_double_up_to_the_max,
    timeout_polling,
    timeout_websocket,
    auto_connect_false_waits_for_connect,
    auth_and_the_reconnect_hook,
    ack_timeout_fails_unanswered_emits,
    retries_resend_until_acked,
    invalid_options_are_refused_at_construction,
);
