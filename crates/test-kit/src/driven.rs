//! The shape of a client the simulation can drive: the sans-IO loop of `engineio_proto::Client`,
//! which the Socket.IO manager repeats (it forwards its engine's transmits and has events of
//! its own).

use std::fmt;
use std::time::Instant;

use engineio_proto::{Transmit, TransportEvent, TransportId};

/// An output of a driven client: an IO action, or something for the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOutput<E> {
    /// An IO action, performed by the simulation over the link.
    Transmit(Transmit),
    /// An event, recorded by the simulation with its time.
    Event(E),
}

/// A sans-IO client that emits [`Transmit`]s and takes transport reports, like
/// [`engineio_proto::Client`]. Implement it for a wrapper (the Socket.IO manager) to run that
/// wrapper against the fake server.
///
/// This trait is the documented contract of the proto crates' input surface:
/// `engineio_proto::Client` and `socketio_proto::Manager` have exactly these entry points for
/// IO and time, with the same meaning, and every adapter (the async driver, the custom-loop
/// example, the fuzz targets) drives them this way:
///
/// 1. Every IO result is one [`TransportEvent`], passed to [`SansIoClient::handle_transport`]
///    with the [`TransportId`] of the [`Transmit`] that asked for it. Reports about a
///    transport the client has dropped are ignored, never an error.
/// 2. After every input (and after [`SansIoClient::handle_timeout`]),
///    [`SansIoClient::poll_output`] is drained until `None`; outputs keep transmits and events
///    in the order they happened.
/// 3. Then the caller waits for the next IO result or [`SansIoClient::poll_timeout`],
///    whichever comes first, and calls [`SansIoClient::handle_timeout`] when that instant
///    comes (early or repeated calls are harmless).
/// 4. Every entry point takes `now`; time going backwards is treated as no time passing.
///
/// The simulation does exactly this with virtual time.
pub trait SansIoClient {
    /// What the client tells the layer above.
    type Event: Clone + fmt::Debug;

    /// The next transmit or event.
    #[must_use = "outputs are the client's only effect; drain until None"]
    fn poll_output(&mut self) -> Option<ClientOutput<Self::Event>>;

    /// When the client wants [`SansIoClient::handle_timeout`] called.
    #[must_use = "a client whose deadline is not waited for misses its timers"]
    fn poll_timeout(&self) -> Option<Instant>;

    /// Fires what is due.
    fn handle_timeout(&mut self, now: Instant);

    /// What happened on a transport the client asked for: the one input for every IO report.
    fn handle_transport(&mut self, now: Instant, transport: TransportId, event: TransportEvent);

    /// The current instant, told before every drain of [`SansIoClient::poll_output`]. A client
    /// that acts on its own events while they are drained (an application around the manager,
    /// see [`crate::AppClient`]) needs it, as a real event loop would know its clock. The
    /// default ignores it.
    fn set_now(&mut self, now: Instant) {
        let _ = now;
    }
}

impl SansIoClient for engineio_proto::Client {
    type Event = engineio_proto::Event;

    fn poll_output(&mut self) -> Option<ClientOutput<Self::Event>> {
        Some(match engineio_proto::Client::poll_output(self)? {
            engineio_proto::Output::Transmit(t) => ClientOutput::Transmit(t),
            engineio_proto::Output::Event(e) => ClientOutput::Event(e),
        })
    }

    fn poll_timeout(&self) -> Option<Instant> {
        engineio_proto::Client::poll_timeout(self)
    }

    fn handle_timeout(&mut self, now: Instant) {
        engineio_proto::Client::handle_timeout(self, now);
    }

    fn handle_transport(&mut self, now: Instant, transport: TransportId, event: TransportEvent) {
        engineio_proto::Client::handle_transport(self, now, transport, event);
    }
}
