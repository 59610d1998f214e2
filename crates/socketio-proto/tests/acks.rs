//! Acks both ways, timeouts, disconnects, and the at-least-once retry queue.

mod support;

use std::time::Duration;

use socketio_proto::codec::Payload;
use socketio_proto::{
    AckError, AckReplyError, ConfigError, EmitOptions, Event, ManagerConfig, SocketConfig,
};
use support::{Harness, config};

fn payload<T: serde::Serialize>(v: &T) -> Payload {
    Payload::from_serialize(v).expect("serializable")
}

fn acks(events: &[Event]) -> Vec<(u64, Result<String, AckError>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Ack { emit, result, .. } => Some((
                emit.0,
                result
                    .as_ref()
                    .map(|p| String::from_utf8_lossy(p.json()).into_owned())
                    .map_err(|e| *e),
            )),
            _ => None,
        })
        .collect()
}

fn emit(h: &mut Harness, p: Payload, o: EmitOptions) -> u64 {
    let now = h.now;
    let id = h
        .manager
        .socket_mut("/")
        .expect("socket")
        .emit(now, p, o)
        .expect("emit")
        .id
        .0;
    h.drain();
    id
}

#[test]
fn ack_ids_increase_and_results_are_matched() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let a = emit(&mut h, payload(&("echo", 1)), EmitOptions::with_ack());
    let b = emit(&mut h, payload(&("echo", 2)), EmitOptions::with_ack());
    assert_eq!(h.take_sent(), [r#"420["echo",1]"#, r#"421["echo",2]"#]);
    h.frame(r#"431[2]"#);
    h.frame(r#"430[1]"#);
    h.frame(r#"430[1]"#); // a duplicate ack for an id no longer pending is ignored
    assert_eq!(
        acks(&h.take_events()),
        [(b, Ok("[2]".into())), (a, Ok("[1]".into()))]
    );
}

#[test]
fn binary_acks_are_reassembled() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let a = emit(&mut h, payload(&("file",)), EmitOptions::with_ack());
    h.frame(r#"461-0[{"_placeholder":true,"num":0}]"#);
    h.binary(&[1, 2, 3]);
    let events = h.take_events();
    let Some(Event::Ack {
        emit,
        result: Ok(p),
        ..
    }) = events.first()
    else {
        panic!("{events:?}");
    };
    assert_eq!(emit.0, a);
    assert_eq!(p.attachments(), [bytes::Bytes::from_static(&[1, 2, 3])]);
}

#[test]
fn an_ack_timeout_is_its_own_outcome() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let a = emit(
        &mut h,
        payload(&("slow",)),
        EmitOptions::with_ack().timeout(Duration::from_millis(500)),
    );
    h.advance(Duration::from_millis(499));
    assert!(acks(&h.take_events()).is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(acks(&h.take_events()), [(a, Err(AckError::Timeout))]);
    // The late ack is ignored.
    h.frame(r#"430["late"]"#);
    assert!(acks(&h.take_events()).is_empty());
}

#[test]
fn a_timed_out_emit_still_buffered_is_withdrawn() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    let a = emit(
        &mut h,
        payload(&("later",)),
        EmitOptions::with_ack().timeout(Duration::from_secs(1)),
    );
    h.advance(Duration::from_secs(2));
    assert_eq!(acks(&h.take_events()), [(a, Err(AckError::Timeout))]);
    h.accept();
    h.frame(r#"40{"sid":"s"}"#);
    assert_eq!(
        h.take_sent(),
        ["40"],
        "the server never gets what the caller gave up on"
    );
}

#[test]
fn pending_acks_fail_on_disconnect_but_buffered_ones_survive() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let sent = emit(&mut h, payload(&("a",)), EmitOptions::with_ack());
    h.drop_ws(None);
    let events = h.take_events();
    assert_eq!(acks(&events), [(sent, Err(AckError::Disconnected))]);
    // Emitted while disconnected: buffered, and its ack waits for the reconnection.
    let buffered = emit(&mut h, payload(&("b",)), EmitOptions::with_ack());
    assert!(h.step(Duration::from_secs(10)));
    assert!(h.step(Duration::from_secs(10)));
    h.accept();
    h.frame(r#"40{"sid":"s2"}"#);
    let sent_frames = h.take_sent();
    assert_eq!(
        sent_frames.last().map(String::as_str),
        Some(r#"421["b"]"#),
        "{sent_frames:?}"
    );
    h.frame(r#"431["ok"]"#);
    assert_eq!(acks(&h.take_events()), [(buffered, Ok(r#"["ok"]"#.into()))]);
}

#[test]
fn answers_the_servers_ack_requests_once() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame(r#"427["question",1]"#);
    let events = h.take_events();
    assert!(
        matches!(&events[..], [Event::Message { ack: Some(7), .. }]),
        "{events:?}"
    );
    let now = h.now;
    let mut socket = h.manager.socket_mut("/").expect("socket");
    socket
        .ack(
            now,
            7,
            payload(&("answer", bytes::Bytes::from_static(&[5]))),
        )
        .expect("ack");
    assert_eq!(
        socket.ack(now, 7, payload(&["again"])),
        Err(AckReplyError::Unknown(7)),
        "a second answer is refused"
    );
    assert_eq!(
        socket.ack(now, 8, payload(&["never asked"])),
        Err(AckReplyError::Unknown(8))
    );
    assert_eq!(
        socket.ack(now, 7, payload(&"not an array")),
        Err(AckReplyError::NotAnArray)
    );
    h.drain();
    assert_eq!(
        h.take_sent(),
        [
            r#"461-7["answer",{"_placeholder":true,"num":0}]"#,
            "<bin:05>"
        ]
    );
}

#[test]
fn acks_requested_on_a_previous_connection_cannot_be_answered() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame(r#"423["q"]"#);
    h.drop_ws(None);
    let now = h.now;
    assert_eq!(
        h.manager
            .socket_mut("/")
            .expect("socket")
            .ack(now, 3, payload(&["a"])),
        Err(AckReplyError::Unknown(3))
    );
}

#[test]
fn retries_need_an_ack_timeout() {
    let mut h = Harness::new(config());
    let mut bad = SocketConfig::default();
    bad.retries = Some(3);
    assert_eq!(
        h.manager.add_socket("/", bad).err(),
        Some(ConfigError::RetriesWithoutAckTimeout)
    );
}

fn retrying() -> SocketConfig {
    let mut c = SocketConfig::default();
    c.retries = Some(3);
    c.ack_timeout = Some(Duration::from_millis(50));
    c
}

#[test]
fn retries_resend_with_new_ids_then_fail() {
    // The reference's test: retries 3, ackTimeout 50, a server that never acks.
    let mut h = Harness::connected(config(), retrying());
    let a = emit(&mut h, payload(&("ack",)), EmitOptions::with_ack());
    for _ in 0..10 {
        h.advance(Duration::from_millis(50));
    }
    assert_eq!(
        h.take_sent(),
        [
            r#"420["ack"]"#,
            r#"421["ack"]"#,
            r#"422["ack"]"#,
            r#"423["ack"]"#
        ]
    );
    assert_eq!(acks(&h.take_events()), [(a, Err(AckError::Timeout))]);
}

#[test]
fn retries_keep_one_emit_in_flight_and_preserve_order() {
    let mut h = Harness::connected(config(), retrying());
    let a = emit(&mut h, payload(&("m", 1)), EmitOptions::with_ack());
    let b = emit(&mut h, payload(&("m", 2)), EmitOptions::with_ack());
    assert_eq!(
        h.take_sent(),
        [r#"420["m",1]"#],
        "the second waits for the first"
    );
    h.advance(Duration::from_millis(50));
    assert_eq!(h.take_sent(), [r#"421["m",1]"#], "retried");
    h.frame("431[]");
    assert_eq!(h.take_sent(), [r#"422["m",2]"#]);
    h.frame(r#"432["done"]"#);
    assert_eq!(
        acks(&h.take_events()),
        [(a, Ok("[]".into())), (b, Ok(r#"["done"]"#.into()))]
    );
    assert_eq!(h.manager.socket("/").expect("socket").queued(), 0);
}

#[test]
fn queued_emits_survive_a_reconnection_and_are_resent_once() {
    let mut h = Harness::connected(config(), retrying());
    emit(&mut h, payload(&("m", 1)), EmitOptions::default());
    assert_eq!(h.take_sent(), [r#"420["m",1]"#]);
    h.drop_ws(None);
    // Reconnect: delay, attempt announcement, open.
    while h.ws.is_none() {
        assert!(h.step(Duration::from_secs(10)));
    }
    h.accept();
    h.frame(r#"40{"sid":"again"}"#);
    assert_eq!(
        h.take_sent(),
        ["40", r#"421["m",1]"#],
        "resent once after the reconnection"
    );
    h.frame("431[]");
    assert_eq!(h.manager.socket("/").expect("socket").queued(), 0);
}

#[test]
fn volatile_emits_skip_the_retry_queue() {
    let mut h = Harness::connected(config(), retrying());
    emit(&mut h, payload(&("v",)), EmitOptions::default().volatile());
    assert_eq!(h.take_sent(), [r#"42["v"]"#]);
    assert_eq!(h.manager.socket("/").expect("socket").queued(), 0);
}

#[test]
fn a_dropped_volatile_emit_reports_its_ack_as_dropped() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    let a = emit(&mut h, payload(&("v",)), EmitOptions::with_ack().volatile());
    assert_eq!(acks(&h.take_events()), [(a, Err(AckError::Dropped))]);
}

#[test]
fn ack_timeout_default_comes_from_the_socket() {
    let mut c = SocketConfig::default();
    c.ack_timeout = Some(Duration::from_secs(2));
    let mut h = Harness::connected(ManagerConfig::clone(&config()), c);
    let a = emit(&mut h, payload(&("x",)), EmitOptions::with_ack());
    h.advance(Duration::from_secs(2));
    assert_eq!(acks(&h.take_events()), [(a, Err(AckError::Timeout))]);
}

/// The waiters of the acks in `events`, with their outcome.
fn waiters(events: Vec<Event<&'static str>>) -> Vec<(&'static str, Result<String, AckError>)> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::Ack { waiter, result, .. } => Some((
                waiter,
                result.map(|p| String::from_utf8_lossy(p.json()).into_owned()),
            )),
            _ => None,
        })
        .collect()
}

fn emit_to(h: &mut Harness<&'static str>, name: &str, o: EmitOptions, waiter: &'static str) {
    let now = h.now;
    h.manager
        .socket_mut("/")
        .expect("socket")
        .emit_with_ack(now, payload(&(name,)), o, waiter)
        .expect("emit");
    h.drain();
}

#[test]
fn each_waiter_comes_back_once_with_its_own_outcome() {
    let mut h = Harness::connected_with_waiters(config(), SocketConfig::default());
    let short = EmitOptions::default().timeout(Duration::from_millis(100));
    emit_to(&mut h, "a", EmitOptions::default(), "answered");
    emit_to(&mut h, "b", short, "timed out");
    emit_to(&mut h, "c", EmitOptions::default(), "disconnected");
    // `ack` in the options makes no difference: the waiter asks for the ack.
    let now = h.now;
    h.manager
        .socket_mut("/")
        .expect("socket")
        .emit(now, payload(&("no ack",)), EmitOptions::default())
        .expect("emit");
    h.drain();
    assert_eq!(
        h.take_sent(),
        [
            r#"420["a"]"#,
            r#"421["b"]"#,
            r#"422["c"]"#,
            r#"42["no ack"]"#
        ]
    );
    assert_eq!(h.manager.socket("/").expect("socket").pending_acks(), 3);
    h.frame(r#"430["ok"]"#);
    h.advance(Duration::from_millis(100));
    h.frame(r#"431["late"]"#);
    h.drop_ws(None);
    assert_eq!(
        waiters(h.take_events()),
        [
            ("answered", Ok(r#"["ok"]"#.into())),
            ("timed out", Err(AckError::Timeout)),
            ("disconnected", Err(AckError::Disconnected)),
        ]
    );
    assert_eq!(h.manager.socket("/").expect("socket").pending_acks(), 0);
    assert_eq!(h.manager.footprint().pending_acks, 0);
    assert_eq!(h.manager.footprint().ack_deadlines, 0);
}

#[test]
fn a_buffered_waiter_survives_the_disconnect_and_a_dropped_one_comes_back_at_once() {
    let mut h = Harness::with_waiters(config(), 7);
    h.connect("/", SocketConfig::default());
    emit_to(&mut h, "v", EmitOptions::default().volatile(), "dropped");
    emit_to(&mut h, "b", EmitOptions::default(), "buffered");
    assert_eq!(
        waiters(h.take_events()),
        [("dropped", Err(AckError::Dropped))]
    );
    h.accept();
    h.frame(r#"40{"sid":"s"}"#);
    assert_eq!(h.take_sent(), ["40", r#"420["b"]"#]);
    h.frame(r#"430[]"#);
    assert_eq!(waiters(h.take_events()), [("buffered", Ok("[]".into()))]);
}

#[test]
fn the_retry_queue_keeps_the_waiter_until_the_last_try() {
    let mut h = Harness::connected_with_waiters(config(), retrying());
    emit_to(&mut h, "first", EmitOptions::default(), "first");
    emit_to(&mut h, "second", EmitOptions::default(), "second");
    for _ in 0..4 {
        h.advance(Duration::from_millis(50));
    }
    assert_eq!(
        waiters(h.take_events()),
        [("first", Err(AckError::Timeout))]
    );
    assert_eq!(
        h.take_sent().len(),
        5,
        "four tries of the first, then the second"
    );
    h.frame(r#"434["yes"]"#);
    assert_eq!(
        waiters(h.take_events()),
        [("second", Ok(r#"["yes"]"#.into()))]
    );
    assert_eq!(h.manager.socket("/").expect("socket").queued(), 0);
}
