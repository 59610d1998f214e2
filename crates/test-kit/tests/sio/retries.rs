//! `retries` + `ack_timeout`: at-least-once delivery, one queued emit in flight at a time,
//! each try with a new ack id.

use std::time::Duration;

use socketio_proto::{AckError, EmitOptions};
use socketio_test_kit::{AckPolicy, NamespaceConfig, SioConfig};

use crate::support::*;

fn never_acks() -> SioConfig {
    SioConfig::new().namespace("/", NamespaceConfig::new().acks(AckPolicy::Never))
}

#[test]
fn three_retries_against_a_server_that_never_acks() {
    for (seed, transports) in [(50, POLLING), (51, WEBSOCKET), (52, UPGRADE)] {
        let mut sim = sim(seed, never_acks(), client_config(transports));
        connect(&mut sim, "/", retrying(3, 50));
        until_connected(&mut sim, "/");
        sim.run_for(ms(300));
        let sent = emit(&mut sim, "/", payload(&["ack"]), EmitOptions::with_ack());
        sim.run_for(Duration::from_secs(1));
        let app = sim.server().app();
        assert_eq!(
            app.received("/"),
            [
                "0",
                r#"20["ack"]"#,
                r#"21["ack"]"#,
                r#"22["ack"]"#,
                r#"23["ack"]"#
            ],
            "{transports:?}"
        );
        // Each try goes out when the previous one's 50 ms are up.
        let times: Vec<_> = app.packets("/")[1..].iter().map(|r| r.at).collect();
        for pair in times.windows(2) {
            assert_eq!(pair[1] - pair[0], ms(50), "{transports:?}");
        }
        assert_eq!(acks(&sim), [(sent.id, Err(AckError::Timeout))]);
        assert_eq!(sim.client().socket("/").unwrap().queued(), 0);
    }
}

#[test]
fn queued_emits_wait_for_the_one_in_flight() {
    let server = SioConfig::new().namespace(
        "/",
        NamespaceConfig::new().acks_for("ignore", AckPolicy::Never),
    );
    let mut sim = sim(53, server, client_config(WEBSOCKET));
    connect(&mut sim, "/", retrying(3, 50));
    let ignored = emit(&mut sim, "/", payload(&["ignore"]), EmitOptions::with_ack());
    let next = emit(
        &mut sim,
        "/",
        payload(&("next", 1)),
        EmitOptions::with_ack(),
    );
    let last = emit(
        &mut sim,
        "/",
        payload(&("next", 2)),
        EmitOptions::with_ack(),
    );
    sim.run_for(Duration::from_secs(2));
    assert_eq!(
        sim.server().app().received("/"),
        [
            "0",
            r#"20["ignore"]"#,
            r#"21["ignore"]"#,
            r#"22["ignore"]"#,
            r#"23["ignore"]"#,
            r#"24["next",1]"#,
            r#"25["next",2]"#,
        ]
    );
    assert_eq!(
        acks(&sim),
        [
            (ignored.id, Err(AckError::Timeout)),
            (next.id, Ok("[1]".to_owned())),
            (last.id, Ok("[2]".to_owned())),
        ]
    );
}

#[test]
fn each_queued_emit_goes_out_after_the_previous_ack() {
    let mut sim = sim(54, SioConfig::new(), client_config(POLLING));
    connect(&mut sim, "/", retrying(2, 1000));
    until_connected(&mut sim, "/");
    let ids: Vec<_> = (0..5)
        .map(|i| emit(&mut sim, "/", payload(&("n", i)), EmitOptions::with_ack()).id)
        .collect();
    sim.run_for(Duration::from_secs(2));
    let app = sim.server().app();
    let expected: Vec<String> = std::iter::once("0".to_owned())
        .chain((0..5).map(|i| format!(r#"2{i}["n",{i}]"#)))
        .collect();
    assert_eq!(app.received("/"), expected);
    // One in flight at a time: a round trip between consecutive sends.
    let times: Vec<_> = app.packets("/")[1..].iter().map(|r| r.at).collect();
    assert!(times.windows(2).all(|w| w[1] - w[0] >= ms(2)), "{times:?}");
    let results = acks(&sim);
    let expected: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, Ok(format!("[{i}]"))))
        .collect();
    assert_eq!(results, expected);
}

#[test]
fn the_emit_in_flight_is_resent_once_after_a_reconnection() {
    let server =
        SioConfig::new().namespace("/", NamespaceConfig::new().acks(AckPolicy::After(ms(200))));
    let mut sim = sim(55, server, client_config(WEBSOCKET));
    connect(&mut sim, "/", retrying(3, 1000));
    until_connected(&mut sim, "/");
    let sent = emit(&mut sim, "/", payload(&("x", 1)), EmitOptions::with_ack());
    sim.run_for(ms(100));
    let first = sim.server().last_sid().unwrap();
    // The connection dies before the server's answer.
    sim.with_server(|s, now| s.kill(now, &first));
    sim.run_for(Duration::from_secs(10));
    let second = sim.server().last_sid().unwrap();
    let got: Vec<(String, String)> = sim
        .server()
        .app()
        .packets("/")
        .iter()
        .map(|r| (r.eio_sid.clone(), r.text.clone()))
        .collect();
    let on = |sid: &str, t: &str| (sid.to_owned(), t.to_owned());
    assert_eq!(
        got,
        [
            on(&first, "0"),
            on(&first, r#"20["x",1]"#),
            on(&second, "0"),
            on(&second, r#"21["x",1]"#),
        ]
    );
    assert_eq!(acks(&sim), [(sent.id, Ok("[1]".to_owned()))]);
}
