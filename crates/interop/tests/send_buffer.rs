//! The bounded send buffer against the Node server (docs/flow-control.md): while offline,
//! each overflow policy keeps, refuses or drops exactly the emits it documents, the buffer
//! can be inspected and cleared, `emit_wait` waits for room, and `drain` answers once what
//! was emitted is written.
//!
//! In CI "offline" is a namespace not connected yet (the emits wait for its CONNECT, as
//! they would for a reconnection). The literal scenario of issue 16, a server down for a
//! minute, is `#[ignore]`d: `cargo test -p socketio-interop --test send_buffer -- --ignored`.

use std::time::Duration;

use futures_util::FutureExt;
use socketio_async::{Error, SendBufferOptions, SendOverflow, Socket, SocketEvent};
use socketio_interop::{NodeServer, Rt, options};

/// Emits the buffer holds.
const CAPACITY: usize = 5;
/// Emits made while offline: twice the capacity.
const EMITTED: u64 = 10;

/// The numbers the server has seen on this connection, after everything emitted before.
async fn seen(rt: &Rt, socket: &Socket) -> Vec<u64> {
    // Written first: the ask then finds room in the buffer whatever its policy.
    rt.within("drain", socket.drain()).await.expect("drain");
    let (seen,): (Vec<u64>,) = rt
        .within("seen", socket.emit_with_ack("seen", ()))
        .await
        .expect("seen");
    seen
}

/// How the client is offline while it emits.
#[derive(Clone, Copy)]
enum Offline {
    /// The namespace is not connected yet.
    NotConnected,
    /// The server is down for this long, after the socket was connected.
    ServerDown(Duration),
}

/// Emits `EMITTED` numbered events offline into a buffer of `CAPACITY` with `overflow`,
/// comes back online, and returns what each emit said and what the server received.
async fn offline_emits(
    rt: &Rt,
    overflow: SendOverflow,
    offline: Offline,
) -> (Vec<Result<(), Error>>, Vec<u64>, Socket) {
    let mut server = NodeServer::start(&[]);
    let buffer = SendBufferOptions::default()
        .max_emits(CAPACITY)
        .overflow(overflow);
    let builder = rt
        .builder(
            &server.url(),
            options("websocket")
                .send_buffer(buffer)
                .reconnection_delay(Duration::from_millis(100))
                .reconnection_delay_max(Duration::from_millis(200)),
        )
        .expect("builder");
    let mut events = builder.events();
    let socket = builder.build();
    if let Offline::ServerDown(_) = offline {
        rt.within("connect", socket.connect())
            .await
            .expect("connect");
        server.kill();
        rt.next_event(&mut events, |e| {
            matches!(e, SocketEvent::Disconnect(_)).then_some(())
        })
        .await;
    }
    let mut results = Vec::new();
    for n in 0..EMITTED {
        results.push(socket.emit("numbered", n));
    }
    if let Offline::ServerDown(down) = offline {
        rt.sleep(down).await;
        server.restart();
        rt.next_event(&mut events, |e| {
            matches!(e, SocketEvent::Connect { .. }).then_some(())
        })
        .await;
    } else {
        rt.within("connect", socket.connect())
            .await
            .expect("connect");
    }
    let seen = seen(rt, &socket).await;
    drop(server);
    (results, seen, socket)
}

async fn policies(rt: Rt, offline: Offline) {
    // Fail: the first CAPACITY go in, the others fail with the buffer as found.
    let (results, seen, socket) = offline_emits(&rt, SendOverflow::Fail, offline).await;
    for (n, result) in results.iter().enumerate() {
        match result {
            Ok(()) => assert!(n < CAPACITY, "{rt:?}: emit {n} accepted past the bound"),
            Err(Error::SendBufferFull(s)) => {
                assert!(n >= CAPACITY);
                assert_eq!(s.emits, CAPACITY);
            }
            Err(e) => panic!("{rt:?}: emit {n}: {e}"),
        }
    }
    assert_eq!(seen, (0..CAPACITY as u64).collect::<Vec<_>>());
    assert_eq!(socket.send_buffer().dropped, 0);

    // DropNewest: every emit says Ok, the late ones are dropped.
    let (results, seen, socket) = offline_emits(&rt, SendOverflow::DropNewest, offline).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(seen, (0..CAPACITY as u64).collect::<Vec<_>>());
    assert_eq!(socket.send_buffer().dropped, EMITTED - CAPACITY as u64);

    // DropOldest: the latest CAPACITY survive.
    let (results, seen, socket) = offline_emits(&rt, SendOverflow::DropOldest, offline).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        seen,
        (EMITTED - CAPACITY as u64..EMITTED).collect::<Vec<_>>()
    );
    assert_eq!(socket.send_buffer().dropped, EMITTED - CAPACITY as u64);
    assert_eq!(socket.send_buffer().emits, 0, "all written");
}

async fn policies_offline(rt: Rt) {
    policies(rt, Offline::NotConnected).await
}

async fn policies_server_down_a_minute(rt: Rt) {
    policies(rt, Offline::ServerDown(Duration::from_secs(60))).await
}

/// Inspect, clear, wait for room, drain.
async fn inspect_clear_wait_drain(rt: Rt) {
    let server = NodeServer::start(&[]);
    let buffer = SendBufferOptions::default().max_emits(CAPACITY);
    let builder = rt
        .builder(&server.url(), options("websocket").send_buffer(buffer))
        .expect("builder");
    let socket = builder.build();
    for n in 0..3u64 {
        socket.emit("numbered", n).expect("room");
    }
    let buffered = socket.send_buffer();
    assert_eq!(buffered.emits, 3);
    assert!(buffered.bytes > 0);
    assert_eq!(socket.io().flow().send_buffer_emits, 3);
    socket.clear_send_buffer().expect("clear");
    // The clear is done by the connection's task: an emit_wait behind it sees its room.
    for n in 10..10 + CAPACITY as u64 {
        rt.within("room", socket.emit_wait("numbered", n))
            .await
            .expect("emit_wait");
    }
    // Full: the next one waits until the connection takes some.
    let mut waiting = Box::pin(socket.emit_wait("numbered", 99u64));
    assert!((&mut waiting).now_or_never().is_none(), "waits for room");
    rt.within("connect", socket.connect())
        .await
        .expect("connect");
    rt.within("room after connecting", waiting)
        .await
        .expect("emit_wait");
    rt.within("drain", socket.drain()).await.expect("drain");
    assert_eq!(socket.send_buffer().emits, 0);
    let mut expected: Vec<u64> = (10..10 + CAPACITY as u64).collect();
    expected.push(99);
    assert_eq!(
        seen(&rt, &socket).await,
        expected,
        "cleared ones never sent"
    );
    assert_eq!(socket.send_buffer().dropped, 3, "the cleared ones");
}

socketio_interop::on_every_runtime!(policies_offline, inspect_clear_wait_drain);

mod server_down_a_minute {
    #[test]
    #[ignore = "a minute per policy: run with --ignored"]
    fn tokio() {
        socketio_interop::run_tokio(super::policies_server_down_a_minute)
    }

    #[test]
    #[ignore = "a minute per policy: run with --ignored"]
    fn async_std() {
        socketio_interop::run_async_std(super::policies_server_down_a_minute)
    }
}
