//! A binary event cut between its parts: on WebSocket the server sends the event's header
//! (`452-["binary",{"_placeholder":true,"num":0},...]`) and then each attachment in a frame of
//! its own; the proxy cuts right after the header, or after the first attachment. The half
//! event is never delivered, and after the reconnection the next binary event is read whole
//! (a decoder still waiting for the old attachments would swallow or garble it).

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use socketio_async::{DisconnectReason, SocketEvent};
use socketio_interop::{NodeServer, Rt, on_every_runtime, options};
use socketio_test_kit::fault_proxy::{Direction, Trigger};

use super::{connected_again, proxy_to};

#[derive(serde::Deserialize)]
struct Nested {
    nested: Bytes,
    text: String,
}

async fn binary_event_cut(rt: Rt, step: &str, trigger: Trigger) {
    let server = NodeServer::start(&[]);
    let proxy = proxy_to(&server);
    let options = options("websocket")
        .reconnection_delay(std::time::Duration::from_millis(50))
        .reconnection_delay_max(std::time::Duration::from_millis(100));
    let socket = rt.io(&proxy.url(), options).expect("io");
    let mut events = socket.events();
    rt.connected(&socket, &mut events).await;
    proxy.cut_on(trigger);
    // The server answers with a binary event (no ack asked).
    socket.emit("binary", ()).expect("emit");
    let reason = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "binary" => {
                panic!("{step}: a binary event was delivered from a cut one")
            }
            SocketEvent::Disconnect(reason) => Some(reason),
            _ => None,
        })
        .await;
    // A connection that ends without a close frame: "transport error" here (as a browser
    // says), "transport close" in the reference under Node.
    assert!(
        matches!(
            reason,
            DisconnectReason::TransportError | DisconnectReason::TransportClose
        ),
        "{step}: {reason:?}"
    );
    assert_eq!(proxy.stats().triggered, 1);
    connected_again(&rt, &socket, &mut events).await;

    socket.emit("binary", ()).expect("emit");
    let message = rt
        .next_event(&mut events, |e| match e {
            SocketEvent::Message(m) if m.event == "binary" => Some(m),
            _ => None,
        })
        .await;
    let (first, second): (Bytes, Nested) = message.args.parse().expect("the binary event");
    assert_eq!(
        (&first[..], &second.nested[..]),
        (&[1, 2, 3][..], &[4, 5][..])
    );
    assert_eq!(second.text, "t");
    // A round trip later, nothing else came of it.
    let (_,): (String,) = rt
        .within("the echo", socket.emit_with_ack("echo", ("done",)))
        .await
        .expect("echo");
    while let Some(Some(event)) = events.next().now_or_never() {
        if let SocketEvent::Message(m) = event {
            assert_ne!(m.event, "binary", "{step}: a second binary event");
        }
    }
    println!(
        "{}: cut {step}: the half event dropped, the next one whole after {} reconnection(s)",
        rt.name,
        proxy.stats().accepted - 1
    );
}

async fn binary_event_cut_after_its_header(rt: Rt) {
    let header = Trigger::websocket_message(Direction::ToClient, r#"452-["binary""#);
    let trigger = header.as_prefix().after_forwarding();
    binary_event_cut(rt, "after the header", trigger).await;
}

async fn binary_event_cut_after_its_first_attachment(rt: Rt) {
    let attachment = Trigger::websocket_message(Direction::ToClient, [1, 2, 3]);
    binary_event_cut(rt, "after one attachment", attachment.after_forwarding()).await;
}

on_every_runtime!(
    binary_event_cut_after_its_header,
    binary_event_cut_after_its_first_attachment,
);
