//! The floor: a raw tokio-tungstenite client that does the Engine.IO WebSocket-only handshake
//! and the namespace CONNECT by hand, then reads and discards frames (receive), or sends
//! pre-formatted ack requests and waits for the matching frame (echo).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::measure::{Meter, Outcome, percentiles, rss_kib};
use crate::workload::{SCALE_IN_FLIGHT, Test, Transport, Workload};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Runs the workload (WebSocket only: there is no raw polling floor).
pub async fn run(work: &Workload) -> Result<Outcome, Error> {
    if work.transport != Transport::WebSocket {
        return Err("the raw floor speaks WebSocket only".into());
    }
    match work.test {
        Test::Recv => recv(work).await,
        Test::Ack => ack(work).await,
        Test::Connect => connect(work).await,
        Test::Scale => scale(work).await,
        Test::Slow => Err("the raw floor has no slow-consumer run".into()),
    }
}

async fn next_text(ws: &mut Ws) -> Result<tokio_tungstenite::tungstenite::Utf8Bytes, Error> {
    loop {
        match ws.next().await.ok_or("closed")?? {
            Message::Text(text) if text.as_str() == "2" => ws.send(Message::text("3")).await?,
            Message::Text(text) => return Ok(text),
            Message::Close(_) => return Err("closed".into()),
            _ => {}
        }
    }
}

/// Opens the WebSocket, reads the open packet, connects to `/`, waits for its answer.
async fn connected(url: &str) -> Result<Ws, Error> {
    let ws_url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        url.replacen("http", "ws", 1)
    );
    // The same read buffer as this project's adapters (4 KiB), so the floor is a floor.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(ws_url, Some(config), true).await?;
    let open = next_text(&mut ws).await?;
    if !open.as_str().starts_with('0') {
        return Err(format!("expected the open packet, got {open}").into());
    }
    ws.send(Message::text("40")).await?;
    let connect = next_text(&mut ws).await?;
    if !connect.as_str().starts_with("40") {
        return Err(format!("expected CONNECT, got {connect}").into());
    }
    Ok(ws)
}

async fn recv(work: &Workload) -> Result<Outcome, Error> {
    let mut ws = connected(&work.url).await?;
    let meter = Meter::start();
    ws.send(Message::text(format!(r#"42["burst",{},0]"#, work.n)))
        .await?;
    let mut count = 0;
    while count < work.n {
        let frame = next_text(&mut ws).await?;
        if frame.as_str().starts_with("42") {
            count += 1;
        }
    }
    let outcome = meter.stop(count);
    let _ = ws.close(None).await;
    Ok(outcome)
}

async fn ack(work: &Workload) -> Result<Outcome, Error> {
    let mut ws = connected(&work.url).await?;
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for i in 0..work.n {
        let sent = Instant::now();
        ws.send(Message::text(format!(r#"42{i}["echo",{i}]"#)))
            .await?;
        let want = format!("43{i}[");
        loop {
            if next_text(&mut ws).await?.as_str().starts_with(&want) {
                break;
            }
        }
        samples.push(sent.elapsed());
    }
    let mut outcome = meter.stop(work.n);
    percentiles(&mut outcome, &mut samples);
    let _ = ws.close(None).await;
    Ok(outcome)
}

async fn connect(work: &Workload) -> Result<Outcome, Error> {
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for _ in 0..work.n {
        let started = Instant::now();
        let mut ws = connected(&work.url).await?;
        samples.push(started.elapsed());
        let _ = ws.close(None).await;
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
        let url = work.url.clone();
        tasks.push(tokio::spawn(async move {
            let ws = connected(&url).await;
            drop(permit);
            // Idle, but alive: answer pings until the socket closes.
            let mut ws = ws?;
            let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(async move {
                let _ = next_text(&mut ws).await;
                drop(done_tx);
            });
            Ok::<_, Error>(done_rx)
        }));
    }
    let mut idle = Vec::with_capacity(tasks.len());
    for task in tasks {
        idle.push(task.await??);
    }
    let mut outcome = meter.stop(work.n);
    tokio::time::sleep(Duration::from_millis(500)).await;
    outcome.rss_per_client_kib = rss_kib().saturating_sub(before) as f64 / work.n as f64;
    drop(idle);
    Ok(outcome)
}
