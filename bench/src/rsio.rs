//! The peer `rust_socketio` 0.6 (async client).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rust_socketio::asynchronous::{Client, ClientBuilder};
use rust_socketio::{Event, Payload, TransportType};
use serde_json::json;
use tokio::sync::{Notify, Semaphore, mpsc};

use crate::measure::{Meter, Outcome, percentiles, rss_kib};
use crate::workload::{SCALE_IN_FLIGHT, Test, Transport, Workload};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn builder(work: &Workload) -> ClientBuilder {
    let transport = match work.transport {
        Transport::WebSocket => TransportType::Websocket,
        Transport::Polling => TransportType::Polling,
        Transport::Upgrade => TransportType::Any,
    };
    ClientBuilder::new(format!("{}/", work.url))
        .transport_type(transport)
        .reconnect(false)
}

/// Runs the workload.
pub async fn run(work: &Workload) -> Result<Outcome, Error> {
    match work.test {
        Test::Recv => recv(work).await,
        Test::Ack => ack(work).await,
        Test::Connect => connect(work).await,
        Test::Scale => scale(work).await,
        Test::Slow => slow(work).await,
    }
}

/// A consumer far slower than the server: rust_socketio calls its callback on its reading
/// task, so slow work goes to a task of the application's, through a channel (as with any
/// callback-only API).
async fn slow(work: &Workload) -> Result<Outcome, Error> {
    let n = work.n;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Option<u64>>();
    let (client, meter) = burst(work, move |payload, _| {
        let index = match &payload {
            Payload::Text(values) => values.first().and_then(|v| v.as_u64()),
            _ => None,
        };
        let _ = tx.send(index);
        async {}.boxed()
    })
    .await?;
    let mut count = 0;
    while count < n {
        let Some(index) = rx.recv().await else { break };
        std::hint::black_box(index);
        crate::workload::spin(crate::workload::SLOW_EVENT);
        count += 1;
    }
    let mut outcome = meter.stop(count);
    outcome.peak_rss_kib = crate::measure::peak_rss_kib() as f64;
    client.disconnect().await?;
    Ok(outcome)
}

/// Connects with `builder`, returning once the namespace's `connect` event came.
async fn connected(builder: ClientBuilder) -> Result<Client, Error> {
    let ready = Arc::new(Notify::new());
    let notify = ready.clone();
    let client = builder
        .on(Event::Connect, move |_, _| {
            notify.notify_one();
            async {}.boxed()
        })
        .connect()
        .await?;
    ready.notified().await;
    Ok(client)
}

/// Connects with `on_burst` listening to `burst` and asks the server for `work.n` of them:
/// the client, and the meter started just before the ask.
async fn burst<F>(work: &Workload, on_burst: F) -> Result<(Client, Meter), Error>
where
    F: FnMut(Payload, Client) -> BoxFuture<'static, ()> + 'static + Send + Sync,
{
    let client = connected(builder(work).on("burst", on_burst)).await?;
    let meter = Meter::start();
    client
        .emit("burst", Payload::Text(vec![json!(work.n), json!(0)]))
        .await?;
    Ok((client, meter))
}

async fn recv(work: &Workload) -> Result<Outcome, Error> {
    let n = work.n;
    let count = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let (counter, finished) = (count.clone(), done.clone());
    let (client, meter) = burst(work, move |payload, _| {
        if let Payload::Text(values) = &payload {
            std::hint::black_box(values.first().and_then(|v| v.as_u64()));
        }
        if counter.fetch_add(1, Ordering::Relaxed) + 1 == n {
            finished.notify_one();
        }
        async {}.boxed()
    })
    .await?;
    crate::measure::watchdog(count.clone(), n);
    done.notified().await;
    let outcome = meter.stop(count.load(Ordering::Relaxed));
    client.disconnect().await?;
    Ok(outcome)
}

async fn ack(work: &Workload) -> Result<Outcome, Error> {
    let client = connected(builder(work)).await?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<u64>>();
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for i in 0..work.n {
        let sent = Instant::now();
        let tx = tx.clone();
        client
            .emit_with_ack(
                "echo",
                json!(i),
                Duration::from_secs(10),
                move |payload, _| {
                    let back = match payload {
                        // rust_socketio hands the ack's argument array as one value.
                        Payload::Text(values) => values.first().and_then(|v| match v {
                            serde_json::Value::Array(args) => args.first().and_then(|a| a.as_u64()),
                            other => other.as_u64(),
                        }),
                        _ => None,
                    };
                    let _ = tx.send(back);
                    async {}.boxed()
                },
            )
            .await?;
        let back = rx.recv().await.flatten();
        samples.push(sent.elapsed());
        assert_eq!(back, Some(i), "the echo must return the argument");
    }
    let mut outcome = meter.stop(work.n);
    percentiles(&mut outcome, &mut samples);
    client.disconnect().await?;
    Ok(outcome)
}

async fn connect(work: &Workload) -> Result<Outcome, Error> {
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for _ in 0..work.n {
        let started = Instant::now();
        let client = connected(builder(work)).await?;
        samples.push(started.elapsed());
        client.disconnect().await?;
    }
    let mut outcome = meter.stop(work.n);
    percentiles(&mut outcome, &mut samples);
    Ok(outcome)
}

async fn scale(work: &Workload) -> Result<Outcome, Error> {
    let before = rss_kib();
    let meter = Meter::start();
    let permits = Arc::new(Semaphore::new(SCALE_IN_FLIGHT));
    let mut tasks = Vec::with_capacity(work.n as usize);
    for _ in 0..work.n {
        let permit = permits.clone().acquire_owned().await?;
        let builder = builder(work);
        tasks.push(tokio::spawn(async move {
            let client = connected(builder).await;
            drop(permit);
            client
        }));
    }
    let mut clients = Vec::with_capacity(tasks.len());
    for task in tasks {
        clients.push(task.await??);
    }
    let mut outcome = meter.stop(work.n);
    tokio::time::sleep(Duration::from_millis(500)).await;
    outcome.rss_per_client_kib = rss_kib().saturating_sub(before) as f64 / work.n as f64;
    for client in clients {
        let _ = client.disconnect().await;
    }
    Ok(outcome)
}
