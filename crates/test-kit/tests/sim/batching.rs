//! maxPayload batching against a server that enforces it.

use std::time::Duration;

use engineio_proto::{CloseReason, PollRequest, TransportError, TransportKind};
use socketio_test_kit::Silent;

use crate::support::*;

/// A Socket.IO event string whose Engine.IO data is `len` bytes.
fn event(tag: char, len: usize) -> String {
    let head = format!("2[\"{tag}\",\"");
    format!("{head}{}\"]", "w".repeat(len - head.len() - 2))
}

#[test]
fn batches_follow_the_captured_split_and_an_oversized_packet_gets_413() {
    // protocol.md 1.7: maxHttpBufferSize 60.
    let server = server_config(&["m"]).with_max_payload(60);
    let mut sim = sim(41, server, Silent, client_config(&[TransportKind::Polling]));
    open(&mut sim);
    let (a, b, c, d) = (
        event('a', 29),
        event('b', 29),
        event('c', 29),
        event('d', 14),
    );
    for m in [&a, &b, &c, &d] {
        send(&mut sim, m);
    }
    sim.run_for(Duration::from_millis(20));
    assert_eq!(
        sim.transcript().post_bodies(),
        [format!("4{a}"), format!("4{b}"), format!("4{c}\x1e4{d}")]
    );
    let received: Vec<String> = sim
        .server()
        .session("m")
        .unwrap()
        .stats
        .received
        .iter()
        .map(show)
        .collect();
    assert_eq!(received, [a, b, c, d]);

    // An 89-byte packet is sent alone anyway and the server answers 413.
    let big = event('e', 88);
    send(&mut sim, &big);
    sim.run_for(Duration::from_millis(20));
    let lines = sim.lines();
    assert!(lines.iter().any(|l| l.ends_with(&format!(" 4{big}"))));
    assert!(lines.iter().any(|l| l.ends_with(" 413")), "{lines:#?}");
    assert_eq!(
        sim.events().last().map(|(_, e)| e.clone()),
        Some(engineio_proto::Event::Close(CloseReason::TransportError(
            TransportError::HttpStatus {
                request: PollRequest::Post,
                status: 413,
                server_error: None,
            }
        )))
    );
    assert_eq!(
        sim.server().session("m").unwrap().closed.as_deref(),
        Some("transport error")
    );
}

#[test]
fn the_engine_test_split_with_max_payload_100() {
    let server = server_config(&["n"]).with_max_payload(100);
    let mut sim = sim(42, server, Silent, client_config(&[TransportKind::Polling]));
    open(&mut sim);
    let msgs = [
        "a".repeat(99),
        "b".repeat(30),
        "c".repeat(30),
        "d".repeat(35),
        "€".repeat(33),
        "f".repeat(99),
    ];
    for m in &msgs {
        send(&mut sim, m);
    }
    sim.run_for(Duration::from_millis(20));
    let bodies = sim.transcript().post_bodies();
    assert_eq!(bodies.len(), 4);
    assert!(bodies.iter().all(|b| b.len() <= 100));
    assert_eq!(sim.server().session("n").unwrap().stats.received.len(), 6);
    assert_eq!(close_reason(&sim), None);
}
