//! The shape of a client the simulation can drive: the sans-IO loop of `engineio_proto::Client`,
//! which the Socket.IO manager repeats (it forwards its engine's transmits and has events of
//! its own).

use std::fmt;
use std::time::Instant;

use engineio_proto::{Header, HttpResponse, PollRequest, Transmit, TransportId, WsFrame};

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
/// The simulation calls the `handle_*` methods with virtual time, drains
/// [`SansIoClient::poll_output`] after each, and calls [`SansIoClient::handle_timeout`] when
/// [`SansIoClient::poll_timeout`] comes.
pub trait SansIoClient {
    /// What the client tells the layer above.
    type Event: Clone + fmt::Debug;

    /// The next transmit or event.
    fn poll_output(&mut self) -> Option<ClientOutput<Self::Event>>;

    /// When the client wants [`SansIoClient::handle_timeout`] called.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Fires what is due.
    fn handle_timeout(&mut self, now: Instant);

    /// A polling request got a response.
    fn handle_http_response(
        &mut self,
        now: Instant,
        transport: TransportId,
        request: PollRequest,
        response: HttpResponse,
    );

    /// A polling request failed without a response.
    fn handle_http_error(
        &mut self,
        now: Instant,
        transport: TransportId,
        request: PollRequest,
        description: String,
    );

    /// A WebSocket opened.
    fn handle_ws_open(&mut self, now: Instant, transport: TransportId, headers: &[Header]);

    /// A WebSocket frame arrived.
    fn handle_ws_frame(&mut self, now: Instant, transport: TransportId, frame: WsFrame);

    /// A WebSocket closed (`None`: cleanly) or failed to open.
    fn handle_ws_close(&mut self, now: Instant, transport: TransportId, error: Option<String>);

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

    fn handle_http_response(
        &mut self,
        now: Instant,
        transport: TransportId,
        request: PollRequest,
        response: HttpResponse,
    ) {
        engineio_proto::Client::handle_http_response(self, now, transport, request, response);
    }

    fn handle_http_error(
        &mut self,
        now: Instant,
        transport: TransportId,
        request: PollRequest,
        description: String,
    ) {
        engineio_proto::Client::handle_http_error(self, now, transport, request, description);
    }

    fn handle_ws_open(&mut self, now: Instant, transport: TransportId, headers: &[Header]) {
        engineio_proto::Client::handle_ws_open(self, now, transport, headers);
    }

    fn handle_ws_frame(&mut self, now: Instant, transport: TransportId, frame: WsFrame) {
        engineio_proto::Client::handle_ws_frame(self, now, transport, frame);
    }

    fn handle_ws_close(&mut self, now: Instant, transport: TransportId, error: Option<String>) {
        engineio_proto::Client::handle_ws_close(self, now, transport, error);
    }
}
