//! The Manager against the real Node.js server, on every runtime: the `io()` cache
//! (`force_new`, `multiplex`, one connection per server, a new one for the same namespace
//! twice), the URL path as the namespace, and the manager events through `Manager::on` and
//! `Manager::events()`.
//!
//! The cache is process-wide and both runtimes' tests run in this one binary, in parallel:
//! each test has its own Node server (its own port), so the cache keys never meet.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::Stream;
use socketio_async::{
    DisconnectReason, Manager, ManagerEvent, Options, Socket, SocketEvent, TransportKind,
};
use socketio_interop::{NodeServer, Rt, on_every_runtime};

/// `io()`, subscribed to the socket's events at once (before it can connect).
fn open(
    rt: &Rt,
    url: &str,
    options: Options,
) -> (Socket, impl Stream<Item = SocketEvent> + Unpin + use<>) {
    let socket = rt.io(url, options).expect("io");
    let events = socket.events();
    (socket, events)
}

/// The engine id and namespace the server reports in its welcome.
async fn engine_of(
    rt: &Rt,
    events: &mut (impl Stream<Item = SocketEvent> + Unpin),
) -> (String, String) {
    let w = rt.welcome(events).await;
    (
        w["engine"].as_str().unwrap().to_owned(),
        w["nsp"].as_str().unwrap().to_owned(),
    )
}

async fn one_connection_per_server_for_several_namespaces(rt: Rt) {
    let server = NodeServer::start(&[]);
    let (_root, mut root_events) = open(&rt, &server.url(), Options::default());
    let (chat, mut chat_events) = open(&rt, &format!("{}/chat", server.url()), Options::default());
    let (root_engine, root_nsp) = engine_of(&rt, &mut root_events).await;
    let (chat_engine, chat_nsp) = engine_of(&rt, &mut chat_events).await;
    assert_eq!((root_nsp.as_str(), chat_nsp.as_str()), ("/", "/chat"));
    assert_eq!(root_engine, chat_engine, "multiplexed over one connection");
    assert_eq!(chat.nsp(), "/chat", "the URL path is the namespace");
    // A namespace behind a middleware joins too, with its own auth.
    let (_admin, mut admin_events) = open(
        &rt,
        &format!("{}/admin", server.url()),
        Options::default().auth(serde_json::json!({"token": "secret"})),
    );
    let (admin_engine, _) = engine_of(&rt, &mut admin_events).await;
    assert_eq!(admin_engine, root_engine);
}

async fn the_same_namespace_twice_gets_a_new_connection(rt: Rt) {
    let server = NodeServer::start(&[]);
    let (_first, mut first_events) = open(&rt, &server.url(), Options::default());
    let (first_engine, _) = engine_of(&rt, &mut first_events).await;
    let (_second, mut second_events) = open(&rt, &server.url(), Options::default());
    let (second_engine, _) = engine_of(&rt, &mut second_events).await;
    assert_ne!(first_engine, second_engine);
    // The cache still points at the first manager: a new namespace joins it.
    let (_chat, mut chat_events) = open(&rt, &format!("{}/chat", server.url()), Options::default());
    let (chat_engine, _) = engine_of(&rt, &mut chat_events).await;
    assert_eq!(chat_engine, first_engine);
}

async fn force_new_always_gets_a_new_connection(rt: Rt) {
    let server = NodeServer::start(&[]);
    let (_root, mut root_events) = open(&rt, &server.url(), Options::default());
    let (root_engine, _) = engine_of(&rt, &mut root_events).await;
    let (_chat, mut chat_events) = open(
        &rt,
        &format!("{}/chat", server.url()),
        Options::default().force_new(true),
    );
    let (chat_engine, _) = engine_of(&rt, &mut chat_events).await;
    assert_ne!(root_engine, chat_engine);
    // And it is not cached: the next namespace still joins the first manager.
    let (_other, mut other_events) =
        open(&rt, &format!("{}/chat", server.url()), Options::default());
    let (other_engine, _) = engine_of(&rt, &mut other_events).await;
    assert_eq!(other_engine, root_engine);
}

async fn multiplex_false_gets_a_new_connection(rt: Rt) {
    let server = NodeServer::start(&[]);
    let (_root, mut root_events) = open(&rt, &server.url(), Options::default());
    let (root_engine, _) = engine_of(&rt, &mut root_events).await;
    let (_chat, mut chat_events) = open(
        &rt,
        &format!("{}/chat", server.url()),
        Options::default().multiplex(false),
    );
    let (chat_engine, _) = engine_of(&rt, &mut chat_events).await;
    assert_ne!(root_engine, chat_engine);
}

async fn another_path_is_another_manager(rt: Rt) {
    let server = NodeServer::start(&[]);
    let (root, mut root_events) = open(&rt, &server.url(), Options::default());
    let (root_engine, _) = engine_of(&rt, &mut root_events).await;
    // Same host and port, another `path`: not the cached manager (it fails to connect).
    let elsewhere = rt
        .io(
            &format!("{}/chat", server.url()),
            Options::default().path("/elsewhere").reconnection(false),
        )
        .expect("io");
    let mut events = elsewhere.events();
    rt.failed_to_connect(&elsewhere, &mut events).await;
    assert!(root.connected());
    let _ = root_engine;
}

async fn manager_socket_open_and_close(rt: Rt) {
    let server = NodeServer::start(&[]);
    let manager = Manager::new(
        &server.url(),
        Options::default().transports([TransportKind::WebSocket]),
        rt.runtime.clone(),
    )
    .expect("manager");
    let mut manager_events = manager.events();
    let chat = manager.socket("/chat").expect("socket");
    assert_eq!(chat.nsp(), "/chat");
    let mut events = chat.events();
    let (first, _) = engine_of(&rt, &mut events).await;
    // The same socket for the same namespace.
    let again = manager.socket("/chat").expect("socket");
    assert_eq!(again.id(), chat.id());
    // close(): the connection goes, the socket stays active and comes back on open().
    manager.close();
    assert_eq!(
        rt.disconnected(&mut events).await,
        DisconnectReason::ForcedClose
    );
    rt.next_manager_event(&mut manager_events, |e| match e {
        ManagerEvent::Close(r) => Some(r),
        _ => None,
    })
    .await;
    assert!(chat.active());
    manager.open();
    let w = rt.welcome(&mut events).await;
    assert_ne!(w["engine"].as_str().unwrap(), first);
    assert!(chat.connected());
}

/// Every manager event of a connection's life, seen the same through `Manager::on` and
/// `Manager::events()`.
async fn manager_events_through_on_and_events(rt: Rt) {
    let mut server = NodeServer::start(&[("PING_INTERVAL", "200"), ("PING_TIMEOUT", "1000")]);
    let socket = rt
        .io(
            &server.url(),
            Options::default()
                .force_new(true)
                .reconnection_delay(Duration::from_millis(50))
                .reconnection_delay_max(Duration::from_millis(100)),
        )
        .expect("io");
    let manager = socket.io().clone();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let log_handle = seen.clone();
    let listener = manager.on(move |e| log.lock().unwrap().push(e.clone()));
    let mut stream = manager.events();
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let mut streamed = Vec::new();
    let s = (&mut stream, &mut streamed);
    take(&rt, s, |e| *e == ManagerEvent::Open).await;
    let s = (&mut stream, &mut streamed);
    take(&rt, s, |e| {
        matches!(e, ManagerEvent::Upgrade(TransportKind::WebSocket))
    })
    .await;
    let s = (&mut stream, &mut streamed);
    take(&rt, s, |e| *e == ManagerEvent::Ping).await;
    // The server goes away: close, then attempts that fail until it is back.
    server.kill();
    let s = (&mut stream, &mut streamed);
    take(&rt, s, |e| matches!(e, ManagerEvent::ReconnectError(_))).await;
    server.restart();
    let s = (&mut stream, &mut streamed);
    take(&rt, s, |e| matches!(e, ManagerEvent::Reconnect(_))).await;
    rt.next_event(&mut events, |e| {
        matches!(e, SocketEvent::Connect { .. }).then_some(())
    })
    .await;
    manager.off(listener);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen[..streamed.len()],
        streamed,
        "the listener and the stream see the same"
    );
    // Once off, the listener hears nothing more.
    let s = (&mut stream, &mut streamed);
    take(&rt, s, |e| *e == ManagerEvent::Ping).await;
    assert_eq!(seen.len(), log_len(&log_handle));
    let names: Vec<&str> = seen
        .iter()
        .map(|e| match e {
            ManagerEvent::Open => "open",
            ManagerEvent::Close(_) => "close",
            ManagerEvent::Error(_) => "error",
            ManagerEvent::Ping => "ping",
            ManagerEvent::Upgrade(_) => "upgrade",
            ManagerEvent::ReconnectAttempt(_) => "reconnect_attempt",
            ManagerEvent::Reconnect(_) => "reconnect",
            ManagerEvent::ReconnectError(_) => "reconnect_error",
            ManagerEvent::ReconnectFailed => "reconnect_failed",
            _ => "other",
        })
        .collect();
    let expected = [
        "open",
        "upgrade",
        "ping",
        "close",
        "reconnect_attempt",
        "error",
        "reconnect_error",
    ];
    let pos = |name: &str, from: usize| {
        names[from..]
            .iter()
            .position(|n| *n == name)
            .map(|p| p + from)
            .unwrap_or_else(|| panic!("{name} after {from} in {names:?}"))
    };
    // In this order (pings may come in between).
    let mut at = 0;
    for name in expected {
        at = pos(name, at);
    }
    // Then possibly more failed attempts, and finally the reconnection.
    let last_attempt = names
        .iter()
        .rposition(|n| *n == "reconnect_attempt")
        .unwrap();
    assert_eq!(
        names[last_attempt + 1..]
            .iter()
            .filter(|n| !matches!(**n, "ping" | "upgrade"))
            .collect::<Vec<_>>(),
        [&"open", &"reconnect"],
        "{names:?}"
    );
    match seen
        .iter()
        .find(|e| matches!(e, ManagerEvent::Reconnect(_)))
    {
        Some(ManagerEvent::Reconnect(n)) => {
            let attempts = names.iter().filter(|n| **n == "reconnect_attempt").count();
            assert_eq!(*n as usize, attempts, "{names:?}");
        }
        other => panic!("{other:?}"),
    }
    // reconnect_failed: the same manager, the server gone for good, a limit of 1 attempt.
    let limited = rt
        .io(
            &server.url(),
            Options::default()
                .force_new(true)
                .reconnection_attempts(Some(1))
                .reconnection_delay(Duration::from_millis(50)),
        )
        .expect("io");
    let mut limited_events = limited.events();
    let mut limited_manager = limited.io().events();
    rt.connected(&limited, &mut limited_events).await;
    server.kill();
    rt.next_manager_event(&mut limited_manager, |e| {
        (e == ManagerEvent::ReconnectFailed).then_some(())
    })
    .await;
}

fn log_len(log: &Mutex<Vec<ManagerEvent>>) -> usize {
    log.lock().unwrap().len()
}

/// Streams manager events into `into` up to the first that `pick` accepts.
async fn take(
    rt: &Rt,
    (stream, into): (
        &mut (impl Stream<Item = ManagerEvent> + Unpin),
        &mut Vec<ManagerEvent>,
    ),
    pick: fn(&ManagerEvent) -> bool,
) {
    rt.next_manager_event(stream, |e| {
        let hit = pick(&e);
        into.push(e);
        hit.then_some(())
    })
    .await
}

on_every_runtime!(
    one_connection_per_server_for_several_namespaces,
    the_same_namespace_twice_gets_a_new_connection,
    force_new_always_gets_a_new_connection,
    multiplex_false_gets_a_new_connection,
    another_path_is_another_manager,
    manager_socket_open_and_close,
    manager_events_through_on_and_events,
);
