//! Bad input from the server over a real socket, through the real client on every runtime: a
//! tiny scripted HTTP/WebSocket server on 127.0.0.1 (`support/scripted.rs`) refuses the
//! handshake with each status the issue lists (with and without the Engine.IO error JSON),
//! sends a malformed open packet, a body that never ends or only trickles, a record separator
//! inside a message, a WebSocket frame announcing a terabyte; and the real Node server serves
//! an expired certificate. Every case ends in a typed error or a close with its reason, by an
//! event (the suite's WAIT is only the upper bound), with memory bounded.

#[path = "support/scripted.rs"]
mod scripted;

use std::sync::mpsc::{Receiver, channel};

use engineio_proto::{
    DecodeError, HandshakeError, IoErrorKind, ProtocolViolation, ServerError, TransportError,
};
use scripted::{Reply, Scripted, WsAction, open_packet, polling_session};
use socketio_async::DEFAULT_MAX_MESSAGE as MAX_RESPONSE_BODY;
use socketio_async::tls::TlsOptions;
use socketio_async::{ConnectError, DisconnectReason, SocketEvent};
use socketio_interop::{NodeServer, Rt, WAIT, on_every_runtime, options};
use socketio_proto::ManagerError;

/// The engine error of a first connection that fails in `mode`.
async fn refused_with(rt: &Rt, url: &str, mode: &str) -> ManagerError {
    let socket = rt.io(url, options(mode).reconnection(false)).expect("io");
    let mut events = socket.events();
    match rt.failed_to_connect(&socket, &mut events).await {
        ConnectError::Engine(e) => e,
        other => panic!("{other:?}"),
    }
}

/// The protocol violation a first connection that fails in `mode` reports.
async fn violation(rt: &Rt, url: &str, mode: &str) -> ProtocolViolation {
    let error = refused_with(rt, url, mode).await;
    match error.transport_error() {
        Some(TransportError::Protocol(violation)) => violation.clone(),
        _ => panic!("{mode}: not a protocol violation: {error:?}"),
    }
}

/// The IO failure a first connection that fails in `mode` reports.
async fn io_failure(rt: &Rt, url: &str, mode: &str) -> engineio_proto::IoError {
    let error = refused_with(rt, url, mode).await;
    match error.transport_error().and_then(|t| t.io_error()) {
        Some(io) => io.clone(),
        None => panic!("{mode}: not an IO failure: {error:?}"),
    }
}

/// Connects in `mode` without reconnection; the socket and its events, connected.
async fn connect(
    rt: &Rt,
    url: &str,
    mode: &str,
) -> (
    socketio_async::Socket,
    impl futures_util::Stream<Item = SocketEvent> + Unpin + use<>,
) {
    // The stream before the connection: what the server sends with its CONNECT answer must
    // not go out before anyone listens.
    let socket = rt
        .io(url, options(mode).reconnection(false).auto_connect(false))
        .expect("io");
    let mut events = socket.events();
    socket.connect();
    rt.connected(&socket, &mut events).await;
    (socket, events)
}

async fn refused_handshakes_report_the_status_and_the_server_error(rt: Rt) {
    let error_json = r#"{"code":3,"message":"Bad request"}"#;
    for status in [400, 403, 404, 413, 500] {
        for body in [error_json, "", "<html>Nope</html>"] {
            let server = Scripted::start(move |_| Reply::status(status, body));
            let error = refused_with(&rt, &server.url(), "polling").await;
            let Some(TransportError::HttpStatus {
                status: got,
                server_error,
                ..
            }) = error.transport_error()
            else {
                panic!("{status} {body:?}: {error:?}");
            };
            assert_eq!(*got, status);
            let expected = (body == error_json).then(|| ServerError {
                code: 3,
                message: "Bad request".into(),
            });
            assert_eq!(server_error, &expected, "{status} {body:?}");
            assert_eq!(error.short_message(), "xhr poll error");
            let requests = server.requests();
            assert_eq!(
                requests.len(),
                1,
                "no retry without reconnection: {status} {body:?}: {requests:#?}"
            );
        }
        // The WebSocket handshake refused with the same status.
        let server = Scripted::start(move |_| Reply::status(status, error_json));
        let error = io_failure(&rt, &server.url(), "websocket").await;
        let refusal = std::error::Error::source(&error)
            .and_then(|s| s.downcast_ref::<tungstenite::Error>())
            .unwrap_or_else(|| panic!("{status}: no tungstenite error behind {error:?}"));
        assert!(
            matches!(refusal, tungstenite::Error::Http(response) if response.status() == status),
            "{status}: {refusal:?}"
        );
    }
}

/// Whether a protocol violation is the one a case expects.
type Expected = fn(&ProtocolViolation) -> bool;

fn is_json(v: &ProtocolViolation) -> bool {
    matches!(
        v,
        ProtocolViolation::InvalidHandshake(HandshakeError::Json(_))
    )
}

async fn a_malformed_open_packet_is_a_connect_error(rt: Rt) {
    let cases: [(&str, Expected); 5] = [
        (r#"0{"sid":"#, is_json),
        (r#"0{"sid":"x","pingInterval":-5}"#, is_json),
        ("4hello", |v| matches!(v, ProtocolViolation::ExpectedOpen)),
        ("9", |v| {
            matches!(v, ProtocolViolation::Decode(DecodeError::UnknownType(b'9')))
        }),
        ("", |v| {
            matches!(v, ProtocolViolation::Decode(DecodeError::Empty))
        }),
    ];
    for (body, expected) in cases {
        let server = Scripted::start(move |_| Reply::ok(body));
        let violation = violation(&rt, &server.url(), "polling").await;
        assert!(expected(&violation), "{body:?}: {violation:?}");
    }
    // The same over a WebSocket.
    let server =
        Scripted::start(|_| Reply::WebSocket(vec![WsAction::Text(r#"0{"sid":1}"#.into())]));
    let violation = violation(&rt, &server.url(), "websocket").await;
    assert!(is_json(&violation), "{violation:?}");
}

async fn a_never_ending_handshake_body_stops_at_the_limit(rt: Rt) {
    let server = Scripted::start(|_| Reply::Endless);
    let error = io_failure(&rt, &server.url(), "polling").await;
    assert_eq!(error.kind(), IoErrorKind::TooLarge, "{error:?}");
    // The message names the limit the body ran into.
    assert!(
        error
            .message()
            .contains(&format!("larger than {MAX_RESPONSE_BODY} bytes")),
        "{error}"
    );
    // The client stopped reading and closed the connection: what the server could write is
    // the limit plus what the socket buffers held.
    let written = server
        .written
        .recv_timeout(WAIT)
        .expect("the client let the connection go");
    eprintln!(
        "{}: the server wrote {written} bytes before the client let go",
        rt.name
    );
    assert!(written >= MAX_RESPONSE_BODY, "{written}");
    assert!(written < MAX_RESPONSE_BODY + (16 << 20), "{written}");
}

async fn a_never_ending_body_after_connecting_closes_the_connection(rt: Rt) {
    let server = Scripted::start(polling_session(25_000, |_| Reply::Endless));
    let (_socket, mut events) = connect(&rt, &server.url(), "polling").await;
    assert_eq!(
        rt.disconnected(&mut events).await,
        DisconnectReason::TransportError
    );
}

async fn a_trickling_body_ends_with_a_ping_timeout(rt: Rt) {
    // The server announces a 300 ms heartbeat and then never completes a GET: no ping can
    // arrive, and the heartbeat deadline closes the connection.
    let server = Scripted::start(polling_session(300, |_| Reply::Trickle));
    let (_socket, mut events) = connect(&rt, &server.url(), "polling").await;
    assert_eq!(
        rt.disconnected(&mut events).await,
        DisconnectReason::PingTimeout
    );
    // Nobody waits for that GET any more: it is dropped with its connection, instead of
    // reading the trickle until 64 MiB (one such connection per reconnection attempt).
    server
        .written
        .recv_timeout(WAIT)
        .expect("the client let the trickling connection go");
}

/// `42["m","a<RS>b"]` with the separator raw, or escaped as JSON allows.
fn message_with_separator(raw: bool) -> String {
    let separator = if raw { "\u{1e}" } else { "\\u001e" };
    format!(r#"42["m","a{separator}b"]"#)
}

async fn a_record_separator_inside_a_message(rt: Rt) {
    // Escaped, as every JSON encoder writes a control character: arrives intact, both ways.
    for mode in ["polling", "websocket"] {
        let server = separator_server(mode, false);
        let (_socket, mut events) = connect(&rt, &server.url(), mode).await;
        let message = rt
            .next_event(&mut events, |e| match e {
                SocketEvent::Message(m) if m.event == "m" => Some(m),
                _ => None,
            })
            .await;
        let (text,): (String,) = message.args.parse().expect("args");
        assert_eq!(text, "a\u{1e}b", "{mode}");
    }
    // Raw: polling splits the payload there (the second record `b"]` is bad base64), the
    // WebSocket keeps it and the JSON parser refuses the raw control character, as JSON.parse
    // does in the reference.
    for (mode, reason) in [
        ("polling", DisconnectReason::TransportError),
        ("websocket", DisconnectReason::ParseError),
    ] {
        let server = separator_server(mode, true);
        let (_socket, mut events) = connect(&rt, &server.url(), mode).await;
        assert_eq!(rt.disconnected(&mut events).await, reason, "{mode}");
    }
}

fn separator_server(mode: &str, raw: bool) -> Scripted {
    let message = message_with_separator(raw);
    if mode == "polling" {
        Scripted::start(polling_session(25_000, move |n| match n {
            0 => Reply::ok(message.clone()),
            _ => Reply::Trickle,
        }))
    } else {
        Scripted::start(move |_| {
            Reply::WebSocket(vec![
                WsAction::Text(open_packet(25_000, 20_000)),
                WsAction::Text(r#"40{"sid":"scripted-socket"}"#.into()),
                WsAction::Text(message.clone()),
            ])
        })
    }
}

async fn a_websocket_frame_announcing_a_terabyte_closes_the_connection(rt: Rt) {
    // A binary frame header with a 64-bit length of 2^40 and no payload: the WebSocket library
    // refuses it from the header (its message limit), allocating nothing.
    let mut header = vec![0x82, 127];
    header.extend_from_slice(&(1u64 << 40).to_be_bytes());
    let server = Scripted::start(move |_| {
        Reply::WebSocket(vec![
            WsAction::Text(open_packet(25_000, 20_000)),
            WsAction::Text(r#"40{"sid":"scripted-socket"}"#.into()),
            WsAction::Raw(header.clone()),
        ])
    });
    let (_socket, mut events) = connect(&rt, &server.url(), "websocket").await;
    assert_eq!(
        rt.disconnected(&mut events).await,
        DisconnectReason::TransportError
    );
}

/// A polling server whose first GET after the CONNECT answers a record that is no packet
/// (`9`: an unknown type); the receiver hears of each `1` POST (the client's goodbye), which
/// is answered `ok`, or never when `answers_goodbye` is false (a body that never ends).
fn unknown_packet_server(answers_goodbye: bool) -> (Scripted, Receiver<()>) {
    let (heard, goodbye) = channel();
    let session = polling_session(25_000, |n| match n {
        0 => Reply::ok("9"),
        _ => Reply::Trickle,
    });
    let server = Scripted::start(move |request| {
        if request.method == "POST" && request.body == b"1" {
            let _ = heard.send(());
            if !answers_goodbye {
                return Reply::Trickle;
            }
        }
        session(request)
    });
    (server, goodbye)
}

/// A server that breaks the Engine.IO protocol is told the session is over, as the reference
/// tells it: "transport error", and a `1` POST on the open polling transport.
async fn a_protocol_violation_is_answered_with_the_goodbye(rt: Rt) {
    let (server, goodbye) = unknown_packet_server(true);
    let (_socket, mut events) = connect(&rt, &server.url(), "polling").await;
    assert_eq!(
        rt.disconnected(&mut events).await,
        DisconnectReason::TransportError
    );
    goodbye.recv_timeout(WAIT).expect("the `1` POST");
}

/// The same from the blocking client.
#[test]
fn a_protocol_violation_is_answered_with_the_goodbye_by_the_blocking_client() {
    let (server, goodbye) = unknown_packet_server(true);
    let options = options("polling").reconnection(false);
    let client = socketio_blocking::Client::connect(&server.url(), options).expect("connect");
    let reason = loop {
        match client.receive(WAIT).expect("receive") {
            Some(socketio_blocking::Event::Disconnect(reason)) => break reason,
            Some(_) => {}
            None => panic!("no disconnect within {WAIT:?}"),
        }
    };
    assert_eq!(reason, DisconnectReason::TransportError);
    goodbye.recv_timeout(WAIT).expect("the `1` POST");
}

/// A server that never answers the goodbye (its `1` POST gets a body that never ends) does
/// not keep the blocking connection's socket for ever: the lingering transport is one of the
/// connection's deadlines, 30 s after the close, and is forgotten when that passes.
#[test]
fn an_unanswered_goodbye_is_given_up_after_a_grace_by_the_blocking_connection() {
    use socketio_proto::Event;
    use std::time::{Duration, Instant};
    let (server, goodbye) = unknown_packet_server(false);
    let mut connection = socketio_blocking::Builder::new(server.url())
        .options(options("polling").reconnection(false))
        .connection()
        .expect("connection");
    let give_up = Instant::now() + WAIT;
    let (drained_from, closed_at) = 'run: loop {
        let drained_from = Instant::now();
        while let Some(event) = connection.poll_event() {
            if let Event::Close { goodbye, .. } = event {
                assert!(goodbye, "a protocol violation says goodbye");
                break 'run (drained_from, Instant::now());
            }
        }
        assert!(Instant::now() < give_up, "no close within {WAIT:?}");
        connection.wait(Some(give_up)).expect("wait");
        connection.handle_readable();
        connection.handle_timeout(Instant::now());
    };
    // What the close asked for (the `1` POST) is performed by the next drain.
    while connection.poll_event().is_some() {}
    goodbye.recv_timeout(WAIT).expect("the `1` POST");
    // Nothing of the closed manager's is due; the lingering POST's grace is.
    let grace = connection
        .poll_timeout()
        .expect("the goodbye's grace is a deadline");
    let after = |at: Instant| grace.saturating_duration_since(at);
    assert!(after(drained_from) >= Duration::from_secs(30), "{grace:?}");
    assert!(after(closed_at) <= Duration::from_secs(30), "{grace:?}");
    connection.handle_timeout(grace - Duration::from_secs(1));
    assert_eq!(
        connection.poll_timeout(),
        Some(grace),
        "kept until the grace ends"
    );
    connection.handle_timeout(grace);
    assert_eq!(connection.poll_timeout(), None, "forgotten once it ended");
}

/// Fixtures made once by `tests/fixtures/expired/make.sh`: a CA valid until 2125 and a
/// certificate it signed for 127.0.0.1 and localhost that expired on 2001-01-01.
fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/expired/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

async fn an_expired_certificate_is_refused(rt: Rt) {
    let server = NodeServer::start(&[
        ("TLS_KEY", &fixture("server.key")),
        ("TLS_CERT", &fixture("server.pem")),
    ]);
    let mut tls = TlsOptions::default();
    tls.ca = vec![std::fs::read(fixture("ca.pem")).expect("CA fixture")];
    let rt = rt.with_tls(&tls);
    let url = format!("https://127.0.0.1:{}", server.port);
    for mode in ["polling", "websocket"] {
        let error = io_failure(&rt, &url, mode).await;
        assert_eq!(error.kind(), IoErrorKind::Tls, "{mode}: {error:?}");
        let rustls = std::error::Error::source(&error)
            .and_then(|s| s.downcast_ref::<rustls::Error>())
            .unwrap_or_else(|| panic!("{mode}: no rustls error behind {error:?}"));
        assert!(
            matches!(
                rustls,
                rustls::Error::InvalidCertificate(
                    rustls::CertificateError::Expired
                        | rustls::CertificateError::ExpiredContext { .. }
                )
            ),
            "{mode}: {rustls:?}"
        );
    }
    // Only verification is wrong with it: accepted when verification is off.
    let mut tls = TlsOptions::default();
    tls.reject_unauthorized = false;
    let rt = rt.with_tls(&tls);
    let (socket, _events) = connect(&rt, &url, "polling").await;
    assert!(socket.connected());
}

on_every_runtime!(
    refused_handshakes_report_the_status_and_the_server_error,
    a_malformed_open_packet_is_a_connect_error,
    a_never_ending_handshake_body_stops_at_the_limit,
    a_never_ending_body_after_connecting_closes_the_connection,
    a_trickling_body_ends_with_a_ping_timeout,
    a_record_separator_inside_a_message,
    a_websocket_frame_announcing_a_terabyte_closes_the_connection,
    a_protocol_violation_is_answered_with_the_goodbye,
    an_expired_certificate_is_refused,
);
