//! What listeners and event streams receive.

use std::fmt;

use engineio_proto::TransportKind;
use futures_channel::mpsc::UnboundedSender;
use serde::Serialize;
use socketio_proto::SmolStr;

use crate::args::{Args, EmitArgs, ack_payload};
use crate::driver::Command;
use crate::error::{ConnectError, DisconnectReason, Error};

/// An event the server sent to a namespace.
#[derive(Debug, Clone)]
pub struct Message {
    /// The event name: a [`SmolStr`](crate::SmolStr), which dereferences to `str` and
    /// compares with `&str` (`message.event == "news"`); names up to 23 bytes are held
    /// inline, so receiving an event allocates no string for it.
    pub event: SmolStr,
    /// Its arguments (the recovery offset is not among them: see `offset`).
    pub args: Args,
    /// The connection-state-recovery offset, when the server uses recovery.
    pub offset: Option<String>,
    ack: Option<AckSender>,
}

impl Message {
    pub(crate) fn new(
        event: SmolStr,
        args: Args,
        offset: Option<String>,
        ack: Option<AckSender>,
    ) -> Self {
        Self {
            event,
            args,
            offset,
            ack,
        }
    }

    /// Whether the server asked for an ack.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Takes the ack responder, if the server asked for one (once).
    pub fn take_ack(&mut self) -> Option<AckSender> {
        self.ack.take()
    }
}

/// Answers one ack request of the server. Sending consumes it; the server gets at most one
/// answer.
#[derive(Clone)]
pub struct AckSender {
    pub(crate) tx: UnboundedSender<Command>,
    /// The driver, to write the answer from the caller's task when it is idle.
    pub(crate) driver: std::sync::Weak<std::sync::Mutex<crate::driver::Driver>>,
    pub(crate) nsp: SmolStr,
    pub(crate) id: u64,
}

impl fmt::Debug for AckSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckSender")
            .field("nsp", &self.nsp)
            .field("id", &self.id)
            .finish()
    }
}

impl AckSender {
    /// Sends the ack with these arguments (a tuple; `()` for none; binary as `bytes::Bytes`).
    pub fn send<A: EmitArgs>(self, args: A) -> Result<(), Error> {
        let payload = ack_payload(&args)?;
        let command = Command::Ack {
            nsp: self.nsp.into(),
            id: self.id,
            payload: Box::new(payload),
        };
        crate::driver::send_through(self.driver.upgrade().as_ref(), &self.tx, command)
    }

    /// Sends one serializable value as the only ack argument.
    pub fn send_one<T: Serialize>(self, value: T) -> Result<(), Error> {
        self.send((value,))
    }
}

/// A namespace socket's lifecycle and messages, as callbacks and streams see them.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SocketEvent {
    /// Connected (or reconnected) to the namespace.
    Connect {
        /// The socket id this connection has (the state of this moment: a stream read later
        /// may find the socket disconnected again, or on another id).
        id: String,
        /// Whether the server restored the previous session.
        recovered: bool,
    },
    /// Could not connect.
    ConnectError(ConnectError),
    /// Disconnected.
    Disconnect(DisconnectReason),
    /// An event from the server.
    Message(Message),
}

/// The connection's lifecycle, as the reference's Manager events.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ManagerEvent {
    /// The connection opened.
    Open,
    /// The connection closed.
    Close(DisconnectReason),
    /// Opening the connection failed: the HTTP status and server error, the IO failure
    /// (DNS, TCP, TLS, proxy, timeout) or the protocol error.
    Error(socketio_proto::ManagerError),
    /// The server pinged.
    Ping,
    /// The connection upgraded to this transport.
    Upgrade(TransportKind),
    /// A reconnection attempt starts (1 for the first).
    ReconnectAttempt(u32),
    /// Reconnected after this many attempts.
    Reconnect(u32),
    /// A reconnection attempt failed (it is retried after the backoff, unless attempts are
    /// exhausted: then [`ManagerEvent::ReconnectFailed`] follows).
    ReconnectError(socketio_proto::ManagerError),
    /// Every attempt failed; no more reconnection.
    ReconnectFailed,
}
