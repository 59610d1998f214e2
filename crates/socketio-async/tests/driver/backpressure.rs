//! Flow control on the fake runtime: a stream nobody reads stops the connection from reading
//! (the read-ahead and the stream stay within their bounds), the client's own heartbeat
//! deadline is held meanwhile (ten virtual minutes go by, far past pingInterval +
//! pingTimeout, without "ping timeout"), and once the consumer reads again every event
//! arrives, in order, before anything that came after them.

use std::time::Duration;

use socketio_async::{DisconnectReason, FlowOptions, SocketEvent, io};

use super::{Mode, URL, connected, next, options, sim};

const READ_AHEAD: usize = 512;
const CAPACITY: usize = 4;

fn a_full_stream_holds_reading_and_the_heartbeat(mode: Mode) {
    let sim = sim();
    let flow = FlowOptions::default()
        .read_ahead(READ_AHEAD)
        .queue_capacity(CAPACITY);
    let socket = io(URL, options(mode).flow(flow), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    // 200 events: tick 0, tock 0, tick 1...
    socket.emit("spam", (100,)).expect("emit");
    sim.advance(Duration::from_secs(600));
    let snapshot = socket.io().flow();
    assert!(snapshot.reading_paused, "{mode:?}: {snapshot:?}");
    assert!(snapshot.pauses >= 1);
    assert!(snapshot.queued_events <= CAPACITY, "{mode:?}: {snapshot:?}");
    if mode == Mode::WebSocket {
        // One frame past the budget at most (an event here is about 30 bytes).
        assert!(
            snapshot.read_ahead_bytes <= READ_AHEAD + 128,
            "{snapshot:?}"
        );
    }
    let mut got = Vec::new();
    while got.len() < 200 {
        let event = next(&sim, &mut events, Some);
        match event {
            SocketEvent::Message(m) => {
                got.push(format!("{}:{}", m.event, m.args.get::<u32>(0).unwrap()))
            }
            SocketEvent::Disconnect(reason) => {
                panic!(
                    "{mode:?}: disconnected ({reason}) after {} events",
                    got.len()
                )
            }
            _ => {}
        }
    }
    let expected: Vec<String> = (0..100)
        .flat_map(|i| [format!("tick:{i}"), format!("tock:{i}")])
        .collect();
    assert_eq!(got, expected, "{mode:?}");
    // Whatever the server made of the silence comes after, and the client never called it a
    // ping timeout of its own.
    sim.advance(Duration::from_secs(60));
    while let Some(Some(event)) =
        futures_util::FutureExt::now_or_never(futures_util::StreamExt::next(&mut events))
    {
        if let SocketEvent::Disconnect(reason) = event {
            assert_ne!(reason, DisconnectReason::PingTimeout, "{mode:?}");
        }
    }
}

#[test]
fn websocket() {
    a_full_stream_holds_reading_and_the_heartbeat(Mode::WebSocket)
}

#[test]
fn polling() {
    a_full_stream_holds_reading_and_the_heartbeat(Mode::Polling)
}

/// A burst many read batches long, with room for all of it: every event reaches the stream
/// (most of them straight from the decoder, none through the read-ahead), in order, and
/// nothing is left waiting in the read-ahead.
fn a_burst_with_room_arrives_whole_and_in_order(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    // 600 events: more than nine batches of frames read at once over WebSocket.
    socket.emit("spam", (300,)).expect("emit");
    let mut got = Vec::new();
    while got.len() < 600 {
        if let SocketEvent::Message(m) = next(&sim, &mut events, Some) {
            got.push(format!("{}:{}", m.event, m.args.get::<u32>(0).unwrap()))
        }
    }
    let expected: Vec<String> = (0..300)
        .flat_map(|i| [format!("tick:{i}"), format!("tock:{i}")])
        .collect();
    assert_eq!(got, expected, "{mode:?}");
    let snapshot = socket.io().flow();
    assert_eq!(snapshot.read_ahead_events, 0, "{mode:?}: {snapshot:?}");
    assert_eq!(snapshot.read_ahead_bytes, 0, "{mode:?}: {snapshot:?}");
    assert_eq!(snapshot.pauses, 0, "{mode:?}: {snapshot:?}");
}

#[test]
fn websocket_burst_with_room() {
    a_burst_with_room_arrives_whole_and_in_order(Mode::WebSocket)
}

#[test]
fn polling_burst_with_room() {
    a_burst_with_room_arrives_whole_and_in_order(Mode::Polling)
}
