//! The WebSocket transport on its own: handshake, frames, binary, forced base64, closes.

use bytes::Bytes;
use engineio_proto::{
    CloseReason, Event, Message, ProtocolViolation, State, Transmit, TransportError,
    TransportEvent, TransportId, TransportKind, WsFrame,
};

use crate::support::*;

fn ws_config() -> engineio_proto::Config {
    let mut c = config();
    c.transports = vec![TransportKind::WebSocket];
    c
}

/// A WebSocket-only session, open (the captured handshake of protocol.md 1.5).
fn open_ws(c: engineio_proto::Config) -> (H, TransportId) {
    let mut h = H::new(c);
    let ws = expect_ws_open(h.drain().one());
    assert!(h.ws_open(ws).all.is_empty());
    assert_eq!(
        h.client.state(),
        State::Opening,
        "the engine opens with the open packet"
    );
    let d = h.ws_text(
        ws,
        r#"0{"sid":"HNrxSrl6E_CKhwoRAAAA","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#,
    );
    assert!(matches!(
        d.events[..],
        [Event::RememberUpgrade(true), Event::Open(_)]
    ));
    assert!(d.transmits.is_empty(), "no probe on a WebSocket session");
    (h, ws)
}

#[test]
fn the_websocket_only_handshake() {
    let (h, _) = open_ws(ws_config());
    assert_eq!(h.client.sid(), Some("HNrxSrl6E_CKhwoRAAAA"));
    assert_eq!(h.client.transport(), Some(TransportKind::WebSocket));
    assert!(h.client.is_writable());
}

#[test]
fn text_and_binary_both_ways() {
    let (mut h, ws) = open_ws(ws_config());
    assert_eq!(expect_ws_send(h.send_text("40").one()), (ws, "440".into()));
    let now = h.now;
    h.client
        .send(now, Message::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        .unwrap();
    assert_eq!(
        expect_ws_send(h.drain().one()),
        (ws, "<01 02 03 04>".into())
    );
    h.client.handle_transport(
        now,
        ws,
        TransportEvent::WsFrame(WsFrame::Binary(Bytes::from_static(&[9, 9]))),
    );
    assert_eq!(h.drain().messages(), ["09 09"]);
    assert_eq!(h.ws_text(ws, "bAQIDBA==").messages(), ["01 02 03 04"]);
    assert_eq!(
        h.ws_text(ws, "440{\"sid\":\"x\"}").messages(),
        ["40{\"sid\":\"x\"}"]
    );
}

#[test]
fn forced_base64_sends_binary_as_b_text_frames() {
    let mut c = ws_config();
    c.force_base64 = true;
    let (mut h, ws) = open_ws(c);
    let now = h.now;
    h.client
        .send(now, Message::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        .unwrap();
    let d = h.drain();
    assert_eq!(
        d.transmits,
        [Transmit::WsSend {
            transport: ws,
            frame: WsFrame::Text(Bytes::from_static(b"bAQIDBA=="))
        }]
    );
}

#[test]
fn forced_base64_also_applies_after_an_upgrade() {
    let mut c = config();
    c.force_base64 = true;
    let mut h = H::new(c);
    let (id, d) = h.handshake_polling(&open_packet(&["websocket"], 25_000, 20_000, 0));
    let probe = expect_ws_open(&d.transmits[0]);
    assert!(query_keys(url_of(&d.transmits[0])).contains(&"b64".to_owned()));
    h.ws_open(probe);
    h.ws_text(probe, "3probe");
    let now = h.now;
    h.client
        .send(now, Message::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        .unwrap();
    let d = h.get_ok(id, "6");
    let sent: Vec<_> = d.transmits.iter().map(|t| expect_ws_send(t).1).collect();
    assert_eq!(sent, ["5", "bAQIDBA=="]);
}

#[test]
fn messages_sent_while_connecting_follow_the_handshake() {
    let mut h = H::new(ws_config());
    let ws = expect_ws_open(h.drain().one());
    h.send_text("a");
    assert!(h.ws_open(ws).transmits.is_empty());
    let d = h.ws_text(ws, &open_packet(&[], 25_000, 20_000, 0));
    assert_eq!(expect_ws_send(d.one()), (ws, "4a".into()));
}

#[test]
fn a_clean_close_is_transport_close_and_a_failure_is_transport_error() {
    let (mut h, ws) = open_ws(ws_config());
    let d = h.ws_close(ws, None);
    assert_eq!(
        d.events,
        [Event::Close(CloseReason::TransportClose {
            description: "websocket connection closed".into()
        })]
    );
    assert!(d.transmits.is_empty(), "{:#?}", d.all);

    let (mut h, ws) = open_ws(ws_config());
    let d = h.ws_close(ws, Some("connection reset"));
    assert_eq!(
        d.events.last(),
        Some(&Event::Close(CloseReason::TransportError(
            TransportError::WebSocket {
                error: engineio_proto::IoError::new(
                    engineio_proto::IoErrorKind::Other,
                    "connection reset"
                )
            }
        )))
    );
    assert!(d.events.contains(&Event::RememberUpgrade(false)));
}

/// A WebSocket dropped without a close frame (the server process killed, a reset) is
/// "transport close" in socket.io-client, not "transport error".
#[test]
fn a_websocket_reset_without_a_close_frame_is_transport_close() {
    let (mut h, ws) = open_ws(ws_config());
    let now = h.now;
    h.client.handle_transport(
        now,
        ws,
        engineio_proto::TransportEvent::WsClose {
            error: Some(engineio_proto::IoError::new(
                engineio_proto::IoErrorKind::Closed,
                "connection reset without closing handshake",
            )),
        },
    );
    let d = h.drain();
    assert_eq!(
        d.events,
        [Event::Close(CloseReason::TransportClose {
            description: "connection reset without closing handshake".into()
        })]
    );
}

#[test]
fn a_close_packet_on_the_websocket_is_transport_close() {
    let (mut h, ws) = open_ws(ws_config());
    let d = h.ws_text(ws, "1");
    assert_eq!(d.close_reason(), Some("transport close"));
    assert_eq!(d.transmits, [Transmit::WsClose { transport: ws }]);
}

#[test]
fn bad_frames_are_protocol_errors_and_close_the_websocket() {
    for (frame, violation) in [
        (
            "9",
            ProtocolViolation::Decode(engineio_proto::DecodeError::UnknownType(b'9')),
        ),
        (
            "",
            ProtocolViolation::Decode(engineio_proto::DecodeError::Empty),
        ),
        ("0{\"sid\":\"b\"}", ProtocolViolation::UnexpectedOpen),
    ] {
        let (mut h, ws) = open_ws(ws_config());
        let d = h.ws_text(ws, frame);
        assert_eq!(d.transmits, [Transmit::WsClose { transport: ws }]);
        assert_eq!(
            d.events.last(),
            Some(&Event::Close(CloseReason::TransportError(
                TransportError::Protocol(violation)
            )))
        );
    }
    let mut h = H::new(ws_config());
    let ws = expect_ws_open(h.drain().one());
    h.ws_open(ws);
    let d = h.ws_text(ws, "4hello");
    assert!(matches!(
        d.events.last(),
        Some(Event::Close(CloseReason::TransportError(
            TransportError::Protocol(ProtocolViolation::ExpectedOpen)
        )))
    ));
}

#[test]
fn a_refused_websocket_handshake_is_a_transport_error() {
    let mut h = H::new(ws_config());
    let ws = expect_ws_open(h.drain().one());
    let d = h.ws_close(ws, Some("HTTP 400"));
    assert_eq!(d.close_reason(), Some("transport error"));
    assert!(
        d.transmits.is_empty(),
        "the adapter already closed it: {:#?}",
        d.all
    );
}
