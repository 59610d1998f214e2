//! The [`Socket`] handle: one namespace.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_channel::oneshot;
use serde::de::DeserializeOwned;
use socketio_proto::codec::{Payload, RESERVED_EVENTS};
use socketio_proto::{EmitError, EmitOptions};

use crate::args::{Args, EmitArgs, event_payload};
use crate::driver::Command;
use crate::error::{ConnectError, DisconnectReason, Error};
use crate::events::{Message, SocketEvent};
use crate::flow::EventStream;
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
    pub fn connect_error(&self) -> Option<ConnectError> {
        lock(&self.shared.status).connect_error.clone()
    }

    /// Connects (opening the manager's connection if needed) and returns the outcome to
    /// await: `Ok` on the namespace's CONNECT, [`Error::Connect`] with the first connect
    /// error, [`Error::ConnectTimeout`] after the `timeout` option. Already connected, it
    /// resolves at once.
    ///
    /// The connection starts when this is called, awaited or not, and reconnection (when
    /// on) goes on behind a failed outcome, as socket.io-client's `socket.connect()`.
    ///
    /// ```no_run
    /// # async fn demo(socket: socketio_async::Socket) -> Result<(), socketio_async::Error> {
    /// socket.connect().await?;
    /// socket.emit("hello", "world")?;
    /// # Ok(()) }
    /// ```
    pub fn connect(&self) -> Connecting {
        let (tx, rx) = futures_channel::oneshot::channel();
        {
            let mut status = lock(&self.shared.status);
            // Shown as active right away, as in the reference.
            status.active = true;
            if status.connected {
                return Connecting::ready(Ok(()));
            }
            // Under the status lock: the driver publishes `connected` and settles the
            // waiters under it too, so this waiter is either settled or sees `connected`.
            lock(&self.shared.waiters).push(tx);
        }
        if let Err(e) = self.manager.send(Command::Connect {
            nsp: self.shared.nsp.clone(),
        }) {
            return Connecting::ready(Err(e));
        }
        Connecting::waiting(rx, &self.manager)
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
        let payload = Payload::from_serialize(&auth).map_err(Error::from)?;
        self.manager.send(Command::SetAuth {
            nsp: self.shared.nsp.clone(),
            auth: Some(Box::new((payload, auth))),
        })
    }

    /// Emits `event` with `args`: one value (`"world"`, `42`, a `serde_json::Value`,
    /// `bytes::Bytes`, a [`crate::Value`], or [`crate::One`]`(anything serializable)`), a
    /// tuple for several (`("world", 42)`), `()` for none; see [`EmitArgs`]. Before the
    /// namespace is connected the emit waits and is sent once it is.
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

    /// [`Emitter::emit_wait`]: waits for room in the send buffer, then emits.
    pub async fn emit_wait<A: EmitArgs>(&self, event: &str, args: A) -> Result<(), Error> {
        self.emitter().emit_wait(event, args).await
    }

    /// The send buffer now: emits accepted and not yet handed to the transport (offline,
    /// or while the transport is behind), their bytes, and how many were dropped.
    pub fn send_buffer(&self) -> crate::SendBufferSnapshot {
        lock(&self.shared.send).snapshot()
    }

    /// Drops every emit in the send buffer (socket.io-client's `socket.sendBuffer = []`);
    /// their acks fail with [`crate::AckError::Dropped`]. Emits made after this call are
    /// kept.
    pub fn clear_send_buffer(&self) -> Result<(), Error> {
        self.manager.send(Command::ClearSendBuffer {
            nsp: self.shared.nsp.clone(),
        })
    }

    /// Resolves once everything emitted before this call (on every socket of the
    /// connection) has been written to the transport: handed to the WebSocket and flushed,
    /// or sent in a long-polling POST that completed. While offline it waits for the
    /// connection. Fails with [`Error::Closed`] if the client shuts down first.
    ///
    /// ```no_run
    /// # async fn demo(socket: socketio_async::Socket) -> Result<(), socketio_async::Error> {
    /// socket.emit("bye", "see you")?;
    /// socket.drain().await?; // written: safe to disconnect without losing it here
    /// socket.disconnect();
    /// # Ok(()) }
    /// ```
    pub fn drain(&self) -> impl Future<Output = Result<(), Error>> + Send + 'static + use<> {
        let (tx, rx) = oneshot::channel();
        let sent = self.manager.send(Command::Drain { reply: tx });
        async move {
            sent?;
            rx.await.map_err(|_| Error::Closed)
        }
    }

    fn emitter(&self) -> Emitter<'_> {
        Emitter {
            socket: self,
            options: EmitOptions::default(),
        }
    }

    /// Calls `f` for each `event` from the server. Take the ack responder from the message
    /// with [`Message::take_ack`] when the server asked for one.
    ///
    /// `f` runs on the connection's task, in the order events arrive, before the next one
    /// is read: keep it short and never block in it (hand long work to a task, or use
    /// [`Socket::on_async`]). Registered after [`crate::io`] started the connection, a
    /// listener may miss what came first: register listeners before connecting (see
    /// [`crate::SocketBuilder`]).
    pub fn on(&self, event: &str, f: impl Fn(Message) + Send + Sync + 'static) -> ListenerId {
        self.add_message_listener(Some(event), false, false, Arc::new(f))
    }

    /// Like [`Socket::on`], once.
    pub fn once(&self, event: &str, f: impl Fn(Message) + Send + Sync + 'static) -> ListenerId {
        self.add_message_listener(Some(event), true, false, Arc::new(f))
    }

    /// Calls the async `f` for each `event`, on a task of the runtime: for handlers that
    /// await (a database, an HTTP call) without holding up the connection.
    ///
    /// Order: one listener's futures run one at a time, in the order the events arrived
    /// (each starts when the previous one finished); different listeners run concurrently.
    /// Events wait for their turn in a bounded queue (capacity and [`crate::Overflow`] policy
    /// from [`crate::Options::flow`]); with the default policy a full queue makes the
    /// connection wait (nothing is dropped), so a slow handler slows the server down instead
    /// of growing memory. Removing the listener ([`Socket::off`]) lets the queued ones
    /// finish, then its task ends.
    ///
    /// ```no_run
    /// # fn demo(socket: socketio_async::Socket) {
    /// socket.on_async("order", |mut msg| async move {
    ///     let (id,): (u64,) = msg.args.parse().unwrap_or_default();
    ///     // ... await something ...
    ///     if let Some(ack) = msg.take_ack() {
    ///         let _ = ack.send(id);
    ///     }
    /// });
    /// # }
    /// ```
    pub fn on_async<F, Fut>(&self, event: &str, f: F) -> ListenerId
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let flow = self.manager.inner.shared.flow;
        let (tx, mut rx) = crate::flow::queue::<Message>(flow.queue_capacity, flow.overflow);
        self.manager.inner.runtime.spawn(Box::pin(async move {
            use futures_util::StreamExt;
            while let Some(message) = rx.next().await {
                f(message).await;
            }
        }));
        let queue = tx.clone();
        self.add_listener(
            Some(event),
            false,
            false,
            Arc::new(move |message| {
                let _ = tx.push(message);
            }),
            Some(queue),
        )
    }

    /// Calls `f` for every event from the server, before the event's own listeners
    /// (socket.io-client's `onAny`), on the connection's task like [`Socket::on`].
    pub fn on_any(&self, f: impl Fn(Message) + Send + Sync + 'static) -> ListenerId {
        self.add_message_listener(None, false, false, Arc::new(f))
    }

    /// Like [`Socket::on_any`], called before the catch-all listeners already there
    /// (`prependAny`).
    pub fn prepend_any(&self, f: impl Fn(Message) + Send + Sync + 'static) -> ListenerId {
        self.add_message_listener(None, false, true, Arc::new(f))
    }

    /// Removes every catch-all listener (`offAny()`; remove one with [`Socket::off`]).
    pub fn off_any(&self) {
        lock(&self.shared.listeners)
            .messages
            .retain(|m| m.event.is_some());
    }

    /// The catch-all listeners, in the order they are called (`listenersAny`).
    pub fn listeners_any(&self) -> Vec<ListenerId> {
        lock(&self.shared.listeners)
            .messages
            .iter()
            .filter(|m| m.event.is_none())
            .map(|m| m.id)
            .collect()
    }

    /// Calls `f(event, payload)` for every event written to the server, when it is written
    /// (`onAnyOutgoing`), on the connection's task.
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

    /// Like [`Socket::on_any_outgoing`], called before those already there
    /// (`prependAnyOutgoing`).
    pub fn prepend_any_outgoing(
        &self,
        f: impl Fn(&str, &Payload) + Send + Sync + 'static,
    ) -> ListenerId {
        let id = self.manager.inner.shared.listener_id();
        lock(&self.shared.listeners)
            .outgoing
            .insert(0, (id, Arc::new(f)));
        id
    }

    /// Removes every outgoing listener (`offAnyOutgoing()`; one with [`Socket::off`]).
    pub fn off_any_outgoing(&self) {
        lock(&self.shared.listeners).outgoing.clear();
    }

    /// The outgoing listeners, in the order they are called (`listenersAnyOutgoing`).
    pub fn listeners_any_outgoing(&self) -> Vec<ListenerId> {
        lock(&self.shared.listeners)
            .outgoing
            .iter()
            .map(|(id, _)| *id)
            .collect()
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
        prepend: bool,
        callback: crate::shared::MessageFn,
    ) -> ListenerId {
        self.add_listener(event, once, prepend, callback, None)
    }

    fn add_listener(
        &self,
        event: Option<&str>,
        once: bool,
        prepend: bool,
        callback: crate::shared::MessageFn,
        queue: Option<crate::flow::QueueSender<Message>>,
    ) -> ListenerId {
        let id = self.manager.inner.shared.listener_id();
        let listener = MessageListener {
            id,
            event: event.map(str::to_owned),
            once,
            callback,
            queue,
        };
        let mut l = lock(&self.shared.listeners);
        if prepend {
            l.messages.insert(0, listener);
        } else {
            l.messages.push(listener);
        }
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

    /// Everything that happens to this socket, as a stream (an alternative to callbacks),
    /// starting with the current state: a [`SocketEvent::Connect`] first when connected
    /// now, then every event from now on. Messages from before the call are not replayed:
    /// make the stream before connecting to see them all (see [`crate::SocketBuilder`]).
    ///
    /// The stream is bounded ([`crate::Options::flow`]: 1,024 events, [`crate::Overflow::Wait`]
    /// by default): a stream that is not read stops the whole connection from reading once
    /// it is full, so read it, or drop it.
    pub fn events(&self) -> EventStream<SocketEvent> {
        let flow = self.manager.inner.shared.flow;
        self.shared.subscribe(flow.queue_capacity, flow.overflow)
    }

    /// [`Socket::events`] with its own capacity (events, at least 1) and [`crate::Overflow`]
    /// policy: e.g. a dashboard that only needs the latest state takes
    /// `events_with(16, Overflow::DropOldest)` and never slows the connection down.
    ///
    /// ```no_run
    /// # async fn demo(socket: socketio_async::Socket) {
    /// use futures_util::StreamExt;
    /// use socketio_async::Overflow;
    /// let mut latest = socket.events_with(16, Overflow::DropOldest);
    /// while let Some(event) = latest.next().await {
    ///     // ... slow work: events that pile up meanwhile replace the oldest ones ...
    ///     # let _ = event;
    /// }
    /// println!("missed {}", latest.dropped());
    /// # }
    /// ```
    pub fn events_with(
        &self,
        capacity: usize,
        overflow: crate::Overflow,
    ) -> EventStream<SocketEvent> {
        self.shared.subscribe(capacity, overflow)
    }
}

/// The outcome of [`Socket::connect`] or [`Manager::open`], to await (or drop: the
/// connection goes on either way).
pub struct Connecting {
    state: ConnectingState,
}

enum ConnectingState {
    Ready(Option<Result<(), Error>>),
    Waiting {
        rx: futures_channel::oneshot::Receiver<Result<(), Error>>,
        runtime: Arc<dyn crate::Runtime>,
        timeout: Option<Duration>,
        /// Armed on the first poll, so that `connect()` may be called where the runtime's
        /// timers are not reachable (a plain thread); the wait is measured from there.
        timer: Option<crate::runtime::BoxFuture<'static, ()>>,
    },
}

impl std::fmt::Debug for Connecting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connecting").finish_non_exhaustive()
    }
}

impl Connecting {
    pub(crate) fn ready(result: Result<(), Error>) -> Self {
        Self {
            state: ConnectingState::Ready(Some(result)),
        }
    }

    pub(crate) fn waiting(
        rx: futures_channel::oneshot::Receiver<Result<(), Error>>,
        manager: &Manager,
    ) -> Self {
        Self {
            state: ConnectingState::Waiting {
                rx,
                runtime: manager.inner.runtime.clone(),
                timeout: manager.inner.options.timeout,
                timer: None,
            },
        }
    }
}

impl Future for Connecting {
    type Output = Result<(), Error>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        use std::task::Poll;
        match &mut self.state {
            ConnectingState::Ready(result) => {
                Poll::Ready(result.take().unwrap_or(Err(Error::Closed)))
            }
            ConnectingState::Waiting {
                rx,
                runtime,
                timeout,
                timer,
            } => {
                if let Poll::Ready(result) = std::pin::Pin::new(rx).poll(cx) {
                    return Poll::Ready(result.unwrap_or(Err(Error::Closed)));
                }
                if timer.is_none()
                    && let Some(timeout) = timeout
                    && let Some(at) = runtime.now().checked_add(*timeout)
                {
                    *timer = Some(runtime.sleep_until(at));
                }
                if let Some(sleep) = timer
                    && sleep.as_mut().poll(cx).is_ready()
                {
                    return Poll::Ready(Err(Error::ConnectTimeout));
                }
                Poll::Pending
            }
        }
    }
}

/// What the send buffer made of an emit.
enum Admitted {
    /// In the buffer, these bytes reserved.
    Counted(usize),
    /// Volatile: never buffered.
    Volatile,
    /// Dropped by a full buffer's policy.
    Dropped,
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

    /// Emits without an ack. With a bounded send buffer that is full, fails with
    /// [`Error::SendBufferFull`] or drops an emit, as its [`crate::SendOverflow`] says.
    pub fn emit<A: EmitArgs>(self, event: &str, args: A) -> Result<(), Error> {
        let payload = self.prepare(event, &args)?;
        match self.admit(&payload)? {
            Admitted::Counted(bytes) => self.send(payload, Some(bytes), None),
            Admitted::Volatile => self.send(payload, None, None),
            Admitted::Dropped => Ok(()),
        }
    }

    /// Waits for room in the send buffer, then emits (without an ack): the emit that
    /// awaits capacity. With an unbounded buffer (the default) it emits at once.
    pub async fn emit_wait<A: EmitArgs>(self, event: &str, args: A) -> Result<(), Error> {
        let payload = self.prepare(event, &args)?;
        let counted = if self.options.volatile {
            None
        } else {
            let bytes = crate::send::payload_bytes(&payload);
            let shared = self.socket.shared.clone();
            futures_util::future::poll_fn(|cx| lock(&shared.send).poll_reserve(cx, bytes)).await;
            Some(bytes)
        };
        self.send(payload, counted, None)
    }

    /// The send buffer's word on a new emit (room reserved, never buffered, or dropped),
    /// or the error of a full buffer that fails emits.
    fn admit(&self, payload: &Payload) -> Result<Admitted, Error> {
        if self.options.volatile {
            return Ok(Admitted::Volatile);
        }
        let bytes = crate::send::payload_bytes(payload);
        match lock(&self.socket.shared.send).admit(bytes) {
            crate::send::Admit::Yes => Ok(Admitted::Counted(bytes)),
            crate::send::Admit::Full(snapshot) => Err(Error::SendBufferFull(snapshot)),
            crate::send::Admit::Drop => Ok(Admitted::Dropped),
        }
    }

    fn send(
        &self,
        payload: Payload,
        counted: Option<usize>,
        reply: Option<crate::driver::AckReply>,
    ) -> Result<(), Error> {
        let sent = self.socket.manager.send_emit(Command::Emit {
            nsp: self.socket.shared.nsp.clone(),
            payload: Box::new(payload),
            options: self.options,
            reply,
            counted,
        });
        if sent.is_err()
            && let Some(bytes) = counted
        {
            lock(&self.socket.shared.send).release(bytes, false);
        }
        sent
    }

    /// Emits and waits for the ack.
    pub fn emit_with_ack<A: EmitArgs, R: DeserializeOwned>(
        self,
        event: &str,
        args: A,
    ) -> impl Future<Output = Result<R, Error>> + Send + 'static + use<A, R> {
        // The reply is what asks for the ack: the driver hands it to the protocol as the
        // ack's waiter (`emit_with_ack`), whatever `options.ack` says.
        let (tx, rx) = oneshot::channel();
        let sent = self
            .prepare(event, &args)
            .and_then(|payload| match self.admit(&payload)? {
                Admitted::Counted(bytes) => self.send(payload, Some(bytes), Some(tx)),
                Admitted::Volatile => self.send(payload, None, Some(tx)),
                Admitted::Dropped => {
                    let _ = tx.send(Err(socketio_proto::AckError::Dropped));
                    Ok(())
                }
            });
        let answer = self.socket.manager.ack_wait(rx);
        async move {
            sent?;
            let payload = answer.await.map_err(|_| Error::Closed)??;
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
