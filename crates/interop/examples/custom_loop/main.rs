//! `cargo run -p socketio-interop --example custom_loop [URL]`: a Socket.IO client with no
//! async runtime (see client.rs and docs/embedding.md). Without a URL it starts the bundled
//! Node.js server.

mod client;

use std::time::Duration;

use socketio_proto::codec::Payload;
use socketio_proto::{EmitOptions, Event, SocketConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bundled;
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => {
            bundled = socketio_test_kit::node::NodeServer::start(&[]);
            bundled.url()
        }
    };
    let mut client = client::BlockingClient::new(&url)?;
    let now = std::time::Instant::now();
    let mut socket = client
        .connection
        .manager_mut()
        .add_socket("/", SocketConfig::default())?;
    socket.connect(now);
    socket.emit(
        now,
        Payload::from_serialize(&("echo", "hello"))?,
        EmitOptions::with_ack(),
    )?;
    let ack = client.run_until(Duration::from_secs(10), |e| matches!(e, Event::Ack { .. }));
    println!("ack: {ack:?}");
    for event in client.events.drain(..) {
        println!("event: {event:?}");
    }
    Ok(())
}
