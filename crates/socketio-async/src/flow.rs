//! Flow control on the receive side: the bounded queues between the driver and the
//! application (event streams, `on_async` listeners), what they do when full, and the
//! snapshot of every queue's depth.
//!
//! The driver is the only producer of every queue. Before it hands an event over, it asks
//! each queue that will receive the event for room ([`QueueSender::poll_room`]); a full
//! queue with the [`Overflow::Wait`] policy keeps the event (and every event behind it) in
//! the driver's read-ahead, and the receiver taking an item wakes the driver. The read-ahead
//! is bounded in bytes ([`FlowOptions::read_ahead`]); once full the driver stops reading the
//! transport, so the server's buffers and TCP carry the backpressure (docs/flow-control.md).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use futures_util::Stream;

use crate::shared::lock;

/// What a bounded queue does with a new item when it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Overflow {
    /// Keep every item: the connection waits until the consumer takes one (the events
    /// behind stay in the read-ahead, then in the server's buffers). Nothing is lost.
    #[default]
    Wait,
    /// Drop the oldest queued item to make room for the new one (for state where only the
    /// latest matters: prices, positions). Counted in [`FlowSnapshot::dropped_events`].
    DropOldest,
    /// Drop the new item (volatile-style: a consumer that is behind misses what comes while
    /// it is). Counted in [`FlowSnapshot::dropped_events`].
    DropNewest,
}

/// The receive-side bounds of one connection (one [`crate::Manager`]), set with
/// [`crate::Options::flow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowOptions {
    /// Bytes read from the transport and not yet handed to the application (frames read,
    /// events decoded and waiting for a full consumer), above which the driver stops
    /// reading. Engine.IO pings inside what was read are answered at once, ahead of the
    /// events before them. One message larger than this is still read, alone.
    pub read_ahead: usize,
    /// Events each [`crate::Socket::events`] / [`crate::Manager::events`] stream and each
    /// [`crate::Socket::on_async`] listener queues before its [`Overflow`] policy applies.
    pub queue_capacity: usize,
    /// What those queues do when full (each stream may choose its own with
    /// [`crate::Socket::events_with`]).
    pub overflow: Overflow,
}

/// 1 MiB of read-ahead.
pub const DEFAULT_READ_AHEAD: usize = 1 << 20;
/// 1,024 events per stream or `on_async` listener.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

impl Default for FlowOptions {
    fn default() -> Self {
        Self {
            read_ahead: DEFAULT_READ_AHEAD,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            overflow: Overflow::Wait,
        }
    }
}

impl FlowOptions {
    /// These options with `read_ahead` bytes of read-ahead (at least 1).
    pub fn read_ahead(mut self, bytes: usize) -> Self {
        self.read_ahead = bytes.max(1);
        self
    }

    /// These options with queues of `events` events (at least 1).
    pub fn queue_capacity(mut self, events: usize) -> Self {
        self.queue_capacity = events.max(1);
        self
    }

    /// These options with this overflow policy for streams and `on_async` queues.
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }
}

/// The depths of a connection's queues at one moment ([`crate::Manager::flow`]): cheap to
/// take (a few locks, no allocation), for gauges and for tests that check memory is bounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowSnapshot {
    /// Bytes read from the transport and not yet handed to the application.
    pub read_ahead_bytes: usize,
    /// Events decoded and waiting in the read-ahead for a consumer with room.
    pub read_ahead_events: usize,
    /// The most `read_ahead_bytes` has been since the connection was made.
    pub peak_read_ahead_bytes: usize,
    /// The bound on `read_ahead_bytes` ([`FlowOptions::read_ahead`]).
    pub read_ahead_limit: usize,
    /// The driver has stopped reading the transport because the read-ahead is full.
    pub reading_paused: bool,
    /// How many times reading was paused.
    pub pauses: u64,
    /// Events in every stream and `on_async` queue, waiting for their consumer.
    pub queued_events: usize,
    /// The most events any one of those queues has held.
    pub peak_queue_depth: usize,
    /// Events dropped by queues with a dropping [`Overflow`] policy.
    pub dropped_events: u64,
    /// Emits in every socket's send buffer (see [`crate::Socket::send_buffer`]).
    pub send_buffer_emits: usize,
    /// Their payload bytes.
    pub send_buffer_bytes: usize,
    /// Emits dropped from send buffers (policy or clear).
    pub send_dropped: u64,
}

/// A bounded queue's shared state.
struct State<T> {
    items: VecDeque<T>,
    capacity: usize,
    overflow: Overflow,
    /// Sender handles alive; the stream ends when none is left and the queue is empty.
    senders: usize,
    receiver: bool,
    /// The consumer waiting for an item.
    rx_waker: Option<Waker>,
    /// The driver waiting for room.
    tx_waker: Option<Waker>,
    dropped: u64,
    peak: usize,
}

/// Makes a bounded queue.
pub(crate) fn queue<T>(capacity: usize, overflow: Overflow) -> (QueueSender<T>, EventStream<T>) {
    let state = Arc::new(Mutex::new(State {
        items: VecDeque::new(),
        capacity: capacity.max(1),
        overflow,
        senders: 1,
        receiver: true,
        rx_waker: None,
        tx_waker: None,
        dropped: 0,
        peak: 0,
    }));
    (
        QueueSender {
            state: state.clone(),
        },
        EventStream { state },
    )
}

/// The driver's end of a bounded queue.
pub(crate) struct QueueSender<T> {
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        lock(&self.state).senders += 1;
        Self {
            state: self.state.clone(),
        }
    }
}

impl<T> Drop for QueueSender<T> {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        s.senders -= 1;
        if s.senders == 0
            && let Some(waker) = s.rx_waker.take()
        {
            waker.wake();
        }
    }
}

/// The consumer is gone: the queue can be forgotten.
#[derive(Debug)]
pub(crate) struct Gone;

impl<T> QueueSender<T> {
    /// Ready when a push will not exceed the capacity under [`Overflow::Wait`] (dropping
    /// policies and gone consumers are always ready); otherwise the task is woken when the
    /// consumer takes an item.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = lock(&self.state);
        if !s.receiver || s.overflow != Overflow::Wait || s.items.len() < s.capacity {
            return Poll::Ready(());
        }
        s.tx_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Queues `item`, applying the overflow policy when full.
    pub(crate) fn push(&self, item: T) -> Result<(), Gone> {
        let mut s = lock(&self.state);
        if !s.receiver {
            return Err(Gone);
        }
        if s.items.len() >= s.capacity {
            match s.overflow {
                // The driver asked for room first; a push past it (a listener added between
                // the check and the push) is kept rather than lost.
                Overflow::Wait => {}
                Overflow::DropOldest => {
                    s.items.pop_front();
                    s.dropped += 1;
                    tracing::trace!("queue full: dropped the oldest event");
                }
                Overflow::DropNewest => {
                    s.dropped += 1;
                    tracing::trace!("queue full: dropped the newest event");
                    return Ok(());
                }
            }
        }
        s.items.push_back(item);
        s.peak = s.peak.max(s.items.len());
        if let Some(waker) = s.rx_waker.take() {
            waker.wake();
        }
        Ok(())
    }

    /// Adds this queue's depth, peak and drops to `snapshot`.
    pub(crate) fn measure(&self, snapshot: &mut FlowSnapshot) {
        let s = lock(&self.state);
        snapshot.queued_events += s.items.len();
        snapshot.peak_queue_depth = snapshot.peak_queue_depth.max(s.peak);
        snapshot.dropped_events += s.dropped;
    }
}

/// A bounded stream of events ([`crate::Socket::events`], [`crate::Manager::events`]). It
/// ends when the connection is gone. Dropping it lets the connection forget it.
pub struct EventStream<T> {
    state: Arc<Mutex<State<T>>>,
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = lock(&self.state);
        f.debug_struct("EventStream")
            .field("queued", &s.items.len())
            .field("capacity", &s.capacity)
            .field("overflow", &s.overflow)
            .field("dropped", &s.dropped)
            .finish()
    }
}

impl<T> EventStream<T> {
    /// Events waiting in this stream.
    pub fn len(&self) -> usize {
        lock(&self.state).items.len()
    }

    /// Whether no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Events this stream dropped under a dropping [`Overflow`] policy.
    pub fn dropped(&self) -> u64 {
        lock(&self.state).dropped
    }
}

impl<T> Stream for EventStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut s = lock(&self.state);
        if let Some(item) = s.items.pop_front() {
            // The driver may be holding events for this queue: woken once the queue is half
            // empty, it delivers half a queue in one turn, rather than crossing threads for
            // every event (a quarter of the throughput, measured).
            if s.items.len() <= s.capacity / 2
                && let Some(waker) = s.tx_waker.take()
            {
                waker.wake();
            }
            return Poll::Ready(Some(item));
        }
        if s.senders == 0 {
            return Poll::Ready(None);
        }
        s.rx_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> Drop for EventStream<T> {
    fn drop(&mut self) {
        let mut s = lock(&self.state);
        s.receiver = false;
        s.items.clear();
        if let Some(waker) = s.tx_waker.take() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use futures_util::task::noop_waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Box::leak(Box::new(noop_waker())))
    }

    #[test]
    fn wait_reports_full_and_keeps_everything() {
        let (tx, mut rx) = queue::<u32>(2, Overflow::Wait);
        let mut cx = cx();
        assert!(tx.poll_room(&mut cx).is_ready());
        tx.push(1).unwrap();
        tx.push(2).unwrap();
        assert!(tx.poll_room(&mut cx).is_pending());
        assert_eq!(rx.poll_next_unpin(&mut cx), Poll::Ready(Some(1)));
        assert!(tx.poll_room(&mut cx).is_ready());
        let mut snapshot = FlowSnapshot::default();
        tx.measure(&mut snapshot);
        assert_eq!((snapshot.queued_events, snapshot.peak_queue_depth), (1, 2));
        assert_eq!(snapshot.dropped_events, 0);
    }

    #[test]
    fn dropping_policies_drop_the_oldest_or_the_newest() {
        let mut cx = cx();
        for (overflow, kept) in [
            (Overflow::DropOldest, [2, 3]),
            (Overflow::DropNewest, [1, 2]),
        ] {
            let (tx, rx) = queue::<u32>(2, overflow);
            for n in 1..=3 {
                assert!(tx.poll_room(&mut cx).is_ready());
                tx.push(n).unwrap();
            }
            assert_eq!(rx.dropped(), 1);
            drop(tx);
            let got: Vec<u32> = futures_executor::block_on(rx.collect());
            assert_eq!(got, kept, "{overflow:?}");
        }
    }

    #[test]
    fn a_gone_consumer_frees_the_driver() {
        let (tx, rx) = queue::<u32>(1, Overflow::Wait);
        let mut cx = cx();
        tx.push(1).unwrap();
        assert!(tx.poll_room(&mut cx).is_pending());
        drop(rx);
        assert!(tx.poll_room(&mut cx).is_ready());
        assert!(tx.push(2).is_err());
    }
}
