//! Property tests: the manager against random server scripts (server emits and ack requests,
//! client emits with and without acks, volatile emits, killed and closed connections, server
//! disconnects, reconnections refused for a while, late pings, time jumps) over a link with a
//! random seed, latency and sometimes connection resets, with and without connection state
//! recovery and `retries`, and with an application that also emits from its event handlers
//! (on open, connect, disconnect, news: where a client is most tempted to write too early).
//! Every run must keep the client's invariants:
//!
//! 1. The client breaks no rule: no Engine.IO violation, and no EVENT (or ACK) for a namespace
//!    the server has not connected on that session (the fake server's Socket.IO rule check;
//!    the server is not strict, so a violation fails the property with the transcript). On
//!    the client's own side, every EVENT is written on the engine whose CONNECT reply
//!    connected the namespace: after it, or while handling it (the send buffer is flushed
//!    just before `Event::Connect`).
//! 2. Acks resolve at most once: one `Event::Ack` per emit at most, only for emits that asked
//!    for one; and by the end of a quiet period, every emit that asked has its one result.
//! 3. Delivery. Without `retries`: each emit is written at most once, in emit order per
//!    namespace, and reaches the server at most once, in order on each session; every emit
//!    written on a session the server still has open at the end arrived there; nothing is
//!    left buffered. With `retries` and an ack timeout (and a server that acks): every queued
//!    emit reaches the server at least once, per namespace in emit order of first delivery,
//!    and its ack resolves once, successfully.
//! 4. The server's ack requests are answered once each, to the socket that asked (an answer
//!    is refused only when the input that carried the request also ended the connection).
//! 5. The simulation never panics (no livelock, no stuck timer).
//!
//! 64 cases (`PROPTEST_CASES` to change), from a fixed seed (`PROPTEST_RNG_SEED` to change),
//! in a fraction of a second.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use engineio_proto::TransportKind;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use socketio_proto::{
    DisconnectReason, EmitId, EmitOptions, EmitStatus, Event, Manager, SocketConfig,
};
use socketio_test_kit::{
    AppSim, LinkConfig, Refusal, RequestMatch, SimConfig, SioApp, SioConfig, SioServer, app_sim,
    sio_server_config,
};

use crate::support::*;

const NAMESPACES: [&str; 2] = ["/", "/chat"];

/// One step of a script.
#[derive(Debug, Clone)]
enum Step {
    /// The server emits `["news", n]` to a namespace.
    ServerEmit(usize),
    /// The server emits `["ask", n]` and waits for the client's ack.
    ServerAsk(usize),
    /// The client emits `["e", n]`.
    ClientEmit {
        nsp: usize,
        ack: bool,
        volatile: bool,
    },
    /// The client leaves a namespace ("io client disconnect").
    ClientLeave(usize),
    /// The client connects a namespace (a no-op unless it left).
    ClientJoin(usize),
    /// The server disconnects a namespace ("io server disconnect"; the application connects
    /// it again at once).
    ServerDisconnect(usize),
    /// The server process drops the newest session without a word.
    Kill,
    /// The server closes the newest session gracefully.
    Close,
    /// The server refuses new sessions for this long.
    Refuse(Duration),
    /// The server's next ping on the newest session comes this late.
    DelayPings(Duration),
    /// Virtual time passes.
    Wait(Duration),
}

/// A step; with `client_leaves`, the client also leaves and joins namespaces.
fn step(client_leaves: bool) -> BoxedStrategy<Step> {
    let nsp = 0..NAMESPACES.len();
    let server_and_time = prop_oneof![
        3 => nsp.clone().prop_map(Step::ServerEmit),
        2 => nsp.clone().prop_map(Step::ServerAsk),
        6 => (nsp.clone(), any::<bool>(), prop::bool::weighted(0.15))
            .prop_map(|(nsp, ack, volatile)| Step::ClientEmit { nsp, ack, volatile }),
        1 => nsp.clone().prop_map(Step::ServerDisconnect),
        1 => Just(Step::Kill),
        1 => Just(Step::Close),
        1 => (100..60_000u64).prop_map(|n| Step::Refuse(ms(n))),
        1 => (100..10_000u64).prop_map(|n| Step::DelayPings(ms(n))),
        5 => (0..2_000u64).prop_map(|n| Step::Wait(ms(n))),
        1 => (2_000..120_000u64).prop_map(|n| Step::Wait(ms(n))),
    ];
    if !client_leaves {
        return server_and_time.boxed();
    }
    prop_oneof![
        26 => server_and_time,
        1 => nsp.clone().prop_map(Step::ClientLeave),
        1 => nsp.prop_map(Step::ClientJoin),
    ]
    .boxed()
}

/// How the client sends.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Plain emits, acks without a timeout.
    Plain,
    /// Plain emits, with an ack timeout (ms).
    AckTimeout(u64),
    /// `retries` with an ack timeout: at-least-once.
    Retries,
}

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    transports: &'static [TransportKind],
    max_latency_ms: u64,
    /// The probability that a transmission resets its connection, in percent.
    loss_percent: u32,
    heartbeat: (u64, u64),
    recovery: bool,
    mode: Mode,
    reacts: bool,
    steps: Vec<Step>,
}

fn case(client_leaves: bool) -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        prop_oneof![Just(POLLING), Just(WEBSOCKET), Just(UPGRADE)],
        1..40u64,
        prop_oneof![3 => Just(0u32), 1 => 1..5u32],
        (300..3_000u64, 200..2_000u64),
        any::<bool>(),
        prop_oneof![
            Just(Mode::Plain),
            (50..3_000u64).prop_map(Mode::AckTimeout),
            Just(Mode::Retries),
        ],
        any::<bool>(),
        prop::collection::vec(step(client_leaves), 1..40),
    )
        .prop_map(
            |(
                seed,
                transports,
                max_latency_ms,
                loss_percent,
                heartbeat,
                recovery,
                mode,
                reacts,
                steps,
            )| Case {
                seed,
                transports,
                max_latency_ms,
                loss_percent,
                heartbeat,
                recovery,
                mode,
                reacts,
                steps,
            },
        )
}

/// With this many retries no emit runs out during a script: each disruption costs the emit in
/// flight at most a try or two.
const RETRIES: u32 = 10_000;
const RETRY_ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// The application around the manager: answers every ack request at once, connects a
/// namespace again when the server disconnected it, emits from its event handlers when
/// `reacts` (on open, on connect, on disconnect, on news: the moments where a client is most
/// likely to write too early), and writes down everything it saw.
#[derive(Debug, Default)]
struct Recorder {
    reacts: bool,
    log: Vec<Seen>,
    /// Every emit, from the script or from a handler.
    sent: Vec<Sent>,
    /// Ack answers that failed: (index in `log` of the request, error).
    answer_errors: Vec<(usize, String)>,
}

impl Recorder {
    /// Emits `["e", n]` with the next `n`.
    fn emit(
        &mut self,
        manager: &mut Manager,
        now: Instant,
        nsp: &'static str,
        ack: bool,
        volatile: bool,
    ) {
        let n = self.sent.len() as u64 + 1;
        let mut options = if ack {
            EmitOptions::with_ack()
        } else {
            EmitOptions::default()
        };
        if volatile {
            options = options.volatile();
        }
        let mut socket = manager.socket_mut(nsp).unwrap();
        let emitted = socket.emit(now, payload(&("e", n)), options).unwrap();
        self.sent.push(Sent {
            n,
            nsp,
            ack,
            volatile,
            id: emitted.id,
            status: emitted.status,
        });
    }

    /// What a handler emits: to `nsp`, an ack asked every other time.
    fn react(&mut self, manager: &mut Manager, now: Instant, nsp: &str) {
        if self.reacts {
            let ack = self.sent.len().is_multiple_of(2);
            self.emit(manager, now, nsp_name(nsp), ack, false);
        }
    }
}

#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    /// The current engine's session id when the event was handled (for `Open`, the session
    /// that opened; for later events it may already be another, or none: the application
    /// handles the events of one input after the manager handled all of it).
    engine: Option<String>,
    event: Event,
}

impl SioApp for Recorder {
    fn on_event(&mut self, manager: &mut Manager, now: Instant, event: &Event) {
        let engine = manager.engine().and_then(|e| e.sid()).map(str::to_owned);
        self.log.push(Seen {
            at: now,
            engine,
            event: event.clone(),
        });
        match event {
            Event::Message {
                nsp, ack: Some(id), ..
            } => {
                let answer = payload(&("ok", *id));
                if let Err(e) = manager.socket_mut(nsp).unwrap().ack(now, *id, answer) {
                    self.answer_errors.push((self.log.len() - 1, e.to_string()));
                }
            }
            Event::Message { nsp, ack: None, .. } => self.react(manager, now, nsp),
            Event::Disconnect { nsp, reason } => {
                if *reason == DisconnectReason::IoServerDisconnect {
                    manager.socket_mut(nsp).unwrap().connect(now);
                }
                self.react(manager, now, nsp);
            }
            Event::Open => self.react(manager, now, "/chat"),
            Event::Connect { nsp, .. } => {
                let other = if nsp == "/" { "/chat" } else { "/" };
                self.react(manager, now, other);
            }
            _ => {}
        }
    }
}

/// One client emit.
#[derive(Debug, Clone)]
struct Sent {
    n: u64,
    nsp: &'static str,
    ack: bool,
    volatile: bool,
    id: EmitId,
    status: EmitStatus,
}

struct Run {
    sim: AppSim<Recorder>,
    /// How many server ack requests went out.
    asked: usize,
}

fn build(case: &Case) -> AppSim<Recorder> {
    let engine = sio_server_config()
        .with_heartbeat(case.heartbeat.0, case.heartbeat.1)
        .with_strict(false);
    let mut server = SioConfig::new().namespace("/chat", Default::default());
    if case.recovery {
        server = server.recovery(Duration::from_secs(30));
    }
    let link = LinkConfig::jitter(MS, ms(case.max_latency_ms))
        .with_loss(f64::from(case.loss_percent) / 100.0);
    let config = SimConfig::new(case.seed).link(link).server(engine);
    let mut sim = app_sim(
        config,
        SioServer::new(server),
        client_config(case.transports),
        Recorder {
            reacts: case.reacts,
            ..Recorder::default()
        },
    );
    let socket_config = match case.mode {
        Mode::Plain => SocketConfig::default(),
        Mode::AckTimeout(t) => with_ack_timeout(t),
        Mode::Retries => retrying(RETRIES, RETRY_ACK_TIMEOUT.as_millis() as u64),
    };
    sim.with_client(|c, now| {
        c.manager.set_report_outgoing(true);
        for nsp in NAMESPACES {
            let mut socket = c.manager.add_socket(nsp, socket_config.clone()).unwrap();
            socket.connect(now);
        }
    });
    sim
}

fn play(case: &Case) -> Run {
    let mut sim = build(case);
    let mut asked = 0;
    let mut refuse_until: Option<Instant> = None;
    let mut next = 0u64;
    for step in &case.steps {
        if refuse_until.is_some_and(|t| t <= sim.now()) {
            refuse_until = None;
            sim.with_server(|s, _| s.clear_refusals());
        }
        match step {
            Step::ServerEmit(i) => {
                next += 1;
                sim.with_server(|s, now| s.sio_emit(now, NAMESPACES[*i], payload(&("news", next))));
            }
            Step::ServerAsk(i) => {
                next += 1;
                let emit = sim.with_server(|s, now| {
                    s.sio_emit_with_ack(now, NAMESPACES[*i], payload(&("ask", next)))
                });
                if emit.is_some_and(|e| e.sent) {
                    asked += 1;
                }
            }
            Step::ClientEmit { nsp, ack, volatile } => {
                let nsp = NAMESPACES[*nsp];
                sim.with_client(|c, now| c.app.emit(&mut c.manager, now, nsp, *ack, *volatile));
            }
            Step::ClientLeave(i) => {
                sim.with_client(|c, now| {
                    c.manager
                        .socket_mut(NAMESPACES[*i])
                        .unwrap()
                        .disconnect(now)
                });
            }
            Step::ClientJoin(i) => {
                sim.with_client(|c, now| {
                    c.manager.socket_mut(NAMESPACES[*i]).unwrap().connect(now)
                });
            }
            Step::ServerDisconnect(i) => {
                sim.with_server(|s, now| s.sio_disconnect(now, NAMESPACES[*i], false));
            }
            Step::Kill => {
                if let Some(sid) = sim.server().last_sid() {
                    sim.with_server(|s, now| s.kill(now, &sid));
                }
            }
            Step::Close => {
                if let Some(sid) = sim.server().last_sid() {
                    sim.with_server(|s, now| s.close(now, &sid));
                }
            }
            Step::Refuse(d) => {
                let until = sim.now() + *d;
                refuse_until = Some(refuse_until.map_or(until, |t| t.max(until)));
                sim.with_server(|s, _| {
                    s.refuse(Refusal::error(RequestMatch::Handshake, 503, 4, "busy"))
                });
            }
            Step::DelayPings(d) => {
                if let Some(sid) = sim.server().last_sid() {
                    sim.with_server(|s, _| s.delay_pings(&sid, *d));
                }
            }
            Step::Wait(d) => sim.run_for(*d),
        }
    }
    // A quiet end: the server takes connections again, and nothing disturbs the link for a
    // while (longer than a reconnection backoff, a heartbeat and an ack timeout).
    sim.with_server(|s, _| s.clear_refusals());
    sim.with_client(|c, now| {
        for nsp in NAMESPACES {
            c.manager.socket_mut(nsp).unwrap().connect(now);
        }
    });
    let calm = sim.link_mut().config().clone().with_loss(0.0);
    sim.link_mut().set_config(calm);
    sim.run_for(Duration::from_secs(30));
    Run { sim, asked }
}

/// The `n` of an `["e", n]` payload.
fn emitted_n(p: &socketio_proto::codec::Payload) -> Option<u64> {
    (p.event_name().as_deref() == Some("e"))
        .then(|| p.arg(1).ok())
        .flatten()
}

fn check(case: &Case, run: &Run) -> Result<(), TestCaseError> {
    let sim = &run.sim;
    let app = sim.server().app();
    let log = &sim.client().app.log;

    // 1. No rule broken, on either side.
    prop_assert!(
        sim.violations().is_empty(),
        "violations: {:?}\n{}",
        sim.violations(),
        sim.transcript()
    );
    // The engine of each event: the events from an `Open` to its `Close`, in the order the
    // manager produced them, belong to that connection.
    let mut sessions: Vec<Option<String>> = Vec::new();
    let mut engine_of: Vec<Option<usize>> = Vec::new();
    let mut current = None;
    for seen in log {
        if matches!(seen.event, Event::Open) {
            sessions.push(seen.engine.clone());
            current = Some(sessions.len() - 1);
        }
        engine_of.push(current);
        if matches!(seen.event, Event::Close { .. }) {
            current = None;
        }
    }
    let mut connected_on: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, seen) in log.iter().enumerate() {
        match &seen.event {
            Event::Connect { nsp, .. } => {
                let engine = engine_of[i];
                prop_assert!(engine.is_some(), "connect without an engine at {i}");
                connected_on.insert(nsp_name(nsp), engine.unwrap());
            }
            Event::Disconnect { nsp, .. } => {
                connected_on.remove(nsp_name(nsp));
            }
            Event::Close { .. } => connected_on.clear(),
            Event::Outgoing { nsp, payload } => {
                let engine = engine_of[i];
                prop_assert!(engine.is_some(), "{payload:?} written without an engine");
                if connected_on.get(nsp_name(nsp)).copied() == engine {
                    continue;
                }
                // Flushed while handling the CONNECT reply: the events up to `connect` are
                // the other flushed ones, at the same instant on the same engine.
                let end = (i + 1..log.len()).find(
                    |&j| !matches!(&log[j].event, Event::Outgoing { nsp: n, .. } if n == nsp),
                );
                let ok = end.is_some_and(|j| {
                    matches!(&log[j].event, Event::Connect { nsp: n, .. } if n == nsp)
                        && engine_of[j] == engine
                        && log[j].at == seen.at
                });
                prop_assert!(
                    ok,
                    "{payload:?} written on {nsp} before its CONNECT reply on engine {engine:?} (event {i})\n{log:#?}"
                );
            }
            _ => {}
        }
    }

    // 2. Each ack at most once, only for emits that asked; all resolved by now.
    let sent = &sim.client().app.sent;
    let asked_ack: BTreeMap<EmitId, &Sent> =
        sent.iter().filter(|s| s.ack).map(|s| (s.id, s)).collect();
    let mut results: BTreeMap<EmitId, usize> = BTreeMap::new();
    for seen in log {
        if let Event::Ack { emit, .. } = &seen.event {
            prop_assert!(
                asked_ack.contains_key(emit),
                "an ack for {emit:?}, which did not ask"
            );
            *results.entry(*emit).or_default() += 1;
        }
    }
    for (emit, n) in &results {
        prop_assert_eq!(*n, 1, "{:?} resolved {} times", emit, n);
    }
    for (emit, s) in &asked_ack {
        prop_assert!(
            results.contains_key(emit),
            "{s:?} never resolved\n{}",
            sim.transcript()
        );
    }

    // Where each emit went.
    let mut received: Vec<(&str, u64, &str)> = Vec::new(); // (nsp, n, session)
    for r in app.log() {
        if r.packet.kind == socketio_proto::codec::PacketKind::Event
            && let Some(n) = r.packet.data.as_ref().and_then(emitted_n)
        {
            received.push((nsp_name(&r.packet.nsp), n, r.eio_sid.as_str()));
        }
    }
    let mut writes: Vec<(&str, u64, Option<&str>)> = Vec::new(); // (nsp, n, session)
    for (i, seen) in log.iter().enumerate() {
        if let Event::Outgoing { nsp, payload } = &seen.event
            && let Some(n) = emitted_n(payload)
        {
            let session = engine_of[i].and_then(|e| sessions[e].as_deref());
            writes.push((nsp_name(nsp), n, session));
        }
    }
    let by_n: BTreeMap<u64, &Sent> = sent.iter().map(|s| (s.n, s)).collect();
    let retries = matches!(case.mode, Mode::Retries);

    // 3. Delivery.
    let mut count: BTreeMap<u64, usize> = BTreeMap::new();
    for (_, n, _) in &received {
        *count.entry(*n).or_default() += 1;
    }
    let mut wrote: BTreeMap<u64, usize> = BTreeMap::new();
    for (_, n, _) in &writes {
        *wrote.entry(*n).or_default() += 1;
    }
    for (nsp, n, _) in &received {
        prop_assert_eq!(
            by_n[n].nsp,
            *nsp,
            "emit {} arrived on the wrong namespace",
            n
        );
    }
    let queued = |s: &Sent| retries && !s.volatile;
    for s in sent {
        let arrived = count.get(&s.n).copied().unwrap_or(0);
        let written = wrote.get(&s.n).copied().unwrap_or(0);
        if queued(s) {
            prop_assert!(arrived >= 1, "{s:?} never reached the server");
            continue;
        }
        prop_assert!(written <= 1, "{s:?} written {written} times");
        prop_assert!(arrived <= 1, "{s:?} reached the server {arrived} times");
        prop_assert!(arrived <= written, "{s:?} arrived without being written");
        if s.volatile && s.status == EmitStatus::Dropped {
            prop_assert_eq!(written, 0, "{:?} dropped but written", s);
        }
    }
    for nsp in NAMESPACES {
        // Written in emit order (plain emits), each once.
        let plain: Vec<u64> = writes
            .iter()
            .filter(|(ns, n, _)| *ns == nsp && !queued(by_n[n]))
            .map(|(_, n, _)| *n)
            .collect();
        prop_assert!(
            plain.windows(2).all(|w| w[0] < w[1]),
            "{nsp}: written out of order: {plain:?}"
        );
        // Received in order on each session (plain), in order of first delivery (queued).
        let mut per_session: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        let mut first: Vec<u64> = Vec::new();
        let mut seen_n = BTreeSet::new();
        for (ns, n, sid) in &received {
            if *ns != nsp {
                continue;
            }
            if queued(by_n[n]) {
                if seen_n.insert(*n) {
                    first.push(*n);
                }
            } else {
                per_session.entry(sid).or_default().push(*n);
            }
        }
        for (sid, ns) in &per_session {
            prop_assert!(
                ns.windows(2).all(|w| w[0] < w[1]),
                "{nsp} on {sid}: received out of order: {ns:?}"
            );
        }
        prop_assert!(
            first.windows(2).all(|w| w[0] < w[1]),
            "{nsp}: first deliveries out of order: {first:?}"
        );
    }
    // What was written on a session that is still open arrived there.
    let open: BTreeSet<String> = sim
        .server()
        .sessions()
        .into_iter()
        .filter(|s| s.closed.is_none())
        .map(|s| s.sid)
        .collect();
    for (nsp, n, engine) in &writes {
        let Some(engine) = engine else { continue };
        if queued(by_n[n]) || !open.contains(*engine) {
            continue;
        }
        prop_assert!(
            received.contains(&(*nsp, *n, *engine)),
            "emit {n} written on open session {engine} never arrived\n{}",
            sim.transcript()
        );
    }
    // With retries, every queued emit that asked resolved successfully.
    if retries {
        for seen in log {
            if let Event::Ack { emit, result, .. } = &seen.event
                && queued(asked_ack[emit])
            {
                prop_assert!(result.is_ok(), "{:?}: {result:?}", asked_ack[emit]);
            }
        }
    }
    // After the quiet end, everything is connected and nothing waits.
    for nsp in NAMESPACES {
        let socket = sim.client().manager.socket(nsp).unwrap();
        prop_assert!(
            socket.connected(),
            "{nsp} not connected at the end\n{}",
            sim.transcript()
        );
        prop_assert_eq!(socket.buffered(), 0);
        prop_assert_eq!(socket.queued(), 0);
        prop_assert_eq!(socket.pending_acks(), 0);
    }

    // 4. Ack requests answered once, where they were asked. The application sees a request
    // once the manager has handled the whole input that carried it: if the same input also
    // ended the connection (the request, then the close, in one polling response), the
    // request is void by then, and the answer is refused.
    for (i, error) in &sim.client().app.answer_errors {
        let request = &log[*i];
        let Event::Message { nsp, .. } = &request.event else {
            unreachable!()
        };
        let lost = log[i + 1..]
            .iter()
            .take_while(|s| s.at == request.at)
            .any(|s| {
                matches!(&s.event, Event::Close { .. })
                    || matches!(&s.event, Event::Disconnect { nsp: n, .. } if n == nsp)
            });
        prop_assert!(lost, "answering {:?} failed: {error}", request.event);
    }
    for nsp in NAMESPACES {
        for a in app.client_acks(nsp) {
            prop_assert!(a.expected, "{a:?} answered twice or unasked");
        }
    }
    prop_assert!(
        NAMESPACES
            .iter()
            .map(|n| app.client_acks(n).len())
            .sum::<usize>()
            <= run.asked
    );
    Ok(())
}

/// The namespace as one of [`NAMESPACES`].
fn nsp_name(nsp: &str) -> &'static str {
    NAMESPACES
        .into_iter()
        .find(|n| *n == nsp)
        .unwrap_or_else(|| panic!("unknown namespace {nsp}"))
}

fn config() -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let rng_seed = match default.rng_seed {
        RngSeed::Random => RngSeed::Fixed(0x50C7_E710),
        fixed => fixed,
    };
    ProptestConfig {
        cases,
        rng_seed,
        failure_persistence: None,
        ..default
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_client_keeps_its_invariants_under_random_scripts(case in case(false)) {
        let run = play(&case);
        check(&case, &run)?;
    }

    /// The same with the client leaving and joining namespaces (`disconnect()`/`connect()`)
    /// too. It found two races in `socketio-proto` when a namespace was joined again while the
    /// server's traffic for the previous socket is still on the way: an event for the old
    /// socket that arrives before the new CONNECT reply is delivered (as if replayed by a
    /// recovery) and its ack request answered to the new socket, which never asked; and a
    /// server DISCONNECT for the old socket ends the new, still pending, CONNECT without an
    /// event, while the server connects it (the client thinks it left, the server does not).
    /// They were rare (`PROPTEST_CASES=4000` found them); both are fixed, `rejoin.rs` keeps a
    /// reproduction of each.
    #[test]
    fn the_client_keeps_its_invariants_when_it_also_leaves_and_joins(case in case(true)) {
        let run = play(&case);
        check(&case, &run)?;
    }
}
