//! `sio emit`: one event, its ack if asked, and an exit status that says how it went.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::Value;
use socketio_tokio::{AckError, ArgsVec, Error};
use tokio::time::{Instant, timeout_at};

use crate::binary::Arg;
use crate::cli::EmitArgs;
use crate::code;
use crate::connect::{self, Happening};
use crate::input::{self, Input};
use crate::output::{Printer, Report};
use crate::session::ack_failure;

/// How long `sio emit` may take by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What to send.
struct Request {
    event: String,
    args: Vec<Arg>,
    ack: bool,
    id: Value,
}

/// Runs `sio emit`; returns the exit status.
pub async fn run(cli: EmitArgs) -> i32 {
    let printer = Printer {
        json: cli.common.json,
    };
    let request = match request(&cli) {
        Ok(request) => request,
        Err(message) => {
            printer.report(&Report::Error(message));
            return code::USAGE;
        }
    };
    let deadline = Instant::now() + cli.common.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let opened = connect::options(&cli.common, false)
        .and_then(|(options, tls)| connect::open(&cli.url, options, &tls));
    let mut connection = match opened {
        Ok(connection) => connection,
        Err(message) => {
            printer.report(&Report::Error(message));
            return code::USAGE;
        }
    };

    // Connected, or why not.
    loop {
        match timeout_at(deadline, connection.rx.recv()).await {
            Err(_) => {
                let message = "could not connect in time (see --timeout)".to_owned();
                printer.report(&Report::Error(message));
                return code::CONNECT;
            }
            Ok(None) => return code::FAILURE,
            Ok(Some(Happening::Connect { .. })) => break,
            Ok(Some(Happening::ConnectError(e))) => {
                printer.report(&Report::ConnectError(&e));
                return code::CONNECT;
            }
            Ok(Some(Happening::Disconnect(reason))) => {
                printer.report(&Report::Disconnect(reason));
                return code::DISCONNECTED;
            }
            Ok(Some(_)) => {}
        }
    }

    let socket = &connection.socket;
    let args = ArgsVec(request.args);
    let status = if !request.ack {
        match socket.emit(&request.event, args) {
            Ok(()) => {
                tokio::time::sleep(connect::LINGER).await;
                code::OK
            }
            Err(e) => {
                printer.report(&Report::Error(format!("{}: {e}", request.event)));
                code::USAGE
            }
        }
    } else {
        let ack_timeout = cli.common.ack_timeout;
        let reply: Pin<Box<dyn Future<Output = Result<Vec<Arg>, Error>> + Send>> =
            if ack_timeout.is_zero() {
                Box::pin(socket.emit_with_ack(&request.event, args))
            } else {
                Box::pin(
                    socket
                        .timeout(ack_timeout)
                        .emit_with_ack(&request.event, args),
                )
            };
        let result = timeout_at(deadline, reply)
            .await
            .unwrap_or(Err(Error::Ack(AckError::Timeout)));
        report_ack(printer, &request.event, &request.id, result)
    };
    // Leave cleanly either way: the emit goes out before the disconnection.
    connect::close(connection).await;
    status
}

/// Prints the ack or its failure; returns the exit status.
fn report_ack(printer: Printer, event: &str, id: &Value, result: Result<Vec<Arg>, Error>) -> i32 {
    match result {
        Ok(args) => {
            if printer.json {
                printer.report(&Report::Ack {
                    id,
                    event,
                    args: &args,
                });
            } else {
                printer.ack_array(&args);
            }
            code::OK
        }
        Err(e) => {
            let message = ack_failure(&e);
            printer.report(&Report::AckError { id, event, message });
            match e {
                Error::Ack(AckError::Timeout) => code::ACK_TIMEOUT,
                Error::Ack(AckError::Disconnected) => code::DISCONNECTED,
                Error::Emit(_) | Error::Encode(_) | Error::Decode(_) => code::USAGE,
                _ => code::FAILURE,
            }
        }
    }
}

/// The event from the command line, or from one JSON line of standard input.
fn request(cli: &EmitArgs) -> Result<Request, String> {
    if let Some(event) = &cli.event {
        input::check_event(event)?;
        let args = cli
            .args
            .iter()
            .map(|a| input::parse_arg(a))
            .collect::<Result<_, _>>()?;
        return Ok(Request {
            event: event.clone(),
            args,
            ack: cli.ack,
            id: Value::from(1),
        });
    }
    if !cli.common.json {
        return Err("EVENT is missing (only --json reads it from standard input)".into());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("reading standard input: {e}"))?;
    match input::parse_json(&line)? {
        Some(Input::Emit {
            event,
            args,
            ack,
            id,
        }) => Ok(Request {
            event,
            args,
            ack: ack || cli.ack,
            id: id.unwrap_or(Value::from(1)),
        }),
        Some(Input::Reply { .. }) => Err("sio emit sends events, not replies".into()),
        None => Err("no event on standard input".into()),
    }
}
