//! Quickstart: connect, emit, ack, binary, a second namespace, and a reconnection.
//!
//! `cargo run -p socketio-tokio --example quickstart` starts the bundled Node.js socket.io
//! server (crates/test-kit/node: the real socket.io 4.8, needs node and npm) and talks to it.
//! `cargo run -p socketio-tokio --example quickstart -- --url http://host:3000` talks to your
//! server instead (it should ack "echo" with its arguments, like the bundled one).

use std::time::Duration;

use futures_util::StreamExt;
use socketio_tokio::{Options, SocketEvent, io};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let given = args
        .iter()
        .position(|a| a == "--url")
        .and_then(|i| args.get(i + 1));
    let bundled;
    let url = match given {
        Some(url) => url.clone(),
        None => {
            bundled = socketio_test_kit::node::NodeServer::start(&[]);
            println!("started the bundled socket.io server at {}", bundled.url());
            bundled.url()
        }
    };

    // Connect (the namespace comes from the URL path: "/" here).
    let socket = io(
        &url,
        Options::default().reconnection_delay(Duration::from_millis(200)),
    )?;
    socket.on_connect(|recovered| println!("connected (recovered: {recovered})"));
    socket.on_disconnect(|reason| println!("disconnected: {reason}"));
    let mut events = socket.events();

    // Emit: before the connection is up the event waits, then goes out once.
    socket.emit("echo", ("hello", 1))?;

    // Ack: await the server's answer, with a timeout.
    let (text, n): (String, u32) = socket
        .timeout(Duration::from_secs(5))
        .emit_with_ack("echo", ("ping", 2))
        .await?;
    println!("ack: {text} {n}");

    // Binary: bytes::Bytes anywhere in the arguments.
    let (blob,): (bytes::Bytes,) = socket
        .emit_with_ack("echo", (bytes::Bytes::from_static(&[1, 2, 3]),))
        .await?;
    println!("binary ack: {:?}", &blob[..]);

    // A second namespace over the same connection.
    let chat = socket.io().socket("/chat")?;
    let (reply,): (String,) = chat.emit_with_ack("echo", ("hi chat",)).await?;
    println!("/chat ack: {reply}");

    // A reconnection: the bundled server drops the transport when asked ("drop").
    if given.is_none() {
        socket.emit("drop", ())?;
        let mut dropped = false;
        while let Some(event) = events.next().await {
            match event {
                SocketEvent::Disconnect(_) => dropped = true,
                SocketEvent::Connect { .. } if dropped => {
                    println!("reconnected on its own");
                    break;
                }
                _ => {}
            }
        }
        let (again,): (String,) = socket.emit_with_ack("echo", ("after",)).await?;
        println!("ack after reconnecting: {again}");
    }

    socket.disconnect();
    chat.disconnect();
    Ok(())
}
