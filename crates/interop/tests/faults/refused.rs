//! Reconnections refused for a while: the proxy closes its listener (the kernel refuses every
//! attempt) and cuts the connection. With `randomization_factor` 0 the delays are exact:
//! each attempt starts its backoff delay after the failure before it, `reconnect_failed`
//! comes after `reconnection_attempts`, and nothing more is tried until the application opens
//! the manager again.

use std::time::Duration;

use socketio_async::{ManagerEvent, Options};
use socketio_interop::{NodeServer, Rt, on_every_runtime};

use super::{ManagerLog, connected_again, proxy_to};

const ATTEMPTS: u32 = 4;
const DELAY_MS: u64 = 100;
const DELAY_MAX_MS: u64 = 400;
/// How late a timer may fire on a busy machine before the scenario calls it wrong.
const LATE_MS: u64 = 300;

async fn refused_reconnections_follow_the_backoff(rt: Rt) {
    let server = NodeServer::start(&[]);
    let proxy = proxy_to(&server);
    let options = Options::default()
        .force_new(true)
        .reconnection_attempts(Some(ATTEMPTS))
        .reconnection_delay(Duration::from_millis(DELAY_MS))
        .reconnection_delay_max(Duration::from_millis(DELAY_MAX_MS))
        .randomization_factor(0.0);
    let socket = rt.io(&proxy.url(), options).expect("io");
    let manager = socket.io().clone();
    let log = ManagerLog::attach(&manager);
    let mut manager_events = manager.events();
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;

    proxy.refuse(true);
    proxy.cut_all();
    rt.next_manager_event(&mut manager_events, |e| {
        (e == ManagerEvent::ReconnectFailed).then_some(())
    })
    .await;
    // The last attempt's error follows `reconnect_failed`, as in the reference.
    rt.next_manager_event(&mut manager_events, |e| {
        matches!(e, ManagerEvent::ReconnectError(_)).then_some(())
    })
    .await;

    // From the close: each attempt, and the failure that scheduled it.
    let history = log.events();
    let close = history
        .iter()
        .position(|(_, e)| matches!(e, ManagerEvent::Close(_)))
        .expect("the connection closed");
    let mut failed_at = history[close].0;
    let mut delays = Vec::new();
    let mut attempts = Vec::new();
    for (at, event) in &history[close + 1..] {
        match event {
            ManagerEvent::ReconnectAttempt(n) => {
                attempts.push(*n);
                delays.push(at.duration_since(failed_at));
            }
            ManagerEvent::ReconnectError(_) => failed_at = *at,
            _ => {}
        }
    }
    assert_eq!(attempts, (1..=ATTEMPTS).collect::<Vec<_>>());
    let expected: Vec<u64> = (0..ATTEMPTS)
        .map(|i| (DELAY_MS << i).min(DELAY_MAX_MS))
        .collect();
    for (delay, expected) in delays.iter().zip(&expected) {
        let ms = delay.as_millis() as u64;
        // The failure is logged just after its delay was scheduled: a few ms of slack.
        assert!(
            ms + 10 >= *expected && ms <= expected + LATE_MS,
            "delays {delays:?}, expected {expected:?} ms"
        );
    }
    let failed = log.count(|e| *e == ManagerEvent::ReconnectFailed);
    assert_eq!(failed, 1);

    // Back: only the application reopens now, and that works.
    proxy.refuse(false);
    manager.open();
    connected_again(&rt, &socket, &mut events).await;
    let (word,): (String,) = rt
        .within("the echo", socket.emit_with_ack("echo", ("back",)))
        .await
        .expect("echo");
    assert_eq!(word, "back");
    let attempts_after = log.count(|e| matches!(e, ManagerEvent::ReconnectAttempt(_)));
    assert_eq!(
        attempts_after, ATTEMPTS as usize,
        "no attempt after reconnect_failed"
    );
    let ms: Vec<u128> = delays.iter().map(Duration::as_millis).collect();
    println!(
        "{}: attempts={ATTEMPTS} delays_ms={ms:?} expected_ms={expected:?} refusals={}",
        rt.name,
        proxy.stats().refusals
    );
}

on_every_runtime!(refused_reconnections_follow_the_backoff);
