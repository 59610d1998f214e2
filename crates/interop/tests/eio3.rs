//! Engine.IO 3 against the real servers, on every transport mode and both runtimes:
//! socket.io 2.5 (Engine.IO 3 only), with the protocol detected and set, and socket.io 4.8
//! with `allowEIO3`. Connect, namespaces, emit before connect, acks both ways, binary, a
//! middleware refusal, reconnection after a server restart, the heartbeat timeout, and the
//! typed refusals (a v4 client against a 2.x server, auth against a 2.x server).

use std::time::Duration;

use socketio_async::{ConnectError, DisconnectReason, EngineProtocol, ManagerEvent, SocketEvent};
use socketio_interop::{NodeServer, Rt, options};

/// The servers and client protocols every scenario runs against.
fn servers(env: &[(&str, &str)]) -> Vec<(&'static str, NodeServer, EngineProtocol)> {
    vec![
        (
            "2.5 detected",
            NodeServer::start_v2(env),
            EngineProtocol::Detect,
        ),
        ("2.5 set", NodeServer::start_v2(env), EngineProtocol::V3),
        (
            "4.8 allowEIO3",
            NodeServer::start_allow_eio3(env),
            EngineProtocol::V3,
        ),
    ]
}

#[derive(serde::Deserialize)]
struct Nested {
    nested: bytes::Bytes,
    text: String,
}

async fn talks(rt: Rt, mode: &str) {
    for (name, server, protocol) in servers(&[]) {
        let options = options(mode).protocol(protocol);
        let socket = rt.io(&server.url(), options.clone()).expect("io");
        let mut events = socket.events();
        // Emitted before the namespace connects: kept and sent once after.
        socket.emit("echo", ("early",)).expect("emit");
        let welcome = rt.welcome(&mut events).await;
        assert_eq!(welcome["nsp"], "/", "{name}");
        if name.starts_with("2.5") {
            // socket.io 2.x ids are the engine's: the client derives the same.
            assert_eq!(socket.id().as_deref(), welcome["id"].as_str(), "{name}");
        }
        let echoed = rt
            .next_event(&mut events, |e| match e {
                SocketEvent::Message(m) if m.event == "echo" => Some(m),
                _ => None,
            })
            .await;
        let (early,): (String,) = echoed.args.parse().expect("echo");
        assert_eq!(early, "early", "{name}");

        // Acks both ways, binary both ways.
        let (n, s): (u32, String) = rt
            .within("echo ack", socket.emit_with_ack("echo", (7, "x")))
            .await
            .expect("ack");
        assert_eq!((n, s.as_str()), (7, "x"), "{name}");
        let (raw,): (bytes::Bytes,) = rt
            .within(
                "binary echo",
                socket.emit_with_ack("echo", (bytes::Bytes::from_static(&[9, 8, 7]),)),
            )
            .await
            .expect("binary ack");
        assert_eq!(&raw[..], [9, 8, 7], "{name}");
        let (first, second): (bytes::Bytes, Nested) = rt
            .within("server binary", socket.emit_with_ack("binary", ()))
            .await
            .expect("server binary");
        assert_eq!(&first[..], [1, 2, 3]);
        assert_eq!(
            (&second.nested[..], second.text.as_str()),
            (&[4u8, 5][..], "t")
        );
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
        assert_eq!(reply, ["answer to life"], "{name}");

        // Another namespace on the same connection.
        let chat = socket.io().socket("/chat").expect("socket");
        let mut chat_events = chat.events();
        chat.connect();
        let chat_welcome = rt.welcome(&mut chat_events).await;
        assert_eq!(chat_welcome["nsp"], "/chat", "{name}");
        assert_eq!(
            chat_welcome["engine"], welcome["engine"],
            "{name}: multiplexed"
        );

        // A middleware refusal: 2.x sends ERROR with the error's message as a string; 4.8
        // sends an Engine.IO 3 client the error's `data` instead, when it has some.
        let admin = socket.io().socket("/admin").expect("socket");
        let mut admin_events = admin.events();
        admin.connect();
        let refused = rt.failed_to_connect(&admin, &mut admin_events).await;
        let ConnectError::Refused { message, data } = &refused else {
            panic!("{name}: {refused:?}")
        };
        if name.starts_with("2.5") {
            assert_eq!(message, "not authorized", "{name}");
        } else {
            let data: serde_json::Value = data.as_ref().expect("data").deserialize().unwrap();
            assert_eq!(data["reason"], "bad token", "{name}");
        }

        // The query reaches the namespace middleware (2.x reads it as the handshake query).
        let authorized = rt
            .io(
                &format!("{}/admin", server.url()),
                options.clone().query("token", "secret"),
            )
            .expect("io");
        let mut authorized_events = authorized.events();
        let w = rt.welcome(&mut authorized_events).await;
        assert_eq!(w["nsp"], "/admin", "{name}");
    }
}

async fn reconnects_after_a_restart(rt: Rt, mode: &str) {
    for (name, mut server, protocol) in servers(&[]) {
        let options = options(mode)
            .protocol(protocol)
            .reconnection_delay(Duration::from_millis(50))
            .reconnection_delay_max(Duration::from_millis(200));
        let socket = rt.io(&server.url(), options).expect("io");
        let mut events = socket.events();
        let first = rt.welcome(&mut events).await;
        server.restart();
        let reason = rt.disconnected(&mut events).await;
        assert!(reason.reconnects(), "{name}: {reason:?}");
        // Attempts may fail while the server starts again; the welcome says it is back.
        let second = rt
            .next_event(&mut events, |e| match e {
                SocketEvent::Message(m) if m.event == "welcome" => {
                    m.args.get::<serde_json::Value>(0).ok()
                }
                _ => None,
            })
            .await;
        assert_ne!(
            first["engine"], second["engine"],
            "{name}: a new connection"
        );
        let (n,): (u32,) = rt
            .within("echo after reconnect", socket.emit_with_ack("echo", (1,)))
            .await
            .expect("ack");
        assert_eq!(n, 1);
    }
}

async fn a_silent_server_is_a_ping_timeout(rt: Rt, mode: &str) {
    let env = [("PING_INTERVAL", "300"), ("PING_TIMEOUT", "300")];
    for (name, server, protocol) in servers(&env) {
        let options = options(mode).protocol(protocol).reconnection(false);
        let socket = rt.io(&server.url(), options).expect("io");
        let mut events = socket.events();
        let mut manager_events = socket.io().events();
        rt.welcome(&mut events).await;
        // Several heartbeats go by (the server's pings, or its answers to ours in v3).
        for _ in 0..3 {
            rt.next_manager_event(&mut manager_events, |e| {
                (e == ManagerEvent::Ping).then_some(())
            })
            .await;
        }
        assert!(socket.connected(), "{name}: alive through heartbeats");
        server.freeze();
        let reason = rt.disconnected(&mut events).await;
        server.thaw();
        assert_eq!(reason, DisconnectReason::PingTimeout, "{name}");
    }
}

async fn mismatches_are_named(rt: Rt, mode: &str) {
    let server = NodeServer::start_v2(&[]);
    // A v4 client against a 2.x server: the error says what the server speaks.
    let socket = rt
        .io(&server.url(), options(mode).reconnection(false))
        .expect("io");
    let mut events = socket.events();
    if mode != "websocket" {
        let error = rt.failed_to_connect(&socket, &mut events).await;
        let answered = match &error {
            ConnectError::Engine(e) => match e.transport_error() {
                Some(engineio_proto::TransportError::Protocol(
                    engineio_proto::ProtocolViolation::WrongProtocol { answered, .. },
                )) => Some(answered.clone()),
                _ => None,
            },
            _ => None,
        };
        assert_eq!(
            answered,
            Some(engineio_proto::ServerProtocol::EngineIo3),
            "{error:?}"
        );
    }
    // Auth against a 2.x server cannot be sent: a typed error, not an unauthenticated
    // connection.
    let socket = rt
        .io(
            &server.url(),
            options(mode)
                .protocol(EngineProtocol::Detect)
                .auth(serde_json::json!({"token": "secret"})),
        )
        .expect("io");
    let mut events = socket.events();
    let error = rt.failed_to_connect(&socket, &mut events).await;
    assert_eq!(error, ConnectError::AuthUnsupported);
}

socketio_interop::on_every_mode!(
    talks,
    reconnects_after_a_restart,
    a_silent_server_is_a_ping_timeout,
    mismatches_are_named,
);
