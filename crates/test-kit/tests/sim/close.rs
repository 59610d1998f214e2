//! Closes: by the server, by the client, by errors.

use std::time::Duration;

use engineio_proto::{CloseReason, Event, PollRequest, ServerError, TransportError, TransportKind};
use socketio_test_kit::{Echo, Refusal, RequestMatch, Silent};

use crate::support::*;

fn close_event<A>(sim: &EngineSim<A>) -> Option<CloseReason> {
    sim.events().iter().find_map(|(_, e)| match e {
        Event::Close(r) => Some(r.clone()),
        _ => None,
    })
}

#[test]
fn a_server_close_on_polling_is_transport_close() {
    let mut sim = sim(
        31,
        server_config(&["p"]),
        Silent,
        client_config(&[TransportKind::Polling]),
    );
    open(&mut sim);
    sim.with_server(|s, now| {
        s.send(now, "p", engineio_proto::Message::text("bye"));
        s.close(now, "p");
    });
    sim.run_for(Duration::from_millis(20));
    let lines = sim.lines();
    assert_eq!(
        lines.last().unwrap(),
        "S→C #2 200 4bye\x1e1",
        "\n{}",
        sim.transcript()
    );
    assert_eq!(received(&sim), ["bye"]);
    assert_eq!(
        close_event(&sim),
        Some(CloseReason::TransportClose {
            description: "transport closed by the server".into()
        })
    );
    assert_eq!(
        sim.server().session("p").unwrap().closed.as_deref(),
        Some("forced close")
    );
}

#[test]
fn a_server_close_on_websocket_is_transport_close() {
    let mut sim = sim(
        32,
        server_config(&["w"]),
        Silent,
        client_config(&[TransportKind::WebSocket]),
    );
    open(&mut sim);
    sim.with_server(|s, now| s.close(now, "w"));
    sim.run_for(Duration::from_millis(20));
    assert_eq!(sim.lines().last().unwrap(), "S→C ws1 close");
    assert_eq!(
        close_event(&sim),
        Some(CloseReason::TransportClose {
            description: "websocket connection closed".into()
        })
    );
}

#[test]
fn a_killed_server_is_a_transport_error() {
    let mut sim = sim(
        33,
        server_config(&["k"]),
        Silent,
        client_config(&[TransportKind::Polling]),
    );
    open(&mut sim);
    // Once the GET is parked, the server dies: the connection drops without an answer.
    sim.run_for(Duration::from_millis(5));
    sim.with_server(|s, now| s.kill(now, "k"));
    sim.run_for(Duration::from_millis(20));
    assert_eq!(
        close_event(&sim),
        Some(CloseReason::TransportError(TransportError::Request {
            request: PollRequest::Get,
            error: engineio_proto::IoError::new(
                engineio_proto::IoErrorKind::Other,
                "connection reset"
            ),
        }))
    );
}

#[test]
fn a_restarted_server_answers_session_id_unknown() {
    let mut sim = sim(
        38,
        server_config(&["r"]),
        Silent,
        client_config(&[TransportKind::Polling]),
    );
    open(&mut sim);
    // Forgotten before the next GET arrives.
    sim.with_server(|s, now| s.kill(now, "r"));
    sim.run_for(Duration::from_millis(5));
    assert_eq!(
        close_event(&sim),
        Some(CloseReason::TransportError(TransportError::HttpStatus {
            request: PollRequest::Get,
            status: 400,
            server_error: Some(ServerError {
                code: 1,
                message: "Session ID unknown".into()
            }),
        }))
    );
}

#[test]
fn an_unknown_session_is_a_typed_server_error() {
    // The server forgets the session (a restart): the next request gets 400 code 1.
    let mut sim = sim(
        34,
        server_config(&["u"]),
        Echo,
        client_config(&[TransportKind::Polling]),
    );
    open(&mut sim);
    sim.with_server(|s, _| {
        s.refuse(Refusal::error(
            RequestMatch::Method(socketio_test_kit::Method::Post),
            400,
            1,
            "Session ID unknown",
        ))
    });
    send(&mut sim, "x");
    sim.run_for(Duration::from_millis(20));
    assert_eq!(
        close_event(&sim),
        Some(CloseReason::TransportError(TransportError::HttpStatus {
            request: PollRequest::Post,
            status: 400,
            server_error: Some(ServerError {
                code: 1,
                message: "Session ID unknown".into()
            }),
        }))
    );
}

#[test]
fn a_client_close_on_websocket_closes_the_session() {
    let mut sim = sim(
        35,
        server_config(&["c"]),
        Silent,
        client_config(&[TransportKind::WebSocket]),
    );
    open(&mut sim);
    sim.with_client(|c, now| c.close(now));
    sim.run_for(Duration::from_millis(20));
    assert_eq!(sim.lines().last().unwrap(), "C→S ws1 close");
    assert_eq!(
        sim.server().session("c").unwrap().closed.as_deref(),
        Some("transport close")
    );
    assert_eq!(close_event(&sim), Some(CloseReason::ForcedClose));
}

#[test]
fn a_refused_handshake_falls_back_with_try_all_transports() {
    let mut client = client_config(&[TransportKind::Polling, TransportKind::WebSocket]);
    client.try_all_transports = true;
    let mut sim = sim(36, server_config(&["f"]), Silent, client);
    sim.with_server(|s, _| {
        s.refuse(Refusal::error(
            RequestMatch::Transport(TransportKind::Polling),
            403,
            4,
            "Forbidden",
        ))
    });
    sim.run_for(Duration::from_millis(50));
    assert_eq!(
        sim.lines()[..4],
        [
            "C→S #1 GET /socket.io/?EIO=4&transport=polling&t=*",
            r#"S→C #1 403 {"code":4,"message":"Forbidden"}"#,
            "C→S ws1 GET /socket.io/?EIO=4&transport=websocket",
            "S→C ws1 101",
        ]
    );
    assert_eq!(sim.client().transport(), Some(TransportKind::WebSocket));
    assert!(has_event(&sim, |e| matches!(e, Event::Open(_))));
}

#[test]
fn a_refused_handshake_without_fallback_is_a_transport_error() {
    let mut sim = sim(
        37,
        server_config(&["f"]),
        Silent,
        client_config(&[TransportKind::Polling]),
    );
    sim.with_server(|s, _| {
        s.refuse(Refusal::error(RequestMatch::Handshake, 403, 4, "Forbidden").times(1))
    });
    sim.run_for(Duration::from_millis(50));
    assert_eq!(close_reason(&sim), Some("transport error"));
}
