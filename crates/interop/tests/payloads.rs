//! Payload sizes and text on every transport and runtime; the heartbeat against a server that
//! stops answering; every namespace re-joined after a restart.

use std::time::Duration;

use socketio_async::{DisconnectReason, Options, SocketEvent, TransportKind};
use socketio_interop::{NodeServer, Rt};

fn options(mode: &str) -> Options {
    let transports = match mode {
        "polling" => vec![TransportKind::Polling],
        "websocket" => vec![TransportKind::WebSocket],
        _ => vec![TransportKind::Polling, TransportKind::WebSocket],
    };
    Options::default().transports(transports).force_new(true)
}

/// 2 MiB of text and 2 MiB of binary, each way, under a 3 MB server limit.
async fn large_payloads(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[("MAX_HTTP_BUFFER_SIZE", "3000000")]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let text: String = "0123456789abcdef".repeat(128 * 1024);
    let (back,): (String,) = rt
        .within(
            "2 MiB text echo",
            socket.emit_with_ack("echo", (text.clone(),)),
        )
        .await
        .expect("ack");
    assert_eq!(back.len(), text.len());
    assert!(back == text, "text changed on the way");
    let blob = bytes::Bytes::from(
        (0..2 * 1024 * 1024)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let (a, b): (bytes::Bytes, bytes::Bytes) = rt
        .within(
            "2 MiB binary echo",
            socket.emit_with_ack("echo", (blob.clone(), blob.slice(..1000))),
        )
        .await
        .expect("ack");
    assert!(
        a == blob && b == blob.slice(..1000),
        "binary changed on the way"
    );
}

/// UTF-8 in event names and arguments, including characters outside the BMP.
async fn utf8_text(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let socket = rt.io(&server.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let samples = [
        "héllo wörld",
        "€ 日本語 한국어",
        "🦀🚀 emoji",
        "quote \" backslash \\ tab \t",
        "\u{2028}\u{2029}",
    ];
    for sample in samples {
        let (back,): (String,) = rt
            .within("utf-8 echo", socket.emit_with_ack("echo", (sample,)))
            .await
            .expect("ack");
        assert_eq!(back, sample);
    }
    // A non-ASCII event name, emitted back by the server through `broadcast`.
    socket
        .emit_with_ack::<_, ()>("join", ("ü",))
        .await
        .expect("join");
    socket
        .emit("broadcast", ("ü", "événement", "ça marche"))
        .expect("emit");
    let arg = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "événement" => Some(m.args.get::<String>(0)),
            _ => None,
        })
        .await
        .expect("arg");
    assert_eq!(arg, "ça marche");
}

/// The server stops answering (frozen, sockets open): the missing ping is noticed within
/// pingInterval + pingTimeout, and the client reconnects once the server is back.
async fn ping_timeout_when_the_server_hangs(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[("PING_INTERVAL", "300"), ("PING_TIMEOUT", "200")]);
    let socket = rt
        .io(
            &server.url(),
            options(mode)
                .reconnection_delay(Duration::from_millis(100))
                .reconnection_delay_max(Duration::from_millis(200)),
        )
        .expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    server.freeze();
    let frozen_at = std::time::Instant::now();
    let reason = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Disconnect(r) => Some(r),
            _ => None,
        })
        .await;
    let noticed = frozen_at.elapsed();
    assert_eq!(reason, DisconnectReason::PingTimeout);
    // The last ping came at most 300 ms before the freeze; the deadline is 500 ms after it.
    assert!(
        noticed <= Duration::from_millis(500 + 300),
        "noticed after {noticed:?}"
    );
    server.thaw();
    rt.next_event(&mut events, |e| match e {
        SocketEvent::Connect { .. } => Some(()),
        _ => None,
    })
    .await;
    let (v,): (u8,) = socket.emit_with_ack("echo", (1,)).await.expect("ack");
    assert_eq!(v, 1);
}

/// After a server restart every namespace of the connection connects again.
async fn namespaces_rejoined_after_restart(rt: Rt, mode: &str) {
    let mut server = NodeServer::start(&[]);
    let root = rt
        .io(
            &server.url(),
            options(mode)
                .reconnection_delay(Duration::from_millis(50))
                .reconnection_delay_max(Duration::from_millis(200)),
        )
        .expect("io");
    let chat = root.io().socket("/chat").expect("chat");
    let mut root_events = root.events();
    let mut chat_events = chat.events();
    rt.connected(&root, &mut root_events).await;
    rt.connected(&chat, &mut chat_events).await;
    server.restart();
    for events in [&mut root_events, &mut chat_events] {
        rt.next_event(events, |e| match e {
            SocketEvent::Disconnect(_) => Some(()),
            _ => None,
        })
        .await;
        rt.next_event(events, |e| match e {
            SocketEvent::Connect { .. } => Some(()),
            _ => None,
        })
        .await;
    }
    let (a,): (String,) = chat
        .emit_with_ack("echo", ("chat",))
        .await
        .expect("chat ack");
    let (b,): (String,) = root
        .emit_with_ack("echo", ("root",))
        .await
        .expect("root ack");
    assert_eq!((a.as_str(), b.as_str()), ("chat", "root"));
}

socketio_interop::on_every_mode!(
    large_payloads,
    utf8_text,
    ping_timeout_when_the_server_hangs,
    namespaces_rejoined_after_restart
);
