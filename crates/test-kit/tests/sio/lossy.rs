//! A lossy link with a cut: with retries, every numbered emit reaches the server at least
//! once and is acknowledged exactly once to the application.

use std::collections::BTreeSet;
use std::time::Duration;

use socketio_proto::{EmitOptions, ManagerConfig};
use socketio_test_kit::{LinkConfig, SioConfig};

use crate::support::*;

const COUNT: u64 = 40;

fn client(transports: &[engineio_proto::TransportKind]) -> ManagerConfig {
    let mut c = client_config(transports);
    c.reconnection_delay = ms(200);
    c.reconnection_delay_max = ms(1000);
    c.timeout = Some(Duration::from_secs(2));
    c
}

#[test]
fn every_numbered_emit_reaches_the_server_at_least_once() {
    let mut resent = 0;
    let mut reconnections = 0;
    for seed in 0..6 {
        for transports in [POLLING, WEBSOCKET, UPGRADE] {
            let link = LinkConfig::jitter(ms(1), ms(20))
                .with_loss(0.03)
                .with_cut(Duration::from_secs(2), Duration::from_secs(4));
            let mut sim = sim_with(
                90 + seed,
                link,
                engine_server(),
                SioConfig::new(),
                client(transports),
            );
            connect(&mut sim, "/", retrying(1000, 500));
            let mut ids = Vec::new();
            for n in 0..COUNT {
                ids.push(
                    emit(
                        &mut sim,
                        "/",
                        payload(&("numbered", n)),
                        EmitOptions::with_ack(),
                    )
                    .id,
                );
                sim.run_for(ms(100));
            }
            sim.run_until(Duration::from_secs(300), |s| {
                s.client().socket("/").is_some_and(|s| s.queued() == 0)
            });

            let app = sim.server().app();
            let numbers: Vec<u64> = app
                .events("/")
                .iter()
                .map(|p| p.arg::<u64>(1).unwrap())
                .collect();
            let distinct: BTreeSet<u64> = numbers.iter().copied().collect();
            assert_eq!(
                distinct,
                (0..COUNT).collect(),
                "seed {seed} {transports:?}\n{}",
                sim.transcript()
            );
            // Order is kept: a number is first received only after all smaller ones.
            let mut firsts = Vec::new();
            for n in &numbers {
                if !firsts.contains(n) {
                    firsts.push(*n);
                }
            }
            assert_eq!(firsts, (0..COUNT).collect::<Vec<_>>());
            // One result per emit, all successes.
            let results = acks(&sim);
            assert_eq!(results.len(), COUNT as usize);
            for ((id, result), expected) in results.iter().zip(&ids) {
                assert_eq!(id, expected);
                assert!(result.is_ok(), "seed {seed} {transports:?}: {result:?}");
            }
            resent += numbers.len() - COUNT as usize;
            reconnections += sim.server().sessions().len() - 1;
        }
    }
    // The link did its job: connections broke and emits were resent.
    assert!(reconnections > 10, "{reconnections} reconnections");
    assert!(resent > 0, "nothing resent");
}
