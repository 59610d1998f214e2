//! Against the real Node.js socket.io 4.8 server, for each transport mode (polling only,
//! WebSocket only, polling upgraded to WebSocket) and on each runtime adapter.

use std::time::Duration;

use socketio_async::{ConnectError, DisconnectReason, SocketEvent};
use socketio_interop::{NodeServer, Rt, options};

async fn echo_and_events(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    // Emitted before the namespace is connected: buffered, sent once after.
    socket.emit("echo", ("early", 1)).expect("emit");
    let welcome = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "welcome" => Some(m),
            _ => None,
        })
        .await;
    let info: serde_json::Value = welcome.args.get(0).expect("welcome arg");
    assert_eq!(info["nsp"], "/");
    assert!(socket.connected());
    assert!(socket.id().is_some());
    let echoed = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "echo" => Some(m),
            _ => None,
        })
        .await;
    let (word, n): (String, u32) = echoed.args.parse().expect("args");
    assert_eq!((word.as_str(), n), ("early", 1));

    let (a, b): (String, serde_json::Value) = rt
        .within(
            "the ack",
            socket.emit_with_ack("echo", ("with-ack", serde_json::json!({"k": [1, 2]}))),
        )
        .await
        .expect("ack");
    assert_eq!(a, "with-ack");
    assert_eq!(b, serde_json::json!({"k": [1, 2]}));

    // Binary both ways, nested.
    let payload = bytes::Bytes::from_static(&[0, 1, 2, 255]);
    let (back,): (bytes::Bytes,) = socket
        .emit_with_ack("echo", (payload.clone(),))
        .await
        .expect("binary ack");
    assert_eq!(back, payload);
    #[derive(serde::Deserialize)]
    struct Nested {
        nested: bytes::Bytes,
        text: String,
    }
    let (first, second): (bytes::Bytes, Nested) = socket
        .emit_with_ack("binary", ())
        .await
        .expect("server binary");
    assert_eq!(&first[..], [1, 2, 3]);
    assert_eq!(
        (&second.nested[..], second.text.as_str()),
        (&[4u8, 5][..], "t")
    );

    // The server asks, we answer through the ack.
    socket.on("question", |mut m| {
        let (q,): (String,) = m.args.parse().expect("question");
        m.take_ack()
            .expect("ack wanted")
            .send((format!("answer to {q}"),))
            .expect("ack");
    });
    socket.emit("ask", ("life",)).expect("emit");
    let answer = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "answer" => Some(m),
            _ => None,
        })
        .await;
    let (reply,): (Vec<String>,) = answer.args.parse().expect("answer");
    assert_eq!(reply, ["answer to life"]);

    // Ack timeout is its own error.
    let timed_out = socket
        .timeout(Duration::from_millis(100))
        .emit_with_ack::<_, ()>("ignore", ())
        .await;
    assert!(matches!(
        timed_out,
        Err(socketio_async::Error::Ack(
            socketio_async::AckError::Timeout
        ))
    ));

    // The server kicks us: no reconnection.
    socket.emit("kick", ()).expect("emit");
    let reason = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Disconnect(r) => Some(r),
            _ => None,
        })
        .await;
    assert_eq!(reason, DisconnectReason::IoServerDisconnect);
    assert!(!socket.active());
}

async fn namespaces_and_auth(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let refused = rt
        .io(&format!("{}/admin", server.url()), options(mode))
        .expect("io");
    let mut events = refused.events();
    let error = rt.failed_to_connect(&refused, &mut events).await;
    assert_eq!(
        refused.connect_error().as_ref(),
        Some(&error),
        "kept in the status"
    );
    match error {
        ConnectError::Refused { message, data } => {
            assert_eq!(message, "not authorized");
            assert_eq!(data.expect("data").json(), br#"{"reason":"bad token"}"#);
        }
        other => panic!("{other:?}"),
    }
    assert!(!refused.active());

    let admin = rt
        .io(
            &format!("{}/admin", server.url()),
            options(mode).auth(serde_json::json!({"token": "secret"})),
        )
        .expect("io");
    let mut events = admin.events();
    rt.connected(&admin, &mut events).await;
    // Multiplexed: /chat over the same connection as /admin.
    let chat = admin.io().socket("/chat").expect("chat");
    let mut chat_events = chat.events();
    rt.connected(&chat, &mut chat_events).await;
    let (x,): (u8,) = chat.emit_with_ack("echo", (7,)).await.expect("ack");
    assert_eq!(x, 7);
    let (y,): (u8,) = admin.emit_with_ack("echo", (8,)).await.expect("ack");
    assert_eq!(y, 8);
}

async fn reconnects_after_restart(rt: Rt, mode: &str) {
    let mut server = NodeServer::start(&[("PING_INTERVAL", "300"), ("PING_TIMEOUT", "200")]);
    let socket = rt
        .io(
            &server.url(),
            options(mode)
                .reconnection_delay(Duration::from_millis(50))
                .reconnection_delay_max(Duration::from_millis(200)),
        )
        .expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let first = socket.id();
    server.restart();
    let reason = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Disconnect(r) => Some(r),
            _ => None,
        })
        .await;
    assert!(reason.reconnects(), "{reason:?}");
    rt.next_event(&mut events, |e| match e {
        SocketEvent::Connect { .. } => Some(()),
        _ => None,
    })
    .await;
    assert_ne!(socket.id(), first, "a new session");
    let (v,): (String,) = socket.emit_with_ack("echo", ("after",)).await.expect("ack");
    assert_eq!(v, "after");
}

async fn recovers_missed_events(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[("RECOVERY", "1")]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    socket
        .emit_with_ack::<_, ()>("join", ("room",))
        .await
        .expect("joined");
    // One event to set the offset.
    socket.emit("broadcast", ("room", "tick", 0)).expect("emit");
    let tick = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "tick" => Some(m),
            _ => None,
        })
        .await;
    assert!(tick.offset.is_some(), "recovery offsets are reported");
    assert_eq!(tick.args.len(), 1, "and kept out of the arguments");
    let id = socket.id();
    // The server drops the transport: recoverable.
    socket.emit("drop", ()).expect("emit");
    rt.next_event(&mut events, |e| match e {
        SocketEvent::Disconnect(_) => Some(()),
        _ => None,
    })
    .await;
    // While it is away, another client broadcasts to its room.
    let other = rt.io(&server.url(), options(mode)).expect("io");
    let mut other_events = other.events();
    rt.connected(&other, &mut other_events).await;
    for n in 1..=3 {
        other.emit("broadcast", ("room", "tick", n)).expect("emit");
    }
    let mut ticks = Vec::new();
    let mut recovered = None;
    while ticks.len() < 3 || recovered.is_none() {
        let event = rt
            .next_event(&mut events, |e| match e {
                SocketEvent::Message(m) if m.event == "tick" => {
                    Some(Ok(m.args.get::<u32>(0).expect("n")))
                }
                SocketEvent::Connect { recovered, .. } => Some(Err(recovered)),
                _ => None,
            })
            .await;
        match event {
            Ok(n) => ticks.push(n),
            Err(r) => recovered = Some(r),
        }
    }
    assert_eq!(ticks, [1, 2, 3], "missed events once each, in order");
    assert_eq!(recovered, Some(true));
    assert!(socket.recovered());
    assert_eq!(socket.id(), id, "same session id after recovery");
}

async fn retries_deliver_at_least_once(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt
        .io(
            &server.url(),
            options(mode)
                .retries(Some(3))
                .ack_timeout(Some(Duration::from_millis(500))),
        )
        .expect("io");
    let mut events = socket.events();
    for n in 0..20u32 {
        socket.emit("numbered", (n,)).expect("emit");
    }
    rt.connected(&socket, &mut events).await;
    let (seen,): (Vec<u32>,) = socket.emit_with_ack("seen", ()).await.expect("seen");
    assert_eq!(
        seen,
        (0..20).collect::<Vec<_>>(),
        "every numbered emit, in order"
    );
}

async fn upgrades_when_allowed(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let expected = match mode {
        "polling" => "polling",
        _ => "websocket",
    };
    // The upgrade may still be under way right after connecting: ask until it settles.
    rt.settles_on(&socket, expected).await;
}

socketio_interop::on_every_mode!(
    echo_and_events,
    namespaces_and_auth,
    reconnects_after_restart,
    recovers_missed_events,
    retries_deliver_at_least_once,
    upgrades_when_allowed
);
