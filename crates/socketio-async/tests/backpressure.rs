//! A server that sends faster than the client handles must not fill the client's memory: the
//! driver reads a bounded batch of frames, delivers what they carried, and only then reads
//! more, so the gap between frames read and events delivered stays bounded.
//!
//! Found by the receive benchmark (bench/, `socketio-bench recv`): a million small events from
//! a fast server made the client queue them all (over 400 MB resident) because the reader task
//! read the socket as fast as it could into an unbounded channel.
//!
//! The runtime here is a single-threaded executor run by the test thread and a WebSocket whose
//! reads are always ready, so without flow control the reader would pull every frame before
//! the driver handled one. Deterministic: the same interleaving every run.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use engineio_proto::WsFrame;
use futures_executor::LocalPool;
use futures_util::task::{AtomicWaker, LocalSpawnExt};
use socketio_async::runtime::{TransportFailure, WebSocket};
use socketio_async::{Options, TransportKind};

use support::StubRuntime;

/// Events the fake server sends.
const EVENTS: u64 = 20_000;
/// Frames read from the socket and not yet delivered to a listener that the test tolerates:
/// a few thousand (the driver's bound, and what it handles in one turn), far below `EVENTS`.
const MAX_GAP: u64 = 4_096;

#[derive(Default)]
struct Counters {
    /// Frames the client read from the socket.
    pulled: AtomicU64,
    /// Events its listener got.
    delivered: AtomicU64,
    /// The largest `pulled - delivered` seen at a read.
    max_gap: AtomicU64,
    /// The client sent its namespace CONNECT.
    connect_sent: AtomicBool,
    /// The server's read waiting for that CONNECT.
    connect_waiter: AtomicWaker,
}

/// The server's side of the socket: the open packet, the CONNECT answer once asked, then
/// `EVENTS` events, every read ready at once.
struct Server {
    counters: Arc<Counters>,
    sent: u64,
}

impl WebSocket for Server {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WsFrame, TransportFailure>>> {
        let c = &self.counters;
        let text = match self.sent {
            0 => r#"0{"sid":"s","upgrades":[],"pingInterval":300000,"pingTimeout":20000,"maxPayload":1000000}"#.to_owned(),
            1 => {
                // Answer the CONNECT only once it was sent, as a server would.
                c.connect_waiter.register(cx.waker());
                if !c.connect_sent.load(Ordering::SeqCst) {
                    return Poll::Pending;
                }
                r#"40{"sid":"n"}"#.to_owned()
            }
            n if n < EVENTS + 2 => {
                let pulled = c.pulled.fetch_add(1, Ordering::SeqCst) + 1;
                let gap = pulled - c.delivered.load(Ordering::SeqCst);
                c.max_gap.fetch_max(gap, Ordering::SeqCst);
                format!(r#"42["burst",{}]"#, n - 2)
            }
            _ => return Poll::Pending,
        };
        self.sent += 1;
        Poll::Ready(Some(Ok(WsFrame::Text(Bytes::from(text)))))
    }

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(&mut self, frame: WsFrame) -> Result<(), TransportFailure> {
        if let WsFrame::Text(text) = &frame
            && text.starts_with(b"40")
        {
            self.counters.connect_sent.store(true, Ordering::SeqCst);
            self.counters.connect_waiter.wake();
        }
        Ok(())
    }

    fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn a_fast_server_does_not_queue_every_frame_in_the_client() {
    let counters = Arc::new(Counters::default());
    let server = counters.clone();
    // No timer fires within this test (the server's ping interval is 300 s).
    let runtime = Arc::new(StubRuntime {
        websocket: Box::new(move || {
            let counters = server.clone();
            Ok(Box::new(Server { counters, sent: 0 }))
        }),
        ..StubRuntime::default()
    });
    let options = Options::default()
        .transports([TransportKind::WebSocket])
        .force_new(true);
    let socket = socketio_async::io("http://fake.test", options, runtime.clone()).unwrap();
    let delivered = counters.clone();
    socket.on("burst", move |_| {
        delivered.delivered.fetch_add(1, Ordering::SeqCst);
    });

    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let mut idle_turns = 0;
    while counters.delivered.load(Ordering::SeqCst) < EVENTS {
        let spawned: Vec<_> = std::mem::take(&mut *runtime.spawned.lock().unwrap());
        let before = counters.delivered.load(Ordering::SeqCst);
        let had_tasks = !spawned.is_empty();
        for task in spawned {
            spawner.spawn_local(task).unwrap();
        }
        pool.run_until_stalled();
        let progressed = had_tasks || counters.delivered.load(Ordering::SeqCst) > before;
        idle_turns = if progressed { 0 } else { idle_turns + 1 };
        assert!(
            idle_turns < 3,
            "stalled after {} events",
            counters.delivered.load(Ordering::SeqCst)
        );
    }

    assert_eq!(counters.pulled.load(Ordering::SeqCst), EVENTS);
    let max_gap = counters.max_gap.load(Ordering::SeqCst);
    assert!(
        max_gap <= MAX_GAP,
        "the client read {max_gap} frames ahead of its listeners"
    );
}
