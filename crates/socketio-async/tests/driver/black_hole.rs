//! A connection that dies in a black hole (the link still "up", nothing crossing it either
//! way, the server's close never heard of) ends by the heartbeat; then nothing of it may be
//! left running: not the WebSocket's reader, waiting for an answer to its close frame, nor a
//! POST (an emit sent into the hole) waiting for its response. Each would hold a task and a
//! connection until the operating system gave up on the socket, one per dead connection.
//! (The driver's task owns all of a connection's IO: "left running" is counted as requests and
//! WebSockets still held.)
//! After a clean close the goodbye gets 30 s, then the same holds.

use std::time::Duration;

use socketio_async::{DisconnectReason, SocketEvent, io};

use super::{Mode, URL, connected, next, options, sim};

fn a_dead_connection_leaves_nothing_running(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode).reconnection(false), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    // Let the upgrade finish and a few heartbeats go by.
    sim.advance(Duration::from_secs(60));
    sim.set_blackhole(true);
    // On polling this is a POST that never gets an answer; on WebSocket a frame lost.
    socket.emit("echo", (1,)).expect("emit");
    let reason = next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(reason) => Some(reason),
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::PingTimeout);
    sim.run();
    assert_eq!(
        sim.io_alive(),
        0,
        "{mode:?}: no request or WebSocket is left"
    );
    assert_eq!(sim.live_tasks(), 1, "{mode:?}: only the driver is left");
}

#[test]
fn a_dead_polling_connection_leaves_nothing_running() {
    a_dead_connection_leaves_nothing_running(Mode::Polling);
}

#[test]
fn a_dead_websocket_leaves_nothing_running() {
    a_dead_connection_leaves_nothing_running(Mode::WebSocket);
}

#[test]
fn a_dead_upgraded_connection_leaves_nothing_running() {
    a_dead_connection_leaves_nothing_running(Mode::Upgrade);
}

/// A clean close into a dead link: the goodbye (a POST, or the WebSocket close handshake)
/// never ends, so it is given the reference's 30 s and then dropped.
fn a_clean_close_into_a_dead_link_leaves_nothing_running(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode).reconnection(false), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    sim.advance(Duration::from_secs(60));
    sim.set_blackhole(true);
    socket.io().close();
    sim.advance(Duration::from_secs(29));
    assert!(sim.io_alive() > 0, "{mode:?}: the goodbye still has time");
    sim.advance(Duration::from_secs(2));
    assert_eq!(
        sim.io_alive(),
        0,
        "{mode:?}: no request or WebSocket is left"
    );
    assert_eq!(sim.live_tasks(), 1, "{mode:?}: only the driver is left");
}

#[test]
fn a_clean_close_into_a_dead_polling_link_leaves_nothing_running() {
    a_clean_close_into_a_dead_link_leaves_nothing_running(Mode::Polling);
}

#[test]
fn a_clean_close_into_a_dead_websocket_leaves_nothing_running() {
    a_clean_close_into_a_dead_link_leaves_nothing_running(Mode::WebSocket);
}
