//! The simulated soak: one client on the sans-IO manager, against the fake Socket.IO server,
//! for virtual hours (a day by default; `SOAK_HOURS` to change, `SOAK_SEED` for another seed) of
//! steady traffic and regular trouble, in a few seconds of wall time.
//!
//! Every virtual minute the application emits on two namespaces (`/` with `retries`, `/chat`
//! with plain acks, fire-and-forget and volatile emits), the server emits news and asks
//! questions, and now and then something goes wrong: the connection is killed or closed, the
//! server refuses new connections for a while, its pings come late, it disconnects a
//! namespace, or the link turns lossy. At the end of every virtual hour the trouble stops for
//! two minutes, and the manager must be back to holding nothing: its [`Footprint`] shows no
//! buffered emit, no pending ack, no unanswered question, no closing engine. That is what a
//! leak or a stuck state would break, however slowly it grows.
//!
//! Over the whole run: no protocol violation, every `retries` emit reached the server at least
//! once, every ack resolved exactly once, every question was answered, and the server's news
//! arrived in order, never twice (with connection state recovery on the server).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use engineio_proto::TransportKind;
use serde::Serialize;
use socketio_proto::codec::{PacketKind, Payload};
use socketio_proto::{
    DisconnectReason, EmitId, EmitOptions, Event, Footprint, Manager, ManagerConfig, SocketConfig,
};
use socketio_test_kit::{
    AppSim, LinkConfig, Refusal, RequestMatch, SimConfig, SimRng, SioApp, SioConfig, SioServer,
    app_sim, sio_server_config,
};

const RELIABLE: &str = "/";
const CHAT: &str = "/chat";

fn payload<T: Serialize + ?Sized>(v: &T) -> Payload {
    Payload::from_serialize(v).expect("serializable")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The application: emits numbered events, answers every question, reconnects a namespace the
/// server disconnected, and writes down what it saw.
#[derive(Debug, Default)]
struct Soaker {
    next: u64,
    /// Emits that asked for an ack: (namespace, n).
    asked: BTreeMap<EmitId, (&'static str, u64)>,
    /// Ack results per emit: (successes, failures).
    results: BTreeMap<EmitId, (u32, u32)>,
    /// `n` of every `retries` emit.
    reliable: Vec<u64>,
    /// The last news number seen per namespace, and anomalies (out of order or twice).
    last_news: BTreeMap<String, u64>,
    news: u64,
    received_news: BTreeSet<u64>,
    /// Every namespace connect: when, which, whether the server restored the session.
    connect_log: Vec<(Instant, String, bool)>,
    anomalies: Vec<String>,
    questions: u64,
    answer_errors: Vec<String>,
    opens: u64,
    connects: u64,
    recovered: u64,
}

impl Soaker {
    fn emit(&mut self, manager: &mut Manager, now: Instant, nsp: &'static str, kind: u64) {
        self.next += 1;
        let n = self.next;
        let options = match (nsp, kind % 4) {
            (RELIABLE, _) | (_, 0 | 1) => EmitOptions::with_ack(),
            (_, 2) => EmitOptions::default(),
            _ => EmitOptions::default().volatile(),
        };
        let wants_ack = nsp == RELIABLE || kind % 4 < 2;
        let mut socket = manager.socket_mut(nsp).expect("socket added");
        let emitted = socket
            .emit(now, payload(&("e", n)), options)
            .expect("a valid emit");
        if wants_ack {
            self.asked.insert(emitted.id, (nsp, n));
        }
        if nsp == RELIABLE {
            self.reliable.push(n);
        }
    }
}

impl SioApp for Soaker {
    fn on_event(&mut self, manager: &mut Manager, now: Instant, event: &Event) {
        match event {
            Event::Open => self.opens += 1,
            Event::Connect { nsp, recovered, .. } => {
                self.connect_log.push((now, nsp.to_string(), *recovered));
                self.connects += 1;
                self.recovered += u64::from(*recovered);
            }
            Event::Disconnect { nsp, reason }
                if *reason == DisconnectReason::IoServerDisconnect =>
            {
                manager.socket_mut(nsp).expect("socket").connect(now);
            }
            Event::Message {
                nsp, payload, ack, ..
            } => {
                if let Some(id) = ack {
                    self.questions += 1;
                    let answer = self::payload(&("ok", *id));
                    if let Err(e) = manager
                        .socket_mut(nsp)
                        .expect("socket")
                        .ack(now, *id, answer)
                    {
                        self.answer_errors.push(e.to_string());
                    }
                } else if payload.event_name().as_deref() == Some("news") {
                    let n: u64 = payload.arg(1).expect("numbered news");
                    self.news += 1;
                    self.received_news.insert(n);
                    let last = self.last_news.entry(nsp.to_string()).or_insert(0);
                    if n <= *last {
                        self.anomalies.push(format!("{nsp}: news {n} after {last}"));
                    }
                    *last = n;
                }
            }
            Event::Ack { emit, result, .. } => {
                let entry = self.results.entry(*emit).or_default();
                match result {
                    Ok(_) => entry.0 += 1,
                    Err(_) => entry.1 += 1,
                }
            }
            _ => {}
        }
    }
}

/// The trouble a minute can bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Trouble {
    Kill,
    Close,
    Refuse,
    LatePings,
    ServerDisconnect,
    Lossy,
}

fn build(seed: u64) -> AppSim<Soaker> {
    let engine = sio_server_config()
        .with_heartbeat(25_000, 20_000)
        .with_strict(false);
    let server = SioConfig::new()
        .namespace(CHAT, Default::default())
        .recovery(Duration::from_secs(120));
    let link = LinkConfig::jitter(Duration::from_millis(1), Duration::from_millis(40));
    let mut client = ManagerConfig::new("http://localhost:3000").expect("url");
    client.engine.transports = vec![TransportKind::Polling, TransportKind::WebSocket];
    client.reconnection_delay_max = Duration::from_secs(10);
    let mut sim = app_sim(
        SimConfig::new(seed).link(link.clone()).server(engine),
        SioServer::new(server),
        client,
        Soaker::default(),
    );
    let mut reliable = SocketConfig::default();
    reliable.retries = Some(1_000_000);
    reliable.ack_timeout = Some(Duration::from_secs(3));
    let mut chat = SocketConfig::default();
    chat.ack_timeout = Some(Duration::from_secs(10));
    sim.with_client(|c, now| {
        c.manager
            .add_socket(RELIABLE, reliable)
            .expect("socket")
            .connect(now);
        c.manager
            .add_socket(CHAT, chat)
            .expect("socket")
            .connect(now);
    });
    sim
}

#[test]
fn virtual_hours_of_traffic_and_trouble_leave_nothing_behind() {
    let hours = env_u64("SOAK_HOURS", 24);
    let seed = env_u64("SOAK_SEED", 0x50A4);
    let started = Instant::now();
    let mut sim = build(seed);
    let calm = sim.link_mut().config().clone();
    let mut rng = SimRng::new(seed ^ 0x5EED);
    let mut troubles: BTreeMap<Trouble, u32> = BTreeMap::new();
    let mut news = 0u64;
    let mut news_dropped = 0u64;
    // (n, namespace, when, sent or stored for a recovery)
    let mut news_log: Vec<(u64, &str, Instant, bool)> = Vec::new();
    let mut asks = 0u64;
    let mut peak = Footprint::default();
    let mut peak_in_flight = 0;
    let mut hourly = Vec::new();

    for hour in 0..hours {
        // 58 minutes of traffic and trouble.
        for _minute in 0..58 {
            let trouble = match rng.below(12) {
                0 => Some(Trouble::Kill),
                1 => Some(Trouble::Close),
                2 => Some(Trouble::Refuse),
                3 => Some(Trouble::LatePings),
                4 => Some(Trouble::ServerDisconnect),
                5 => Some(Trouble::Lossy),
                _ => None,
            };
            if let Some(t) = trouble {
                *troubles.entry(t).or_default() += 1;
            }
            let sid = sim.server().last_sid();
            match (trouble, sid) {
                (Some(Trouble::Kill), Some(sid)) => sim.with_server(|s, now| s.kill(now, &sid)),
                (Some(Trouble::Close), Some(sid)) => sim.with_server(|s, now| s.close(now, &sid)),
                (Some(Trouble::LatePings), Some(sid)) => {
                    let late = Duration::from_millis(rng.between(1_000, 30_000));
                    sim.with_server(|s, _| s.delay_pings(&sid, late));
                }
                (Some(Trouble::Refuse), _) => sim.with_server(|s, _| {
                    s.refuse(Refusal::error(RequestMatch::Handshake, 503, 4, "busy"))
                }),
                (Some(Trouble::ServerDisconnect), _) => {
                    let nsp = if rng.chance(0.5) { RELIABLE } else { CHAT };
                    sim.with_server(|s, now| s.sio_disconnect(now, nsp, false));
                }
                (Some(Trouble::Lossy), _) => {
                    let lossy = calm.clone().with_loss(0.02);
                    sim.link_mut().set_config(lossy);
                }
                _ => {}
            }
            // A minute in 20 steps of 3 s: emits both ways.
            for _ in 0..20 {
                let kind = rng.below(1_000);
                let nsp = if kind.is_multiple_of(2) {
                    RELIABLE
                } else {
                    CHAT
                };
                sim.with_client(|c, now| c.app.emit(&mut c.manager, now, nsp, kind / 2));
                if rng.chance(0.5) {
                    news += 1;
                    let nsp = if rng.chance(0.5) { RELIABLE } else { CHAT };
                    let emitted =
                        sim.with_server(|s, now| s.sio_emit(now, nsp, payload(&("news", news))));
                    // Neither sent nor stored for a recovery: no socket for the namespace
                    // on the server, or one a recovery cannot restore (after a server-side
                    // disconnect). Node drops those too.
                    let dropped = emitted.is_none_or(|e| !e.sent && e.offset.is_none());
                    news_dropped += u64::from(dropped);
                    news_log.push((news, nsp, sim.now(), !dropped));
                }
                if rng.chance(0.2) {
                    let sent = sim.with_server(|s, now| {
                        s.sio_emit_with_ack(now, CHAT, payload(&("question", asks)))
                    });
                    asks += u64::from(sent.is_some_and(|e| e.sent));
                }
                // Sampled while acks and answers are on the wire.
                sim.run_for(Duration::from_millis(30));
                let footprint = sim.client().manager.footprint();
                if footprint.in_flight() > peak_in_flight {
                    peak_in_flight = footprint.in_flight();
                    peak = footprint;
                }
                sim.run_for(Duration::from_millis(2_970));
            }
            // Trouble lasts at most the minute it came with.
            sim.with_server(|s, _| s.clear_refusals());
            sim.link_mut().set_config(calm.clone());
        }
        // Two quiet minutes: longer than the backoff cap, a heartbeat, and every ack timeout.
        sim.with_client(|c, now| {
            for nsp in [RELIABLE, CHAT] {
                c.manager.socket_mut(nsp).expect("socket").connect(now);
            }
        });
        sim.run_for(Duration::from_secs(120));
        let footprint = sim.client().manager.footprint();
        assert_eq!(
            footprint.in_flight(),
            0,
            "hour {hour}: the manager still holds state after a quiet period: {footprint:?}"
        );
        assert!(
            sim.client()
                .manager
                .socket(RELIABLE)
                .is_some_and(|s| s.connected())
                && sim
                    .client()
                    .manager
                    .socket(CHAT)
                    .is_some_and(|s| s.connected()),
            "hour {hour}: not connected after a quiet period"
        );
        hourly.push(footprint);
        // Virtual hours accumulate events: keep only what the checks need.
        sim.take_events();
    }

    let sim = &sim;
    let app = &sim.client().app;
    assert!(
        sim.violations().is_empty(),
        "violations: {:?}",
        sim.violations()
    );
    // Every ack resolved exactly once; with `retries`, successfully.
    for (emit, (nsp, n)) in &app.asked {
        let (ok, failed) = app.results.get(emit).copied().unwrap_or_default();
        assert_eq!(
            ok + failed,
            1,
            "{nsp} emit {n}: {ok} acks, {failed} failures"
        );
        if *nsp == RELIABLE {
            assert_eq!(ok, 1, "{nsp} emit {n} (retries) did not succeed");
        }
    }
    assert!(
        app.results.keys().all(|id| app.asked.contains_key(id)),
        "an ack for an emit that did not ask"
    );
    // Every `retries` emit reached the server at least once.
    let received: BTreeSet<u64> = sim
        .server()
        .app()
        .packets(RELIABLE)
        .into_iter()
        .filter(|r| r.packet.kind == PacketKind::Event)
        .filter_map(|r| r.packet.data.as_ref())
        .filter(|p| p.event_name().as_deref() == Some("e"))
        .filter_map(|p| p.arg::<u64>(1).ok())
        .collect();
    let missing: Vec<u64> = app
        .reliable
        .iter()
        .copied()
        .filter(|n| !received.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "retries emits never delivered: {missing:?}"
    );
    assert!(
        app.anomalies.is_empty(),
        "news anomalies: {:?}",
        app.anomalies
    );
    // News the server sent (or stored for a recovery) and the client never got: the next
    // connect of that namespace must have been a fresh session (the server restores one only
    // from the client's last offset, within its window). After a restored session, every
    // missed event must have been replayed.
    let mut lost_unrecovered = 0;
    for (n, nsp, at, kept) in &news_log {
        if !kept || app.received_news.contains(n) {
            continue;
        }
        let next_connect = app.connect_log.iter().find(|(t, c, _)| t >= at && c == nsp);
        assert!(
            next_connect.is_none_or(|(_, _, recovered)| !recovered),
            "news {n} on {nsp} was missed although the session was restored"
        );
        lost_unrecovered += 1;
    }
    assert!(
        app.answer_errors.is_empty(),
        "answers refused: {:?}",
        app.answer_errors
    );
    let failed_acks = app.results.values().filter(|r| r.1 > 0).count();
    println!(
        "simulated soak: {hours} virtual hours (seed {seed}) in {:.2} s of wall time\n\
         emits {} ({} with retries, {} acks asked, {} timed out), server news {news} \
         (received {}; dropped by the server: {news_dropped} with no socket to send to or store \
         for, {lost_unrecovered} lost with a session that was not restored), questions asked {asks} (answered {})\n\
         troubles {troubles:?}\n\
         engine opens {}, namespace connects {} ({} recovered)\n\
         peak footprint (in flight {peak_in_flight}): {peak:?}\n\
         after each quiet hour: in flight {:?}",
        started.elapsed().as_secs_f64(),
        app.next,
        app.reliable.len(),
        app.asked.len(),
        failed_acks,
        app.news,
        app.questions,
        app.opens,
        app.connects,
        app.recovered,
        hourly.iter().map(Footprint::in_flight).collect::<Vec<_>>(),
    );
}
