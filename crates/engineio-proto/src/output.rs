//! What the client asks the adapter to do ([`Transmit`]) and what it tells the layer above
//! ([`Event`]). What the adapter reports back is in [`crate::TransportEvent`].

use std::fmt;

use bytes::Bytes;
use url::Url;

use crate::config::TransportKind;
use crate::error::CloseReason;
use crate::handshake::Handshake;
use crate::packet::Message;
use crate::redact::{HeaderNames, Len, display_url};
use crate::request::Header;

/// Names one transport (one polling session or one WebSocket) for the lifetime of a client.
/// Reports about a transport the client has dropped are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransportId(pub u64);

/// A WebSocket frame, either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    /// A text frame. Received text must be UTF-8 (WebSocket libraries check it).
    Text(Bytes),
    /// A binary frame.
    Binary(Bytes),
}

/// An IO action for the adapter. Results come back as [`crate::TransportEvent`]s through
/// [`crate::Client::handle_transport`] with the same [`TransportId`].
///
/// `Debug` shows no secret: header names without values, the URL with the caller's query
/// values hidden (see [`crate::redact::display_url`]), bodies and frames as their length.
#[derive(Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Send a polling GET and report [`crate::TransportEvent::HttpResponse`] or
    /// [`crate::TransportEvent::HttpError`] (`PollRequest::Get`).
    HttpGet {
        /// The polling transport.
        transport: TransportId,
        /// The full request URL.
        url: Url,
        /// Headers to add.
        headers: Vec<Header>,
    },
    /// Send a polling POST with this body and report the response or the failure
    /// (`PollRequest::Post`).
    HttpPost {
        /// The polling transport.
        transport: TransportId,
        /// The full request URL.
        url: Url,
        /// Headers to add (including the content type).
        headers: Vec<Header>,
        /// The encoded payload.
        body: Bytes,
    },
    /// Open a WebSocket and report [`crate::TransportEvent::WsOpen`] or
    /// [`crate::TransportEvent::WsClose`]; then every frame received as
    /// [`crate::TransportEvent::WsFrame`], and the end as [`crate::TransportEvent::WsClose`].
    WsOpen {
        /// The new transport's id.
        transport: TransportId,
        /// The `ws://` or `wss://` URL.
        url: Url,
        /// Headers for the handshake request.
        headers: Vec<Header>,
        /// Sub-protocols to offer.
        protocols: Vec<String>,
    },
    /// Send one frame on an open WebSocket.
    WsSend {
        /// The WebSocket.
        transport: TransportId,
        /// The frame.
        frame: WsFrame,
    },
    /// Close the WebSocket (a close frame without a status code), or abandon it if it is still
    /// connecting. No report is needed.
    WsClose {
        /// The WebSocket.
        transport: TransportId,
    },
}

impl fmt::Debug for Transmit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HttpGet {
                transport,
                url,
                headers,
            } => f
                .debug_struct("HttpGet")
                .field("transport", transport)
                .field("url", &display_url(url))
                .field("headers", &HeaderNames(headers))
                .finish(),
            Self::HttpPost {
                transport,
                url,
                headers,
                body,
            } => f
                .debug_struct("HttpPost")
                .field("transport", transport)
                .field("url", &display_url(url))
                .field("headers", &HeaderNames(headers))
                .field("body", &Len(body.len()))
                .finish(),
            Self::WsOpen {
                transport,
                url,
                headers,
                protocols,
            } => f
                .debug_struct("WsOpen")
                .field("transport", transport)
                .field("url", &display_url(url))
                .field("headers", &HeaderNames(headers))
                .field("protocols", protocols)
                .finish(),
            Self::WsSend { transport, frame } => {
                let (kind, len) = match frame {
                    WsFrame::Text(t) => ("text", t.len()),
                    WsFrame::Binary(b) => ("binary", b.len()),
                };
                f.debug_struct("WsSend")
                    .field("transport", transport)
                    .field(kind, &Len(len))
                    .finish()
            }
            Self::WsClose { transport } => f
                .debug_struct("WsClose")
                .field("transport", transport)
                .finish(),
        }
    }
}

/// Something that happened to the session, in order with the transmits.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake completed: the session is open and messages flow.
    Open(Handshake),
    /// A message from the server.
    Message(Message),
    /// A heartbeat: the server pinged (v4; the pong is already queued), or the server answered
    /// the client's ping (v3).
    Ping,
    /// A probe succeeded; the client is pausing polling to switch to this transport.
    Upgrading(TransportKind),
    /// The session moved to this transport.
    Upgrade(TransportKind),
    /// An upgrade probe failed; the session stays on polling.
    UpgradeError {
        /// The transport that was probed.
        transport: TransportKind,
        /// Why: "probe error", "probe timeout", or what closed the probe.
        description: String,
    },
    /// Whether a WebSocket worked in this session. Keep the last value and pass it to the next
    /// [`crate::Client::new`] when `remember_upgrade` is on.
    RememberUpgrade(bool),
    /// The session ended. Nothing more follows.
    Close(CloseReason),
}

/// The next thing for the adapter or the layer above: drained by [`crate::Client::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// An IO action.
    Transmit(Transmit),
    /// A session event.
    Event(Event),
}
