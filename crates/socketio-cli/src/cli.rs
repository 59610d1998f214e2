//! The command line: flags, the help text, and turning flag values into client options.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::code;

const AFTER_HELP: &str = r#"LINE FORMAT (plain mode)
  Each line of standard input emits one event:
      EVENT [JSON args...] [--ack]
  EVENT is a bare word, or a JSON string when it has spaces. Each argument is one JSON value,
  separated by spaces: strings need double quotes. With --ack at the end, sio waits for the
  server's acknowledgement and prints it. Examples:
      chat "hello" {"to":"bob"}
      add 1 2 --ack
      "my event" [1, 2, 3] null
  When the server emits an event that asks for an answer, sio numbers it; answer with
      --reply N [JSON args...]
  Incoming events are printed the same way (EVENT ARGS...), acks as `ack(EVENT) ARGS...`;
  connection news and errors go to standard error.

JSON MODE (--json), for scripts
  One JSON object per line, in and out. In:
      {"event":"chat","args":["hello",{"to":"bob"}]}
      {"event":"add","args":[1,2],"ack":true,"id":"q1"}
      {"reply":1,"args":["yes"]}
  Out (standard output):
      {"type":"connect","nsp":"/","id":"<socket id>","recovered":false}
      {"type":"event","event":"chat","args":["hi"]}      ("reply":N when it wants an answer)
      {"type":"ack","id":"q1","event":"add","args":[3]}  (id: yours, or the count of acks asked)
      {"type":"ack_error","id":1,"event":"add","message":"operation has timed out"}
      {"type":"disconnect","reason":"transport close"}
      {"type":"connect_error","message":"not authorized","data":{"reason":"bad token"}}
      {"type":"reconnect_attempt","attempt":1}  {"type":"reconnect","attempts":1}
      {"type":"reconnect_error","attempt":1,"message":...}  {"type":"reconnect_failed"}
      {"type":"upgrade","transport":"websocket"}
      {"type":"error","message":"..."}                   (a line sio could not use)
  Binary data, in both modes and at any depth: {"$binary":"<base64>"}, e.g.
      upload {"name":"a.bin","data":{"$binary":"AQID"}}

ENDING
  At the end of input sio waits until it has connected, its events are sent and the acks it
  asked for have come (or timed out), then disconnects, at least 0.1 s after the last event
  without an ack (a socket.io server drops events that arrive together with the
  disconnection; --ack is the way to know an event was handled). With --keep-open it stays
  until the server disconnects it or it is interrupted. Without --no-reconnect it reconnects after a
  lost connection, as socket.io clients do.

EXAMPLES
  sio http://localhost:3000                      # the main namespace; type lines to emit
  sio https://example.com/chat --auth '{"token":"abc"}' --header 'X-Trace: 1'
  sio emit http://localhost:3000 echo '"hi"' --ack          # prints ["hi"]
  echo '{"event":"echo","args":[1],"ack":true}' | sio --json http://localhost:3000

EXIT STATUS
  0  success: every event sent, every ack asked for received
  1  other failure (an ack lost to a disconnection, an I/O error)
  2  bad arguments or options (also bad --ca, --auth, URL)
  3  could not connect: connect_error (the namespace refused, e.g. bad auth; the server is
     unreachable and reconnection is off or gave up), or `sio emit` did not connect in time
  4  ack timeout (`sio emit --ack`, or an --ack line that got no ack in --ack-timeout)
  5  disconnected: the server ended the session, or the connection was lost with
     --no-reconnect"#;

const EMIT_AFTER_HELP: &str = r#"EXAMPLES
  sio emit http://localhost:3000 chat '"hello"' '{"to":"bob"}'
  sio emit http://localhost:3000/admin echo 1 --ack --auth '{"token":"secret"}'
  echo '{"event":"echo","args":[{"$binary":"AQID"}],"ack":true}' \
    | sio emit --json http://localhost:3000

EXIT STATUS
  0  the event was sent (and acked, with --ack)
  1  other failure
  2  bad arguments or options
  3  could not connect: connect_error, or not connected within --timeout
  4  ack timeout (--ack-timeout, or --timeout for the whole command)
  5  disconnected before the ack"#;

/// sio: Socket.IO from the terminal.
///
/// Connects to a Socket.IO server (protocol v5: socket.io servers 3 and 4), prints every
/// event the server sends, and emits one event for each line read from standard input.
/// `sio emit` sends a single event and exits.
#[derive(Debug, Parser)]
#[command(
    name = "sio",
    version,
    verbatim_doc_comment,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The server and namespace: http(s)://host:port/NAMESPACE
    /// (the path is the namespace, `/` when empty; ws:// and wss:// work too).
    #[arg(required = true, verbatim_doc_comment)]
    pub url: Option<String>,

    /// Keep running when standard input ends (to only listen).
    #[arg(short = 'k', long)]
    pub keep_open: bool,

    /// The connection options.
    #[command(flatten)]
    pub common: Common,

    /// Send one event and exit.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send one event, print its ack if asked, and exit with a status saying how it went.
    ///
    /// The ack is printed as the JSON array of its arguments (with --json: an "ack" object).
    /// In --json mode EVENT may be left out: the event is then read as one JSON line from
    /// standard input. `sio emit` never reconnects.
    #[command(verbatim_doc_comment, after_help = EMIT_AFTER_HELP)]
    Emit(EmitArgs),
}

/// `sio emit`'s arguments.
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// The server and namespace, as for `sio URL`.
    pub url: String,

    /// The event name.
    pub event: Option<String>,

    /// The arguments: one JSON value each
    /// (quote strings: '"text"'; binary: '{"$binary":"BASE64"}').
    #[arg(allow_negative_numbers = true, verbatim_doc_comment)]
    pub args: Vec<String>,

    /// Wait for the server's ack and print it.
    #[arg(long)]
    pub ack: bool,

    /// The connection options.
    #[command(flatten)]
    pub common: Common,
}

/// A transport name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    Websocket,
}

/// The options both modes share.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// One JSON object per line, in and out (the formats: JSON MODE in `sio --help`).
    #[arg(long)]
    pub json: bool,

    /// Transports to use, in order [default: polling,websocket]: polling first,
    /// then an upgrade to WebSocket. `websocket` alone connects over WebSocket directly.
    #[arg(
        long,
        verbatim_doc_comment,
        value_enum,
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub transports: Vec<Transport>,

    /// The Engine.IO protocol: 4 (socket.io 3.x and later), 3 (socket.io 2.x),
    /// or detect (ask in 4, speak 3 if the server answers in 3) [default: 4].
    /// With 3, --auth cannot be sent: use --query.
    #[arg(long, value_name = "3|4|detect", verbatim_doc_comment, value_parser = parse_protocol)]
    pub protocol: Option<socketio_tokio::EngineProtocol>,

    /// The CONNECT payload, a JSON object, e.g. '{"token":"secret"}'
    /// (the server sees it as `socket.handshake.auth`).
    #[arg(long, value_name = "JSON", verbatim_doc_comment)]
    pub auth: Option<String>,

    /// A query parameter of the connection, `NAME=VALUE` (repeatable).
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_query)]
    pub query: Vec<(String, String)>,

    /// An HTTP header of the connection requests, 'Name: value' (repeatable).
    #[arg(long, value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub header: Vec<(String, String)>,

    /// The server's Socket.IO path [default: /socket.io].
    #[arg(long)]
    pub path: Option<String>,

    /// Also trust the CA certificate(s) in this PEM file (for https/wss).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,

    /// Accept any TLS certificate, without verification (test servers only).
    #[arg(long)]
    pub insecure: bool,

    /// Do not reconnect after a lost connection or a failed attempt: exit instead.
    #[arg(long)]
    pub no_reconnect: bool,

    /// Seconds to wait for each ack before giving up on it; 0 waits forever.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs)]
    pub ack_timeout: Duration,

    /// Seconds one connection attempt may take [default: 20].
    /// With `sio emit`: the time allowed to connect, send and get the ack [default: 10].
    #[arg(long, value_name = "SECS", verbatim_doc_comment, value_parser = parse_secs)]
    pub timeout: Option<Duration>,
}

fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{text:?} is not a number of seconds"))
}

fn parse_protocol(text: &str) -> Result<socketio_tokio::EngineProtocol, String> {
    text.parse().map_err(|e| format!("{e}"))
}

fn parse_query(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() && !name.contains(' ') => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("expected 'Name: value', got {text:?}")),
    }
}

/// Parses the command line; exits with the usage status (2) on bad arguments.
pub fn parse() -> Cli {
    Cli::try_parse().unwrap_or_else(|e| {
        let status = if e.use_stderr() {
            code::USAGE
        } else {
            code::OK
        };
        let _ = e.print();
        std::process::exit(status);
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_protocol_flag_parses() {
        use socketio_tokio::EngineProtocol;
        assert_eq!(parse_protocol("3"), Ok(EngineProtocol::V3));
        assert_eq!(parse_protocol("detect"), Ok(EngineProtocol::Detect));
        assert!(parse_protocol("5").is_err());
    }

    #[test]
    fn values() {
        assert_eq!(parse_secs("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_secs("-1").is_err());
        assert_eq!(parse_query("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_query("=x").is_err());
        assert_eq!(
            parse_header("X-Token:  abc ").unwrap(),
            ("X-Token".into(), "abc".into())
        );
        assert!(parse_header("nocolon").is_err());
    }

    #[test]
    fn emit_takes_negative_numbers_and_flags_after_args() {
        let cli =
            Cli::try_parse_from(["sio", "emit", "http://h", "ev", "-1", "\"x\"", "--ack"]).unwrap();
        let Some(Command::Emit(emit)) = cli.command else {
            panic!("not emit")
        };
        assert_eq!(emit.args, ["-1", "\"x\""]);
        assert!(emit.ack);
    }
}
