//! Quickstart: connect, listen, emit, await an ack, disconnect.
//!
//! `cargo run -p socketio-tokio --example quickstart` starts the bundled Node.js socket.io
//! server (crates/test-kit/node, needs node and npm) and talks to it; pass a URL to use your
//! own server instead: `cargo run -p socketio-tokio --example quickstart -- http://host:3000`
//! (it should answer "echo" acks like the bundled one).

use std::time::Duration;

use futures_util::StreamExt;
use socketio_tokio::{Options, SocketEvent, io};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bundled;
    let url = match std::env::args().nth(1) {
        Some(url) => url,
        None => {
            bundled = socketio_test_kit::node::NodeServer::start(&[]);
            println!("started the bundled socket.io server at {}", bundled.url());
            bundled.url()
        }
    };

    let socket = io(&url, Options::default())?;
    socket.on_connect(|recovered| println!("connected (recovered: {recovered})"));
    socket.on("welcome", |msg| {
        println!("server says welcome: {:?}", msg.args.to_values())
    });
    let mut events = socket.events();

    // Emitted before the connection is up: buffered, then sent once.
    socket.emit("echo", ("hello", 1))?;

    // Await an ack, with a timeout.
    let (text, n): (String, u32) = socket
        .timeout(Duration::from_secs(5))
        .emit_with_ack("echo", ("ping", 2))
        .await?;
    println!("ack: {text} {n}");

    // Events as a stream.
    while let Some(event) = events.next().await {
        if let SocketEvent::Message(msg) = event
            && msg.event == "echo"
        {
            println!("echo event: {:?}", msg.args.to_values());
            break;
        }
    }

    socket.disconnect();
    Ok(())
}
