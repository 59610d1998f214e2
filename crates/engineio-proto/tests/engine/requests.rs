//! Request building: URLs (scheme, path, query order, cache-buster, `b64`) and headers.

use engineio_proto::{Config, Transmit, TransportKind};

use crate::support::*;

fn first_transmit(config: Config) -> Transmit {
    let mut h = H::new(config);
    h.drain().one().clone()
}

fn first_url(config: Config) -> url::Url {
    url_of(&first_transmit(config)).clone()
}

fn ws_only(mut config: Config) -> Config {
    config.transports = vec![TransportKind::WebSocket];
    config
}

#[test]
fn the_handshake_get_looks_like_the_reference() {
    let url = first_url(config());
    assert_eq!(url.scheme(), "http");
    assert_eq!(url.host_str(), Some("localhost"));
    assert_eq!(url.port(), Some(3000));
    assert_eq!(url.path(), "/engine.io/");
    assert_eq!(query_keys(&url), ["EIO", "transport", "t"]);
    let q = query(&url);
    assert_eq!(q[0].1, "4");
    assert_eq!(q[1].1, "polling");
    // The cache-buster is 8 characters of base 36, like `dctaedp0`.
    assert_eq!(q[2].1.len(), 8);
    assert!(
        q[2].1
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    );
}

#[test]
fn user_query_comes_first_then_eio_transport_t_sid() {
    let mut c = config();
    c.query = vec![("token".into(), "a b&c".into()), ("x".into(), "1".into())];
    let mut h = H::new(c);
    let first = h.drain();
    let url = url_of(first.one()).clone();
    assert_eq!(query_keys(&url), ["token", "x", "EIO", "transport", "t"]);
    assert_eq!(
        query(&url)[0],
        ("token".into(), "a b&c".into()),
        "values are encoded"
    );

    let id = expect_get(first.one());
    let d = h.get_ok(id, &open_polling_only());
    let get = url_of(&d.transmits[0]).clone();
    assert_eq!(
        query_keys(&get),
        ["token", "x", "EIO", "transport", "t", "sid"]
    );
    assert_eq!(query(&get)[5].1, SID);

    let post = h.send_text("hi");
    let url = url_of(post.one()).clone();
    assert_eq!(
        query_keys(&url),
        ["token", "x", "EIO", "transport", "t", "sid"]
    );
    // Every request carries a fresh cache-buster.
    assert_ne!(query(&url)[4].1, query(&get)[4].1);
}

#[test]
fn the_path_is_normalised_like_the_reference() {
    let cases = [
        ("/socket.io", true, "/socket.io/"),
        ("/socket.io/", true, "/socket.io/"),
        ("/socket.io", false, "/socket.io"),
        ("/socket.io/", false, "/socket.io"),
        ("socket.io", true, "/socket.io/"),
        ("/engine.io", false, "/engine.io"),
        ("/", true, "/"),
        ("/", false, "/"),
        ("", true, "/"),
        ("/a/b/", true, "/a/b/"),
    ];
    for (path, slash, expected) in cases {
        let mut c = config();
        c.path = path.into();
        c.add_trailing_slash = slash;
        assert_eq!(
            first_url(c.clone()).path(),
            expected,
            "polling {path:?} {slash}"
        );
        assert_eq!(
            first_url(ws_only(c)).path(),
            expected,
            "websocket {path:?} {slash}"
        );
    }
}

#[test]
fn the_server_url_path_query_and_fragment_are_ignored() {
    let c = Config::new("http://localhost:3000/ignored?a=1#frag").unwrap();
    let url = first_url(c);
    assert_eq!(url.path(), "/engine.io/");
    assert_eq!(query_keys(&url), ["EIO", "transport", "t"]);
    assert_eq!(url.fragment(), None);
}

#[test]
fn timestamps_follow_the_reference_defaults_and_overrides() {
    // None: every polling request, never the WebSocket.
    let has_t = |c: Config| query_keys(&first_url(c)).contains(&"t".to_owned());
    assert!(has_t(config()));
    assert!(!has_t(ws_only(config())));
    let mut on = config();
    on.timestamp_requests = Some(true);
    assert!(has_t(on.clone()));
    assert!(has_t(ws_only(on)));
    let mut off = config();
    off.timestamp_requests = Some(false);
    assert!(!has_t(off.clone()));
    assert!(!has_t(ws_only(off)));
}

#[test]
fn the_timestamp_param_name_is_configurable() {
    let mut c = config();
    c.timestamp_param = "ts".into();
    assert_eq!(query_keys(&first_url(c)), ["EIO", "transport", "ts"]);
}

#[test]
fn the_probe_url_carries_the_sid_and_no_timestamp() {
    let mut h = H::new(config());
    let (_, d) = h.handshake_polling(&open_packet(&["websocket"], 25_000, 20_000, 1_000_000));
    let probe = d
        .transmits
        .iter()
        .find(|t| matches!(t, Transmit::WsOpen { .. }))
        .expect("a probe");
    let url = url_of(probe);
    assert_eq!(url.scheme(), "ws");
    assert_eq!(
        url.as_str(),
        format!("ws://localhost:3000/engine.io/?EIO=4&transport=websocket&sid={SID}")
    );
}

#[test]
fn force_base64_adds_b64_on_the_polling_handshake_and_every_websocket() {
    let mut c = config();
    c.force_base64 = true;
    let mut h = H::new(c.clone());
    let first = h.drain();
    assert_eq!(
        query_keys(url_of(first.one())),
        ["EIO", "transport", "t", "b64"]
    );
    assert_eq!(query(url_of(first.one()))[3].1, "1");
    let d = h.get_ok(expect_get(first.one()), &open_polling_only());
    // Once the sid exists the polling requests no longer say it.
    assert_eq!(
        query_keys(url_of(&d.transmits[0])),
        ["EIO", "transport", "t", "sid"]
    );

    assert_eq!(
        query_keys(&first_url(ws_only(c))),
        ["EIO", "transport", "b64"]
    );
}

#[test]
fn secure_urls_map_to_https_and_wss() {
    let cases = [
        ("http://example.com", "http", "ws"),
        ("https://example.com", "https", "wss"),
        ("ws://example.com", "http", "ws"),
        ("wss://example.com", "https", "wss"),
    ];
    for (server, polling, websocket) in cases {
        let c = Config::new(server).unwrap();
        assert_eq!(first_url(c.clone()).scheme(), polling, "{server}");
        let ws = first_url(ws_only(c));
        assert_eq!(ws.scheme(), websocket, "{server}");
        assert_eq!(ws.port(), None, "default port stays implicit for {server}");
    }
    let ws = first_url(ws_only(Config::new("https://example.com:8443").unwrap()));
    assert_eq!(
        ws.as_str(),
        "wss://example.com:8443/engine.io/?EIO=4&transport=websocket"
    );
    assert!(Config::new("https://example.com").unwrap().secure());
    assert!(!Config::new("ws://example.com").unwrap().secure());
}

#[test]
fn ipv6_hosts_keep_their_brackets() {
    let url = first_url(Config::new("http://[::1]:3000").unwrap());
    assert_eq!(
        url.as_str().split('?').next().unwrap(),
        "http://[::1]:3000/engine.io/"
    );
}

#[test]
fn extra_headers_go_on_every_request_and_the_post_says_text_plain() {
    let mut c = config();
    c.extra_headers = vec![("x-token".into(), "abc".into())];
    c.protocols = vec!["chat".into()];
    let mut h = H::new(c.clone());
    let first = h.drain();
    assert_eq!(
        headers_of(first.one()),
        [("x-token".to_owned(), "abc".to_owned())]
    );
    let d = h.get_ok(expect_get(first.one()), &open_polling_only());
    assert_eq!(
        headers_of(&d.transmits[0]),
        [("x-token".to_owned(), "abc".to_owned())]
    );
    let post = h.send_text("x");
    assert_eq!(
        headers_of(post.one()),
        [
            ("x-token".to_owned(), "abc".to_owned()),
            (
                "content-type".to_owned(),
                "text/plain;charset=UTF-8".to_owned()
            ),
        ]
    );

    let Transmit::WsOpen {
        headers, protocols, ..
    } = first_transmit(ws_only(c))
    else {
        panic!()
    };
    assert_eq!(headers, [("x-token".to_owned(), "abc".to_owned())]);
    assert_eq!(protocols, ["chat"]);
}
