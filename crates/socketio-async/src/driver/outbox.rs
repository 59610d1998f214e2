//! The send buffer's driver side: emits wait here, per namespace and in order, until their
//! namespace is connected and the transport keeps up; then they go to the protocol. Their
//! ack deadlines run from the emit (as the reference's do), so an emit that waits here past
//! its deadline fails with a timeout, and one handed on takes only what is left of it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use futures_channel::oneshot;
use socketio_proto::codec::Payload;
use socketio_proto::{AckError, EmitOptions};
use web_time::Instant;

use super::{AckReply, Driver};
use crate::shared::lock;

/// Packets handed to the protocol and not yet written to the transport (the engine's write
/// buffer and the WebSocket's outbox) above which emits stay in the send buffer: enough for
/// long-polling to batch a POST, and what bounds the memory of a connected but slow
/// transport.
const IN_TRANSIT: usize = 64;

/// One emit in the send buffer.
pub(super) struct Buffered {
    payload: Box<Payload>,
    options: EmitOptions,
    reply: Option<AckReply>,
    bytes: usize,
    /// When its ack times out, if it asked for one with a timeout.
    deadline: Option<Instant>,
    seq: u64,
}

#[derive(Default)]
pub(super) struct Outbox {
    queues: BTreeMap<String, VecDeque<Buffered>>,
    /// The next emit's number, for drains.
    next_seq: u64,
    /// Drains waiting for every emit numbered below theirs to be written.
    drains: Vec<(u64, oneshot::Sender<()>)>,
    /// Each namespace's `ack_timeout`.
    pub(super) ack_timeouts: HashMap<String, Option<Duration>>,
}

impl Outbox {
    /// Whether emits wait here or drains wait on them: work for the driver task.
    pub(super) fn is_busy(&self) -> bool {
        !self.drains.is_empty() || self.queues.values().any(|q| !q.is_empty())
    }

    /// The earliest ack deadline of a buffered emit.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.queues
            .values()
            .flatten()
            .filter_map(|b| b.deadline)
            .min()
    }
}

impl Driver {
    /// A user's emit: volatile ones go to the protocol at once (it drops them if it cannot
    /// write now), the others into the send buffer, in order.
    pub(super) fn queue_emit(
        &mut self,
        now: Instant,
        nsp: String,
        payload: Box<Payload>,
        options: EmitOptions,
        reply: Option<AckReply>,
        counted: Option<usize>,
    ) {
        let seq = self.outbox.next_seq;
        self.outbox.next_seq += 1;
        let Some(bytes) = counted else {
            return self.emit_now(now, &nsp, *payload, options, reply);
        };
        let timeout = options
            .timeout
            .or_else(|| self.outbox.ack_timeouts.get(&nsp).copied().flatten());
        // Only an emit with a reply waits for an ack, so only it has a deadline.
        let deadline = timeout
            .filter(|_| reply.is_some())
            .and_then(|t| now.checked_add(t));
        let Some(shared) = self.shared.socket(&nsp) else {
            return;
        };
        // Nothing waits before it and the transport keeps up: straight on, in order with
        // the commands behind it (a disconnect right after must find it sent).
        let waiting = self.outbox.queues.get(&nsp).is_some_and(|q| !q.is_empty());
        if !waiting
            && self.manager.socket(&nsp).is_some_and(|s| s.connected())
            && self.in_transit() < IN_TRANSIT
        {
            lock(&shared.send).release(bytes, false);
            return self.emit_now(now, &nsp, *payload, options, reply);
        }
        let queue = self.outbox.queues.entry(nsp.clone()).or_default();
        queue.push_back(Buffered {
            payload,
            options,
            reply,
            bytes,
            deadline,
            seq,
        });
        // `DropOldest` admitted this one past the bound: the oldest make room.
        let mut account = lock(&shared.send);
        while account.over() && queue.len() > 1 {
            let Some(oldest) = queue.pop_front() else {
                break;
            };
            account.release(oldest.bytes, true);
            tracing::debug!(nsp, "send buffer full: dropped the oldest emit");
            if let Some(reply) = oldest.reply {
                let _ = reply.send(Err(AckError::Dropped));
            }
        }
    }

    /// Hands buffered emits to the protocol while their namespace is connected and the
    /// transport keeps up; fails those whose ack deadline passed. Returns whether any moved.
    pub(super) fn flush_outbox(&mut self, now: Instant) -> bool {
        if self.outbox.queues.values().all(VecDeque::is_empty) {
            return false;
        }
        let mut moved = false;
        let mut in_transit = self.in_transit();
        let nsps: Vec<String> = self.outbox.queues.keys().cloned().collect();
        for nsp in nsps {
            let Some(shared) = self.shared.socket(&nsp) else {
                continue;
            };
            let Some(queue) = self.outbox.queues.get_mut(&nsp) else {
                continue;
            };
            // Expired while waiting: the reference's ack timer runs from the emit.
            let before = queue.len();
            queue.retain_mut(|b| {
                if b.deadline.is_some_and(|at| at <= now) {
                    lock(&shared.send).release(b.bytes, false);
                    if let Some(reply) = b.reply.take() {
                        let _ = reply.send(Err(AckError::Timeout));
                    }
                    false
                } else {
                    true
                }
            });
            moved |= queue.len() != before;
            let connected = self.manager.socket(&nsp).is_some_and(|s| s.connected());
            let mut ready = Vec::new();
            while connected && in_transit < IN_TRANSIT {
                let Some(b) = queue.pop_front() else { break };
                in_transit += 1;
                ready.push(b);
            }
            for mut b in ready {
                moved = true;
                lock(&shared.send).release(b.bytes, false);
                if let Some(at) = b.deadline {
                    b.options.timeout = Some(at.saturating_duration_since(now));
                }
                self.emit_now(now, &nsp, *b.payload, b.options, b.reply);
            }
        }
        moved
    }

    /// Packets handed to the protocol and not written to the transport yet.
    fn in_transit(&self) -> usize {
        self.manager.footprint().engine_buffered + self.links.outbox_frames()
    }

    /// Drops what `nsp`'s send buffer holds (and the protocol's own, for good measure).
    pub(super) fn clear_outbox(&mut self, now: Instant, nsp: &str) {
        if let Some(queue) = self.outbox.queues.get_mut(nsp) {
            let shared = self.shared.socket(nsp);
            for b in queue.drain(..) {
                if let Some(shared) = &shared {
                    lock(&shared.send).release(b.bytes, true);
                }
                if let Some(reply) = b.reply {
                    let _ = reply.send(Err(AckError::Dropped));
                }
            }
        }
        if let Some(mut socket) = self.manager.socket_mut(nsp) {
            socket.clear_send_buffer(now);
        }
    }

    /// A drain: answered once every emit made before it is written.
    pub(super) fn add_drain(&mut self, reply: oneshot::Sender<()>) {
        self.outbox.drains.push((self.outbox.next_seq, reply));
    }

    /// Answers the drains whose emits are all written: none of them left in the send
    /// buffer, nothing in the protocol's buffers, every transport flushed.
    pub(super) fn check_drains(&mut self) {
        if self.outbox.drains.is_empty() {
            return;
        }
        let footprint = self.manager.footprint();
        if footprint.engine_buffered > 0 || footprint.send_buffer > 0 || !self.links.is_idle() {
            return;
        }
        let oldest = self
            .outbox
            .queues
            .values()
            .filter_map(|q| q.front().map(|b| b.seq))
            .min();
        let (waiting, done): (Vec<_>, Vec<_>) = std::mem::take(&mut self.outbox.drains)
            .into_iter()
            .partition(|(upto, _)| oldest.is_some_and(|seq| seq < *upto));
        self.outbox.drains = waiting;
        for (_, reply) in done {
            let _ = reply.send(());
        }
    }
}
