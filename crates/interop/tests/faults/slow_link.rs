//! A slow, distant link: the proxy paces each direction to 16 KiB/s and holds every chunk
//! 100 ms, and a 64 KiB binary payload goes to the server and back in its ack, on polling (as base64 text, a third larger) and on
//! WebSocket (binary frames). It arrives intact; the effective rate is printed.

use std::time::{Duration, Instant};

use bytes::Bytes;
use socketio_interop::{NodeServer, Rt, on_every_runtime, options};

use super::proxy_to;

const RATE: u64 = 16 * 1024;
const SIZE: usize = 64 * 1024;
const LATENCY: Duration = Duration::from_millis(100);

async fn large_binary_over_a_slow_link(rt: Rt, mode: &str) {
    let server = NodeServer::start(&[]);
    let proxy = proxy_to(&server);
    let socket = rt.io(&proxy.url(), options(mode)).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    proxy.throttle(Some(RATE));
    proxy.delay(LATENCY);
    let payload: Bytes = (0..SIZE).map(|i| (i * 31 % 251) as u8).collect();
    let before = proxy.stats();
    let started = Instant::now();
    // Both ways at 16 KiB/s take several seconds: more than the usual step limit.
    let (back,): (Bytes,) = rt
        .timeout(
            Duration::from_secs(120),
            socket.emit_with_ack("echo", (payload.clone(),)),
        )
        .await
        .expect("the echo within two minutes")
        .expect("echo");
    let elapsed = started.elapsed();
    assert!(back == payload, "the payload came back changed");
    let after = proxy.stats();
    let wire = (after.to_server - before.to_server) + (after.to_client - before.to_client);
    println!(
        "{}: {mode}: {} KiB each way at {} KiB/s, {} ms latency: {:.1}s, {:.1} KiB/s of payload, {:.1} KiB/s on the wire ({} KiB)",
        rt.name,
        SIZE / 1024,
        RATE / 1024,
        LATENCY.as_millis(),
        elapsed.as_secs_f64(),
        (2 * SIZE) as f64 / 1024.0 / elapsed.as_secs_f64(),
        wire as f64 / 1024.0 / elapsed.as_secs_f64(),
        wire / 1024
    );
}

async fn large_binary_over_a_slow_link_on_polling(rt: Rt) {
    large_binary_over_a_slow_link(rt, "polling").await;
}

async fn large_binary_over_a_slow_link_on_websocket(rt: Rt) {
    large_binary_over_a_slow_link(rt, "websocket").await;
}

on_every_runtime!(
    large_binary_over_a_slow_link_on_polling,
    large_binary_over_a_slow_link_on_websocket,
);
