//! Through an HTTP `CONNECT` proxy (the in-test proxy of `common_proxy.rs`, shared with the
//! tokio adapter's tests) to the real Node.js server, on the async-std adapter under
//! `async_std::task::block_on`: polling, WebSocket and the upgrade go through the tunnel, wrong
//! credentials are a connect error naming the 407, and `no_proxy` goes around it.

mod common_proxy;

use std::time::Duration;

use async_std::task::block_on;
use common_proxy::{TestCerts, TestProxy, USER_PASS};
use futures_lite::{FutureExt, StreamExt};
use socketio_async_std::{
    AsyncStdRuntime, Manager, ManagerEvent, Options, ProxyOptions, Socket, SocketEvent, TlsOptions,
    TransportKind,
};
use socketio_test_kit::node::NodeServer;

/// The longest any single wait may take.
const WAIT: Duration = Duration::from_secs(10);

const POLLING: &[TransportKind] = &[TransportKind::Polling];
const WEBSOCKET: &[TransportKind] = &[TransportKind::WebSocket];
const UPGRADE: &[TransportKind] = &[TransportKind::Polling, TransportKind::WebSocket];

/// A socket on `/` through `proxy`, not yet connecting (subscribe first, then connect).
fn socket(server: &NodeServer, proxy: ProxyOptions, transports: &[TransportKind]) -> Socket {
    socket_with(
        AsyncStdRuntime::new().expect("runtime").with_proxy(proxy),
        &server.url(),
        transports,
    )
}

/// A socket on `/` of `url` on `runtime`, not yet connecting.
fn socket_with(runtime: AsyncStdRuntime, url: &str, transports: &[TransportKind]) -> Socket {
    let options = Options::default()
        .transports(transports.to_vec())
        .force_new(true)
        .reconnection(false)
        .auto_connect(false);
    Manager::new(url, options, runtime.shared())
        .expect("manager")
        .socket("/")
        .expect("socket")
}

async fn within<F: std::future::Future>(future: F) -> F::Output {
    future
        .or(async {
            async_io::Timer::after(WAIT).await;
            panic!("timed out")
        })
        .await
}

/// Connects and waits for the outcome: `Ok` on connect, the error text on a connect error.
async fn connect(socket: &Socket) -> Result<(), String> {
    let mut events = socket.events();
    socket.connect();
    within(async {
        loop {
            match events.next().await.expect("event stream open") {
                SocketEvent::Connect { .. } => return Ok(()),
                SocketEvent::ConnectError(e) => return Err(e.to_string()),
                _ => {}
            }
        }
    })
    .await
}

async fn echo(socket: &Socket) {
    let (word, n): (String, u32) = within(socket.emit_with_ack("echo", ("through the proxy", 7)))
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

#[test]
fn polling_through_proxy_with_credentials_in_the_url() {
    block_on(async {
        let server = NodeServer::start(&[]);
        let proxy = TestProxy::start(Some(USER_PASS));
        let url = proxy.url().replace("http://", "http://user:pass@");
        let socket = socket(&server, ProxyOptions::new(&url).expect("proxy"), POLLING);
        connect(&socket).await.expect("connected");
        echo(&socket).await;
        assert_tunnelled(&proxy, &server);
    });
}

#[test]
fn websocket_through_proxy_with_credentials() {
    block_on(async {
        let server = NodeServer::start(&[]);
        let proxy = TestProxy::start(Some(USER_PASS));
        let options = ProxyOptions::new(&proxy.url())
            .expect("proxy")
            .credentials("user", "pass");
        let socket = socket(&server, options, WEBSOCKET);
        connect(&socket).await.expect("connected");
        echo(&socket).await;
        assert_tunnelled(&proxy, &server);
    });
}

#[test]
fn upgrade_through_proxy() {
    block_on(async {
        let server = NodeServer::start(&[]);
        let proxy = TestProxy::start(None);
        let socket = socket(
            &server,
            ProxyOptions::new(&proxy.url()).expect("proxy"),
            UPGRADE,
        );
        let mut manager_events = socket.io().events();
        connect(&socket).await.expect("connected");
        within(async {
            while let Some(event) = manager_events.next().await {
                if event == ManagerEvent::Upgrade(TransportKind::WebSocket) {
                    return;
                }
            }
            panic!("manager events ended");
        })
        .await;
        echo(&socket).await;
        // Polling's connections and the WebSocket's: at least two tunnels.
        assert!(proxy.targets().len() >= 2, "{:?}", proxy.targets());
        assert_tunnelled(&proxy, &server);
    });
}

#[test]
fn https_and_wss_through_proxy_with_tls_options() {
    block_on(async {
        let certs = TestCerts::generate();
        let (key, cert) = (certs.path("server.key"), certs.path("server.pem"));
        let server = NodeServer::start(&[("TLS_KEY", &key), ("TLS_CERT", &cert)]);
        let proxy = TestProxy::start(Some(USER_PASS));
        let mut tls = TlsOptions::default();
        tls.ca.push(certs.ca_pem());
        // TLS options and the proxy compose: TLS runs end to end inside the tunnel, verifying the
        // server's certificate for 127.0.0.1 (not the proxy's name).
        let runtime = AsyncStdRuntime::with_tls(&tls)
            .expect("TLS options")
            .with_proxy(
                ProxyOptions::new(&proxy.url())
                    .expect("proxy")
                    .credentials("user", "pass"),
            );
        let socket = socket_with(
            runtime,
            &format!("https://127.0.0.1:{}", server.port),
            UPGRADE,
        );
        let mut manager_events = socket.io().events();
        connect(&socket).await.expect("connected over https");
        within(async {
            while let Some(event) = manager_events.next().await {
                if event == ManagerEvent::Upgrade(TransportKind::WebSocket) {
                    return;
                }
            }
            panic!("manager events ended");
        })
        .await;
        echo(&socket).await;
        assert!(proxy.targets().len() >= 2, "{:?}", proxy.targets());
        assert_tunnelled(&proxy, &server);
    });
}

async fn wrong_credentials(transports: &[TransportKind]) {
    let server = NodeServer::start(&[]);
    let proxy = TestProxy::start(Some(USER_PASS));
    let options = ProxyOptions::new(&proxy.url())
        .expect("proxy")
        .credentials("user", "wrong-secret");
    let socket = socket(&server, options, transports);
    let error = connect(&socket).await.expect_err("refused");
    assert!(error.contains("407"), "{error}");
    assert!(
        error.contains("proxy refused CONNECT: 407 Proxy Authentication Required"),
        "{error}"
    );
    assert!(!error.contains("wrong-secret"), "{error}");
    assert_tunnelled(&proxy, &server);
}

#[test]
fn polling_wrong_credentials_is_a_connect_error() {
    block_on(async {
        wrong_credentials(POLLING).await;
    });
}

#[test]
fn websocket_wrong_credentials_is_a_connect_error() {
    block_on(async {
        wrong_credentials(WEBSOCKET).await;
    });
}

async fn no_proxy_bypasses(transports: &[TransportKind]) {
    let server = NodeServer::start(&[]);
    // It would refuse us (no credentials): connecting proves it was not used.
    let proxy = TestProxy::start(Some(USER_PASS));
    let options = ProxyOptions::new(&proxy.url())
        .expect("proxy")
        .no_proxy(["localhost", "127.0.0.1"]);
    let socket = socket(&server, options, transports);
    connect(&socket).await.expect("connected");
    echo(&socket).await;
    assert_eq!(proxy.targets(), Vec::<String>::new());
}

#[test]
fn polling_no_proxy_bypasses_the_proxy() {
    block_on(async {
        no_proxy_bypasses(POLLING).await;
    });
}

#[test]
fn websocket_no_proxy_bypasses_the_proxy() {
    block_on(async {
        no_proxy_bypasses(WEBSOCKET).await;
    });
}

#[test]
fn unreachable_proxy_is_a_connect_error() {
    block_on(async {
        let server = NodeServer::start(&[]);
        // A port nothing listens on: bind, note it, release it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let options = ProxyOptions::new(&format!("http://127.0.0.1:{port}")).expect("proxy");
        let socket = socket(&server, options, POLLING);
        let error = connect(&socket).await.expect_err("no proxy there");
        assert!(
            error.contains(&format!("proxy 127.0.0.1:{port}: connect")),
            "{error}"
        );
    });
}
