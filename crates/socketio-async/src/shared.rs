//! State shared between the handles the user holds and the driver task: socket status,
//! listeners, event streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_channel::mpsc::UnboundedSender;
use socketio_proto::codec::Payload;

use crate::events::{ManagerEvent, Message, SocketEvent};

/// Identifies a listener, to remove it with `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(pub(crate) u64);

pub(crate) type MessageFn = Arc<dyn Fn(Message) + Send + Sync>;
pub(crate) type SocketEventFn = Arc<dyn Fn(&SocketEvent) + Send + Sync>;
pub(crate) type OutgoingFn = Arc<dyn Fn(&str, &Payload) + Send + Sync>;
pub(crate) type ManagerEventFn = Arc<dyn Fn(&ManagerEvent) + Send + Sync>;
/// Runs before a reconnection attempt opens; may change auth and query.
pub(crate) type ReconnectHookFn = Arc<dyn Fn(u32, &mut crate::ReconnectContext<'_>) + Send + Sync>;

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
}

#[derive(Default)]
pub(crate) struct SocketListeners {
    pub(crate) messages: Vec<MessageListener>,
    pub(crate) lifecycle: Vec<(ListenerId, SocketEventFn)>,
    pub(crate) outgoing: Vec<(ListenerId, OutgoingFn)>,
    pub(crate) streams: Vec<UnboundedSender<SocketEvent>>,
}

pub(crate) struct SocketShared {
    pub(crate) nsp: String,
    pub(crate) status: Mutex<SocketStatus>,
    pub(crate) listeners: Mutex<SocketListeners>,
}

impl SocketShared {
    pub(crate) fn new(nsp: String) -> Self {
        Self {
            nsp,
            status: Mutex::new(SocketStatus::default()),
            listeners: Mutex::new(SocketListeners::default()),
        }
    }

    /// Delivers a message: catch-all listeners first, then the event's own, then streams.
    /// The last consumer gets the message itself, the others a clone: with one listener and
    /// no stream (the common case) nothing is copied.
    pub(crate) fn deliver_message(&self, message: Message) {
        let (callbacks, streams) = {
            let mut l = lock(&self.listeners);
            let named = |m: &MessageListener| m.event.as_deref() == Some(message.event.as_str());
            let mut callbacks: Vec<MessageFn> = Vec::new();
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

    /// Delivers a lifecycle event to lifecycle listeners and streams.
    pub(crate) fn deliver_lifecycle(&self, event: SocketEvent) {
        let callbacks: Vec<SocketEventFn> = lock(&self.listeners)
            .lifecycle
            .iter()
            .map(|(_, c)| c.clone())
            .collect();
        for callback in callbacks {
            callback(&event);
        }
        self.deliver_stream(event);
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
            item.is_some_and(|e| s.unbounded_send(e).is_ok())
        });
    }
}

#[derive(Default)]
pub(crate) struct ManagerListeners {
    pub(crate) events: Vec<(ListenerId, ManagerEventFn)>,
    pub(crate) streams: Vec<UnboundedSender<ManagerEvent>>,
    pub(crate) reconnect_hooks: Vec<(ListenerId, ReconnectHookFn)>,
}

#[derive(Default)]
pub(crate) struct ManagerShared {
    pub(crate) sockets: Mutex<HashMap<String, Arc<SocketShared>>>,
    pub(crate) listeners: Mutex<ManagerListeners>,
    pub(crate) next_listener: std::sync::atomic::AtomicU64,
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

    pub(crate) fn deliver(&self, event: ManagerEvent) {
        let callbacks: Vec<ManagerEventFn> = lock(&self.listeners)
            .events
            .iter()
            .map(|(_, c)| c.clone())
            .collect();
        for callback in callbacks {
            callback(&event);
        }
        let mut l = lock(&self.listeners);
        l.streams
            .retain(|s| s.unbounded_send(event.clone()).is_ok());
    }
}
