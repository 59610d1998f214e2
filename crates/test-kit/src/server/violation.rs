//! Client behaviour the protocol forbids, detected by the fake server or the simulation.

use std::fmt;
use std::time::Duration;

/// What the client did wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ViolationKind {
    /// A second GET while one is parked (the reference server kills the session).
    ConcurrentGet,
    /// A second GET issued by the client while its first had not come back.
    GetWhileGetInFlight,
    /// A second POST issued by the client while its first had not come back.
    PostWhilePostInFlight,
    /// A bare `2` from the client ("invalid heartbeat direction").
    ClientPing,
    /// A `3` with no ping outstanding.
    UnsolicitedPong,
    /// A packet that makes no sense where it arrived.
    UnexpectedPacket(String),
    /// A body or frame that does not decode.
    Malformed(String),
    /// A request the server cannot route (wrong path, missing or bad `EIO`/`transport`).
    BadRequest(String),
    /// `5` arrived while a polling request was still in flight.
    UpgradeWhileBusy,
    /// A frame sent on a WebSocket before it opened or after it closed.
    FrameOnClosedWebSocket,
    /// A POST body that is not `text/plain`.
    BadContentType(String),
    /// A Socket.IO server rule broken (protocol.md 2.4: a packet for a namespace not
    /// connected yet, a second CONNECT, a CONNECT_ERROR from the client, a packet that does
    /// not decode); found by the fake Socket.IO server.
    SocketIo(String),
}

/// One violation: when, on which session, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Simulated time since the start.
    pub at: Duration,
    /// The session, when known.
    pub sid: Option<String>,
    /// What happened.
    pub kind: ViolationKind,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {:?}", self.at)?;
        if let Some(sid) = &self.sid {
            write!(f, " (sid {sid})")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            ViolationKind::ConcurrentGet => f.write_str("a second GET while one is parked"),
            ViolationKind::GetWhileGetInFlight => {
                f.write_str("the client issued a GET while its previous GET was in flight")
            }
            ViolationKind::PostWhilePostInFlight => {
                f.write_str("the client issued a POST while its previous POST was in flight")
            }
            ViolationKind::ClientPing => f.write_str("the client sent a ping (v4: server pings)"),
            ViolationKind::UnsolicitedPong => f.write_str("a pong with no ping outstanding"),
            ViolationKind::UnexpectedPacket(p) => write!(f, "unexpected packet {p}"),
            ViolationKind::Malformed(what) => write!(f, "malformed input: {what}"),
            ViolationKind::BadRequest(what) => write!(f, "bad request: {what}"),
            ViolationKind::UpgradeWhileBusy => {
                f.write_str("upgrade packet while a polling request was in flight")
            }
            ViolationKind::FrameOnClosedWebSocket => {
                f.write_str("a frame on a WebSocket that is not open")
            }
            ViolationKind::BadContentType(ct) => write!(f, "POST with content type {ct:?}"),
            ViolationKind::SocketIo(what) => write!(f, "Socket.IO rule broken: {what}"),
        }
    }
}
