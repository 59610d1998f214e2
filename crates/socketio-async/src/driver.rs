//! The one driver loop: owns the sans-IO manager, performs its transmits through the runtime,
//! feeds back what happened, and hands events to listeners, streams and ack futures.
//!
//! Each turn: 1. take every ready command or IO report and feed it to the manager;
//! 2. drain `poll_output()`: start IO for transmits, deliver events; 3. publish socket status;
//! 4. wait for the next command, IO report or the manager's deadline.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use engineio_proto::{
    Header, HttpResponse, PollRequest, Transmit, TransportEvent, TransportId, WsFrame,
};
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures_channel::oneshot;
use futures_util::StreamExt;
use futures_util::future::{Either, join_all, poll_fn, select};
use futures_util::task::AtomicWaker;
use socketio_proto::codec::Payload;
use socketio_proto::{AckError, EmitId, EmitOptions, Event, Manager, Output, SocketConfig};

use crate::args::Args;
use crate::events::{AckSender, ManagerEvent, Message, SocketEvent};
use crate::runtime::{BoxFuture, HttpRequest, Runtime, TransportFailure, WsRequest, WsSink};
use crate::shared::{ManagerShared, lock};

pub(crate) type AckReply = oneshot::Sender<Result<Payload, AckError>>;

/// What handles and IO tasks tell the driver.
pub(crate) enum Command {
    AddSocket {
        nsp: String,
        config: SocketConfig,
        auth: Option<Box<Payload>>,
    },
    Connect {
        nsp: String,
    },
    Disconnect {
        nsp: String,
    },
    // Payloads are boxed: every WebSocket frame travels in a `Command` too, and a
    // `Command` is as large as its largest variant (248 bytes with a `Payload` inline, moved
    // into and out of the channel for each frame).
    Emit {
        nsp: String,
        payload: Box<Payload>,
        options: EmitOptions,
        reply: Option<AckReply>,
    },
    Ack {
        nsp: String,
        id: u64,
        payload: Box<Payload>,
    },
    SetAuth {
        nsp: String,
        auth: Option<Box<Payload>>,
    },
    Open,
    Close,
    /// The last user handle is gone.
    Shutdown,
    Http {
        transport: TransportId,
        request: PollRequest,
        result: Result<HttpResponse, TransportFailure>,
    },
    WsOpened {
        transport: TransportId,
        headers: Vec<Header>,
        sink: Box<dyn WsSink>,
    },
    WsFrame {
        transport: TransportId,
        frame: WsFrame,
    },
    WsClosed {
        transport: TransportId,
        error: Option<String>,
    },
}

pub(crate) struct Driver {
    manager: Manager,
    runtime: Arc<dyn Runtime>,
    shared: Arc<ManagerShared>,
    tx: UnboundedSender<Command>,
    rx: UnboundedReceiver<Command>,
    acks: HashMap<EmitId, AckReply>,
    /// Open WebSockets' writer tasks, by transport.
    writers: HashMap<TransportId, UnboundedSender<WsFrame>>,
    /// Open WebSockets' reader backlogs, by transport.
    backlogs: HashMap<TransportId, Arc<Backlog>>,
    /// WebSockets asked for and not closed since.
    wanted: std::collections::HashSet<TransportId>,
    /// The receiving GET in flight on each polling transport; a message on its sender
    /// cancels it (dropping the sender does not).
    gets: HashMap<TransportId, oneshot::Sender<()>>,
    /// The same for the sending POST in flight on each polling transport.
    posts: HashMap<TransportId, oneshot::Sender<()>>,
    /// The same for each WebSocket's reader (connecting, then reading).
    readers: HashMap<TransportId, oneshot::Sender<()>>,
    shutdown: bool,
    /// The server's key in the process-wide `remember_upgrade` memory.
    server: String,
}

impl Driver {
    pub(crate) fn new(
        manager: Manager,
        runtime: Arc<dyn Runtime>,
        shared: Arc<ManagerShared>,
        server: String,
    ) -> (Self, UnboundedSender<Command>) {
        let (tx, rx) = unbounded();
        let driver = Self {
            manager,
            runtime,
            shared,
            tx: tx.clone(),
            rx,
            acks: HashMap::new(),
            writers: HashMap::new(),
            backlogs: HashMap::new(),
            wanted: std::collections::HashSet::new(),
            gets: HashMap::new(),
            posts: HashMap::new(),
            readers: HashMap::new(),
            shutdown: false,
            server,
        };
        (driver, tx)
    }

    /// Runs until the last handle is dropped.
    pub(crate) async fn run(mut self) {
        let mut sleep: Option<(Instant, BoxFuture<'static, ()>)> = None;
        loop {
            self.drain();
            if self.shutdown {
                return;
            }
            let deadline = self.manager.poll_timeout();
            if sleep.as_ref().map(|(at, _)| Some(*at)) != Some(deadline) {
                sleep = deadline.map(|at| (at, self.runtime.sleep_until(at)));
            }
            let command = match sleep.as_mut() {
                Some((_, timer)) => match select(self.rx.next(), timer.as_mut()).await {
                    Either::Left((command, _)) => command,
                    Either::Right(((), _)) => {
                        sleep = None;
                        let now = self.runtime.now();
                        self.manager.handle_timeout(now);
                        continue;
                    }
                },
                None => self.rx.next().await,
            };
            let Some(command) = command else {
                return;
            };
            self.handle(command);
            // Take whatever else is ready before draining: fewer turns under load.
            while let Ok(command) = self.rx.try_recv() {
                self.handle(command);
            }
        }
    }

    fn handle(&mut self, command: Command) {
        let now = self.runtime.now();
        match command {
            Command::AddSocket { nsp, config, auth } => {
                if let Ok(mut socket) = self.manager.add_socket(&nsp, config)
                    && let Err(e) = socket.set_auth(auth.map(|a| *a))
                {
                    tracing::warn!(nsp, error = %e, "auth refused");
                }
            }
            Command::Connect { nsp } => {
                if let Some(mut s) = self.manager.socket_mut(&nsp) {
                    s.connect(now);
                }
            }
            Command::Disconnect { nsp } => {
                if let Some(mut s) = self.manager.socket_mut(&nsp) {
                    s.disconnect(now);
                }
            }
            Command::Emit {
                nsp,
                payload,
                options,
                reply,
            } => {
                let Some(mut socket) = self.manager.socket_mut(&nsp) else {
                    return;
                };
                match socket.emit(now, *payload, options) {
                    Ok(emitted) => {
                        if let Some(reply) = reply {
                            self.acks.insert(emitted.id, reply);
                        }
                    }
                    Err(e) => tracing::warn!(nsp, error = %e, "emit refused"),
                }
            }
            Command::Ack { nsp, id, payload } => {
                if let Some(mut s) = self.manager.socket_mut(&nsp)
                    && let Err(e) = s.ack(now, id, *payload)
                {
                    tracing::debug!(nsp, error = %e, "ack not sent");
                }
            }
            Command::SetAuth { nsp, auth } => {
                if let Some(mut s) = self.manager.socket_mut(&nsp)
                    && let Err(e) = s.set_auth(auth.map(|a| *a))
                {
                    tracing::warn!(nsp, error = %e, "auth refused");
                }
            }
            Command::Open => self.manager.open(now),
            Command::Close => self.manager.close(now),
            Command::Shutdown => {
                self.manager.close(now);
                self.shutdown = true;
            }
            Command::Http {
                transport,
                request,
                result,
            } => {
                match request {
                    PollRequest::Get => self.gets.remove(&transport),
                    PollRequest::Post => self.posts.remove(&transport),
                };
                let event = match result {
                    Ok(response) => TransportEvent::HttpResponse { request, response },
                    Err(e) => TransportEvent::HttpError {
                        request,
                        description: e.0,
                    },
                };
                self.manager.handle_transport(now, transport, event);
            }
            Command::WsOpened {
                transport,
                headers,
                sink,
            } => {
                if !self.wanted.contains(&transport) {
                    // Closed while it was connecting: let it go.
                    let mut sink = sink;
                    self.runtime
                        .spawn(Box::pin(async move { sink.close().await }));
                    return;
                }
                let (tx, rx) = unbounded();
                self.writers.insert(transport, tx);
                self.runtime.spawn(Box::pin(write_frames(sink, rx)));
                self.manager
                    .handle_transport(now, transport, TransportEvent::WsOpen { headers });
            }
            Command::WsFrame { transport, frame } => {
                if let Some(backlog) = self.backlogs.get(&transport) {
                    backlog.pop();
                }
                self.manager
                    .handle_transport(now, transport, TransportEvent::WsFrame(frame));
            }
            Command::WsClosed { transport, error } => {
                self.wanted.remove(&transport);
                self.readers.remove(&transport);
                self.writers.remove(&transport);
                self.backlogs.remove(&transport);
                self.manager
                    .handle_transport(now, transport, TransportEvent::WsClose { error });
            }
        }
    }

    /// Step 2 and 3 of the loop.
    fn drain(&mut self) {
        let report_outgoing = lock(&self.shared.sockets)
            .values()
            .any(|s| s.wants_outgoing());
        self.manager.set_report_outgoing(report_outgoing);
        let mut touched = false;
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::Transmit(t) => self.transmit(t),
                Output::Event(e) => {
                    touched = true;
                    self.deliver(e);
                }
            }
        }
        if touched {
            self.publish_status();
        }
    }

    fn publish_status(&self) {
        for (nsp, shared) in lock(&self.shared.sockets).iter() {
            if let Some(socket) = self.manager.socket(nsp) {
                let mut status = lock(&shared.status);
                status.id = socket.id().map(str::to_owned);
                status.connected = socket.connected();
                status.active = socket.active();
                status.recovered = socket.recovered();
            }
        }
    }

    fn transmit(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::HttpGet {
                transport,
                url,
                headers,
            } => self.http(
                transport,
                PollRequest::Get,
                HttpRequest {
                    post: false,
                    url,
                    headers,
                    body: bytes::Bytes::new(),
                },
            ),
            Transmit::HttpPost {
                transport,
                url,
                headers,
                body,
            } => self.http(
                transport,
                PollRequest::Post,
                HttpRequest {
                    post: true,
                    url,
                    headers,
                    body,
                },
            ),
            Transmit::WsOpen {
                transport,
                url,
                headers,
                protocols,
            } => {
                self.wanted.insert(transport);
                let request = WsRequest {
                    url,
                    headers,
                    protocols,
                };
                let connecting = self.runtime.websocket(request);
                let tx = self.tx.clone();
                let backlog = Arc::new(Backlog::default());
                self.backlogs.insert(transport, backlog.clone());
                // Once its engine has failed, nobody reads this WebSocket: `cancel_in_flight`
                // drops it (a dead server never answers our close frame, and a reader waiting
                // for that answer would keep the task and the socket).
                let (cancel, cancelled) = oneshot::channel::<()>();
                self.readers.insert(transport, cancel);
                self.runtime.spawn(Box::pin(async move {
                    let reading = std::pin::pin!(read_frames(transport, connecting, tx, backlog));
                    if let Either::Right((Err(_), reading)) = select(reading, cancelled).await {
                        // The driver forgot it without cancelling (it is shutting down): the
                        // reader ends as it would have.
                        reading.await;
                    }
                }));
            }
            Transmit::WsSend { transport, frame } => {
                if let Some(writer) = self.writers.get(&transport) {
                    let _ = writer.unbounded_send(frame);
                }
            }
            Transmit::WsClose { transport } => {
                self.wanted.remove(&transport);
                // Dropping the writer's channel makes it send a close frame.
                self.writers.remove(&transport);
            }
        }
    }

    fn http(&mut self, transport: TransportId, request: PollRequest, http: HttpRequest) {
        let pending = self.runtime.http(http);
        let tx = self.tx.clone();
        // A GET lasts as long as the server likes (a long poll; a body that trickles forever),
        // and a POST into a dead link forever: once its engine has failed, nobody waits for
        // either, and `cancel_in_flight` drops them with their connections. After a clean
        // close POSTs finish on their own (and carry the goodbye `1`).
        let (cancel, cancelled) = oneshot::channel::<()>();
        match request {
            PollRequest::Get => self.gets.insert(transport, cancel),
            PollRequest::Post => self.posts.insert(transport, cancel),
        };
        self.runtime.spawn(Box::pin(async move {
            let result = match select(pending, cancelled).await {
                Either::Left((result, _)) => result,
                Either::Right((Ok(()), _)) => return,
                // The driver forgot it without cancelling (it is shutting down): the request
                // ends as it would have.
                Either::Right((Err(_), pending)) => pending.await,
            };
            let _ = tx.unbounded_send(Command::Http {
                transport,
                request,
                result,
            });
        }));
    }

    fn deliver(&mut self, event: Event) {
        trace_event(&event);
        let manager_event = match event {
            Event::Open => Some(ManagerEvent::Open),
            Event::Close { reason, .. } => {
                // A failed engine is gone at once, and its requests and WebSockets are
                // answered to nobody. A closed one (the caller's close) may still be finishing
                // an upgrade and its goodbye, which need its GET: they get `CLOSE_GRACE`.
                if matches!(
                    reason,
                    socketio_proto::DisconnectReason::ForcedClose
                        | socketio_proto::DisconnectReason::IoClientDisconnect
                ) {
                    self.cancel_in_flight_later();
                } else {
                    self.cancel_in_flight();
                }
                Some(ManagerEvent::Close(reason))
            }
            Event::Error(e) => {
                // Opening failed or timed out: a handshake GET (or WebSocket) may still be
                // waiting.
                self.cancel_in_flight();
                Some(ManagerEvent::Error(e.to_string()))
            }
            Event::Ping => Some(ManagerEvent::Ping),
            Event::Upgrade(kind) => Some(ManagerEvent::Upgrade(kind)),
            Event::RememberUpgrade(worked) => {
                crate::remember_websocket(&self.server, worked);
                None
            }
            Event::ReconnectAttempt(n) => {
                self.run_reconnect_hooks(n);
                Some(ManagerEvent::ReconnectAttempt(n))
            }
            Event::Reconnect(n) => Some(ManagerEvent::Reconnect(n)),
            Event::ReconnectError(e) => Some(ManagerEvent::ReconnectError(e.to_string())),
            Event::ReconnectFailed => Some(ManagerEvent::ReconnectFailed),
            Event::Connect { nsp, recovered, .. } => {
                self.set_connect_error(&nsp, None);
                self.to_socket(&nsp, SocketEvent::Connect { recovered });
                None
            }
            Event::ConnectError { nsp, error } => {
                // Published before the event, like `connected`: whoever subscribes late can
                // still find it with `Socket::connect_error`.
                self.set_connect_error(&nsp, Some(error.clone()));
                self.to_socket(&nsp, SocketEvent::ConnectError(error));
                None
            }
            Event::Disconnect { nsp, reason } => {
                self.to_socket(&nsp, SocketEvent::Disconnect(reason));
                None
            }
            Event::Message {
                nsp,
                payload,
                ack,
                offset,
            } => {
                let event = payload
                    .event_name()
                    .map(|n| n.into_owned())
                    .unwrap_or_default();
                let ack = ack.map(|id| AckSender {
                    tx: self.tx.clone(),
                    nsp: nsp.clone(),
                    id,
                });
                let message = Message::new(event, Args::new(payload, 1), offset, ack);
                if let Some(socket) = self.shared.socket(&nsp) {
                    socket.deliver_message(message);
                }
                None
            }
            Event::Ack { emit, result, .. } => {
                if let Some(reply) = self.acks.remove(&emit) {
                    let _ = reply.send(result);
                }
                None
            }
            Event::Outgoing { nsp, payload } => {
                if let Some(socket) = self.shared.socket(&nsp) {
                    socket.deliver_outgoing(&payload);
                }
                None
            }
            _ => None,
        };
        if let Some(event) = manager_event {
            self.shared.deliver(event);
        }
    }

    /// Gives what is in flight at a clean close [`CLOSE_GRACE`] to finish (the goodbye, the
    /// close handshake), then drops whatever is left: on a dead link none of it would ever end.
    fn cancel_in_flight_later(&mut self) {
        // The closing engine still uses these transports: only their cancels are taken.
        let cancels: Vec<oneshot::Sender<()>> = (self.readers.drain())
            .chain(self.gets.drain())
            .chain(self.posts.drain())
            .map(|(_, cancel)| cancel)
            .collect();
        if cancels.is_empty() {
            return;
        }
        let grace = self.runtime.sleep_until(self.runtime.now() + CLOSE_GRACE);
        self.runtime.spawn(Box::pin(async move {
            let mut cancels = cancels;
            let expired = {
                // Done early once every one of them has finished by itself.
                let finished = join_all(cancels.iter_mut().map(|c| c.cancellation()));
                matches!(
                    select(grace, std::pin::pin!(finished)).await,
                    Either::Left(_)
                )
            };
            if expired {
                for cancel in cancels {
                    let _ = cancel.send(());
                }
            }
        }));
    }

    /// Drops every request and WebSocket reader in flight: their engine is gone.
    fn cancel_in_flight(&mut self) {
        for (transport, cancel) in self.readers.drain() {
            // A cancelled reader never reports its close: forget the WebSocket here.
            self.wanted.remove(&transport);
            self.writers.remove(&transport);
            self.backlogs.remove(&transport);
            let _ = cancel.send(());
        }
        for (_, cancel) in self.gets.drain().chain(self.posts.drain()) {
            let _ = cancel.send(());
        }
    }

    fn set_connect_error(&self, nsp: &str, error: Option<crate::ConnectError>) {
        if let Some(socket) = self.shared.socket(nsp) {
            lock(&socket.status).connect_error = error;
        }
    }

    fn to_socket(&self, nsp: &str, event: SocketEvent) {
        self.publish_status();
        if let Some(socket) = self.shared.socket(nsp) {
            socket.deliver_lifecycle(event);
        }
    }

    fn run_reconnect_hooks(&mut self, attempt: u32) {
        let hooks: Vec<_> = lock(&self.shared.listeners)
            .reconnect_hooks
            .iter()
            .map(|(_, h)| h.clone())
            .collect();
        let mut context = crate::ReconnectContext {
            manager: &mut self.manager,
        };
        for hook in hooks {
            hook(attempt, &mut context);
        }
    }
}

/// Logs the connection's lifecycle: connection, upgrade and reconnection at debug/info,
/// per-message traffic at trace. Payloads, auth and query are never logged.
fn trace_event(event: &Event) {
    match event {
        Event::Open => tracing::debug!("engine open"),
        Event::Close {
            reason,
            description,
        } => {
            tracing::info!(reason = %reason, description = ?description, "connection closed")
        }
        Event::Error(e) => tracing::info!(error = %e, "connection failed"),
        Event::Upgrade(kind) => tracing::debug!(transport = %kind, "upgraded"),
        Event::ReconnectAttempt(n) => tracing::info!(attempt = n, "reconnecting"),
        Event::Reconnect(n) => tracing::info!(attempts = n, "reconnected"),
        Event::ReconnectError(e) => tracing::debug!(error = %e, "reconnection attempt failed"),
        Event::ReconnectFailed => tracing::warn!("reconnection gave up"),
        Event::Connect { nsp, recovered, .. } => {
            tracing::debug!(nsp, recovered, "namespace connected")
        }
        Event::ConnectError { nsp, error } => {
            tracing::info!(nsp, error = %error, "namespace refused")
        }
        Event::Disconnect { nsp, reason } => {
            tracing::debug!(nsp, reason = %reason, "namespace disconnected")
        }
        Event::Message { nsp, .. } => tracing::trace!(nsp, "event received"),
        _ => {}
    }
}

/// Owns a WebSocket's writing half: sends frames in order, closes when the driver lets go.
async fn write_frames(mut sink: Box<dyn WsSink>, mut rx: UnboundedReceiver<WsFrame>) {
    while let Some(frame) = rx.next().await {
        if let Err(e) = sink.send(frame).await {
            tracing::debug!(error = %e, "websocket write failed");
            // The reader sees the failure too and reports the close.
            break;
        }
    }
    sink.close().await;
}

/// Frames one WebSocket reader may have handed the driver that the driver has not handled
/// yet. Past it the reader stops reading, so a server that sends faster than the listeners
/// take fills the socket's buffers (and TCP slows the server down) instead of this process's
/// memory: without it, receiving a million small events from a fast server queued hundreds of
/// MB of commands (measured with bench/, `socketio-bench recv`).
const MAX_QUEUED_FRAMES: usize = 1024;

/// How long the requests and WebSockets of a cleanly closed connection may take to finish
/// (the goodbye `1`, the close handshake) before they are dropped: the reference's WebSocket
/// library waits 30 s for the server's close frame, then destroys the socket.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(30);
/// A full reader resumes once the driver is down to this many: waking it for every frame
/// handled would cost a cross-thread wake-up per frame.
const RESUME_QUEUED_FRAMES: usize = MAX_QUEUED_FRAMES / 4;

/// A WebSocket reader's count of frames in the driver's queue.
#[derive(Default)]
struct Backlog {
    queued: AtomicUsize,
    reader: AtomicWaker,
}

impl Backlog {
    /// Waits until the reader may hand over one more frame, and counts it.
    async fn push(&self) {
        poll_fn(|cx| {
            if self.queued.load(Ordering::Acquire) < MAX_QUEUED_FRAMES {
                return std::task::Poll::Ready(());
            }
            self.reader.register(cx.waker());
            // The driver may have made room before the registration.
            if self.queued.load(Ordering::Acquire) <= RESUME_QUEUED_FRAMES {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        self.queued.fetch_add(1, Ordering::AcqRel);
    }

    /// The driver took one frame: wakes the reader if it may be waiting for room.
    fn pop(&self) {
        if self.queued.fetch_sub(1, Ordering::AcqRel) == RESUME_QUEUED_FRAMES + 1 {
            self.reader.wake();
        }
    }
}

/// Connects a WebSocket, then reports every frame until it closes.
async fn read_frames(
    transport: TransportId,
    connecting: BoxFuture<'static, Result<crate::runtime::WsConnection, TransportFailure>>,
    tx: UnboundedSender<Command>,
    backlog: Arc<Backlog>,
) {
    let connection = match connecting.await {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.unbounded_send(Command::WsClosed {
                transport,
                error: Some(e.0),
            });
            return;
        }
    };
    let mut stream = connection.stream;
    if tx
        .unbounded_send(Command::WsOpened {
            transport,
            headers: connection.headers,
            sink: connection.sink,
        })
        .is_err()
    {
        return;
    }
    loop {
        backlog.push().await;
        match stream.next().await {
            Some(Ok(frame)) => {
                if tx
                    .unbounded_send(Command::WsFrame { transport, frame })
                    .is_err()
                {
                    return;
                }
            }
            Some(Err(e)) => {
                let _ = tx.unbounded_send(Command::WsClosed {
                    transport,
                    error: Some(e.0),
                });
                return;
            }
            None => {
                let _ = tx.unbounded_send(Command::WsClosed {
                    transport,
                    error: None,
                });
                return;
            }
        }
    }
}
