//! Bad input from the server, decided by the manager: attachment counts in the billions,
//! placeholders out of range, invalid JSON and packet shapes, reserved event names, acks for
//! ids never sent, replies for namespaces never asked for, text that is not UTF-8. Each ends
//! in a clean close with the reason ("parse error" or "transport error") and a reconnection,
//! or is ignored; memory stays bounded (`Manager::footprint`). (The codec's own tests:
//! `codec::tests::invalid`; replies for other namespaces: `namespaces::replies_for_namespaces_
//! never_asked_for_are_ignored`.)

mod support;

use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{TransportEvent, WsFrame};
use socketio_proto::codec::Payload;
use socketio_proto::{DisconnectReason, EmitOptions, Event, SocketConfig};
use support::{Harness, config};

/// A connected manager that then received `frames`; the events they caused.
fn after(frames: &[&str]) -> (Harness, Vec<Event>) {
    let mut h = Harness::connected(config(), SocketConfig::default());
    for frame in frames {
        h.frame(frame);
    }
    let events = h.take_events();
    (h, events)
}

/// Asserts the connection closed for `reason`, the socket saw it, and a reconnection is on
/// its way with nothing left in flight.
fn closed_for(h: &Harness, events: &[Event], reason: DisconnectReason, what: &str) {
    assert!(
        events.contains(&Event::Disconnect {
            nsp: "/".into(),
            reason
        }),
        "{what}: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Close { reason: r, .. } if *r == reason)),
        "{what}: {events:?}"
    );
    assert!(h.manager.is_reconnecting(), "{what}");
    assert!(h.ws.is_none(), "{what}: the WebSocket was closed");
    assert_eq!(h.manager.footprint().in_flight(), 0, "{what}");
}

#[test]
fn attachment_counts_in_the_billions_are_refused_before_any_allocation() {
    for header in [
        "451000000000-",
        "4518446744073709551615-",
        "4599999999999999999999999999-",
        "461000000000-",
    ] {
        let frame = format!(r#"{header}["big",{{"_placeholder":true,"num":0}}]"#);
        let (h, events) = after(&[&frame]);
        closed_for(&h, &events, DisconnectReason::ParseError, &frame);
    }
}

#[test]
fn placeholders_out_of_range_are_parse_errors() {
    for frame in [
        r#"451-["x",{"_placeholder":true,"num":1}]"#,
        r#"451-["x",{"_placeholder":true,"num":-1}]"#,
        r#"451-["x",{"_placeholder":true,"num":"0"}]"#,
        r#"451-["x",{"_placeholder":true,"num":0.5}]"#,
        r#"452-["x",{"_placeholder":true,"num":4294967296}]"#,
    ] {
        let mut h = Harness::connected(config(), SocketConfig::default());
        h.frame(frame);
        // The attachments arrive (all of them, for the count announced).
        let count = if frame.starts_with("452") { 2 } else { 1 };
        for _ in 0..count {
            if h.ws.is_some() {
                h.binary(b"\x01");
            }
        }
        let events = h.take_events();
        closed_for(&h, &events, DisconnectReason::ParseError, frame);
    }
}

#[test]
fn invalid_json_and_packet_shapes_are_parse_errors() {
    for frame in [
        r#"42["a",]"#,
        r#"42{"#,
        r#"42["a""#,
        "42[\"a\",\"\\x\"]",
        r#"42[]"#,
        r#"42[{}]"#,
        r#"42"text""#,
        r#"4"#,
        r#"47"#,
        r#"49["x"]"#,
        r#"42["connect"]"#,
        r#"42["disconnecting",1]"#,
        r#"4218446744073709551616["x"]"#,
        r#"41{"reason":"x"}"#,
        r#"43"#,
    ] {
        let (h, events) = after(&[frame]);
        closed_for(&h, &events, DisconnectReason::ParseError, frame);
    }
}

#[test]
fn a_binary_frame_nobody_announced_is_a_parse_error() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.binary(b"\x00\x01");
    let events = h.take_events();
    closed_for(&h, &events, DisconnectReason::ParseError, "stray binary");
}

#[test]
fn text_that_is_not_utf8_closes_the_transport() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let ws = h.ws.expect("open");
    let now = h.now;
    h.manager.handle_transport(
        now,
        ws,
        TransportEvent::WsFrame(WsFrame::Text(Bytes::from_static(b"42[\"\xff\xfe\"]"))),
    );
    h.drain();
    let events = h.take_events();
    // The engine refuses it (its codec checks UTF-8): a protocol error of the transport.
    closed_for(
        &h,
        &events,
        DisconnectReason::TransportError,
        "invalid UTF-8",
    );
}

#[test]
fn acks_for_ids_never_sent_or_already_answered_are_ignored() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let now = h.now;
    let emitted = h
        .manager
        .socket_mut("/")
        .expect("socket")
        .emit(
            now,
            Payload::from_serialize(&("q",)).expect("payload"),
            EmitOptions::with_ack(),
        )
        .expect("emit");
    h.drain();
    assert_eq!(h.take_sent(), [r#"420["q"]"#]);
    h.frame(r#"430["first"]"#);
    let events = h.take_events();
    assert!(
        matches!(&events[..], [Event::Ack { emit, .. }] if *emit == emitted.id),
        "{events:?}"
    );
    for frame in [
        r#"430["again"]"#,
        r#"437["never sent"]"#,
        r#"4318446744073709551615["max"]"#,
        r#"43/other,0["other namespace"]"#,
        r#"461-0[{"_placeholder":true,"num":0}]"#,
    ] {
        h.frame(frame);
        if frame.starts_with("46") {
            h.binary(b"\x01");
        }
        let events = h.take_events();
        assert!(events.is_empty(), "{frame}: {events:?}");
    }
    assert!(h.manager.socket("/").expect("socket").connected());
    assert_eq!(h.manager.footprint().in_flight(), 0);
    assert!(h.ws.is_some(), "still the same connection");
}

#[test]
fn replies_and_errors_for_namespaces_never_asked_for_are_ignored() {
    let (h, events) = after(&[
        r#"44/ghost,{"message":"not you"}"#,
        r#"40/ghost,{"sid":"x"}"#,
        r#"41/ghost,"#,
        r#"43/ghost,1["x"]"#,
    ]);
    assert!(events.is_empty(), "{events:?}");
    assert!(h.manager.socket("/ghost").is_none());
    assert!(h.manager.socket("/").expect("socket").connected());
}

#[test]
fn a_long_run_of_garbage_leaves_nothing_behind() {
    // Parse errors, reconnection, parse errors again: each attempt starts from scratch.
    let mut h = Harness::connected(config(), SocketConfig::default());
    for round in 0..20 {
        h.frame(r#"451000000000-["big"]"#);
        assert!(h.manager.is_reconnecting(), "round {round}");
        while h.ws.is_none() {
            assert!(
                h.step(Duration::from_secs(60)),
                "round {round}: a reconnection is due"
            );
        }
        h.accept();
        assert_eq!(h.take_sent(), ["40"], "round {round}");
        h.frame(r#"40{"sid":"again"}"#);
        h.take_events();
        assert_eq!(h.manager.footprint().in_flight(), 0, "round {round}");
    }
}
