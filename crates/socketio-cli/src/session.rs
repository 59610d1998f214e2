//! `sio URL`: print what the server sends, emit what standard input says.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use socketio_tokio::{
    AckError, AckSender, ArgsVec, ConnectError, DisconnectReason, ManagerEvent, Message,
};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use crate::binary::Arg;
use crate::cli::Common;
use crate::code;
use crate::connect::{self, Connection, Happening};
use crate::input::{self, Input};
use crate::output::{Printer, Report};

/// Runs the interactive session; returns the exit status.
pub async fn run(url: &str, common: &Common, keep_open: bool) -> i32 {
    let printer = Printer { json: common.json };
    let opened =
        connect::options(common, true).and_then(|(options, tls)| connect::open(url, options, &tls));
    let mut connection = match opened {
        Ok(connection) => connection,
        Err(message) => {
            printer.report(&Report::Error(message));
            return code::USAGE;
        }
    };
    connect::read_stdin(connection.tx.clone());
    let mut session = Session {
        printer,
        json: common.json,
        ack_timeout: (!common.ack_timeout.is_zero()).then_some(common.ack_timeout),
        no_reconnect: common.no_reconnect,
        keep_open,
        eof: false,
        connected: false,
        connected_at: Instant::now(),
        last_plain_emit: None,
        asked: 0,
        pending: HashMap::new(),
        replies: HashMap::new(),
        next_reply: 0,
        attempt: 0,
        ack_failed: None,
    };
    loop {
        let received = match session.finish_at() {
            Some(at) => tokio::select! {
                received = connection.rx.recv() => received,
                () = tokio::time::sleep_until(at) => {
                    connect::close(connection).await;
                    // Everything asked for is done; an ack that failed says so in the status.
                    return session.ack_failed.unwrap_or(code::OK);
                }
            },
            None => connection.rx.recv().await,
        };
        let Some(happening) = received else {
            return code::FAILURE;
        };
        if let Some(status) = session.handle(happening, &connection) {
            return status;
        }
    }
}

struct Session {
    printer: Printer,
    json: bool,
    ack_timeout: Option<Duration>,
    no_reconnect: bool,
    keep_open: bool,
    /// Standard input has ended.
    eof: bool,
    /// Connected now (as of the happenings handled so far).
    connected: bool,
    /// When the last connection was made (buffered emits go out then).
    connected_at: Instant,
    /// When the last event without an ack was emitted.
    last_plain_emit: Option<Instant>,
    /// Acks asked for so far (the default id of an ack).
    asked: u64,
    /// Acks awaited: sio's number → (id shown, event).
    pending: HashMap<u64, (Value, String)>,
    /// The server's ack requests, by the number shown to the user.
    replies: HashMap<u64, AckSender>,
    next_reply: u64,
    /// The reconnection attempt under way (0 before the first).
    attempt: u32,
    /// The exit status owed to the first ack that failed, if one did.
    ack_failed: Option<i32>,
}

impl Session {
    /// When sio may leave, once everything asked for is done. Emits need no tracking of
    /// their own: the client handles commands in order, so while connected every earlier
    /// emit is written before the disconnection that follows, and closing flushes them; the
    /// last ones without an ack get [`connect::LINGER`] to reach the server first.
    fn finish_at(&self) -> Option<Instant> {
        let done = self.eof && !self.keep_open && self.connected && self.pending.is_empty();
        done.then(|| match self.last_plain_emit {
            Some(at) => at.max(self.connected_at) + connect::LINGER,
            None => Instant::now(),
        })
    }

    /// Handles one happening; `Some(status)` ends sio.
    fn handle(&mut self, happening: Happening, connection: &Connection) -> Option<i32> {
        match happening {
            Happening::Message(message) => self.message(message),
            Happening::Connect { recovered } => {
                self.connected = true;
                self.connected_at = Instant::now();
                self.printer.report(&Report::Connect {
                    nsp: connection.socket.nsp(),
                    id: connection.socket.id(),
                    recovered,
                });
            }
            Happening::ConnectError(error) => {
                self.printer.report(&Report::ConnectError(&error));
                // A refusal is final (the socket stops); a failed attempt is retried.
                if self.no_reconnect || !matches!(error, ConnectError::Engine(_)) {
                    return Some(code::CONNECT);
                }
            }
            Happening::Disconnect(reason) => {
                self.connected = false;
                self.printer.report(&Report::Disconnect(reason));
                // Acks still awaited fail now; their results follow.
                match reason {
                    DisconnectReason::IoClientDisconnect => {}
                    DisconnectReason::IoServerDisconnect => return Some(code::DISCONNECTED),
                    _ if self.no_reconnect => return Some(code::DISCONNECTED),
                    _ => {}
                }
            }
            Happening::Manager(event) => {
                match &event {
                    ManagerEvent::ReconnectAttempt(n) => self.attempt = *n,
                    ManagerEvent::ReconnectError(error) => {
                        self.printer.report(&Report::ReconnectError {
                            attempt: self.attempt,
                            message: &error.to_string(),
                        });
                        return None;
                    }
                    _ => {}
                }
                self.printer.report(&Report::Manager(&event));
                if event == ManagerEvent::ReconnectFailed {
                    return Some(code::CONNECT);
                }
            }
            Happening::Line(None) => self.eof = true,
            Happening::Line(Some(line)) => {
                let parsed = if self.json {
                    input::parse_json(&line)
                } else {
                    input::parse_plain(&line)
                };
                match parsed {
                    Ok(Some(input)) => self.input(input, connection),
                    Ok(None) => {}
                    Err(message) => self.printer.report(&Report::Error(message)),
                }
            }
            Happening::Ack { n, result } => {
                if let Some((id, event)) = self.pending.remove(&n) {
                    match result {
                        Ok(args) => {
                            self.printer.report(&Report::Ack {
                                id: &id,
                                event: &event,
                                args: &args,
                            });
                        }
                        Err(e) => {
                            self.printer.report(&Report::AckError {
                                id: &id,
                                event: &event,
                                message: ack_failure(&e),
                            });
                            let status = match e {
                                socketio_tokio::Error::Ack(AckError::Timeout) => code::ACK_TIMEOUT,
                                _ => code::FAILURE,
                            };
                            self.ack_failed.get_or_insert(status);
                        }
                    }
                }
            }
        }
        None
    }

    fn message(&mut self, mut message: Message) {
        let args = match message.args.parse::<Vec<Arg>>() {
            Ok(args) => args,
            Err(e) => {
                let text = format!("unreadable arguments of {:?}: {e}", message.event);
                self.printer.report(&Report::Error(text));
                return;
            }
        };
        let reply = message.take_ack().map(|ack| {
            self.next_reply += 1;
            self.replies.insert(self.next_reply, ack);
            self.next_reply
        });
        self.printer.report(&Report::Event {
            event: &message.event,
            args: &args,
            reply,
        });
    }

    fn input(&mut self, input: Input, connection: &Connection) {
        match input {
            Input::Emit {
                event,
                args,
                ack,
                id,
            } => self.emit(event, args, ack, id, connection),
            Input::Reply { id, args } => {
                let Some(ack) = self.replies.remove(&id) else {
                    let text = format!("no open request number {id} to reply to");
                    self.printer.report(&Report::Error(text));
                    return;
                };
                if let Err(e) = ack.send(ArgsVec(args)) {
                    self.printer
                        .report(&Report::Error(format!("reply {id} not sent: {e}")));
                }
            }
        }
    }

    fn emit(
        &mut self,
        event: String,
        args: Vec<Arg>,
        ack: bool,
        id: Option<Value>,
        connection: &Connection,
    ) {
        let socket = &connection.socket;
        if !ack {
            match socket.emit(&event, ArgsVec(args)) {
                Ok(()) => self.last_plain_emit = Some(Instant::now()),
                Err(e) => self.printer.report(&Report::Error(format!("{event}: {e}"))),
            }
            return;
        }
        self.asked += 1;
        let n = self.asked;
        let tx = connection.tx.clone();
        let args = ArgsVec(args);
        match self.ack_timeout {
            Some(timeout) => await_ack(n, tx, socket.timeout(timeout).emit_with_ack(&event, args)),
            None => await_ack(n, tx, socket.emit_with_ack(&event, args)),
        }
        self.pending
            .insert(n, (id.unwrap_or_else(|| Value::from(n)), event));
    }
}

/// Waits for ack `n` on a task of its own and reports it.
fn await_ack(
    n: u64,
    tx: UnboundedSender<Happening>,
    reply: impl Future<Output = Result<Vec<Arg>, socketio_tokio::Error>> + Send + 'static,
) {
    tokio::spawn(async move {
        let result = reply.await;
        let _ = tx.send(Happening::Ack { n, result });
    });
}

/// Why an ack did not come, in the words of the JavaScript client where it has some.
pub fn ack_failure(error: &socketio_tokio::Error) -> String {
    match error {
        socketio_tokio::Error::Ack(e) => e.to_string(),
        other => other.to_string(),
    }
}
