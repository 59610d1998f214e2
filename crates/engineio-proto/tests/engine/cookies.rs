//! The cookie jar behind `with_credentials` (engine.io-client's node tests: `cookie: 1=1; 2=2`).

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use engineio_proto::{CookieJar, HttpResponse, PollRequest, TransportEvent};

use crate::support::*;

const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

fn reference_set_cookies(date: &str) -> Vec<String> {
    vec![
        "1=1; Max-Age=86400".into(),
        "2=2; Path=/; HttpOnly; Secure; SameSite=Strict".into(),
        "3=3; Max-Age=0".into(),
        format!("4=4; Expires={date}"),
    ]
}

#[test]
fn the_reference_expectation_keeps_1_and_2() {
    let now = Instant::now();
    let mut jar = CookieJar::default();
    let set = reference_set_cookies(DATE);
    jar.store(now, set.iter().map(String::as_str), Some(DATE));
    assert_eq!(jar.header(now).as_deref(), Some("1=1; 2=2"));
}

#[test]
fn max_age_expires_over_virtual_time() {
    let t0 = Instant::now();
    let mut jar = CookieJar::default();
    jar.store(t0, ["a=1; Max-Age=10", "b=2"], None);
    assert_eq!(
        jar.header(t0 + Duration::from_millis(9_999)).as_deref(),
        Some("a=1; b=2")
    );
    assert_eq!(
        jar.header(t0 + Duration::from_secs(10)).as_deref(),
        Some("b=2")
    );
    jar.store(t0 + Duration::from_secs(11), ["b=2; Max-Age=-1"], None);
    assert_eq!(jar.header(t0 + Duration::from_secs(11)), None);
    assert!(jar.is_empty());
}

#[test]
fn expires_is_measured_against_the_response_date() {
    let t0 = Instant::now();
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let in_a_minute = httpdate::fmt_http_date(date + Duration::from_secs(60));
    let an_hour_ago = httpdate::fmt_http_date(date - Duration::from_secs(3600));
    let mut jar = CookieJar::default();
    let set = [
        format!("late=1; Expires={in_a_minute}"),
        format!("gone=1; Expires={an_hour_ago}"),
    ];
    jar.store(
        t0,
        set.iter().map(String::as_str),
        Some(&httpdate::fmt_http_date(date)),
    );
    assert_eq!(
        jar.header(t0 + Duration::from_secs(59)).as_deref(),
        Some("late=1")
    );
    assert_eq!(jar.header(t0 + Duration::from_secs(60)), None);
    // Without a Date header an Expires cookie lives for the session.
    let mut jar = CookieJar::default();
    jar.store(t0, [format!("s=1; Expires={an_hour_ago}").as_str()], None);
    assert_eq!(
        jar.header(t0 + Duration::from_secs(1 << 20)).as_deref(),
        Some("s=1")
    );
}

#[test]
fn max_age_wins_over_expires_and_later_cookies_replace_earlier_ones() {
    let t0 = Instant::now();
    let mut jar = CookieJar::default();
    let set = [format!("a=1; Expires={DATE}; Max-Age=100"), "b=1".into()];
    jar.store(t0, set.iter().map(String::as_str), Some(DATE));
    jar.store(t0, ["b=2"], None);
    assert_eq!(jar.header(t0).as_deref(), Some("a=1; b=2"));
    jar.store(t0, ["a=; Max-Age=0"], None);
    assert_eq!(jar.header(t0).as_deref(), Some("b=2"));
}

#[test]
fn malformed_set_cookies_are_ignored() {
    let t0 = Instant::now();
    let mut jar = CookieJar::default();
    jar.store(
        t0,
        [
            "novalue",
            "=x",
            "a=b\u{1}",
            " c = d ; Max-Age=oops",
            "e=\"quoted\"",
        ],
        None,
    );
    assert_eq!(jar.header(t0).as_deref(), Some("c=d; e=\"quoted\""));
}

fn credentials_config() -> engineio_proto::Config {
    let mut c = config();
    c.with_credentials = true;
    c
}

fn cookie_of(t: &engineio_proto::Transmit) -> Option<&str> {
    headers_of(t)
        .iter()
        .find(|(k, _)| k == "cookie")
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_client_sends_back_what_the_server_set() {
    let mut h = H::new(credentials_config());
    let first = h.drain();
    assert_eq!(cookie_of(first.one()), None);
    let id = expect_get(first.one());
    let mut headers: Vec<(String, String)> = reference_set_cookies(DATE)
        .into_iter()
        .map(|v| ("Set-Cookie".to_owned(), v))
        .collect();
    headers.push(("Date".into(), DATE.into()));
    let open = open_packet(&["websocket"], 25_000, 20_000, 1_000_000);
    let now = h.now;
    h.client.handle_transport(
        now,
        id,
        TransportEvent::HttpResponse {
            request: PollRequest::Get,
            response: HttpResponse {
                status: 200,
                headers,
                body: Bytes::from(open),
            },
        },
    );
    let d = h.drain();
    // The probe's WebSocket handshake and the next GET both carry the jar.
    assert_eq!(d.transmits.len(), 2, "{:#?}", d.all);
    for t in &d.transmits {
        assert_eq!(cookie_of(t), Some("1=1; 2=2"), "{t:?}");
    }
    let post = h.send_text("x");
    assert_eq!(cookie_of(post.one()), Some("1=1; 2=2"));
}

#[test]
fn cookies_from_the_websocket_handshake_are_kept() {
    let mut h = H::new(credentials_config());
    let (_, d) = h.handshake_polling(&open_packet(&["websocket"], 25_000, 20_000, 0));
    let probe = expect_ws_open(&d.transmits[0]);
    let now = h.now;
    h.client.handle_transport(
        now,
        probe,
        TransportEvent::WsOpen {
            headers: vec![("set-cookie".into(), "lb=node-2; Max-Age=60".into())],
        },
    );
    let d = h.drain();
    assert_eq!(expect_ws_send(d.one()).1, "2probe");
    let post = h.send_text("x");
    assert_eq!(cookie_of(post.one()), Some("lb=node-2"));
}

#[test]
fn without_credentials_cookies_are_neither_kept_nor_sent() {
    let mut h = H::new(config());
    let id = expect_get(h.drain().one());
    let d = h.open_setting_cookies(id, &["a=1"]);
    assert_eq!(cookie_of(&d.transmits[0]), None);
}

#[test]
fn max_age_expiry_shows_on_later_requests() {
    let mut h = H::new(credentials_config());
    let id = expect_get(h.drain().one());
    let d = h.open_setting_cookies(id, &["short=1; Max-Age=5", "long=1; Max-Age=500"]);
    assert_eq!(cookie_of(&d.transmits[0]), Some("long=1; short=1"));
    h.at(5_000);
    let post = h.send_text("x");
    assert_eq!(cookie_of(post.one()), Some("long=1"));
}
