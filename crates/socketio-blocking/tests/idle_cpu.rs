//! An idle client costs no CPU: its IO thread sleeps in the OS between heartbeats instead of
//! polling. Measured from the thread's own CPU counters in `/proc` over a few seconds of real
//! idle time with a 500 ms heartbeat, on every transport mode. One test in its own binary, so
//! that exactly one IO thread is alive at a time and the counters are its own.

#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use socketio_blocking::{Client, Event, IO_THREAD_NAME, Options, TransportKind};
use socketio_test_kit::node::NodeServer;

/// The idle stretch measured.
const IDLE: Duration = Duration::from_secs(3);

/// User plus system CPU time of the one thread named [`IO_THREAD_NAME`], in clock ticks.
fn io_thread_ticks() -> u64 {
    let mut found = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("/proc") {
        let dir = task.expect("task").path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end() != IO_THREAD_NAME {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).expect("stat");
        // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
        let rest = &stat[stat.rfind(')').expect("comm end") + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: u64 = fields[11].parse().expect("utime");
        let stime: u64 = fields[12].parse().expect("stime");
        found.push(utime + stime);
    }
    assert_eq!(found.len(), 1, "exactly one IO thread");
    found[0]
}

fn clock_ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

#[test]
fn an_idle_client_sleeps_between_heartbeats() {
    let server = NodeServer::start(&[("PING_INTERVAL", "500"), ("PING_TIMEOUT", "500")]);
    let hz = clock_ticks_per_second();
    for (mode, transports, expected) in [
        ("polling", vec![TransportKind::Polling], "polling"),
        ("websocket", vec![TransportKind::WebSocket], "websocket"),
        (
            "upgrade",
            vec![TransportKind::Polling, TransportKind::WebSocket],
            "websocket",
        ),
    ] {
        let client = Client::connect(&server.url(), Options::default().transports(transports))
            .expect("connect");
        // Idle means after the upgrade, if any.
        let settle = Instant::now() + Duration::from_secs(10);
        loop {
            let (transport,): (String,) = client
                .call("transport", (), Duration::from_secs(10))
                .expect("transport");
            if transport == expected {
                break;
            }
            assert!(Instant::now() < settle, "{mode}: still on {transport}");
        }
        let before = io_thread_ticks();
        let started = Instant::now();
        // Real idle time is the point of this test: the heartbeat runs six times meanwhile.
        std::thread::sleep(IDLE);
        let ticks = io_thread_ticks() - before;
        let elapsed = started.elapsed();
        let share = ticks as f64 / hz as f64 / elapsed.as_secs_f64();
        assert!(
            share < 0.05,
            "{mode}: the IO thread used {:.1}% of a core while idle ({ticks} ticks in {elapsed:?})",
            share * 100.0
        );
        // The heartbeats were answered: still connected, no disconnection meanwhile.
        assert!(client.connected(), "{mode}");
        while let Some(event) = client.receive(Duration::ZERO).expect("open") {
            assert!(!matches!(event, Event::Disconnect(_)), "{mode}: {event:?}");
        }
        eprintln!("{mode}: {ticks} ticks of CPU in {elapsed:?} idle");
        client.close();
    }
}
