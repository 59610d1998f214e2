//! The [`Manager`] handle: one connection to a server, shared by the namespace sockets.

use std::sync::{Arc, Mutex};

use engineio_proto::TransportKind;
use futures_channel::mpsc::UnboundedSender;
use socketio_proto::codec::Payload;
use url::Url;

use crate::driver::{Command, Driver, DriverCell};
use crate::error::Error;
use crate::events::ManagerEvent;
use crate::options::Options;
use crate::runtime::Runtime;
use crate::shared::{ListenerId, ManagerShared, SocketShared, lock};
use crate::socket::Socket;

pub(crate) struct ManagerInner {
    pub(crate) tx: UnboundedSender<Command>,
    /// The driver, for emits written from the caller's task (see [`Driver::run_inline`]).
    pub(crate) driver: DriverCell,
    /// The driver's transport waker (see [`crate::driver::AckWait`]).
    pub(crate) io: Arc<crate::driver::IoWake>,
    pub(crate) shared: Arc<ManagerShared>,
    pub(crate) options: Options,
    pub(crate) url: Url,
    pub(crate) runtime: Arc<dyn Runtime>,
}

impl Drop for ManagerInner {
    fn drop(&mut self) {
        let _ = self.tx.unbounded_send(Command::Shutdown);
    }
}

/// One connection to a server (an Engine.IO session at a time, reconnected as needed), shared
/// by the namespace [`Socket`]s created from it. Cheap to clone; the connection shuts down
/// when the last clone and the last socket are dropped.
#[derive(Clone)]
pub struct Manager {
    pub(crate) inner: Arc<ManagerInner>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager")
            .field("url", &engineio_proto::redact::display_url(&self.inner.url))
            .finish_non_exhaustive()
    }
}

impl Manager {
    /// A manager for the server at `url` (its path is ignored: namespaces come with
    /// [`Manager::socket`]), running on `runtime`. With `auto_connect` it opens at once.
    pub fn new(url: &str, options: Options, runtime: Arc<dyn Runtime>) -> Result<Self, Error> {
        let open = options.auto_connect;
        let url = engineio_proto::parse_server_url(url)?;
        let server = crate::cache_key(&url, &options);
        Self::with_open(&url, server, options, runtime, open)
    }

    /// [`Manager::new`], opening at once only when `open`. `io()` leaves the opening to its
    /// socket's connect: a separate open command could be handled, and fail, before the
    /// socket's connect reached the driver (the client runs on its own task), which would
    /// then open a second connection.
    pub(crate) fn with_open(
        url: &Url,
        server: String,
        options: Options,
        runtime: Arc<dyn Runtime>,
        open: bool,
    ) -> Result<Self, Error> {
        let config = options.manager_config(url)?;
        runtime.check_options(&options)?;
        let mut seed = rand_core::OsRng;
        let rng = Box::new(crate::rng::SplitMix::from_os(&mut seed));
        let now = runtime.now();
        let mut manager = socketio_proto::Manager::with_waiters(config, now, rng)?;
        // `remember_upgrade` across managers, as the reference's process-wide flag does
        // (`server` is the key of `crate::cache_key`).
        manager.set_prior_websocket_success(crate::prior_websocket_success(&server));
        let shared = Arc::new(ManagerShared {
            flow: options.flow,
            ..ManagerShared::default()
        });
        let limits = crate::driver::IoLimits {
            max_ws_message: options.max_websocket_message,
            max_http_body: options.max_polling_body,
        };
        let (driver, tx) = Driver::new(
            manager,
            runtime.clone(),
            shared.clone(),
            server,
            limits,
            options.before_connect.clone(),
        );
        // One span per connection; the URL without its query, user or password, which may
        // hold tokens.
        let mut shown = url.clone();
        shown.set_query(None);
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        let span = tracing::info_span!("socketio", url = %shown);
        let driver: DriverCell = Arc::new(Mutex::new(driver));
        let io = {
            let mut locked = crate::shared::lock(&driver);
            locked.cell = Arc::downgrade(&driver);
            locked.io.clone()
        };
        runtime.spawn(Box::pin(tracing::Instrument::instrument(
            Driver::run(driver.clone()),
            span,
        )));
        if open {
            let _ = tx.unbounded_send(Command::Open);
        }
        Ok(Self {
            inner: Arc::new(ManagerInner {
                tx,
                driver,
                io,
                shared,
                options,
                url: url.clone(),
                runtime,
            }),
        })
    }

    /// The socket for namespace `nsp` with the manager's options; the same socket every time
    /// for the same namespace.
    pub fn socket(&self, nsp: &str) -> Result<Socket, Error> {
        self.socket_with(nsp, &self.inner.options.clone())
    }

    /// The socket for `nsp` with its own socket options (`auth`, `ack_timeout`, `retries`,
    /// `auto_connect`).
    pub fn socket_with(&self, nsp: &str, options: &Options) -> Result<Socket, Error> {
        let nsp = if nsp.is_empty() { "/" } else { nsp };
        if !nsp.starts_with('/') {
            return Err(socketio_proto::ConfigError::InvalidNamespace(nsp.to_owned()).into());
        }
        let existing = self.inner.shared.socket(nsp);
        let shared = match existing {
            Some(shared) => shared,
            None => {
                let config = options.socket_config()?;
                let auth = match &options.auth {
                    Some(a) => Some((Payload::from_serialize(a).map_err(Error::from)?, a.clone())),
                    None => None,
                };
                // A socket's shared state is never replaced once published (the driver keeps
                // it at hand): of two threads creating the same namespace, the first wins.
                let (shared, created) = {
                    let mut sockets = lock(&self.inner.shared.sockets);
                    match sockets.get(nsp) {
                        Some(shared) => (shared.clone(), false),
                        None => {
                            let shared =
                                Arc::new(SocketShared::new(nsp.to_owned(), options.send_buffer));
                            sockets.insert(nsp.to_owned(), shared.clone());
                            (shared, true)
                        }
                    }
                };
                if created {
                    self.send(Command::AddSocket {
                        nsp: nsp.to_owned(),
                        config,
                        auth: auth.map(Box::new),
                    })?;
                }
                shared
            }
        };
        let socket = Socket::new(self.clone(), shared);
        if options.auto_connect && !socket.active() {
            socket.connect();
        }
        Ok(socket)
    }

    /// Opens the connection if it is not open or opening (socket.io-client's
    /// `manager.open(callback)`). The connection starts opening when this is called; await
    /// the result to learn whether it opened, or drop it:
    ///
    /// ```no_run
    /// # async fn demo(manager: socketio_async::Manager) -> Result<(), socketio_async::Error> {
    /// manager.open().await?; // the Engine.IO connection is open
    /// # Ok(()) }
    /// ```
    ///
    /// Resolves at once when open; otherwise with the next opening's outcome, or
    /// [`Error::ConnectTimeout`] after the `timeout` option.
    pub fn open(&self) -> crate::socket::Connecting {
        let (tx, rx) = futures_channel::oneshot::channel();
        {
            let status = lock(&self.inner.shared.status);
            if status.open {
                return crate::socket::Connecting::ready(Ok(()));
            }
            lock(&self.inner.shared.waiters).push(tx);
        }
        if let Err(e) = self.send(Command::Open) {
            return crate::socket::Connecting::ready(Err(e));
        }
        crate::socket::Connecting::waiting(rx, self)
    }

    /// The Engine.IO session id (socket.io-client's `socket.io.engine.id`), while there is a
    /// session.
    pub fn engine_id(&self) -> Option<String> {
        lock(&self.inner.shared.status).engine_id.clone()
    }

    /// The transport in use (`socket.io.engine.transport.name`), while there is a session.
    pub fn transport(&self) -> Option<TransportKind> {
        lock(&self.inner.shared.status).transport
    }

    /// Whether the Engine.IO connection is open.
    pub fn is_open(&self) -> bool {
        lock(&self.inner.shared.status).open
    }

    /// Closes the connection and stops reconnecting (socket.io-client's
    /// `manager.disconnect()`); sockets reconnect when connected again.
    pub fn close(&self) {
        let _ = self.send(Command::Close);
    }

    /// Calls `f` for every manager event (open, close, error, ping, reconnect_*...).
    pub fn on(&self, f: impl Fn(&ManagerEvent) + Send + Sync + 'static) -> ListenerId {
        let id = self.inner.shared.listener_id();
        lock(&self.inner.shared.listeners)
            .events
            .push((id, Arc::new(f)));
        id
    }

    /// Removes a listener.
    pub fn off(&self, id: ListenerId) {
        lock(&self.inner.shared.listeners)
            .events
            .retain(|(i, _)| *i != id);
    }

    /// Manager events as a stream, starting with the current state: `Open` first when the
    /// connection is open now, then every event from now on.
    pub fn events(&self) -> crate::EventStream<ManagerEvent> {
        self.inner.shared.subscribe()
    }

    /// The depths of this connection's queues now: the driver's read-ahead and every event
    /// stream and `on_async` queue (see docs/flow-control.md). Cheap: a few locks.
    ///
    /// ```no_run
    /// # fn demo(manager: socketio_async::Manager) {
    /// let flow = manager.flow();
    /// println!("{} bytes read ahead, {} events queued", flow.read_ahead_bytes, flow.queued_events);
    /// # }
    /// ```
    pub fn flow(&self) -> crate::FlowSnapshot {
        self.inner.shared.flow_snapshot()
    }

    pub(crate) fn send(&self, command: Command) -> Result<(), Error> {
        self.inner
            .tx
            .unbounded_send(command)
            .map_err(|_| Error::Closed)
    }

    /// The answer to an emit that asked for one, read by the waiting caller itself when the
    /// driver is idle (see [`crate::driver::AckWait`]).
    pub(crate) fn ack_wait(
        &self,
        rx: futures_channel::oneshot::Receiver<
            Result<socketio_proto::codec::Payload, socketio_proto::AckError>,
        >,
    ) -> crate::driver::AckWait {
        crate::driver::AckWait::new(
            rx,
            Arc::downgrade(&self.inner.driver),
            self.inner.io.clone(),
        )
    }

    /// Sends an emit: written from this task when the driver is idle, through the driver
    /// task otherwise (see [`Driver::run_inline`]).
    pub(crate) fn send_emit(&self, command: Command) -> Result<(), Error> {
        crate::driver::send_through(Some(&self.inner.driver), &self.inner.tx, command)
    }
}
