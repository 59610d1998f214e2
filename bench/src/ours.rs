//! This project's client (tokio or async-std adapter: the same `Socket` API).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use engineio_proto::TransportKind;
use socketio_async::{Error, Options, Socket};
use tokio::sync::{Notify, Semaphore};

use crate::measure::{Meter, Outcome, percentiles, rss_kib};
use crate::workload::{SCALE_IN_FLIGHT, Test, Transport, Workload};

/// `io(url, options)` of one adapter.
pub type Io = fn(&str, Options) -> Result<Socket, Error>;

/// Default options but the transports under test, `force_new`, no reconnection (the blocking
/// peer uses the same).
pub fn options(transport: Transport) -> Options {
    let options = Options::default().force_new(true).reconnection(false);
    match transport {
        Transport::WebSocket => options.transports([TransportKind::WebSocket]),
        Transport::Polling => options.transports([TransportKind::Polling]),
        Transport::Upgrade => options,
    }
}

/// Runs the workload with this adapter's `io`.
pub async fn run(io: Io, work: &Workload) -> Result<Outcome, Error> {
    match work.test {
        Test::Recv => recv(io, work).await,
        Test::Ack => ack(io, work).await,
        Test::Connect => connect(io, work).await,
        Test::Scale => scale(io, work).await,
        Test::Slow => slow(io, work).await,
    }
}

/// A consumer far slower than the server, reading the socket's event stream (bounded by
/// the default flow control: the client stops reading the socket when it is full).
async fn slow(io: Io, work: &Workload) -> Result<Outcome, Error> {
    use futures_util::StreamExt;
    let socket = io(&work.url, options(work.transport))?;
    let mut events = socket.events();
    let mut count = 0u64;
    let meter = Meter::start();
    let mut asked = false;
    while count < work.n {
        let Some(event) = events.next().await else {
            break;
        };
        match event {
            socketio_async::SocketEvent::Connect { .. } if !asked => {
                asked = true;
                socket.emit("burst", (work.n, 0))?;
            }
            socketio_async::SocketEvent::Message(message) if message.event == "burst" => {
                let index: u64 = message.args.get(0).unwrap_or(u64::MAX);
                std::hint::black_box(index);
                crate::workload::spin(crate::workload::SLOW_EVENT);
                count += 1;
            }
            _ => {}
        }
    }
    let mut outcome = meter.stop(count);
    outcome.peak_rss_kib = crate::measure::peak_rss_kib() as f64;
    socket.disconnect();
    Ok(outcome)
}

async fn connected(io: Io, work: &Workload) -> Result<Socket, Error> {
    let ready = Arc::new(Notify::new());
    let socket = io(&work.url, options(work.transport))?;
    let notify = ready.clone();
    socket.on_connect(move |_| notify.notify_one());
    if !socket.connected() {
        ready.notified().await;
    }
    Ok(socket)
}

async fn recv(io: Io, work: &Workload) -> Result<Outcome, Error> {
    let socket = connected(io, work).await?;
    let n = work.n;
    let count = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let (counter, finished) = (count.clone(), done.clone());
    socket.on("burst", move |message| {
        // Read the index as an application would.
        let index: u64 = message.args.get(0).unwrap_or(u64::MAX);
        std::hint::black_box(index);
        if counter.fetch_add(1, Ordering::Relaxed) + 1 == n {
            finished.notify_one();
        }
    });
    let meter = Meter::start();
    socket.emit("burst", (n, 0))?;
    crate::measure::watchdog(count.clone(), n);
    done.notified().await;
    let outcome = meter.stop(count.load(Ordering::Relaxed));
    socket.disconnect();
    Ok(outcome)
}

async fn ack(io: Io, work: &Workload) -> Result<Outcome, Error> {
    let socket = connected(io, work).await?;
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for i in 0..work.n {
        let sent = Instant::now();
        let (back,): (u64,) = socket.emit_with_ack("echo", (i,)).await?;
        samples.push(sent.elapsed());
        assert_eq!(back, i, "the echo must return the argument");
    }
    let mut outcome = meter.stop(work.n);
    percentiles(&mut outcome, &mut samples);
    socket.disconnect();
    Ok(outcome)
}

async fn connect(io: Io, work: &Workload) -> Result<Outcome, Error> {
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for _ in 0..work.n {
        let started = Instant::now();
        let socket = connected(io, work).await?;
        samples.push(started.elapsed());
        socket.disconnect();
    }
    let mut outcome = meter.stop(work.n);
    percentiles(&mut outcome, &mut samples);
    Ok(outcome)
}

async fn scale(io: Io, work: &Workload) -> Result<Outcome, Error> {
    let before = rss_kib();
    let meter = Meter::start();
    let permits = Arc::new(Semaphore::new(SCALE_IN_FLIGHT));
    let all = Arc::new(Notify::new());
    let up = Arc::new(AtomicU64::new(0));
    let mut sockets = Vec::with_capacity(work.n as usize);
    for _ in 0..work.n {
        let permit = permits.clone().acquire_owned().await.expect("never closed");
        let socket = io(&work.url, options(work.transport))?;
        let permit = std::sync::Mutex::new(Some(permit));
        let (up, all, n) = (up.clone(), all.clone(), work.n);
        // Counted once, whether the connection came before or after the listener.
        let mark = Arc::new(move || {
            if let Some(permit) = permit.lock().ok().and_then(|mut p| p.take()) {
                drop(permit);
                if up.fetch_add(1, Ordering::Relaxed) + 1 == n {
                    all.notify_one();
                }
            }
        });
        let on_connect = mark.clone();
        socket.on_connect(move |_| on_connect());
        if socket.connected() {
            mark();
        }
        sockets.push(socket);
    }
    if up.load(Ordering::Relaxed) < work.n {
        all.notified().await;
    }
    let mut outcome = meter.stop(work.n);
    // Idle: let buffers settle, then count what the clients hold.
    settle().await;
    outcome.rss_per_client_kib = rss_kib().saturating_sub(before) as f64 / work.n as f64;
    for socket in &sockets {
        socket.disconnect();
    }
    Ok(outcome)
}

/// A short idle pause that works on either runtime.
async fn settle() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let _ = tx.send(());
    });
    let _ = rx.await;
}
