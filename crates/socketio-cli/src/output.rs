//! What sio prints: data on standard output, connection news and errors on standard error
//! (plain mode), or one JSON object per line on standard output (`--json`).

use std::io::Write;

use serde::Serialize;
use serde_json::Value;
use socketio_tokio::{ConnectError, DisconnectReason, ManagerEvent};

use crate::binary::{Arg, Shown};
use crate::code;

/// Something to tell the user.
#[derive(Debug)]
pub enum Report<'a> {
    /// Connected to the namespace.
    Connect {
        /// The namespace.
        nsp: &'a str,
        /// The socket id.
        id: Option<String>,
        /// Whether the session was restored.
        recovered: bool,
    },
    /// Connecting failed.
    ConnectError(&'a ConnectError),
    /// Disconnected.
    Disconnect(DisconnectReason),
    /// An event from the server; `reply` is set when it wants an answer.
    Event {
        /// Its name.
        event: &'a str,
        /// Its arguments.
        args: &'a [Arg],
        /// The number to answer with `--reply`.
        reply: Option<u64>,
    },
    /// The ack of one of our emits.
    Ack {
        /// The caller's id for it, or sio's count.
        id: &'a Value,
        /// The event it answers.
        event: &'a str,
        /// Its arguments.
        args: &'a [Arg],
    },
    /// An ack that did not come.
    AckError {
        /// The caller's id for it, or sio's count.
        id: &'a Value,
        /// The event.
        event: &'a str,
        /// Why.
        message: String,
    },
    /// The connection's lifecycle (a failed reconnection attempt is [`Report::ReconnectError`]).
    Manager(&'a ManagerEvent),
    /// Reconnection attempt `attempt` failed; more may follow (the give-up is
    /// `ManagerEvent::ReconnectFailed`).
    ReconnectError {
        /// The attempt's number (1 for the first).
        attempt: u32,
        /// Why it failed.
        message: &'a str,
    },
    /// A problem sio reports without stopping (a bad input line, a refused emit).
    Error(String),
}

/// The message and data of a connect error, as the JavaScript client shows them.
pub fn connect_error_parts(error: &ConnectError) -> (String, Option<Arg>) {
    match error {
        ConnectError::Refused { message, data } => {
            let data = data.as_ref().and_then(|p| p.deserialize::<Arg>().ok());
            (message.clone(), data)
        }
        ConnectError::Engine(e) => (e.to_string(), None),
        other => (other.to_string(), None),
    }
}

/// Formats an event name for a plain line: bare when it reads back as one word, JSON
/// otherwise.
fn plain_name(event: &str) -> String {
    let bare = !event.is_empty()
        && !event.starts_with('"')
        && !event.starts_with("--")
        && !event.contains(char::is_whitespace);
    if bare {
        event.to_owned()
    } else {
        Value::from(event).to_string()
    }
}

/// Space-separated JSON values, each after a space.
fn plain_args(args: &[Arg]) -> String {
    args.iter()
        .map(|a| format!(" {}", crate::binary::to_json(a)))
        .collect()
}

/// Prints reports in the chosen mode.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// JSON lines instead of plain text.
    pub json: bool,
}

impl Printer {
    /// Prints one report.
    pub fn report(&self, report: &Report<'_>) {
        if self.json {
            if let Some(line) = json_line(report) {
                out(&line);
            }
        } else {
            self.plain(report);
        }
    }

    fn plain(&self, report: &Report<'_>) {
        match report {
            Report::Connect { nsp, id, recovered } => {
                let id = id.as_deref().unwrap_or("?");
                let recovered = if *recovered {
                    ", session recovered"
                } else {
                    ""
                };
                news(&format!("connected to {nsp} (id {id}{recovered})"));
            }
            Report::ConnectError(e) => {
                let (message, data) = connect_error_parts(e);
                match data {
                    None => news(&format!("connect_error: {message}")),
                    Some(data) => news(&format!(
                        "connect_error: {message} {}",
                        crate::binary::to_json(&data)
                    )),
                }
            }
            Report::Disconnect(reason) => news(&format!("disconnected: {reason}")),
            Report::Event { event, args, reply } => {
                out(&format!("{}{}", plain_name(event), plain_args(args)));
                if let Some(n) = reply {
                    news(&format!(
                        "the server asks for an answer to {}: type --reply {n} [JSON args...]",
                        plain_name(event)
                    ));
                }
            }
            Report::Ack { event, args, .. } => {
                out(&format!("ack({}){}", plain_name(event), plain_args(args)))
            }
            Report::AckError { event, message, .. } => {
                news(&format!("no ack for {}: {message}", plain_name(event)))
            }
            Report::Manager(event) => match event {
                ManagerEvent::ReconnectAttempt(n) => news(&format!("reconnecting (attempt {n})")),
                ManagerEvent::Reconnect(n) => news(&format!("reconnected after {n} attempt(s)")),
                ManagerEvent::ReconnectError(e) => news(&format!("reconnect attempt failed: {e}")),
                ManagerEvent::ReconnectFailed => news("reconnection failed: giving up"),
                ManagerEvent::Upgrade(t) => news(&format!("upgraded to {t}")),
                _ => {}
            },
            // Said after each attempt while sio keeps trying: not "reconnection failed", which
            // is for the final give-up.
            Report::ReconnectError { attempt, message } => {
                news(&format!("reconnect attempt {attempt} failed: {message}"))
            }
            Report::Error(message) => news(message),
        }
    }

    /// Prints an ack's arguments as one JSON array (`sio emit` in plain mode).
    pub fn ack_array(&self, args: &[Arg]) {
        out(&json(&args.iter().map(Shown).collect::<Vec<_>>()));
    }
}

/// JSON text of a value.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// The JSON text of some arguments.
fn json_args(args: &[Arg]) -> String {
    json(&args.iter().map(Shown).collect::<Vec<_>>())
}

/// An object with its fields in this order (`type` first), values given as JSON text.
fn object(kind: &str, fields: &[(&str, String)]) -> String {
    let mut text = format!("{{\"type\":{}", json(kind));
    for (name, value) in fields {
        text.push_str(&format!(",{}:{value}", json(name)));
    }
    text.push('}');
    text
}

/// The JSON line of a report; `None` for what JSON mode does not show (pings, open, close).
fn json_line(report: &Report<'_>) -> Option<String> {
    Some(match report {
        Report::Connect { nsp, id, recovered } => object(
            "connect",
            &[
                ("nsp", json(nsp)),
                ("id", json(id)),
                ("recovered", json(recovered)),
            ],
        ),
        Report::ConnectError(e) => {
            let (message, data) = connect_error_parts(e);
            let data = data.map_or_else(|| "null".to_owned(), |d| crate::binary::to_json(&d));
            object(
                "connect_error",
                &[("message", json(&message)), ("data", data)],
            )
        }
        Report::Disconnect(reason) => object("disconnect", &[("reason", json(reason.as_str()))]),
        Report::Event { event, args, reply } => {
            let mut fields = vec![("event", json(event)), ("args", json_args(args))];
            if let Some(n) = reply {
                fields.push(("reply", json(n)));
            }
            object("event", &fields)
        }
        Report::Ack { id, event, args } => object(
            "ack",
            &[
                ("id", json(id)),
                ("event", json(event)),
                ("args", json_args(args)),
            ],
        ),
        Report::AckError { id, event, message } => object(
            "ack_error",
            &[
                ("id", json(id)),
                ("event", json(event)),
                ("message", json(message)),
            ],
        ),
        Report::Manager(event) => match event {
            ManagerEvent::ReconnectAttempt(n) => {
                object("reconnect_attempt", &[("attempt", json(n))])
            }
            ManagerEvent::Reconnect(n) => object("reconnect", &[("attempts", json(n))]),
            ManagerEvent::ReconnectError(e) => {
                object("reconnect_error", &[("message", json(&e.to_string()))])
            }
            ManagerEvent::ReconnectFailed => object("reconnect_failed", &[]),
            ManagerEvent::Upgrade(t) => object("upgrade", &[("transport", json(t.as_str()))]),
            _ => return None,
        },
        Report::ReconnectError { attempt, message } => object(
            "reconnect_error",
            &[("attempt", json(attempt)), ("message", json(message))],
        ),
        Report::Error(message) => object("error", &[("message", json(message))]),
    })
}

/// One line of data on standard output. A closed output ends sio.
fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        std::process::exit(code::FAILURE);
    }
}

/// One line of news on standard error.
fn news(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "sio: {line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(value: Value) -> Arg {
        crate::binary::from_json(value).unwrap()
    }

    #[test]
    fn names_read_back() {
        assert_eq!(plain_name("chat"), "chat");
        assert_eq!(plain_name("two words"), r#""two words""#);
        assert_eq!(plain_name("--x"), r#""--x""#);
        assert_eq!(plain_name(""), r#""""#);
        let args = [
            arg(serde_json::json!("a")),
            arg(serde_json::json!({"b": 1})),
        ];
        assert_eq!(plain_args(&args), r#" "a" {"b":1}"#);
    }

    #[test]
    fn json_lines_start_with_their_type() {
        let line = json_line(&Report::Event {
            event: "e",
            args: &[arg(serde_json::json!({"$binary": "AQ=="}))],
            reply: Some(2),
        });
        assert_eq!(
            line.as_deref(),
            Some(r#"{"type":"event","event":"e","args":[{"$binary":"AQ=="}],"reply":2}"#)
        );
        assert_eq!(json_line(&Report::Manager(&ManagerEvent::Ping)), None);
        assert_eq!(
            json_line(&Report::Disconnect(DisconnectReason::TransportClose)).as_deref(),
            Some(r#"{"type":"disconnect","reason":"transport close"}"#)
        );
    }
}
