//! Runs are functions of their seeds; over bad links the client keeps the protocol's rules.

use std::time::Duration;

use engineio_proto::{Event, Message, State, TransportKind};
use rand_core::RngCore;
use socketio_test_kit::{Echo, LinkConfig, SimRng};

use crate::support::*;

/// A session with random sends over a jittery, lossy link, decided by `seed`.
fn chaos(seed: u64, transports: &[TransportKind], loss: f64) -> (EngineSim<Echo>, Vec<String>) {
    let server = server_config(&[])
        .with_heartbeat(500, 400)
        .with_strict(true);
    let link =
        LinkConfig::jitter(Duration::from_millis(1), Duration::from_millis(40)).with_loss(loss);
    let mut sim = sim_with_link(seed, link, server, Echo, client_config(transports));
    let mut script = SimRng::new(seed ^ 0x5eed);
    let mut sent = Vec::new();
    for i in 0..200 {
        sim.run_for(Duration::from_millis(script.between(0, 600)));
        if sim.client().state() == State::Closed {
            break;
        }
        let text = format!("m{i}");
        let ok = sim.with_client(|c, now| c.send(now, Message::text(text.as_str())).is_ok());
        if ok {
            sent.push(text);
        }
        if script.below(50) == 0 {
            sim.run_for(Duration::from_millis(script.next_u64() % 3_000));
        }
    }
    sim.run_for(Duration::from_secs(5));
    (sim, sent)
}

fn is_prefix(short: &[String], long: &[String]) -> bool {
    short.len() <= long.len() && short == &long[..short.len()]
}

#[test]
fn the_same_seed_gives_the_same_transcript() {
    for seed in [1, 2, 3] {
        let (a, _) = chaos(
            seed,
            &[TransportKind::Polling, TransportKind::WebSocket],
            0.01,
        );
        let (b, _) = chaos(
            seed,
            &[TransportKind::Polling, TransportKind::WebSocket],
            0.01,
        );
        let render = |s: &EngineSim<Echo>| s.transcript().to_string();
        assert_eq!(render(&a), render(&b), "seed {seed}");
        assert_eq!(format!("{:?}", a.events()), format!("{:?}", b.events()));
    }
    let (a, _) = chaos(4, &[TransportKind::Polling], 0.0);
    let (b, _) = chaos(5, &[TransportKind::Polling], 0.0);
    assert_ne!(a.transcript().to_string(), b.transcript().to_string());
}

#[test]
fn over_a_lossy_link_messages_arrive_in_order_without_duplicates() {
    let mut closed = 0;
    for seed in 0..100 {
        for transports in [
            &[TransportKind::Polling][..],
            &[TransportKind::WebSocket][..],
            &[TransportKind::Polling, TransportKind::WebSocket][..],
        ] {
            let (sim, sent) = chaos(seed, transports, 0.003);
            // The strict server panicked on any violation; check the rest here.
            let Some(sid) = sim.server().last_sid() else {
                continue;
            };
            let at_server: Vec<String> = sim
                .server()
                .session(&sid)
                .unwrap()
                .stats
                .received
                .iter()
                .map(show)
                .collect();
            assert!(
                is_prefix(&at_server, &sent),
                "seed {seed} {transports:?}\n{}",
                sim.transcript()
            );
            let echoed = received(&sim);
            assert!(is_prefix(&echoed, &at_server), "seed {seed} {transports:?}");
            match sim.client().state() {
                State::Closed => {
                    closed += 1;
                    let reason = close_reason(&sim).unwrap();
                    assert!(
                        ["transport error", "transport close", "ping timeout"].contains(&reason),
                        "{reason}"
                    );
                }
                State::Open => {
                    assert_eq!(
                        echoed, sent,
                        "seed {seed} {transports:?}: an open session lost nothing"
                    );
                }
                other => panic!("seed {seed}: {other:?}"),
            }
            let opens = sim
                .events()
                .iter()
                .filter(|(_, e)| matches!(e, Event::Open(_)))
                .count();
            assert!(opens <= 1);
        }
    }
    assert!(
        closed > 0,
        "the loss rate is high enough to close some sessions"
    );
}
