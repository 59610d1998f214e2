//! TEMPORARY: the single transport input, until engineio-proto has it.

use std::time::Instant;

use engineio_proto::{Header, HttpResponse, PollRequest, TransportId, WsFrame};
use socketio_proto::Manager;

pub(crate) enum TransportEvent {
    HttpResponse {
        request: PollRequest,
        response: HttpResponse,
    },
    HttpError {
        request: PollRequest,
        description: String,
    },
    WsOpen {
        headers: Vec<Header>,
    },
    WsFrame(WsFrame),
    WsClose {
        error: Option<String>,
    },
}

pub(crate) trait HandleTransport {
    fn handle_transport(&mut self, now: Instant, transport: TransportId, event: TransportEvent);
}

impl HandleTransport for Manager {
    fn handle_transport(&mut self, now: Instant, transport: TransportId, event: TransportEvent) {
        match event {
            TransportEvent::HttpResponse { request, response } => {
                self.handle_http_response(now, transport, request, response)
            }
            TransportEvent::HttpError {
                request,
                description,
            } => self.handle_http_error(now, transport, request, description),
            TransportEvent::WsOpen { headers } => self.handle_ws_open(now, transport, &headers),
            TransportEvent::WsFrame(frame) => self.handle_ws_frame(now, transport, frame),
            TransportEvent::WsClose { error } => self.handle_ws_close(now, transport, error),
        }
    }
}
