//! How much state a [`Manager`] holds: every collection that grows with traffic, counted.
//!
//! A long-lived client must come back to a small, bounded state after every disturbance;
//! these counts make that checkable (the simulated soak samples them for virtual hours) and
//! observable in production (export them as gauges).

use crate::manager::Manager;

/// The sizes of a manager's queues, buffers and tables at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Footprint {
    /// Namespace sockets (one per namespace ever added; they are reused, never dropped).
    pub sockets: usize,
    /// Engines the manager closed that still finish their goodbye.
    pub closing_engines: usize,
    /// Outputs waiting for [`Manager::poll_output`].
    pub outputs: usize,
    /// Ack deadlines being watched.
    pub ack_deadlines: usize,
    /// Emits waiting for an ack.
    pub pending_acks: usize,
    /// Emits buffered while their namespace is not connected.
    pub send_buffer: usize,
    /// Received packets held until their namespace's `connect` is delivered.
    pub receive_buffer: usize,
    /// Emits in the `retries` queue.
    pub queued: usize,
    /// The server's ack requests not answered yet.
    pub server_acks: usize,
    /// Engine.IO messages written but not yet sent, on the current engine.
    pub engine_buffered: usize,
}

impl Footprint {
    /// The sum of every count but `sockets`: zero when the manager holds nothing in flight.
    pub fn in_flight(&self) -> usize {
        self.closing_engines
            + self.outputs
            + self.ack_deadlines
            + self.pending_acks
            + self.send_buffer
            + self.receive_buffer
            + self.queued
            + self.server_acks
            + self.engine_buffered
    }
}

impl<W> Manager<W> {
    /// How much state this manager holds right now (cheap: a few lengths).
    pub fn footprint(&self) -> Footprint {
        let mut footprint = Footprint {
            sockets: self.sockets.len(),
            closing_engines: self.closing.len(),
            outputs: self.output.len(),
            ack_deadlines: self.acks.deadlines(),
            pending_acks: self.acks.len(),
            engine_buffered: self
                .engine
                .as_ref()
                .map_or(0, |slot| slot.client.buffered()),
            ..Footprint::default()
        };
        for socket in &self.sockets {
            footprint.send_buffer += socket.send_buffer.len();
            footprint.receive_buffer += socket.receive_buffer.len();
            footprint.queued += socket.queue.len();
            footprint.server_acks += socket.server_acks.len();
        }
        footprint
    }
}
