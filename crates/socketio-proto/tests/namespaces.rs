//! Namespaces over one engine: CONNECT and its reply, auth, refusal, buffering before the
//! reply, DISCONNECT both ways.

mod support;

use std::time::Duration;

use socketio_proto::codec::Payload;
use socketio_proto::{
    ConnectError, DisconnectReason, EmitOptions, EmitStatus, Event, SocketConfig, TransportEvent,
};
use support::{Harness, config};

fn payload<T: serde::Serialize>(v: &T) -> Payload {
    Payload::from_serialize(v).expect("serializable")
}

#[test]
fn connects_the_default_namespace() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    assert_eq!(h.opens.len(), 1, "one engine opens");
    assert!(h.sent.is_empty(), "nothing before the handshake");
    h.accept();
    assert_eq!(h.take_sent(), ["40"]);
    h.frame(r#"40{"sid":"abc"}"#);
    let events = h.take_events();
    assert_eq!(
        events
            .iter()
            .find(|e| !matches!(e, Event::RememberUpgrade(_))),
        Some(&Event::Open)
    );
    assert!(events.contains(&Event::Connect {
        nsp: "/".into(),
        sid: "abc".into(),
        recovered: false
    }));
    let socket = h.manager.socket("/").expect("socket");
    assert!(socket.connected() && socket.active());
    assert_eq!(socket.id(), Some("abc"));
}

#[test]
fn emits_before_the_connect_reply_wait_and_go_out_once_in_order() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    let now = h.now;
    for i in 0..3 {
        let out = h
            .manager
            .socket_mut("/")
            .expect("socket")
            .emit(now, payload(&("n", i)), EmitOptions::default())
            .expect("emit");
        assert_eq!(out.status, EmitStatus::Buffered);
    }
    h.drain();
    h.accept();
    // Only CONNECT after the handshake: the server closes connections that send events for a
    // namespace it has not confirmed.
    assert_eq!(h.take_sent(), ["40"]);
    let now = h.now;
    h.manager
        .socket_mut("/")
        .expect("socket")
        .emit(now, payload(&("n", 3)), EmitOptions::default())
        .expect("emit");
    h.drain();
    assert!(h.sent.is_empty(), "still waiting for the reply");
    h.frame(r#"40{"sid":"abc"}"#);
    assert_eq!(
        h.take_sent(),
        [
            r#"42["n",0]"#,
            r#"42["n",1]"#,
            r#"42["n",2]"#,
            r#"42["n",3]"#
        ]
    );
    // A second CONNECT reply (duplicate) must not resend anything.
    h.frame(r#"40{"sid":"abc"}"#);
    assert!(h.take_sent().is_empty());
    assert_eq!(h.manager.socket("/").expect("socket").buffered(), 0);
}

#[test]
fn multiplexes_namespaces_over_one_engine() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    h.connect("/admin", SocketConfig::default());
    assert_eq!(h.opens.len(), 1, "one engine for both namespaces");
    h.accept();
    assert_eq!(h.take_sent(), ["40", "40/admin,"]);
    h.frame(r#"40/admin,{"sid":"a1"}"#);
    h.frame(r#"40{"sid":"r1"}"#);
    h.frame(r#"42/admin,["hello","admin"]"#);
    h.frame(r#"42["hello","root"]"#);
    let messages: Vec<(String, String)> = h
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Message { nsp, payload, .. } => Some((
                nsp.to_string(),
                payload.arg::<String>(1).expect("string arg"),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        messages,
        [
            ("/admin".into(), "admin".into()),
            ("/".into(), "root".into())
        ]
    );
    let now = h.now;
    h.manager
        .socket_mut("/admin")
        .expect("socket")
        .emit(now, payload(&("x",)), EmitOptions::default())
        .expect("emit");
    h.drain();
    assert_eq!(h.take_sent(), [r#"42/admin,["x"]"#]);
}

#[test]
fn sends_auth_with_connect() {
    let mut h = Harness::new(config());
    let now = h.now;
    let mut socket = h
        .manager
        .add_socket("/admin", SocketConfig::default())
        .expect("socket");
    socket
        .set_auth(Some(payload(&serde_json::json!({"token": "abc"}))))
        .expect("object auth");
    socket.connect(now);
    h.drain();
    h.accept();
    assert_eq!(h.take_sent(), [r#"40/admin,{"token":"abc"}"#]);
}

#[test]
fn auth_must_be_an_object() {
    let mut h = Harness::new(config());
    let mut socket = h
        .manager
        .add_socket("/", SocketConfig::default())
        .expect("socket");
    assert!(socket.set_auth(Some(payload(&[1, 2]))).is_err());
    assert!(socket.set_auth(Some(payload(&"token"))).is_err());
}

#[test]
fn connect_error_carries_the_server_data_and_deactivates_the_socket() {
    let mut h = Harness::new(config());
    h.connect("/private", SocketConfig::default());
    h.connect("/unknown", SocketConfig::default());
    h.accept();
    assert_eq!(h.take_sent(), ["40/private,", "40/unknown,"]);
    h.frame(r#"44/unknown,{"message":"Invalid namespace"}"#);
    h.frame(r#"44/private,{"message":"not authorized","data":{"reason":"token expired"}}"#);
    let errors: Vec<(String, ConnectError)> = h
        .take_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::ConnectError { nsp, error } => Some((nsp.to_string(), error)),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 2);
    match &errors[1] {
        (nsp, ConnectError::Refused { message, data }) => {
            assert_eq!(nsp, "/private");
            assert_eq!(message, "not authorized");
            let data = data.as_ref().expect("data");
            assert_eq!(data.json(), br#"{"reason":"token expired"}"#);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!h.manager.socket("/private").expect("socket").active());
    // Both sockets inactive: the manager closes the engine and does not reconnect.
    assert!(h.ws.is_none(), "engine closed");
    h.advance(Duration::from_secs(60));
    assert_eq!(h.opens.len(), 1, "no automatic retry after CONNECT_ERROR");
}

#[test]
fn connect_reply_without_sid_is_an_incompatible_server() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    h.accept();
    h.frame("40");
    assert!(h.take_events().contains(&Event::ConnectError {
        nsp: "/".into(),
        error: ConnectError::IncompatibleServer
    }));
}

#[test]
fn replies_for_namespaces_never_asked_for_are_ignored() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame(r#"40/ghost,{"sid":"x"}"#);
    h.frame(r#"42/ghost,["boo"]"#);
    h.frame(r#"41/ghost,"#);
    assert!(h.take_events().is_empty());
    assert!(h.manager.socket("/ghost").is_none());
}

#[test]
fn server_disconnect_stops_reconnection() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame("41");
    let events = h.take_events();
    assert!(events.contains(&Event::Disconnect {
        nsp: "/".into(),
        reason: DisconnectReason::IoServerDisconnect
    }));
    assert!(!h.manager.socket("/").expect("socket").active());
    assert!(h.ws.is_none(), "last namespace left: engine closed");
    h.advance(Duration::from_secs(600));
    assert_eq!(
        h.opens.len(),
        1,
        "no reconnection after io server disconnect"
    );
    // Connecting again by hand opens a new engine.
    let now = h.now;
    h.manager.socket_mut("/").expect("socket").connect(now);
    h.drain();
    assert_eq!(h.opens.len(), 2);
}

#[test]
fn client_disconnect_sends_disconnect_then_closes() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let now = h.now;
    h.manager.socket_mut("/").expect("socket").disconnect(now);
    h.drain();
    assert_eq!(h.take_sent(), ["41"]);
    assert_eq!(h.closed.len(), 1, "websocket closed after the DISCONNECT");
    assert!(h.take_events().contains(&Event::Disconnect {
        nsp: "/".into(),
        reason: DisconnectReason::IoClientDisconnect
    }));
    h.advance(Duration::from_secs(600));
    assert_eq!(
        h.opens.len(),
        1,
        "no reconnection after io client disconnect"
    );
}

#[test]
fn leaving_one_namespace_keeps_the_others() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    h.connect("/admin", SocketConfig::default());
    h.accept();
    h.frame(r#"40{"sid":"r"}"#);
    h.frame(r#"40/admin,{"sid":"a"}"#);
    h.take_sent();
    let now = h.now;
    h.manager
        .socket_mut("/admin")
        .expect("socket")
        .disconnect(now);
    h.drain();
    assert_eq!(h.take_sent(), ["41/admin,"]);
    assert!(
        h.ws.is_some(),
        "the default namespace still uses the engine"
    );
}

#[test]
fn reserved_event_names_are_refused() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let now = h.now;
    let mut socket = h.manager.socket_mut("/").expect("socket");
    for name in [
        "connect",
        "connect_error",
        "disconnect",
        "disconnecting",
        "newListener",
        "removeListener",
    ] {
        assert!(
            socket
                .emit(now, payload(&(name, 1)), EmitOptions::default())
                .is_err(),
            "{name}"
        );
    }
    assert!(
        socket
            .emit(now, payload(&[1, 2]), EmitOptions::default())
            .is_ok(),
        "numeric names are allowed"
    );
}

#[test]
fn volatile_emits_are_dropped_when_not_connected() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    let now = h.now;
    let out = h
        .manager
        .socket_mut("/")
        .expect("socket")
        .emit(now, payload(&("v",)), EmitOptions::default().volatile())
        .expect("emit");
    assert_eq!(out.status, EmitStatus::Dropped);
    h.accept();
    h.frame(r#"40{"sid":"abc"}"#);
    assert_eq!(h.take_sent(), ["40"], "the dropped emit never goes out");
    let now = h.now;
    let out = h
        .manager
        .socket_mut("/")
        .expect("socket")
        .emit(now, payload(&("v",)), EmitOptions::default().volatile())
        .expect("emit");
    assert_eq!(out.status, EmitStatus::Written);
}

#[test]
fn binary_events_both_ways() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let now = h.now;
    h.manager
        .socket_mut("/")
        .expect("socket")
        .emit(
            now,
            payload(&(
                "bin",
                bytes::Bytes::from_static(&[1, 2, 3]),
                serde_json::json!({"k": 1}),
            )),
            EmitOptions::default(),
        )
        .expect("emit");
    h.drain();
    assert_eq!(
        h.take_sent(),
        [
            r#"451-["bin",{"_placeholder":true,"num":0},{"k":1}]"#,
            "<bin:010203>"
        ]
    );
    h.frame(r#"452-["two",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#);
    assert!(h.take_events().is_empty(), "waiting for the attachments");
    h.binary(&[9]);
    h.binary(&[8, 7]);
    let events = h.take_events();
    let Some(Event::Message { payload, .. }) = events.first() else {
        panic!("expected a message, got {events:?}");
    };
    assert_eq!(payload.event_name().as_deref(), Some("two"));
    assert_eq!(
        payload.attachments(),
        [
            bytes::Bytes::from_static(&[9]),
            bytes::Bytes::from_static(&[8, 7])
        ]
    );
}

#[test]
fn a_parse_error_closes_with_parse_error_and_reconnects() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame(r#"42["unterminated""#);
    let events = h.take_events();
    assert!(
        events.contains(&Event::Disconnect {
            nsp: "/".into(),
            reason: DisconnectReason::ParseError
        }),
        "{events:?}"
    );
    assert!(h.manager.is_reconnecting());
}

#[test]
fn outgoing_events_are_reported_when_asked() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.manager.set_report_outgoing(true);
    let now = h.now;
    h.manager
        .socket_mut("/")
        .expect("socket")
        .emit(now, payload(&("out", 1)), EmitOptions::default())
        .expect("emit");
    h.drain();
    let events = h.take_events();
    assert!(matches!(&events[..], [Event::Outgoing { nsp, .. }] if nsp == "/"));
}

#[test]
fn time_going_backwards_is_tolerated() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    let earlier = h.start;
    h.manager.handle_timeout(earlier);
    h.manager
        .socket_mut("/")
        .expect("socket")
        .emit(earlier, payload(&("x",)), EmitOptions::default())
        .expect("emit");
    h.drain();
    assert_eq!(h.take_sent(), [r#"42["x"]"#]);
    assert!(h.manager.socket("/").expect("socket").connected());
}

/// Over polling one response can carry the CONNECT reply and the first event; the buffered
/// emits written on the reply must not let the event overtake `connect`.
#[test]
fn connect_comes_before_events_of_the_same_payload() {
    use engineio_proto::{HttpResponse, PollRequest, Transmit};
    use socketio_proto::Output;
    let mut c = config();
    c.engine.transports = vec![engineio_proto::TransportKind::Polling];
    let mut h = Harness::new(c);
    let now = h.now;
    let mut socket = h
        .manager
        .add_socket("/", SocketConfig::default())
        .expect("socket");
    socket.connect(now);
    socket
        .emit(now, payload(&("early",)), EmitOptions::default())
        .expect("emit");
    let mut gets = Vec::new();
    let mut events = Vec::new();
    let respond = |h: &mut Harness, gets: &mut Vec<_>, body: &str| {
        let transport = gets.pop().expect("a GET in flight");
        h.manager.handle_transport(
            h.now,
            transport,
            TransportEvent::HttpResponse {
                request: PollRequest::Get,
                response: HttpResponse::new(200, body.to_owned()),
            },
        );
    };
    let drain = |h: &mut Harness, gets: &mut Vec<_>, events: &mut Vec<Event>| {
        while let Some(out) = h.manager.poll_output() {
            match out {
                Output::Transmit(Transmit::HttpGet { transport, .. }) => gets.push(transport),
                Output::Transmit(Transmit::HttpPost { transport, .. }) => {
                    h.manager.handle_transport(
                        h.now,
                        transport,
                        TransportEvent::HttpResponse {
                            request: PollRequest::Post,
                            response: HttpResponse::new(200, "ok"),
                        },
                    )
                }
                Output::Event(Event::RememberUpgrade(_)) | Output::Transmit(_) => {}
                Output::Event(e) => events.push(e),
            }
        }
    };
    drain(&mut h, &mut gets, &mut events);
    respond(&mut h, &mut gets, support::HANDSHAKE);
    drain(&mut h, &mut gets, &mut events);
    respond(&mut h, &mut gets, "40{\"sid\":\"s\"}\u{1e}42[\"welcome\"]");
    drain(&mut h, &mut gets, &mut events);
    let names: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::Open => "open",
            Event::Connect { .. } => "connect",
            Event::Message { .. } => "message",
            _ => "other",
        })
        .collect();
    assert_eq!(names, ["open", "connect", "message"]);
}

/// Leaving a namespace whose CONNECT is unanswered, then joining again, must not send a second
/// CONNECT (the server closes the whole connection for that); the late reply is answered with
/// a DISCONNECT when the socket stays away.
#[test]
fn leaving_while_connect_is_pending() {
    let mut h = Harness::new(config());
    h.connect("/", SocketConfig::default());
    h.connect("/admin", SocketConfig::default());
    h.accept();
    assert_eq!(h.take_sent(), ["40", "40/admin,"]);
    h.frame(r#"40{"sid":"root"}"#);
    let now = h.now;
    // Leave /admin before its reply, then come back: no second CONNECT.
    h.manager
        .socket_mut("/admin")
        .expect("socket")
        .disconnect(now);
    h.manager.socket_mut("/admin").expect("socket").connect(now);
    h.drain();
    assert!(h.take_sent().is_empty(), "no second CONNECT");
    h.frame(r#"40/admin,{"sid":"a"}"#);
    assert!(h.manager.socket("/admin").expect("socket").connected());

    // Leave again before a fresh reply arrives; this time stay away.
    h.manager
        .socket_mut("/admin")
        .expect("socket")
        .disconnect(now);
    h.drain();
    assert_eq!(h.take_sent(), ["41/admin,"]);
    // A new CONNECT, left at once: its late reply gets a DISCONNECT.
    h.manager.socket_mut("/admin").expect("socket").connect(now);
    h.manager
        .socket_mut("/admin")
        .expect("socket")
        .disconnect(now);
    h.drain();
    assert_eq!(h.take_sent(), ["40/admin,"]);
    h.frame(r#"40/admin,{"sid":"b"}"#);
    assert_eq!(h.take_sent(), ["41/admin,"]);
    assert!(!h.manager.socket("/admin").expect("socket").connected());
}
