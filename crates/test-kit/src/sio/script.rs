//! Scripted steps of the fake Socket.IO server (server emits, acks requests, DISCONNECT), and
//! building a simulation of the manager against it.

use std::time::Instant;

use socketio_proto::codec::Payload;
use socketio_proto::{Manager, ManagerConfig};

use super::server::{ServerEmit, SioServer};
use crate::server::{FakeServer, ServerConfig};
use crate::sim::{Sim, SimConfig};

/// The Socket.IO manager against the fake Socket.IO server.
pub type SioSim = Sim<Manager, SioServer>;

/// The fake server's options for Socket.IO: the Node defaults at `/socket.io/`, where the
/// manager connects by default.
pub fn sio_server_config() -> ServerConfig {
    ServerConfig::default().with_path("/socket.io/")
}

/// A simulation of a manager built from `client` against `server`. The manager's randomness
/// (backoff jitter, cache-busters) comes from the simulation's seed. Use a `config` whose
/// server path matches the manager's ([`sio_server_config`]).
///
/// # Panics
///
/// If `client` is invalid.
pub fn sio_sim(config: SimConfig, server: SioServer, client: ManagerConfig) -> SioSim {
    Sim::new(config, server, move |now, rng| {
        Manager::new(client, now, Box::new(rng.fork())).expect("a valid ManagerConfig")
    })
}

/// Scripted server steps. Each acts on the latest socket of a namespace; `None` when the
/// namespace never had one.
impl FakeServer<SioServer> {
    /// Emits `event` (`[name, args...]`, binary allowed) to namespace `nsp`; with recovery on,
    /// an offset is appended, and while the socket is disconnected (but recoverable) the event
    /// is only stored, for a recovery to replay.
    pub fn sio_emit(&mut self, now: Instant, nsp: &str, event: Payload) -> Option<ServerEmit> {
        self.sio_emit_with(now, nsp, event, false, false)
    }

    /// Emits `event` asking the client for an ack ([`ServerEmit::ack`] is its id); the answer
    /// is recorded in [`SioServer::client_acks`].
    pub fn sio_emit_with_ack(
        &mut self,
        now: Instant,
        nsp: &str,
        event: Payload,
    ) -> Option<ServerEmit> {
        self.sio_emit_with(now, nsp, event, true, false)
    }

    /// Emits `event` as volatile: no offset, never stored.
    pub fn sio_emit_volatile(
        &mut self,
        now: Instant,
        nsp: &str,
        event: Payload,
    ) -> Option<ServerEmit> {
        self.sio_emit_with(now, nsp, event, false, true)
    }

    fn sio_emit_with(
        &mut self,
        now: Instant,
        nsp: &str,
        event: Payload,
        ack: bool,
        volatile: bool,
    ) -> Option<ServerEmit> {
        let (emit, target, messages) = self.app_mut().emit(now, nsp, event, ack, volatile)?;
        if let Some(sid) = target {
            for m in messages {
                self.send(now, &sid, m);
            }
        }
        Some(emit)
    }

    /// Disconnects namespace `nsp` from the server side (`1[/nsp,]`: "io server disconnect"
    /// for the client, not recoverable). With `close_engine` the Engine.IO session is closed
    /// too when no namespace is left on it (the Node `socket.disconnect(true)`). Returns
    /// whether the namespace was connected.
    pub fn sio_disconnect(&mut self, now: Instant, nsp: &str, close_engine: bool) -> bool {
        let Some((sid, messages)) = self.app_mut().disconnect(now, nsp) else {
            return false;
        };
        for m in messages {
            self.send(now, &sid, m);
        }
        if close_engine && self.app().is_empty(&sid) {
            self.close(now, &sid);
        }
        true
    }
}
