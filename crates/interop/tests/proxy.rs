//! Through an HTTP `CONNECT` proxy (the in-test proxy of `support/proxy.rs`) to the real
//! Node.js server, on every runtime: polling, WebSocket and the upgrade go through the tunnel,
//! https and wss run end to end inside it with TLS options, wrong credentials are a connect
//! error naming the 407, `no_proxy` goes around it, and an unreachable proxy is a connect
//! error naming it.

#[path = "support/proxy.rs"]
mod test_proxy;

use engineio_proto::IoErrorKind;
use futures_util::Stream;
use socketio_async::proxy::{ProxyError, ProxyOptions};
use socketio_async::tls::TlsOptions;
use socketio_async::{Manager, ManagerEvent, Options, Socket, SocketEvent, TransportKind};
use socketio_interop::{NodeServer, Rt, on_every_runtime};
use test_proxy::{TestCerts, TestProxy, USER_PASS};

const POLLING: &[TransportKind] = &[TransportKind::Polling];
const WEBSOCKET: &[TransportKind] = &[TransportKind::WebSocket];
const UPGRADE: &[TransportKind] = &[TransportKind::Polling, TransportKind::WebSocket];

/// A socket on `/` of `url` on `rt`'s runtime, not yet connecting (subscribe first, then
/// connect).
fn socket_on(rt: &Rt, url: &str, transports: &[TransportKind]) -> Socket {
    let options = Options::default()
        .transports(transports.to_vec())
        .force_new(true)
        .reconnection(false)
        .auto_connect(false);
    Manager::new(url, options, rt.runtime.clone())
        .expect("manager")
        .socket("/")
        .expect("socket")
}

/// A socket on `/` of the server through `proxy`, not yet connecting.
fn socket(
    rt: &Rt,
    server: &NodeServer,
    proxy: ProxyOptions,
    transports: &[TransportKind],
) -> Socket {
    socket_on(&rt.with_proxy(proxy), &server.url(), transports)
}

/// Connects and waits for the outcome: `Ok` on connect, the error text on a connect error.
async fn connect(rt: &Rt, socket: &Socket) -> Result<(), socketio_async::ConnectError> {
    let mut events = socket.events();
    socket.connect();
    rt.next_event(&mut events, |e| match e {
        SocketEvent::Connect { .. } => Some(Ok(())),
        SocketEvent::ConnectError(e) => Some(Err(e)),
        _ => None,
    })
    .await
}

/// The IO failure behind a connect error, which must be the proxy's (kind `Proxy`).
fn proxy_failure(error: &socketio_async::ConnectError) -> engineio_proto::IoError {
    let socketio_async::ConnectError::Engine(e) = error else {
        panic!("not an engine error: {error:?}");
    };
    let io = e
        .transport_error()
        .and_then(|t| t.io_error())
        .unwrap_or_else(|| panic!("not an IO failure: {e:?}"));
    assert_eq!(io.kind(), IoErrorKind::Proxy, "{io:?}");
    io.clone()
}

/// Waits for the manager's upgrade to WebSocket.
async fn upgraded(rt: &Rt, manager_events: &mut (impl Stream<Item = ManagerEvent> + Unpin)) {
    rt.next_manager_event(manager_events, |e| {
        (e == ManagerEvent::Upgrade(TransportKind::WebSocket)).then_some(())
    })
    .await;
}

async fn echo(rt: &Rt, socket: &Socket) {
    let (word, n): (String, u32) = rt
        .within(
            "the echo",
            socket.emit_with_ack("echo", ("through the proxy", 7)),
        )
        .await
        .expect("ack");
    assert_eq!((word.as_str(), n), ("through the proxy", 7));
}

/// Every tunnel the proxy opened went to the Node server.
fn assert_tunnelled(proxy: &TestProxy, server: &NodeServer) {
    let targets = proxy.targets();
    assert!(!targets.is_empty(), "the proxy saw no CONNECT");
    let expected = format!("127.0.0.1:{}", server.port);
    assert!(targets.iter().all(|t| *t == expected), "{targets:?}");
}

async fn polling_through_proxy_with_credentials_in_the_url(rt: Rt) {
    let server = NodeServer::start(&[]);
    let proxy = TestProxy::start(Some(USER_PASS));
    let url = proxy.url().replace("http://", "http://user:pass@");
    let socket = socket(
        &rt,
        &server,
        ProxyOptions::new(&url).expect("proxy"),
        POLLING,
    );
    connect(&rt, &socket).await.expect("connected");
    echo(&rt, &socket).await;
    assert_tunnelled(&proxy, &server);
}

async fn websocket_through_proxy_with_credentials(rt: Rt) {
    let server = NodeServer::start(&[]);
    let proxy = TestProxy::start(Some(USER_PASS));
    let options = ProxyOptions::new(&proxy.url())
        .expect("proxy")
        .credentials("user", "pass");
    let socket = socket(&rt, &server, options, WEBSOCKET);
    connect(&rt, &socket).await.expect("connected");
    echo(&rt, &socket).await;
    assert_tunnelled(&proxy, &server);
}

async fn upgrade_through_proxy(rt: Rt) {
    let server = NodeServer::start(&[]);
    let proxy = TestProxy::start(None);
    let socket = socket(
        &rt,
        &server,
        ProxyOptions::new(&proxy.url()).expect("proxy"),
        UPGRADE,
    );
    let mut manager_events = socket.io().events();
    connect(&rt, &socket).await.expect("connected");
    upgraded(&rt, &mut manager_events).await;
    echo(&rt, &socket).await;
    // Polling's connections and the WebSocket's: at least two tunnels.
    assert!(proxy.targets().len() >= 2, "{:?}", proxy.targets());
    assert_tunnelled(&proxy, &server);
}

async fn https_and_wss_through_proxy_with_tls_options(rt: Rt) {
    let certs = TestCerts::generate();
    let (key, cert) = (certs.path("server.key"), certs.path("server.pem"));
    let server = NodeServer::start(&[("TLS_KEY", &key), ("TLS_CERT", &cert)]);
    let proxy = TestProxy::start(Some(USER_PASS));
    let mut tls = TlsOptions::default();
    tls.ca.push(certs.ca_pem());
    // TLS options and the proxy compose: TLS runs end to end inside the tunnel, verifying the
    // server's certificate for 127.0.0.1 (not the proxy's name).
    let rt = rt.with_tls(&tls).with_proxy(
        ProxyOptions::new(&proxy.url())
            .expect("proxy")
            .credentials("user", "pass"),
    );
    let socket = socket_on(&rt, &format!("https://127.0.0.1:{}", server.port), UPGRADE);
    let mut manager_events = socket.io().events();
    connect(&rt, &socket).await.expect("connected over https");
    upgraded(&rt, &mut manager_events).await;
    echo(&rt, &socket).await;
    assert!(proxy.targets().len() >= 2, "{:?}", proxy.targets());
    assert_tunnelled(&proxy, &server);
}

async fn wrong_credentials(rt: &Rt, transports: &[TransportKind]) {
    let server = NodeServer::start(&[]);
    let proxy = TestProxy::start(Some(USER_PASS));
    let options = ProxyOptions::new(&proxy.url())
        .expect("proxy")
        .credentials("user", "wrong-secret");
    let socket = socket(rt, &server, options, transports);
    let error = connect(rt, &socket).await.expect_err("refused");
    let io = proxy_failure(&error);
    let refusal = std::error::Error::source(&io).and_then(|s| s.downcast_ref::<ProxyError>());
    assert!(
        matches!(
            refusal,
            Some(ProxyError::Refused { status: 407, reason })
                if reason == "Proxy Authentication Required"
        ),
        "{io:?}"
    );
    // The credentials are a secret: nothing shows them.
    assert!(!format!("{error:?}").contains("wrong-secret"), "{error:?}");
    assert!(!error.to_string().contains("wrong-secret"), "{error}");
    assert_tunnelled(&proxy, &server);
}

async fn polling_wrong_credentials_is_a_connect_error(rt: Rt) {
    wrong_credentials(&rt, POLLING).await;
}

async fn websocket_wrong_credentials_is_a_connect_error(rt: Rt) {
    wrong_credentials(&rt, WEBSOCKET).await;
}

async fn no_proxy_bypasses(rt: &Rt, transports: &[TransportKind]) {
    let server = NodeServer::start(&[]);
    // It would refuse us (no credentials): connecting proves it was not used.
    let proxy = TestProxy::start(Some(USER_PASS));
    let options = ProxyOptions::new(&proxy.url())
        .expect("proxy")
        .no_proxy(["localhost", "127.0.0.1"]);
    let socket = socket(rt, &server, options, transports);
    connect(rt, &socket).await.expect("connected");
    echo(rt, &socket).await;
    assert_eq!(proxy.targets(), Vec::<String>::new());
}

async fn polling_no_proxy_bypasses_the_proxy(rt: Rt) {
    no_proxy_bypasses(&rt, POLLING).await;
}

async fn websocket_no_proxy_bypasses_the_proxy(rt: Rt) {
    no_proxy_bypasses(&rt, WEBSOCKET).await;
}

async fn unreachable_proxy_is_a_connect_error(rt: Rt) {
    let server = NodeServer::start(&[]);
    // A port nothing listens on: bind, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let options = ProxyOptions::new(&format!("http://127.0.0.1:{port}")).expect("proxy");
    let socket = socket(&rt, &server, options, POLLING);
    let error = connect(&rt, &socket).await.expect_err("no proxy there");
    let io = proxy_failure(&error);
    let cause = std::error::Error::source(&io).and_then(|s| s.downcast_ref::<std::io::Error>());
    assert_eq!(
        cause.map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionRefused),
        "{io:?}"
    );
}

on_every_runtime!(
    polling_through_proxy_with_credentials_in_the_url,
    websocket_through_proxy_with_credentials,
    upgrade_through_proxy,
    https_and_wss_through_proxy_with_tls_options,
    polling_wrong_credentials_is_a_connect_error,
    websocket_wrong_credentials_is_a_connect_error,
    polling_no_proxy_bypasses_the_proxy,
    websocket_no_proxy_bypasses_the_proxy,
    unreachable_proxy_is_a_connect_error,
);
