//! Emits, acks both ways, the send and receive buffers, and the retry queue.

use std::fmt;
use std::time::Duration;
use web_time::Instant;

use crate::ack::{AckKey, AckWaiter, PendingAck};
use crate::codec::{Packet, Payload, RESERVED_EVENTS};
use crate::event::{AckError, EmitId, Event};
use crate::manager::Manager;
use crate::socket::{Buffered, Queued};

/// How to emit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmitOptions {
    /// Ask the server for an ack; its result comes as [`Event::Ack`], with the manager's
    /// default waiter ([`crate::SocketMut::emit_with_ack`] gives one of the caller's own).
    pub ack: bool,
    /// The ack timeout for this emit, instead of the socket's `ack_timeout`.
    pub timeout: Option<Duration>,
    /// Drop the emit rather than buffer it when the connection cannot take it now.
    pub volatile: bool,
}

impl EmitOptions {
    /// An emit that asks for an ack.
    pub fn with_ack() -> Self {
        Self {
            ack: true,
            ..Self::default()
        }
    }

    /// Sets the ack timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Makes the emit volatile.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }
}

/// What became of an emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmitStatus {
    /// Handed to the engine (it may still wait in the engine's write buffer).
    Written,
    /// Kept until the namespace connects.
    Buffered,
    /// In the retry queue behind earlier emits.
    Queued,
    /// Volatile and the connection could not take it: dropped.
    Dropped,
}

/// The outcome of [`crate::SocketMut::emit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emitted {
    /// Names the emit in its [`Event::Ack`].
    pub id: EmitId,
    /// What happened to it.
    pub status: EmitStatus,
}

/// An emit the caller got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmitError {
    /// The event name is reserved by Socket.IO (`connect`, `disconnect`, ...).
    ReservedEvent(String),
    /// The payload is not `[event name, args...]` with a string or number name.
    NotAnEvent,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedEvent(name) => write!(
                f,
                "{name:?} is a reserved event name and cannot be emitted: choose another name"
            ),
            Self::NotAnEvent => f.write_str(
                "an emit payload must be an array whose first element is the event name",
            ),
        }
    }
}

impl std::error::Error for EmitError {}

/// An ack the caller cannot send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AckReplyError {
    /// The server did not ask for this ack on the current connection, or it was answered.
    Unknown(u64),
    /// The ack payload must be a JSON array (`[]` for no arguments).
    NotAnArray,
}

impl fmt::Display for AckReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(id) => write!(
                f,
                "ack {id} was not requested on this connection, or was already sent"
            ),
            Self::NotAnArray => f.write_str("an ack payload must be a JSON array"),
        }
    }
}

impl std::error::Error for AckReplyError {}

impl<W> Manager<W> {
    /// Emits on socket `index`, asking for an ack when there is a `waiter` for it
    /// (`options.ack` is the view's business).
    pub(crate) fn emit(
        &mut self,
        now: Instant,
        index: usize,
        payload: Payload,
        options: EmitOptions,
        waiter: Option<W>,
    ) -> Result<Emitted, EmitError> {
        let name = payload.event_name().ok_or(EmitError::NotAnEvent)?;
        let legacy = self.legacy.is_some()
            || self.config.engine.protocol == engineio_proto::EngineProtocol::V3;
        if RESERVED_EVENTS.contains(&name.as_ref())
            || (legacy && crate::legacy::RESERVED_EVENTS_V4.contains(&name.as_ref()))
        {
            return Err(EmitError::ReservedEvent(name.into_owned()));
        }
        let retries = self.sockets[index].config.retries.unwrap_or(0);
        if retries > 0 && !options.volatile {
            let emit = self.next_emit_id();
            let timeout = options.timeout.or(self.sockets[index].config.ack_timeout);
            self.sockets[index].queue.push_back(Queued {
                emit,
                payload,
                tries: 0,
                pending: false,
                waiter,
                timeout,
            });
            self.drain_queue(now, index, false);
            return Ok(Emitted {
                id: emit,
                status: EmitStatus::Queued,
            });
        }
        let emit = self.next_emit_id();
        let waiter = waiter.map(AckWaiter::Caller);
        let status = self.emit_once(now, index, emit, payload, options, waiter);
        Ok(Emitted { id: emit, status })
    }

    /// One emit on the normal path (also each try of a queued emit); it asks for an ack when
    /// someone waits for it.
    fn emit_once(
        &mut self,
        now: Instant,
        index: usize,
        emit: EmitId,
        payload: Payload,
        options: EmitOptions,
        waiter: Option<AckWaiter<W>>,
    ) -> EmitStatus {
        let expired = self
            .engine
            .as_ref()
            .is_some_and(|e| e.client.is_expired(now));
        let writable = !expired && self.engine.as_ref().is_some_and(|e| e.client.is_writable());
        let connected = self.sockets[index].state.is_connected() && !expired;
        if options.volatile && !(connected && writable) {
            // A volatile emit is never queued: its waiter is the caller's.
            if let Some(AckWaiter::Caller(waiter)) = waiter {
                let nsp = self.sockets[index].nsp.clone();
                self.event(Event::Ack {
                    nsp,
                    emit,
                    waiter,
                    result: Err(AckError::Dropped),
                });
            }
            return EmitStatus::Dropped;
        }
        let socket = &mut self.sockets[index];
        let id = waiter.map(|waiter| {
            let id = socket.next_ack_id;
            socket.next_ack_id += 1;
            let timeout = options.timeout.or(socket.config.ack_timeout);
            let deadline = timeout.and_then(|t| now.checked_add(t));
            let key = AckKey { socket: index, id };
            self.acks.insert(
                key,
                PendingAck {
                    emit,
                    deadline,
                    waiter,
                },
            );
            id
        });
        let packet = Packet::event(&self.sockets[index].nsp, payload, id);
        if connected {
            self.write_event(now, index, &packet);
            EmitStatus::Written
        } else {
            self.sockets[index]
                .send_buffer
                .push_back(Buffered { packet, emit });
            if expired && let Some(slot) = self.engine.as_mut() {
                // The heartbeat deadline passed: close now rather than write to a dead link.
                slot.client.handle_timeout(now);
                self.pump(now);
            }
            EmitStatus::Buffered
        }
    }

    /// Writes an EVENT and tells the outgoing hook.
    pub(crate) fn write_event(&mut self, now: Instant, index: usize, packet: &Packet) {
        if self.report_outgoing
            && let Some(payload) = &packet.data
        {
            let nsp = self.sockets[index].nsp.clone();
            self.event(Event::Outgoing {
                nsp,
                payload: payload.clone(),
            });
        }
        self.write(now, packet);
    }

    /// Answers the server's ack request `id` on socket `index`.
    pub(crate) fn reply_ack(
        &mut self,
        now: Instant,
        index: usize,
        id: u64,
        payload: Payload,
    ) -> Result<(), AckReplyError> {
        if !payload.json().starts_with(b"[") {
            return Err(AckReplyError::NotAnArray);
        }
        if !self.sockets[index].server_acks.remove(&id) {
            return Err(AckReplyError::Unknown(id));
        }
        let packet = Packet::ack(&self.sockets[index].nsp, id, payload);
        self.write(now, &packet);
        Ok(())
    }

    /// Hands an incoming event to the caller, taking off the recovery offset.
    pub(crate) fn dispatch(&mut self, index: usize, packet: Packet) {
        // The packet's own namespace (equal to the socket's) moves into the event: no copy.
        let Packet { nsp, id, data, .. } = packet;
        let Some(mut payload) = data else {
            return;
        };
        let socket = &mut self.sockets[index];
        // The server appends an offset to every event it stores for recovery: those have no
        // ack id. The reference keeps it in the arguments; we hand it over separately.
        let mut offset = None;
        if socket.pid.is_some()
            && id.is_none()
            && payload.len() > 1
            && let Some(last) = payload.last_str()
        {
            let last = last.to_owned();
            payload.pop_last();
            socket.last_offset = Some(last.clone());
            offset = Some(last);
        }
        if let Some(id) = id {
            socket.server_acks.insert(id);
        }
        self.event(Event::Message {
            nsp,
            payload,
            ack: id,
            offset,
        });
    }

    pub(crate) fn on_ack(&mut self, now: Instant, index: usize, packet: Packet) {
        let Some(id) = packet.id else {
            return;
        };
        // An ack for an id we are not waiting for is ignored, as in the reference.
        let Some(pending) = self.acks.take(AckKey { socket: index, id }) else {
            return;
        };
        let payload = packet.data.unwrap_or_else(|| {
            Payload::from_json(bytes::Bytes::from_static(b"[]")).expect("valid JSON")
        });
        self.resolve(now, index, pending, Ok(payload));
    }

    fn resolve(
        &mut self,
        now: Instant,
        index: usize,
        pending: PendingAck<W>,
        result: Result<Payload, AckError>,
    ) {
        match pending.waiter {
            AckWaiter::Caller(waiter) => {
                let nsp = self.sockets[index].nsp.clone();
                self.event(Event::Ack {
                    nsp,
                    emit: pending.emit,
                    waiter,
                    result,
                });
            }
            AckWaiter::Queue => self.queue_result(now, index, pending.emit, result),
        }
    }

    /// Fails the acks of a socket that lost its connection, except those whose packet still
    /// waits in the send buffer: it goes out, and can be acked, after reconnecting.
    pub(crate) fn clear_acks(&mut self, now: Instant, index: usize) {
        // Nothing to fail is the common case (no ack, or a disconnect after they all came):
        // no allocation for it.
        if !self.acks.any(index) {
            return;
        }
        let send_buffer = &self.sockets[index].send_buffer;
        let buffered: std::collections::HashSet<EmitId> =
            send_buffer.iter().map(|b| b.emit).collect();
        let failed = self
            .acks
            .take_where(index, |pending| !buffered.contains(&pending.emit));
        for pending in failed {
            self.resolve(now, index, pending, Err(AckError::Disconnected));
        }
    }

    pub(crate) fn fire_ack_deadlines(&mut self, now: Instant) {
        while let Some((key, pending)) = self.acks.take_due(now) {
            let index = key.socket;
            // A timed-out emit still waiting for the connection is withdrawn, so the server
            // never gets an event the caller gave up on.
            self.sockets[index]
                .send_buffer
                .retain(|b| b.emit != pending.emit);
            self.resolve(now, index, pending, Err(AckError::Timeout));
        }
    }

    /// Sends the head of the retry queue unless it is already in flight (`force` resends it,
    /// after a reconnection).
    pub(crate) fn drain_queue(&mut self, now: Instant, index: usize, force: bool) {
        let socket = &mut self.sockets[index];
        if !socket.state.is_connected() {
            return;
        }
        let Some(head) = socket.queue.front_mut() else {
            return;
        };
        if head.pending && !force {
            return;
        }
        head.pending = true;
        head.tries += 1;
        let (emit, payload, timeout) = (head.emit, head.payload.clone(), head.timeout);
        // A forced resend replaces the try still waiting, if any.
        if let Some(old) = self.acks.id_of(index, emit) {
            self.acks.take(AckKey {
                socket: index,
                id: old,
            });
        }
        let options = EmitOptions {
            ack: true,
            timeout,
            volatile: false,
        };
        self.emit_once(now, index, emit, payload, options, Some(AckWaiter::Queue));
    }

    fn queue_result(
        &mut self,
        now: Instant,
        index: usize,
        emit: EmitId,
        result: Result<Payload, AckError>,
    ) {
        let retries = self.sockets[index].config.retries.unwrap_or(0);
        let socket = &mut self.sockets[index];
        let Some(head) = socket.queue.front_mut() else {
            return;
        };
        if head.emit != emit {
            return;
        }
        let done = match &result {
            Ok(_) => true,
            Err(_) => head.tries > retries,
        };
        head.pending = false;
        // Done: the emit leaves the queue, and its waiter, if any, gets the result.
        if done
            && let Some(Queued {
                emit,
                waiter: Some(waiter),
                ..
            }) = socket.queue.pop_front()
        {
            let nsp = socket.nsp.clone();
            self.event(Event::Ack {
                nsp,
                emit,
                waiter,
                result,
            });
        }
        self.drain_queue(now, index, false);
    }
}
