//! The Socket.IO manager as a client the simulation drives: its transmits are its engine's,
//! its events are [`socketio_proto::Event`]s.

use std::time::Instant;

use engineio_proto::{TransportEvent, TransportId};
use socketio_proto::{Event, Manager, Output};

use crate::driven::{ClientOutput, SansIoClient};

/// How many follow-up steps due at the same instant one `handle_timeout` takes.
const SAME_INSTANT_STEPS: usize = 4;

impl SansIoClient for Manager {
    type Event = Event;

    fn poll_output(&mut self) -> Option<ClientOutput<Event>> {
        Some(match Manager::poll_output(self)? {
            Output::Transmit(t) => ClientOutput::Transmit(t),
            Output::Event(e) => ClientOutput::Event(e),
        })
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Manager::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        Manager::handle_timeout(self, now);
        // The manager announces a reconnection attempt one `handle_timeout` before it opens
        // the engine (so a caller can change auth on `ReconnectAttempt`): that second step is
        // due at the same instant. Nobody can act in between inside the simulation, so it is
        // taken here; the simulation's own check still catches a deadline that never clears.
        for _ in 0..SAME_INSTANT_STEPS {
            if Manager::poll_timeout(self).is_none_or(|at| at > now) {
                break;
            }
            Manager::handle_timeout(self, now);
        }
    }

    fn handle_transport(&mut self, now: Instant, transport: TransportId, event: TransportEvent) {
        Manager::handle_transport(self, now, transport, event);
    }
}
