//! Secrets stay out of logs and `Debug` output. A whole session (reconnection and a transport
//! error included) runs with auth, a query token, an `Authorization` header, a cookie the
//! server sets and a URL password, under a subscriber that captures every `tracing` event and
//! span of every level (TRACE included: no level of this client logs a credential); and the
//! `Debug` output of every option and handle that holds one is checked by formatting it.
//! (TLS verification by default: `tls::default_options_refuse_an_unknown_chain`,
//! `tls::a_certificate_for_another_name_is_refused`, `bad_input::an_expired_certificate_is_
//! refused`. Cookie scope: the engine tests `security::*`.)

#[path = "support/scripted.rs"]
mod scripted;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use scripted::{Reply, Scripted, open_packet};
use serde_json::json;
use socketio_async::Options;
use socketio_async::proxy::ProxyOptions;
use socketio_async::runtime::{HttpRequest, WsRequest};
use socketio_async::tls::TlsOptions;
use socketio_interop::{Rt, on_every_runtime, options};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const SECRETS: [&str; 6] = [
    "query-token-123",
    "header-secret-456",
    "cookie-secret-789",
    "auth-secret-abc",
    "password-def",
    "passphrase-ghi",
];

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
}

/// Every event and span of every level, formatted with all its fields.
#[derive(Default)]
struct Capture {
    lines: Mutex<Vec<String>>,
    next_span: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

#[derive(Clone)]
struct Shared(Arc<Capture>);

impl Shared {
    fn push(&self, line: String) {
        self.0.lines.lock().unwrap().push(line);
    }
}

impl Subscriber for Shared {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = format!(
            "{} span {}:",
            span.metadata().level(),
            span.metadata().name()
        );
        span.record(&mut Fields(&mut line));
        self.push(line);
        Id::from_u64(self.0.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = "record:".to_owned();
        values.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = format!("{} {}:", meta.level(), meta.target());
        event.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The process-wide capture (one subscriber for every thread of every runtime).
fn capture() -> &'static Shared {
    static CAPTURE: OnceLock<Shared> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let shared = Shared(Arc::default());
        tracing::subscriber::set_global_default(shared.clone()).expect("the only subscriber");
        shared
    })
}

/// A polling server that sets a cookie on the handshake, connects the namespace, then fails
/// every second GET with a 400 (a transport error, then a reconnection).
fn server() -> Scripted {
    let gets = AtomicUsize::new(0);
    Scripted::start(move |request| {
        if request.method == "POST" {
            return Reply::ok("ok");
        }
        if !request.has_sid() {
            return Reply::Full {
                status: 200,
                headers: vec![(
                    "set-cookie".into(),
                    "session=cookie-secret-789; Path=/; HttpOnly".into(),
                )],
                body: open_packet(25_000, 20_000).into_bytes(),
            };
        }
        if gets.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
            Reply::ok(r#"40{"sid":"scripted-socket"}"#)
        } else {
            Reply::status(400, r#"{"code":1,"message":"Session ID unknown"}"#)
        }
    })
}

async fn no_level_of_the_logs_shows_a_credential(rt: Rt) {
    let capture = capture();
    let server = server();
    let url = format!(
        "http://user:password-def@127.0.0.1:{}/?token=query-token-123",
        server.port
    );
    let opts = options("polling")
        .auth(json!({"token": "auth-secret-abc"}))
        .extra_header("Authorization", "Bearer header-secret-456")
        .with_credentials(true)
        .reconnection_delay(Duration::from_millis(10))
        .reconnection_delay_max(Duration::from_millis(10));
    let socket = rt.io(&url, opts).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    rt.disconnected(&mut events).await;
    rt.connected(&socket, &mut events).await;
    drop(socket);
    // The secrets were in play: sent to the server.
    let requests = server.requests();
    let sent = |name: &str, secret: &str| {
        requests
            .iter()
            .any(|r| r.header(name).is_some_and(|v| v.contains(secret)))
    };
    assert!(sent("authorization", "header-secret-456"));
    assert!(sent("cookie", "cookie-secret-789"));
    assert!(
        requests
            .iter()
            .any(|r| r.target.contains("query-token-123"))
    );
    // And the logs saw the session, every level, without one of them.
    let lines = capture.0.lines.lock().unwrap().clone();
    let logged = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(logged("span socketio"), "{lines:#?}");
    assert!(logged("namespace connected"), "{lines:#?}");
    assert!(logged("connection closed"), "{lines:#?}");
    assert!(
        logged("HTTP 400"),
        "the error's description is logged: {lines:#?}"
    );
    for line in &lines {
        assert_no_secret("a log line", line);
    }
}

async fn debug_output_of_options_and_handles_shows_no_credential(rt: Rt) {
    let opts = Options::default()
        .auth(json!({"token": "auth-secret-abc"}))
        .query("token", "query-token-123")
        .extra_header("Authorization", "Bearer header-secret-456")
        .extra_header("Cookie", "session=cookie-secret-789")
        .auto_connect(false);
    let shown = format!("{opts:?} {opts:#?}");
    assert_no_secret("Options", &shown);
    assert!(
        shown.contains("Authorization") && shown.contains("token"),
        "{shown}"
    );

    let mut tls = TlsOptions::default();
    tls.key = Some(b"-----BEGIN PRIVATE KEY-----passphrase-ghi".to_vec());
    tls.pfx = Some(b"passphrase-ghi".to_vec());
    tls.passphrase = Some("passphrase-ghi".into());
    assert_no_secret("TlsOptions", &format!("{tls:?} {tls:#?}"));

    let proxy = ProxyOptions::new("http://user:password-def@proxy.test:3128").expect("proxy");
    assert_no_secret("ProxyOptions", &format!("{proxy:?} {proxy:#?}"));
    assert!(format!("{proxy:?}").contains("proxy.test:3128"));

    let url = "http://user:password-def@127.0.0.1:9/chat?token=query-token-123";
    let socket = rt.io(url, opts).expect("io");
    assert_no_secret("Manager", &format!("{:?} {:#?}", socket.io(), socket.io()));
    assert_no_secret("Socket", &format!("{socket:?} {socket:#?}"));

    let request_url = url::Url::parse(url).expect("url");
    let headers = vec![
        (
            "authorization".to_owned(),
            "Bearer header-secret-456".to_owned(),
        ),
        ("cookie".to_owned(), "session=cookie-secret-789".to_owned()),
    ];
    let http = HttpRequest {
        post: true,
        url: request_url.clone(),
        headers: headers.clone(),
        body: bytes::Bytes::from_static(br#"40{"token":"auth-secret-abc"}"#),
        max_body: 1 << 20,
    };
    assert_no_secret("HttpRequest", &format!("{http:?} {http:#?}"));
    let ws = WsRequest {
        url: request_url,
        headers,
        protocols: Vec::new(),
        max_message: 1 << 20,
    };
    assert_no_secret("WsRequest", &format!("{ws:?} {ws:#?}"));
}

on_every_runtime!(
    no_level_of_the_logs_shows_a_credential,
    debug_output_of_options_and_handles_shows_no_credential,
);
