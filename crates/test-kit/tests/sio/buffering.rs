//! Emits made before a namespace is connected: kept, then sent once, in order, after the
//! CONNECT reply and never before (the server's rule check fails the test otherwise).

use std::time::Duration;

use socketio_proto::{AckError, EmitOptions, EmitStatus, Event, SocketConfig};
use socketio_test_kit::{LinkConfig, Refusal, RequestMatch, SioConfig};

use crate::support::*;

#[test]
fn emits_before_the_connect_reply_go_out_once_in_order_after_it() {
    for (seed, transports) in [(10, POLLING), (11, WEBSOCKET), (12, UPGRADE)] {
        let link = LinkConfig::fixed(ms(5));
        let mut sim = sim_with(
            seed,
            link,
            engine_server(),
            SioConfig::new(),
            client_config(transports),
        );
        connect(&mut sim, "/", SocketConfig::default());
        // Before the engine is even open.
        for i in 0..3 {
            let e = emit(
                &mut sim,
                "/",
                payload(&("early", i)),
                EmitOptions::default(),
            );
            assert_eq!(e.status, EmitStatus::Buffered);
        }
        // The engine is open and CONNECT is on its way, but the reply is not here yet.
        assert!(sim.run_until(Duration::from_secs(1), |s| {
            s.events().iter().any(|(_, e)| *e == Event::Open)
        }));
        assert!(!sim.client().socket("/").unwrap().connected());
        for i in 3..5 {
            let e = emit(
                &mut sim,
                "/",
                payload(&("early", i)),
                EmitOptions::default(),
            );
            assert_eq!(e.status, EmitStatus::Buffered, "{transports:?}");
        }
        assert_eq!(sim.client().socket("/").unwrap().buffered(), 5);
        until_connected(&mut sim, "/");
        assert_eq!(sim.client().socket("/").unwrap().buffered(), 0);
        // After the reply, emits go straight out.
        let e = emit(&mut sim, "/", payload(&("late", 5)), EmitOptions::default());
        assert_eq!(e.status, EmitStatus::Written);
        sim.run_for(Duration::from_secs(2));

        let expected: Vec<String> = std::iter::once("0".to_owned())
            .chain((0..5).map(|i| format!(r#"2["early",{i}]"#)))
            .chain(std::iter::once(r#"2["late",5]"#.to_owned()))
            .collect();
        assert_eq!(sim.server().app().received("/"), expected, "{transports:?}");
        assert!(sim.violations().is_empty());
    }
}

#[test]
fn emits_while_reconnecting_wait_for_the_new_connect_reply() {
    let mut sim = sim(13, SioConfig::new(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    until_connected(&mut sim, "/");
    let first = sim.server().last_sid().unwrap();
    sim.with_server(|s, now| s.kill(now, &first));
    sim.run_for(ms(50));
    assert!(!sim.client().socket("/").unwrap().connected());
    for i in 0..3 {
        let e = emit(
            &mut sim,
            "/",
            payload(&("offline", i)),
            EmitOptions::default(),
        );
        assert_eq!(e.status, EmitStatus::Buffered);
    }
    sim.run_for(Duration::from_secs(10));
    let second = sim.server().last_sid().unwrap();
    assert_ne!(first, second);
    let received: Vec<(String, String)> = sim
        .server()
        .app()
        .packets("/")
        .iter()
        .map(|r| (r.eio_sid.clone(), r.text.clone()))
        .collect();
    let on = |sid: &str, t: &str| (sid.to_owned(), t.to_owned());
    assert_eq!(
        received,
        [
            on(&first, "0"),
            on(&second, "0"),
            on(&second, r#"2["offline",0]"#),
            on(&second, r#"2["offline",1]"#),
            on(&second, r#"2["offline",2]"#),
        ]
    );
}

#[test]
fn a_buffered_emit_that_times_out_never_reaches_the_server() {
    let mut sim = sim(14, SioConfig::new(), client_config(WEBSOCKET));
    // The first two handshakes are refused: the socket waits about 1.5 to 4.5 s.
    sim.with_server(|s, _| {
        s.refuse(Refusal::error(RequestMatch::Handshake, 503, 4, "busy").times(2))
    });
    connect(&mut sim, "/", SocketConfig::default());
    let doomed = emit(
        &mut sim,
        "/",
        payload(&("doomed",)),
        EmitOptions::with_ack().timeout(ms(300)),
    );
    emit(&mut sim, "/", payload(&("kept",)), EmitOptions::default());
    until_connected(&mut sim, "/");
    sim.run_for(Duration::from_secs(1));
    assert_eq!(acks(&sim), [(doomed.id, Err(AckError::Timeout))]);
    assert_eq!(sim.server().app().received("/"), ["0", r#"2["kept"]"#]);
}
