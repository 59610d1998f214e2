//! Testing an application's own client-side logic with the kit, offline and on virtual time.
//!
//! `Chat` is the kind of object an application writes on top of the sans-IO manager: an outbox
//! of lines it wants delivered exactly in order (one in flight at a time, resent when its ack
//! fails), and the id of the last server message it has seen (reported when the server asks
//! with an ack). The test scripts the server around it (messages, ack requests, a late
//! heartbeat, a dropped connection, reconnections refused for two minutes, a stalled
//! heartbeat) and checks what the application did: with connection state recovery, the
//! messages it missed arrive once and in order, and its outbox drains once, in order. Several
//! minutes of virtual time run in milliseconds.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use engineio_proto::TransportKind;
use serde::{Deserialize, Serialize};
use socketio_proto::codec::Payload;
use socketio_proto::{DisconnectReason, EmitId, EmitOptions, Event, Manager, ManagerConfig};
use socketio_proto::{ReadyState, SocketConfig};
use socketio_test_kit::{
    AckPolicy, AppSim, Refusal, RequestMatch, SimConfig, SioApp, SioConfig, SioServer, app_sim,
    sio_server_config,
};

/// One chat line, both ways: `["say", line]` from the client, `["msg", line]` from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Line {
    id: u64,
    text: String,
}

/// The application under test.
#[derive(Debug, Default)]
struct Chat {
    /// Lines to deliver, in order; the head is in flight while `in_flight` is set.
    outbox: VecDeque<Line>,
    in_flight: Option<EmitId>,
    next_id: u64,
    /// Ids of our lines the server acknowledged, in order.
    delivered: Vec<u64>,
    /// Times a line was sent again because its ack failed.
    resent: u32,
    /// The id of the last server message seen.
    last_seen: Option<u64>,
    /// Every server message id received, in order.
    seen: Vec<u64>,
    /// Messages that came out of order or twice.
    anomalies: Vec<String>,
    /// `recovered` of each connection.
    connects: Vec<bool>,
}

impl Chat {
    /// Longer than the heartbeat's 45 s: a dead connection is noticed first.
    const ACK_TIMEOUT: Duration = Duration::from_secs(60);

    /// Queues a line; it goes out when the previous one is acknowledged and we are connected.
    fn say(&mut self, manager: &mut Manager, now: Instant, text: &str) {
        self.next_id += 1;
        let line = Line {
            id: self.next_id,
            text: text.to_owned(),
        };
        self.outbox.push_back(line);
        self.flush(manager, now);
    }

    fn flush(&mut self, manager: &mut Manager, now: Instant) {
        let Some(head) = self.outbox.front() else {
            return;
        };
        let Some(mut socket) = manager.socket_mut("/") else {
            return;
        };
        if self.in_flight.is_some() || !socket.get().connected() {
            return;
        }
        let event = Payload::from_serialize(&("say", head)).unwrap();
        let options = EmitOptions::with_ack().timeout(Self::ACK_TIMEOUT);
        self.in_flight = Some(socket.emit(now, event, options).unwrap().id);
    }

    fn on_message(
        &mut self,
        manager: &mut Manager,
        now: Instant,
        payload: &Payload,
        ack: Option<u64>,
    ) {
        match (payload.event_name().as_deref(), ack) {
            (Some("msg"), None) => {
                let line: Line = payload.arg(1).unwrap();
                match self.last_seen {
                    Some(last) if line.id <= last => {
                        self.anomalies.push(format!("{} again", line.id))
                    }
                    Some(last) if line.id > last + 1 => {
                        self.anomalies.push(format!("{} after {last}", line.id))
                    }
                    _ => {}
                }
                self.last_seen = self.last_seen.max(Some(line.id));
                self.seen.push(line.id);
            }
            // The server asks where we are.
            (Some("sync"), Some(id)) => {
                let answer = Payload::from_serialize(&[self.last_seen]).unwrap();
                manager
                    .socket_mut("/")
                    .unwrap()
                    .ack(now, id, answer)
                    .unwrap();
            }
            _ => self.anomalies.push(format!("unexpected {payload:?}")),
        }
    }
}

impl SioApp for Chat {
    fn on_event(&mut self, manager: &mut Manager, now: Instant, event: &Event) {
        match event {
            Event::Connect { recovered, .. } => {
                self.connects.push(*recovered);
                self.flush(manager, now);
            }
            Event::Message { payload, ack, .. } => self.on_message(manager, now, payload, *ack),
            Event::Ack { emit, result, .. } if Some(*emit) == self.in_flight => {
                self.in_flight = None;
                match result {
                    Ok(_) => {
                        let line = self.outbox.pop_front().unwrap();
                        self.delivered.push(line.id);
                    }
                    // Timed out or disconnected: the head stays and goes out again.
                    Err(_) => self.resent += 1,
                }
                self.flush(manager, now);
            }
            _ => {}
        }
    }
}

const MS: Duration = Duration::from_millis(1);
const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);

fn chat_sim(seed: u64) -> AppSim<Chat> {
    // The Node server's defaults: a ping every 25 s, 20 s to answer it.
    let config = SimConfig::new(seed).server(sio_server_config());
    let server = SioServer::new(SioConfig::new().recovery(5 * MINUTE));
    let mut client = ManagerConfig::new("http://localhost:3000").unwrap();
    client.engine.transports = vec![TransportKind::WebSocket];
    let mut sim = app_sim(config, server, client, Chat::default());
    sim.with_client(|c, now| {
        c.manager
            .add_socket("/", SocketConfig::default())
            .unwrap()
            .connect(now)
    });
    sim
}

fn news(sim: &mut AppSim<Chat>, id: u64) -> bool {
    let line = Line {
        id,
        text: format!("news {id}"),
    };
    let event = Payload::from_serialize(&("msg", line)).unwrap();
    sim.with_server(|s, now| s.sio_emit(now, "/", event))
        .unwrap()
        .sent
}

fn say(sim: &mut AppSim<Chat>, text: &str) {
    sim.with_client(|c, now| c.app.say(&mut c.manager, now, text));
}

fn connected(sim: &AppSim<Chat>) -> bool {
    sim.client()
        .manager
        .socket("/")
        .is_some_and(|s| s.connected())
}

/// The `say` events the server received, as (line id, Engine.IO session).
fn said(sim: &AppSim<Chat>) -> Vec<(u64, String)> {
    sim.server()
        .app()
        .packets("/")
        .into_iter()
        .filter_map(|r| {
            let data = r.packet.data.as_ref()?;
            (data.event_name().as_deref() == Some("say"))
                .then(|| (data.arg::<Line>(1).unwrap().id, r.eio_sid.clone()))
        })
        .collect()
}

/// How the server answers the client's events on `/`.
fn set_acks(server: &mut SioServer, policy: AckPolicy) {
    server.config_mut().namespaces.get_mut("/").unwrap().acks = policy;
}

fn disconnects(sim: &AppSim<Chat>) -> Vec<DisconnectReason> {
    sim.events()
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Disconnect { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

#[test]
fn the_chat_resumes_after_an_outage_with_nothing_lost_or_repeated() {
    let started = Instant::now();
    let mut sim = chat_sim(2024);
    assert!(sim.run_until(10 * SECOND, connected));
    assert_eq!(sim.client().app.connects, [false]);

    // Live traffic: three messages in, two lines out, and the server asks where we are.
    for id in 1..=3 {
        assert!(news(&mut sim, id));
    }
    say(&mut sim, "hello");
    say(&mut sim, "anyone?");
    let sync = sim
        .with_server(|s, now| {
            s.sio_emit_with_ack(now, "/", Payload::from_serialize(&["sync"]).unwrap())
        })
        .unwrap();
    sim.run_for(SECOND);
    assert_eq!(sim.client().app.delivered, [1, 2]);
    assert_eq!(sim.client().app.seen, [1, 2, 3]);
    let answers = sim.server().app().client_acks("/");
    assert_eq!(answers.len(), 1);
    assert_eq!(Some(answers[0].id), sync.ack);
    assert_eq!(answers[0].payload.json(), b"[3]");

    // A heartbeat 15 s late is within the client's 20 s of tolerance: nothing happens.
    let first = sim.server().last_sid().unwrap();
    sim.with_server(|s, _| s.delay_pings(&first, 15 * SECOND));
    sim.run_for(MINUTE);
    assert!(connected(&sim));
    assert!(disconnects(&sim).is_empty());

    // The connection drops, and the server turns every reconnection away for two minutes.
    // Meanwhile three messages are published and the user writes three lines.
    sim.with_server(|s, now| {
        s.refuse(Refusal::error(RequestMatch::Handshake, 503, 4, "busy"));
        s.kill(now, &first);
    });
    sim.run_for(100 * MS);
    assert!(!connected(&sim));
    for id in 4..=6 {
        assert!(!news(&mut sim, id), "stored for the recovery");
    }
    for text in ["are", "you", "there?"] {
        say(&mut sim, text);
    }
    sim.run_for(2 * MINUTE);
    assert!(!connected(&sim));
    let app = &sim.client().app;
    assert_eq!(app.outbox.len(), 3, "kept while offline");
    assert_eq!(app.delivered, [1, 2]);
    let refused = sim
        .events()
        .iter()
        .filter(|(_, e)| matches!(e, Event::ReconnectError(_)))
        .count();
    assert!(refused >= 10, "{refused} attempts in two minutes");

    // The server takes connections again: the session is recovered, the missed messages come
    // once and in order, and the outbox drains once, in order.
    sim.with_server(|s, _| s.clear_refusals());
    assert!(sim.run_until(10 * SECOND, connected));
    sim.run_for(SECOND);
    let app = &sim.client().app;
    assert_eq!(app.connects, [false, true]);
    assert_eq!(app.seen, [1, 2, 3, 4, 5, 6]);
    assert!(app.anomalies.is_empty(), "{:?}", app.anomalies);
    assert_eq!(app.delivered, [1, 2, 3, 4, 5]);
    assert!(app.outbox.is_empty() && app.in_flight.is_none());
    assert_eq!(
        app.resent, 0,
        "nothing was in flight when the connection dropped"
    );
    let second = sim.server().last_sid().unwrap();
    let on = |id, sid: &String| (id, sid.clone());
    assert_eq!(
        said(&sim),
        [
            on(1, &first),
            on(2, &first),
            on(3, &second),
            on(4, &second),
            on(5, &second)
        ]
    );

    // The server stalls: its pings stop for a minute and it answers nothing. A line written
    // meanwhile gets no ack. The client gives up on the connection 45 s (25 + 20) after the
    // last ping (here, the handshake), its line fails as disconnected, and once reconnected (and recovered) the
    // application sends it again: the server got it twice, the outbox delivered it once.
    let stalled = sim.with_server(|s, _| {
        s.delay_pings(&second, MINUTE);
        set_acks(s.app_mut(), AckPolicy::Never);
        s.session(&second).unwrap().stats.pings_sent
    });
    sim.run_for(5 * SECOND);
    say(&mut sim, "still here");
    sim.run_for(SECOND);
    sim.with_server(|s, _| set_acks(s.app_mut(), AckPolicy::Immediate));
    sim.run_for(2 * MINUTE);
    assert!(connected(&sim));
    assert_eq!(
        disconnects(&sim),
        [
            DisconnectReason::TransportError,
            DisconnectReason::PingTimeout
        ]
    );
    let events = sim.events();
    let gave_up = events
        .iter()
        .position(|(_, e)| matches!(e, Event::Disconnect { reason, .. } if *reason == DisconnectReason::PingTimeout))
        .unwrap();
    let (heard, _) = events[..gave_up]
        .iter()
        .rfind(|(_, e)| matches!(e, Event::Ping | Event::Open))
        .unwrap();
    assert_eq!(events[gave_up].0 - *heard, 45 * SECOND);
    let app = &sim.client().app;
    assert_eq!(app.connects, [false, true, true]);
    assert_eq!(app.delivered, [1, 2, 3, 4, 5, 6]);
    assert_eq!(app.resent, 1);
    assert!(app.outbox.is_empty() && app.anomalies.is_empty());
    let third = sim.server().last_sid().unwrap();
    assert_eq!(said(&sim)[5..], [on(6, &second), on(6, &third)]);
    assert_eq!(
        sim.server().session(&second).unwrap().stats.pings_sent,
        stalled
    );
    assert_eq!(sim.client().manager.ready_state(), ReadyState::Open);
    assert!(sim.violations().is_empty());

    // Minutes of heartbeats, backoff and timeouts, in milliseconds of real time.
    let virtual_time = sim.elapsed();
    let wall = started.elapsed();
    assert!(virtual_time > 5 * MINUTE, "{virtual_time:?}");
    assert!(
        wall * 100 < virtual_time,
        "{wall:?} of real time for {virtual_time:?} of virtual time"
    );
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let run = |seed| {
        let mut sim = chat_sim(seed);
        sim.run_for(SECOND);
        say(&mut sim, "one");
        let sid = sim.server().last_sid().unwrap();
        sim.with_server(|s, now| s.kill(now, &sid));
        say(&mut sim, "two");
        news(&mut sim, 1);
        sim.run_for(MINUTE);
        (sim.lines(), sim.client().app.delivered.clone())
    };
    let (lines, delivered) = run(7);
    assert_eq!(delivered, [1, 2]);
    assert_eq!(run(7), (lines.clone(), delivered));
    assert_ne!(run(8).0, lines);
}
