//! Quickstart: connect, emit, call (emit with an ack), binary, a second namespace, receiving
//! on one thread while emitting from another. No async runtime anywhere.
//!
//! `cargo run -p socketio-blocking --example quickstart_blocking` starts the bundled Node.js socket.io
//! server (crates/test-kit/node: the real socket.io 4.8, needs node and npm) and talks to it.
//! `cargo run -p socketio-blocking --example quickstart_blocking -- --url http://host:3000` talks to
//! your server instead (it should ack "echo" with its arguments, like the bundled one).

use std::time::Duration;

use socketio_blocking::{Client, Event, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    // Connect: returns once the namespace ("/", from the URL path) is connected.
    let client = Client::connect(&url, Options::default())?;
    println!("connected as {:?}", client.id());

    // Call: emit and block until the server's ack, at most 5 s.
    let (text, n): (String, u32) = client.call("echo", ("ping", 2), Duration::from_secs(5))?;
    println!("ack: {text} {n}");

    // Binary: bytes::Bytes anywhere in the arguments.
    let (blob,): (bytes::Bytes,) = client.call(
        "echo",
        (bytes::Bytes::from_static(&[1, 2, 3]),),
        Duration::from_secs(5),
    )?;
    println!("binary ack: {blob:?}");

    // A second namespace on the same connection.
    let chat = client.socket("/chat", None)?;
    println!("joined {}", chat.namespace());

    // Receive on another thread while this one emits.
    let receiver = client.clone();
    let printer = std::thread::spawn(move || {
        while let Ok(Some(event)) = receiver.receive(Duration::from_secs(2)) {
            match event {
                Event::Message(message) => println!(
                    "event {}: {:?}",
                    message.event(),
                    message.payload().to_value()
                ),
                other => println!("{other:?}"),
            }
        }
    });
    for i in 0..3 {
        client.emit("echo", ("from main", i))?;
    }
    printer.join().expect("printer");
    client.close();
    Ok(())
}
