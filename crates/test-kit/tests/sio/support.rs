//! Building simulations of the Socket.IO manager against the fake Socket.IO server, and
//! reading what happened.
#![allow(dead_code)]

use std::time::Duration;

use engineio_proto::TransportKind;
use serde::Serialize;
use socketio_proto::codec::Payload;
use socketio_proto::{AckError, EmitId, EmitOptions, Emitted, Event, ManagerConfig, SocketConfig};
use socketio_test_kit::{
    LinkConfig, ServerConfig, SimConfig, SioConfig, SioServer, SioSim, sio_server_config, sio_sim,
};

pub const MS: Duration = Duration::from_millis(1);

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Transport choices: polling only, WebSocket only, polling then upgrade.
pub const POLLING: &[TransportKind] = &[TransportKind::Polling];
pub const WEBSOCKET: &[TransportKind] = &[TransportKind::WebSocket];
pub const UPGRADE: &[TransportKind] = &[TransportKind::Polling, TransportKind::WebSocket];

/// A manager config for the simulated server.
pub fn client_config(transports: &[TransportKind]) -> ManagerConfig {
    let mut c = ManagerConfig::new("http://localhost:3000").unwrap();
    c.engine.transports = transports.to_vec();
    c
}

/// The server's Engine.IO side: Node defaults at `/socket.io/`, a 1 s heartbeat.
pub fn engine_server() -> ServerConfig {
    sio_server_config().with_heartbeat(1000, 500)
}

/// A simulation over a fixed 1 ms link.
pub fn sim(seed: u64, server: SioConfig, client: ManagerConfig) -> SioSim {
    sim_with(seed, LinkConfig::fixed(MS), engine_server(), server, client)
}

/// A simulation with everything chosen.
pub fn sim_with(
    seed: u64,
    link: LinkConfig,
    engine: ServerConfig,
    server: SioConfig,
    client: ManagerConfig,
) -> SioSim {
    let config = SimConfig::new(seed).link(link).server(engine);
    sio_sim(config, SioServer::new(server), client)
}

/// A payload from any serializable value.
pub fn payload<T: Serialize + ?Sized>(v: &T) -> Payload {
    Payload::from_serialize(v).unwrap()
}

/// Adds and connects the socket for `nsp`.
pub fn connect(sim: &mut SioSim, nsp: &str, config: SocketConfig) {
    sim.with_client(|m, now| m.add_socket(nsp, config).unwrap().connect(now));
}

/// Emits on `nsp` now.
pub fn emit(sim: &mut SioSim, nsp: &str, event: Payload, options: EmitOptions) -> Emitted {
    sim.with_client(|m, now| m.socket_mut(nsp).unwrap().emit(now, event, options))
        .unwrap()
}

/// A socket config with an ack timeout.
pub fn with_ack_timeout(ms: u64) -> SocketConfig {
    let mut c = SocketConfig::default();
    c.ack_timeout = Some(Duration::from_millis(ms));
    c
}

/// A socket config with retries.
pub fn retrying(retries: u32, ack_timeout_ms: u64) -> SocketConfig {
    let mut c = with_ack_timeout(ack_timeout_ms);
    c.retries = Some(retries);
    c
}

/// Runs until `nsp` is connected on the client (at most 10 s).
pub fn until_connected(sim: &mut SioSim, nsp: &str) {
    until_connected_within(sim, nsp, Duration::from_secs(10));
}

/// Runs until `nsp` is connected on the client (at most `limit`).
pub fn until_connected_within(sim: &mut SioSim, nsp: &str, limit: Duration) {
    let ok = sim.run_until(limit, |s| {
        s.client().socket(nsp).is_some_and(|s| s.connected())
    });
    assert!(ok, "{nsp} did not connect:\n{}", sim.transcript());
}

/// The client's events without the noise (pings, the upgrade memory), with their times.
pub fn timed_events(sim: &SioSim) -> Vec<(Duration, Event)> {
    sim.events()
        .iter()
        .filter(|(_, e)| !matches!(e, Event::Ping | Event::RememberUpgrade(_)))
        .cloned()
        .collect()
}

/// The client's events without the noise.
pub fn events(sim: &SioSim) -> Vec<Event> {
    timed_events(sim).into_iter().map(|(_, e)| e).collect()
}

/// The events received on `nsp`, as JSON text (the recovery offset apart).
pub fn messages(sim: &SioSim, nsp: &str) -> Vec<String> {
    sim.events()
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Message {
                nsp: n, payload, ..
            } if n == nsp => Some(text(payload)),
            _ => None,
        })
        .collect()
}

/// The ack results, as JSON text, in order.
pub fn acks(sim: &SioSim) -> Vec<(EmitId, Result<String, AckError>)> {
    sim.events()
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Ack { emit, result, .. } => {
                Some((*emit, result.as_ref().map(text).map_err(|e| *e)))
            }
            _ => None,
        })
        .collect()
}

/// A payload's JSON text.
pub fn text(p: &Payload) -> String {
    String::from_utf8(p.json().to_vec()).unwrap()
}

/// Where each event matching `f` is in the event list (to compare orders).
pub fn position(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events
        .iter()
        .position(f)
        .unwrap_or_else(|| panic!("no such event in {events:#?}"))
}
