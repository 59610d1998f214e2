//! Faults against the real Node.js server, through the test kit's fault-injecting TCP proxy
//! ([`socketio_test_kit::fault_proxy`]) or by killing the server: restarts under a numbered
//! stream with retries, connection state recovery across cuts, refused reconnections and the
//! backoff, the upgrade interrupted at each step, and a slow link. Each scenario prints its
//! figures (run with `--nocapture`); docs/robustness.md records them. The black hole, which
//! also measures CPU, has its own binary (`tests/faults_black_hole.rs`).

mod binary;
mod recovery;
mod refused;
mod restarts;
mod slow_link;
mod upgrade;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use socketio_async::{Manager, ManagerEvent};
use socketio_interop::NodeServer;
use socketio_test_kit::fault_proxy::FaultProxy;

/// Emits waiting for their acks, each with its number.
type Pending = futures_util::stream::FuturesUnordered<
    futures_util::future::BoxFuture<'static, (u64, Result<(u64,), socketio_async::Error>)>,
>;

/// A proxy in front of the server.
fn proxy_to(server: &NodeServer) -> FaultProxy {
    let target: SocketAddr = ([127, 0, 0, 1], server.port).into();
    FaultProxy::start(target).expect("the fault proxy starts")
}

/// Every manager event with the instant a listener saw it (listeners run as the client
/// processes each event, so the instants are those of the client's own steps).
#[derive(Clone, Default)]
struct ManagerLog(Arc<Mutex<Vec<(Instant, ManagerEvent)>>>);

impl ManagerLog {
    fn attach(manager: &Manager) -> Self {
        let log = Self::default();
        let events = log.0.clone();
        manager.on(move |e| events.lock().unwrap().push((Instant::now(), e.clone())));
        log
    }

    fn events(&self) -> Vec<(Instant, ManagerEvent)> {
        self.0.lock().unwrap().clone()
    }

    fn count(&self, pick: impl Fn(&ManagerEvent) -> bool) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, e)| pick(e))
            .count()
    }
}

/// A file for the server's SEEN_FILE tally, removed when dropped.
struct SeenFile(PathBuf);

impl SeenFile {
    fn new(test: &str, rt: &socketio_interop::Rt) -> Self {
        let name = format!("sio-faults-{}-{test}-{}.txt", std::process::id(), rt.name);
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    fn env(&self) -> (&'static str, &str) {
        ("SEEN_FILE", self.0.to_str().expect("a UTF-8 temp path"))
    }

    /// Every arrival so far, in arrival order.
    fn arrivals(&self) -> Vec<u64> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
            .lines()
            .map(|l| l.parse().expect("a number per line"))
            .collect()
    }
}

impl Drop for SeenFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Waits until the socket is connected, through failed attempts (while a server restarts,
/// each refused attempt is a connect error).
async fn connected_again(
    rt: &socketio_interop::Rt,
    socket: &socketio_async::Socket,
    events: &mut (impl futures_util::Stream<Item = socketio_async::SocketEvent> + Unpin),
) {
    if socket.connected() {
        return;
    }
    rt.next_event(events, |e| {
        matches!(e, socketio_async::SocketEvent::Connect { .. }).then_some(())
    })
    .await;
}
