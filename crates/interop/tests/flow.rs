//! Flow control against the Node server (docs/flow-control.md): a consumer slower than the
//! server loses nothing, the client's memory stays within its read-ahead and queue bounds
//! (read from `Manager::flow`, not RSS), and heartbeats keep the session alive throughout.
//!
//! The scaled scenarios run in CI: the server pings every 200 ms and wants the pong within
//! 400 ms, and floods until it has both sent the events asked for and seen several pongs
//! answered, so every run spans several heartbeats however fast the machine is, while the
//! read-ahead fills again and again. The literal scenarios of issue 16 (200,000 events read
//! one per 10 ms, a minute offline) are `#[ignore]`d:
//! `cargo test -p socketio-interop --test flow -- --ignored --nocapture`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use socketio_async::{FlowOptions, FlowSnapshot, ManagerEvent, SocketEvent};
use socketio_interop::{NodeServer, Rt, options};

/// What the flood scenario is made of.
struct Flood {
    /// Events the server sends at least.
    events: u64,
    /// Bytes of padding in each.
    pad: usize,
    /// Heartbeats the server sees answered before it stops.
    pongs: u32,
    /// How long the consumer takes per event.
    per_event: Duration,
    ping_interval_ms: u32,
    ping_timeout_ms: u32,
    read_ahead: usize,
    queue_capacity: usize,
}

/// The CI scale: 16 KiB events read one per millisecond against a 64 KiB read-ahead (four
/// events) and an 8-event stream, so reading pauses hundreds of times, with a heartbeat
/// every 200 ms.
const SCALED: Flood = Flood {
    events: 2_000,
    pad: 16 * 1024,
    pongs: 4,
    per_event: Duration::from_millis(1),
    ping_interval_ms: 200,
    ping_timeout_ms: 5_000,
    read_ahead: 64 * 1024,
    queue_capacity: 8,
};

/// Issue 16's literal scenario: 200,000 events, one consumed per 10 ms (33 minutes), the
/// server's default heartbeat (25 s + 20 s).
const FULL: Flood = Flood {
    events: 200_000,
    pad: 1024,
    pongs: 0,
    per_event: Duration::from_millis(10),
    ping_interval_ms: 25_000,
    ping_timeout_ms: 20_000,
    read_ahead: socketio_async::DEFAULT_READ_AHEAD,
    queue_capacity: socketio_async::DEFAULT_QUEUE_CAPACITY,
};

/// The most a snapshot may show: the read-ahead bound, plus what one read may bring while
/// under it: over WebSocket one frame (one event: its padding, its JSON around it, the
/// driver's fixed cost per event), over long-polling one response, which holds what the
/// server had buffered (the flood keeps that under 64 events, plus a ping).
fn read_ahead_bound(flood: &Flood, mode: &str) -> usize {
    let event = flood.pad + 256;
    match mode {
        "polling" => flood.read_ahead + 66 * event,
        _ => flood.read_ahead + event,
    }
}

async fn flood(rt: Rt, mode: &str, flood: Flood) {
    let interval = flood.ping_interval_ms.to_string();
    let timeout = flood.ping_timeout_ms.to_string();
    let server = NodeServer::start(&[("PING_INTERVAL", &interval), ("PING_TIMEOUT", &timeout)]);
    let flow = FlowOptions::default()
        .read_ahead(flood.read_ahead)
        .queue_capacity(flood.queue_capacity);
    let builder = rt
        .builder(&server.url(), options(mode).flow(flow))
        .expect("builder");
    let mut events = builder.events();
    let socket = rt
        .within("connect", builder.connect())
        .await
        .expect("connect");
    let manager = socket.io().clone();
    let pings = Arc::new(AtomicUsize::new(0));
    let closes = Arc::new(AtomicUsize::new(0));
    {
        let (pings, closes) = (pings.clone(), closes.clone());
        manager.on(move |event| match event {
            ManagerEvent::Ping => {
                pings.fetch_add(1, Ordering::Relaxed);
            }
            ManagerEvent::Close(_) => {
                closes.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        });
    }
    socket
        .emit("flood", (flood.events, flood.pad, flood.pongs))
        .expect("emit");

    let mut next = 0u64;
    let mut peak = FlowSnapshot::default();
    let started = std::time::Instant::now();
    let total = loop {
        let event = rt
            .within("the next flood event", events.next())
            .await
            .expect("stream open");
        let message = match event {
            SocketEvent::Message(message) => message,
            SocketEvent::Disconnect(reason) => {
                panic!("{rt:?} {mode}: disconnected after {next} events: {reason}")
            }
            _ => continue,
        };
        match message.event.as_str() {
            "flood" => {
                let (n, pad): (u64, String) = message.args.parse().expect("flood args");
                assert_eq!(n, next, "{rt:?} {mode}: events lost or out of order");
                assert_eq!(pad.len(), flood.pad);
                next += 1;
                let now = manager.flow();
                peak.read_ahead_bytes = peak.read_ahead_bytes.max(now.read_ahead_bytes);
                peak.queued_events = peak.queued_events.max(now.queued_events);
                // The slow consumer.
                rt.sleep(flood.per_event).await;
            }
            "welcome" => {}
            "flood_done" => break message.args.parse::<(u64,)>().expect("total").0,
            other => panic!("unexpected event {other}"),
        }
    };
    let end = manager.flow();
    eprintln!(
        "{rt:?} {mode}: {total} events, {} pings, peak read-ahead {} B (bound {} B), \
         peak queue {} (capacity {}), reading paused {} times, {:?}",
        pings.load(Ordering::Relaxed),
        end.peak_read_ahead_bytes,
        read_ahead_bound(&flood, mode),
        end.peak_queue_depth,
        flood.queue_capacity,
        end.pauses,
        started.elapsed(),
    );
    assert_eq!(next, total, "{rt:?} {mode}: every event arrived");
    assert!(total >= flood.events);
    // Memory stayed bounded, as the driver measured it throughout.
    assert!(
        end.peak_read_ahead_bytes <= read_ahead_bound(&flood, mode),
        "{rt:?} {mode}: read-ahead {} over its bound {}",
        end.peak_read_ahead_bytes,
        read_ahead_bound(&flood, mode)
    );
    assert!(peak.read_ahead_bytes <= read_ahead_bound(&flood, mode));
    // The stream's capacity, plus the first `Connect` the stream starts with.
    assert!(end.peak_queue_depth <= flood.queue_capacity + 1);
    assert!(peak.queued_events <= flood.queue_capacity + 1);
    assert_eq!(end.dropped_events, 0, "the default policy drops nothing");
    // The consumer was the bottleneck: the read-ahead filled and reading stopped.
    assert!(end.pauses > 0, "{rt:?} {mode}: reading never paused");
    // The session survived every heartbeat of the flood.
    assert!(pings.load(Ordering::Relaxed) >= flood.pongs as usize);
    assert_eq!(closes.load(Ordering::Relaxed), 0, "{rt:?} {mode}: closed");
    assert!(socket.connected());
}

async fn slow_consumer_websocket(rt: Rt) {
    flood(rt, "websocket", SCALED).await
}

async fn slow_consumer_polling(rt: Rt) {
    flood(rt, "polling", SCALED).await
}

/// `FLOW_FULL_PAD` sets the full-size run's event padding (default 1 KiB): the heartbeat's
/// margin depends on the consumer's rate in bytes (docs/flow-control.md).
async fn slow_consumer_full_size(rt: Rt) {
    let pad = std::env::var("FLOW_FULL_PAD")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(FULL.pad);
    flood(rt, "websocket", Flood { pad, ..FULL }).await
}

socketio_interop::on_every_runtime!(slow_consumer_websocket, slow_consumer_polling);

mod full_size {
    #[test]
    #[ignore = "33 minutes: run with --ignored"]
    fn tokio() {
        socketio_interop::run_tokio(super::slow_consumer_full_size)
    }

    #[test]
    #[ignore = "33 minutes: run with --ignored"]
    fn async_std() {
        socketio_interop::run_async_std(super::slow_consumer_full_size)
    }
}
