//! The captured sessions of protocol.md 2.8, replayed at the Engine.IO level.

use std::time::Duration;

use bytes::Bytes;
use engineio_proto::{Event, Message, TransportKind};
use socketio_test_kit::{Side, Silent};

use crate::support::*;

const SID: &str = "F-u0OIq_O9rLDLoFAAAA";

fn connect_reply() -> Script {
    Script {
        connect_reply: vec![
            Message::text(r#"0{"sid":"hzMUBRas4q7N7nqMAAAA"}"#),
            Message::text(r#"51-["bin",{"_placeholder":true,"num":0}]"#),
            Message::Binary(Bytes::from_static(&[1, 2, 3, 4])),
        ],
    }
}

#[test]
fn the_polling_only_session_of_the_capture() {
    let server = server_config(&[SID]).with_heartbeat(400, 300);
    let mut sim = sim(
        1,
        server,
        connect_reply(),
        client_config(&[TransportKind::Polling]),
    );
    open(&mut sim);
    send(&mut sim, "0");
    assert!(sim.run_until(Duration::from_secs(1), |s| received(s).len() == 3));
    assert_eq!(
        received(&sim),
        [
            r#"0{"sid":"hzMUBRas4q7N7nqMAAAA"}"#,
            r#"51-["bin",{"_placeholder":true,"num":0}]"#,
            "<01 02 03 04>"
        ]
    );
    send(&mut sim, r#"2["a","x"]"#);
    send(&mut sim, r#"2["b","€"]"#);
    send(&mut sim, r#"51-["c",{"_placeholder":true,"num":0}]"#);
    send_binary(&mut sim, &[5, 6]);
    // Two heartbeats.
    sim.run_for(Duration::from_millis(850));
    send(&mut sim, "1");
    sim.with_client(|c, now| c.close(now));
    sim.run_for(Duration::from_millis(20));

    let q = format!("EIO=4&transport=polling&t=*&sid={SID}");
    let expected = [
        "C→S #1 GET /socket.io/?EIO=4&transport=polling&t=*".to_owned(),
        format!(
            r#"S→C #1 200 0{{"sid":"{SID}","upgrades":["websocket"],"pingInterval":400,"pingTimeout":300,"maxPayload":1000000}}"#
        ),
        format!("C→S #2 GET /socket.io/?{q}"),
        format!("C→S #3 POST /socket.io/?{q} 40"),
        "S→C #2 200 40{\"sid\":\"hzMUBRas4q7N7nqMAAAA\"}\x1e451-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1ebAQIDBA==".to_owned(),
        "S→C #3 200 ok".to_owned(),
        format!("C→S #4 GET /socket.io/?{q}"),
        format!("C→S #5 POST /socket.io/?{q} 42[\"a\",\"x\"]"),
        "S→C #5 200 ok".to_owned(),
        format!(
            "C→S #6 POST /socket.io/?{q} 42[\"b\",\"€\"]\x1e451-[\"c\",{{\"_placeholder\":true,\"num\":0}}]\x1ebBQY="
        ),
        "S→C #6 200 ok".to_owned(),
        // The heartbeat: the pong is written while the response is processed, then the next
        // GET goes out (the reference does the same: `onPacket` first, `_poll()` after).
        "S→C #4 200 2".to_owned(),
        format!("C→S #7 POST /socket.io/?{q} 3"),
        "S→C #7 200 ok".to_owned(),
        format!("C→S #8 GET /socket.io/?{q}"),
        "S→C #8 200 2".to_owned(),
        format!("C→S #9 POST /socket.io/?{q} 3"),
        "S→C #9 200 ok".to_owned(),
        format!("C→S #10 GET /socket.io/?{q}"),
        // socket.disconnect(), then the engine close; the server releases the parked GET.
        format!("C→S #11 POST /socket.io/?{q} 41"),
        "S→C #11 200 ok".to_owned(),
        format!("C→S #12 POST /socket.io/?{q} 1"),
        "S→C #10 200 6".to_owned(),
        "S→C #12 200 ok".to_owned(),
    ];
    assert_eq!(sim.lines(), expected, "\n{}", sim.transcript());
    assert_eq!(close_reason(&sim), Some("forced close"));
    let info = sim.server().session(SID).unwrap();
    assert_eq!(info.closed.as_deref(), Some("transport close"));
    assert_eq!(info.stats.pings_sent, 2);
    assert_eq!(info.stats.pongs_received, 2);
    assert_eq!(info.stats.received.len(), 6);
    // The POSTs said text/plain; every request carried the cache-buster.
    for (_, method, url, headers, _) in sim.transcript().requests() {
        assert!(url.query().unwrap().contains("&t="), "{url}");
        if method == socketio_test_kit::Method::Post {
            assert_eq!(
                socketio_test_kit::header(headers, "content-type"),
                Some("text/plain;charset=UTF-8")
            );
        }
    }
}

#[test]
fn the_websocket_only_session_of_the_capture() {
    let sid = "HNrxSrl6E_CKhwoRAAAA";
    let server = server_config(&[sid]).with_heartbeat(300, 200);
    let app = Script {
        connect_reply: vec![Message::text(r#"0{"sid":"JftHoM0i__jOLPdHAAAA"}"#)],
    };
    let mut sim = sim(2, server, app, client_config(&[TransportKind::WebSocket]));
    open(&mut sim);
    send(&mut sim, "0");
    sim.run_for(Duration::from_millis(305));
    assert_eq!(
        sim.lines(),
        [
            "C→S ws1 GET /socket.io/?EIO=4&transport=websocket",
            "S→C ws1 101",
            &format!(
                r#"S→C ws1 0{{"sid":"{sid}","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}}"#
            ),
            "C→S ws1 40",
            r#"S→C ws1 40{"sid":"JftHoM0i__jOLPdHAAAA"}"#,
            "S→C ws1 2",
            "C→S ws1 3",
        ],
        "\n{}",
        sim.transcript()
    );
    let events: Vec<&Event> = sim.events().iter().map(|(_, e)| e).collect();
    assert!(matches!(
        events[..2],
        [Event::RememberUpgrade(true), Event::Open(_)]
    ));
    assert_eq!(
        sim.server().session(sid).unwrap().transport,
        TransportKind::WebSocket
    );
}

#[test]
fn binary_travels_raw_on_websocket_and_as_base64_when_forced() {
    for force in [false, true] {
        let mut client = client_config(&[TransportKind::WebSocket]);
        client.force_base64 = force;
        let mut sim = sim(3, server_config(&["s"]), socketio_test_kit::Echo, client);
        open(&mut sim);
        send_binary(&mut sim, &[1, 2, 3, 4]);
        sim.run_for(Duration::from_millis(10));
        let sent = if force { "bAQIDBA==" } else { "<01 02 03 04>" };
        assert_eq!(sim.transcript().frames(Side::Client), [sent]);
        assert_eq!(sim.transcript().frames(Side::Server).last().unwrap(), sent);
        assert_eq!(received(&sim), ["<01 02 03 04>"]);
        let url = &sim.lines()[0];
        assert_eq!(url.contains("b64=1"), force, "{url}");
    }
}

#[test]
fn an_initial_message_rides_with_the_open_packet() {
    struct Greeter;
    impl socketio_test_kit::Application for Greeter {
        fn on_open(&mut self, ctx: &mut socketio_test_kit::SessionCtx<'_>) {
            ctx.send_text("hi");
        }
    }
    let mut sim = sim(
        4,
        server_config(&["g"]).with_upgrades(false),
        Greeter,
        client_config(&[TransportKind::Polling]),
    );
    open(&mut sim);
    assert!(sim.lines()[1].ends_with("}\x1e4hi"), "{:?}", sim.lines());
    sim.run_for(Duration::from_millis(5));
    assert_eq!(received(&sim), ["hi"]);
    let _ = Silent;
}
