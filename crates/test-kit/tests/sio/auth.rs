//! Auth in CONNECT, middlewares refusing with data, unknown namespaces: the socket becomes
//! inactive and is not retried automatically.

use std::time::Duration;

use socketio_proto::{ConnectError, Event, SocketConfig};
use socketio_test_kit::{ConnectRefusal, JoinOutcome, NamespaceConfig, SioConfig, SioSim};

use crate::support::*;

/// `/admin` lets in `{"token":"secret"}` only.
fn guarded() -> SioConfig {
    SioConfig::new().namespace(
        "/admin",
        NamespaceConfig::new().middleware(|req| {
            let token = req
                .auth
                .and_then(|a| a.get("token"))
                .and_then(|t| t.as_str());
            if token == Some("secret") {
                Ok(())
            } else {
                Err(ConnectRefusal::new("not authorized")
                    .with_data(serde_json::json!({"reason": "bad token", "attempt": req.attempt})))
            }
        }),
    )
}

fn set_auth(sim: &mut SioSim, nsp: &str, auth: serde_json::Value) {
    sim.with_client(|m, _| m.socket_mut(nsp).unwrap().set_auth(Some(payload(&auth))))
        .unwrap();
}

fn refusals(sim: &SioSim) -> Vec<(String, String, Option<String>)> {
    events(sim)
        .into_iter()
        .filter_map(|e| match e {
            Event::ConnectError {
                nsp,
                error: ConnectError::Refused { message, data },
            } => Some((nsp.to_string(), message, data.as_ref().map(text))),
            _ => None,
        })
        .collect()
}

#[test]
fn a_refusal_carries_its_data_and_is_not_retried() {
    for (seed, transports) in [(20, POLLING), (21, WEBSOCKET)] {
        let mut sim = sim(seed, guarded(), client_config(transports));
        sim.with_client(|m, _| m.add_socket("/admin", SocketConfig::default()).map(|_| ()))
            .unwrap();
        set_auth(&mut sim, "/admin", serde_json::json!({"token": "wrong"}));
        sim.with_client(|m, now| m.socket_mut("/admin").unwrap().connect(now));
        sim.run_for(Duration::from_secs(120));

        assert_eq!(
            refusals(&sim),
            [(
                "/admin".to_owned(),
                "not authorized".to_owned(),
                Some(r#"{"attempt":1,"reason":"bad token"}"#.to_owned())
            )],
            "{transports:?}"
        );
        let socket = sim.client().socket("/admin").unwrap();
        assert!(!socket.active() && !socket.connected());
        // One CONNECT in two minutes: no automatic retry, and no reconnection either.
        assert_eq!(
            sim.server().app().received("/admin"),
            [r#"0/admin,{"token":"wrong"}"#]
        );
        assert_eq!(sim.server().sessions().len(), 1, "{transports:?}");
        // No socket is active any more: the manager closed the engine.
        assert!(
            sim.server().sessions()[0].closed.is_some(),
            "{transports:?}"
        );
        assert!(
            !events(&sim)
                .iter()
                .any(|e| matches!(e, Event::ReconnectAttempt(_)))
        );

        // The application retries by hand with the right token.
        set_auth(&mut sim, "/admin", serde_json::json!({"token": "secret"}));
        sim.with_client(|m, now| m.socket_mut("/admin").unwrap().connect(now));
        until_connected(&mut sim, "/admin");
        let joins = sim.server().app().joins_of("/admin");
        assert_eq!(joins.len(), 2);
        assert_eq!(joins[1].auth, Some(serde_json::json!({"token": "secret"})));
        assert!(matches!(joins[1].outcome, JoinOutcome::Connected { .. }));
    }
}

#[test]
fn a_refused_namespace_leaves_the_others_connected() {
    let mut sim = sim(22, guarded(), client_config(WEBSOCKET));
    connect(&mut sim, "/", SocketConfig::default());
    connect(&mut sim, "/admin", SocketConfig::default());
    sim.run_for(Duration::from_secs(30));
    assert!(sim.client().socket("/").unwrap().connected());
    assert!(!sim.client().socket("/admin").unwrap().active());
    assert_eq!(sim.server().sessions().len(), 1);
    assert_eq!(sim.server().sessions()[0].closed, None);
    // Without auth the CONNECT has no payload.
    assert_eq!(sim.server().app().received("/admin"), ["0/admin,"]);
    assert_eq!(sim.server().app().joins_of("/admin")[0].auth, None);
}

#[test]
fn unknown_namespaces_are_refused_and_the_engine_closes() {
    let mut sim = sim(23, guarded(), client_config(WEBSOCKET));
    connect(&mut sim, "/private", SocketConfig::default());
    connect(&mut sim, "/unknown", SocketConfig::default());
    sim.run_for(Duration::from_secs(10));
    let mut got = refusals(&sim);
    got.sort();
    let invalid = |nsp: &str| (nsp.to_owned(), "Invalid namespace".to_owned(), None);
    assert_eq!(got, [invalid("/private"), invalid("/unknown")]);
    assert!(
        sim.server().sessions()[0].closed.is_some(),
        "both sockets inactive: the manager closes the engine"
    );
    assert_eq!(sim.server().sessions().len(), 1, "and does not reconnect");
}

#[test]
fn auth_is_sent_on_every_connect_including_reconnections() {
    let mut sim = sim(24, guarded(), client_config(WEBSOCKET));
    sim.with_client(|m, _| m.add_socket("/admin", SocketConfig::default()).map(|_| ()))
        .unwrap();
    set_auth(&mut sim, "/admin", serde_json::json!({"token": "secret"}));
    sim.with_client(|m, now| m.socket_mut("/admin").unwrap().connect(now));
    until_connected(&mut sim, "/admin");
    let sid = sim.server().last_sid().unwrap();
    sim.with_server(|s, now| s.close(now, &sid));
    sim.run_for(Duration::from_secs(10));
    assert!(sim.client().socket("/admin").unwrap().connected());
    let auths: Vec<_> = sim
        .server()
        .app()
        .joins_of("/admin")
        .iter()
        .map(|j| j.auth.clone())
        .collect();
    let secret = Some(serde_json::json!({"token": "secret"}));
    assert_eq!(auths, [secret.clone(), secret]);
}
