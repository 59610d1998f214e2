//! The acks the client waits for: one table, manager-wide, holding for each ack its wire id,
//! the namespace that owns it, its deadline and who waits for it (the caller's waiter, or the
//! retry queue).
//!
//! The table is keyed by `(socket, wire id)`, the pair an ACK packet names, so an incoming ack
//! is one hash lookup. Deadlines are a second index over the same entries, ordered, so
//! [`crate::Manager::poll_timeout`] reads the earliest in O(log n) and firing them walks it in
//! order; it is kept by the table alone and so never disagrees with it.

use std::collections::{BTreeSet, HashMap};
use web_time::Instant;

use crate::event::EmitId;

/// An ack as the server names it: the namespace socket (its index in the manager) and the
/// wire ack id, which is per namespace as in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct AckKey {
    pub(crate) socket: usize,
    pub(crate) id: u64,
}

/// Who waits for an ack.
#[derive(Debug)]
pub(crate) enum AckWaiter<W> {
    /// The caller, through an [`crate::Event::Ack`] that hands its waiter back.
    Caller(W),
    /// The retry queue, which holds the caller's waiter until it is done.
    Queue,
}

/// One ack the client waits for.
#[derive(Debug)]
pub(crate) struct PendingAck<W> {
    pub(crate) emit: EmitId,
    pub(crate) deadline: Option<Instant>,
    pub(crate) waiter: AckWaiter<W>,
}

/// Every ack the client waits for, across namespaces.
pub(crate) struct AckTable<W> {
    pending: HashMap<AckKey, PendingAck<W>>,
    /// The pending acks that have a deadline, earliest first; the emit id breaks ties in emit
    /// order, as the reference's timers fire.
    deadlines: BTreeSet<(Instant, EmitId, AckKey)>,
}

impl<W> Default for AckTable<W> {
    fn default() -> Self {
        Self {
            pending: HashMap::new(),
            deadlines: BTreeSet::new(),
        }
    }
}

impl<W> std::fmt::Debug for AckTable<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Waiters are the caller's (channels, callbacks): counted, not shown.
        f.debug_struct("AckTable")
            .field("pending", &self.pending.len())
            .field("deadlines", &self.deadlines.len())
            .finish()
    }
}

impl<W> AckTable<W> {
    /// Pending acks that keep their room through [`AckTable::shrink_to_fit`].
    const KEPT: usize = 8;

    /// Waits for the ack `key`. A key is inserted once: wire ids only grow.
    pub(crate) fn insert(&mut self, key: AckKey, ack: PendingAck<W>) {
        if let Some(at) = ack.deadline {
            self.deadlines.insert((at, ack.emit, key));
        }
        let old = self.pending.insert(key, ack);
        debug_assert!(old.is_none(), "ack ids are never reused on a socket");
    }

    /// Stops waiting for `key` and hands its entry over.
    pub(crate) fn take(&mut self, key: AckKey) -> Option<PendingAck<W>> {
        let ack = self.pending.remove(&key)?;
        if let Some(at) = ack.deadline {
            self.deadlines.remove(&(at, ack.emit, key));
        }
        Some(ack)
    }

    /// The earliest deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _, _)| *at)
    }

    /// The earliest ack whose deadline is at or before `now`, taken out of the table.
    pub(crate) fn take_due(&mut self, now: Instant) -> Option<(AckKey, PendingAck<W>)> {
        let &(at, _, key) = self.deadlines.first()?;
        if at > now {
            return None;
        }
        self.take(key).map(|ack| (key, ack))
    }

    /// Takes the acks of `socket` that `fail` selects, in wire id order (the order they were
    /// asked for).
    pub(crate) fn take_where(
        &mut self,
        socket: usize,
        mut fail: impl FnMut(&PendingAck<W>) -> bool,
    ) -> Vec<PendingAck<W>> {
        let mut keys: Vec<AckKey> = self
            .pending
            .iter()
            .filter(|(key, ack)| key.socket == socket && fail(ack))
            .map(|(key, _)| *key)
            .collect();
        keys.sort_unstable();
        keys.into_iter().filter_map(|key| self.take(key)).collect()
    }

    /// The wire id under which `socket` waits for `emit`'s ack, if it does.
    pub(crate) fn id_of(&self, socket: usize, emit: EmitId) -> Option<u64> {
        self.pending
            .iter()
            .find(|(key, ack)| key.socket == socket && ack.emit == emit)
            .map(|(key, _)| key.id)
    }

    /// How many acks `socket` waits for.
    pub(crate) fn count(&self, socket: usize) -> usize {
        self.pending.keys().filter(|k| k.socket == socket).count()
    }

    /// Whether any ack of `socket` is waited for.
    pub(crate) fn any(&self, socket: usize) -> bool {
        self.pending.keys().any(|k| k.socket == socket)
    }

    /// Gives back the memory a burst of acks grew (the deadline index, a B-tree, frees its
    /// nodes as it empties). A few entries' room is kept: an idle connection shrinks after
    /// every ack round trip, and reallocating then would cost each emit an allocation.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.pending.shrink_to(Self::KEPT);
    }

    /// How many acks are waited for.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// How many of them have a deadline.
    pub(crate) fn deadlines(&self) -> usize {
        self.deadlines.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ack(emit: u64, deadline: Option<Instant>, waiter: &'static str) -> PendingAck<&'static str> {
        PendingAck {
            emit: EmitId(emit),
            deadline,
            waiter: AckWaiter::Caller(waiter),
        }
    }

    fn key(socket: usize, id: u64) -> AckKey {
        AckKey { socket, id }
    }

    fn waiter(ack: PendingAck<&'static str>) -> &'static str {
        match ack.waiter {
            AckWaiter::Caller(w) => w,
            AckWaiter::Queue => "queue",
        }
    }

    #[test]
    fn an_ack_is_found_by_socket_and_wire_id_and_taken_once() {
        let mut table = AckTable::default();
        table.insert(key(0, 0), ack(1, None, "a"));
        table.insert(key(1, 0), ack(2, None, "b"));
        assert_eq!(table.len(), 2);
        assert_eq!(table.take(key(1, 0)).map(waiter), Some("b"));
        assert!(table.take(key(1, 0)).is_none());
        assert_eq!(table.count(0), 1);
        assert_eq!(table.count(1), 0);
        assert!(!table.any(1));
    }

    #[test]
    fn deadlines_fire_earliest_first_then_in_emit_order() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut table = AckTable::default();
        table.insert(key(0, 0), ack(1, Some(t0 + 2 * s), "late"));
        table.insert(key(1, 0), ack(3, Some(t0 + s), "second"));
        table.insert(key(0, 1), ack(2, Some(t0 + s), "first"));
        table.insert(key(0, 2), ack(4, None, "never"));
        assert_eq!(table.next_deadline(), Some(t0 + s));
        assert!(table.take_due(t0).is_none(), "early: nothing is due");
        let due: Vec<_> = std::iter::from_fn(|| table.take_due(t0 + s))
            .map(|(k, a)| (k, waiter(a)))
            .collect();
        assert_eq!(due, [(key(0, 1), "first"), (key(1, 0), "second")]);
        assert_eq!(table.next_deadline(), Some(t0 + 2 * s));
        assert_eq!(table.deadlines(), 1);
        // Taking an ack by its key forgets its deadline too.
        assert!(table.take(key(0, 0)).is_some());
        assert_eq!(table.next_deadline(), None);
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn shrinking_gives_back_a_burst_but_keeps_room_for_a_few() {
        let mut table = AckTable::default();
        table.insert(key(0, 0), ack(0, None, "one"));
        let small = table.pending.capacity();
        table.shrink_to_fit();
        assert_eq!(
            table.pending.capacity(),
            small,
            "no reallocation for the next emit"
        );
        for id in 1..1000 {
            table.insert(key(0, id), ack(id, None, "burst"));
        }
        for id in 0..1000 {
            table.take(key(0, id));
        }
        table.shrink_to_fit();
        assert!(
            table.pending.capacity() < 32,
            "{}",
            table.pending.capacity()
        );
        assert!(table.pending.capacity() >= AckTable::<()>::KEPT);
    }

    #[test]
    fn a_socket_fails_its_own_acks_in_wire_order_and_keeps_the_selected() {
        let t0 = Instant::now();
        let mut table = AckTable::default();
        for id in (0..5).rev() {
            table.insert(key(0, id), ack(10 + id, Some(t0), "x"));
        }
        table.insert(key(1, 0), ack(20, Some(t0), "other"));
        let failed = table.take_where(0, |a| a.emit != EmitId(12));
        let emits: Vec<u64> = failed.iter().map(|a| a.emit.0).collect();
        assert_eq!(emits, [10, 11, 13, 14]);
        assert_eq!(table.id_of(0, EmitId(12)), Some(2));
        assert_eq!(table.count(1), 1);
        assert_eq!(table.deadlines(), 2);
    }
}
