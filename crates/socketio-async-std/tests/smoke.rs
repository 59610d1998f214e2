//! The adapter against the real Node.js server under async-std and under smol.

use std::time::Duration;

use futures_lite::{FutureExt, StreamExt};
use socketio_async_std::{Options, SocketEvent, TransportKind, io};
use socketio_test_kit::node::NodeServer;

async fn guard<T>(f: impl std::future::Future<Output = T>) -> T {
    f.or(async {
        async_io::Timer::after(Duration::from_secs(10)).await;
        panic!("timed out")
    })
    .await
}

async fn round_trip(transports: Vec<TransportKind>) {
    let server = NodeServer::start(&[]);
    let socket = io(
        &server.url(),
        Options::default().transports(transports).force_new(true),
    )
    .expect("io");
    let mut events = socket.events();
    let (word, bin): (String, bytes::Bytes) =
        guard(socket.emit_with_ack("echo", ("hello", bytes::Bytes::from_static(&[1, 2, 3]))))
            .await
            .expect("ack");
    assert_eq!((word.as_str(), &bin[..]), ("hello", &[1u8, 2, 3][..]));
    socket.emit("kick", ()).expect("emit");
    let reason = guard(async {
        loop {
            if let Some(SocketEvent::Disconnect(r)) = events.next().await {
                return r;
            }
        }
    })
    .await;
    assert_eq!(
        reason,
        socketio_async_std::DisconnectReason::IoServerDisconnect
    );
}

#[async_std::test]
async fn async_std_polling_then_upgrade() {
    round_trip(vec![TransportKind::Polling, TransportKind::WebSocket]).await;
}

#[async_std::test]
async fn async_std_websocket() {
    round_trip(vec![TransportKind::WebSocket]).await;
}

#[test]
fn smol_polling() {
    smol::block_on(round_trip(vec![TransportKind::Polling]));
}
