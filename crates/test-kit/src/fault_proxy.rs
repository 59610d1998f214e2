//! A fault-injecting TCP proxy for tests against a real server.
//!
//! [`FaultProxy::start`] listens on `127.0.0.1:0` and forwards every connection to a target
//! address; the client under test connects to [`FaultControl::url`] instead of the server. A
//! cloneable [`FaultControl`] (the proxy derefs to one) then breaks the link on demand:
//!
//! - [`cut_all`](FaultControl::cut_all): close every open connection now (both ends see the
//!   connection end, as when a NAT or a load balancer drops it);
//! - [`black_hole`](FaultControl::black_hole): connections stay open (new ones are accepted
//!   too) but nothing is forwarded either way, closes included: bytes are read and swallowed,
//!   as on a link that died without a reset; only heartbeats can notice;
//! - [`delay`](FaultControl::delay): every chunk is held this long before it is forwarded
//!   (latency: chunks keep their order and throughput is unchanged);
//! - [`throttle`](FaultControl::throttle): each direction of each connection is paced to a
//!   byte rate;
//! - [`refuse`](FaultControl::refuse): new connections are refused;
//! - [`cut_on`](FaultControl::cut_on): cut when a [`Trigger`] is seen in the traffic (a byte
//!   pattern, or a WebSocket message read through the client's masking), e.g. to interrupt an
//!   upgrade at an exact step;
//! - [`stats`](FaultControl::stats): counters for the figures a test prints.
//!
//! It is made of plain std threads and blocking sockets, so it serves tests on any async
//! runtime alike, and a waiting proxy uses no CPU (every thread blocks in a read, an accept or
//! a condition variable).
//!
//! ```no_run
//! use std::time::Duration;
//! use socketio_test_kit::fault_proxy::{Direction, FaultProxy, Trigger};
//!
//! let proxy = FaultProxy::start("127.0.0.1:3000".parse().unwrap()).unwrap();
//! let url = proxy.url(); // give this to the client under test
//! proxy.delay(Duration::from_millis(50));
//! // Interrupt the next WebSocket upgrade when the server answers the probe.
//! proxy.cut_on(Trigger::websocket_message(Direction::ToClient, "3probe"));
//! // ... later: the network dies silently, then comes back.
//! proxy.black_hole(true);
//! proxy.black_hole(false);
//! println!("{:?}", proxy.stats());
//! # let _ = url;
//! ```
//!
//! # Refusing connections
//!
//! [`refuse(true)`](FaultControl::refuse) closes the listening socket, so connection attempts
//! are really refused by the kernel (a reset to the SYN: `ECONNREFUSED`), which is what a
//! client sees when the server process is down; `refuse(false)` binds the same port again.
//! The alternative, accepting and resetting at once, would test a different path (a
//! connection that opens and then fails) that `cut_all` already covers. The price: refused
//! attempts never reach the proxy, so they are not counted.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

mod scan;

use scan::Scanner;

/// The longest byte pattern a [`Trigger::bytes`] may look for.
pub const MAX_PATTERN: usize = 1024;

/// Bytes read at once from either end.
const CHUNK: usize = 16 * 1024;

/// Chunks read ahead of the writer, per direction: enough to keep the link busy, small enough
/// that a throttled or delayed link pushes back on the sender.
const QUEUE: usize = 8;

/// How long the proxy tries to reach the target for each accepted connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which way bytes travel through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client (the side that connected to the proxy) to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

/// When to cut, for [`FaultControl::cut_on`]: what to look for, which way, and what to cut.
/// A trigger fires once, on the first match after it was armed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    direction: Direction,
    pattern: Vec<u8>,
    websocket: bool,
    prefix: bool,
    forward_first: bool,
    this_connection: bool,
    then_refuse: bool,
}

impl Trigger {
    /// Fires when `pattern` (at most [`MAX_PATTERN`] bytes, not empty) appears in the bytes
    /// going `direction`, also across reads: e.g. `b"\r\n\r\n6"` for an HTTP response whose
    /// body starts with an Engine.IO noop.
    ///
    /// # Panics
    ///
    /// If the pattern is empty or longer than [`MAX_PATTERN`].
    pub fn bytes(direction: Direction, pattern: impl Into<Vec<u8>>) -> Self {
        let pattern = pattern.into();
        assert!(
            !pattern.is_empty() && pattern.len() <= MAX_PATTERN,
            "a trigger pattern has 1 to {MAX_PATTERN} bytes"
        );
        Self {
            direction,
            pattern,
            websocket: false,
            prefix: false,
            forward_first: false,
            this_connection: false,
            then_refuse: false,
        }
    }

    /// Fires on a WebSocket message going `direction` whose payload is exactly `payload`
    /// (unmasked: client frames are masked on the wire). Only connections that start with a
    /// WebSocket upgrade are read as frames, and only single-frame messages of up to 125
    /// bytes are matched, which covers Engine.IO's control packets (`2probe`, `3probe`, `5`).
    ///
    /// # Panics
    ///
    /// If the payload is longer than 125 bytes.
    pub fn websocket_message(direction: Direction, payload: impl Into<Vec<u8>>) -> Self {
        let pattern = payload.into();
        assert!(
            pattern.len() <= 125,
            "matched messages have up to 125 bytes"
        );
        Self {
            direction,
            pattern,
            websocket: true,
            prefix: false,
            forward_first: false,
            this_connection: false,
            then_refuse: false,
        }
    }

    /// For [`Trigger::websocket_message`]: matches any message whose payload starts with
    /// the pattern.
    pub fn as_prefix(mut self) -> Self {
        self.prefix = true;
        self
    }

    /// Forwards the traffic up to the end of the match (the whole WebSocket frame, for a
    /// message), then cuts, with nothing crossing that connection in between: a request
    /// forwarded this way never gets its answer, and what followed the match in the same
    /// read is dropped. By default the cut comes right before the match: what precedes it
    /// is forwarded, the match is not.
    pub fn after_forwarding(mut self) -> Self {
        self.forward_first = true;
        self
    }

    /// Cuts only the connection where the match was seen. By default every open connection
    /// is cut, as [`FaultControl::cut_all`] does.
    pub fn this_connection_only(mut self) -> Self {
        self.this_connection = true;
        self
    }

    /// After the cut, refuses new connections until [`FaultControl::refuse`]`(false)` or
    /// [`FaultControl::heal`]: a network that went down rather than connections that broke.
    /// Without it, a client with no request in flight at the cut reaches the same session
    /// again over a new connection (as HTTP keep-alive clients do), so whether the cut ends
    /// the session would depend on timing. Refusal starts before the cut, so no new
    /// connection slips in between.
    pub fn then_refuse(mut self) -> Self {
        self.then_refuse = true;
        self
    }
}

/// Counters since the proxy started, for the figures a test prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyStats {
    /// Connections accepted and forwarded to the target.
    pub accepted: u64,
    /// Connections open now.
    pub open: u64,
    /// Connections accepted while the target could not be reached (closed at once).
    pub upstream_failures: u64,
    /// Connections closed by [`FaultControl::cut_all`] or a [`Trigger`].
    pub cut: u64,
    /// Triggers that fired.
    pub triggered: u64,
    /// Times the listener was closed by [`FaultControl::refuse`].
    pub refusals: u64,
    /// Bytes forwarded from the clients to the server.
    pub to_server: u64,
    /// Bytes forwarded from the server to the clients.
    pub to_client: u64,
    /// Bytes read and dropped by the black hole.
    pub swallowed: u64,
    /// Connections the client closed (or reset), counted even when a black hole keeps the
    /// close from the server; `accepted - client_closed - cut` are the ones the client
    /// still holds.
    pub client_closed: u64,
}

/// A running proxy; it stops, closing every connection, when dropped. It derefs to its
/// [`FaultControl`].
#[derive(Debug)]
pub struct FaultProxy {
    control: FaultControl,
    accept: Option<JoinHandle<()>>,
}

/// Controls a [`FaultProxy`]; cheap to clone and usable from any thread.
#[derive(Debug, Clone)]
pub struct FaultControl {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Where connections are forwarded.
    target: SocketAddr,
    /// Where the proxy listens (the same port after a refusal).
    addr: SocketAddr,
    state: Mutex<State>,
    /// Signalled on every change of `refuse`, `listening`, `stopping`, `black_hole`, `conns`.
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    black_hole: bool,
    delay: Duration,
    throttle: Option<u64>,
    refuse: bool,
    listening: bool,
    bind_error: Option<String>,
    stopping: bool,
    next_id: u64,
    conns: HashMap<u64, Conn>,
    triggers: Vec<Trigger>,
    stats: ProxyStats,
}

/// Both ends of one proxied connection, kept to shut them down from outside.
#[derive(Debug)]
struct Conn {
    client: TcpStream,
    server: TcpStream,
    gate: Gate,
}

impl Conn {
    fn shutdown(&self) {
        // Sockets first: that fails a write blocked on a peer that does not read, which
        // would otherwise hold the gate.
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
        close_gate(&self.gate);
    }
}

/// Whether a connection still forwards. Both of its writers hold it while they write, so
/// closing it is a line in the traffic: nothing crosses the connection in either direction
/// after it, even in the instant before its sockets are shut down (a trigger that forwards
/// a request and cuts leaves no time for the response to slip through).
type Gate = Arc<Mutex<bool>>;

fn lock_gate(gate: &Gate) -> MutexGuard<'_, bool> {
    gate.lock().unwrap_or_else(|p| p.into_inner())
}

fn close_gate(gate: &Gate) {
    *lock_gate(gate) = false;
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards every connection to `target`.
    pub fn start(target: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            target,
            addr,
            state: Mutex::new(State {
                listening: true,
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let accepting = shared.clone();
        let accept = thread::Builder::new()
            .name("fault-proxy-accept".into())
            .spawn(move || accept_loop(&accepting, listener))?;
        Ok(Self {
            control: FaultControl { shared },
            accept: Some(accept),
        })
    }

    /// A control handle to keep or hand to another thread.
    pub fn control(&self) -> FaultControl {
        self.control.clone()
    }
}

impl Deref for FaultProxy {
    type Target = FaultControl;

    fn deref(&self) -> &FaultControl {
        &self.control
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let listening = {
            let mut state = self.shared.lock();
            state.stopping = true;
            state.listening
        };
        self.shared.changed.notify_all();
        if listening {
            // Wakes the accept loop, blocked in accept.
            let _ = TcpStream::connect(self.shared.addr);
        }
        // After the accept loop has stopped, so no connection is registered behind the cut.
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        self.cut_all();
    }
}

impl FaultControl {
    /// The port the proxy listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.shared.addr.port()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// Where connections are forwarded.
    pub fn target(&self) -> SocketAddr {
        self.shared.target
    }

    /// Closes every open connection now, both ends; returns how many. New connections are
    /// forwarded as usual.
    pub fn cut_all(&self) -> usize {
        self.shared.cut_all()
    }

    /// Stops (`true`) or resumes (`false`) forwarding in both directions on every
    /// connection, current and new. Connections stay open and what arrives is read and
    /// dropped, so neither end hears of it: a link that died silently. An end that closes
    /// its connection meanwhile is not heard of either; the other end's side is closed when
    /// the hole ends.
    pub fn black_hole(&self, on: bool) {
        self.shared.lock().black_hole = on;
        // Closes held by the hole go through now.
        self.shared.changed.notify_all();
    }

    /// Holds every chunk this long before forwarding it (zero for none).
    pub fn delay(&self, delay: Duration) {
        self.shared.lock().delay = delay;
    }

    /// Paces each direction of each connection to `bytes_per_sec` (`None`, or zero, for
    /// full speed).
    pub fn throttle(&self, bytes_per_sec: Option<u64>) {
        self.shared.lock().throttle = bytes_per_sec.filter(|&r| r > 0);
    }

    /// Refuses new connections (`true`: the listener is closed, so the kernel refuses them)
    /// or accepts them again (`false`: the same port is bound again). Open connections are
    /// untouched. Returns once the change has taken effect.
    ///
    /// # Panics
    ///
    /// If the port cannot be bound again (another process took it).
    pub fn refuse(&self, on: bool) {
        let mut state = self.shared.lock();
        if state.refuse == on || state.stopping {
            return;
        }
        state.refuse = on;
        self.shared.changed.notify_all();
        if on {
            drop(state);
            // The accept loop sees the flag on its next accept: give it one.
            let waker = TcpStream::connect(self.shared.addr);
            let mut state = self.shared.lock();
            while state.listening {
                state = self.shared.wait(state);
            }
            drop(waker);
        } else {
            while !state.listening && state.bind_error.is_none() {
                state = self.shared.wait(state);
            }
            if let Some(error) = &state.bind_error {
                panic!("fault proxy: port {} taken again: {error}", self.port());
            }
        }
    }

    /// Cuts when `trigger` matches (once). Several triggers may be armed; each fires once.
    pub fn cut_on(&self, trigger: Trigger) {
        self.shared.lock().triggers.push(trigger);
    }

    /// Triggers armed and not fired yet.
    pub fn armed(&self) -> usize {
        self.shared.lock().triggers.len()
    }

    /// Ends every fault: no black hole, delay, throttle, refusal or armed trigger.
    pub fn heal(&self) {
        self.refuse(false);
        let mut state = self.shared.lock();
        state.black_hole = false;
        state.delay = Duration::ZERO;
        state.throttle = None;
        state.triggers.clear();
    }

    /// The counters so far.
    pub fn stats(&self) -> ProxyStats {
        stats_of(&self.shared.lock())
    }

    /// Waits until the counters satisfy `done`, at most `timeout`; whether they did. Woken by
    /// every connection accepted, closed or cut, so a test waits on the event, not a poll.
    /// Blocks the calling thread.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&ProxyStats) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if done(&stats_of(&state)) {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .map_or_else(|p| p.into_inner().0, |(guard, _)| guard);
        }
    }
}

fn stats_of(state: &State) -> ProxyStats {
    ProxyStats {
        open: state.conns.len() as u64,
        ..state.stats
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take the proxy down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|p| p.into_inner())
    }

    /// Closes every open connection; returns how many.
    fn cut_all(&self) -> usize {
        let conns: Vec<Conn> = {
            let mut state = self.lock();
            let conns: Vec<Conn> = state.conns.drain().map(|(_, c)| c).collect();
            state.stats.cut += conns.len() as u64;
            conns
        };
        self.changed.notify_all();
        for conn in &conns {
            conn.shutdown();
        }
        conns.len()
    }

    /// Closes one connection (when an end closed it, or a trigger cut it).
    fn close(&self, id: u64, cut: bool) {
        let conn = {
            let mut state = self.lock();
            let conn = state.conns.remove(&id);
            if cut && conn.is_some() {
                state.stats.cut += 1;
            }
            conn
        };
        if let Some(conn) = conn {
            self.changed.notify_all();
            conn.shutdown();
        }
    }
}

/// Accepts connections, closing the listener while refusing and binding the same port again
/// after.
fn accept_loop(shared: &Arc<Shared>, listener: TcpListener) {
    let mut listener = Some(listener);
    loop {
        let Some(open) = listener.as_ref() else {
            let mut state = shared.lock();
            while state.refuse && !state.stopping {
                state = shared.wait(state);
            }
            if state.stopping {
                return;
            }
            drop(state);
            let bound = bind_again(shared.addr);
            let mut state = shared.lock();
            match bound {
                Ok(l) => {
                    listener = Some(l);
                    state.listening = true;
                }
                Err(e) => state.bind_error = Some(e.to_string()),
            }
            shared.changed.notify_all();
            // A proxy dropped while binding did not wake an accept that had not started.
            if state.bind_error.is_some() || state.stopping {
                return;
            }
            continue;
        };
        let stream = match open.accept() {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or a connection reset before accept: not worth a spin.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let mut state = shared.lock();
        if state.stopping {
            return;
        }
        if state.refuse {
            // This is the waker (or a client that raced it: refused all the same).
            listener = None;
            state.listening = false;
            state.stats.refusals += 1;
            shared.changed.notify_all();
            continue;
        }
        drop(state);
        forward(shared, stream);
    }
}

/// Binds the proxy's port again; it was ours a moment ago, so a short wait is enough.
fn bind_again(addr: SocketAddr) -> io::Result<TcpListener> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(addr) {
            Ok(l) => return Ok(l),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Connects the accepted client to the target and starts a reader and a writer per
/// direction.
fn forward(shared: &Arc<Shared>, client: TcpStream) {
    let server = match TcpStream::connect_timeout(&shared.target, CONNECT_TIMEOUT) {
        Ok(server) => server,
        Err(_) => {
            shared.lock().stats.upstream_failures += 1;
            return; // dropping the client closes it: the server is not there
        }
    };
    // Small writes (Engine.IO packets) go out at once, not after Nagle's delay.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let clones = (|| {
        Ok::<_, io::Error>((
            client.try_clone()?,
            client.try_clone()?,
            server.try_clone()?,
            server.try_clone()?,
        ))
    })();
    let Ok((client_read, client_write, server_read, server_write)) = clones else {
        return;
    };
    let gate: Gate = Arc::new(Mutex::new(true));
    let id = {
        let mut state = shared.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.stats.accepted += 1;
        shared.changed.notify_all();
        let conn = Conn {
            client,
            server,
            gate: gate.clone(),
        };
        state.conns.insert(id, conn);
        id
    };
    let link = Link {
        id,
        gate,
        direction: Direction::ToServer,
    };
    pipe(shared, link.clone(), client_read, server_write);
    let link = Link {
        direction: Direction::ToClient,
        ..link
    };
    pipe(shared, link, server_read, client_write);
}

/// What a reader hands its writer.
enum Chunk {
    Data(Instant, Vec<u8>),
    End,
}

/// One direction of one connection, as its writer sees it.
#[derive(Debug, Clone)]
struct Link {
    id: u64,
    gate: Gate,
    direction: Direction,
}

/// One direction of a connection: a reader thread (so a slow or delayed writer pushes back
/// through a bounded queue) and a writer thread that applies the faults.
fn pipe(shared: &Arc<Shared>, link: Link, from: TcpStream, to: TcpStream) {
    let (tx, rx) = sync_channel(QUEUE);
    let id = link.id;
    let name = format!("fault-proxy-{id}-{:?}", link.direction);
    let reader = thread::Builder::new()
        .name(format!("{name}-read"))
        .spawn(move || read_loop(from, &tx));
    let writing = shared.clone();
    let writer = thread::Builder::new()
        .name(format!("{name}-write"))
        .spawn(move || write_loop(&writing, &link, &rx, to));
    if reader.is_err() || writer.is_err() {
        shared.close(id, false);
    }
}

fn read_loop(mut from: TcpStream, tx: &SyncSender<Chunk>) {
    let mut buf = vec![0; CHUNK];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if tx
                    .send(Chunk::Data(Instant::now(), buf[..n].to_vec()))
                    .is_err()
                {
                    return; // the writer is gone: the connection is closed
                }
            }
        }
    }
    let _ = tx.send(Chunk::End);
}

fn write_loop(shared: &Shared, link: &Link, rx: &Receiver<Chunk>, mut to: TcpStream) {
    let (id, direction) = (link.id, link.direction);
    let mut scanner = Scanner::default();
    let mut source_ended = true;
    while let Ok(Chunk::Data(read_at, data)) = rx.recv() {
        let delay = shared.lock().delay;
        sleep_until(read_at + delay);
        {
            let mut state = shared.lock();
            if state.black_hole {
                state.stats.swallowed += data.len() as u64;
                // The stream lost bytes: its framing can no longer be followed.
                scanner.lose_track();
                continue;
            }
        }
        let fired = {
            let seen = scanner.feed(&data);
            let mut state = shared.lock();
            let found = state.triggers.iter().enumerate().find_map(|(i, t)| {
                let range = seen.find(t).filter(|_| t.direction == direction)?;
                Some((i, range))
            });
            found.map(|(i, range)| {
                state.stats.triggered += 1;
                (state.triggers.remove(i), range)
            })
        };
        if let Some((trigger, (start, end))) = &fired {
            let forward = if trigger.forward_first { *end } else { *start };
            // The gate closes with the last byte forwarded, under the same lock.
            let _ = write_paced(shared, link, &mut to, &data[..forward], true);
            close_gate(&link.gate);
            cut(shared, id, trigger);
            return;
        }
        if write_paced(shared, link, &mut to, &data, false).is_err() {
            source_ended = false;
            break;
        }
    }
    if source_ended && direction == Direction::ToServer {
        // The client's end was read to its end (a cut connection is no longer listed).
        let mut state = shared.lock();
        if state.conns.contains_key(&id) {
            state.stats.client_closed += 1;
            shared.changed.notify_all();
        }
    }
    // An end closed (or the connection was cut): close the whole connection, as HTTP and
    // WebSocket peers never half-close. Through a black hole the close is lost as well, until
    // the hole ends: the other end must find out by itself.
    let mut state = shared.lock();
    while state.black_hole && state.conns.contains_key(&id) {
        state = shared.wait(state);
    }
    drop(state);
    shared.close(id, false);
}

fn cut(shared: &Shared, id: u64, trigger: &Trigger) {
    if trigger.then_refuse {
        // Accepts from now on are refused (the accept loop checks the flag under the lock);
        // the waker makes the accept loop close the listener without waiting for a client.
        let mut state = shared.lock();
        if !state.refuse && !state.stopping {
            state.refuse = true;
            shared.changed.notify_all();
            drop(state);
            let _ = TcpStream::connect(shared.addr);
        }
    }
    if trigger.this_connection {
        shared.close(id, true);
    } else {
        shared.cut_all();
    }
}

/// Writes `data`, in slices paced to the throttle if there is one, and counts it; with
/// `close`, closes the connection's gate right after the last slice.
fn write_paced(
    shared: &Shared,
    link: &Link,
    to: &mut TcpStream,
    data: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut rest = data;
    while !rest.is_empty() {
        let rate = shared.lock().throttle;
        // A tenth of a second's worth at a time keeps the pace smooth; each slice goes out
        // once the time it takes at that rate has passed, as on a slow line.
        let slice = rate.map_or(rest.len(), |r| {
            (r / 10).clamp(1, rest.len() as u64) as usize
        });
        if let Some(rate) = rate {
            thread::sleep(Duration::from_secs_f64(slice as f64 / rate as f64));
        }
        {
            let mut state = shared.lock();
            match link.direction {
                Direction::ToServer => state.stats.to_server += slice as u64,
                Direction::ToClient => state.stats.to_client += slice as u64,
            }
        }
        let mut open = lock_gate(&link.gate);
        if !*open {
            return Err(io::ErrorKind::ConnectionAborted.into());
        }
        to.write_all(&rest[..slice])?;
        rest = &rest[slice..];
        if close && rest.is_empty() {
            *open = false;
        }
    }
    Ok(())
}

fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        thread::sleep(at - now);
    }
}

#[cfg(test)]
mod tests;
