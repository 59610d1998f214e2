//! The msgpack parser against the server's socket.io-msgpack-parser, on every runtime and
//! transport.

use std::sync::Arc;

use socketio_async::{ConnectError, Options, TransportKind};
use socketio_interop::{NodeServer, Rt};
use socketio_msgpack::MsgPackParser;

fn options(transports: Vec<TransportKind>) -> Options {
    Options::default()
        .transports(transports)
        .force_new(true)
        .parser(Arc::new(MsgPackParser))
}

async fn round_trip(rt: Rt, transports: Vec<TransportKind>) {
    let server = NodeServer::start(&[("MSGPACK", "1")]);
    let socket = rt
        .io(&server.url(), options(transports.clone()))
        .expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;

    let (word, n): (String, i64) = rt
        .within("echo ack", socket.emit_with_ack("echo", ("hello", -5)))
        .await
        .expect("ack");
    assert_eq!((word.as_str(), n), ("hello", -5));

    let blob = bytes::Bytes::from_static(&[0, 1, 254, 255]);
    let (back,): (bytes::Bytes,) = rt
        .within("binary ack", socket.emit_with_ack("echo", (blob.clone(),)))
        .await
        .expect("binary ack");
    assert_eq!(back, blob);

    #[derive(serde::Deserialize)]
    struct Nested {
        nested: bytes::Bytes,
        text: String,
    }
    let (first, second): (bytes::Bytes, Nested) = rt
        .within("server binary", socket.emit_with_ack("binary", ()))
        .await
        .expect("server binary");
    assert_eq!(&first[..], [1, 2, 3]);
    assert_eq!(
        (&second.nested[..], second.text.as_str()),
        (&[4u8, 5][..], "t")
    );

    // Refusal data survives the format too.
    let admin = rt
        .io(&format!("{}/admin", server.url()), options(transports))
        .expect("io");
    let mut admin_events = admin.events();
    let error = rt.failed_to_connect(&admin, &mut admin_events).await;
    match error {
        ConnectError::Refused { message, data } => {
            assert_eq!(message, "not authorized");
            assert_eq!(data.expect("data").json(), br#"{"reason":"bad token"}"#);
        }
        other => panic!("{other:?}"),
    }
}

async fn websocket(rt: Rt) {
    round_trip(rt, vec![TransportKind::WebSocket]).await;
}

async fn polling(rt: Rt) {
    round_trip(rt, vec![TransportKind::Polling]).await;
}

async fn upgrade(rt: Rt) {
    round_trip(rt, vec![TransportKind::Polling, TransportKind::WebSocket]).await;
}

socketio_interop::on_every_runtime!(websocket, polling, upgrade);
