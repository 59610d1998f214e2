//! Security properties of the engine: cookies are kept only for the host, path and scheme
//! that may receive them, and `Debug` output of the client, its transmits, its config and its
//! cookie jar never shows a credential (header values, the caller's query values, cookies,
//! bodies).

use std::time::Instant;

use bytes::Bytes;
use engineio_proto::{
    Client, Config, CookieJar, HttpResponse, Message, PollRequest, Transmit, TransportEvent,
};

use crate::support::*;

/// What `jar` sends after a response of its server set `cookies`.
fn kept(jar: &mut CookieJar, cookies: &[&str]) -> Option<String> {
    let now = Instant::now();
    jar.store(now, cookies.iter().copied(), None);
    jar.header(now)
}

fn jar(url: &str, path: &str) -> CookieJar {
    CookieJar::for_server(&url::Url::parse(url).unwrap(), path)
}

#[test]
fn a_domain_attribute_must_cover_the_host() {
    let mut j = jar("http://chat.example.com", "/socket.io/");
    let sent = kept(
        &mut j,
        &[
            "same=1; Domain=chat.example.com",
            "parent=1; Domain=.EXAMPLE.com",
            "none=1",
            "other=1; Domain=other.example",
            "suffix=1; Domain=ample.com",
            "child=1; Domain=eu.chat.example.com",
        ],
    );
    assert_eq!(sent.as_deref(), Some("none=1; parent=1; same=1"));
    // An IP address matches only itself.
    let mut j = jar("http://10.1.2.3:3000", "/socket.io/");
    let sent = kept(&mut j, &["ip=1; Domain=10.1.2.3", "parent=1; Domain=2.3"]);
    assert_eq!(sent.as_deref(), Some("ip=1"));
}

#[test]
fn a_path_attribute_must_cover_the_engine_path() {
    let mut j = jar("http://chat.example.com", "/socket.io/");
    let sent = kept(
        &mut j,
        &[
            "root=1; Path=/",
            "exact=1; Path=/socket.io/",
            "dir=1; Path=/socket.io",
            "relative=1; Path=socket.io",
            "admin=1; Path=/admin",
            "prefix=1; Path=/socket",
            "deeper=1; Path=/socket.io/v2",
        ],
    );
    assert_eq!(sent.as_deref(), Some("dir=1; exact=1; relative=1; root=1"));
}

#[test]
fn a_secure_cookie_is_refused_over_plain_http_except_on_loopback() {
    let secure = ["s=1; Secure", "plain=1"];
    let mut j = jar("http://chat.example.com", "/socket.io/");
    assert_eq!(kept(&mut j, &secure).as_deref(), Some("plain=1"));
    let mut j = jar("ws://chat.example.com", "/socket.io/");
    assert_eq!(kept(&mut j, &secure).as_deref(), Some("plain=1"));
    for url in [
        "https://chat.example.com",
        "wss://chat.example.com",
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
    ] {
        let mut j = jar(url, "/socket.io/");
        assert_eq!(
            kept(&mut j, &secure).as_deref(),
            Some("plain=1; s=1"),
            "{url}"
        );
    }
}

#[test]
fn the_client_keeps_only_the_cookies_meant_for_its_host_and_path() {
    let mut config = Config::new("https://chat.example.com").unwrap();
    config.path = "/socket.io".into();
    config.with_credentials = true;
    let mut h = H::new(config);
    let id = expect_get(h.drain().one());
    let d = h.open_setting_cookies(
        id,
        &[
            "lb=a; Path=/socket.io; Secure",
            "elsewhere=x; Domain=evil.example",
            "admin=x; Path=/admin",
        ],
    );
    let cookie = headers_of(d.one())
        .iter()
        .find(|(k, _)| k == "cookie")
        .map(|(_, v)| v.as_str());
    assert_eq!(cookie, Some("lb=a"));
}

#[test]
fn each_client_has_its_own_jar() {
    // Two clients (two servers): what one server set never goes to the other.
    let mut a_config = Config::new("http://a.example").unwrap();
    a_config.with_credentials = true;
    let mut b_config = Config::new("http://b.example").unwrap();
    b_config.with_credentials = true;
    let mut a = H::new(a_config);
    let mut b = H::new(b_config);
    let a_get = expect_get(a.drain().one());
    let b_get = expect_get(b.drain().one());
    let next_a = a.open_setting_cookies(a_get, &["session=of-a"]);
    assert!(
        headers_of(next_a.one())
            .iter()
            .any(|(k, v)| k == "cookie" && v == "session=of-a")
    );
    let next_b = b.get_ok(b_get, &open_polling_only());
    assert!(!headers_of(next_b.one()).iter().any(|(k, _)| k == "cookie"));
}

/// Secrets a session may carry, none of which may appear in `Debug` output.
const SECRETS: [&str; 5] = [
    "query-token-123",
    "Bearer header-secret-456",
    "cookie-secret-789",
    "auth-secret-abc",
    "user:password-def",
];

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
    // Nor the pieces of one (a header value split from its scheme).
    assert!(!text.contains("header-secret-456"), "{what}: {text}");
    assert!(!text.contains("password-def"), "{what}: {text}");
}

#[test]
fn debug_output_shows_no_credential() {
    let mut config = Config::new("http://user:password-def@chat.example.com").unwrap();
    config.query = vec![("token".into(), "query-token-123".into())];
    config.extra_headers = vec![("Authorization".into(), "Bearer header-secret-456".into())];
    config.with_credentials = true;
    let mut h = H::new(config.clone());
    let id = expect_get(h.drain().one());
    let now = h.now;
    h.client.handle_transport(
        now,
        id,
        TransportEvent::HttpResponse {
            request: PollRequest::Get,
            response: HttpResponse {
                status: 200,
                headers: vec![("set-cookie".into(), "sticky=cookie-secret-789".into())],
                body: Bytes::from(open_polling_only()),
            },
        },
    );
    // A CONNECT with auth waits in the write buffer behind the POST in flight.
    h.client
        .send(now, Message::text("first"))
        .expect("send accepted");
    h.client
        .send(now, Message::text(r#"0{"token":"auth-secret-abc"}"#))
        .expect("send accepted");
    let mut transmits = Vec::new();
    while let Some(output) = h.client.poll_output() {
        assert_no_secret("an output", &format!("{output:?}"));
        if let engineio_proto::Output::Transmit(t) = output {
            transmits.push(t);
        }
    }
    // The transmits did carry them: redaction, not absence.
    let get = transmits
        .iter()
        .find(|t| matches!(t, Transmit::HttpGet { .. }))
        .expect("the next GET");
    let url = url_of(get).as_str().to_owned();
    assert!(url.contains("query-token-123"), "{url}");
    assert!(
        headers_of(get)
            .iter()
            .any(|(_, v)| v.contains("cookie-secret-789"))
    );
    let shown = format!("{get:?}");
    assert!(shown.contains("token=%3Credacted%3E") || shown.contains("token=<redacted>"));
    assert!(
        shown.contains("authorization") || shown.contains("Authorization"),
        "{shown}"
    );
    assert!(shown.contains(SID), "the session id stays visible: {shown}");

    let client = format!("{:?}", h.client);
    assert_no_secret("the client", &client);
    assert!(
        client.contains("sticky"),
        "cookie names stay visible: {client}"
    );
    assert_no_secret("the config", &format!("{config:?}"));
    assert_no_secret("the config", &format!("{config:#?}"));
    let now = Instant::now();
    let mut jar = CookieJar::default();
    jar.store(now, ["sticky=cookie-secret-789"], None);
    assert_no_secret("the jar", &format!("{jar:?}"));
    // A client that is still opening holds its first request.
    let opening = Client::new(config, now, &mut FixedRng(1), false).unwrap();
    assert_no_secret("an opening client", &format!("{opening:#?}"));
    assert_no_secret(
        "a URL shown for a log",
        &engineio_proto::redact::display_url(&url::Url::parse(&url).unwrap()),
    );
}
