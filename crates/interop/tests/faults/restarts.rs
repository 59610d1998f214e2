//! The Node server killed and restarted while the client emits a numbered stream with
//! `retries` and `ack_timeout`: every number reaches the server at least once (its SEEN_FILE
//! tally survives the restarts), in order, and each ack the client reports is the server's
//! answer to that very number.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use socketio_async::{Error, ManagerEvent};
use socketio_interop::{NodeServer, Rt, on_every_runtime, options};

use super::{ManagerLog, Pending, SeenFile, connected_again};

/// Emits kept waiting in the client's retry queue: the server is always killed with one in
/// flight and more behind it.
const QUEUED: usize = 50;
/// Acks between restarts.
const STEP: usize = 10;

async fn numbered_stream_across_restarts(rt: Rt, mode: &str, restarts: usize) {
    let started = Instant::now();
    let seen = SeenFile::new(&format!("restarts-{mode}"), &rt);
    let mut server = NodeServer::start(&[seen.env()]);
    let options = options(mode)
        .retries(Some(1000))
        .ack_timeout(Some(Duration::from_secs(2)))
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(250));
    let socket = rt.io(&server.url(), options).expect("io");
    let log = ManagerLog::attach(socket.io());
    let mut events = socket.events();
    let mut pending = Pending::new();
    let mut acked = BTreeSet::new();
    let mut failed = Vec::new();
    let mut record = |(n, result): (u64, Result<(u64,), Error>)| match result {
        Ok((echoed,)) => {
            assert_eq!(echoed, n, "the ack of {n} carries another number");
            assert!(acked.insert(n), "{n} acknowledged twice");
        }
        Err(e) => failed.push((n, e)),
    };
    let mut next = 0u64;
    let mut top_up = |pending: &mut Pending| {
        while pending.len() < QUEUED {
            let n = next;
            next += 1;
            let ack = socket.emit_with_ack::<_, (u64,)>("numbered", (n,));
            pending.push(Box::pin(async move { (n, ack.await) }));
        }
    };
    for _ in 0..restarts {
        connected_again(&rt, &socket, &mut events).await;
        top_up(&mut pending);
        for _ in 0..STEP {
            let done = rt.within("an ack", pending.next()).await;
            record(done.expect("emits pending"));
        }
        server.kill();
        rt.disconnected(&mut events).await;
        server.restart();
    }
    connected_again(&rt, &socket, &mut events).await;
    while let Some(done) = rt.within("the remaining acks", pending.next()).await {
        record(done);
    }
    let wall = started.elapsed();

    assert!(failed.is_empty(), "acks failed despite retries: {failed:?}");
    let arrivals = seen.arrivals();
    let distinct: BTreeSet<u64> = arrivals.iter().copied().collect();
    let all: BTreeSet<u64> = (0..next).collect();
    assert_eq!(
        distinct, all,
        "every number reaches the server at least once"
    );
    assert_eq!(acked, all, "every number is acknowledged once");
    // One emit in flight at a time: a number is only resent until it is acknowledged.
    assert!(
        arrivals.windows(2).all(|w| w[0] <= w[1]),
        "arrivals out of order: {arrivals:?}"
    );
    let reconnections = log.count(|e| matches!(e, ManagerEvent::Reconnect(_)));
    assert_eq!(reconnections, restarts);
    println!(
        "{}: {mode}: restarts={restarts} events={next} arrivals={} duplicates={} reconnections={reconnections} wall={:.1}s",
        rt.name,
        arrivals.len(),
        arrivals.len() - distinct.len(),
        wall.as_secs_f64()
    );
}

/// Polling upgraded to WebSocket, the default.
async fn numbered_stream_across_20_restarts(rt: Rt) {
    numbered_stream_across_restarts(rt, "upgrade", 20).await;
}

async fn numbered_stream_across_5_restarts_on_polling(rt: Rt) {
    numbered_stream_across_restarts(rt, "polling", 5).await;
}

async fn numbered_stream_across_5_restarts_on_websocket(rt: Rt) {
    numbered_stream_across_restarts(rt, "websocket", 5).await;
}

on_every_runtime!(
    numbered_stream_across_20_restarts,
    numbered_stream_across_5_restarts_on_polling,
    numbered_stream_across_5_restarts_on_websocket,
);
