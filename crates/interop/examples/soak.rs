//! The soak: many clients for a long time against the real Node.js socket.io server, with
//! random emits, acks both ways and forced reconnections; resident memory, open file
//! descriptors and live tasks are printed at the start, every 30 s, at the end (all clients
//! still connected) and after every client closed. A leak shows as a difference between the
//! start and end lines; a wrong ack answer or a client that cannot reconnect fails the run.
//!
//! ```sh
//! cargo run --release -p socketio-interop --example soak -- --clients 1000 --minutes 10
//! ```
//!
//! Options: `--clients N` (1000), `--minutes M` (10; fractions allowed), `--seed S`, `--url U`
//! (a server with the bundled server's `echo`, `ask`, `drop` and `stats` handlers; by default
//! the bundled server is started). Not a test: run it by hand, record the output in
//! docs/robustness.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use socketio_async::{Options, Socket, TransportKind};
use socketio_test_kit::node::NodeServer;

/// A small deterministic generator per client (splitmix64): the run is reproducible in what
/// each client decides, not in how the network interleaves it.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What happened, over every client.
#[derive(Default)]
struct Tally {
    acks_asked: AtomicU64,
    acks_ok: AtomicU64,
    acks_failed: AtomicU64,
    acks_wrong: AtomicU64,
    plain_emits: AtomicU64,
    echoes: AtomicU64,
    questions: AtomicU64,
    answers_ok: AtomicU64,
    answers_wrong: AtomicU64,
    answers_timed_out: AtomicU64,
    server_drops: AtomicU64,
    client_reconnects: AtomicU64,
    connects: AtomicU64,
    disconnects: AtomicU64,
}

impl Tally {
    fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Resident memory (KiB), open file descriptors, live tokio tasks.
#[derive(Debug, Clone, Copy)]
struct Usage {
    rss_kib: u64,
    fds: usize,
    tasks: usize,
}

fn usage() -> Usage {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
    let tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    Usage {
        rss_kib,
        fds,
        tasks,
    }
}

fn report(label: &str, u: Usage, connected: usize) {
    println!(
        "{label:>14}: rss {:>8.1} MiB  fds {:>6}  tasks {:>6}  connected {connected}",
        u.rss_kib as f64 / 1024.0,
        u.fds,
        u.tasks
    );
}

struct Args {
    clients: usize,
    minutes: f64,
    seed: u64,
    url: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        clients: 1000,
        minutes: 10.0,
        seed: 1,
        url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--clients" => args.clients = value.parse().expect("--clients N"),
            "--minutes" => args.minutes = value.parse().expect("--minutes M"),
            "--seed" => args.seed = value.parse().expect("--seed S"),
            "--url" => args.url = Some(value),
            other => panic!("unknown option {other}"),
        }
    }
    args
}

/// One client's life: connect, then a random action every 0.5-3 s until `until`.
async fn client(index: usize, url: String, seed: u64, until: Instant, tally: Arc<Tally>) -> Socket {
    let mut dice = Dice(seed ^ (index as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    // Half the clients start on polling and upgrade, half go straight to WebSocket.
    let transports = if index.is_multiple_of(2) {
        vec![TransportKind::Polling, TransportKind::WebSocket]
    } else {
        vec![TransportKind::WebSocket]
    };
    let options = Options::default()
        .force_new(true)
        .transports(transports)
        .reconnection_delay(Duration::from_millis(200))
        .reconnection_delay_max(Duration::from_secs(2));
    let socket = socketio_tokio::io(&url, options).expect("a valid url");
    {
        let tally = tally.clone();
        socket.on_connect(move |_| Tally::add(&tally.connects));
    }
    {
        let tally = tally.clone();
        socket.on_disconnect(move |_| Tally::add(&tally.disconnects));
    }
    {
        let tally = tally.clone();
        socket.on("echo", move |_| Tally::add(&tally.echoes));
    }
    // The server's question carries n; the answer is (n, n + 1), which the server reports
    // back in an "answer" event: a mixed-up answer shows there.
    socket.on("question", |mut message| {
        let n: u64 = message.args.get(0).unwrap_or(0);
        if let Some(ack) = message.take_ack() {
            let _ = ack.send((n, n + 1));
        }
    });
    {
        let tally = tally.clone();
        socket.on("answer", move |message| {
            match message.args.get::<Vec<u64>>(0) {
                Ok(answer) if answer.len() == 2 && answer[1] == answer[0] + 1 => {
                    Tally::add(&tally.answers_ok)
                }
                Ok(_) => Tally::add(&tally.answers_wrong),
                Err(_) => Tally::add(&tally.answers_timed_out),
            }
        });
    }

    let mut n = 0u64;
    while Instant::now() < until {
        let pause = Duration::from_millis(500 + dice.below(2_500));
        tokio::time::sleep(pause).await;
        n += 1;
        match dice.below(100) {
            0..50 => {
                Tally::add(&tally.acks_asked);
                let reply = socket
                    .timeout(Duration::from_secs(10))
                    .emit_with_ack::<_, (u64,)>("echo", (n,))
                    .await;
                match reply {
                    Ok((m,)) if m == n => Tally::add(&tally.acks_ok),
                    Ok(_) => Tally::add(&tally.acks_wrong),
                    // Lost with a dropped connection (no retries here) or timed out.
                    Err(_) => Tally::add(&tally.acks_failed),
                }
            }
            50..80 => {
                Tally::add(&tally.plain_emits);
                let _ = socket.emit("echo", (n,));
            }
            80..94 => {
                Tally::add(&tally.questions);
                let _ = socket.emit("ask", (n,));
            }
            94..98 => {
                Tally::add(&tally.server_drops);
                let _ = socket.emit("drop", ());
            }
            _ => {
                Tally::add(&tally.client_reconnects);
                socket.disconnect();
                socket.connect();
            }
        }
    }
    socket
}

/// How many clients are connected once all are, or after a minute. A progress check every
/// 100 ms: connections come from many tasks, and this is a report, not a test.
async fn all_connected(tally: &Tally, clients: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let connected = (get(&tally.connects) - get(&tally.disconnects)) as usize;
        if connected >= clients || Instant::now() > deadline {
            return connected;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn server_clients(monitor: &Socket) -> u64 {
    monitor
        .timeout(Duration::from_secs(10))
        .emit_with_ack::<_, (serde_json::Value,)>("stats", ())
        .await
        .ok()
        .and_then(|(v,)| v["clientsCount"].as_u64())
        .unwrap_or(0)
}

fn main() {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let failed = runtime.block_on(run(args));
    std::process::exit(i32::from(failed));
}

async fn run(args: Args) -> bool {
    let bundled;
    let url = match &args.url {
        Some(url) => url.clone(),
        None => {
            bundled = NodeServer::start(&[]);
            bundled.url()
        }
    };
    println!(
        "soak: {} clients for {} min against {url} (seed {})",
        args.clients, args.minutes, args.seed
    );
    let baseline = usage();
    report("before", baseline, 0);

    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(args.minutes * 60.0);
    let mut handles = Vec::with_capacity(args.clients);
    for index in 0..args.clients {
        let url = url.clone();
        let tally = tally.clone();
        handles.push(tokio::spawn(client(index, url, args.seed, until, tally)));
    }
    let monitor = socketio_tokio::io(&url, Options::default().force_new(true)).expect("url");
    let connected = all_connected(&tally, args.clients).await;
    report("all connected", usage(), connected);
    // The reference line: a few seconds later, when the upgrades that were under way are
    // done and their polling connections closed.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let start = usage();
    report("settled", start, connected);
    println!(
        "  server sees {} engine connections",
        server_clients(&monitor).await
    );

    let mut ticker = tokio::time::interval(Duration::from_secs(30));
    ticker.tick().await;
    while Instant::now() < until {
        ticker.tick().await;
        let connected = (get(&tally.connects) - get(&tally.disconnects)) as usize;
        report(
            &format!("t+{:.0}s", started.elapsed().as_secs_f64()),
            usage(),
            connected,
        );
    }
    let mut sockets = Vec::with_capacity(args.clients);
    for handle in handles {
        sockets.push(handle.await.expect("a client task"));
    }
    // Forced reconnections may still be settling: the end line is taken with all connected.
    let connected = all_connected(&tally, args.clients).await;
    let end = usage();
    report("end", end, connected);
    let server_end = server_clients(&monitor).await;
    println!("  server sees {server_end} engine connections");

    for socket in &sockets {
        socket.disconnect();
    }
    drop(sockets);
    monitor.disconnect();
    drop(monitor);
    // Let the drivers finish their goodbyes and exit.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut after = usage();
    while (after.tasks > baseline.tasks || after.fds > baseline.fds) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        after = usage();
    }
    report("after close", after, 0);

    let t = &*tally;
    println!(
        "emit_with_ack: {} asked, {} ok, {} failed (lost with a dropped connection or timed out), {} wrong\n\
         plain emits {}, echoes received {}\n\
         questions {} (answers ok {}, wrong {}, timed out {})\n\
         forced reconnections: {} by the server, {} by the client; connects {}, disconnects {}\n\
         wall time {:.1} s",
        get(&t.acks_asked),
        get(&t.acks_ok),
        get(&t.acks_failed),
        get(&t.acks_wrong),
        get(&t.plain_emits),
        get(&t.echoes),
        get(&t.questions),
        get(&t.answers_ok),
        get(&t.answers_wrong),
        get(&t.answers_timed_out),
        get(&t.server_drops),
        get(&t.client_reconnects),
        get(&t.connects),
        get(&t.disconnects),
        started.elapsed().as_secs_f64(),
    );

    let mut failed = false;
    let mut fail = |why: String| {
        println!("FAIL: {why}");
        failed = true;
    };
    if get(&t.acks_wrong) + get(&t.answers_wrong) > 0 {
        fail("wrong ack answers".into());
    }
    if connected < args.clients {
        fail(format!(
            "only {connected} of {} clients connected at the end",
            args.clients
        ));
    }
    // Per connected client, file descriptors and tasks must not grow over the run.
    if end.fds > start.fds + args.clients / 100 + 2 {
        fail(format!(
            "file descriptors grew: {} -> {}",
            start.fds, end.fds
        ));
    }
    if end.tasks > start.tasks + args.clients / 100 + 2 {
        fail(format!("tasks grew: {} -> {}", start.tasks, end.tasks));
    }
    if after.fds > baseline.fds || after.tasks > baseline.tasks {
        fail(format!(
            "not everything was released after close: fds {} -> {}, tasks {} -> {}",
            baseline.fds, after.fds, baseline.tasks, after.tasks
        ));
    }
    if !failed {
        println!("ok");
    }
    failed
}
