//! The Socket.IO protocol of socket.io 2.x (revision 4, spoken over Engine.IO 3), where it
//! differs from revision 5. A manager speaks it whenever its engine speaks Engine.IO 3:
//! socket.io 2.x servers, and 3.x/4.x servers with `allowEIO3` (which answer an Engine.IO 3
//! client the 2.x way).
//!
//! - The server connects the default namespace `/` by itself when the connection opens and
//!   sends its `0` unasked (socket.io 2.x merges it into the handshake response); the client
//!   sends CONNECT only for other namespaces.
//! - CONNECT carries no payload: there is no `auth`. socket.io-client 2.x put its query after
//!   the namespace instead, `0/chat?token=abc,`, and so does this client with the engine's
//!   query; a 2.x server reads it as `socket.handshake.query`, a 4.x server as `auth`.
//! - The CONNECT reply carries no `sid`: the socket id is the Engine.IO session id for `/` and
//!   `<nsp>#<Engine.IO sid>` for others, as socket.io-client 2.x computed it.
//! - Type 4 is ERROR, not CONNECT_ERROR: its data is a string (`4"Invalid namespace"`,
//!   `4/admin,"not authorized"`) or the middleware's `err.data`. It is handled like a
//!   CONNECT_ERROR, which already accepts both forms.
//! - socket.io-client 2.x kept more event names for itself (they were emitted locally, never
//!   sent): [`RESERVED_EVENTS_V4`].

use web_time::Instant;

use crate::codec::Packet;
use crate::event::{ConnectError, Event};
use crate::manager::Manager;
use crate::socket::NspState;

/// Event names socket.io-client 2.x reserved (`Socket.events`): emitting one emitted it
/// locally instead of sending it, so this client refuses to emit them to such a server.
pub const RESERVED_EVENTS_V4: &[&str] = &[
    "connect",
    "connect_error",
    "connect_timeout",
    "connecting",
    "disconnect",
    "error",
    "reconnect",
    "reconnect_attempt",
    "reconnect_failed",
    "reconnect_error",
    "reconnecting",
    "ping",
    "pong",
];

/// Where the implicit connection of `/` is on the current engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// The server's `0` for `/` has not come and no socket of `/` has claimed it.
    Awaiting,
    /// It came before a socket of `/` was active: the next `connect()` of `/` takes it.
    Arrived,
    /// A socket took it (or is waiting for it): a later CONNECT for `/` is sent explicitly.
    Used,
}

/// The state of a connection that speaks the 2.x protocol.
#[derive(Debug, Clone)]
pub(crate) struct Legacy {
    pub(crate) root: Root,
    /// The Engine.IO session id, from which socket ids are derived.
    pub(crate) engine_sid: String,
}

impl Legacy {
    /// The socket id socket.io 2.x gives the socket of `nsp`.
    pub(crate) fn socket_id(&self, nsp: &str) -> String {
        if nsp == "/" {
            self.engine_sid.clone()
        } else {
            format!("{nsp}#{}", self.engine_sid)
        }
    }
}

impl<W> Manager<W> {
    pub(crate) fn connect_namespace_legacy(
        &mut self,
        now: Instant,
        index: usize,
        left_session: bool,
    ) {
        if self.sockets[index].auth.is_some() {
            // Sending the CONNECT without the credentials would connect unauthenticated, or
            // be refused for a reason the caller could not see: say why instead.
            let socket = &mut self.sockets[index];
            socket.state = NspState::ConnectSent { left_session }.answered_inactive();
            let nsp = socket.nsp.clone();
            self.event(Event::ConnectError {
                nsp,
                error: ConnectError::AuthUnsupported,
            });
            return self.maybe_close_after_destroy(now);
        }
        let Some(legacy) = self.legacy.as_mut() else {
            return;
        };
        if self.sockets[index].nsp == "/" {
            let root = legacy.root;
            legacy.root = Root::Used;
            match root {
                Root::Awaiting => {
                    self.sockets[index].state = NspState::ConnectSent { left_session };
                    return;
                }
                Root::Arrived => {
                    self.sockets[index].state = NspState::ConnectSent { left_session };
                    return self.on_connect_reply(now, index, Packet::connect("/", None));
                }
                Root::Used => {}
            }
        }
        let socket = &mut self.sockets[index];
        socket.state = NspState::ConnectSent { left_session };
        let mut nsp = String::from(socket.nsp.as_str());
        let query = &self.config.engine.query;
        if !query.is_empty() {
            let mut encoded = url::form_urlencoded::Serializer::new(String::new());
            encoded.extend_pairs(query.iter());
            nsp.push('?');
            nsp.push_str(&encoded.finish());
        }
        self.write(now, &Packet::connect(&nsp, None));
    }
}
