//! A deterministic [`Runtime`]: a FIFO executor run by the test thread, a virtual clock that
//! moves only when the test says so, and HTTP / WebSocket wired straight into the test kit's
//! [`FakeServer`] with no latency.
//!
//! Nothing here runs on its own: [`Sim::run`] polls the ready tasks until none is left,
//! [`Sim::advance`] moves the clock one deadline at a time (the driver's sleeps and the
//! server's pings), and [`Sim::block_on`] does both until a future completes.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use engineio_proto::{Header, HttpResponse, WsFrame};
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures_channel::oneshot;
use futures_util::StreamExt;
use socketio_async::Runtime;
use socketio_async::runtime::{
    BoxFuture, HttpRequest, TransportFailure, WebSocket, WsConnection, WsRequest,
};
use socketio_test_kit::{
    Application, ConnId, FakeServer, HttpRequest as ServerRequest, Method, RequestId, ServerConfig,
    ServerOutput,
};

/// How much virtual time [`Sim::block_on`] may spend before calling the test stuck.
const BLOCK_ON_LIMIT: Duration = Duration::from_secs(600);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

// ----- the executor -----

struct Task {
    future: Mutex<Option<BoxFuture<'static, ()>>>,
    queued: AtomicBool,
    executor: Weak<Executor>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {
        if !self.queued.swap(true, Ordering::SeqCst)
            && let Some(executor) = self.executor.upgrade()
        {
            lock(&executor.ready).push_back(self);
        }
    }
}

#[derive(Default)]
struct Executor {
    ready: Mutex<VecDeque<Arc<Task>>>,
    /// Spawned and not finished.
    live: AtomicUsize,
}

impl Executor {
    fn spawn(self: &Arc<Self>, future: BoxFuture<'static, ()>) {
        self.live.fetch_add(1, Ordering::SeqCst);
        let task = Arc::new(Task {
            future: Mutex::new(Some(future)),
            queued: AtomicBool::new(true),
            executor: Arc::downgrade(self),
        });
        lock(&self.ready).push_back(task);
    }

    /// Polls ready tasks, in the order they became ready, until none is. Returns how many
    /// polls it made.
    fn run_ready(&self) -> usize {
        let mut polls = 0;
        loop {
            let Some(task) = lock(&self.ready).pop_front() else {
                return polls;
            };
            task.queued.store(false, Ordering::SeqCst);
            let Some(mut future) = lock(&task.future).take() else {
                continue;
            };
            polls += 1;
            assert!(
                polls < 1_000_000,
                "tasks keep waking each other: a livelock"
            );
            let waker = Waker::from(task.clone());
            match future.as_mut().poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(()) => {
                    self.live.fetch_sub(1, Ordering::SeqCst);
                }
                Poll::Pending => *lock(&task.future) = Some(future),
            }
        }
    }
}

// ----- the clock -----

struct SleepState {
    deadline: Instant,
    waker: Mutex<Option<Waker>>,
}

struct Sleep {
    state: Arc<SleepState>,
    shared: Arc<Shared>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.shared.now() >= self.state.deadline {
            return Poll::Ready(());
        }
        *lock(&self.state.waker) = Some(cx.waker().clone());
        Poll::Pending
    }
}

// ----- the network -----

/// The server and what is waiting on it.
struct Net<A: Application> {
    server: FakeServer<A>,
    next_request: u64,
    next_conn: u64,
    http: HashMap<RequestId, oneshot::Sender<Result<HttpResponse, TransportFailure>>>,
    connecting: HashMap<ConnId, oneshot::Sender<Result<WsConnection, TransportFailure>>>,
    /// Open WebSockets: where the server's frames go.
    sockets: HashMap<ConnId, UnboundedSender<Result<WsFrame, TransportFailure>>>,
    /// WebSockets the server closed: the client's late frames are lost on the way.
    server_closed: Vec<ConnId>,
    /// Every request and WebSocket URL, in order, for assertions.
    requests: Vec<(String, url::Url, Vec<Header>)>,
    /// While set, new requests and WebSockets reach nobody and are never answered (a server
    /// that accepts connections and says nothing), and open ones carry nothing either way,
    /// closes included (a link that died silently).
    blackhole: bool,
    /// What the black hole swallowed, kept so the client's futures stay pending.
    swallowed: Vec<Box<dyn std::any::Any + Send>>,
}

/// The network seen from the runtime: object-safe so the runtime does not carry `A`.
trait Network: Send {
    fn http(
        &mut self,
        now: Instant,
        request: HttpRequest,
        shared: &Arc<Shared>,
    ) -> oneshot::Receiver<Result<HttpResponse, TransportFailure>>;
    fn ws_connect(
        &mut self,
        now: Instant,
        request: WsRequest,
        shared: &Arc<Shared>,
    ) -> oneshot::Receiver<Result<WsConnection, TransportFailure>>;
    fn ws_frame(&mut self, now: Instant, conn: ConnId, frame: WsFrame);
    fn ws_close(&mut self, now: Instant, conn: ConnId);
    fn flush(&mut self, shared: &Arc<Shared>);
    fn timeout(&self) -> Option<Instant>;
    fn fire(&mut self, now: Instant, shared: &Arc<Shared>);
    fn requests(&self) -> Vec<(String, url::Url, Vec<Header>)>;
    fn server_any(&mut self) -> &mut dyn std::any::Any;
    fn set_blackhole(&mut self, on: bool);
}

impl<A: Application + Send + 'static> Net<A> {
    /// Hands what the server produced to whoever waits for it.
    fn deliver(&mut self, shared: &Arc<Shared>) {
        while let Some(output) = self.server.poll_output() {
            if self.blackhole {
                self.swallow(output);
                continue;
            }
            match output {
                ServerOutput::HttpResponse { request, response } => {
                    if let Some(tx) = self.http.remove(&request) {
                        let _ = tx.send(Ok(response));
                    }
                }
                ServerOutput::HttpAbort { request } => {
                    if let Some(tx) = self.http.remove(&request) {
                        let _ = tx.send(Err(TransportFailure::new(
                            socketio_async::runtime::IoErrorKind::Other,
                            "connection reset",
                        )));
                    }
                }
                ServerOutput::WsAccept { conn, headers } => {
                    let (tx, rx) = unbounded();
                    self.sockets.insert(conn, tx);
                    let connection = WsConnection {
                        headers,
                        socket: Box::new(FakeSocket {
                            conn,
                            shared: shared.clone(),
                            closed: false,
                            frames: rx,
                            _alive: IoAlive::new(shared),
                        }),
                    };
                    if let Some(tx) = self.connecting.remove(&conn) {
                        let _ = tx.send(Ok(connection));
                    }
                }
                ServerOutput::WsReject { conn, status, .. } => {
                    if let Some(tx) = self.connecting.remove(&conn) {
                        let _ = tx.send(Err(TransportFailure::new(
                            socketio_async::runtime::IoErrorKind::Other,
                            format!("websocket: HTTP error: {status}"),
                        )));
                    }
                }
                ServerOutput::WsSend { conn, frame } => {
                    if let Some(tx) = self.sockets.get(&conn) {
                        let _ = tx.unbounded_send(Ok(frame));
                    }
                }
                ServerOutput::WsClose { conn } => {
                    // The close handshake: the reader ends after the frames before it.
                    self.sockets.remove(&conn);
                    self.server_closed.push(conn);
                }
                ServerOutput::WsAbort { conn } => {
                    if let Some(tx) = self.sockets.remove(&conn) {
                        let _ = tx.unbounded_send(Err(TransportFailure::new(
                            socketio_async::runtime::IoErrorKind::Other,
                            "connection reset",
                        )));
                    }
                    self.server_closed.push(conn);
                }
            }
        }
    }
}

impl<A: Application + Send + 'static> Net<A> {
    /// Through the black hole nothing arrives: answers are lost (their requests stay
    /// pending), WebSocket frames vanish and a closing server is not heard of.
    fn swallow(&mut self, output: ServerOutput) {
        match output {
            ServerOutput::HttpResponse { request, .. } | ServerOutput::HttpAbort { request } => {
                if let Some(tx) = self.http.remove(&request) {
                    self.swallowed.push(Box::new(tx));
                }
            }
            ServerOutput::WsAccept { conn, .. } | ServerOutput::WsReject { conn, .. } => {
                if let Some(tx) = self.connecting.remove(&conn) {
                    self.swallowed.push(Box::new(tx));
                }
            }
            ServerOutput::WsSend { .. } => {}
            ServerOutput::WsClose { conn } | ServerOutput::WsAbort { conn } => {
                self.server_closed.push(conn);
            }
        }
    }
}

impl<A: Application + Send + 'static> Network for Net<A> {
    fn http(
        &mut self,
        now: Instant,
        request: HttpRequest,
        shared: &Arc<Shared>,
    ) -> oneshot::Receiver<Result<HttpResponse, TransportFailure>> {
        let (tx, rx) = oneshot::channel();
        self.next_request += 1;
        let id = RequestId(self.next_request);
        let method = if request.post {
            Method::Post
        } else {
            Method::Get
        };
        self.requests.push((
            method.as_str().to_owned(),
            request.url.clone(),
            request.headers.clone(),
        ));
        if self.blackhole {
            self.swallowed.push(Box::new(tx));
            return rx;
        }
        self.http.insert(id, tx);
        self.server.handle_http_request(
            now,
            ServerRequest {
                id,
                method,
                url: request.url,
                headers: request.headers,
                body: request.body,
            },
        );
        self.deliver(shared);
        rx
    }

    fn ws_connect(
        &mut self,
        now: Instant,
        request: WsRequest,
        shared: &Arc<Shared>,
    ) -> oneshot::Receiver<Result<WsConnection, TransportFailure>> {
        let (tx, rx) = oneshot::channel();
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.requests
            .push(("WS".into(), request.url.clone(), request.headers.clone()));
        if self.blackhole {
            self.swallowed.push(Box::new(tx));
            return rx;
        }
        self.connecting.insert(conn, tx);
        self.server
            .handle_ws_connect(now, conn, request.url, request.headers);
        self.deliver(shared);
        rx
    }

    fn ws_frame(&mut self, now: Instant, conn: ConnId, frame: WsFrame) {
        // After the server's close frame, what the client still sends is never read.
        if !self.blackhole && !self.server_closed.contains(&conn) {
            self.server.handle_ws_frame(now, conn, frame);
        }
    }

    fn ws_close(&mut self, now: Instant, conn: ConnId) {
        if self.blackhole {
            // The close frame is lost, and no answer comes: the reader waits.
            return;
        }
        // Our close frame, then the server's answer: the reader ends.
        self.sockets.remove(&conn);
        if !self.server_closed.contains(&conn) {
            self.server_closed.push(conn);
            self.server.handle_ws_close(now, conn);
        }
    }

    fn flush(&mut self, shared: &Arc<Shared>) {
        self.deliver(shared);
    }

    fn timeout(&self) -> Option<Instant> {
        self.server.poll_timeout()
    }

    fn fire(&mut self, now: Instant, shared: &Arc<Shared>) {
        self.server.handle_timeout(now);
        self.deliver(shared);
    }

    fn requests(&self) -> Vec<(String, url::Url, Vec<Header>)> {
        self.requests.clone()
    }

    fn server_any(&mut self) -> &mut dyn std::any::Any {
        &mut self.server
    }

    fn set_blackhole(&mut self, on: bool) {
        self.blackhole = on;
    }
}

/// Counts itself in [`Shared::io_alive`] while it exists: a request future or a WebSocket
/// the client still holds.
struct IoAlive(Arc<Shared>);

impl IoAlive {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.io_alive.fetch_add(1, Ordering::SeqCst);
        Self(shared.clone())
    }
}

impl Drop for IoAlive {
    fn drop(&mut self) {
        self.0.io_alive.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The network's answer to a request or a WebSocket, counted in [`Shared::io_alive`] while
/// the client holds it; `dropped` if the network forgot it.
fn tracked<T: Send + 'static>(
    shared: &Arc<Shared>,
    answer: oneshot::Receiver<Result<T, TransportFailure>>,
    dropped: &'static str,
) -> BoxFuture<'static, Result<T, TransportFailure>> {
    let alive = IoAlive::new(shared);
    Box::pin(async move {
        let _alive = alive;
        answer.await.unwrap_or_else(|_| {
            Err(TransportFailure::new(
                socketio_async::runtime::IoErrorKind::Other,
                dropped,
            ))
        })
    })
}

struct FakeSocket {
    conn: ConnId,
    shared: Arc<Shared>,
    closed: bool,
    frames: UnboundedReceiver<Result<WsFrame, TransportFailure>>,
    _alive: IoAlive,
}

impl WebSocket for FakeSocket {
    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WsFrame, TransportFailure>>> {
        self.frames.poll_next_unpin(cx)
    }

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(&mut self, frame: WsFrame) -> Result<(), TransportFailure> {
        if self.closed {
            return Err(TransportFailure::new(
                socketio_async::runtime::IoErrorKind::Other,
                "websocket closed",
            ));
        }
        // A frame the server will never read is still "sent", as far as a client can tell.
        let now = self.shared.now();
        let shared = self.shared.clone();
        let mut net = lock(&shared.net);
        net.ws_frame(now, self.conn, frame);
        net.flush(&self.shared);
        Ok(())
    }

    fn poll_flush(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), TransportFailure>> {
        if !self.closed {
            self.closed = true;
            let now = self.shared.now();
            let shared = self.shared.clone();
            let mut net = lock(&shared.net);
            net.ws_close(now, self.conn);
            net.flush(&self.shared);
        }
        Poll::Ready(Ok(()))
    }
}

// ----- the runtime -----

/// What the runtime and its futures share.
pub struct Shared {
    origin: Instant,
    elapsed: Mutex<Duration>,
    executor: Arc<Executor>,
    sleeps: Mutex<Vec<Weak<SleepState>>>,
    net: Mutex<Box<dyn Network>>,
    /// Request futures and WebSockets that exist (see [`IoAlive`]).
    io_alive: AtomicUsize,
}

impl Shared {
    fn now(&self) -> Instant {
        self.origin + *lock(&self.elapsed)
    }
}

/// The fake [`Runtime`] handed to the client.
#[derive(Clone)]
pub struct FakeRuntime(Arc<Shared>);

impl Runtime for FakeRuntime {
    fn spawn(&self, task: BoxFuture<'static, ()>) {
        self.0.executor.spawn(task);
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<'static, ()> {
        let state = Arc::new(SleepState {
            deadline,
            waker: Mutex::new(None),
        });
        lock(&self.0.sleeps).push(Arc::downgrade(&state));
        Box::pin(Sleep {
            state,
            shared: self.0.clone(),
        })
    }

    fn now(&self) -> Instant {
        self.0.now()
    }

    fn http(
        &self,
        request: HttpRequest,
    ) -> BoxFuture<'static, Result<HttpResponse, TransportFailure>> {
        let now = self.0.now();
        let rx = lock(&self.0.net).http(now, request, &self.0);
        tracked(&self.0, rx, "request dropped")
    }

    fn websocket(
        &self,
        request: WsRequest,
    ) -> BoxFuture<'static, Result<WsConnection, TransportFailure>> {
        let now = self.0.now();
        let rx = lock(&self.0.net).ws_connect(now, request, &self.0);
        tracked(&self.0, rx, "connect dropped")
    }
}

/// The test's handle: the runtime, the server and virtual time.
pub struct Sim<A> {
    shared: Arc<Shared>,
    _app: std::marker::PhantomData<fn() -> A>,
}

struct FlagWaker(AtomicBool);

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl<A: Application + Send + 'static> Sim<A> {
    /// A fake server with `config` running `app`; its ids come from `seed`.
    pub fn new(config: ServerConfig, app: A, seed: u64) -> Self {
        let origin = Instant::now();
        let net: Box<dyn Network> = Box::new(Net {
            server: FakeServer::new(config, app, origin, seed),
            next_request: 0,
            next_conn: 0,
            http: HashMap::new(),
            connecting: HashMap::new(),
            sockets: HashMap::new(),
            server_closed: Vec::new(),
            requests: Vec::new(),
            blackhole: false,
            swallowed: Vec::new(),
        });
        Self {
            shared: Arc::new(Shared {
                origin,
                elapsed: Mutex::new(Duration::ZERO),
                executor: Arc::default(),
                sleeps: Mutex::new(Vec::new()),
                net: Mutex::new(net),
                io_alive: AtomicUsize::new(0),
            }),
            _app: std::marker::PhantomData,
        }
    }

    /// The runtime to give the client.
    pub fn runtime(&self) -> Arc<dyn Runtime> {
        Arc::new(FakeRuntime(self.shared.clone()))
    }

    /// The virtual time now.
    pub fn now(&self) -> Instant {
        self.shared.now()
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        *lock(&self.shared.elapsed)
    }

    /// Tasks spawned and not finished.
    pub fn live_tasks(&self) -> usize {
        self.shared.executor.live.load(Ordering::SeqCst)
    }

    /// HTTP requests and WebSockets (connecting or open) the client still holds: each would
    /// hold a connection.
    pub fn io_alive(&self) -> usize {
        self.shared.io_alive.load(Ordering::SeqCst)
    }

    /// Sleeps still awaited by someone.
    pub fn pending_sleeps(&self) -> usize {
        let mut sleeps = lock(&self.shared.sleeps);
        sleeps.retain(|s| s.strong_count() > 0);
        sleeps.len()
    }

    /// Every HTTP request (`GET`/`POST`) and WebSocket (`WS`) the client made, in order.
    pub fn requests(&self) -> Vec<(String, url::Url, Vec<Header>)> {
        lock(&self.shared.net).requests()
    }

    /// While `on`, new requests and WebSockets are never answered and open ones carry
    /// nothing.
    pub fn set_blackhole(&self, on: bool) {
        lock(&self.shared.net).set_blackhole(on);
    }

    /// Acts on the server at the current time, then lets the client react.
    pub fn with_server<R>(&self, f: impl FnOnce(&mut FakeServer<A>, Instant) -> R) -> R {
        let now = self.now();
        let result = {
            let mut net = lock(&self.shared.net);
            let server = net
                .server_any()
                .downcast_mut::<FakeServer<A>>()
                .expect("the server's type");
            let result = f(server, now);
            net.flush(&self.shared);
            result
        };
        self.run();
        result
    }

    /// Runs every ready task until none is left, at the current time.
    pub fn run(&self) {
        while self.shared.executor.run_ready() > 0 {}
    }

    fn next_deadline(&self) -> Option<Instant> {
        let sleeps = {
            let mut sleeps = lock(&self.shared.sleeps);
            sleeps.retain(|s| s.strong_count() > 0);
            sleeps
                .iter()
                .filter_map(Weak::upgrade)
                .map(|s| s.deadline)
                .min()
        };
        let server = lock(&self.shared.net).timeout();
        sleeps.into_iter().chain(server).min()
    }

    /// Moves the clock to `at` (never backwards) and fires what is due: server timers,
    /// then the client's sleeps.
    fn jump_to(&self, at: Instant) {
        {
            let mut elapsed = lock(&self.shared.elapsed);
            *elapsed = (*elapsed).max(at.saturating_duration_since(self.shared.origin));
        }
        let now = self.now();
        lock(&self.shared.net).fire(now, &self.shared);
        let due: Vec<Arc<SleepState>> = {
            let mut sleeps = lock(&self.shared.sleeps);
            let due = sleeps
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|s| s.deadline <= now)
                .collect();
            sleeps.retain(|s| s.upgrade().is_some_and(|s| s.deadline > now));
            due
        };
        for sleep in due {
            if let Some(waker) = lock(&sleep.waker).take() {
                waker.wake();
            }
        }
    }

    /// Lets `by` of virtual time pass, stopping at every deadline on the way.
    pub fn advance(&self, by: Duration) {
        let target = self.now() + by;
        loop {
            self.run();
            match self.next_deadline() {
                Some(at) if at <= target => self.jump_to(at),
                _ => break,
            }
        }
        self.jump_to(target);
        self.run();
    }

    /// Runs tasks and moves time forward (deadline by deadline) until `future` completes.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let limit = self.now() + BLOCK_ON_LIMIT;
        let flag = Arc::new(FlagWaker(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
                return v;
            }
            self.run();
            if flag.0.swap(false, Ordering::SeqCst) {
                continue;
            }
            let Some(at) = self.next_deadline() else {
                panic!("stuck: the future waits and nothing is scheduled");
            };
            assert!(
                at <= limit,
                "the future did not complete in {BLOCK_ON_LIMIT:?}"
            );
            self.jump_to(at);
        }
    }

    /// Runs tasks and moves time forward until `future` completes or `within` has passed;
    /// `None` if it did not complete.
    pub fn block_on_within<F: Future>(&self, within: Duration, future: F) -> Option<F::Output> {
        let limit = self.now() + within;
        let flag = Arc::new(FlagWaker(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
                return Some(v);
            }
            self.run();
            if flag.0.swap(false, Ordering::SeqCst) {
                continue;
            }
            match self.next_deadline() {
                Some(at) if at <= limit => self.jump_to(at),
                _ => {
                    self.jump_to(limit);
                    self.run();
                    return match future.as_mut().poll(&mut Context::from_waker(&waker)) {
                        Poll::Ready(v) => Some(v),
                        Poll::Pending => None,
                    };
                }
            }
        }
    }
}
