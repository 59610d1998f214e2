//! Quickstart on async-std (the same code runs under smol: swap the `main` attribute for
//! `smol::block_on`).
//!
//! `cargo run -p socketio-async-std --example quickstart` starts the bundled Node.js socket.io
//! server (needs node and npm); pass a URL to use your own server instead.

use std::time::Duration;

use futures_lite::StreamExt;
use socketio_async_std::{Options, SocketEvent, io};

#[async_std::main]
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
    let mut events = socket.events();

    socket.emit("echo", ("hello", 1))?;
    let (text, n): (String, u32) = socket
        .timeout(Duration::from_secs(5))
        .emit_with_ack("echo", ("ping", 2))
        .await?;
    println!("ack: {text} {n}");

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
