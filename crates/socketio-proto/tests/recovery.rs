//! Connection state recovery: pid and offset tracking, missed events replayed before the
//! CONNECT reply, `recovered`.

mod support;

use std::time::Duration;

use socketio_proto::{Event, SocketConfig};
use support::{Harness, config};

fn messages(events: &[Event]) -> Vec<(String, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message {
                payload, offset, ..
            } => Some((
                String::from_utf8_lossy(payload.json()).into_owned(),
                offset.clone(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn recovers_the_session_with_missed_events_in_order() {
    let mut h = Harness::new(config());
    let now = h.now;
    let mut socket = h
        .manager
        .add_socket("/", SocketConfig::default())
        .expect("socket");
    socket
        .set_auth(Some(
            socketio_proto::codec::Payload::from_serialize(&serde_json::json!({"token": "abc"}))
                .expect("payload"),
        ))
        .expect("auth");
    socket.connect(now);
    h.drain();
    h.accept();
    assert_eq!(h.take_sent(), [r#"40{"token":"abc"}"#]);
    h.frame(r#"40{"sid":"3AJoW4ArLGb-SgisAAAA","pid":"Ljut4XbUc3FpTvMOAAAB"}"#);
    h.frame(r#"42["hello","world","Q8JfXQM"]"#);
    assert_eq!(
        messages(&h.take_events()),
        [(r#"["hello","world"]"#.into(), Some("Q8JfXQM".into()))],
        "the offset is taken off the arguments"
    );
    // An event with an ack id carries no offset.
    h.frame(r#"421["ask","keep-me"]"#);
    assert_eq!(
        messages(&h.take_events()),
        [(r#"["ask","keep-me"]"#.into(), None)]
    );

    h.drop_ws(None);
    while h.ws.is_none() {
        assert!(h.step(Duration::from_secs(10)));
    }
    h.accept();
    assert_eq!(
        h.take_sent(),
        [r#"40{"pid":"Ljut4XbUc3FpTvMOAAAB","offset":"Q8JfXQM","token":"abc"}"#]
    );
    h.take_events();
    // Missed packets come before the CONNECT reply.
    h.frame(r#"42["hello1","a","off1"]"#);
    h.frame(r#"42["hello2","b","off2"]"#);
    assert!(
        messages(&h.take_events()).is_empty(),
        "held until the reply"
    );
    h.frame(r#"40{"sid":"3AJoW4ArLGb-SgisAAAA","pid":"Ljut4XbUc3FpTvMOAAAB"}"#);
    let events = h.take_events();
    assert_eq!(
        messages(&events),
        [
            (r#"["hello1","a"]"#.into(), Some("off1".into())),
            (r#"["hello2","b"]"#.into(), Some("off2".into()))
        ]
    );
    assert!(events.contains(&Event::Connect {
        nsp: "/".into(),
        sid: "3AJoW4ArLGb-SgisAAAA".into(),
        recovered: true
    }));
    let connect_at = events
        .iter()
        .position(|e| matches!(e, Event::Connect { .. }));
    let last_message = events
        .iter()
        .rposition(|e| matches!(e, Event::Message { .. }));
    assert!(
        last_message < connect_at,
        "missed events are delivered before connect"
    );
    assert!(h.manager.socket("/").expect("socket").recovered());
}

#[test]
fn a_new_pid_means_not_recovered() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame(r#"40{"sid":"s1","pid":"p1"}"#); // ignored: already connected
    h.drop_ws(None);
    while h.ws.is_none() {
        assert!(h.step(Duration::from_secs(10)));
    }
    h.accept();
    h.frame(r#"40{"sid":"s2","pid":"p2"}"#);
    assert!(!h.manager.socket("/").expect("socket").recovered());
}

#[test]
fn without_pid_offsets_stay_in_the_arguments() {
    let mut h = Harness::connected(config(), SocketConfig::default());
    h.frame(r#"42["hello","world"]"#);
    assert_eq!(
        messages(&h.take_events()),
        [(r#"["hello","world"]"#.into(), None)]
    );
}
