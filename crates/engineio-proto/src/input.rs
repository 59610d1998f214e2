//! What the adapter reports back about the transports the client asked for: one
//! [`TransportEvent`] per report, fed to [`crate::Client::handle_transport`].

use std::fmt;

use bytes::Bytes;

use crate::error::IoError;
use crate::error::PollRequest;
use crate::output::WsFrame;
use crate::redact::{HeaderNames, Len};
use crate::request::Header;

/// What happened on a transport the client asked for (one input for every IO report).
///
/// Each [`crate::Transmit`] that starts IO is answered with these, tagged with its
/// [`crate::TransportId`]: an `HttpGet`/`HttpPost` with one `HttpResponse` or `HttpError`; a
/// `WsOpen` with `WsOpen` (then any number of `WsFrame`s and one `WsClose`) or with `WsClose`
/// alone when the handshake fails. Reports about a transport the client has dropped, or that
/// do not fit its state (a frame on a polling transport, a response to a request not in
/// flight), are ignored.
///
/// `Debug` shows no secret: header names without values, bodies and frames as their length.
#[derive(Clone, PartialEq, Eq)]
pub enum TransportEvent {
    /// A polling request got a response.
    HttpResponse {
        /// Which request of the transport was answered.
        request: PollRequest,
        /// The response, whatever its status.
        response: HttpResponse,
    },
    /// A polling request failed without a response (connect, TLS, IO, timeout).
    HttpError {
        /// Which request of the transport failed.
        request: PollRequest,
        /// What the adapter saw, for the close reason.
        error: IoError,
    },
    /// A WebSocket opened; the handshake response's headers (for cookies).
    WsOpen {
        /// The handshake response's headers. The client reads `set-cookie` and `date`; others
        /// may be omitted.
        headers: Vec<Header>,
    },
    /// A WebSocket data frame arrived.
    WsFrame(WsFrame),
    /// A WebSocket closed (`None`: cleanly) or failed, including a refused handshake.
    WsClose {
        /// What failed, or `None` for a clean close. A connection closed or reset without a
        /// close frame ([`IoErrorKind::Closed`](crate::IoErrorKind::Closed)) ends the session
        /// as "transport close", as in the reference, not as "transport error".
        error: Option<IoError>,
    },
}

impl fmt::Debug for TransportEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HttpResponse { request, response } => f
                .debug_struct("HttpResponse")
                .field("request", request)
                .field("response", response)
                .finish(),
            Self::HttpError { request, error } => f
                .debug_struct("HttpError")
                .field("request", request)
                .field("error", error)
                .finish(),
            Self::WsOpen { headers } => f
                .debug_struct("WsOpen")
                .field("headers", &HeaderNames(headers))
                .finish(),
            Self::WsFrame(frame) => {
                // Received frames carry application data; only their size helps a diagnosis.
                let (kind, len) = match frame {
                    WsFrame::Text(t) => ("text", t.len()),
                    WsFrame::Binary(b) => ("binary", b.len()),
                };
                f.debug_struct("WsFrame").field(kind, &Len(len)).finish()
            }
            Self::WsClose { error } => f.debug_struct("WsClose").field("error", error).finish(),
        }
    }
}

/// The response to a polling request, as the adapter received it.
///
/// `Debug` shows the status, the header names (`set-cookie` values are credentials) and the
/// body's length.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// Response headers. The client reads `set-cookie` and `date`; others may be omitted.
    pub headers: Vec<Header>,
    /// The body (decompressed, if the adapter asked for compression).
    pub body: Bytes,
}

impl HttpResponse {
    /// A response with no headers.
    pub fn new(status: u16, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &HeaderNames(&self.headers))
            .field("body", &Len(self.body.len()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_cookies_and_data() {
        let response = HttpResponse {
            status: 200,
            headers: vec![("set-cookie".into(), "session=s3cret".into())],
            body: Bytes::from_static(b"4s3cret"),
        };
        let events = [
            TransportEvent::HttpResponse {
                request: PollRequest::Get,
                response,
            },
            TransportEvent::WsOpen {
                headers: vec![("set-cookie".into(), "session=s3cret".into())],
            },
            TransportEvent::WsFrame(WsFrame::Text(Bytes::from_static(b"4s3cret"))),
            TransportEvent::WsFrame(WsFrame::Binary(Bytes::from_static(b"s3cret"))),
        ];
        for event in events {
            let shown = format!("{event:?}");
            assert!(!shown.contains("s3cret"), "{shown}");
        }
        let shown = format!(
            "{:?}",
            TransportEvent::WsFrame(WsFrame::Text(Bytes::from_static(b"4hello")))
        );
        assert_eq!(shown, "WsFrame { text: <6 bytes> }");
    }
}
