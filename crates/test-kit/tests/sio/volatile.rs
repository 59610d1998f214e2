//! Volatile emits: written when the connection can take them at once, dropped otherwise,
//! never buffered, never retried.

use std::time::Duration;

use socketio_proto::{AckError, EmitOptions, EmitStatus, SocketConfig};
use socketio_test_kit::{LinkConfig, SioConfig};

use crate::support::*;

#[test]
fn volatile_emits_before_the_connection_are_dropped() {
    let mut sim = sim(40, SioConfig::new(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    let plain = emit(
        &mut sim,
        "/",
        payload(&("v", 0)),
        EmitOptions::default().volatile(),
    );
    let acked = emit(
        &mut sim,
        "/",
        payload(&("v", 1)),
        EmitOptions::with_ack().volatile(),
    );
    assert_eq!(plain.status, EmitStatus::Dropped);
    assert_eq!(acked.status, EmitStatus::Dropped);
    until_connected(&mut sim, "/");
    let written = emit(
        &mut sim,
        "/",
        payload(&("v", 2)),
        EmitOptions::default().volatile(),
    );
    assert_eq!(written.status, EmitStatus::Written);
    sim.run_for(Duration::from_secs(1));
    assert_eq!(acks(&sim), [(acked.id, Err(AckError::Dropped))]);
    assert_eq!(sim.server().app().received("/"), ["0", r#"2["v",2]"#]);
}

#[test]
fn volatile_emits_are_dropped_while_a_post_is_in_flight() {
    let link = LinkConfig::fixed(ms(5));
    let mut sim = sim_with(
        41,
        link,
        engine_server(),
        SioConfig::new(),
        client_config(POLLING),
    );
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    sim.run_for(ms(50));
    let first = emit(&mut sim, "/", payload(&("a",)), EmitOptions::default());
    assert_eq!(first.status, EmitStatus::Written);
    // The POST carrying `a` is on the wire: the transport cannot take more at once.
    let dropped = emit(
        &mut sim,
        "/",
        payload(&("b",)),
        EmitOptions::default().volatile(),
    );
    assert_eq!(dropped.status, EmitStatus::Dropped);
    sim.run_for(ms(20));
    let sent = emit(
        &mut sim,
        "/",
        payload(&("c",)),
        EmitOptions::default().volatile(),
    );
    assert_eq!(sent.status, EmitStatus::Written);
    sim.run_for(ms(100));
    assert_eq!(
        sim.server().app().received("/")[1..],
        [r#"2["a"]"#, r#"2["c"]"#]
    );
}

#[test]
fn volatile_emits_skip_the_retry_queue() {
    let mut sim = sim(42, SioConfig::new(), client_config(WEBSOCKET));
    connect(&mut sim, "/", retrying(3, 100));
    until_connected(&mut sim, "/");
    let v = emit(
        &mut sim,
        "/",
        payload(&("v",)),
        EmitOptions::default().volatile(),
    );
    assert_eq!(v.status, EmitStatus::Written);
    let q = emit(&mut sim, "/", payload(&("q",)), EmitOptions::default());
    assert_eq!(q.status, EmitStatus::Queued);
    sim.run_for(Duration::from_secs(1));
    // The volatile one has no ack id; the queued one does.
    assert_eq!(
        sim.server().app().received("/")[1..],
        [r#"2["v"]"#, r#"20["q"]"#]
    );
}
