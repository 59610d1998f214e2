//! The demo Socket.IO server on its own, to try `sio` (or any client) against:
//! `cargo run -p socketio-tokio --example serve` listens on http://127.0.0.1:3000 until
//! interrupted; `-- --port N` picks another port (0: any free one).
//!
//! It answers what the README's `sio` examples send: namespaces `/`, `/chat` and `/admin`
//! (auth `{"token":"secret"}`), a "welcome" event on connect, and the events `echo` (acked with
//! its arguments, or emitted back without an ack), `add` (the sum), `upload` (the bytes of
//! binary received), `binary`, `chat` (to everyone in the namespace), `ask` (asks you a
//! "question" and reports the "answer"), `ignore` (never acked) and `kick`.

mod demo_server;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut port = 3000;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|_| format!("bad port {value:?}"))?;
            }
            _ => return Err(format!("unknown argument {arg:?}; usage: [--port N]").into()),
        }
    }
    let server = demo_server::DemoServer::start(port)?;
    println!(
        "demo Socket.IO server at {} (Ctrl-C stops it)",
        server.url()
    );
    println!("try: sio {}/chat", server.url());
    server.run_forever()
}
