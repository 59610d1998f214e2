//! One Engine.IO session as the server sees it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use engineio_proto::{Message, TransportKind};

use crate::server::app::Outgoing;
use crate::wire::{ConnId, RequestId};

/// The transport a session currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Active {
    Polling,
    WebSocket(ConnId),
}

/// An upgrade in progress.
#[derive(Debug, Clone)]
pub(crate) struct Upgrade {
    pub conn: ConnId,
    /// `2probe` answered: noops are being sent into parked GETs.
    pub probed: bool,
    pub next_noop: Option<Instant>,
    pub deadline: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub sid: String,
    pub active: Active,
    /// Packets waiting for a GET (polling) or already flushed (WebSocket: always empty).
    pub buffer: VecDeque<Outgoing>,
    pub parked_get: Option<RequestId>,
    pub next_ping: Option<Instant>,
    /// Scripted lateness for the next ping, applied when it is scheduled (after the pong).
    pub ping_delay: Duration,
    pub pong_deadline: Option<Instant>,
    pub upgrade: Option<Upgrade>,
    /// The application asked to close once the buffer is flushed.
    pub closing: bool,
    /// Why it closed; `None` while open.
    pub closed: Option<String>,
    /// The client asked for binary as base64 (`b64=1`).
    pub base64: bool,
    pub stats: SessionStats,
}

/// What happened on a session, for assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Pings the server sent.
    pub pings_sent: u32,
    /// Pongs the server received.
    pub pongs_received: u32,
    /// Messages the client sent, in order.
    pub received: Vec<Message>,
    /// Whether the session moved to WebSocket by an upgrade.
    pub upgraded: bool,
}

/// A read-only view of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session id.
    pub sid: String,
    /// The transport in use.
    pub transport: TransportKind,
    /// Why it closed; `None` while open.
    pub closed: Option<String>,
    /// Counters and received messages.
    pub stats: SessionStats,
}

impl Session {
    pub(crate) fn new(sid: String, active: Active, base64: bool) -> Self {
        Self {
            sid,
            active,
            buffer: VecDeque::new(),
            parked_get: None,
            next_ping: None,
            ping_delay: Duration::ZERO,
            pong_deadline: None,
            upgrade: None,
            closing: false,
            closed: None,
            base64,
            stats: SessionStats::default(),
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if !self.is_open() {
            return None;
        }
        let upgrade = self
            .upgrade
            .as_ref()
            .map(|u| u.next_noop.map_or(u.deadline, |n| n.min(u.deadline)));
        [self.next_ping, self.pong_deadline, upgrade]
            .into_iter()
            .flatten()
            .min()
    }

    pub(crate) fn info(&self) -> SessionInfo {
        SessionInfo {
            sid: self.sid.clone(),
            transport: match self.active {
                Active::Polling => TransportKind::Polling,
                Active::WebSocket(_) => TransportKind::WebSocket,
            },
            closed: self.closed.clone(),
            stats: self.stats.clone(),
        }
    }
}
