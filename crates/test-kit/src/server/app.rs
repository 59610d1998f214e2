//! What runs on top of the fake Engine.IO server: the hooks a test (or, later, a fake
//! Socket.IO server) uses to react to sessions and messages.

use std::time::Instant;

use bytes::Bytes;
use engineio_proto::{Message, Packet};

use crate::server::violation::ViolationKind;

/// Something the application asked for during a callback; applied by the server afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppAction {
    Send(Outgoing),
    Close,
    Violation(ViolationKind),
}

/// A packet queued for a session, or raw bytes sent verbatim (to test what a client does with
/// malformed input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A packet, encoded for whichever transport carries it.
    Packet(Packet),
    /// One record of a polling payload / one WebSocket text frame, exactly these bytes.
    Raw(Bytes),
}

/// The session a callback is about, and the way to act on it.
#[derive(Debug)]
pub struct SessionCtx<'a> {
    sid: &'a str,
    now: Instant,
    pub(crate) actions: Vec<AppAction>,
}

impl<'a> SessionCtx<'a> {
    pub(crate) fn new(sid: &'a str, now: Instant) -> Self {
        Self {
            sid,
            now,
            actions: Vec::new(),
        }
    }

    /// The Engine.IO session id.
    pub fn sid(&self) -> &str {
        self.sid
    }

    /// The time of the event.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Queues a message for the client.
    pub fn send(&mut self, message: Message) {
        self.actions
            .push(AppAction::Send(Outgoing::Packet(Packet::Message(message))));
    }

    /// Queues a text message for the client.
    pub fn send_text(&mut self, text: &str) {
        self.send(Message::text(text));
    }

    /// Queues any packet (even one a server should not send).
    pub fn send_packet(&mut self, packet: Packet) {
        self.actions.push(AppAction::Send(Outgoing::Packet(packet)));
    }

    /// Queues raw bytes, sent verbatim as one record or text frame.
    pub fn send_raw(&mut self, raw: impl Into<Bytes>) {
        self.actions
            .push(AppAction::Send(Outgoing::Raw(raw.into())));
    }

    /// Closes the session once what is queued has been sent (the server's `socket.close()`).
    pub fn close(&mut self) {
        self.actions.push(AppAction::Close);
    }

    /// Records a client protocol violation found by the application (a Socket.IO rule, say),
    /// exactly like the server's own: in strict mode it panics with the transcript.
    pub fn violation(&mut self, kind: ViolationKind) {
        self.actions.push(AppAction::Violation(kind));
    }
}

/// The application behind the fake server. Every method has a default that does nothing.
pub trait Application {
    /// A session opened (its open packet is queued; what is sent here follows it in the same
    /// response or right after it on the WebSocket).
    fn on_open(&mut self, ctx: &mut SessionCtx<'_>) {
        let _ = ctx;
    }

    /// The client sent a message.
    fn on_message(&mut self, ctx: &mut SessionCtx<'_>, message: Message) {
        let _ = (ctx, message);
    }

    /// A session closed, with the server's reason ("transport close", "ping timeout", ...).
    fn on_close(&mut self, sid: &str, reason: &str) {
        let _ = (sid, reason);
    }

    /// When the application wants [`Application::on_timeout`] for open session `sid` (a
    /// delayed answer, say); `None` (the default) for never. Folded into the server's
    /// `poll_timeout`, so the simulation jumps to it.
    fn poll_timeout(&self, sid: &str) -> Option<Instant> {
        let _ = sid;
        None
    }

    /// A deadline from [`Application::poll_timeout`] came for the session; it must move or
    /// clear it.
    fn on_timeout(&mut self, ctx: &mut SessionCtx<'_>) {
        let _ = ctx;
    }
}

/// An application that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Application for Silent {}

/// Echoes every message back, like the engine.io protocol test-suite's server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

impl Application for Echo {
    fn on_message(&mut self, ctx: &mut SessionCtx<'_>, message: Message) {
        ctx.send(message);
    }
}
