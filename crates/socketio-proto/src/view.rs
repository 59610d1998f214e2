//! Borrowed views of one namespace socket: [`SocketRef`] to look, [`SocketMut`] to act.

use web_time::Instant;

use engineio_proto::EngineProtocol;

use crate::codec::Payload;
use crate::config::ConfigError;
use crate::emit::{AckReplyError, EmitError, EmitOptions, Emitted};
use crate::event::DisconnectReason;
use crate::manager::{Manager, ReadyState};
use crate::socket::{NspState, Socket};

/// A read-only view of a namespace socket.
pub struct SocketRef<'a, W = ()> {
    manager: &'a Manager<W>,
    socket: &'a Socket<W>,
    index: usize,
}

// Not derived: a view is a pair of references, copyable whatever the waiter type.
impl<W> Clone for SocketRef<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<W> Copy for SocketRef<'_, W> {}

impl<W> std::fmt::Debug for SocketRef<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SocketRef").field(self.socket).finish()
    }
}

impl<'a, W> SocketRef<'a, W> {
    pub(crate) fn new(manager: &'a Manager<W>, index: usize) -> Self {
        Self {
            manager,
            socket: &manager.sockets[index],
            index,
        }
    }

    /// The namespace.
    pub fn nsp(&self) -> &'a str {
        &self.socket.nsp
    }

    /// The socket id the server assigned, while connected.
    pub fn id(&self) -> Option<&'a str> {
        self.socket.id.as_deref()
    }

    /// Whether the namespace is connected.
    pub fn connected(&self) -> bool {
        self.socket.state.is_connected()
    }

    /// Whether the socket (re)connects whenever the manager (re)opens. False after
    /// `disconnect()`, a server DISCONNECT, or a CONNECT_ERROR.
    pub fn active(&self) -> bool {
        self.socket.state.is_active()
    }

    /// Whether the last connection restored the previous session.
    pub fn recovered(&self) -> bool {
        self.socket.recovered
    }

    /// Emits waiting for the namespace to connect.
    pub fn buffered(&self) -> usize {
        self.socket.send_buffer.len()
    }

    /// Emits in the retry queue.
    pub fn queued(&self) -> usize {
        self.socket.queue.len()
    }

    /// Emits waiting for their ack (counted over the manager's ack table: for a look now
    /// and then, not for every packet).
    pub fn pending_acks(&self) -> usize {
        self.manager.acks.count(self.index)
    }
}

/// A mutable view of a namespace socket, borrowed from its [`Manager`].
#[derive(Debug)]
pub struct SocketMut<'a, W = ()> {
    manager: &'a mut Manager<W>,
    index: usize,
}

impl<W: Default> SocketMut<'_, W> {
    /// Emits `payload` (`[event name, args...]`, built with [`Payload::from_serialize`]).
    ///
    /// Written at once when connected; otherwise kept until the namespace connects and then
    /// sent once, in order. Volatile emits are dropped instead when the connection cannot take
    /// them. With `retries`, emits go through the at-least-once queue. With `options.ack`,
    /// the ack's [`crate::Event::Ack`] carries the default waiter (`()` usually): see
    /// [`SocketMut::emit_with_ack`] to hand one of your own.
    pub fn emit(
        &mut self,
        now: Instant,
        payload: Payload,
        options: EmitOptions,
    ) -> Result<Emitted, EmitError> {
        let now = self.manager.clamp(now);
        let waiter = options.ack.then(W::default);
        self.manager.emit(now, self.index, payload, options, waiter)
    }
}

impl<'a, W> SocketMut<'a, W> {
    pub(crate) fn new(manager: &'a mut Manager<W>, index: usize) -> Self {
        Self { manager, index }
    }

    /// A read-only view.
    pub fn get(&self) -> SocketRef<'_, W> {
        SocketRef::new(self.manager, self.index)
    }

    /// Emits `payload` like [`SocketMut::emit`] and asks for an ack (whatever `options.ack`
    /// says): the manager keeps `waiter` with the ack and hands it back in the ack's
    /// [`crate::Event::Ack`], with the server's arguments or why they did not come. A refused
    /// emit drops `waiter`.
    pub fn emit_with_ack(
        &mut self,
        now: Instant,
        payload: Payload,
        options: EmitOptions,
        waiter: W,
    ) -> Result<Emitted, EmitError> {
        let now = self.manager.clamp(now);
        self.manager
            .emit(now, self.index, payload, options, Some(waiter))
    }

    /// Connects the namespace: the socket becomes active, the manager opens if needed, and
    /// CONNECT goes out as soon as the connection is open. No-op when connected.
    pub fn connect(&mut self, now: Instant) {
        let now = self.manager.clamp(now);
        let socket = &mut self.manager.sockets[self.index];
        if socket.state.is_connected() {
            return;
        }
        // Joining again on the engine where a session was left: the new CONNECT's reply
        // tells the new session from the old one.
        let left_session = socket.state.left_session();
        socket.state = socket.state.activated();
        if !self.manager.is_reconnecting() {
            self.manager.open(now);
        }
        if self.manager.ready_state() == ReadyState::Open {
            self.manager
                .connect_namespace(now, self.index, left_session);
        }
    }

    /// Disconnects the namespace ("io client disconnect"): DISCONNECT goes out if connected,
    /// the socket becomes inactive, and the manager closes when no socket is active.
    pub fn disconnect(&mut self, now: Instant) {
        let now = self.manager.clamp(now);
        let socket = &self.manager.sockets[self.index];
        let state = socket.state;
        if state.is_connected() {
            let packet = crate::codec::Packet::disconnect(&socket.nsp);
            self.manager.write(now, &packet);
        }
        // A CONNECT still unanswered stays recorded (see `NspState::Left`).
        let left = state.deactivated();
        if state.is_connected() {
            self.manager
                .socket_closed(now, self.index, DisconnectReason::IoClientDisconnect, left);
        } else {
            self.manager.sockets[self.index].state = left;
        }
        self.manager.maybe_close_after_destroy(now);
    }

    /// Answers the server's ack request `id` (from [`crate::Event::Message`]) with `payload`,
    /// a JSON array of the ack arguments (binary allowed).
    pub fn ack(&mut self, now: Instant, id: u64, payload: Payload) -> Result<(), AckReplyError> {
        let now = self.manager.clamp(now);
        self.manager.reply_ack(now, self.index, id, payload)
    }

    /// Sets the CONNECT payload, used from the next CONNECT on; `None` sends none. Must be a
    /// JSON object without binary. Refused with [`ConfigError::AuthUnsupported`] when the
    /// engine protocol is set to 3 (socket.io 2.x has no CONNECT payload; use the query).
    pub fn set_auth(&mut self, auth: Option<Payload>) -> Result<(), ConfigError> {
        if auth.is_some() && self.manager.config.engine.protocol == EngineProtocol::V3 {
            return Err(ConfigError::AuthUnsupported);
        }
        if let Some(a) = &auth
            && (a.has_binary() || !a.json().starts_with(b"{"))
        {
            return Err(ConfigError::InvalidAuth);
        }
        self.manager.sockets[self.index].auth = auth;
        Ok(())
    }

    /// Drops the emits waiting for the namespace to connect; their acks fail as disconnected.
    pub fn clear_send_buffer(&mut self, now: Instant) {
        let now = self.manager.clamp(now);
        self.manager.sockets[self.index].send_buffer.clear();
        if !self.manager.sockets[self.index].state.is_connected() {
            self.manager.clear_acks(now, self.index);
        }
    }
}

impl<W> Manager<W> {
    /// Sends the CONNECT of a namespace waiting for the engine, now open; `left_session` when
    /// the caller left a session of it on this engine.
    pub(crate) fn connect_namespace(&mut self, now: Instant, index: usize, left_session: bool) {
        let socket = &mut self.sockets[index];
        if socket.state != NspState::WaitingForEngine {
            return;
        }
        if self.legacy.is_some() {
            return self.connect_namespace_legacy(now, index, left_session);
        }
        socket.state = NspState::ConnectSent { left_session };
        let packet = crate::codec::Packet::connect(&socket.nsp, socket.connect_payload());
        self.write(now, &packet);
    }
}
