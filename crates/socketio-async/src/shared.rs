//! State shared between the handles the user holds and the driver task: socket status,
//! listeners, event streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use smallvec::SmallVec;
use socketio_proto::codec::Payload;

use crate::events::{ManagerEvent, Message, SocketEvent};
use crate::flow::{EventStream, FlowOptions, FlowSnapshot, Overflow, QueueSender, queue};

/// Identifies a listener, to remove it with `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(pub(crate) u64);

pub(crate) type MessageFn = Arc<dyn Fn(Message) + Send + Sync>;
pub(crate) type SocketEventFn = Arc<dyn Fn(&SocketEvent) + Send + Sync>;
pub(crate) type OutgoingFn = Arc<dyn Fn(&str, &Payload) + Send + Sync>;
pub(crate) type ManagerEventFn = Arc<dyn Fn(&ManagerEvent) + Send + Sync>;
/// Told the outcome of one `connect()` (or `Manager::open()`).
pub(crate) type ConnectWaiter = futures_channel::oneshot::Sender<Result<(), crate::Error>>;

/// Locks, recovering from a listener that panicked while the lock was held elsewhere.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Default, Clone)]
pub(crate) struct SocketStatus {
    pub(crate) id: Option<String>,
    pub(crate) connected: bool,
    pub(crate) active: bool,
    pub(crate) recovered: bool,
    /// Why the last attempt to connect failed, until the next successful connection.
    pub(crate) connect_error: Option<crate::ConnectError>,
}

pub(crate) struct MessageListener {
    pub(crate) id: ListenerId,
    /// `None` listens to every event (onAny).
    pub(crate) event: Option<String>,
    pub(crate) once: bool,
    pub(crate) callback: MessageFn,
    /// The bounded queue an `on_async` listener's callback pushes into, asked for room
    /// before the callback is called.
    pub(crate) queue: Option<QueueSender<Message>>,
}

#[derive(Default)]
pub(crate) struct SocketListeners {
    pub(crate) messages: Vec<MessageListener>,
    pub(crate) lifecycle: Vec<(ListenerId, SocketEventFn)>,
    pub(crate) outgoing: Vec<(ListenerId, OutgoingFn)>,
    pub(crate) streams: Vec<QueueSender<SocketEvent>>,
}

pub(crate) struct SocketShared {
    pub(crate) nsp: String,
    pub(crate) status: Mutex<SocketStatus>,
    pub(crate) listeners: Mutex<SocketListeners>,
    /// The `connect()` futures waiting for the next CONNECT or connect error. Registered
    /// under the status lock and taken under it by the driver, so a waiter never misses the
    /// event that the status it checked did not show yet.
    pub(crate) waiters: Mutex<Vec<ConnectWaiter>>,
    /// The send buffer's accounting, shared by the emitting handles and the driver.
    pub(crate) send: Mutex<crate::send::SendAccount>,
}

impl SocketShared {
    pub(crate) fn new(nsp: String, send: crate::SendBufferOptions) -> Self {
        Self {
            nsp,
            status: Mutex::new(SocketStatus::default()),
            listeners: Mutex::new(SocketListeners::default()),
            waiters: Mutex::new(Vec::new()),
            send: Mutex::new(crate::send::SendAccount::new(send)),
        }
    }

    /// A stream of this socket's events that starts with the current state: a `Connect`
    /// first when connected. Made under the listeners lock, which the driver holds from
    /// publishing a status to handing its event to the streams: the stream sees each change
    /// once, either as that first item or as the event.
    pub(crate) fn subscribe(
        &self,
        capacity: usize,
        overflow: Overflow,
    ) -> EventStream<SocketEvent> {
        let (tx, rx) = queue(capacity, overflow);
        let mut l = lock(&self.listeners);
        {
            let status = lock(&self.status);
            if status.connected
                && let Some(id) = status.id.clone()
            {
                let _ = tx.push(SocketEvent::Connect {
                    id,
                    recovered: status.recovered,
                });
            }
        }
        l.streams.push(tx);
        rx
    }

    /// Ready when every bounded queue that a message named `event` goes to (streams, the
    /// `on_async` listeners of that event and the catch-all ones) has room; otherwise the
    /// driver is woken when one that is full takes an item.
    pub(crate) fn poll_room_message(&self, cx: &mut Context<'_>, payload: &Payload) -> Poll<()> {
        let l = lock(&self.listeners);
        if poll_room(&l.streams, cx).is_pending() {
            return Poll::Pending;
        }
        // The event's name is only read when a queued listener wants one: this runs once
        // per received event.
        let mut name = None;
        let listeners = l
            .messages
            .iter()
            .filter(|m| m.queue.is_some())
            .filter(|m| {
                m.event.as_deref().is_none_or(|e| {
                    let name = name.get_or_insert_with(|| payload.event_name().unwrap_or_default());
                    e == name.as_ref()
                })
            })
            .filter_map(|m| m.queue.as_ref());
        for queue in listeners {
            if queue.poll_room(cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }

    /// Ready when every stream has room for a lifecycle event.
    pub(crate) fn poll_room_lifecycle(&self, cx: &mut Context<'_>) -> Poll<()> {
        poll_room(&lock(&self.listeners).streams, cx)
    }

    /// Adds the depth of this socket's streams and `on_async` queues to `snapshot`.
    pub(crate) fn measure(&self, snapshot: &mut FlowSnapshot) {
        let l = lock(&self.listeners);
        for queue in &l.streams {
            queue.measure(snapshot);
        }
        for queue in l.messages.iter().filter_map(|m| m.queue.as_ref()) {
            queue.measure(snapshot);
        }
        drop(l);
        let send = lock(&self.send).snapshot();
        snapshot.send_buffer_emits += send.emits;
        snapshot.send_buffer_bytes += send.bytes;
        snapshot.send_dropped += send.dropped;
    }

    /// Delivers a message: catch-all listeners first, then the event's own, then streams.
    /// The last consumer gets the message itself, the others a clone: with one listener and
    /// no stream (the common case) nothing is copied.
    pub(crate) fn deliver_message(&self, message: Message) {
        let (callbacks, streams) = {
            let mut l = lock(&self.listeners);
            let named = |m: &MessageListener| m.event.as_deref() == Some(message.event.as_str());
            // On the stack for the usual few listeners: this runs once per event.
            let mut callbacks: SmallVec<[MessageFn; 4]> = SmallVec::new();
            let mut once = false;
            for listener in l.messages.iter().filter(|m| m.event.is_none()) {
                callbacks.push(listener.callback.clone());
            }
            for listener in l.messages.iter().filter(|m| named(m)) {
                callbacks.push(listener.callback.clone());
                once |= listener.once;
            }
            if once {
                l.messages.retain(|m| !(m.once && named(m)));
            }
            (callbacks, !l.streams.is_empty())
        };
        let Some((last, others)) = callbacks.split_last() else {
            if streams {
                self.deliver_stream(SocketEvent::Message(message));
            }
            return;
        };
        for callback in others {
            callback(message.clone());
        }
        if streams {
            last(message.clone());
            self.deliver_stream(SocketEvent::Message(message));
        } else {
            last(message);
        }
    }

    /// Publishes the status a lifecycle event brings (`status`), settles the `connect()`
    /// futures it answers, then delivers it to streams and lifecycle listeners. Listeners
    /// run outside every lock: they may add or remove listeners.
    pub(crate) fn deliver_lifecycle(
        &self,
        status: impl FnOnce(&mut SocketStatus),
        event: SocketEvent,
    ) {
        let callbacks: Vec<SocketEventFn> = {
            let mut l = lock(&self.listeners);
            {
                let mut s = lock(&self.status);
                status(&mut s);
                let outcome = match &event {
                    SocketEvent::Connect { .. } => Some(Ok(())),
                    SocketEvent::ConnectError(e) => {
                        Some(Err(crate::Error::Connect(Box::new(e.clone()))))
                    }
                    _ => None,
                };
                if let Some(outcome) = outcome {
                    for waiter in lock(&self.waiters).drain(..) {
                        let _ = waiter.send(outcome.clone());
                    }
                }
            }
            send_streams(&mut l.streams, &event);
            l.lifecycle.iter().map(|(_, c)| c.clone()).collect()
        };
        for callback in callbacks {
            callback(&event);
        }
    }

    pub(crate) fn deliver_outgoing(&self, payload: &Payload) {
        let callbacks: Vec<OutgoingFn> = lock(&self.listeners)
            .outgoing
            .iter()
            .map(|(_, c)| c.clone())
            .collect();
        let event = payload
            .event_name()
            .map(|n| n.into_owned())
            .unwrap_or_default();
        for callback in callbacks {
            callback(&event, payload);
        }
    }

    pub(crate) fn wants_outgoing(&self) -> bool {
        !lock(&self.listeners).outgoing.is_empty()
    }

    fn deliver_stream(&self, event: SocketEvent) {
        let mut l = lock(&self.listeners);
        // Every stream but the last gets a clone; the last gets the event.
        let mut event = Some(event);
        let count = l.streams.len();
        let mut index = 0;
        l.streams.retain(|s| {
            index += 1;
            let item = if index == count {
                event.take()
            } else {
                event.clone()
            };
            item.is_some_and(|e| s.push(e).is_ok())
        });
    }
}

/// Sends a clone of `event` to every stream, forgetting those whose receiver is gone.
fn send_streams<E: Clone>(streams: &mut Vec<QueueSender<E>>, event: &E) {
    streams.retain(|s| s.push(event.clone()).is_ok());
}

/// Ready when every queue has room.
fn poll_room<E>(queues: &[QueueSender<E>], cx: &mut Context<'_>) -> Poll<()> {
    for queue in queues {
        if queue.poll_room(cx).is_pending() {
            return Poll::Pending;
        }
    }
    Poll::Ready(())
}

/// The driver's read-ahead as it last published it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ReadAhead {
    pub(crate) bytes: usize,
    pub(crate) events: usize,
    pub(crate) peak_bytes: usize,
    pub(crate) paused: bool,
    pub(crate) pauses: u64,
}

#[derive(Default)]
pub(crate) struct ManagerListeners {
    pub(crate) events: Vec<(ListenerId, ManagerEventFn)>,
    pub(crate) streams: Vec<QueueSender<ManagerEvent>>,
}

/// The connection as the driver last published it.
#[derive(Debug, Default, Clone)]
pub(crate) struct ManagerStatus {
    /// The engine is open.
    pub(crate) open: bool,
    /// The Engine.IO session id, while there is a session.
    pub(crate) engine_id: Option<String>,
    /// The transport in use, while there is a session.
    pub(crate) transport: Option<engineio_proto::TransportKind>,
}

#[derive(Default)]
pub(crate) struct ManagerShared {
    pub(crate) sockets: Mutex<HashMap<String, Arc<SocketShared>>>,
    pub(crate) listeners: Mutex<ManagerListeners>,
    pub(crate) status: Mutex<ManagerStatus>,
    /// The `Manager::open()` futures waiting for the next open or failure (same locking as
    /// [`SocketShared::waiters`]).
    pub(crate) waiters: Mutex<Vec<ConnectWaiter>>,
    pub(crate) next_listener: std::sync::atomic::AtomicU64,
    /// The receive-side bounds (streams take their capacity and policy from here).
    pub(crate) flow: FlowOptions,
    /// The driver's read-ahead, for [`ManagerShared::flow_snapshot`].
    pub(crate) read_ahead: Mutex<ReadAhead>,
}

impl ManagerShared {
    pub(crate) fn listener_id(&self) -> ListenerId {
        ListenerId(
            self.next_listener
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub(crate) fn socket(&self, nsp: &str) -> Option<Arc<SocketShared>> {
        lock(&self.sockets).get(nsp).cloned()
    }

    /// A stream of manager events that starts with the current state: `Open` first when
    /// open (see [`SocketShared::subscribe`] for the locking).
    pub(crate) fn subscribe(&self) -> EventStream<ManagerEvent> {
        let (tx, rx) = queue(self.flow.queue_capacity, self.flow.overflow);
        let mut l = lock(&self.listeners);
        if lock(&self.status).open {
            let _ = tx.push(ManagerEvent::Open);
        }
        l.streams.push(tx);
        rx
    }

    /// Ready when every manager stream has room.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        poll_room(&lock(&self.listeners).streams, cx)
    }

    /// Every queue's depth and the driver's read-ahead, now.
    pub(crate) fn flow_snapshot(&self) -> FlowSnapshot {
        let read_ahead = *lock(&self.read_ahead);
        let mut snapshot = FlowSnapshot {
            read_ahead_bytes: read_ahead.bytes,
            read_ahead_events: read_ahead.events,
            peak_read_ahead_bytes: read_ahead.peak_bytes,
            read_ahead_limit: self.flow.read_ahead,
            reading_paused: read_ahead.paused,
            pauses: read_ahead.pauses,
            ..FlowSnapshot::default()
        };
        for queue in &lock(&self.listeners).streams {
            queue.measure(&mut snapshot);
        }
        let sockets: Vec<Arc<SocketShared>> = lock(&self.sockets).values().cloned().collect();
        for socket in sockets {
            socket.measure(&mut snapshot);
        }
        snapshot
    }

    /// Publishes what `event` changes, settles the `open()` futures it answers, then
    /// delivers it to streams and listeners (listeners outside every lock).
    pub(crate) fn deliver(&self, event: ManagerEvent) {
        let callbacks: Vec<ManagerEventFn> = {
            let mut l = lock(&self.listeners);
            {
                let mut status = lock(&self.status);
                let outcome = match &event {
                    ManagerEvent::Open => {
                        status.open = true;
                        Some(Ok(()))
                    }
                    ManagerEvent::Close(_) => {
                        status.open = false;
                        None
                    }
                    ManagerEvent::Error(e) => Some(Err(crate::Error::Connect(Box::new(
                        crate::ConnectError::Engine(e.clone()),
                    )))),
                    _ => None,
                };
                if let Some(outcome) = outcome {
                    for waiter in lock(&self.waiters).drain(..) {
                        let _ = waiter.send(outcome.clone());
                    }
                }
            }
            send_streams(&mut l.streams, &event);
            l.events.iter().map(|(_, c)| c.clone()).collect()
        };
        for callback in callbacks {
            callback(&event);
        }
    }
}
