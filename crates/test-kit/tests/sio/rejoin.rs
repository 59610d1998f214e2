//! Joining a namespace again (`disconnect()` then `connect()`) while the server's traffic for
//! the previous socket is still on the way. Found by the property tests (`props.rs`, the
//! variant where the client also leaves and joins); both were races in `socketio-proto`, fixed
//! there (a namespace left on purpose drops what arrives for the old server socket until the
//! new CONNECT reply, and only a connected socket is ended by a server DISCONNECT).

use std::time::Duration;

use socketio_proto::{Event, SocketConfig};
use socketio_test_kit::SioConfig;

use crate::support::*;

#[test]
fn an_ack_request_for_the_socket_just_left_is_not_answered_on_the_new_one() {
    let server = SioConfig::new().namespace("/chat", Default::default());
    let mut sim = sim(130, server, client_config(POLLING));
    // Another namespace keeps the connection open while "/" is left.
    connect(&mut sim, "/chat", SocketConfig::default());
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    // The client leaves and joins again while the server asks the old socket for an ack.
    sim.with_client(|m, now| {
        let mut socket = m.socket_mut("/").unwrap();
        socket.disconnect(now);
        socket.connect(now);
    });
    sim.with_server(|s, now| s.sio_emit_with_ack(now, "/", payload(&["ask"])));
    sim.run_for(ms(100));
    let requests: Vec<u64> = events(&sim)
        .into_iter()
        .filter_map(|e| match e {
            Event::Message { ack, .. } => ack,
            _ => None,
        })
        .collect();
    for id in requests {
        // Answering what the client delivered must not reach a socket that never asked.
        let _ = sim.with_client(|m, now| m.socket_mut("/").unwrap().ack(now, id, payload(&["ok"])));
    }
    sim.run_for(ms(100));
    let answers = sim.server().app().client_acks("/");
    assert!(answers.iter().all(|a| a.expected), "{answers:#?}");
}

#[test]
fn a_server_disconnect_crossing_a_rejoin_leaves_both_sides_agreeing() {
    let mut sim = sim(
        131,
        SioConfig::new().namespace("/chat", Default::default()),
        client_config(WEBSOCKET),
    );
    connect(&mut sim, "/", SocketConfig::default());
    connect(&mut sim, "/chat", SocketConfig::default());
    until_connected(&mut sim, "/chat");
    // The client leaves /chat and joins it again; meanwhile the server disconnects the old
    // socket. The server's DISCONNECT arrives while the new CONNECT is pending.
    sim.with_client(|m, now| m.socket_mut("/chat").unwrap().disconnect(now));
    sim.with_server(|s, now| s.sio_disconnect(now, "/chat", false));
    sim.with_client(|m, now| m.socket_mut("/chat").unwrap().connect(now));
    sim.run_for(Duration::from_secs(1));
    let client = sim.client().socket("/chat").unwrap().connected();
    let server = sim.server().app().is_connected("/chat");
    let told: Vec<Event> = events(&sim)
        .into_iter()
        .filter(|e| matches!(e, Event::Disconnect { nsp, .. } | Event::Connect { nsp, .. } if nsp == "/chat"))
        .collect();
    assert_eq!(
        client, server,
        "client connected: {client}, server connected: {server}; /chat events: {told:#?}"
    );
}
