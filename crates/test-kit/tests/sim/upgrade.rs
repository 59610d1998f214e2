//! The upgrade from polling to WebSocket, and its failures, as whole transcripts.

use std::time::Duration;

use engineio_proto::{Event, Message, TransportKind};
use socketio_test_kit::{ProbeBehavior, Refusal, RequestMatch, Side};

use crate::support::*;

const SID: &str = "T397prfyOs8hQQyzAAAA";

fn both() -> engineio_proto::Config {
    client_config(&[TransportKind::Polling, TransportKind::WebSocket])
}

fn script() -> Script {
    Script {
        connect_reply: vec![Message::text(r#"0{"sid":"FImVwrctNknLjfxdAAAA"}"#)],
    }
}

fn upgrade_error<A>(sim: &EngineSim<A>) -> Option<String> {
    sim.events().iter().find_map(|(_, e)| match e {
        Event::UpgradeError { description, .. } => Some(description.clone()),
        _ => None,
    })
}

#[test]
fn the_upgrade_of_the_capture() {
    // protocol.md 1.8: the GET and the POST in flight when `3probe` arrives come back first
    // (the GET with `430[1]`), then `5`, then the buffer on the WebSocket.
    let mut sim = sim(11, server_config(&[SID]), script(), both());
    open(&mut sim);
    send(&mut sim, "0");
    assert!(sim.run_until(Duration::from_secs(1), |s| received(s).len() == 1));
    send(&mut sim, r#"20["echo",1]"#);
    assert!(
        sim.run_until(Duration::from_secs(1), |s| has_event(s, |e| matches!(
            e,
            Event::Upgrade(_)
        )))
    );
    send(&mut sim, r#"21["echo",2]"#);
    sim.run_for(Duration::from_millis(10));
    send(&mut sim, "1");
    sim.with_client(|c, now| c.close(now));
    sim.run_for(Duration::from_millis(10));

    let q = format!("EIO=4&transport=polling&t=*&sid={SID}");
    let expected = [
        "C→S #1 GET /socket.io/?EIO=4&transport=polling&t=*".to_owned(),
        format!(
            r#"S→C #1 200 0{{"sid":"{SID}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}"#
        ),
        // The probe opens while polling goes on (the server answers at once, so each
        // request's answer follows it in this server-side record).
        format!("C→S ws1 GET /socket.io/?EIO=4&transport=websocket&sid={SID}"),
        "S→C ws1 101".to_owned(),
        format!("C→S #2 GET /socket.io/?{q}"),
        format!("C→S #3 POST /socket.io/?{q} 40"),
        r#"S→C #2 200 40{"sid":"FImVwrctNknLjfxdAAAA"}"#.to_owned(),
        "S→C #3 200 ok".to_owned(),
        "C→S ws1 2probe".to_owned(),
        "S→C ws1 3probe".to_owned(),
        // In flight when `3probe` reaches the client: both must come back before `5`.
        format!("C→S #4 GET /socket.io/?{q}"),
        format!(r#"C→S #5 POST /socket.io/?{q} 420["echo",1]"#),
        "S→C #4 200 430[1]".to_owned(),
        "S→C #5 200 ok".to_owned(),
        "C→S ws1 5".to_owned(),
        r#"C→S ws1 421["echo",2]"#.to_owned(),
        r#"S→C ws1 431[2]"#.to_owned(),
        "C→S ws1 41".to_owned(),
        "C→S ws1 close".to_owned(),
    ];
    assert_eq!(sim.lines(), expected, "\n{}", sim.transcript());
    assert_eq!(
        received(&sim),
        [r#"0{"sid":"FImVwrctNknLjfxdAAAA"}"#, "30[1]", "31[2]"]
    );
    let events: Vec<_> = sim
        .events()
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                Event::Upgrading(_) | Event::Upgrade(_) | Event::RememberUpgrade(_)
            )
        })
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(
        events,
        [
            Event::RememberUpgrade(false),
            Event::Upgrading(TransportKind::WebSocket),
            Event::Upgrade(TransportKind::WebSocket),
            Event::RememberUpgrade(true),
        ]
    );
    let info = sim.server().session(SID).unwrap();
    assert!(info.stats.upgraded);
    assert_eq!(info.closed.as_deref(), Some("transport close"));
    assert_eq!(close_reason(&sim), Some("forced close"));
}

#[test]
fn an_idle_upgrade_is_released_by_the_noop() {
    // engine.io-protocol test-suite: after 2probe/3probe the parked GET returns `6` (the
    // server's 100 ms check), then `5`; messages queued meanwhile go on the WebSocket.
    let mut sim = sim(12, server_config(&["u"]), socketio_test_kit::Echo, both());
    open(&mut sim);
    assert!(
        sim.run_until(Duration::from_secs(1), |s| has_event(s, |e| matches!(
            e,
            Event::Upgrading(_)
        )))
    );
    let upgrading_at = sim.elapsed();
    send(&mut sim, "hello");
    assert!(sim.run_until(Duration::from_secs(1), |s| received(s).len() == 1));
    let lines = sim.lines();
    assert_eq!(
        lines[lines.len() - 4..],
        [
            "S→C #2 200 6",
            "C→S ws1 5",
            "C→S ws1 4hello",
            "S→C ws1 4hello"
        ],
        "\n{}",
        sim.transcript()
    );
    let noop_at = sim
        .transcript()
        .entries()
        .iter()
        .find(|e| matches!(&e.record, socketio_test_kit::Record::HttpResponse { body, .. } if body == "6"))
        .unwrap()
        .at;
    // The server's check interval: about 100 ms after it answered the probe.
    assert!(
        noop_at >= upgrading_at + Duration::from_millis(98),
        "{noop_at:?} {upgrading_at:?}"
    );
    assert_eq!(received(&sim), ["hello"]);
    assert_eq!(sim.client().transport(), Some(TransportKind::WebSocket));
}

#[test]
fn a_refused_probe_stays_on_polling_and_keeps_polling() {
    let server = server_config(&["r"]).with_heartbeat(1_000, 500);
    let mut sim = sim(13, server, socketio_test_kit::Echo, both());
    sim.with_server(|s, _| {
        s.refuse(Refusal::error(
            RequestMatch::Transport(TransportKind::WebSocket),
            400,
            3,
            "Bad request",
        ))
    });
    open(&mut sim);
    sim.run_for(Duration::from_secs(3));
    assert_eq!(
        upgrade_error(&sim).as_deref(),
        Some(r#"HTTP 400: {"code":3,"message":"Bad request"}"#)
    );
    assert_eq!(sim.client().transport(), Some(TransportKind::Polling));
    send(&mut sim, "after");
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim), ["after"]);
    let info = sim.server().session("r").unwrap();
    assert_eq!(
        info.stats.pongs_received, 3,
        "the heartbeat went on over polling"
    );
    assert_eq!(info.closed, None);
}

#[test]
fn a_wrong_probe_answer_is_a_probe_error() {
    let server = server_config(&["w"]).with_probe(ProbeBehavior::Reply("3nope".into()));
    let mut sim = sim(14, server, socketio_test_kit::Echo, both());
    open(&mut sim);
    sim.run_for(Duration::from_millis(50));
    assert_eq!(upgrade_error(&sim).as_deref(), Some("probe error"));
    assert_eq!(
        sim.transcript().frames(Side::Server),
        ["3nope"],
        "\n{}",
        sim.transcript()
    );
    assert!(sim.lines().contains(&"C→S ws1 close".to_owned()));
    send(&mut sim, "still polling");
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim), ["still polling"]);
}

#[test]
fn a_probe_without_answer_times_out_and_polling_resumes() {
    let server = server_config(&["t"])
        .with_probe(ProbeBehavior::Ignore)
        .with_heartbeat(4_000, 2_000);
    let mut sim = sim(15, server, socketio_test_kit::Echo, both());
    open(&mut sim);
    sim.run_for(Duration::from_millis(9_990));
    assert_eq!(upgrade_error(&sim), None);
    sim.run_for(Duration::from_millis(20));
    assert_eq!(upgrade_error(&sim).as_deref(), Some("probe timeout"));
    send(&mut sim, "x");
    sim.run_for(Duration::from_secs(10));
    assert_eq!(received(&sim), ["x"]);
    assert_eq!(close_reason(&sim), None);
    assert_eq!(sim.client().transport(), Some(TransportKind::Polling));
}

#[test]
fn a_probe_reset_while_pausing_resumes_polling() {
    let mut sim = sim(16, server_config(&["k"]), socketio_test_kit::Echo, both());
    open(&mut sim);
    assert!(
        sim.run_until(Duration::from_secs(1), |s| has_event(s, |e| matches!(
            e,
            Event::Upgrading(_)
        )))
    );
    // Paused, waiting for the parked GET: the WebSocket's connection dies.
    sim.reset_websocket(socketio_test_kit::ConnId(1));
    sim.run_for(Duration::from_millis(300));
    assert_eq!(upgrade_error(&sim).as_deref(), Some("connection reset"));
    send(&mut sim, "y");
    sim.run_for(Duration::from_millis(10));
    assert_eq!(received(&sim), ["y"]);
    assert_eq!(sim.client().transport(), Some(TransportKind::Polling));
    let info = sim.server().session("k").unwrap();
    assert!(!info.stats.upgraded);
    assert_eq!(info.closed, None);
}
