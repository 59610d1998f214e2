//! The async API (issue 15) against the real Node.js server, on every runtime: awaiting
//! `connect()` and `Manager::open()`, listeners that miss nothing (the builder, 1,000
//! connections in a row), streams that start with the current state, the `before_connect`
//! hook refreshing a single-use token across server restarts, [`Value`] round trips with
//! binary, single-argument emits, async handlers in order, the catch-all listener surface,
//! and the engine id / transport getters.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::future::join_all;
use serde_json::json;
use socketio_async::{
    ConnectAttempt, ConnectError, Error, Manager, ManagerEvent, One, SocketEvent, TransportKind,
    Value,
};
use socketio_interop::{MuteServer, NodeServer, Rt, on_every_runtime, options};

/// `connect().await` resolves on the namespace's CONNECT, fails with the typed connect error
/// (a refusing middleware), and is bounded by the `timeout` option (a server that never
/// answers); reconnection goes on behind a failure.
async fn connect_resolves_or_fails_typed(rt: Rt) {
    let server = NodeServer::start(&[]);
    let socket = rt
        .io(&server.url(), options("websocket").auto_connect(false))
        .expect("io");
    assert!(!socket.connected());
    rt.within("connect", socket.connect())
        .await
        .expect("connected");
    assert!(socket.connected() && socket.id().is_some());
    // Already connected: at once.
    rt.within("connect again", socket.connect())
        .await
        .expect("connected");

    let admin = rt
        .io(
            &format!("{}/admin", server.url()),
            options("websocket")
                .auth(json!({"token": "wrong"}))
                .auto_connect(false),
        )
        .expect("io");
    match rt.within("refusal", admin.connect()).await {
        Err(Error::Connect(e)) => match *e {
            ConnectError::Refused { message, .. } => assert_eq!(message, "not authorized"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }

    let mute = MuteServer::start();
    let silent = rt
        .io(
            &mute.url(),
            options("polling")
                .timeout(Some(Duration::from_millis(200)))
                .reconnection_delay(Duration::from_millis(50)),
        )
        .expect("io");
    let mut manager_events = silent.io().events();
    match rt.within("the timeout", silent.connect()).await {
        Err(Error::ConnectTimeout) => {}
        Err(Error::Connect(e)) if matches!(*e, ConnectError::Engine(_)) => {}
        other => panic!("{other:?}"),
    }
    // Reconnection keeps trying behind the error.
    rt.next_manager_event(&mut manager_events, |e| {
        matches!(e, ManagerEvent::ReconnectAttempt(_)).then_some(())
    })
    .await;
    assert!(silent.active());
}

/// `Manager::open()` reports its outcome; the engine id and transport are published.
async fn manager_open_and_getters(rt: Rt) {
    let server = NodeServer::start(&[]);
    let manager = Manager::new(
        &server.url(),
        options("websocket").auto_connect(false),
        rt.runtime.clone(),
    )
    .expect("manager");
    assert_eq!((manager.engine_id(), manager.transport()), (None, None));
    rt.within("open", manager.open()).await.expect("open");
    assert!(manager.is_open());
    assert_eq!(manager.transport(), Some(TransportKind::WebSocket));
    let socket = manager.socket("/").expect("socket");
    let mut events = socket.events();
    socket.connect();
    let welcome = rt.welcome(&mut events).await;
    assert_eq!(
        manager.engine_id().as_deref(),
        welcome["engine"].as_str(),
        "the engine id the server knows"
    );
    // Open already: at once.
    rt.within("open again", manager.open()).await.expect("open");

    let mute = MuteServer::start();
    let silent = Manager::new(
        &mute.url(),
        options("polling")
            .auto_connect(false)
            .reconnection(false)
            .timeout(Some(Duration::from_millis(200))),
        rt.runtime.clone(),
    )
    .expect("manager");
    match rt.within("the failure", silent.open()).await {
        Err(Error::ConnectTimeout) => {}
        Err(Error::Connect(e)) if matches!(*e, ConnectError::Engine(_)) => {}
        other => panic!("{other:?}"),
    }
}

/// Listeners registered with the builder see the server's welcome (emitted on connection)
/// every time: 1,000 connections, 50 at a time, on one server. After `connect()` an echo
/// round trip proves the welcome was delivered (the server sent it before the ack, and the
/// client delivers in order), so no wait is needed for the count.
async fn builder_listeners_miss_nothing(rt: Rt) {
    const CONNECTIONS: usize = 1000;
    const BATCH: usize = 50;
    let server = NodeServer::start(&[]);
    let url = server.url();
    for batch in 0..CONNECTIONS / BATCH {
        let runs = (0..BATCH).map(|_| {
            let rt = rt.clone();
            let url = url.clone();
            async move {
                let welcomes = Arc::new(AtomicUsize::new(0));
                let count = welcomes.clone();
                let socket = rt
                    .builder(&url, options("websocket"))
                    .expect("builder")
                    .on("welcome", move |_| {
                        count.fetch_add(1, Ordering::SeqCst);
                    })
                    .connect()
                    .await
                    .expect("connect");
                let (_,): (u8,) = socket.emit_with_ack("echo", 1u8).await.expect("echo");
                welcomes.load(Ordering::SeqCst)
            }
        });
        let counts = rt.within("a batch", join_all(runs)).await;
        assert!(
            counts.iter().all(|c| *c == 1),
            "batch {batch}: welcomes seen {counts:?}"
        );
    }
}

/// A stream made while connected starts with a `Connect` carrying the socket id; a manager
/// stream made while open starts with `Open`.
async fn streams_start_with_the_current_state(rt: Rt) {
    let server = NodeServer::start(&[]);
    let socket = rt
        .builder(&server.url(), options("websocket"))
        .expect("builder")
        .connect()
        .await
        .expect("connect");
    let mut events = socket.events();
    match rt.within("the first item", events.next()).await {
        Some(SocketEvent::Connect { id, recovered }) => {
            assert_eq!(Some(id), socket.id());
            assert!(!recovered);
        }
        other => panic!("{other:?}"),
    }
    let mut manager_events = socket.io().events();
    assert_eq!(
        rt.within("the first item", manager_events.next()).await,
        Some(ManagerEvent::Open)
    );
    // And then the events themselves.
    socket.emit("kick", ()).expect("emit");
    rt.disconnected(&mut events).await;
}

/// The `/once` namespace accepts each token once, across restarts (ONCE_FILE): the hook
/// brings a fresh token to every connection and reconnection, 5 restarts in a row; a hook
/// that fails counts as a failed attempt and the next attempt (after the backoff) succeeds.
async fn before_connect_refreshes_a_single_use_token(rt: Rt) {
    let file = std::env::temp_dir().join(format!(
        "sio-once-{}-{}-{}",
        std::process::id(),
        rt.name,
        rand_suffix()
    ));
    let _ = std::fs::remove_file(&file);
    let mut server = NodeServer::start(&[("ONCE_FILE", file.to_str().expect("utf-8 path"))]);
    let issued = Arc::new(AtomicU32::new(0));
    let fail_next = Arc::new(AtomicBool::new(false));
    let (counter, failing) = (issued.clone(), fail_next.clone());
    let builder = rt
        .builder(
            &format!("{}/once", server.url()),
            options("websocket")
                .reconnection_delay(Duration::from_millis(50))
                .reconnection_delay_max(Duration::from_millis(200))
                .before_connect(move |mut attempt: ConnectAttempt| {
                    let counter = counter.clone();
                    let failing = failing.clone();
                    async move {
                        // Stands for an async token service.
                        futures_util::future::ready(()).await;
                        if failing.swap(false, Ordering::SeqCst) {
                            return Err("the token service is down".into());
                        }
                        let n = counter.fetch_add(1, Ordering::SeqCst);
                        attempt
                            .auth
                            .insert("/once".into(), json!({ "token": format!("tok-{n}") }));
                        Ok(attempt)
                    }
                }),
        )
        .expect("builder");
    let mut events = builder.events();
    let socket = builder.build();
    let mut tokens = vec![rt.welcome(&mut events).await["auth"]["token"].clone()];
    for restart in 0..5 {
        if restart == 2 {
            fail_next.store(true, Ordering::SeqCst);
        }
        server.restart();
        rt.disconnected(&mut events).await;
        // Attempts fail while the server is away; a refused token would fail the test.
        let mut errors = Vec::new();
        let welcome = rt
            .next_event(&mut events, |e| match e {
                SocketEvent::Message(m) if m.event == "welcome" => Some(m),
                SocketEvent::ConnectError(e @ ConnectError::Refused { .. }) => {
                    panic!("refused: {e}")
                }
                SocketEvent::ConnectError(e) => {
                    // The hook's failure is typed; its message is the hook's error.
                    if let ConnectError::Engine(socketio_proto::ManagerError::Prepare(why)) = &e {
                        errors.push(why.message().to_owned());
                    }
                    None
                }
                _ => None,
            })
            .await;
        if restart == 2 {
            // The failed hook shows as a connect error naming it; the backoff retried.
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains("the token service is down")),
                "{errors:?}"
            );
        }
        let welcome: serde_json::Value = welcome.args.get(0).expect("welcome");
        tokens.push(welcome["auth"]["token"].clone());
    }
    assert!(socket.connected());
    let mut unique = tokens.clone();
    unique.sort_by_key(|t| t.to_string());
    unique.dedup();
    assert_eq!(unique.len(), 6, "a fresh token each time: {tokens:?}");
    let _ = std::fs::remove_file(&file);
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

/// Received arguments with binary anywhere become `Value`s and go back byte-exact, through
/// an emit and an ack, as values and as the received `Args` themselves.
async fn values_round_trip_with_binary(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let builder = rt.builder(&server.url(), options(mode)).expect("builder");
    let mut events = builder.events();
    let socket = builder.connect().await.expect("connect");
    let expected = vec![
        Value::Binary(Bytes::from_static(&[1, 2, 3])),
        Value::Object(vec![
            ("nested".into(), Value::Binary(Bytes::from_static(&[4, 5]))),
            ("text".into(), Value::from("t")),
        ]),
    ];
    // Through an ack.
    let acked: Vec<Value> = rt
        .within("the binary ack", socket.emit_with_ack("binary", ()))
        .await
        .expect("ack");
    assert_eq!(acked, expected);
    // As an event.
    socket.emit("binary", ()).expect("emit");
    let message = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "binary" => Some(m),
            _ => None,
        })
        .await;
    assert_eq!(message.args.values().expect("values"), expected);
    // Back to the server and again, as values and as the received arguments.
    let echoed: Vec<Value> = rt
        .within("the echo", socket.emit_with_ack("echo", expected.clone()))
        .await
        .expect("echo");
    assert_eq!(echoed, expected);
    let echoed: Vec<Value> = rt
        .within("the echo", socket.emit_with_ack("echo", &message.args))
        .await
        .expect("echo");
    assert_eq!(echoed, expected);
}

#[derive(serde::Serialize)]
struct Point {
    x: i32,
    y: i32,
}

/// One argument without a tuple: strings, numbers, JSON, bytes, `Value`, and `One` for
/// anything else; acks answered the same way.
async fn single_argument_emits(rt: Rt) {
    let server = NodeServer::start(&[]);
    let socket = rt
        .builder(&server.url(), options("websocket"))
        .expect("builder")
        .on("question", |mut msg| {
            if let Some(ack) = msg.take_ack() {
                ack.send("an answer").expect("ack");
            }
        })
        .connect()
        .await
        .expect("connect");
    let mut events = socket.events();
    let (s,): (String,) = socket.emit_with_ack("echo", "world").await.expect("str");
    assert_eq!(s, "world");
    let (s,): (String,) = socket
        .emit_with_ack("echo", String::from("owned"))
        .await
        .expect("String");
    assert_eq!(s, "owned");
    let (n,): (i64,) = socket.emit_with_ack("echo", 42).await.expect("number");
    assert_eq!(n, 42);
    let (v,): (serde_json::Value,) = socket
        .emit_with_ack("echo", json!([1, 2]))
        .await
        .expect("json");
    assert_eq!(v, json!([1, 2]), "a JSON array is one argument");
    let (b,): (Bytes,) = socket
        .emit_with_ack("echo", Bytes::from_static(b"bin"))
        .await
        .expect("bytes");
    assert_eq!(&b[..], b"bin");
    let (p,): (serde_json::Value,) = socket
        .emit_with_ack("echo", One(Point { x: 1, y: 2 }))
        .await
        .expect("One");
    assert_eq!(p, json!({"x": 1, "y": 2}));
    let (pair,): ((u8, u8),) = socket
        .emit_with_ack("echo", One((1u8, 2u8)))
        .await
        .expect("a tuple as one argument");
    assert_eq!(pair, (1, 2));
    // The server's question, answered with one value.
    socket.emit("ask", "q").expect("emit");
    let answer = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "answer" => Some(m),
            _ => None,
        })
        .await;
    let (answer,): (Vec<String>,) = answer.args.parse().expect("answer");
    assert_eq!(answer, ["an answer"]);
}

/// A future that is pending once: an async handler that really yields.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// `on_async` runs one listener's futures one at a time in arrival order, on the runtime.
async fn async_handlers_run_in_order(rt: Rt) {
    const COUNT: usize = 200;
    let server = NodeServer::start(&[]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let running = Arc::new(AtomicBool::new(false));
    let (done_tx, mut done_rx) = futures_channel_unbounded();
    let (log, busy) = (seen.clone(), running.clone());
    let socket = rt
        .builder(&server.url(), options("websocket"))
        .expect("builder")
        .on_async("burst", move |msg| {
            let (log, busy, done) = (log.clone(), busy.clone(), done_tx.clone());
            async move {
                assert!(!busy.swap(true, Ordering::SeqCst), "one at a time");
                let n: usize = msg.args.get(0).expect("n");
                YieldOnce(false).await;
                log.lock().unwrap().push(n);
                busy.store(false, Ordering::SeqCst);
                let _ = done.unbounded_send(n);
            }
        })
        .connect()
        .await
        .expect("connect");
    socket.emit("burst", (COUNT, 0)).expect("emit");
    rt.within("every handler", async {
        for _ in 0..COUNT {
            done_rx.next().await.expect("handler done");
        }
    })
    .await;
    assert_eq!(*seen.lock().unwrap(), (0..COUNT).collect::<Vec<_>>());
}

fn futures_channel_unbounded() -> (
    futures_channel::mpsc::UnboundedSender<usize>,
    futures_channel::mpsc::UnboundedReceiver<usize>,
) {
    futures_channel::mpsc::unbounded()
}

/// `prepend_any`, `listeners_any`, `off_any` and their outgoing counterparts.
async fn catch_all_listener_surface(rt: Rt) {
    let server = NodeServer::start(&[]);
    let order = Arc::new(Mutex::new(Vec::new()));
    let builder = rt.builder(&server.url(), options("websocket")).expect("b");
    let socket = builder.socket().clone();
    let (a, b) = (order.clone(), order.clone());
    let first = socket.on_any(move |m| a.lock().unwrap().push(format!("any:{}", m.event)));
    let prepended =
        socket.prepend_any(move |m| b.lock().unwrap().push(format!("prepended:{}", m.event)));
    assert_eq!(socket.listeners_any(), [prepended, first]);
    let (x, y) = (order.clone(), order.clone());
    let out = socket.on_any_outgoing(move |e, _| x.lock().unwrap().push(format!("out:{e}")));
    let out_first =
        socket.prepend_any_outgoing(move |e, _| y.lock().unwrap().push(format!("out0:{e}")));
    assert_eq!(socket.listeners_any_outgoing(), [out_first, out]);
    let mut events = builder.events();
    builder.connect().await.expect("connect");
    rt.welcome(&mut events).await;
    let (_,): (u8,) = socket.emit_with_ack("echo", 1u8).await.expect("echo");
    assert_eq!(
        *order.lock().unwrap(),
        ["prepended:welcome", "any:welcome", "out0:echo", "out:echo"]
    );
    socket.off_any();
    socket.off_any_outgoing();
    assert!(socket.listeners_any().is_empty() && socket.listeners_any_outgoing().is_empty());
    let (_,): (u8,) = socket.emit_with_ack("echo", 2u8).await.expect("echo");
    socket.emit("echo", "no ack").expect("emit");
    rt.next_event(&mut events, |e| match e {
        SocketEvent::Message(m) if m.event == "echo" => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(order.lock().unwrap().len(), 4, "nothing after off_any");
}

on_every_runtime!(
    connect_resolves_or_fails_typed,
    manager_open_and_getters,
    builder_listeners_miss_nothing,
    streams_start_with_the_current_state,
    before_connect_refreshes_a_single_use_token,
    single_argument_emits,
    async_handlers_run_in_order,
    catch_all_listener_surface,
);

socketio_interop::on_every_mode!(values_round_trip_with_binary);
