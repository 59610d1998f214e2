//! This project's blocking client (`socketio_blocking::Client`): no async runtime. Its IO
//! runs on the client's own thread, which sleeps in the OS until there is work; the
//! measuring (main) thread blocks in `receive` and `call`. The process's CPU time counts
//! both threads.

use std::time::{Duration, Instant};

use socketio_blocking::{Client, Error, Event};

use crate::measure::{Meter, Outcome, percentiles};
use crate::workload::{Test, Workload};

/// How long a receive or an ack may take before the run counts as stalled: far above any
/// sample, so that it only ends a run that stopped.
const STALL: Duration = Duration::from_secs(10);

/// Runs the workload.
pub fn run(work: &Workload) -> Result<Outcome, String> {
    match work.test {
        Test::Recv => recv(work).map_err(|e| e.to_string()),
        Test::Ack => ack(work).map_err(|e| e.to_string()),
        Test::Connect => connect(work).map_err(|e| e.to_string()),
        // One IO thread per connection: 10,000 idle clients are 10,000 threads, which is not
        // what this client is for (the async adapters are).
        Test::Scale => {
            Err("the blocking client is not a scale peer (one thread per client)".into())
        }
        // The slow-consumer run compares the async clients' bounds with the other clients'.
        Test::Slow => Err("the blocking client has no slow-consumer run".into()),
    }
}

/// Connects with the same options as the async peers; returns once the namespace is
/// connected (`Client::connect` waits for it).
fn connected(work: &Workload) -> Result<Client, Error> {
    Client::connect(&work.url, crate::ours::options(work.transport))
}

fn recv(work: &Workload) -> Result<Outcome, Error> {
    let client = connected(work)?;
    let n = work.n;
    let mut count = 0u64;
    let meter = Meter::start();
    client.emit("burst", (n, 0))?;
    while count < n {
        match client.receive(STALL)? {
            Some(Event::Message(message)) if message.event() == "burst" => {
                // Read the index as an application would.
                let index: u64 = message.arg(0).unwrap_or(u64::MAX);
                std::hint::black_box(index);
                count += 1;
            }
            Some(_) => {}
            None => {
                eprintln!("stalled after {count} of {n}");
                std::process::exit(3);
            }
        }
    }
    let outcome = meter.stop(count);
    client.close();
    Ok(outcome)
}

fn ack(work: &Workload) -> Result<Outcome, Error> {
    let client = connected(work)?;
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for i in 0..work.n {
        let sent = Instant::now();
        let (back,): (u64,) = client.call("echo", (i,), STALL)?;
        samples.push(sent.elapsed());
        assert_eq!(back, i, "the echo must return the argument");
    }
    let mut outcome = meter.stop(work.n);
    percentiles(&mut outcome, &mut samples);
    client.close();
    Ok(outcome)
}

/// Start-up: from nothing to a connected namespace, the IO thread's creation included.
fn connect(work: &Workload) -> Result<Outcome, Error> {
    let mut samples = Vec::with_capacity(work.n as usize);
    let meter = Meter::start();
    for _ in 0..work.n {
        let started = Instant::now();
        let client = connected(work)?;
        samples.push(started.elapsed());
        // Closing ends the IO thread too, as the async peers' disconnect ends their task.
        client.close();
    }
    let mut outcome = meter.stop(work.n);
    percentiles(&mut outcome, &mut samples);
    Ok(outcome)
}
