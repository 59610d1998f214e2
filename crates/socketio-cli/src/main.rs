//! `sio`: Socket.IO from the terminal, in the spirit of websocat.
//!
//! `sio URL` connects (the URL's path is the namespace), prints every event the server sends,
//! and emits one event per line of standard input (`EVENT [JSON args...] [--ack]`).
//! `sio emit URL EVENT [JSON args...] [--ack]` sends one event and exits with a status that
//! says how it went. `--json` turns both into JSON lines for scripts. `sio --help` has it all.

#![forbid(unsafe_code)]

mod binary;
mod cli;
mod connect;
mod emit;
mod input;
mod output;
mod session;

/// The exit statuses (listed in `--help`).
pub mod code {
    /// Success.
    pub const OK: i32 = 0;
    /// Any other failure.
    pub const FAILURE: i32 = 1;
    /// Bad arguments or options.
    pub const USAGE: i32 = 2;
    /// Could not connect (connect_error, or not in time).
    pub const CONNECT: i32 = 3;
    /// The ack did not come in time.
    pub const ACK_TIMEOUT: i32 = 4;
    /// The server ended the session, or the connection was lost without reconnection.
    pub const DISCONNECTED: i32 = 5;
}

fn main() {
    let cli = cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let status = match runtime {
        Ok(runtime) => runtime.block_on(async {
            match cli.command {
                Some(cli::Command::Emit(args)) => emit::run(args).await,
                None => {
                    let url = cli.url.unwrap_or_default();
                    session::run(&url, &cli.common, cli.keep_open).await
                }
            }
        }),
        Err(e) => {
            eprintln!("sio: cannot start the async runtime: {e}");
            code::FAILURE
        }
    };
    // Exit at once: the thread reading standard input may still be blocked in a read.
    std::process::exit(status);
}
