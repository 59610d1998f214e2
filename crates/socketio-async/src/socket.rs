//! The [`Socket`] handle: one namespace.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_channel::mpsc::unbounded;
use futures_channel::oneshot;
use futures_util::Stream;
use serde::de::DeserializeOwned;
use socketio_proto::codec::{Payload, RESERVED_EVENTS};
use socketio_proto::{EmitError, EmitOptions};

use crate::args::{Args, EmitArgs, event_payload};
use crate::driver::Command;
use crate::error::{ConnectError, DisconnectReason, Error};
use crate::events::{Message, SocketEvent};
use crate::manager::Manager;
use crate::shared::{ListenerId, MessageListener, SocketShared, lock};

/// A namespace socket: emit, listen, connect, disconnect. Cheap to clone.
#[derive(Clone)]
pub struct Socket {
    manager: Manager,
    shared: Arc<SocketShared>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("nsp", &self.shared.nsp)
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

impl Socket {
    pub(crate) fn new(manager: Manager, shared: Arc<SocketShared>) -> Self {
        Self { manager, shared }
    }

    /// The manager this socket uses (socket.io-client's `socket.io`).
    pub fn io(&self) -> &Manager {
        &self.manager
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.shared.nsp
    }

    /// The socket id from the server, while connected.
    pub fn id(&self) -> Option<String> {
        lock(&self.shared.status).id.clone()
    }

    /// Whether the namespace is connected.
    pub fn connected(&self) -> bool {
        lock(&self.shared.status).connected
    }

    /// Whether the socket reconnects on its own (false after `disconnect()`, a server
    /// disconnect or a refused connection).
    pub fn active(&self) -> bool {
        lock(&self.shared.status).active
    }

    /// Whether the last connection restored the previous session.
    pub fn recovered(&self) -> bool {
        lock(&self.shared.status).recovered
    }

    /// Why the last attempt to connect failed, until the next successful connection.
    ///
    /// The client runs on its own task, so a stream made with [`Socket::events`] after
    /// [`crate::io`] may come too late for the first attempt's outcome; check
    /// [`Socket::connected`] and this after subscribing (or create the socket with
    /// `auto_connect(false)`, subscribe, then [`Socket::connect`]).
    pub fn connect_error(&self) -> Option<ConnectError> {
        lock(&self.shared.status).connect_error.clone()
    }

    /// Connects (opening the manager's connection if needed). Returns at once; listen for
    /// [`SocketEvent::Connect`].
    pub fn connect(&self) -> &Self {
        // Shown as active right away, as in the reference.
        lock(&self.shared.status).active = true;
        let _ = self.manager.send(Command::Connect {
            nsp: self.shared.nsp.clone(),
        });
        self
    }

    /// Disconnects ("io client disconnect"); the connection closes if no other namespace uses
    /// it.
    pub fn disconnect(&self) -> &Self {
        lock(&self.shared.status).active = false;
        let _ = self.manager.send(Command::Disconnect {
            nsp: self.shared.nsp.clone(),
        });
        self
    }

    /// Replaces the CONNECT payload for the next connections (a JSON object).
    pub fn set_auth(&self, auth: serde_json::Value) -> Result<(), Error> {
        if !auth.is_object() {
            return Err(socketio_proto::ConfigError::InvalidAuth.into());
        }
        let payload = Payload::from_serialize(&auth).map_err(|e| Error::Payload(e.to_string()))?;
        self.manager.send(Command::SetAuth {
            nsp: self.shared.nsp.clone(),
            auth: Some(Box::new(payload)),
        })
    }

    /// Emits `event` with `args` (a tuple; binary as `bytes::Bytes`). Before the namespace is
    /// connected the emit waits and is sent once it is.
    pub fn emit<A: EmitArgs>(&self, event: &str, args: A) -> Result<(), Error> {
        self.emitter().emit(event, args)
    }

    /// Emits and waits for the server's ack; `R` is the ack's arguments, usually a tuple.
    pub fn emit_with_ack<A: EmitArgs, R: DeserializeOwned>(
        &self,
        event: &str,
        args: A,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static + use<A, R> {
        self.emitter().emit_with_ack(event, args)
    }

    /// The next emit fails its ack with a timeout after `timeout`.
    pub fn timeout(&self, timeout: Duration) -> Emitter<'_> {
        self.emitter().timeout(timeout)
    }

    /// The next emit is dropped if the connection cannot take it now.
    pub fn volatile(&self) -> Emitter<'_> {
        self.emitter().volatile()
    }

    fn emitter(&self) -> Emitter<'_> {
        Emitter {
            socket: self,
            options: EmitOptions::default(),
        }
    }

    /// Calls `f` for each `event` from the server. Take the ack responder from the message
    /// with [`Message::take_ack`] when the server asked for one.
    pub fn on(&self, event: &str, f: impl Fn(Message) + Send + Sync + 'static) -> ListenerId {
        self.add_message_listener(Some(event), false, Arc::new(f))
    }

    /// Like [`Socket::on`], once.
    pub fn once(&self, event: &str, f: impl Fn(Message) + Send + Sync + 'static) -> ListenerId {
        self.add_message_listener(Some(event), true, Arc::new(f))
    }

    /// Calls `f` for every event from the server, before the event's own listeners
    /// (socket.io-client's `onAny`).
    pub fn on_any(&self, f: impl Fn(Message) + Send + Sync + 'static) -> ListenerId {
        self.add_message_listener(None, false, Arc::new(f))
    }

    /// Calls `f(event, payload)` for every event written to the server, when it is written
    /// (`onAnyOutgoing`).
    pub fn on_any_outgoing(
        &self,
        f: impl Fn(&str, &Payload) + Send + Sync + 'static,
    ) -> ListenerId {
        let id = self.manager.inner.shared.listener_id();
        lock(&self.shared.listeners)
            .outgoing
            .push((id, Arc::new(f)));
        id
    }

    /// Calls `f(recovered)` on every connection to the namespace.
    pub fn on_connect(&self, f: impl Fn(bool) + Send + Sync + 'static) -> ListenerId {
        self.on_lifecycle(move |e| {
            if let SocketEvent::Connect { recovered, .. } = e {
                f(*recovered);
            }
        })
    }

    /// Calls `f(reason)` on every disconnection.
    pub fn on_disconnect(
        &self,
        f: impl Fn(DisconnectReason) + Send + Sync + 'static,
    ) -> ListenerId {
        self.on_lifecycle(move |e| {
            if let SocketEvent::Disconnect(reason) = e {
                f(*reason);
            }
        })
    }

    /// Calls `f(error)` when connecting fails (`connect_error`).
    pub fn on_connect_error(
        &self,
        f: impl Fn(&ConnectError) + Send + Sync + 'static,
    ) -> ListenerId {
        self.on_lifecycle(move |e| {
            if let SocketEvent::ConnectError(err) = e {
                f(err);
            }
        })
    }

    fn on_lifecycle(&self, f: impl Fn(&SocketEvent) + Send + Sync + 'static) -> ListenerId {
        let id = self.manager.inner.shared.listener_id();
        lock(&self.shared.listeners)
            .lifecycle
            .push((id, Arc::new(f)));
        id
    }

    fn add_message_listener(
        &self,
        event: Option<&str>,
        once: bool,
        callback: crate::shared::MessageFn,
    ) -> ListenerId {
        let id = self.manager.inner.shared.listener_id();
        lock(&self.shared.listeners).messages.push(MessageListener {
            id,
            event: event.map(str::to_owned),
            once,
            callback,
        });
        id
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) {
        let mut l = lock(&self.shared.listeners);
        l.messages.retain(|m| m.id != id);
        l.lifecycle.retain(|(i, _)| *i != id);
        l.outgoing.retain(|(i, _)| *i != id);
    }

    /// Removes every listener of `event`.
    pub fn off_event(&self, event: &str) {
        lock(&self.shared.listeners)
            .messages
            .retain(|m| m.event.as_deref() != Some(event));
    }

    /// Everything that happens to this socket from now on, as a stream: an alternative to
    /// callbacks. Events from before the call are not replayed: see [`Socket::connected`]
    /// and [`Socket::connect_error`] for the state so far.
    pub fn events(&self) -> impl Stream<Item = SocketEvent> + Send + Unpin + use<> {
        let (tx, rx) = unbounded();
        lock(&self.shared.listeners).streams.push(tx);
        rx
    }
}

/// One emit with flags: [`Socket::timeout`], [`Socket::volatile`].
#[derive(Debug)]
pub struct Emitter<'a> {
    socket: &'a Socket,
    options: EmitOptions,
}

impl Emitter<'_> {
    /// The ack fails with a timeout after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Dropped if the connection cannot take it now.
    pub fn volatile(mut self) -> Self {
        self.options.volatile = true;
        self
    }

    /// Emits without an ack.
    pub fn emit<A: EmitArgs>(self, event: &str, args: A) -> Result<(), Error> {
        let payload = self.prepare(event, &args)?;
        self.socket.manager.send(Command::Emit {
            nsp: self.socket.shared.nsp.clone(),
            payload: Box::new(payload),
            options: self.options,
            reply: None,
        })
    }

    /// Emits and waits for the ack.
    pub fn emit_with_ack<A: EmitArgs, R: DeserializeOwned>(
        mut self,
        event: &str,
        args: A,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static + use<A, R> {
        self.options.ack = true;
        let (tx, rx) = oneshot::channel();
        let sent = self.prepare(event, &args).and_then(|payload| {
            self.socket.manager.send(Command::Emit {
                nsp: self.socket.shared.nsp.clone(),
                payload: Box::new(payload),
                options: self.options,
                reply: Some(tx),
            })
        });
        async move {
            sent?;
            let payload = rx.await.map_err(|_| Error::Closed)??;
            Args::new(payload, 0).parse()
        }
    }

    fn prepare<A: EmitArgs>(&self, event: &str, args: &A) -> Result<Payload, Error> {
        if RESERVED_EVENTS.contains(&event) {
            return Err(EmitError::ReservedEvent(event.to_owned()).into());
        }
        event_payload(event, args)
    }
}
