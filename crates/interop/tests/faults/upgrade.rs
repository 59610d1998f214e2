//! The upgrade from polling to WebSocket interrupted at each step, under a numbered stream
//! of emits with acks (at most 8 in flight):
//!
//! - during the probe (the server's `3probe` never arrives) and during the pause (`3probe`
//!   delivered, polling draining), cutting only the WebSocket: the upgrade fails and the
//!   session continues on polling, with every emit acknowledged once;
//! - the same two steps cutting every connection, and after `5` (the client's upgrade
//!   packet delivered): the client reconnects. Emits in flight at the cut may be lost, and
//!   then their acks fail; everything else is delivered; nothing reaches the server twice.
//!   New connections are refused from the cut until the client has closed the session, so
//!   the cut ends the session even when no request was in flight.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use socketio_async::{AckError, Error, ManagerEvent, Options};
use socketio_interop::{NodeServer, Rt, on_every_runtime};
use socketio_test_kit::fault_proxy::{Direction, Trigger};

use super::{ManagerLog, Pending, SeenFile, proxy_to};

/// Emits in flight at once.
const WINDOW: usize = 8;
/// Emits after the cut has happened and the connection settled.
const AFTER: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cut {
    /// Only the WebSocket: the session continues on polling.
    WebSocket,
    /// Every connection: the client reconnects.
    All,
}

async fn interrupted(rt: Rt, step: &str, trigger: Trigger, cut: Cut) {
    let started = Instant::now();
    let seen = SeenFile::new(step, &rt);
    let server = NodeServer::start(&[seen.env()]);
    let proxy = proxy_to(&server);
    if cut == Cut::All {
        // The network goes down with the cut and comes back once the client has lost the
        // session: with refusal, the loss does not depend on a request being in flight.
        proxy.cut_on(trigger.then_refuse());
    } else {
        proxy.cut_on(trigger);
    }
    let options = Options::default()
        .force_new(true)
        .reconnection_delay(Duration::from_millis(50))
        .reconnection_delay_max(Duration::from_millis(100));
    let socket = rt.io(&proxy.url(), options).expect("io");
    let log = ManagerLog::attach(socket.io());
    let control = proxy.control();
    socket.io().on(move |e| {
        if matches!(e, ManagerEvent::Close(_)) {
            // `refuse(false)` waits for the port to be bound again: not on the client's task.
            let control = control.clone();
            std::thread::spawn(move || control.refuse(false));
        }
    });
    let reconnected = || log.count(|e| matches!(e, ManagerEvent::Reconnect(_))) > 0;

    let mut pending = Pending::new();
    let mut acked = BTreeSet::new();
    let mut lost = BTreeSet::new();
    let mut next = 0;
    let mut settled_at = None;
    loop {
        if settled_at.is_none() && proxy.armed() == 0 && (cut == Cut::WebSocket || reconnected()) {
            settled_at = Some(next);
        }
        if settled_at.is_some_and(|at| next >= at + AFTER) {
            break;
        }
        assert!(
            next < 10_000,
            "{step}: not settled after {next} emits: {} trigger(s) armed, reconnected: {}, \
             proxy {:?}, manager events {:?}",
            proxy.armed(),
            reconnected(),
            proxy.stats(),
            log.events().iter().map(|(_, e)| e).collect::<Vec<_>>()
        );
        while pending.len() < WINDOW {
            let n = next;
            next += 1;
            let ack = socket.emit_with_ack::<_, (u64,)>("numbered", (n,));
            pending.push(Box::pin(async move { (n, ack.await) }));
        }
        let (n, result) = rt
            .within("an ack", pending.next())
            .await
            .expect("emits pending");
        match result {
            Ok((echoed,)) => {
                assert_eq!(echoed, n);
                assert!(acked.insert(n), "{n} acknowledged twice");
            }
            Err(Error::Ack(AckError::Disconnected)) if cut == Cut::All => {
                lost.insert(n);
            }
            Err(e) => panic!("{step}: the ack of {n} failed: {e}"),
        }
    }
    while let Some((n, result)) = rt.within("the last acks", pending.next()).await {
        let (echoed,) = result.unwrap_or_else(|e| panic!("{step}: the ack of {n} failed: {e}"));
        assert_eq!(echoed, n);
        acked.insert(n);
    }

    let arrivals = seen.arrivals();
    let distinct: BTreeSet<u64> = arrivals.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        arrivals.len(),
        "{step}: a number arrived twice"
    );
    assert!(
        acked.is_subset(&distinct),
        "{step}: acknowledged but never arrived"
    );
    let missing: BTreeSet<u64> = (0..next).filter(|n| !distinct.contains(n)).collect();
    assert!(
        missing.is_subset(&lost),
        "{step}: {missing:?} never arrived and no failed ack said so"
    );
    // Only what was in flight at the cut can be lost.
    assert!(lost.len() <= WINDOW, "{step}: {} acks failed", lost.len());
    let transport = match cut {
        Cut::WebSocket => {
            assert!(!reconnected(), "{step}: the session should have continued");
            "polling"
        }
        Cut::All => "websocket",
    };
    rt.settles_on(&socket, transport).await;
    let upgrades = log.count(|e| matches!(e, ManagerEvent::Upgrade(_)));
    println!(
        "{}: cut {step}: emits={next} acked={} lost={} (arrived anyway: {}) reconnections={} upgrades={upgrades} now on {transport}, {:.1}s",
        rt.name,
        acked.len(),
        lost.len(),
        lost.intersection(&distinct).count(),
        log.count(|e| matches!(e, ManagerEvent::Reconnect(_))),
        started.elapsed().as_secs_f64()
    );
}

fn probe() -> Trigger {
    Trigger::websocket_message(Direction::ToClient, "3probe")
}

async fn upgrade_cut_during_probe_continues_on_polling(rt: Rt) {
    let trigger = probe().this_connection_only();
    interrupted(rt, "websocket during probe", trigger, Cut::WebSocket).await;
}

async fn upgrade_cut_during_pause_continues_on_polling(rt: Rt) {
    let trigger = probe().after_forwarding().this_connection_only();
    interrupted(rt, "websocket during pause", trigger, Cut::WebSocket).await;
}

async fn upgrade_cut_during_probe_reconnects(rt: Rt) {
    interrupted(rt, "all during probe", probe(), Cut::All).await;
}

async fn upgrade_cut_during_pause_reconnects(rt: Rt) {
    let trigger = probe().after_forwarding();
    interrupted(rt, "all during pause", trigger, Cut::All).await;
}

async fn upgrade_cut_after_upgrade_packet_reconnects(rt: Rt) {
    let trigger = Trigger::websocket_message(Direction::ToServer, "5").after_forwarding();
    interrupted(rt, "all after 5", trigger, Cut::All).await;
}

on_every_runtime!(
    upgrade_cut_during_probe_continues_on_polling,
    upgrade_cut_during_pause_continues_on_polling,
    upgrade_cut_during_probe_reconnects,
    upgrade_cut_during_pause_reconnects,
    upgrade_cut_after_upgrade_packet_reconnects,
);
