//! Your application on top of the manager, driven by the simulation: the manager's transmits
//! go on the link, and each of its events is handed to the application at the virtual instant
//! it happens, as your own event loop would.

use std::time::Instant;

use engineio_proto::{TransportEvent, TransportId};
use socketio_proto::{Event, Manager, ManagerConfig};

use super::server::SioServer;
use crate::driven::{ClientOutput, SansIoClient};
use crate::sim::{Sim, SimConfig};

/// Client-side application logic written against the sans-IO [`Manager`]: it reacts to the
/// manager's events (emitting, answering acks, connecting namespaces...) through the manager
/// it is given.
///
/// This is also the shape of a production loop: drain `manager.poll_output()`, perform each
/// transmit, and give each event to `on_event` with the loop's `now`. In a simulation,
/// [`AppClient`] does that for you on virtual time.
pub trait SioApp {
    /// Handles one event of the manager, at the instant it happened.
    fn on_event(&mut self, manager: &mut Manager, now: Instant, event: &Event);
}

/// A [`SioApp`] with the manager it talks through: a [`SansIoClient`] the simulation drives.
/// Every manager event is handed to [`SioApp::on_event`] while the simulation drains the
/// outputs (what the application does in response goes out at the same instant), and is
/// recorded in [`Sim::events`] as usual.
///
/// Act on the application from a test with [`Sim::with_client`]:
/// `sim.with_client(|c, now| c.app.send(&mut c.manager, now, "hi"))`.
#[derive(Debug)]
pub struct AppClient<A> {
    /// The manager.
    pub manager: Manager,
    /// The application.
    pub app: A,
    now: Instant,
}

impl<A> AppClient<A> {
    /// Puts `app` on `manager`; `now` is the current instant.
    pub fn new(manager: Manager, app: A, now: Instant) -> Self {
        Self { manager, app, now }
    }
}

impl<A: SioApp> SansIoClient for AppClient<A> {
    type Event = Event;

    fn poll_output(&mut self) -> Option<ClientOutput<Event>> {
        let output = SansIoClient::poll_output(&mut self.manager)?;
        if let ClientOutput::Event(event) = &output {
            self.app.on_event(&mut self.manager, self.now, event);
        }
        Some(output)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        SansIoClient::poll_timeout(&self.manager)
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        SansIoClient::handle_timeout(&mut self.manager, now);
    }

    fn handle_transport(&mut self, now: Instant, transport: TransportId, event: TransportEvent) {
        self.now = now;
        self.manager.handle_transport(now, transport, event);
    }

    fn set_now(&mut self, now: Instant) {
        self.now = now;
    }
}

/// An application on the Socket.IO manager against the fake Socket.IO server.
pub type AppSim<A> = Sim<AppClient<A>, SioServer>;

/// A simulation of `app` on a manager built from `client` against `server` (see
/// [`crate::sio_sim`]; use a `config` whose server path matches the manager's, such as
/// [`crate::sio_server_config`]).
///
/// # Panics
///
/// If `client` is invalid.
pub fn app_sim<A: SioApp>(
    config: SimConfig,
    server: SioServer,
    client: ManagerConfig,
    app: A,
) -> AppSim<A> {
    Sim::new(config, server, move |now, rng| {
        let manager =
            Manager::new(client, now, Box::new(rng.fork())).expect("a valid ManagerConfig");
        AppClient::new(manager, app, now)
    })
}
