//! Quickstart on async-std: connect, emit, ack, binary, a second namespace, and a
//! reconnection. The same code runs under smol: swap the `main` attribute for `smol::block_on`.
//!
//! `cargo run -p socketio-async-std --example quickstart_async_std` starts a demo Socket.IO
//! server in this process (socketioxide on a thread of its own, on 127.0.0.1 with a free port:
//! cargo is all it needs) and talks to it.
//! `cargo run -p socketio-async-std --example quickstart_async_std -- --url http://host:3000`
//! talks to your server instead (it should ack "echo" with its arguments, as the demo server
//! and the Node.js test server do).

mod demo_server;

use std::process::ExitCode;
use std::time::Duration;

use futures_lite::StreamExt;
use socketio_async_std::{Options, SocketEvent, io};

use demo_server::{DemoServer, url_argument, with_causes};

#[async_std::main]
async fn main() -> ExitCode {
    match tour().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn tour() -> Result<(), Box<dyn std::error::Error>> {
    let mut server = None;
    let url = match url_argument()? {
        Some(url) => url,
        None => {
            let demo = DemoServer::start(0)?;
            println!("started the demo server at {}", demo.url());
            server.insert(demo).url()
        }
    };

    // The namespace comes from the URL path: "/" here.
    let socket = io(
        &url,
        Options::default().reconnection_delay(Duration::from_millis(200)),
    )?;
    socket.on_connect(|recovered| println!("connected (recovered: {recovered})"));
    socket.on_disconnect(|reason| println!("disconnected: {reason}"));
    let mut events = socket.events();

    // Emit: before the connection is up the event waits, then goes out once.
    socket.emit("echo", ("hello", 1))?;

    // A server that is not there is a connect error, said at once (the client would go on
    // retrying in the background, as socket.io-client does).
    let connected = async_std::future::timeout(Duration::from_secs(20), async {
        while let Some(event) = events.next().await {
            match event {
                SocketEvent::Connect { .. } => return Ok(()),
                SocketEvent::ConnectError(e) => return Err(with_causes(&e)),
                _ => {}
            }
        }
        Err("the client stopped".to_owned())
    })
    .await
    .unwrap_or_else(|_| Err("no answer in 20 s".to_owned()));
    if let Err(why) = connected {
        return Err(format!("cannot connect to {url}: {why}").into());
    }

    // Ack: await the server's answer, with a timeout.
    let (text, n): (String, u32) = socket
        .timeout(Duration::from_secs(5))
        .emit_with_ack("echo", ("ping", 2))
        .await?;
    println!("ack: {text} {n}");

    // Binary: bytes::Bytes anywhere in the arguments.
    let (blob,): (bytes::Bytes,) = socket
        .timeout(Duration::from_secs(5))
        .emit_with_ack("echo", (bytes::Bytes::from_static(&[1, 2, 3]),))
        .await?;
    println!("binary ack: {:?}", &blob[..]);

    // A second namespace over the same connection.
    let chat = socket.io().socket("/chat")?;
    let (reply,): (String,) = chat
        .timeout(Duration::from_secs(5))
        .emit_with_ack("echo", ("hi chat",))
        .await?;
    println!("/chat ack: {reply}");

    // A reconnection: the demo server restarts (every connection cut) and the client comes
    // back on its own.
    if let Some(server) = server.as_mut() {
        println!("restarting the server");
        server.restart()?;
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
        let (again,): (String,) = socket
            .timeout(Duration::from_secs(5))
            .emit_with_ack("echo", ("after",))
            .await?;
        println!("ack after reconnecting: {again}");
    }

    socket.disconnect();
    chat.disconnect();
    Ok(())
}
