//! The one driver loop: one task per connection owns the sans-IO manager and every byte of its
//! IO. It reads and writes its transports itself ([`links`]), feeds the manager what happened,
//! and hands the manager's events to listeners, streams and ack futures.
//!
//! Each turn: 1. take every ready user command; 2. poll the transports (write what is queued,
//! read what is ready) and feed their reports to the manager; 3. drain `poll_output()`:
//! start IO for transmits, deliver events; 4. publish socket status; 5. fire the deadline if
//! it is due. The turn repeats while anything moved, then the task sleeps until a command, a
//! socket or the deadline wakes it. User commands reach it on one channel; IO completions
//! never cross a channel. While the driver is idle, callers use it from their own tasks: an
//! emit is written by its caller ([`Driver::run_inline`]) and a caller waiting for an ack
//! reads the answer itself ([`reader`]), so an ack is caller -> socket -> caller, with the
//! driver task woken alongside for whatever else arrived.

mod links;
mod outbox;
mod reader;
mod room;

pub(crate) use reader::{AckWait, IoWake};

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use web_time::Instant;

use engineio_proto::{PollRequest, Transmit, TransportId};
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures_channel::oneshot;
use futures_util::StreamExt;
use futures_util::future::poll_fn;
use socketio_proto::codec::Payload;
use socketio_proto::{AckError, EmitOptions, Event, Output, SmolStr, SocketConfig};

use crate::args::Args;
use crate::events::{AckSender, ManagerEvent, Message, SocketEvent};
use crate::prepare::{BeforeConnect, BoxError, ConnectAttempt};
use crate::runtime::{BoxFuture, HttpRequest, Runtime, WsRequest};
use crate::shared::{ManagerShared, lock};
use links::Links;

pub(crate) type AckReply = oneshot::Sender<Result<Payload, AckError>>;

/// The sans-IO manager, keeping each caller's ack reply with the ack it waits for (`None` for
/// the emits that ask for none): it hands the reply back in the ack's event.
pub(crate) type Manager = socketio_proto::Manager<Option<AckReply>>;

/// What user handles tell the driver.
pub(crate) enum Command {
    AddSocket {
        nsp: String,
        config: SocketConfig,
        auth: Option<Box<(Payload, serde_json::Value)>>,
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
        /// The bytes this emit reserved in its socket's send buffer; `None` for a volatile
        /// emit, which is never buffered.
        counted: Option<usize>,
    },
    /// Drop what the socket's send buffer holds.
    ClearSendBuffer {
        nsp: String,
    },
    /// Answer once everything emitted so far is written to the transport.
    Drain {
        reply: oneshot::Sender<()>,
    },
    Ack {
        nsp: String,
        id: u64,
        payload: Box<Payload>,
    },
    SetAuth {
        nsp: String,
        auth: Option<Box<(Payload, serde_json::Value)>>,
    },
    Open,
    Close,
    /// The last user handle is gone.
    Shutdown,
}

pub(crate) struct Driver {
    manager: Manager,
    runtime: Arc<dyn Runtime>,
    shared: Arc<ManagerShared>,
    /// For the ack senders handed to listeners.
    tx: UnboundedSender<Command>,
    rx: UnboundedReceiver<Command>,
    /// Every transport's IO.
    links: Links,
    /// The deadline the timer is set for, and the timer.
    timer: Option<(Instant, BoxFuture<'static, ()>)>,
    /// The last user handle is gone.
    shutdown: bool,
    /// The server's key in the process-wide `remember_upgrade` memory.
    server: String,
    limits: IoLimits,
    /// The hook run before each connection, with the open gate on when there is one.
    before_connect: Option<BeforeConnect>,
    /// The hook's run for the opening that waits at the gate, polled like the IO: the
    /// driver goes on with everything else meanwhile.
    preparing: Option<BoxFuture<'static, Result<ConnectAttempt, BoxError>>>,
    /// A hook run started during this drain.
    prepare_started: bool,
    /// Each namespace's auth as JSON, for the hook to see and change.
    auths: BTreeMap<String, serde_json::Value>,
    /// The socket the last event went to (see [`Driver::socket_shared`]).
    last_socket: Option<Arc<crate::shared::SocketShared>>,
    /// The driver task's waker, for the IO a caller starts through [`Driver::run_inline`];
    /// `None` before the task first ran and after it ended.
    waker: Option<Waker>,
    /// What the transports are polled with: wakes the driver task, and a caller waiting for
    /// an ack (see [`reader`]).
    pub(crate) io: Arc<IoWake>,
    io_waker: Waker,
    /// Its own cell, for the ack senders handed to listeners (weak: a sender kept in a
    /// listener must not keep the driver alive).
    pub(crate) cell: std::sync::Weak<Mutex<Driver>>,
    /// The read-ahead: events the manager gave out, in order, waiting for their consumers
    /// to have room (docs/flow-control.md).
    held: VecDeque<Held>,
    /// Their bytes (payloads), against `FlowOptions::read_ahead`.
    held_bytes: usize,
    /// The most `held_bytes` has been.
    peak_bytes: usize,
    /// The read-ahead is full: the transports are not read, the heartbeat is held.
    paused: bool,
    pauses: u64,
    /// The send buffer: emits waiting for their namespace and the transport.
    outbox: outbox::Outbox,
    /// How full the queues have been: when to give their room back.
    room: room::Room,
    /// Ack results due to their callers, sent once the driver's task has let go of the
    /// driver (see [`Driver::run`]).
    replies: Vec<(AckReply, Result<Payload, AckError>)>,
}

/// What the protocol tells the driver: its events carry the callers' ack replies.
type DriverEvent = Event<Option<AckReply>>;

/// An event waiting in the read-ahead, with what it counts against the budget.
struct Held {
    event: DriverEvent,
    bytes: usize,
}

/// The driver, shared by its task and the callers that write through it while it is idle.
pub(crate) type DriverCell = Arc<Mutex<Driver>>;

/// Sends `command` (an emit or an ack answer): written from the caller's task when the driver
/// is idle, through the driver task's channel otherwise (see [`Driver::run_inline`]).
pub(crate) fn send_through(
    driver: Option<&DriverCell>,
    tx: &UnboundedSender<Command>,
    command: Command,
) -> Result<(), crate::Error> {
    let command = match driver.map(|d| d.try_lock()) {
        Some(Ok(mut driver)) => match driver.run_inline(command) {
            Ok(()) => return Ok(()),
            Err(command) => command,
        },
        // Busy (its task, or another caller), poisoned by a listener's panic, or gone.
        _ => command,
    };
    tx.unbounded_send(command).map_err(|_| crate::Error::Closed)
}

/// Sends the ack results a driver poll gathered, in order.
fn send_replies(replies: Vec<(AckReply, Result<Payload, AckError>)>) {
    for (reply, result) in replies {
        let _ = reply.send(result);
    }
}

/// The links a closed driver let go of, finishing their goodbyes on the driver's task after
/// the last handle is gone. Nobody listens any more: what they report is dropped.
struct Lingering {
    links: Links,
    runtime: Arc<dyn Runtime>,
    timer: Option<(Instant, BoxFuture<'static, ()>)>,
}

impl Lingering {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.links.woken();
        loop {
            self.links.expire(self.runtime.now());
            self.links.poll(cx, &mut { usize::MAX }, |_, _| {});
            let Some(deadline) = self.links.next_deadline() else {
                return if self.links.is_empty() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
            };
            if self.timer.as_ref().map(|(at, _)| *at) != Some(deadline) {
                self.timer = Some((deadline, self.runtime.sleep_until(deadline)));
            }
            if let Some((_, sleep)) = self.timer.as_mut()
                && sleep.as_mut().poll(cx).is_pending()
            {
                return Poll::Pending;
            }
            self.timer = None;
        }
    }
}

/// The largest inputs the transports accept (see [`crate::Options`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IoLimits {
    pub(crate) max_ws_message: usize,
    pub(crate) max_http_body: usize,
}

/// Driver turns in a row before the task yields to others on its thread: a socket that is
/// always ready (a fast server) must not starve the tasks that consume its events.
const TURNS_BEFORE_YIELD: usize = 16;

/// Commands taken in one turn, for the same reason.
const COMMANDS_PER_TURN: usize = 256;

/// How long the requests and WebSockets of a connection the client let go of may take to
/// finish (the goodbye `1`, the close handshake) before they are dropped: the reference's
/// WebSocket library waits 30 s for the server's close frame, then destroys the socket.
const CLOSE_GRACE: Duration = Duration::from_secs(30);

impl Driver {
    pub(crate) fn new(
        manager: Manager,
        runtime: Arc<dyn Runtime>,
        shared: Arc<ManagerShared>,
        server: String,
        limits: IoLimits,
        before_connect: Option<BeforeConnect>,
    ) -> (Self, UnboundedSender<Command>) {
        let (tx, rx) = unbounded();
        let io = Arc::new(IoWake::default());
        let mut manager = manager;
        manager.set_open_gate(before_connect.is_some());
        let driver = Self {
            manager,
            runtime,
            shared,
            tx: tx.clone(),
            rx,
            last_socket: None,
            waker: None,
            io_waker: Waker::from(io.clone()),
            io,
            cell: std::sync::Weak::new(),
            links: Links::default(),
            timer: None,
            shutdown: false,
            server,
            limits,
            before_connect,
            preparing: None,
            prepare_started: false,
            auths: BTreeMap::new(),
            held: VecDeque::new(),
            held_bytes: 0,
            peak_bytes: 0,
            paused: false,
            pauses: 0,
            outbox: outbox::Outbox::default(),
            room: room::Room::default(),
            replies: Vec::new(),
        };
        (driver, tx)
    }

    /// Runs until the last handle is dropped; what is still in flight then (a goodbye, a
    /// close handshake) finishes within its grace.
    ///
    /// Not an `async fn`: one holds its argument and the moved-in driver side by side, which
    /// doubled the task of every idle connection (3.5 KiB where the driver is 1.7).
    ///
    /// Ack results are handed to their callers only after the driver is unlocked: a caller
    /// woken by its ack (at once, on another thread of a multi-threaded runtime) finds the
    /// driver idle and writes its next emit itself (see [`Driver::run_inline`]), where it
    /// would otherwise find the lock held by the rest of this poll, send the emit through
    /// the channel and so wake this task again while it runs (a second poll, and on tokio a
    /// notified worker thread, per ack).
    pub(crate) fn run(cell: DriverCell) -> impl Future<Output = ()> + Send {
        let mut lingering: Option<Lingering> = None;
        poll_fn(move |cx| {
            if lingering.is_none() {
                let mut driver = lock(&cell);
                if !driver
                    .waker
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    driver.waker = Some(cx.waker().clone());
                    driver.io.set_task(Some(cx.waker()));
                }
                let turned = driver.poll_turns(cx);
                // Taken whole: an idle driver keeps no room for them.
                let replies = std::mem::take(&mut driver.replies);
                if turned.is_pending() {
                    drop(driver);
                    send_replies(replies);
                    return Poll::Pending;
                }
                // No caller writes through a driver that is gone.
                driver.waker = None;
                driver.io.set_task(None);
                lingering = Some(Lingering {
                    links: std::mem::take(&mut driver.links),
                    runtime: driver.runtime.clone(),
                    timer: None,
                });
                drop(driver);
                send_replies(replies);
            }
            match lingering.as_mut() {
                Some(lingering) => lingering.poll(cx),
                None => Poll::Ready(()),
            }
        })
    }

    /// Runs an emit on the caller's task, while the driver task is idle (the caller holds the
    /// driver's lock): the packet is written to the WebSocket at once, without waking the
    /// driver task (a hop to another thread on a multi-threaded runtime, the largest part of
    /// an ack's round trip that is not the network's). Commands already in the channel go
    /// first, so a caller's commands keep their order whichever way each went. What else the
    /// command leads to (events, HTTP requests, a new deadline, a socket that cannot take the
    /// frame now) is left to the driver task, which is woken for it.
    ///
    /// Gives the command back when the driver task has not run yet or has ended.
    pub(crate) fn run_inline(&mut self, command: Command) -> Result<(), Command> {
        let Some(waker) = self.waker.clone() else {
            return Err(command);
        };
        if self.shutdown {
            return Err(command);
        }
        let now = self.runtime.now();
        while let Ok(earlier) = self.rx.try_recv() {
            self.handle(now, earlier);
            if self.shutdown {
                waker.wake_by_ref();
                return Err(command);
            }
        }
        self.handle(now, command);
        self.sync_report_outgoing();
        let mut wake = false;
        let mut outputs = 0;
        while let Some(output) = self.manager.poll_output() {
            outputs += 1;
            match output {
                Output::Transmit(t) => {
                    wake |= !matches!(t, Transmit::WsSend { .. });
                    self.transmit(t);
                }
                Output::Event(e) => {
                    // Acted on now; delivered by the driver task (listeners run there).
                    self.take_event(now, e);
                    wake = true;
                }
            }
        }
        self.room.saw(outputs);
        let mut cx = Context::from_waker(&self.io_waker);
        wake |= !self.links.write(&mut cx);
        wake |= self.outbox.is_busy();
        wake |= self.next_deadline() != self.timer.as_ref().map(|(at, _)| *at);
        if wake {
            waker.wake_by_ref();
        }
        Ok(())
    }

    /// Reads the transports on the task of a caller waiting for an ack, while the driver is
    /// idle (see [`reader`]): acks with nothing waiting before them are answered (the
    /// answers go out once the caller lets go of the driver), everything else waits in the
    /// read-ahead for the driver task, which the same wake-up woke.
    fn read_inline(&mut self) {
        if self.waker.is_none() || self.shutdown {
            return;
        }
        // The caller's `AckWait` saw a transport wake (`IoWake::take_woken`).
        self.links.woken();
        let now = self.runtime.now();
        self.poll_links(now);
        self.sync_report_outgoing();
        let mut outputs = 0;
        while let Some(output) = self.manager.poll_output() {
            outputs += 1;
            match output {
                Output::Transmit(t) => self.transmit(t),
                Output::Event(e @ Event::Ack { .. }) if self.held.is_empty() => {
                    self.deliver(now, e)
                }
                Output::Event(e) => self.take_event(now, e),
            }
        }
        self.room.saw(outputs);
        self.room.saw(self.held.len());
        // What the frames read asked to write (a pong).
        let mut cx = Context::from_waker(&self.io_waker);
        let _ = self.links.write(&mut cx);
    }

    /// Turns until nothing moves (then waits for a waker) or the budget is spent (then yields).
    fn poll_turns(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // A socket that had nothing to read is read again only once it woke (a caller
        // waiting for an ack may have read it since).
        if self.io.take_woken() {
            self.links.woken();
        }
        let result = self.turns(cx);
        self.publish_read_ahead();
        result
    }

    fn turns(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        for _ in 0..TURNS_BEFORE_YIELD {
            let now = self.runtime.now();
            let mut progress = self.take_commands(cx, now);
            if self.shutdown {
                return Poll::Ready(());
            }
            progress |= self.flush_outbox(now);
            // Room a consumer made since the last turn is used before reading more.
            progress |= self.deliver_held(cx, now);
            progress |= self.poll_links(now);
            progress |= self.poll_prepare(cx, now);
            // IO a transmit started has not been polled yet: another turn polls it (and
            // registers its waker).
            progress |= self.drain(now);
            progress |= self.deliver_held(cx, now);
            // What the turn connected or wrote may let buffered emits go.
            if self.flush_outbox(now) {
                progress |= self.drain(now);
            }
            self.check_drains();
            self.update_pause(now);
            progress |= self.poll_timer(cx);
            if !progress {
                // Asleep until a waker: what the queues grew is given back meanwhile, unless
                // bursts are still coming (see `room`).
                if self.room.sleep(now) {
                    self.manager.shrink_to_fit();
                    self.links.shrink_to_fit();
                    if self.held.is_empty() {
                        self.held = VecDeque::new();
                    }
                }
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Pauses reading when the read-ahead is full, resumes when it is not; the engine's
    /// heartbeat deadline is held meanwhile (the ping may be among what is not read).
    fn update_pause(&mut self, now: Instant) {
        let limit = self.shared.flow.read_ahead;
        let paused = if self.paused {
            self.held_bytes > limit / 2
        } else {
            self.held_bytes >= limit
        };
        if paused != self.paused {
            self.paused = paused;
            if paused {
                self.pauses += 1;
                tracing::debug!(
                    read_ahead_bytes = self.held_bytes,
                    events = self.held.len(),
                    "read-ahead full: reading paused"
                );
            } else {
                tracing::trace!(read_ahead_bytes = self.held_bytes, "reading resumed");
            }
        }
        if self
            .manager
            .engine()
            .is_some_and(|e| e.is_heartbeat_held() != paused)
        {
            self.manager.hold_heartbeat(now, paused);
        }
    }

    /// What [`crate::Manager::flow`] reports about the read-ahead.
    fn publish_read_ahead(&self) {
        let mut r = lock(&self.shared.read_ahead);
        r.bytes = self.held_bytes;
        r.events = self.held.len();
        r.peak_bytes = self.peak_bytes;
        r.paused = self.paused;
        r.pauses = self.pauses;
    }

    /// Hands held events to their consumers, in order, while the consumers have room.
    /// Returns whether any was delivered.
    fn deliver_held(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut delivered = false;
        while let Some(held) = self.held.pop_front() {
            if self.poll_room(cx, &held.event).is_pending() {
                self.held.push_front(held);
                break;
            }
            self.held_bytes -= held.bytes;
            delivered = true;
            self.deliver(now, held.event);
        }
        if delivered && self.held.is_empty() {
            // Everything the manager said is out: the published status may catch up with
            // it (while events wait, it stays that of the last one delivered).
            self.publish_status();
        }
        delivered
    }

    /// Whether every bounded queue `event` goes to has room.
    fn poll_room(&mut self, cx: &mut Context<'_>, event: &DriverEvent) -> Poll<()> {
        match event {
            Event::Message { nsp, payload, .. } => match self.socket_shared(nsp) {
                Some(socket) => socket.poll_room_message(cx, payload),
                None => Poll::Ready(()),
            },
            Event::Connect { nsp, .. }
            | Event::ConnectError { nsp, .. }
            | Event::Disconnect { nsp, .. } => match self.shared.socket(nsp) {
                Some(socket) => socket.poll_room_lifecycle(cx),
                None => Poll::Ready(()),
            },
            Event::Ack { .. } | Event::Outgoing { .. } => Poll::Ready(()),
            _ => self.shared.poll_room(cx),
        }
    }

    /// Step 1: every ready command (up to a turn's share).
    fn take_commands(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let mut progress = false;
        for _ in 0..COMMANDS_PER_TURN {
            match self.rx.poll_next_unpin(cx) {
                Poll::Ready(Some(command)) => {
                    progress = true;
                    self.handle(now, command);
                }
                Poll::Ready(None) => {
                    // Every sender is gone (the driver holds one itself, so this is only
                    // after a shutdown): nothing can reach this connection again.
                    self.shutdown = true;
                    return true;
                }
                Poll::Pending => return progress,
            }
        }
        // More may be waiting: come back after draining.
        true
    }

    /// Step 2: the transports, their reports fed to the manager as they come.
    fn poll_links(&mut self, now: Instant) -> bool {
        let manager = &mut self.manager;
        // Bytes that may still be read this turn: the read-ahead's free room. Once paused,
        // reading resumes when half of it is free, so that a consumer taking one event at a
        // time does not make the driver read, pause and hold the heartbeat per event.
        let limit = self.shared.flow.read_ahead;
        let mut allowance = if self.paused && self.held_bytes > limit / 2 {
            0
        } else {
            limit.saturating_sub(self.held_bytes)
        };
        let mut cx = Context::from_waker(&self.io_waker);
        self.links
            .poll(&mut cx, &mut allowance, |transport, event| {
                manager.handle_transport(now, transport, event)
            })
    }

    /// Step 2b: the `before_connect` hook of the opening at the gate; its result opens the
    /// engine, or fails the attempt.
    fn poll_prepare(&mut self, cx: &mut Context<'_>, now: Instant) -> bool {
        let Some(future) = self.preparing.as_mut() else {
            return false;
        };
        let Poll::Ready(result) = future.as_mut().poll(cx) else {
            return false;
        };
        self.preparing = None;
        if !self.manager.is_gated() {
            // The attempt is over already (timed out, or closed).
            return true;
        }
        match result {
            Ok(attempt) => {
                self.apply(attempt);
                self.manager.proceed_open(now);
            }
            Err(e) => {
                // The attempt fails as `ManagerError::Prepare`, with the hook's own message.
                tracing::warn!(error = %e, "before_connect failed");
                let why =
                    socketio_proto::PrepareFailure::new(format!("before_connect failed: {e}"));
                self.manager.fail_open(now, why);
            }
        }
        true
    }

    /// What the hook made of the attempt, for this and the next attempts.
    fn apply(&mut self, attempt: ConnectAttempt) {
        let engine = self.manager.engine_config_mut();
        engine.url = attempt.url;
        engine.query = attempt.query;
        engine.extra_headers = attempt.extra_headers;
        engine.transports = attempt.transports;
        for (nsp, auth) in attempt.auth {
            if self.auths.get(&nsp) == Some(&auth) {
                continue;
            }
            let Some(mut socket) = self.manager.socket_mut(&nsp) else {
                continue;
            };
            let payload = match Payload::from_serialize(&auth) {
                Ok(payload) if auth.is_object() => payload,
                _ => {
                    tracing::warn!(nsp, "before_connect gave an auth that is no JSON object");
                    continue;
                }
            };
            if let Err(e) = socket.set_auth(Some(payload)) {
                tracing::warn!(nsp, error = %e, "auth refused");
                continue;
            }
            self.auths.insert(nsp, auth);
        }
    }

    /// The attempt the hook starts from.
    fn attempt(&self, attempt: u32) -> ConnectAttempt {
        let engine = &self.manager.config().engine;
        ConnectAttempt {
            attempt,
            url: engine.url.clone(),
            query: engine.query.clone(),
            extra_headers: engine.extra_headers.clone(),
            transports: engine.transports.clone(),
            auth: self.auths.clone(),
        }
    }

    /// Step 5: arms the timer for the next deadline (the manager's or a lingering
    /// transport's) and fires it when due. Returns whether it fired.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.next_deadline() else {
            self.timer = None;
            return false;
        };
        if self.timer.as_ref().map(|(at, _)| *at) != Some(deadline) {
            self.timer = Some((deadline, self.runtime.sleep_until(deadline)));
        }
        let Some((_, sleep)) = self.timer.as_mut() else {
            return false;
        };
        if sleep.as_mut().poll(cx).is_pending() {
            return false;
        }
        self.timer = None;
        let now = self.runtime.now();
        self.manager.handle_timeout(now);
        self.links.expire(now);
        true
    }

    /// The manager's deadline or a lingering transport's, whichever comes first.
    fn next_deadline(&self) -> Option<Instant> {
        [
            self.manager.poll_timeout(),
            self.links.next_deadline(),
            self.outbox.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn handle(&mut self, now: Instant, command: Command) {
        match command {
            Command::AddSocket { nsp, config, auth } => {
                self.outbox
                    .ack_timeouts
                    .insert(nsp.clone(), config.ack_timeout);
                let (payload, json) = auth.map(|a| *a).unzip();
                if let Ok(mut socket) = self.manager.add_socket(&nsp, config) {
                    match socket.set_auth(payload) {
                        Ok(()) => {
                            if let Some(json) = json {
                                self.auths.insert(nsp, json);
                            }
                        }
                        Err(e) => tracing::warn!(nsp, error = %e, "auth refused"),
                    }
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
                counted,
            } => self.queue_emit(now, nsp, payload, options, reply, counted),
            Command::ClearSendBuffer { nsp } => self.clear_outbox(now, &nsp),
            Command::Drain { reply } => self.add_drain(reply),
            Command::Ack { nsp, id, payload } => {
                if let Some(mut s) = self.manager.socket_mut(&nsp)
                    && let Err(e) = s.ack(now, id, *payload)
                {
                    tracing::debug!(nsp, error = %e, "ack not sent");
                }
            }
            Command::SetAuth { nsp, auth } => {
                let (payload, json) = auth.map(|a| *a).unzip();
                if let Some(mut s) = self.manager.socket_mut(&nsp) {
                    match s.set_auth(payload) {
                        Ok(()) => match json {
                            Some(json) => {
                                self.auths.insert(nsp, json);
                            }
                            None => {
                                self.auths.remove(&nsp);
                            }
                        },
                        Err(e) => tracing::warn!(nsp, error = %e, "auth refused"),
                    }
                }
            }
            Command::Open => self.manager.open(now),
            Command::Close => self.manager.close(now),
            Command::Shutdown => {
                self.manager.close(now);
                // What the close queued (the goodbye) is started before the driver goes.
                let _ = self.drain(now);
                self.shutdown = true;
            }
        }
    }

    /// Hands one emit to the protocol.
    fn emit_now(
        &mut self,
        now: Instant,
        nsp: &str,
        payload: Payload,
        options: EmitOptions,
        reply: Option<AckReply>,
    ) {
        let Some(mut socket) = self.manager.socket_mut(nsp) else {
            return;
        };
        // The caller's reply travels in the protocol's ack table.
        let emitted = match reply {
            Some(reply) => socket.emit_with_ack(now, payload, options, Some(reply)),
            None => socket.emit(now, payload, options),
        };
        if let Err(e) = emitted {
            tracing::warn!(nsp, error = %e, "emit refused");
        }
    }

    /// Step 3 and 4 of the loop. Returns whether any transmit came out.
    fn drain(&mut self, now: Instant) -> bool {
        self.sync_report_outgoing();
        let mut transmitted = false;
        let mut outputs = 0;
        while let Some(output) = self.manager.poll_output() {
            outputs += 1;
            match output {
                Output::Transmit(t) => {
                    transmitted = true;
                    self.transmit(t);
                }
                Output::Event(e) => self.take_event(now, e),
            }
        }
        // The manager's queue held them all at once (and the engine's, as many packets).
        self.room.saw(outputs);
        self.room.saw(self.held.len());
        if self.preparing.is_some() && !self.manager.is_gated() {
            // The opening the hook was preparing is over (timed out, or closed).
            self.preparing = None;
        }
        // A hook that just started has not been polled yet: another turn polls it (and
        // registers its waker), like the IO a transmit started.
        transmitted || std::mem::take(&mut self.prepare_started)
    }

    /// An event the manager gave: what it asks of the IO happens now, what the user sees
    /// waits in the read-ahead, in order.
    fn take_event(&mut self, now: Instant, event: DriverEvent) {
        if let Some(e) = self.act(now, event) {
            let bytes = event_bytes(&e);
            self.held_bytes += bytes;
            self.peak_bytes = self.peak_bytes.max(self.held_bytes);
            self.held.push_back(Held { event: e, bytes });
        }
    }

    /// Whether the manager reports written events: only while someone listens to them.
    fn sync_report_outgoing(&mut self) {
        let report_outgoing = lock(&self.shared.sockets)
            .values()
            .any(|s| s.wants_outgoing());
        self.manager.set_report_outgoing(report_outgoing);
    }

    /// The user-side state of `nsp`'s socket. The last one used is kept at hand: events come
    /// in runs for one namespace, and a socket's shared state is never replaced once published.
    fn socket_shared(&mut self, nsp: &str) -> Option<&Arc<crate::shared::SocketShared>> {
        if self.last_socket.as_ref().is_none_or(|s| s.nsp != nsp) {
            self.last_socket = Some(self.shared.socket(nsp)?);
        }
        self.last_socket.as_ref()
    }

    /// The connection's engine id and transport, as of now.
    fn publish_engine(&self) {
        let engine = self.manager.engine();
        let mut status = lock(&self.shared.status);
        status.engine_id = engine.and_then(|e| e.sid()).map(str::to_owned);
        status.transport = engine.and_then(|e| e.transport());
    }

    fn publish_status(&self) {
        self.publish_engine();
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

    /// Starts the IO a transmit asks for; the next turn polls it.
    fn transmit(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::HttpGet {
                transport,
                url,
                headers,
            } => self.http(
                transport,
                PollRequest::Get,
                url,
                headers,
                bytes::Bytes::new(),
            ),
            Transmit::HttpPost {
                transport,
                url,
                headers,
                body,
            } => self.http(transport, PollRequest::Post, url, headers, body),
            Transmit::WsOpen {
                transport,
                url,
                headers,
                protocols,
            } => {
                let connecting = self.runtime.websocket(WsRequest {
                    url,
                    headers,
                    protocols,
                    max_message: self.limits.max_ws_message,
                });
                self.links.start_ws(transport, connecting);
            }
            Transmit::WsSend { transport, frame } => self.links.send(transport, frame),
            Transmit::WsClose { transport } => self.links.close_ws(transport),
        }
    }

    fn http(
        &mut self,
        transport: TransportId,
        request: PollRequest,
        url: url::Url,
        headers: Vec<engineio_proto::Header>,
        body: bytes::Bytes,
    ) {
        let pending = self.runtime.http(HttpRequest {
            post: request == PollRequest::Post,
            url,
            headers,
            body,
            max_body: self.limits.max_http_body,
        });
        self.links.start_http(transport, request, pending);
    }

    /// What an event does to the connection's IO, at once, ahead of the events waiting in
    /// the read-ahead; returns the event if the application is to see it, in order.
    fn act(&mut self, now: Instant, event: DriverEvent) -> Option<DriverEvent> {
        trace_event(&event);
        match &event {
            Event::Prepare { attempt } => {
                if let Some(hook) = &self.before_connect {
                    self.preparing = Some((hook.0)(self.attempt(*attempt)));
                    self.prepare_started = true;
                } else {
                    self.manager.proceed_open(now);
                }
                return None;
            }
            Event::Close { goodbye, .. } => self.let_go(now, *goodbye),
            // Opening failed or timed out: a handshake GET (or WebSocket) may still be
            // waiting, and nobody needs its answer.
            Event::Error(_) => self.links.drop_all(),
            Event::RememberUpgrade(worked) => {
                crate::remember_websocket(&self.server, *worked);
                return None;
            }
            _ => {}
        }
        Some(event)
    }

    /// Hands an event to the application (its consumers have room).
    fn deliver(&mut self, _now: Instant, event: DriverEvent) {
        let manager_event = match event {
            Event::Open => Some(ManagerEvent::Open),
            Event::Close { reason, .. } => Some(ManagerEvent::Close(reason)),
            Event::Error(e) => Some(ManagerEvent::Error(e)),
            Event::Ping => Some(ManagerEvent::Ping),
            Event::Upgrade(kind) => Some(ManagerEvent::Upgrade(kind)),
            Event::ReconnectAttempt(n) => Some(ManagerEvent::ReconnectAttempt(n)),
            Event::Reconnect(n) => Some(ManagerEvent::Reconnect(n)),
            Event::ReconnectError(e) => Some(ManagerEvent::ReconnectError(e)),
            Event::ReconnectFailed => Some(ManagerEvent::ReconnectFailed),
            Event::Connect {
                nsp,
                sid,
                recovered,
            } => {
                self.set_connect_error(&nsp, None);
                // The status of this moment, not of the end of the batch: a DISCONNECT right
                // behind the CONNECT (in the same payload) must not make this `connect`
                // look disconnected, with no id.
                let id = sid.clone();
                self.to_socket(
                    &nsp,
                    |status| {
                        status.id = Some(id);
                        status.connected = true;
                        status.active = true;
                        status.recovered = recovered;
                    },
                    SocketEvent::Connect { id: sid, recovered },
                );
                None
            }
            Event::ConnectError { nsp, error } => {
                // Published before the event, like `connected`: whoever subscribes late can
                // still find it with `Socket::connect_error`.
                self.set_connect_error(&nsp, Some(error.clone()));
                let active = self.manager.socket(&nsp).is_some_and(|s| s.active());
                self.to_socket(
                    &nsp,
                    |status| {
                        status.id = None;
                        status.connected = false;
                        status.active = active;
                    },
                    SocketEvent::ConnectError(error),
                );
                None
            }
            Event::Disconnect { nsp, reason } => {
                // Still active while a reconnection will bring it back; a later event of the
                // same batch (or the end of the batch) says otherwise.
                let active = reason.reconnects() && self.manager.config().reconnection;
                self.to_socket(
                    &nsp,
                    |status| {
                        status.id = None;
                        status.connected = false;
                        status.active = active;
                        status.recovered = false;
                    },
                    SocketEvent::Disconnect(reason),
                );
                None
            }
            Event::Message {
                nsp,
                payload,
                ack,
                offset,
            } => {
                let event = payload.event_name().map(SmolStr::new).unwrap_or_default();
                let ack = ack.map(|id| AckSender {
                    tx: self.tx.clone(),
                    driver: self.cell.clone(),
                    nsp: nsp.clone(),
                    id,
                });
                let message = Message::new(event, Args::new(payload, 1), offset, ack);
                if let Some(socket) = self.socket_shared(&nsp) {
                    socket.deliver_message(message);
                }
                None
            }
            Event::Ack { waiter, result, .. } => {
                // Sent once the driver is unlocked (see `Driver::run`).
                if let Some(reply) = waiter {
                    self.replies.push((reply, result));
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
            // Whoever the event wakes (an `open().await`) reads the engine's id and transport
            // of this moment, not of the end of the batch.
            self.publish_engine();
            self.shared.deliver(event);
        }
    }

    /// The engine is gone: what it left in flight is given [`CLOSE_GRACE`] to finish when
    /// the server may still be listening and is owed a goodbye (the `1` POST, the close
    /// handshake: the client closed, or the server broke the protocol), and dropped
    /// otherwise: the link is dead or the server ended it, nobody is left to tell, and a
    /// dead server never answers (a GET could trickle, a close frame wait, forever).
    fn let_go(&mut self, now: Instant, goodbye: bool) {
        if goodbye {
            self.links.linger(now + CLOSE_GRACE);
        } else {
            self.links.drop_all();
        }
    }

    fn set_connect_error(&self, nsp: &str, error: Option<crate::ConnectError>) {
        if let Some(socket) = self.shared.socket(nsp) {
            lock(&socket.status).connect_error = error;
        }
    }

    /// Sets the socket's published status to what `event` made it, then delivers `event`.
    fn to_socket(
        &self,
        nsp: &str,
        status: impl FnOnce(&mut crate::shared::SocketStatus),
        event: SocketEvent,
    ) {
        if let Some(socket) = self.shared.socket(nsp) {
            socket.deliver_lifecycle(status, event);
        }
    }
}

/// What every event and every frame read counts against the read-ahead besides its bytes,
/// so that a flood of tiny events is bounded in number too, and frames read (counted as
/// they come) and the events they become (counted as they wait) weigh the same.
pub(crate) const EVENT_COST: usize = 64;

/// What an event counts against the read-ahead: its payload's bytes (JSON and attachments),
/// or a small fixed cost for the others, so that even a flood of empty events is bounded.
fn event_bytes<W>(event: &Event<W>) -> usize {
    let payload = match event {
        Event::Message { payload, .. } => Some(payload),
        Event::Ack {
            result: Ok(payload),
            ..
        } => Some(payload),
        _ => None,
    };
    EVENT_COST
        + payload.map_or(0, |p| {
            p.json_bytes().len() + p.attachments().iter().map(|a| a.len()).sum::<usize>()
        })
}

/// Logs the connection's lifecycle: connection, upgrade and reconnection at debug/info,
/// per-message traffic at trace. Payloads, auth and query are never logged.
fn trace_event<W>(event: &Event<W>) {
    match event {
        Event::Open => tracing::debug!("engine open"),
        Event::Close {
            reason,
            description,
            ..
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
            tracing::debug!(nsp = nsp.as_str(), recovered, "namespace connected")
        }
        Event::ConnectError { nsp, error } => {
            tracing::info!(nsp = nsp.as_str(), error = %error, "namespace refused")
        }
        Event::Disconnect { nsp, reason } => {
            tracing::debug!(nsp = nsp.as_str(), reason = %reason, "namespace disconnected")
        }
        Event::Message { nsp, .. } => tracing::trace!(nsp = nsp.as_str(), "event received"),
        _ => {}
    }
}
