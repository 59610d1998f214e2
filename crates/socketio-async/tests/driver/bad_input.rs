//! Bad input from the caller, through the public API on the fake runtime: bad URLs, CR/LF in
//! header values (also from a reconnect hook), option values that cannot work, emits on a
//! disconnected socket, reserved event names. Each is a typed error returned at once, or a
//! documented behaviour, and none sends a byte it should not.

use std::time::Duration;

use serde_json::json;
use socketio_async::{
    ConfigError, EngineConfigError, Error, ManagerEvent, Options, SocketEvent, io,
};
use socketio_proto::EmitError;

use super::{Mode, URL, connected, next, options, sim};

/// Whether an error is the one a case expects.
type Expect<E> = fn(&E) -> bool;

/// The configuration error of `result`; panics on success or another error.
fn config_error<T: std::fmt::Debug>(result: Result<T, Error>) -> ConfigError {
    match result {
        Err(Error::Config(e)) => e,
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn bad_urls_are_typed_errors_and_nothing_is_sent() {
    let sim = sim();
    let cases: [(&str, Expect<EngineConfigError>); 9] = [
        ("", |e| matches!(e, EngineConfigError::MissingScheme(_))),
        ("localhost:3000", |e| {
            matches!(e, EngineConfigError::MissingScheme(_))
        }),
        ("fake.test/chat", |e| {
            matches!(e, EngineConfigError::MissingScheme(_))
        }),
        ("ftp://fake.test", |e| {
            matches!(e, EngineConfigError::UnsupportedScheme(_))
        }),
        ("file:///etc/passwd", |e| {
            matches!(e, EngineConfigError::UnsupportedScheme(_))
        }),
        ("http://", |e| {
            matches!(e, EngineConfigError::InvalidUrl { .. })
        }),
        ("http://fake.test:99999", |e| {
            matches!(e, EngineConfigError::InvalidUrl { .. })
        }),
        ("http://fake.test:port", |e| {
            matches!(e, EngineConfigError::InvalidUrl { .. })
        }),
        ("http://[::1", |e| {
            matches!(e, EngineConfigError::InvalidUrl { .. })
        }),
    ];
    for (url, expected) in cases {
        match config_error(io(url, options(Mode::Polling), sim.runtime())) {
            ConfigError::Engine(e) => assert!(expected(&e), "{url:?}: {e:?}"),
            other => panic!("{url:?}: {other:?}"),
        }
        let manager = socketio_async::Manager::new(url, Options::default(), sim.runtime());
        assert!(matches!(manager, Err(Error::Config(_))), "{url:?}");
    }
    sim.run();
    assert!(sim.requests().is_empty());
    assert_eq!(sim.live_tasks(), 0);
}

#[test]
fn cr_lf_or_nul_in_a_header_is_refused_and_never_sent() {
    let sim = sim();
    for value in [
        "token\r\nX-Injected: 1",
        "token\nX-Injected: 1",
        "token\r",
        "tok\0en",
    ] {
        let opts = options(Mode::Polling).extra_header("X-Token", value);
        let error = config_error(io(URL, opts, sim.runtime()));
        assert_eq!(
            error,
            ConfigError::Engine(EngineConfigError::InvalidHeaderValue("X-Token".into())),
            "{value:?}"
        );
        // The message names the header, never its value.
        assert!(!error.to_string().contains("X-Injected"), "{error}");
    }
    for name in ["X Token", "X-Token:", "X-Token\r\nX-Injected", ""] {
        let opts = options(Mode::Polling).extra_header(name, "v");
        assert!(
            matches!(
                config_error(io(URL, opts, sim.runtime())),
                ConfigError::Engine(EngineConfigError::InvalidHeaderName(_))
            ),
            "{name:?}"
        );
    }
    sim.run();
    assert!(sim.requests().is_empty());
}

#[test]
fn a_header_a_reconnect_hook_breaks_fails_the_attempt_without_sending_it() {
    let sim = sim();
    let socket = io(
        URL,
        options(Mode::Polling)
            .reconnection_attempts(Some(2))
            .before_connect(|mut attempt: socketio_async::ConnectAttempt| async move {
                if attempt.attempt > 0 {
                    attempt
                        .extra_headers
                        .push(("X-Token".into(), "a\r\nX-Injected: 1".into()));
                }
                Ok(attempt)
            }),
        sim.runtime(),
    )
    .expect("io");
    let mut manager_events = socket.io().events();
    let mut events = socket.events();
    connected(&sim, &mut events);
    let sid = sim.with_server(|s, _| s.last_sid().expect("a session"));
    sim.with_server(|s, now| s.kill(now, &sid));
    let error = sim.block_on(async {
        use futures_util::StreamExt;
        loop {
            match manager_events.next().await.expect("open") {
                ManagerEvent::ReconnectError(e) => return e,
                _ => continue,
            }
        }
    });
    assert!(
        matches!(
            &error,
            socketio_proto::ManagerError::Config(
                engineio_proto::ConfigError::InvalidHeaderValue(name)
            ) if name == "X-Token"
        ),
        "{error:?}"
    );
    sim.advance(Duration::from_secs(60));
    for (_, url, headers) in sim.requests() {
        assert!(
            !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("x-token")),
            "{url}: {headers:?}"
        );
    }
}

#[test]
fn option_values_that_cannot_work_are_typed_errors() {
    let sim = sim();
    let base = || options(Mode::Polling);
    let cases: Vec<(&str, Options, Expect<ConfigError>)> = vec![
        ("no transports", base().transports([]), |e| {
            matches!(e, ConfigError::Engine(EngineConfigError::NoTransports))
        }),
        (
            "delay max below delay",
            base()
                .reconnection_delay(Duration::from_secs(5))
                .reconnection_delay_max(Duration::from_secs(1)),
            |e| matches!(e, ConfigError::DelayMaxBelowDelay { .. }),
        ),
        ("negative jitter", base().randomization_factor(-0.1), |e| {
            matches!(e, ConfigError::RandomizationFactor(_))
        }),
        ("jitter above one", base().randomization_factor(1.5), |e| {
            matches!(e, ConfigError::RandomizationFactor(_))
        }),
        ("NaN jitter", base().randomization_factor(f64::NAN), |e| {
            matches!(e, ConfigError::RandomizationFactor(_))
        }),
        ("zero timeout", base().timeout(Some(Duration::ZERO)), |e| {
            matches!(e, ConfigError::ZeroTimeout)
        }),
        (
            "retries without ack timeout",
            base().retries(Some(3)),
            |e| matches!(e, ConfigError::RetriesWithoutAckTimeout),
        ),
        (
            "zero ack timeout",
            base().ack_timeout(Some(Duration::ZERO)),
            |e| matches!(e, ConfigError::ZeroAckTimeout),
        ),
        ("auth not an object", base().auth(json!("token")), |e| {
            matches!(e, ConfigError::InvalidAuth)
        }),
        ("auth an array", base().auth(json!([1])), |e| {
            matches!(e, ConfigError::InvalidAuth)
        }),
    ];
    for (what, opts, expected) in cases {
        let error = config_error(io(URL, opts, sim.runtime()));
        assert!(expected(&error), "{what}: {error:?}");
        assert!(!error.to_string().is_empty());
        sim.run();
        assert!(
            sim.requests().is_empty(),
            "{what}: a refused option sends nothing"
        );
    }
    // A namespace must start with '/'.
    let manager = socketio_async::Manager::new(URL, base().auto_connect(false), sim.runtime())
        .expect("manager");
    assert!(matches!(
        config_error(manager.socket("chat")),
        ConfigError::InvalidNamespace(_)
    ));
    sim.run();
    assert!(sim.requests().is_empty(), "a refused option sends nothing");
    // Values the reference accepts and that still mean something are kept: no reconnection
    // delay at all, equal delays, jitter at both ends.
    for opts in [
        base()
            .reconnection_delay(Duration::ZERO)
            .reconnection_delay_max(Duration::ZERO),
        base().randomization_factor(0.0),
        base().randomization_factor(1.0),
        base().reconnection_attempts(Some(0)),
    ] {
        io(URL, opts.auto_connect(false), sim.runtime()).expect("accepted");
    }
}

#[test]
fn emits_on_a_disconnected_socket_wait_for_the_next_connect() {
    // socket.io-client pushes an emit made while disconnected to its send buffer and flushes
    // it on the next connect (a volatile one is dropped); so does this client.
    let sim = sim();
    let socket = io(URL, options(Mode::Polling), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    socket.disconnect();
    next(&sim, &mut events, |e| match e {
        SocketEvent::Disconnect(_) => Some(()),
        _ => None,
    });
    socket
        .emit("later", ("kept",))
        .expect("accepted while disconnected");
    socket
        .volatile()
        .emit("volatile", ("dropped",))
        .expect("accepted, then dropped");
    sim.advance(Duration::from_secs(30));
    sim.with_server(|s, _| {
        assert!(s.app().events("later").is_empty());
        assert_eq!(s.sessions().len(), 1, "no reconnection after disconnect()");
    });
    socket.connect();
    connected(&sim, &mut events);
    sim.advance(Duration::from_secs(1));
    sim.with_server(|s, _| {
        assert_eq!(s.app().events("later"), [json!(["later", "kept"])]);
        assert!(s.app().events("volatile").is_empty());
    });
}

#[test]
fn reserved_event_names_are_typed_errors_and_nothing_is_sent() {
    let sim = sim();
    let socket = io(URL, options(Mode::WebSocket), sim.runtime()).expect("io");
    let mut events = socket.events();
    connected(&sim, &mut events);
    let names = [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ];
    for name in names {
        let expected = EmitError::ReservedEvent(name.to_owned());
        let check = |result: Result<(), Error>, how: &str| match result {
            Err(Error::Emit(e)) => {
                assert_eq!(e, expected, "{how}");
                // The reference's words, then ours.
                let prefix = format!("{name:?} is a reserved event name");
                assert!(e.to_string().starts_with(&prefix), "{how}: {e}");
            }
            other => panic!("{how} {name}: {other:?}"),
        };
        check(socket.emit(name, ("x",)), "emit");
        check(socket.volatile().emit(name, ()), "volatile emit");
        check(
            socket.timeout(Duration::from_secs(1)).emit(name, ()),
            "emit with a timeout",
        );
        let acked = sim.block_on(socket.emit_with_ack::<_, ()>(name, ()));
        check(acked, "emit with ack");
    }
    // Listening to them is how the lifecycle is observed: allowed.
    socket.on("connect", |_| {});
    // A name that only looks like one is an ordinary event.
    socket.emit("connected", ()).expect("not reserved");
    sim.advance(Duration::from_secs(1));
    sim.with_server(|s, _| {
        for name in names {
            assert!(s.app().events(name).is_empty(), "{name} was sent");
        }
        assert_eq!(s.app().events("connected").len(), 1);
    });
    assert!(socket.connected(), "the connection is unaffected");
}
