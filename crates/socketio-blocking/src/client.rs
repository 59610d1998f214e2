//! [`Client`]: the simple blocking API, one IO thread driving a [`Connection`].

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use socketio_async::EmitArgs;
use socketio_proto::codec::{Payload, RESERVED_EVENTS};
use socketio_proto::{AckError, ConnectError, DisconnectReason, EmitOptions, SmolStr};

use crate::connection::{Builder, Connection, Notifier};
use crate::error::Error;

/// The IO thread's name (one per client), as tools like `top -H` show it.
pub const IO_THREAD_NAME: &str = "socketio-io";

type AckReply = SyncSender<Result<Payload, AckError>>;

/// What a handle asks the IO thread to do.
enum Command {
    AddSocket {
        nsp: String,
        auth: Option<Payload>,
    },
    Emit {
        nsp: String,
        payload: Payload,
        options: EmitOptions,
        reply: Option<AckReply>,
    },
    Ack {
        nsp: String,
        id: u64,
        payload: Payload,
    },
    Disconnect {
        nsp: String,
    },
    Shutdown,
}

/// A namespace as the handles see it.
#[derive(Default)]
struct Namespace {
    events: VecDeque<Event>,
    connected: bool,
    id: Option<String>,
    /// The last connect error, until the next connection.
    failure: Option<ConnectError>,
}

#[derive(Default)]
struct State {
    namespaces: HashMap<SmolStr, Namespace>,
    /// The IO thread has ended.
    closed: bool,
}

/// What the handles and the IO thread share.
struct Shared {
    commands: Mutex<Vec<Command>>,
    notifier: Notifier,
    state: Mutex<State>,
    /// Signalled on every change of `state`.
    changed: Condvar,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking user callback cannot hold these locks: the data stays consistent.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn send(&self, command: Command) -> Result<(), Error> {
        if lock(&self.state).closed {
            return Err(Error::Closed);
        }
        lock(&self.commands).push(command);
        self.notifier.notify();
        Ok(())
    }
}

/// Shuts the IO thread down when the last handle goes.
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.shared.send(Command::Shutdown);
    }
}

/// What happened on a namespace, in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// An event from the server.
    Message(Message),
    /// Connected again (after a reconnection); the first connection is
    /// [`Client::connect`]'s return.
    Connect {
        /// Whether the server restored the session (connection state recovery).
        recovered: bool,
    },
    /// A connection attempt was refused or failed.
    ConnectError(ConnectError),
    /// Disconnected; unless the reason is deliberate
    /// ([`DisconnectReason::reconnects`] is false) the client reconnects by itself.
    Disconnect(DisconnectReason),
}

/// An event from the server: its name, its arguments, and the ack it asks for, if any.
pub struct Message {
    event: SmolStr,
    payload: Payload,
    offset: Option<String>,
    ack: Option<AckRequest>,
}

struct AckRequest {
    nsp: SmolStr,
    id: u64,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("event", &self.event)
            .field("args", &self.payload.len().saturating_sub(1))
            .field("wants_ack", &self.ack.is_some())
            .finish_non_exhaustive()
    }
}

impl Message {
    /// The event name.
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The arguments as one `T`, usually a tuple: `let (room, n): (String, u32) =
    /// message.args()?`. Binary arrives as `bytes::Bytes`.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(self.payload.args(1)?)
    }

    /// Argument `index` (0 is the first after the event name).
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, Error> {
        Ok(self.payload.arg(index + 1)?)
    }

    /// `[event, args...]` as received.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The connection-state-recovery offset the server attached, when recovery is on.
    pub fn offset(&self) -> Option<&str> {
        self.offset.as_deref()
    }

    /// Whether the server asked for an ack that has not been sent.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Answers the server's ack with `args` (a tuple; `()` for none). Returns `Ok` without
    /// sending when no ack was asked for or it was already sent.
    pub fn ack<A: EmitArgs>(&mut self, args: A) -> Result<(), Error> {
        let Some(request) = self.ack.take() else {
            return Ok(());
        };
        let payload = args.to_payload(None)?;
        request.shared.send(Command::Ack {
            nsp: request.nsp.into(),
            id: request.id,
            payload,
        })
    }
}

fn event_payload<A: EmitArgs>(event: &str, args: &A) -> Result<Payload, Error> {
    if RESERVED_EVENTS.contains(&event) {
        return Err(socketio_proto::EmitError::ReservedEvent(event.to_owned()).into());
    }
    Ok(args.to_payload(Some(event))?)
}

/// A blocking Socket.IO client for one namespace: connect, emit, call (emit and wait for the
/// ack), receive. Cheap to clone, `Send` and `Sync`: emit from one thread while another
/// receives.
///
/// One background thread per connection owns the sockets and the sans-IO manager; it sleeps
/// in the OS until a socket is readable, a command arrives or the next protocol deadline
/// (heartbeat, ack timeout, reconnection delay), so an idle client costs no CPU. The
/// connection shuts down when the last clone (of every namespace's client) is dropped, or at
/// [`Client::close`].
///
/// ```no_run
/// use std::time::Duration;
/// use socketio_blocking::{Client, Event, Options};
///
/// let client = Client::connect("http://localhost:3000", Options::default())?;
/// client.emit("hello", ("world",))?;
/// let (echoed,): (String,) = client.call("echo", ("ping",), Duration::from_secs(5))?;
/// while let Some(event) = client.receive(Duration::from_secs(30))? {
///     if let Event::Message(mut message) = event {
///         println!("{}: {:?}", message.event(), message.payload().to_value());
///         message.ack(("thanks",))?; // if the server asked for one
///     }
/// }
/// client.close();
/// # Ok::<(), socketio_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    nsp: Arc<str>,
    /// Bounds [`Client::socket`]'s wait.
    timeout: Duration,
    handle: Arc<Handle>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("nsp", &self.nsp)
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

pub(crate) fn connect(builder: Builder) -> Result<Client, Error> {
    let timeout = builder.timeout();
    let nsp = builder.namespace()?;
    let mut connection = builder.connection_with_waiters()?;
    let notifier = connection.notifier()?;
    let shared = Arc::new(Shared {
        commands: Mutex::new(Vec::new()),
        notifier,
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    });
    lock(&shared.state)
        .namespaces
        .insert(nsp.as_str().into(), Namespace::default());
    // The builder connects the namespace only with `auto_connect`; this client always does.
    if let Some(mut socket) = connection.manager_mut().socket_mut(&nsp) {
        socket.connect(Instant::now());
    }
    let thread_shared = shared.clone();
    std::thread::Builder::new()
        .name(IO_THREAD_NAME.into())
        .spawn(move || run(connection, thread_shared))?;
    let client = Client {
        nsp: nsp.into(),
        timeout,
        handle: Arc::new(Handle { shared }),
    };
    client.wait_connected(timeout)?;
    Ok(client)
}

impl Client {
    /// Connects to `url` (its path is the namespace: `http://host/admin` is `/admin`) and
    /// waits until the namespace is connected, the server refuses it, or the options'
    /// `timeout` (20 s by default) passes. [`Builder`] adds TLS, a proxy and a separate
    /// timeout.
    pub fn connect(url: &str, options: socketio_async::Options) -> Result<Client, Error> {
        Builder::new(url).options(options).connect()
    }

    /// The builder for TLS, proxy and timeout options.
    pub fn builder(url: impl Into<String>) -> Builder {
        Builder::new(url)
    }

    /// Another namespace on the same connection (`auth` is its CONNECT payload, a JSON
    /// object), once connected; waits as [`Client::connect`] does.
    pub fn socket(&self, nsp: &str, auth: Option<serde_json::Value>) -> Result<Client, Error> {
        let nsp = if nsp.is_empty() { "/" } else { nsp };
        if !nsp.starts_with('/') {
            return Err(socketio_proto::ConfigError::InvalidNamespace(nsp.to_owned()).into());
        }
        let auth = match auth {
            Some(auth) if !auth.is_object() => {
                return Err(socketio_proto::ConfigError::InvalidAuth.into());
            }
            Some(auth) => Some(Payload::from_serialize(&auth)?),
            None => None,
        };
        lock(&self.shared().state)
            .namespaces
            .entry(nsp.into())
            .or_default()
            .failure = None;
        self.shared().send(Command::AddSocket {
            nsp: nsp.to_owned(),
            auth,
        })?;
        let client = Client {
            nsp: nsp.into(),
            timeout: self.timeout,
            handle: self.handle.clone(),
        };
        client.wait_connected(self.timeout)?;
        Ok(client)
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    fn wait_connected(&self, timeout: Duration) -> Result<(), Error> {
        let shared = self.shared();
        let deadline = Instant::now() + timeout;
        let mut state = lock(&shared.state);
        loop {
            let closed = state.closed;
            let namespace = state.namespaces.entry(SmolStr::new(&self.nsp)).or_default();
            if namespace.connected {
                // The caller learns of this first connection from our return, not an event.
                if let Some(Event::Connect { .. }) = namespace.events.front() {
                    namespace.events.pop_front();
                }
                return Ok(());
            }
            if let Some(error) = namespace.failure.take() {
                namespace.events.clear();
                drop(state);
                let _ = shared.send(Command::Disconnect {
                    nsp: self.nsp.to_string(),
                });
                return Err(error.into());
            }
            if closed {
                return Err(Error::Closed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                drop(state);
                let _ = shared.send(Command::Disconnect {
                    nsp: self.nsp.to_string(),
                });
                return Err(Error::Timeout);
            }
            state = shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.nsp
    }

    /// Whether the namespace is connected now.
    pub fn connected(&self) -> bool {
        lock(&self.shared().state)
            .namespaces
            .get(&*self.nsp)
            .is_some_and(|n| n.connected)
    }

    /// The socket id the server gave this namespace, while connected.
    pub fn id(&self) -> Option<String> {
        lock(&self.shared().state)
            .namespaces
            .get(&*self.nsp)
            .and_then(|n| n.id.clone())
    }

    /// Emits `event` with `args` (a tuple; binary as `bytes::Bytes`; `()` for none).
    /// Returns once queued: while disconnected the emit waits and goes out after the
    /// reconnection, as in socket.io-client.
    pub fn emit<A: EmitArgs>(&self, event: &str, args: A) -> Result<(), Error> {
        self.emit_with(event, args, EmitOptions::default())
    }

    /// [`Client::emit`], dropped instead of queued when the connection cannot take it now
    /// (socket.io-client's `volatile`).
    pub fn emit_volatile<A: EmitArgs>(&self, event: &str, args: A) -> Result<(), Error> {
        self.emit_with(event, args, EmitOptions::default().volatile())
    }

    fn emit_with<A: EmitArgs>(
        &self,
        event: &str,
        args: A,
        options: EmitOptions,
    ) -> Result<(), Error> {
        let payload = event_payload(event, &args)?;
        self.shared().send(Command::Emit {
            nsp: self.nsp.to_string(),
            payload,
            options,
            reply: None,
        })
    }

    /// Emits and blocks until the server's ack, read as `R` (usually a tuple; `Vec<Value>`
    /// for anything), or until `timeout` ([`Error::Timeout`]); a disconnection first is
    /// [`Error::Ack`].
    pub fn call<A: EmitArgs, R: DeserializeOwned>(
        &self,
        event: &str,
        args: A,
        timeout: Duration,
    ) -> Result<R, Error> {
        let payload = event_payload(event, &args)?;
        let (reply, ack) = sync_channel(1);
        self.shared().send(Command::Emit {
            nsp: self.nsp.to_string(),
            payload,
            options: EmitOptions::default().timeout(timeout),
            reply: Some(reply),
        })?;
        // The manager's own ack deadline answers first; this bound only guards against an
        // IO thread held up in a blocking connect.
        let result = match ack.recv_timeout(timeout + Duration::from_secs(1)) {
            Ok(result) => result?,
            Err(RecvTimeoutError::Timeout) => return Err(Error::Timeout),
            Err(RecvTimeoutError::Disconnected) => return Err(Error::Closed),
        };
        Ok(result.args(0)?)
    }

    /// The next event on this namespace, waiting at most `timeout`: `Ok(None)` when none
    /// came, [`Error::Closed`] once the client has shut down and every event was taken.
    pub fn receive(&self, timeout: Duration) -> Result<Option<Event>, Error> {
        self.next_event(Some(Instant::now() + timeout))
    }

    fn next_event(&self, deadline: Option<Instant>) -> Result<Option<Event>, Error> {
        let shared = self.shared();
        let mut state = lock(&shared.state);
        loop {
            let closed = state.closed;
            if let Some(event) = state
                .namespaces
                .get_mut(&*self.nsp)
                .and_then(|n| n.events.pop_front())
            {
                return Ok(Some(event));
            }
            if closed {
                return Err(Error::Closed);
            }
            state = match deadline {
                None => shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    shared
                        .changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }

    /// The events of this namespace as they come, blocking; ends when the client shuts down.
    pub fn iter(&self) -> Events<'_> {
        Events { client: self }
    }

    /// Disconnects this namespace ("io client disconnect"); the connection closes when no
    /// namespace uses it. Other clones stay usable for [`Client::receive`] of what remains.
    pub fn disconnect(&self) -> Result<(), Error> {
        self.shared().send(Command::Disconnect {
            nsp: self.nsp.to_string(),
        })
    }

    /// Closes the connection (every namespace) and ends the IO thread; later calls on any
    /// clone fail with [`Error::Closed`].
    pub fn close(&self) {
        let _ = self.shared().send(Command::Shutdown);
        let mut state = lock(&self.shared().state);
        while !state.closed {
            state = self
                .shared()
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Blocking iterator over a namespace's events ([`Client::iter`]).
#[derive(Debug)]
pub struct Events<'a> {
    client: &'a Client,
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.client.next_event(None).ok().flatten()
    }
}

impl<'a> IntoIterator for &'a Client {
    type Item = Event;
    type IntoIter = Events<'a>;

    fn into_iter(self) -> Events<'a> {
        self.iter()
    }
}

/// The IO thread: commands in, the connection stepped, events out to the handles.
fn run(mut connection: Connection<Option<AckReply>>, shared: Arc<Shared>) {
    let mut shutdown = false;
    loop {
        let commands = std::mem::take(&mut *lock(&shared.commands));
        let now = Instant::now();
        for command in commands {
            let manager = connection.manager_mut();
            match command {
                Command::AddSocket { nsp, auth } => {
                    if manager.socket(&nsp).is_none() {
                        let _ = manager.add_socket(&nsp, socketio_proto::SocketConfig::default());
                    }
                    if let Some(mut socket) = manager.socket_mut(&nsp) {
                        let _ = socket.set_auth(auth);
                        socket.connect(now);
                    }
                }
                Command::Emit {
                    nsp,
                    payload,
                    options,
                    reply,
                } => {
                    // A refused emit drops its reply: the caller sees `Closed`.
                    if let Some(mut socket) = manager.socket_mut(&nsp) {
                        let _ = match reply {
                            Some(reply) => socket.emit_with_ack(now, payload, options, Some(reply)),
                            None => socket.emit(now, payload, options),
                        };
                    }
                }
                Command::Ack { nsp, id, payload } => {
                    // A late answer (after a reconnection) is refused by the manager: the
                    // server forgot the question with the old connection.
                    if let Some(mut socket) = manager.socket_mut(&nsp) {
                        let _ = socket.ack(now, id, payload);
                    }
                }
                Command::Disconnect { nsp } => {
                    if let Some(mut socket) = manager.socket_mut(&nsp) {
                        socket.disconnect(now);
                    }
                }
                Command::Shutdown => {
                    manager.close(now);
                    shutdown = true;
                }
            }
        }
        // Everything the last wake-up produced goes to the readers under one lock and one
        // notification: a burst of events costs one hand-off, not a lock, a push and a
        // futex wake each (which made receiving cost twice the async client's CPU).
        let mut batch = Vec::new();
        while let Some(event) = connection.poll_event() {
            if let Some(delivery) = deliver(&shared, event) {
                batch.push(delivery);
            }
        }
        if !batch.is_empty() {
            let mut state = lock(&shared.state);
            for (nsp, event) in batch {
                state
                    .namespaces
                    .entry(nsp)
                    .or_default()
                    .events
                    .push_back(event);
            }
            drop(state);
            shared.changed.notify_all();
        }
        if shutdown {
            break;
        }
        if connection.wait(connection.poll_timeout()).is_err() {
            break;
        }
        connection.handle_readable();
        connection.handle_timeout(Instant::now());
    }
    // Pending calls end with `Closed` as their senders go, with the manager.
    drop(connection);
    lock(&shared.state).closed = true;
    shared.changed.notify_all();
}

/// Settles an ack, or updates the namespace's state and returns the event for its readers
/// (the caller queues a batch of them at once).
fn deliver(
    shared: &Arc<Shared>,
    event: socketio_proto::Event<Option<AckReply>>,
) -> Option<(SmolStr, Event)> {
    use socketio_proto::Event as E;
    let (nsp, event) = match event {
        E::Ack { waiter, result, .. } => {
            if let Some(reply) = waiter {
                let _ = reply.send(result);
            }
            return None;
        }
        E::Message {
            nsp,
            payload,
            ack,
            offset,
        } => {
            let event = payload.event_name().map(SmolStr::new).unwrap_or_default();
            let ack = ack.map(|id| AckRequest {
                nsp: nsp.clone(),
                id,
                shared: shared.clone(),
            });
            let message = Message {
                event,
                payload,
                offset,
                ack,
            };
            (nsp, Event::Message(message))
        }
        E::Connect {
            nsp,
            sid,
            recovered,
        } => {
            let mut state = lock(&shared.state);
            let namespace = state.namespaces.entry(nsp.clone()).or_default();
            namespace.connected = true;
            namespace.id = Some(sid);
            namespace.failure = None;
            drop(state);
            (nsp, Event::Connect { recovered })
        }
        E::ConnectError { nsp, error } => {
            lock(&shared.state)
                .namespaces
                .entry(nsp.clone())
                .or_default()
                .failure = Some(error.clone());
            (nsp, Event::ConnectError(error))
        }
        E::Disconnect { nsp, reason } => {
            let mut state = lock(&shared.state);
            let namespace = state.namespaces.entry(nsp.clone()).or_default();
            namespace.connected = false;
            namespace.id = None;
            drop(state);
            (nsp, Event::Disconnect(reason))
        }
        _ => return None,
    };
    Some((nsp, event))
}
