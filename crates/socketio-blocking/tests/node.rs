//! The blocking client against the real Node.js socket.io server, on every transport mode
//! (`polling::name`, `websocket::name`, `upgrade::name`): connect, emit, acks both ways,
//! binary, namespaces and auth, reconnection after a server restart, msgpack; TLS through
//! an HTTP proxy; the embedding `Connection` stepped by hand.

#[path = "../../interop/tests/support/proxy.rs"]
#[allow(dead_code)]
mod test_proxy;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use socketio_blocking::{
    Builder, Client, ConnectError, Connection, Error, Event, Message, Options, ProxyOptions,
    TlsOptions, TransportKind,
};
use socketio_test_kit::node::NodeServer;

/// How long any one awaited step may take before the test fails.
const WAIT: Duration = Duration::from_secs(10);

fn transports(mode: &str) -> Vec<TransportKind> {
    match mode {
        "polling" => vec![TransportKind::Polling],
        "websocket" => vec![TransportKind::WebSocket],
        _ => vec![TransportKind::Polling, TransportKind::WebSocket],
    }
}

fn options(mode: &str) -> Options {
    Options::default().transports(transports(mode))
}

/// The next message on `client` named `event`, skipping others (e.g. the welcome).
fn message(client: &Client, event: &str) -> Message {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.receive(left).expect("client open") {
            Some(Event::Message(m)) if m.event() == event => return m,
            Some(_) => {}
            None => panic!("no {event:?} within {WAIT:?}"),
        }
    }
}

/// Asks until the server sees the connection on `expected` (an upgrade may be under way).
fn settles_on(client: &Client, expected: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (transport,): (String,) = client.call("transport", (), WAIT).expect("transport");
        if transport == expected {
            return;
        }
        assert!(Instant::now() < deadline, "still on {transport}");
    }
}

macro_rules! on_every_mode {
    ($($name:ident),* $(,)?) => {
        mod polling { $(#[test] fn $name() { super::$name("polling") })* }
        mod websocket { $(#[test] fn $name() { super::$name("websocket") })* }
        mod upgrade { $(#[test] fn $name() { super::$name("upgrade") })* }
    };
}

on_every_mode!(
    connect_emit_and_acks,
    server_asks_for_an_ack,
    binary_both_ways,
    namespaces_and_auth,
    reconnects_after_a_server_restart,
    msgpack,
    from_several_threads,
    recovers_the_session,
);

fn connect_emit_and_acks(mode: &str) {
    let server = NodeServer::start(&[]);
    let client = Client::connect(&server.url(), options(mode)).expect("connect");
    assert!(client.connected());
    assert!(client.id().is_some());
    let welcome = message(&client, "welcome");
    let (info,): (Value,) = welcome.args().expect("welcome args");
    assert_eq!(info["nsp"], "/");

    let (echoed, n): (String, u32) = client.call("echo", ("hello", 7), WAIT).expect("ack");
    assert_eq!((echoed.as_str(), n), ("hello", 7));

    client
        .emit("echo", ("back", json!({"a": 1})))
        .expect("emit");
    let echo = message(&client, "echo");
    let (text, object): (String, Value) = echo.args().expect("echo args");
    assert_eq!((text.as_str(), object), ("back", json!({"a": 1})));

    // An ack that never comes is a timeout, and the client goes on.
    let never = client.call::<_, ()>("ignore", (), Duration::from_millis(200));
    assert!(matches!(never, Err(Error::Timeout)), "{never:?}");
    let reserved = client.emit("connect", ());
    assert!(matches!(reserved, Err(Error::Emit(_))), "{reserved:?}");

    match mode {
        "polling" => settles_on(&client, "polling"),
        _ => settles_on(&client, "websocket"),
    }
    client.close();
    assert!(matches!(client.emit("echo", ()), Err(Error::Closed)));
}

fn server_asks_for_an_ack(mode: &str) {
    let server = NodeServer::start(&[]);
    let client = Client::connect(&server.url(), options(mode)).expect("connect");
    client.emit("ask", ("what?",)).expect("emit");
    let mut question = message(&client, "question");
    assert!(question.wants_ack());
    assert_eq!(question.arg::<String>(0).expect("arg"), "what?");
    question
        .ack(("42", Bytes::from_static(b"\x01\x02")))
        .expect("ack");
    assert!(!question.wants_ack());
    let answer = message(&client, "answer");
    // The server got both ack arguments, the binary one as a Buffer it sends back as binary.
    let ((text, binary),): ((String, Bytes),) = answer.args().expect("answer");
    assert_eq!((text.as_str(), &binary[..]), ("42", &[1u8, 2][..]));
}

#[derive(Debug, Deserialize, PartialEq)]
struct Nested {
    nested: Bytes,
    text: String,
}

fn binary_both_ways(mode: &str) {
    let server = NodeServer::start(&[]);
    let client = Client::connect(&server.url(), options(mode)).expect("connect");
    // Binary from the server, in an ack and in an event.
    let (first, second): (Bytes, Nested) = client.call("binary", (), WAIT).expect("ack");
    assert_eq!(&first[..], [1, 2, 3]);
    assert_eq!(
        second,
        Nested {
            nested: Bytes::from_static(&[4, 5]),
            text: "t".into()
        }
    );
    client.emit("binary", ()).expect("emit");
    let (first, _): (Bytes, Nested) = message(&client, "binary").args().expect("args");
    assert_eq!(&first[..], [1, 2, 3]);
    // Binary to the server and back, large enough to span several reads.
    let big = Bytes::from((0..200_000u32).map(|i| i as u8).collect::<Vec<u8>>());
    let (back, small): (Bytes, Bytes) = client
        .call("echo", (big.clone(), Bytes::from_static(b"x")), WAIT)
        .expect("echo");
    assert_eq!((back, &small[..]), (big, &b"x"[..]));
}

fn namespaces_and_auth(mode: &str) {
    let server = NodeServer::start(&[]);
    let url = format!("{}/chat", server.url());
    let chat = Client::connect(&url, options(mode)).expect("connect /chat");
    assert_eq!(chat.namespace(), "/chat");
    let (info,): (Value,) = message(&chat, "welcome").args().expect("welcome");
    assert_eq!(info["nsp"], "/chat");

    // A second namespace on the same connection, with auth.
    let admin = chat
        .socket("/admin", Some(json!({"token": "secret"})))
        .expect("admin");
    let (info,): (Value,) = message(&admin, "welcome").args().expect("welcome");
    assert_eq!(
        (&info["nsp"], &info["auth"]["token"]),
        (&json!("/admin"), &json!("secret"))
    );
    assert_eq!(info["engine"], {
        let (chat_info,): (Value,) = chat.call("echo", (info["engine"].clone(),), WAIT).unwrap();
        chat_info
    });
    let (n,): (u32,) = admin.call("echo", (5,), WAIT).expect("admin ack");
    assert_eq!(n, 5);

    // The middleware refuses a wrong token: a typed error, and the others go on.
    let refused = chat.socket("/admin2", None).map(|_| ());
    assert!(
        matches!(&refused, Err(Error::Connect(e)) if matches!(&**e, ConnectError::Refused { message, .. } if message == "Invalid namespace")),
        "{refused:?}"
    );
    let refused = Client::connect(
        &format!("{}/admin", server.url()),
        options(mode).auth(json!({"token": "wrong"})),
    );
    match refused {
        Err(Error::Connect(e)) if matches!(*e, ConnectError::Refused { .. }) => {
            let ConnectError::Refused { message, data } = *e else {
                unreachable!()
            };
            assert_eq!(message, "not authorized");
            let data: Value = data.expect("data").deserialize().expect("json");
            assert_eq!(data, json!({"reason": "bad token"}));
        }
        other => panic!("{other:?}"),
    }
    let (n,): (u32,) = chat.call("echo", (6,), WAIT).expect("chat still works");
    assert_eq!(n, 6);
    admin.disconnect().expect("disconnect");
    match admin.receive(WAIT).expect("open") {
        Some(Event::Disconnect(reason)) => assert_eq!(reason.as_str(), "io client disconnect"),
        other => panic!("{other:?}"),
    }
    let (n,): (u32,) = chat
        .call("echo", (7,), WAIT)
        .expect("chat after admin left");
    assert_eq!(n, 7);
}

fn reconnects_after_a_server_restart(mode: &str) {
    let mut server = NodeServer::start(&[("PING_INTERVAL", "300"), ("PING_TIMEOUT", "200")]);
    let options = options(mode)
        .reconnection_delay(Duration::from_millis(100))
        .reconnection_delay_max(Duration::from_millis(300));
    let client = Client::connect(&server.url(), options).expect("connect");
    let first = client.id().expect("id");
    message(&client, "welcome");
    server.restart();
    let deadline = Instant::now() + WAIT * 2;
    let mut disconnected = false;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.receive(left).expect("open") {
            Some(Event::Disconnect(reason)) => {
                assert!(reason.reconnects(), "{reason}");
                disconnected = true;
            }
            Some(Event::Connect { .. }) => break,
            Some(_) => {}
            None => panic!("not reconnected (disconnected: {disconnected})"),
        }
    }
    assert!(disconnected);
    assert_ne!(client.id().expect("new id"), first);
    let (n,): (u32,) = client.call("echo", (1,), WAIT).expect("after reconnection");
    assert_eq!(n, 1);
}

fn msgpack(mode: &str) {
    let server = NodeServer::start(&[("MSGPACK", "1")]);
    let options = options(mode).parser(Arc::new(socketio_msgpack::MsgPackParser));
    let client = Client::connect(&server.url(), options).expect("connect");
    let (text, bin): (String, Bytes) = client
        .call("echo", ("packed", Bytes::from_static(&[7, 8])), WAIT)
        .expect("ack");
    assert_eq!((text.as_str(), &bin[..]), ("packed", &[7u8, 8][..]));
}

fn from_several_threads(mode: &str) {
    let server = NodeServer::start(&[]);
    let client = Client::connect(&server.url(), options(mode)).expect("connect");
    let receiver = client.clone();
    let received = std::thread::spawn(move || {
        let mut seen = Vec::new();
        while seen.len() < 40 {
            let m = message(&receiver, "echo");
            seen.push(m.arg::<u32>(0).expect("n"));
        }
        seen
    });
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    client.emit("echo", (t * 10 + i,)).expect("emit");
                    let (n,): (u32,) = client.call("echo", (i,), WAIT).expect("call");
                    assert_eq!(n, i);
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().expect("sender");
    }
    let mut seen = received.join().expect("receiver");
    seen.sort_unstable();
    assert_eq!(seen, (0..40).collect::<Vec<u32>>());
}

fn recovers_the_session(mode: &str) {
    let server = NodeServer::start(&[("RECOVERY", "1")]);
    let options = options(mode).reconnection_delay(Duration::from_millis(50));
    let client = Client::connect(&server.url(), options).expect("connect");
    let welcome = message(&client, "welcome");
    assert!(welcome.offset().is_some(), "events carry recovery offsets");
    // The server closes the connection: the client comes back to the same session.
    let id = client.id();
    client.emit("drop", ()).expect("emit");
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.receive(left).expect("open") {
            Some(Event::Connect { recovered }) => {
                assert!(recovered, "{mode}: not recovered");
                break;
            }
            Some(_) => {}
            None => panic!("{mode}: not reconnected"),
        }
    }
    assert_eq!(client.id(), id, "the same socket id after recovery");
}

#[test]
fn connect_errors_are_typed() {
    // Nothing listens on this port: the connect error names the engine failure.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    for reconnection in [false, true] {
        let options = Options::default().reconnection(reconnection);
        match Client::connect(&format!("http://127.0.0.1:{port}"), options) {
            Err(Error::Connect(e)) if matches!(*e, ConnectError::Engine(_)) => {}
            other => panic!("reconnection {reconnection}: {other:?}"),
        }
    }
    assert!(matches!(
        Client::connect("localhost:3000", Options::default()),
        Err(Error::Config(_))
    ));
    let mut tls = TlsOptions::default();
    tls.ciphers = Some("RC4-MD5".into());
    assert!(matches!(
        Builder::new("https://127.0.0.1:1").tls(tls).connect(),
        Err(Error::Tls(_))
    ));
}

#[test]
fn tls_through_a_proxy_on_every_transport() {
    let certs = test_proxy::TestCerts::generate();
    let (key, cert) = (certs.path("server.key"), certs.path("server.pem"));
    let server = NodeServer::start(&[("TLS_KEY", &key), ("TLS_CERT", &cert)]);
    let proxy = test_proxy::TestProxy::start(Some(test_proxy::USER_PASS));
    let mut tls = TlsOptions::default();
    tls.ca.push(certs.ca_pem());
    let url = server.url().replace("http://", "https://");
    for mode in ["polling", "websocket", "upgrade"] {
        let proxy_options = ProxyOptions::new(&proxy.url())
            .expect("proxy url")
            .credentials("user", "pass");
        let client = Builder::new(url.clone())
            .options(options(mode))
            .tls(tls.clone())
            .proxy(proxy_options)
            .connect()
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        let (info,): (Value,) = message(&client, "welcome").args().expect("welcome");
        assert!(info["tls"]["protocol"].is_string(), "{mode}: {info}");
        let (n,): (u32,) = client.call("echo", (3,), WAIT).expect("echo");
        assert_eq!(n, 3);
        client.close();
    }
    assert!(!proxy.targets().is_empty(), "the proxy saw the connections");
    // Without the CA the server's certificate is refused.
    let refused = Builder::new(url)
        .options(options("websocket").reconnection(false))
        .connect();
    let Err(Error::Connect(error)) = &refused else {
        panic!("{refused:?}");
    };
    let ConnectError::Engine(error) = &**error else {
        panic!("{error:?}");
    };
    let io = error
        .transport_error()
        .and_then(|t| t.io_error())
        .unwrap_or_else(|| panic!("not an IO failure: {error:?}"));
    assert_eq!(io.kind(), engineio_proto::IoErrorKind::Tls, "{io:?}");
    let rustls = std::error::Error::source(io).and_then(|s| s.downcast_ref::<rustls::Error>());
    assert!(
        matches!(
            rustls,
            Some(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{io:?}"
    );
}

/// The embedding shape: a `Connection` stepped by the test's own loop.
#[test]
fn a_connection_stepped_by_hand() {
    use socketio_proto::codec::Payload;
    use socketio_proto::{EmitOptions, Event as Raw};

    let server = NodeServer::start(&[]);
    let mut connection = Connection::open(&server.url(), options("upgrade")).expect("open");
    let hello = Payload::from_serialize(&("echo", "by hand")).expect("payload");
    connection
        .manager_mut()
        .socket_mut("/")
        .expect("socket")
        .emit(Instant::now(), hello, EmitOptions::with_ack())
        .expect("emit");
    let deadline = Instant::now() + WAIT;
    let mut connected = false;
    let ack = 'outer: loop {
        while let Some(event) = connection.poll_event() {
            match event {
                Raw::Connect { .. } => connected = true,
                Raw::Ack { result, .. } => break 'outer result.expect("ack"),
                _ => {}
            }
        }
        assert!(Instant::now() < deadline, "no ack");
        let wake = connection
            .poll_timeout()
            .map_or(deadline, |t| t.min(deadline));
        connection.wait(Some(wake)).expect("wait");
        connection.handle_readable();
        connection.handle_timeout(Instant::now());
    };
    assert!(connected);
    assert_eq!(ack.json(), br#"["by hand"]"#);
}
