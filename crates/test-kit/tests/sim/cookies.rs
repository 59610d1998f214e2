//! Cookies set by the server come back on later requests (sticky sessions).

use std::time::Duration;

use engineio_proto::TransportKind;
use socketio_test_kit::{Method, Silent, header, http_date_at};

use crate::support::*;

fn cookie_headers<A>(sim: &EngineSim<A>) -> Vec<Option<String>> {
    sim.transcript()
        .requests()
        .map(|(_, _, _, headers, _)| header(headers, "cookie").map(str::to_owned))
        .collect()
}

#[test]
fn the_reference_cookies_come_back_as_1_and_2() {
    let mut server = server_config(&["c"]);
    // The handshake response goes out at 1 ms: its Date is the start of the simulated day.
    server.handshake_cookies = vec![
        "1=1; Max-Age=86400".into(),
        "2=2; Path=/; HttpOnly; Secure; SameSite=Strict".into(),
        "3=3; Max-Age=0".into(),
        format!("4=4; Expires={}", http_date_at(Duration::ZERO)),
    ];
    let mut client = client_config(&[TransportKind::Polling, TransportKind::WebSocket]);
    client.with_credentials = true;
    let mut sim = sim(51, server, Silent, client);
    open(&mut sim);
    send(&mut sim, "x");
    sim.run_for(Duration::from_millis(20));
    let cookies = cookie_headers(&sim);
    assert_eq!(cookies[0], None, "nothing to send on the handshake");
    assert!(cookies.len() >= 3);
    for c in &cookies[1..] {
        assert_eq!(c.as_deref(), Some("1=1; 2=2"));
    }
    // The probe's WebSocket handshake carries them too.
    let ws = sim
        .transcript()
        .entries()
        .iter()
        .find_map(|e| match &e.record {
            socketio_test_kit::Record::WsConnect { headers, .. } => Some(headers.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(header(&ws, "cookie"), Some("1=1; 2=2"));
}

#[test]
fn cookies_expire_over_virtual_time() {
    let mut server = server_config(&["e"]).with_heartbeat(10_000, 5_000);
    server.handshake_cookies = vec!["short=1; Max-Age=15".into(), "long=1; Max-Age=3600".into()];
    let mut client = client_config(&[TransportKind::Polling]);
    client.with_credentials = true;
    let mut sim = sim(52, server, Silent, client);
    sim.run_for(Duration::from_secs(40));
    let posts: Vec<(Duration, Option<String>)> = sim
        .transcript()
        .requests()
        .filter(|(_, m, ..)| *m == Method::Post)
        .map(|(e, _, _, headers, _)| (e.at, header(headers, "cookie").map(str::to_owned)))
        .collect();
    // Pongs at ~10 s, ~20 s, ~30 s: the first still carries `short`.
    assert_eq!(posts.len(), 3, "{posts:?}");
    assert_eq!(posts[0].1.as_deref(), Some("long=1; short=1"));
    assert_eq!(posts[1].1.as_deref(), Some("long=1"));
    assert_eq!(posts[2].1.as_deref(), Some("long=1"));
}

#[test]
fn without_credentials_no_cookie_is_sent() {
    let mut server = server_config(&["n"]);
    server.handshake_cookies = vec!["1=1".into()];
    let mut sim = sim(53, server, Silent, client_config(&[TransportKind::Polling]));
    open(&mut sim);
    sim.run_for(Duration::from_millis(20));
    assert!(cookie_headers(&sim).iter().all(Option::is_none));
}
