//! The adapter in a real headless browser against the real Node.js server
//! (crates/test-kit/node). Run through `node crates/socketio-wasm/browser-tests.js test`,
//! which starts the server, passes its URL in `SOCKETIO_TEST_URL` (and the URL of its
//! restart control in `SOCKETIO_TEST_CONTROL`) at compile time, and runs these tests with
//! wasm-bindgen-test-runner in headless Chromium.
//!
//! Every wait is on an event; a test that never sees its event fails by the runner's timeout.

#![cfg(target_arch = "wasm32")]

use bytes::Bytes;
use futures_util::StreamExt;
use socketio_wasm::runtime::{HttpRequest, Unsupported};
use socketio_wasm::{
    Error, ManagerEvent, Options, Runtime, SocketEvent, TransportKind, Value, WasmRuntime,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn server() -> &'static str {
    // Not `env!`: the suite must still build (for clippy) where the driver did not set it.
    match option_env!("SOCKETIO_TEST_URL") {
        Some(url) => url,
        None => panic!(
            "SOCKETIO_TEST_URL unset: run these through crates/socketio-wasm/browser-tests.js"
        ),
    }
}

/// A fresh connection (no sharing through the manager cache between tests).
fn options() -> Options {
    Options::default().force_new(true)
}

#[wasm_bindgen_test]
async fn connect_emit_and_ack() {
    let (tx, mut welcome) = futures_channel::mpsc::unbounded();
    let socket = socketio_wasm::builder(server(), options())
        .unwrap()
        .on("welcome", move |msg| {
            let _ = tx.unbounded_send(msg.args.to_values());
        })
        .connect()
        .await
        .unwrap();
    assert!(socket.connected());
    let welcome = welcome.next().await.unwrap();
    assert_eq!(welcome[0]["nsp"], "/");

    let (text, number): (String, u32) = socket.emit_with_ack("echo", ("hi", 42)).await.unwrap();
    assert_eq!((text.as_str(), number), ("hi", 42));

    // Without an ack, the server emits the arguments back.
    let mut events = socket.events();
    socket.emit("echo", "plain").unwrap();
    loop {
        if let Some(SocketEvent::Message(msg)) = events.next().await
            && msg.event == "echo"
        {
            assert_eq!(msg.args.get::<String>(0).unwrap(), "plain");
            break;
        }
    }
    socket.disconnect();
}

#[wasm_bindgen_test]
async fn the_server_acks_through_the_client() {
    let socket = socketio_wasm::builder(server(), options())
        .unwrap()
        .on("question", |mut msg| {
            let asked: String = msg.args.get(0).unwrap();
            let ack = msg.take_ack().expect("the server asks for an ack");
            ack.send((format!("{asked}!"), Bytes::from_static(b"\x01\x02")))
                .unwrap();
        })
        .connect()
        .await
        .unwrap();
    let mut events = socket.events();
    socket.emit("ask", "why").unwrap();
    loop {
        if let Some(SocketEvent::Message(msg)) = events.next().await
            && msg.event == "answer"
        {
            let answer = msg.args.values().unwrap();
            let list = match &answer[0] {
                Value::Array(list) => list.clone(),
                other => panic!("answer: {other:?}"),
            };
            assert_eq!(list[0].as_str(), Some("why!"));
            assert_eq!(
                list[1].as_bytes().map(|b| b.as_ref()),
                Some(&b"\x01\x02"[..])
            );
            break;
        }
    }
    socket.disconnect();
}

#[wasm_bindgen_test]
async fn binary_both_ways() {
    let socket = socketio_wasm::builder(server(), options())
        .unwrap()
        .connect()
        .await
        .unwrap();
    // The server's nested buffers.
    let got: Vec<Value> = socket.emit_with_ack("binary", ()).await.unwrap();
    assert_eq!(
        got[0].as_bytes().map(|b| b.as_ref()),
        Some(&[1u8, 2, 3][..])
    );
    let nested = got[1].get("nested").and_then(Value::as_bytes).unwrap();
    assert_eq!(nested.as_ref(), &[4u8, 5][..]);
    // Ours, echoed byte for byte (every byte value).
    let all: Bytes = (0..=255u8).collect::<Vec<_>>().into();
    let (back,): (Bytes,) = socket.emit_with_ack("echo", (all.clone(),)).await.unwrap();
    assert_eq!(back, all);
    socket.disconnect();
}

#[wasm_bindgen_test]
async fn a_second_namespace_with_auth() {
    let socket = socketio_wasm::builder(server(), options())
        .unwrap()
        .connect()
        .await
        .unwrap();
    // Same connection (multiplexed): the manager opens /admin on it.
    let admin = socket
        .io()
        .socket_with(
            "/admin",
            &Options::default().auth(serde_json::json!({ "token": "secret" })),
        )
        .unwrap();
    admin.connect().await.unwrap();
    let (nsp,): (String,) = admin.emit_with_ack("echo", "/admin").await.unwrap();
    assert_eq!(nsp, "/admin");
    // No token: refused (the manager keeps one socket per namespace, so on a connection
    // of its own).
    let error = socketio_wasm::builder(&format!("{}/admin", server()), options())
        .unwrap()
        .connect()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Connect(_)), "{error:?}");
    admin.disconnect();
    socket.disconnect();
}

#[wasm_bindgen_test]
async fn polling_only_with_credentials() {
    let options = options()
        .transports([TransportKind::Polling])
        .with_credentials(true);
    let socket = socketio_wasm::builder(server(), options)
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(socket.io().transport(), Some(TransportKind::Polling));
    let (back,): (String,) = socket.emit_with_ack("echo", "over fetch").await.unwrap();
    assert_eq!(back, "over fetch");
    let (transport,): (String,) = socket.emit_with_ack("transport", ()).await.unwrap();
    assert_eq!(transport, "polling");
    socket.disconnect();
}

#[wasm_bindgen_test]
async fn websocket_only() {
    let options = options().transports([TransportKind::WebSocket]);
    let socket = socketio_wasm::builder(server(), options)
        .unwrap()
        .connect()
        .await
        .unwrap();
    assert_eq!(socket.io().transport(), Some(TransportKind::WebSocket));
    let (transport,): (String,) = socket.emit_with_ack("transport", ()).await.unwrap();
    assert_eq!(transport, "websocket");
    socket.disconnect();
}

#[wasm_bindgen_test]
async fn polling_upgrades_to_websocket() {
    let builder = socketio_wasm::builder(server(), options()).unwrap();
    let mut manager_events = builder.socket().io().events();
    let socket = builder.connect().await.unwrap();
    loop {
        match manager_events.next().await {
            Some(ManagerEvent::Upgrade(TransportKind::WebSocket)) => break,
            Some(_) => {}
            None => panic!("the manager ended before upgrading"),
        }
    }
    let (transport,): (String,) = socket.emit_with_ack("transport", ()).await.unwrap();
    assert_eq!(transport, "websocket");
    socket.disconnect();
}

/// Asks the test driver to stop or start the Node server (a real process restart on the
/// same port), through this crate's own fetch.
async fn control(action: &str) {
    let Some(base) = option_env!("SOCKETIO_TEST_CONTROL") else {
        panic!(
            "SOCKETIO_TEST_CONTROL unset: run these through crates/socketio-wasm/browser-tests.js"
        );
    };
    let request = HttpRequest {
        post: false,
        url: format!("{base}/{action}").parse().unwrap(),
        headers: Vec::new(),
        body: Bytes::new(),
        max_body: 1024,
    };
    let response = WasmRuntime::new().http(request).await.unwrap();
    assert_eq!(response.status, 200, "control {action}");
}

#[wasm_bindgen_test]
async fn reconnects_after_a_server_restart() {
    let options = options()
        .reconnection_delay(std::time::Duration::from_millis(100))
        .reconnection_delay_max(std::time::Duration::from_millis(500));
    let builder = socketio_wasm::builder(server(), options).unwrap();
    let mut manager_events = builder.socket().io().events();
    let socket = builder.connect().await.unwrap();
    let mut socket_events = socket.events();

    control("stop").await;
    // The connection drops and an attempt against the stopped server fails.
    let mut closed = false;
    loop {
        match manager_events.next().await.unwrap() {
            ManagerEvent::Close(_) => closed = true,
            ManagerEvent::ReconnectError(_) if closed => break,
            _ => {}
        }
    }
    control("start").await;
    loop {
        if let ManagerEvent::Reconnect(attempts) = manager_events.next().await.unwrap() {
            assert!(attempts >= 2, "the first attempt met the stopped server");
            break;
        }
    }
    // The namespace reconnects too, and works.
    loop {
        if let Some(SocketEvent::Connect { .. }) = socket_events.next().await
            && socket.connected()
        {
            break;
        }
    }
    let (back,): (String,) = socket.emit_with_ack("echo", "again").await.unwrap();
    assert_eq!(back, "again");
    socket.disconnect();
}

#[wasm_bindgen_test]
fn options_the_browser_cannot_honour_are_refused() {
    let headers = Options::default().extra_header("x-token", "t");
    let error = socketio_wasm::io(server(), headers.clone()).unwrap_err();
    assert!(
        matches!(error, Error::Unsupported(Unsupported::WebSocketHeaders)),
        "{error:?}"
    );
    // Over fetch alone the headers can go.
    let polling = headers
        .transports([TransportKind::Polling])
        .auto_connect(false);
    assert!(socketio_wasm::io(server(), polling).is_ok());
    // A runtime built for other credentials than the options ask for.
    let error = socketio_wasm::Manager::new(
        server(),
        Options::default().with_credentials(true),
        WasmRuntime::new().shared(),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Unsupported(Unsupported::CredentialsMode)),
        "{error:?}"
    );
}
