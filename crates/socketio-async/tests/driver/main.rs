//! The driver loop and the public API on a deterministic fake runtime: a FIFO executor run by
//! the test thread, virtual time that moves only when the test waits, and HTTP / WebSocket
//! wired to the test kit's fake Engine.IO server with a small Socket.IO application on top.
//! Every run is the same run.

mod app;
mod backpressure;
mod bad_input;
mod black_hole;
mod fake;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt};
use serde_json::json;
use socketio_async::{
    AckError, ConnectError, DisconnectReason, Error, ManagerEvent, Options, Socket, SocketEvent,
    TransportKind, io,
};
use socketio_test_kit::{Refusal, RequestMatch, ServerConfig};

use app::SioApp;
use fake::Sim;

const URL: &str = "http://fake.test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Polling,
    WebSocket,
    Upgrade,
}

fn sim() -> Sim<SioApp> {
    let config = ServerConfig::default().with_path("/socket.io/");
    Sim::new(config, SioApp::default(), 7)
}

/// Options for `mode`, a new connection each time, and no jitter so delays are exact.
fn options(mode: Mode) -> Options {
    let transports = match mode {
        Mode::Polling => vec![TransportKind::Polling],
        Mode::WebSocket => vec![TransportKind::WebSocket],
        Mode::Upgrade => vec![TransportKind::Polling, TransportKind::WebSocket],
    };
    Options::default()
        .transports(transports)
        .force_new(true)
        .randomization_factor(0.0)
}

/// The next socket event `pick` accepts, waiting on virtual time.
fn next<T>(
    sim: &Sim<SioApp>,
    events: &mut (impl Stream<Item = SocketEvent> + Unpin),
    mut pick: impl FnMut(SocketEvent) -> Option<T>,
) -> T {
    sim.block_on(async {
        loop {
            let event = events.next().await.expect("event stream open");
            if let Some(v) = pick(event) {
                return v;
            }
        }
    })
}

fn connected(sim: &Sim<SioApp>, events: &mut (impl Stream<Item = SocketEvent> + Unpin)) {
    next(sim, events, |e| match e {
        SocketEvent::Connect { .. } => Some(()),
        SocketEvent::ConnectError(e) => panic!("connect error: {e}"),
        _ => None,
    });
}

fn message(
    sim: &Sim<SioApp>,
    events: &mut (impl Stream<Item = SocketEvent> + Unpin),
    name: &str,
) -> socketio_async::Message {
    next(sim, events, |e| match e {
        SocketEvent::Message(m) if m.event == name => Some(m),
        _ => None,
    })
}

/// Manager events with the virtual time they were seen at, through `Manager::on`.
fn record_manager_events(
    sim: &Sim<SioApp>,
    socket: &Socket,
) -> Arc<Mutex<Vec<(Instant, ManagerEvent)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let runtime = sim.runtime();
    let log = seen.clone();
    socket.io().on(move |e| {
        log.lock().unwrap().push((runtime.now(), e.clone()));
    });
    seen
}

fn connects_and_opens(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let seen = record_manager_events(&sim, &socket);
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    assert!(!socket.connected(), "nothing runs until the runtime does");
    connected(&sim, &mut events);
    assert!(socket.connected());
    assert!(socket.active());
    assert_eq!(socket.id().as_deref(), Some("socket-1"));
    assert_eq!(
        sim.block_on(manager_events.next()),
        Some(ManagerEvent::Open)
    );
    let first = sim.requests()[0].clone();
    let expected = match mode {
        Mode::WebSocket => "WS",
        _ => "GET",
    };
    assert_eq!(first.0, expected, "{first:?}");
    if mode == Mode::Upgrade {
        assert_eq!(
            sim.block_on(manager_events.next()),
            Some(ManagerEvent::Upgrade(TransportKind::WebSocket))
        );
    }
    let seen: Vec<ManagerEvent> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(
        seen[0],
        ManagerEvent::Open,
        "Manager::on sees the same: {seen:?}"
    );
    sim.with_server(|s, _| {
        let app = s.app();
        assert_eq!(app.connects, [("/".to_owned(), None)]);
    });
}

fn emit_before_connect_is_sent_once(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let outgoing = Arc::new(Mutex::new(Vec::new()));
    let log = outgoing.clone();
    socket.on_any_outgoing(move |event, payload| {
        log.lock()
            .unwrap()
            .push((event.to_owned(), payload.to_value()));
    });
    let mut events = socket.events();
    socket.emit("early", ("before", 1)).expect("emit");
    socket.emit("echo", ("buffered",)).expect("emit");
    connected(&sim, &mut events);
    let echoed = message(&sim, &mut events, "echo");
    let (word,): (String,) = echoed.args.parse().expect("args");
    assert_eq!(word, "buffered");
    // Let everything settle, heartbeats included, and look again: still once.
    sim.advance(Duration::from_secs(60));
    sim.with_server(|s, _| {
        assert_eq!(s.app().events("early"), [json!(["early", "before", 1])]);
        assert_eq!(s.app().events("echo").len(), 1);
    });
    assert_eq!(
        *outgoing.lock().unwrap(),
        [
            ("early".to_owned(), json!(["early", "before", 1])),
            ("echo".to_owned(), json!(["echo", "buffered"])),
        ],
        "outgoing listeners see buffered emits when they are written"
    );
}

fn acks_resolve_and_time_out(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let (word, n, obj): (String, u32, serde_json::Value) = sim
        .block_on(socket.emit_with_ack("echo", ("a", 2, json!({"k": [1]}))))
        .expect("ack");
    assert_eq!((word.as_str(), n, obj), ("a", 2, json!({"k": [1]})));

    // A timeout fires at its deadline on virtual time, not a moment before.
    let start = sim.elapsed();
    let mut pending = Box::pin(
        socket
            .timeout(Duration::from_secs(5))
            .emit_with_ack::<_, ()>("ignore", ()),
    );
    let early = sim.block_on_within(Duration::from_millis(4999), pending.as_mut());
    assert!(early.is_none(), "{early:?}");
    let result = sim.block_on(pending);
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
    assert_eq!(sim.elapsed() - start, Duration::from_secs(5));

    // The socket's default ack timeout applies to every emit with an ack.
    let with_default = io(
        URL,
        options(mode).ack_timeout(Some(Duration::from_secs(2))),
        sim.runtime(),
    )
    .expect("io");
    let start = sim.elapsed();
    let result = sim.block_on(with_default.emit_with_ack::<_, ()>("ignore", ()));
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
    // Connecting takes no virtual time here: the deadline is exactly the timeout.
    assert_eq!(sim.elapsed() - start, Duration::from_secs(2));
}

/// An emit that waits in the send buffer (nothing connects) fails at its ack deadline, and
/// is never sent once the connection comes: the reference's ack timer runs from the emit.
fn an_ack_that_times_out_in_the_send_buffer_is_never_sent(mode: Mode) {
    let sim = sim();
    sim.set_blackhole(true);
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut events = socket.events();
    let start = sim.elapsed();
    let result = sim.block_on(
        socket
            .timeout(Duration::from_secs(5))
            .emit_with_ack::<_, ()>("echo", ("late",)),
    );
    assert!(
        matches!(result, Err(Error::Ack(AckError::Timeout))),
        "{result:?}"
    );
    assert_eq!(sim.elapsed() - start, Duration::from_secs(5));
    assert_eq!(socket.send_buffer().emits, 0);
    sim.set_blackhole(false);
    // The attempts that went into the black hole time out (connect errors), then one opens.
    next(&sim, &mut events, |e| {
        matches!(e, SocketEvent::Connect { .. }).then_some(())
    });
    sim.advance(Duration::from_secs(10));
    sim.with_server(|s, _| assert!(s.app().events("echo").is_empty()));
}

fn listeners(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let order = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = order.clone();
    let on = socket.on("tick", move |m| {
        log.lock()
            .unwrap()
            .push(format!("on:{}", m.args.get::<u32>(0).unwrap()));
    });
    let log = order.clone();
    socket.once("tick", move |m| {
        log.lock()
            .unwrap()
            .push(format!("once:{}", m.args.get::<u32>(0).unwrap()));
    });
    let log = order.clone();
    let any = socket.on_any(move |m| {
        log.lock()
            .unwrap()
            .push(format!("any:{}:{}", m.event, m.args.get::<u32>(0).unwrap()));
    });
    let log = order.clone();
    socket.on("tock", move |m| {
        log.lock()
            .unwrap()
            .push(format!("tock:{}", m.args.get::<u32>(0).unwrap()));
    });
    let mut events = socket.events();
    let mut second = socket.events();
    socket.emit("spam", (2,)).expect("emit");
    // Every stream sees the same messages, after the callbacks.
    for stream in [&mut events, &mut second] {
        let mut got = Vec::new();
        while got.len() < 4 {
            let m = next(&sim, stream, |e| match e {
                SocketEvent::Message(m) => Some(m),
                _ => None,
            });
            got.push(format!("{}:{}", m.event, m.args.get::<u32>(0).unwrap()));
        }
        assert_eq!(got, ["tick:0", "tock:0", "tick:1", "tock:1"]);
    }
    assert_eq!(
        *order.lock().unwrap(),
        [
            "any:tick:0",
            "on:0",
            "once:0",
            "any:tock:0",
            "tock:0",
            "any:tick:1",
            "on:1",
            "any:tock:1",
            "tock:1"
        ],
        "catch-all first, then the event's own; once only once"
    );

    // off: the removed listeners hear nothing more; off_event removes the rest of "tock".
    order.lock().unwrap().clear();
    socket.off(on);
    socket.off(any);
    socket.off_event("tock");
    socket.emit("spam", (1,)).expect("emit");
    message(&sim, &mut events, "tock");
    assert!(
        order.lock().unwrap().is_empty(),
        "{:?}",
        order.lock().unwrap()
    );
}

/// A caller's commands reach the server in the order they were made, whichever way each
/// went: an ack answer through the driver task's channel, then an emit written from the
/// caller's task because the driver was idle (the emit takes the answer along, first).
fn an_ack_answer_then_an_emit_keep_their_order(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    socket.emit("ask", ("life",)).expect("emit");
    let mut question = message(&sim, &mut events, "question");
    question
        .take_ack()
        .expect("ack wanted")
        .send(("first",))
        .expect("ack sent");
    socket.emit("echo", ("second",)).expect("emit");
    let answer = message(&sim, &mut events, "echo");
    assert_eq!(answer.args.parse::<(String,)>().expect("echo").0, "second");
    sim.with_server(|s, _| {
        let order: Vec<&str> = s
            .app()
            .received
            .iter()
            .filter_map(|p| match p.kind {
                3 => Some("ack"),
                2 if p.data.as_ref().is_some_and(|d| d[0] == "echo") => Some("echo"),
                _ => None,
            })
            .collect();
        assert_eq!(order, ["ack", "echo"]);
    });
}

/// An ack that arrives behind events waits for them: the driver task hands the events to
/// their listeners first, then the ack to its caller, and the caller is woken with the driver
/// unlocked, so that an emit it makes the moment it is woken (here from the waker itself,
/// which runs on the driver's task) is handed over at once through the idle driver, not
/// queued in the channel for the driver task's next poll.
fn an_ack_behind_events_comes_after_them_with_the_driver_idle(mode: Mode) {
    struct EmitOnWake {
        socket: Socket,
        log: Arc<Mutex<Vec<String>>>,
        /// Emits in the send buffer right after the waker's emit.
        buffered: Mutex<Option<usize>>,
    }
    impl std::task::Wake for EmitOnWake {
        fn wake(self: Arc<Self>) {
            // Woken by the transports too (it waits for an ack): it acts once the events
            // before the ack were delivered, which is when the ack is due.
            let mut log = self.log.lock().unwrap();
            if log.last().map(String::as_str) != Some("tock") {
                return;
            }
            log.push("ack".into());
            drop(log);
            self.socket.emit("echo", ("second",)).expect("emit");
            *self.buffered.lock().unwrap() = Some(self.socket.send_buffer().emits);
        }
    }
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    let log = Arc::new(Mutex::new(Vec::new()));
    for name in ["tick", "tock"] {
        let log = log.clone();
        socket.on(name, move |m| log.lock().unwrap().push(m.event.to_string()));
    }
    let woken = Arc::new(EmitOnWake {
        socket: socket.clone(),
        log: log.clone(),
        buffered: Mutex::new(None),
    });
    let waker = std::task::Waker::from(woken.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    socket.emit("spam", (1,)).expect("emit");
    let mut ack = Box::pin(socket.emit_with_ack::<_, (String,)>("echo", ("first",)));
    // Read or not, the answer waits behind the events, whose listeners run on the driver task.
    assert!(ack.as_mut().poll(&mut cx).is_pending());
    assert!(log.lock().unwrap().is_empty());
    // Until the answer comes (after the upgrade's pause, in that mode).
    sim.block_on(futures_util::future::poll_fn(|_| {
        match woken.buffered.lock().unwrap().is_some() {
            true => std::task::Poll::Ready(()),
            false => std::task::Poll::Pending,
        }
    }));
    assert_eq!(*log.lock().unwrap(), ["tick", "tock", "ack"]);
    assert_eq!(*woken.buffered.lock().unwrap(), Some(0));
    match ack.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(reply) => assert_eq!(reply.expect("ack").0, "first"),
        std::task::Poll::Pending => panic!("the ack was not answered"),
    }
    let echo = message(&sim, &mut events, "echo");
    assert_eq!(echo.args.parse::<(String,)>().expect("echo").0, "second");
}

/// A caller that polled its ack future once and then stops polling it (it waits for
/// something else) holds nothing up: what the server sends meanwhile still reaches the
/// listeners, because the transports' waker wakes the driver task as well as that caller.
fn a_caller_that_stops_polling_its_ack_holds_nothing_up(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    // Never answered by the server.
    let mut ack = Box::pin(socket.emit_with_ack::<_, ()>("ignore", ()));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(ack.as_mut().poll(&mut cx).is_pending());
    socket.emit("echo", ("meanwhile",)).expect("emit");
    let echo = message(&sim, &mut events, "echo");
    assert_eq!(echo.args.parse::<(String,)>().expect("echo").0, "meanwhile");
    assert!(ack.as_mut().poll(&mut cx).is_pending());
}

fn server_ack_answered_from_handler(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    socket.on("question", |mut m| {
        assert!(m.wants_ack());
        let (q,): (String,) = m.args.parse().expect("question");
        m.take_ack()
            .expect("ack wanted")
            .send((format!("answer to {q}"), 42))
            .expect("ack sent");
        assert!(m.take_ack().is_none(), "one answer only");
    });
    let mut events = socket.events();
    socket.emit("ask", ("life",)).expect("emit");
    let answer = message(&sim, &mut events, "answer");
    let (text, n): (String, u32) = answer.args.parse().expect("answer");
    assert_eq!((text.as_str(), n), ("answer to life", 42));
}

fn disconnect_and_connect_again(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    connected(&sim, &mut events);
    let pending = socket.emit_with_ack::<_, ()>("ignore", ());
    socket.disconnect();
    assert!(!socket.active(), "inactive at once");
    let reason = next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(r) => Some(r),
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::IoClientDisconnect);
    assert!(!socket.connected());
    assert_eq!(socket.id(), None);
    assert!(
        matches!(
            sim.block_on(pending),
            Err(Error::Ack(AckError::Disconnected))
        ),
        "a pending ack fails on disconnect"
    );
    // The server got DISCONNECT; the last socket gone, the connection closed.
    let close = sim.block_on(async {
        loop {
            if let ManagerEvent::Close(r) = manager_events.next().await.expect("open") {
                return r;
            }
        }
    });
    assert_eq!(close, DisconnectReason::ForcedClose);
    // The engine says goodbye once an upgrade under way has finished.
    sim.advance(Duration::from_secs(1));
    sim.with_server(|s, _| {
        assert!(
            s.app().received.iter().any(|p| p.kind == 1 && p.nsp == "/"),
            "{}",
            s.transcript()
        );
        let sessions = s.sessions();
        assert_eq!(sessions.len(), 1);
        assert!(sessions[0].closed.is_some(), "{sessions:?}");
    });
    // No reconnection after a deliberate disconnect.
    sim.advance(Duration::from_secs(30));
    assert_eq!(sim.with_server(|s, _| s.sessions().len()), 1);

    // Connecting again opens a new connection.
    socket.connect();
    connected(&sim, &mut events);
    assert_eq!(socket.id().as_deref(), Some("socket-2"));
    assert_eq!(sim.with_server(|s, _| s.sessions().len()), 2);
}

fn server_disconnect_is_final(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut events = socket.events();
    socket.emit("kick", ()).expect("emit");
    connected(&sim, &mut events);
    let reason = next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(r) => Some(r),
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::IoServerDisconnect);
    assert!(!socket.active());
    sim.advance(Duration::from_secs(60));
    assert_eq!(
        sim.with_server(|s, _| s.sessions().len()),
        1,
        "no reconnection"
    );
}

/// A server that breaks the Engine.IO protocol (a record the client cannot decode) is told
/// the session is over, as by the reference: a `1` POST on polling, the close handshake on
/// WebSocket, both let finish rather than dropped with the engine. Then the client
/// reconnects, as after any "transport error".
fn a_protocol_violation_closes_with_a_goodbye(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    connected(&sim, &mut events);
    if mode == Mode::Upgrade {
        // On the WebSocket it upgraded to.
        sim.block_on(async {
            while let Some(e) = manager_events.next().await {
                if matches!(e, ManagerEvent::Upgrade(_)) {
                    break;
                }
            }
        });
    }
    let sid = sim.with_server(|s, now| {
        let sid = s.last_sid().expect("a session");
        s.send_raw(now, &sid, "9");
        sid
    });
    let reason = next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(r) => Some(r),
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::TransportError);
    sim.with_server(|s, _| {
        // Said by the client, not found out by the server's heartbeat.
        let closed = s.session(&sid).expect("the session").closed;
        assert_eq!(closed.as_deref(), Some("transport close"), "{mode:?}");
        assert!(s.violations().is_empty(), "{:?}", s.violations());
    });
    connected(&sim, &mut events);
    assert_eq!(socket.id().as_deref(), Some("socket-2"));
}

fn reconnects_after_the_server_kills_the_session(mode: Mode) {
    let sim = sim();
    let socket = io(
        URL,
        options(mode).reconnection_delay(Duration::from_millis(1500)),
        sim.runtime(),
    )
    .expect("io");
    let seen = record_manager_events(&sim, &socket);
    let mut events = socket.events();
    connected(&sim, &mut events);
    assert_eq!(socket.id().as_deref(), Some("socket-1"));
    if mode == Mode::Upgrade {
        sim.run();
    }
    let killed_at = sim.now();
    let before = seen.lock().unwrap().len();
    let sid = sim.with_server(|s, _| s.last_sid().expect("a session"));
    sim.with_server(|s, now| s.kill(now, &sid));
    let reason = next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(r) => Some(r),
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::TransportError);
    assert!(socket.active(), "still active: it reconnects");
    connected(&sim, &mut events);
    assert_eq!(socket.id().as_deref(), Some("socket-2"));
    let (v,): (String,) = sim
        .block_on(socket.emit_with_ack("echo", ("after",)))
        .expect("ack");
    assert_eq!(v, "after");

    let seen = seen.lock().unwrap().clone();
    let after: Vec<(Duration, ManagerEvent)> = seen[before..]
        .iter()
        .filter(|(_, e)| !matches!(e, ManagerEvent::Ping | ManagerEvent::Upgrade(_)))
        .map(|(at, e)| (*at - killed_at, e.clone()))
        .collect();
    let delay = Duration::from_millis(1500);
    assert_eq!(
        after,
        [
            (
                Duration::ZERO,
                ManagerEvent::Close(DisconnectReason::TransportError)
            ),
            (delay, ManagerEvent::ReconnectAttempt(1)),
            (delay, ManagerEvent::Open),
            (delay, ManagerEvent::Reconnect(1)),
        ],
        "{seen:?}"
    );
}

fn dropping_every_handle_shuts_the_driver_down(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let manager = socket.io().clone();
    let mut events = socket.events();
    let mut manager_events = manager.events();
    connected(&sim, &mut events);
    // Let the upgrade finish and a few heartbeats go by.
    sim.advance(Duration::from_secs(60));
    assert!(sim.live_tasks() > 0);
    let pending = socket.emit_with_ack::<_, ()>("ignore", ());
    drop(socket);
    sim.run();
    assert!(sim.live_tasks() > 0, "the manager handle keeps it running");
    drop(manager);
    sim.run();
    assert_eq!(sim.live_tasks(), 0, "no task left");
    assert_eq!(sim.pending_sleeps(), 0, "no timer left");
    assert!(sim.block_on(pending).is_err(), "the pending ack fails");
    // The streams end.
    assert!(sim.block_on(async {
        while let Some(e) = events.next().await {
            if matches!(e, SocketEvent::Connect { .. }) {
                return false;
            }
        }
        true
    }));
    assert!(sim.block_on(async {
        while manager_events.next().await.is_some() {}
        true
    }));
    // The server saw the session close, and nothing comes after.
    sim.with_server(|s, _| {
        let sessions = s.sessions();
        assert_eq!(sessions.len(), 1);
        assert!(sessions[0].closed.is_some(), "{sessions:?}");
    });
    let requests = sim.requests().len();
    sim.advance(Duration::from_secs(120));
    assert_eq!(sim.requests().len(), requests);
}

fn heartbeats_keep_the_connection(mode: Mode) {
    let sim = sim();
    let socket = io(URL, options(mode), sim.runtime()).expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    connected(&sim, &mut events);
    // Ten minutes of 25 s pings, in virtual time.
    sim.advance(Duration::from_secs(600));
    assert!(socket.connected());
    let pongs = sim.with_server(|s, _| s.sessions()[0].stats.pongs_received);
    assert_eq!(pongs, 24);
    let mut pings = 0;
    while let Some(Some(e)) = futures_util::FutureExt::now_or_never(manager_events.next()) {
        if e == ManagerEvent::Ping {
            pings += 1;
        }
    }
    assert_eq!(pings, 24);
}

macro_rules! for_each_mode {
    ($($name:ident),* $(,)?) => {
        mod polling {
            $(#[test]
            fn $name() { super::$name(super::Mode::Polling) })*
        }
        mod websocket {
            $(#[test]
            fn $name() { super::$name(super::Mode::WebSocket) })*
        }
        mod upgrade {
            $(#[test]
            fn $name() { super::$name(super::Mode::Upgrade) })*
        }
    };
}

for_each_mode!(
    connects_and_opens,
    emit_before_connect_is_sent_once,
    acks_resolve_and_time_out,
    an_ack_that_times_out_in_the_send_buffer_is_never_sent,
    listeners,
    server_ack_answered_from_handler,
    an_ack_answer_then_an_emit_keep_their_order,
    an_ack_behind_events_comes_after_them_with_the_driver_idle,
    a_caller_that_stops_polling_its_ack_holds_nothing_up,
    disconnect_and_connect_again,
    server_disconnect_is_final,
    reconnects_after_the_server_kills_the_session,
    a_protocol_violation_closes_with_a_goodbye,
    dropping_every_handle_shuts_the_driver_down,
    heartbeats_keep_the_connection,
);

/// A caller waiting for its ack reads the answer itself while the driver is idle: the ack
/// resolves in the caller's own poll, before the driver task (woken too) has run.
#[test]
fn a_waiting_caller_reads_its_ack_itself() {
    let sim = sim();
    let socket = io(URL, options(Mode::WebSocket), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    // The fake server answers as soon as the frame is written, before this first poll.
    let mut ack = Box::pin(socket.emit_with_ack::<_, (u32,)>("echo", (7,)));
    match ack.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(reply) => assert_eq!(reply.expect("ack").0, 7),
        std::task::Poll::Pending => panic!("the caller did not read its answer"),
    }
    // The driver task, woken by the same frame, finds nothing left to do.
    sim.run();
    socket.emit("echo", ("after",)).expect("emit");
    let echo = message(&sim, &mut events, "echo");
    assert_eq!(echo.args.parse::<(String,)>().expect("echo").0, "after");
}

#[test]
fn namespaces_share_one_connection_and_refusals_are_reported() {
    let sim = sim();
    let socket = io(URL, options(Mode::Polling), sim.runtime()).expect("io");
    let private = socket.io().socket("/private").expect("socket");
    let mut private_events = private.events();
    let error = next(&sim, &mut private_events, |e| match e {
        SocketEvent::ConnectError(e) => Some(e),
        _ => None,
    });
    match error {
        ConnectError::Refused { message, data } => {
            assert_eq!(message, "not authorized");
            assert_eq!(data.expect("data").json(), br#"{"reason":"bad token"}"#);
        }
        other => panic!("{other:?}"),
    }
    assert!(!private.active());
    let chat = socket.io().socket("/chat").expect("socket");
    let (x,): (u32,) = sim.block_on(chat.emit_with_ack("echo", (1,))).expect("ack");
    assert_eq!(x, 1);
    private.set_auth(json!({"token": "secret"})).expect("auth");
    private.connect();
    connected(&sim, &mut private_events);
    assert_eq!(
        sim.with_server(|s, _| s.sessions().len()),
        1,
        "one connection"
    );
    sim.with_server(|s, _| {
        let nsps: Vec<&str> = s.app().connects.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(nsps, ["/", "/private", "/chat", "/private"]);
        assert_eq!(s.app().connects[3].1, Some(json!({"token": "secret"})));
    });
}

#[test]
fn auto_connect_false_waits_for_connect() {
    let sim = sim();
    let socket = io(
        URL,
        options(Mode::Polling).auto_connect(false),
        sim.runtime(),
    )
    .expect("io");
    let mut events = socket.events();
    socket.emit("echo", ("queued",)).expect("emit");
    sim.advance(Duration::from_secs(60));
    assert!(sim.requests().is_empty(), "nothing connects");
    assert!(!socket.active());
    socket.connect();
    connected(&sim, &mut events);
    let echoed = message(&sim, &mut events, "echo");
    assert_eq!(echoed.args.get::<String>(0).unwrap(), "queued");
}

#[test]
fn reconnection_backs_off_then_gives_up() {
    let sim = sim();
    let socket = io(
        URL,
        options(Mode::Polling)
            .reconnection_attempts(Some(3))
            .reconnection_delay(Duration::from_secs(1))
            .reconnection_delay_max(Duration::from_secs(3)),
        sim.runtime(),
    )
    .expect("io");
    let seen = record_manager_events(&sim, &socket);
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    connected(&sim, &mut events);
    sim.with_server(|s, _| {
        s.refuse(Refusal::error(
            RequestMatch::Handshake,
            400,
            3,
            "Bad request",
        ))
    });
    let killed_at = sim.now();
    let before = seen.lock().unwrap().len();
    let sid = sim.with_server(|s, _| s.last_sid().expect("a session"));
    sim.with_server(|s, now| s.kill(now, &sid));
    sim.block_on(async {
        while manager_events.next().await != Some(ManagerEvent::ReconnectFailed) {}
    });
    let seen: Vec<(Duration, ManagerEvent)> = seen.lock().unwrap()[before..]
        .iter()
        .map(|(at, e)| (*at - killed_at, e.clone()))
        .collect();
    let s = Duration::from_secs;
    // The handshake's refusal, typed: the status and the server's `{code, message}`.
    let refused = socketio_proto::ManagerError::Engine(
        engineio_proto::CloseReason::TransportError(engineio_proto::TransportError::HttpStatus {
            request: engineio_proto::PollRequest::Get,
            status: 400,
            server_error: Some(engineio_proto::ServerError {
                code: 3,
                message: "Bad request".into(),
            }),
        }),
    );
    let mut expected = vec![(s(0), ManagerEvent::Close(DisconnectReason::TransportError))];
    // 1 s, then 2 s, then 4 s capped at 3 s.
    for (n, at) in [(1, s(1)), (2, s(3)), (3, s(6))] {
        expected.push((at, ManagerEvent::ReconnectAttempt(n)));
        expected.push((at, ManagerEvent::Error(refused.clone())));
        if n == 3 {
            expected.push((at, ManagerEvent::ReconnectFailed));
        }
        expected.push((at, ManagerEvent::ReconnectError(refused.clone())));
    }
    assert_eq!(seen, expected);
    // And then nothing more.
    sim.advance(Duration::from_secs(60));
    assert_eq!(sim.with_server(|s, _| s.sessions().len()), 1);
    assert!(!socket.connected());
}

#[test]
fn reconnect_hook_changes_auth_and_query() {
    let sim = sim();
    let socket = io(
        URL,
        options(Mode::Polling)
            .auth(json!({"token": "first"}))
            .query("v", "1")
            .before_connect(|mut attempt: socketio_async::ConnectAttempt| async move {
                let n = attempt.attempt;
                if n > 0 {
                    attempt
                        .auth
                        .insert("/".into(), json!({"token": format!("refreshed-{n}")}));
                    attempt.query.retain(|(k, _)| k != "v");
                    attempt.query.push(("v".into(), format!("{}", n + 1)));
                }
                Ok(attempt)
            }),
        sim.runtime(),
    )
    .expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    let sid = sim.with_server(|s, _| s.last_sid().expect("a session"));
    sim.with_server(|s, now| s.kill(now, &sid));
    next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(_) => Some(()),
        _ => None,
    });
    connected(&sim, &mut events);
    sim.with_server(|s, _| {
        let auths: Vec<_> = s.app().connects.iter().map(|(_, a)| a.clone()).collect();
        assert_eq!(
            auths,
            [
                Some(json!({"token": "first"})),
                Some(json!({"token": "refreshed-1"}))
            ]
        );
    });
    let handshakes: Vec<String> = sim
        .requests()
        .iter()
        .filter(|(_, url, _)| !url.query_pairs().any(|(k, _)| k == "sid"))
        .map(|(_, url, _)| {
            url.query_pairs()
                .find(|(k, _)| k == "v")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(handshakes, ["1", "2"]);
}

#[test]
fn manager_cache_in_io() {
    let sim = sim();
    let url = "http://cache.fake.test";
    let opts = || {
        Options::default()
            .transports([TransportKind::Polling])
            .randomization_factor(0.0)
    };
    let root = io(url, opts(), sim.runtime()).expect("io");
    let mut events = root.events();
    let chat = io(&format!("{url}/chat"), opts(), sim.runtime()).expect("io");
    assert_eq!(chat.nsp(), "/chat");
    let (x,): (u32,) = sim.block_on(chat.emit_with_ack("echo", (1,))).expect("ack");
    assert_eq!(x, 1);
    connected(&sim, &mut events);
    assert_eq!(sim.with_server(|s, _| s.sessions().len()), 1, "multiplexed");
    // The same namespace again: a new connection.
    let again = io(url, opts(), sim.runtime()).expect("io");
    let mut again_events = again.events();
    connected(&sim, &mut again_events);
    assert_eq!(sim.with_server(|s, _| s.sessions().len()), 2);
}

#[test]
fn connect_timeout_reports_connect_error_then_retries() {
    let sim = sim();
    sim.set_blackhole(true);
    let socket = io(
        URL,
        options(Mode::Polling)
            .timeout(Some(Duration::from_secs(3)))
            .reconnection_delay(Duration::from_secs(1)),
        sim.runtime(),
    )
    .expect("io");
    let seen = record_manager_events(&sim, &socket);
    let mut events = socket.events();
    let start = sim.now();
    let error = next(&sim, &mut events, |e| match e {
        SocketEvent::ConnectError(e) => Some(e),
        _ => None,
    });
    assert_eq!(
        error,
        ConnectError::Engine(socketio_proto::ManagerError::Timeout)
    );
    assert_eq!(sim.now() - start, Duration::from_secs(3));
    assert!(socket.active(), "an engine failure keeps the socket active");
    // The server answers again: the next attempt connects.
    sim.set_blackhole(false);
    connected(&sim, &mut events);
    assert_eq!(sim.now() - start, Duration::from_secs(4));
    let seen: Vec<ManagerEvent> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, e)| e.clone())
        .collect();
    assert_eq!(
        seen,
        [
            ManagerEvent::Error(socketio_proto::ManagerError::Timeout),
            ManagerEvent::ReconnectAttempt(1),
            ManagerEvent::Open,
            ManagerEvent::Reconnect(1),
        ]
    );
}

#[test]
fn without_reconnection_a_lost_connection_stays_lost() {
    let sim = sim();
    let socket = io(
        URL,
        options(Mode::WebSocket).reconnection(false),
        sim.runtime(),
    )
    .expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    let sid = sim.with_server(|s, _| s.last_sid().expect("a session"));
    sim.with_server(|s, now| s.kill(now, &sid));
    let reason = next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(r) => Some(r),
        _ => None,
    });
    assert_eq!(reason, DisconnectReason::TransportError);
    sim.advance(Duration::from_secs(600));
    assert_eq!(sim.with_server(|s, _| s.sessions().len()), 1);
    assert!(!socket.connected());
}

#[test]
fn default_reconnection_delay_with_jitter() {
    // The defaults: 1 s, jittered by up to half either way; each manager draws its own.
    let mut delays = Vec::new();
    for _ in 0..12 {
        let sim = sim();
        let options = Options::default()
            .transports([TransportKind::Polling])
            .force_new(true);
        let socket = io(URL, options, sim.runtime()).expect("io");
        let seen = record_manager_events(&sim, &socket);
        let mut events = socket.events();
        connected(&sim, &mut events);
        let killed_at = sim.now();
        let sid = sim.with_server(|s, _| s.last_sid().expect("a session"));
        sim.with_server(|s, now| s.kill(now, &sid));
        connected(&sim, &mut events);
        let attempt = seen
            .lock()
            .unwrap()
            .iter()
            .find(|(_, e)| *e == ManagerEvent::ReconnectAttempt(1))
            .map(|(at, _)| *at - killed_at)
            .expect("an attempt");
        delays.push(attempt);
    }
    let (min, max) = (Duration::from_millis(500), Duration::from_millis(1500));
    assert!(delays.iter().all(|d| (min..=max).contains(d)), "{delays:?}");
    let first = delays[0];
    assert!(delays.iter().any(|d| *d != first), "jitter: {delays:?}");
}
