//! What socket.io-client accepts and how it closes, against the Node server: a WebSocket
//! message over tungstenite's default 16 MiB, the goodbye after a parse error, and lifecycle
//! events that carry the state of their own moment.

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use socketio_async::{DisconnectReason, SocketEvent};
use socketio_interop::{NodeServer, Rt, options};

/// 24 MiB of binary in one WebSocket frame (the reference's `ws` takes up to 100 MiB).
async fn a_24_mib_binary_message_arrives(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let size = 24usize << 20;
    let (blob,): (bytes::Bytes,) = rt
        .within("a 24 MiB ack", socket.emit_with_ack("big", (size,)))
        .await
        .expect("ack");
    assert_eq!(blob.len(), size);
    assert!(blob.iter().all(|b| *b == 7), "the bytes changed on the way");
    assert!(socket.connected(), "{mode}: the session survived");
}

/// An event nested 200 levels deep (arrays and objects mixed) goes out and comes back: the
/// reference delivers it, and so must we (the codec's depth limit is 1,000).
async fn a_200_level_event_arrives(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let mut deep = serde_json::json!("bottom");
    for level in 0..200 {
        deep = if level % 2 == 0 {
            serde_json::json!([deep])
        } else {
            serde_json::json!({ "k": deep })
        };
    }
    let (back,): (serde_json::Value,) = rt
        .within(
            "a 200-level echo",
            socket.emit_with_ack("echo", (deep.clone(),)),
        )
        .await
        .expect("ack");
    assert!(back == deep, "{mode}: the value changed on the way");
    assert!(socket.connected(), "{mode}: the session survived");
}

/// After a parse error the client tells the server (a `1` POST on polling, a close frame on
/// WebSocket) before it lets go: by the time its reconnection is up, the old session is gone
/// on the server, not left for the heartbeat to end 45 s later.
async fn a_parse_error_closes_the_session_on_the_server(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    if mode == "upgrade" {
        rt.settles_on(&socket, "websocket").await;
    }
    socket.emit("garble", ()).expect("emit");
    let reason = rt.disconnected(&mut events).await;
    assert_eq!(reason, DisconnectReason::ParseError);
    rt.connected(&socket, &mut events).await;
    let (sessions,): (u64,) = rt
        .within("the session count", socket.emit_with_ack("sessions", ()))
        .await
        .expect("sessions");
    assert_eq!(
        sessions, 1,
        "{mode}: the old session is still open on the server"
    );
}

/// A lifecycle callback's name, with the socket's id and `connected` when it ran.
type Seen = (String, Option<String>, bool);

/// A namespace the server disconnects as soon as it connects: `connect` still sees the id
/// that connection had, then `disconnect` comes, in that order.
async fn connect_then_disconnect_keep_their_own_state(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let url = format!("{}/brief", server.url());
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let socket = rt.io(&url, options(mode).auto_connect(false)).expect("io");
    // The disconnect callback says when it ran (streams get events before callbacks).
    let (done, mut callbacks_done) = futures_channel::mpsc::unbounded::<()>();
    for name in ["connect", "disconnect"] {
        let record = seen.clone();
        let handle = socket.clone();
        let done = done.clone();
        let note = move || {
            record
                .lock()
                .unwrap()
                .push((name.to_owned(), handle.id(), handle.connected()));
            if name == "disconnect" {
                let _ = done.unbounded_send(());
            }
        };
        if name == "connect" {
            socket.on_connect(move |_| note());
        } else {
            socket.on_disconnect(move |_| note());
        }
    }
    let mut events = socket.events();
    let mut late = socket.events();
    socket.connect();
    let reason = rt.disconnected(&mut events).await;
    assert_eq!(reason, DisconnectReason::IoServerDisconnect);
    rt.within("the disconnect callback", callbacks_done.next())
        .await
        .expect("callback");
    // A stream read after the fact: its connect carries the id that connection had, though
    // the socket has none any more.
    let id = rt
        .next_event(&mut late, |e| match e {
            SocketEvent::Connect { id, .. } => Some(id),
            _ => None,
        })
        .await;
    assert!(!id.is_empty());
    assert_eq!(socket.id(), None);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].0, "connect");
    assert!(seen[0].1.is_some(), "connect without its id: {seen:?}");
    assert!(seen[0].2, "connect while not connected: {seen:?}");
    assert_eq!(
        (seen[1].0.as_str(), &seen[1].1, seen[1].2),
        ("disconnect", &None, false)
    );
}

socketio_interop::on_every_mode!(
    a_24_mib_binary_message_arrives,
    a_200_level_event_arrives,
    a_parse_error_closes_the_session_on_the_server,
    connect_then_disconnect_keep_their_own_state
);
