//! A black-holed connection (the proxy keeps it open and swallows every byte both ways):
//! the client notices within pingInterval + pingTimeout, its reconnection attempts (each
//! also black-holed, so each ends at the connect `timeout`) keep to the backoff bounds, and
//! nothing spins while it waits: the process's CPU time over the whole wait is measured.
//! Nothing of the dead connections is kept: the client closes every one of them itself.
//! On long-polling and on WebSocket. Its own test binary, and the two runtimes one after the
//! other, so nothing else adds CPU.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socketio_async::{DisconnectReason, ManagerEvent, SocketEvent};
use socketio_interop::{NodeServer, Rt, options};
use socketio_test_kit::fault_proxy::FaultProxy;

const PING_INTERVAL_MS: u64 = 500;
const PING_TIMEOUT_MS: u64 = 500;
const DELAY_MS: u64 = 300;
const DELAY_MAX_MS: u64 = 1200;
const JITTER: f64 = 0.5;
const CONNECT_TIMEOUT_MS: u64 = 800;
/// Attempts watched while black-holed.
const ATTEMPTS: usize = 3;
/// How late a timer may fire on a busy machine before the scenario calls it wrong.
const LATE_MS: u64 = 400;
/// A spinning client burns a core; a waiting one next to nothing.
const MAX_CPU: f64 = 0.20;

/// The two runtimes' tests take turns: each measures the process's CPU alone.
static ALONE: Mutex<()> = Mutex::new(());

/// User + system CPU time of this process so far (Linux: /proc/self/stat, in clock ticks of
/// 1/100 s, USER_HZ); `None` elsewhere.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is the first, utime the
    // 12th, stime the 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

async fn black_hole(rt: Rt, mode: &str) {
    let ping_interval = PING_INTERVAL_MS.to_string();
    let ping_timeout = PING_TIMEOUT_MS.to_string();
    let server = NodeServer::start(&[
        ("PING_INTERVAL", &ping_interval),
        ("PING_TIMEOUT", &ping_timeout),
    ]);
    let target: SocketAddr = ([127, 0, 0, 1], server.port).into();
    let proxy = FaultProxy::start(target).expect("proxy");
    let options = options(mode)
        .reconnection_delay(Duration::from_millis(DELAY_MS))
        .reconnection_delay_max(Duration::from_millis(DELAY_MAX_MS))
        .randomization_factor(JITTER)
        .timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)));
    let socket = rt.io(&proxy.url(), options).expect("io");
    let manager = socket.io().clone();
    let log: Arc<Mutex<Vec<(Instant, ManagerEvent)>>> = Arc::default();
    let logged = log.clone();
    manager.on(move |e| logged.lock().unwrap().push((Instant::now(), e.clone())));
    let mut manager_events = manager.events();
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    let transport = if mode == "polling" {
        "polling"
    } else {
        "websocket"
    };
    rt.settles_on(&socket, transport).await;
    rt.next_manager_event(&mut manager_events, |e| {
        (e == ManagerEvent::Ping).then_some(())
    })
    .await;

    let cpu_before = cpu_time();
    let hole = Instant::now();
    proxy.black_hole(true);
    let reason = rt.disconnected(&mut events).await;
    let detected = hole.elapsed();
    assert_eq!(reason, DisconnectReason::PingTimeout);
    let window = Duration::from_millis(PING_INTERVAL_MS + PING_TIMEOUT_MS);
    // The last ping came at most one interval before the hole, so the deadline falls
    // between pingTimeout and pingInterval + pingTimeout after it.
    assert!(
        detected + Duration::from_millis(20) >= Duration::from_millis(PING_TIMEOUT_MS)
            && detected <= window + Duration::from_millis(LATE_MS),
        "detected after {detected:?}, window {window:?}"
    );
    for _ in 0..ATTEMPTS {
        rt.next_manager_event(&mut manager_events, |e| {
            matches!(e, ManagerEvent::ReconnectError(_)).then_some(())
        })
        .await;
    }
    let waited = hole.elapsed();
    let cpu = cpu_before
        .zip(cpu_time())
        .map(|(before, after)| (after - before).as_secs_f64() / waited.as_secs_f64());
    // The dead session and the failed attempts leave no connection behind: the client
    // closes each one itself (the hole still keeps the server's closes from it).
    assert!(
        proxy.wait_for(socketio_interop::WAIT, |s| s.accepted
            == s.client_closed + s.cut),
        "{}: the client did not let go of every connection: {:?}",
        rt.name,
        proxy.stats()
    );

    // Each attempt after the failure before it (the close, then each timed-out attempt).
    let history = log.lock().unwrap().clone();
    let close = history
        .iter()
        .position(|(_, e)| matches!(e, ManagerEvent::Close(_)))
        .expect("closed");
    let mut failed_at = history[close].0;
    let mut delays = Vec::new();
    let mut attempt_at = None;
    let mut connect_timeouts = Vec::new();
    for (at, event) in &history[close + 1..] {
        match event {
            ManagerEvent::ReconnectAttempt(_) => {
                delays.push(at.duration_since(failed_at));
                attempt_at = Some(*at);
            }
            ManagerEvent::ReconnectError(_) => {
                failed_at = *at;
                if let Some(started) = attempt_at.take() {
                    connect_timeouts.push(at.duration_since(started));
                }
            }
            _ => {}
        }
    }
    for (i, delay) in delays.iter().enumerate() {
        let base = (DELAY_MS << i) as f64;
        let low = (base * (1.0 - JITTER)).floor() as u64;
        let high = ((base * (1.0 + JITTER)) as u64).min(DELAY_MAX_MS);
        let ms = delay.as_millis() as u64;
        assert!(
            ms + 10 >= low && ms <= high + LATE_MS,
            "attempt {}: {ms} ms, bounds {low}..={high} ms (all: {delays:?})",
            i + 1
        );
    }
    for timeout in &connect_timeouts {
        assert!(*timeout + Duration::from_millis(10) >= Duration::from_millis(CONNECT_TIMEOUT_MS));
    }

    // The link is back: the next attempt gets through.
    proxy.black_hole(false);
    rt.next_event(&mut events, |e| {
        matches!(e, SocketEvent::Connect { .. }).then_some(())
    })
    .await;
    let ms = |ds: &[Duration]| ds.iter().map(|d| d.as_millis()).collect::<Vec<_>>();
    let cpu_figure = cpu.map_or("not measured (no /proc)".to_owned(), |c| {
        format!("{:.1}% of one core", c * 100.0)
    });
    println!(
        "{}: {mode}: detected after {} ms (window {} ms); reconnect delays {:?} ms; connect timeouts {:?} ms; swallowed {} bytes; CPU over {:.1}s of waiting: {cpu_figure}",
        rt.name,
        detected.as_millis(),
        window.as_millis(),
        ms(&delays),
        ms(&connect_timeouts),
        proxy.stats().swallowed,
        waited.as_secs_f64()
    );
    if let Some(cpu) = cpu {
        assert!(
            cpu < MAX_CPU,
            "the client spins while waiting: {cpu_figure}"
        );
    }
}

/// On long-polling, then on WebSocket (after the upgrade).
async fn black_hole_detected_and_waited_out_quietly(rt: Rt) {
    black_hole(rt.clone(), "polling").await;
    black_hole(rt, "upgrade").await;
}

// Like `on_every_runtime!`, each test holding `ALONE` for its whole run.
mod tokio {
    #[test]
    fn black_hole_detected_and_waited_out_quietly() {
        let _alone = super::ALONE.lock().unwrap_or_else(|p| p.into_inner());
        socketio_interop::run_tokio(super::black_hole_detected_and_waited_out_quietly);
    }
}

mod async_std {
    #[test]
    fn black_hole_detected_and_waited_out_quietly() {
        let _alone = super::ALONE.lock().unwrap_or_else(|p| p.into_inner());
        socketio_interop::run_async_std(super::black_hole_detected_and_waited_out_quietly);
    }
}
