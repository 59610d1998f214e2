//! One namespace socket's state, and the borrowed views through which callers use it.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use smol_str::SmolStr;

use crate::codec::{Packet, Payload};
use crate::config::SocketConfig;
use crate::event::EmitId;

/// Where a namespace is: the caller's wish (subscribed or not) and what the current engine
/// carries of it. Each transition is a method below, named for what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NspState {
    /// Not subscribed, and nothing of it on the current engine: at first, after a refusal or
    /// a server DISCONNECT, after the engine closed.
    Inactive,
    /// Subscribed: CONNECT goes out once the engine is open.
    WaitingForEngine,
    /// Subscribed: CONNECT written on the current engine, not answered yet.
    ConnectSent {
        /// The caller left a session of this namespace on this engine: until the reply,
        /// what arrives was meant for that session.
        left_session: bool,
    },
    /// Subscribed and connected on the current engine.
    Connected,
    /// Not subscribed, but the current engine still carries something of it (one of the two
    /// at least: with neither it is `Inactive`, see [`NspState::left`]).
    Left {
        /// A CONNECT is unanswered: its reply is answered with DISCONNECT, and a new
        /// `connect()` waits for it rather than send a second one, which the server would
        /// punish by closing the whole connection.
        connect_sent: bool,
        /// The caller left a session here: what the server still sends it is ignored.
        left_session: bool,
    },
}

impl NspState {
    /// Not subscribed, with what the engine still carries.
    fn left(connect_sent: bool, left_session: bool) -> Self {
        if connect_sent || left_session {
            Self::Left {
                connect_sent,
                left_session,
            }
        } else {
            Self::Inactive
        }
    }

    /// Subscribed: (re)connects whenever the manager (re)opens.
    pub(crate) fn is_active(self) -> bool {
        matches!(
            self,
            Self::WaitingForEngine | Self::ConnectSent { .. } | Self::Connected
        )
    }

    pub(crate) fn is_connected(self) -> bool {
        self == Self::Connected
    }

    /// A CONNECT written on the current engine is unanswered.
    pub(crate) fn connect_sent(self) -> bool {
        matches!(
            self,
            Self::ConnectSent { .. }
                | Self::Left {
                    connect_sent: true,
                    ..
                }
        )
    }

    /// A session the caller left on the current engine may still be sent to.
    pub(crate) fn left_session(self) -> bool {
        matches!(
            self,
            Self::ConnectSent { left_session: true }
                | Self::Left {
                    left_session: true,
                    ..
                }
        )
    }

    /// The caller connects a namespace that is not connected. A CONNECT still unanswered is
    /// waited for; otherwise one is due (with [`NspState::left_session`] read before, for a
    /// namespace that was left on the open engine).
    pub(crate) fn activated(self) -> Self {
        match self {
            Self::Left {
                connect_sent: true,
                left_session,
            } => Self::ConnectSent { left_session },
            Self::Inactive | Self::Left { .. } => Self::WaitingForEngine,
            other => other,
        }
    }

    /// The caller leaves the namespace.
    pub(crate) fn deactivated(self) -> Self {
        match self {
            Self::Connected => Self::left(false, true),
            Self::ConnectSent { left_session } => Self::left(true, left_session),
            Self::WaitingForEngine => Self::Inactive,
            other => other,
        }
    }

    /// The CONNECT was answered, and the namespace is not subscribed after it: the server
    /// refused (or the client did, for a CONNECT that cannot be sent), or the caller had left
    /// meanwhile.
    pub(crate) fn answered_inactive(self) -> Self {
        Self::left(false, self.left_session())
    }

    /// The engine closed: nothing of the namespace is on a connection any more.
    pub(crate) fn engine_closed(self) -> Self {
        if self.is_active() {
            Self::WaitingForEngine
        } else {
            Self::Inactive
        }
    }
}

/// A packet waiting for the namespace's CONNECT reply.
#[derive(Debug, Clone)]
pub(crate) struct Buffered {
    pub(crate) packet: Packet,
    pub(crate) emit: EmitId,
}

/// An emit in the retry queue (at-least-once delivery).
#[derive(Debug)]
pub(crate) struct Queued<W> {
    pub(crate) emit: EmitId,
    pub(crate) payload: Payload,
    pub(crate) tries: u32,
    pub(crate) pending: bool,
    /// The caller's waiter, handed back in the [`crate::Event::Ack`] once the queue is done
    /// with the emit; `None` when the caller asked for no ack.
    pub(crate) waiter: Option<W>,
    pub(crate) timeout: Option<Duration>,
}

pub(crate) struct Socket<W> {
    pub(crate) nsp: SmolStr,
    pub(crate) config: SocketConfig,
    pub(crate) state: NspState,
    pub(crate) id: Option<String>,
    pub(crate) pid: Option<String>,
    pub(crate) last_offset: Option<String>,
    pub(crate) recovered: bool,
    pub(crate) auth: Option<Payload>,
    /// The wire id of this namespace's next ack (its pending acks are in the manager's
    /// [`crate::ack::AckTable`]).
    pub(crate) next_ack_id: u64,
    pub(crate) send_buffer: VecDeque<Buffered>,
    pub(crate) receive_buffer: VecDeque<Packet>,
    pub(crate) queue: VecDeque<Queued<W>>,
    /// Ack ids the server asked for on this connection and the caller has not answered yet.
    pub(crate) server_acks: HashSet<u64>,
}

impl<W> std::fmt::Debug for Socket<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `auth` is a credential; buffered packets are counted (they are the caller's data).
        f.debug_struct("Socket")
            .field("nsp", &self.nsp)
            .field("config", &self.config)
            .field("state", &self.state)
            .field("id", &self.id)
            .field("recovered", &self.recovered)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("send_buffer", &self.send_buffer.len())
            .field("receive_buffer", &self.receive_buffer.len())
            .field("queue", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl<W> Socket<W> {
    pub(crate) fn new(nsp: SmolStr, config: SocketConfig) -> Self {
        Self {
            nsp,
            config,
            state: NspState::Inactive,
            id: None,
            pid: None,
            last_offset: None,
            recovered: false,
            auth: None,
            next_ack_id: 0,
            send_buffer: VecDeque::new(),
            receive_buffer: VecDeque::new(),
            queue: VecDeque::new(),
            server_acks: HashSet::new(),
        }
    }

    /// The CONNECT payload: `{pid, offset}` first when recovery is possible, then the auth
    /// keys, which win on a clash (the reference's `Object.assign({pid, offset}, auth)`;
    /// duplicate keys resolve to the last one in JSON.parse).
    pub(crate) fn connect_payload(&self) -> Option<Payload> {
        let Some(pid) = &self.pid else {
            return self.auth.clone();
        };
        let mut json = String::with_capacity(64);
        json.push_str("{\"pid\":");
        push_json_string(&mut json, pid);
        if let Some(offset) = &self.last_offset {
            json.push_str(",\"offset\":");
            push_json_string(&mut json, offset);
        }
        if let Some(auth) = &self.auth {
            // auth was checked to be a JSON object when it was set.
            let text = std::str::from_utf8(auth.json()).unwrap_or("{}").trim();
            let inner = text
                .strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
                .unwrap_or("")
                .trim();
            if !inner.is_empty() {
                json.push(',');
                json.push_str(inner);
            }
        }
        json.push('}');
        Payload::from_json(json.into()).ok()
    }
}

fn push_json_string(out: &mut String, s: &str) {
    // serde_json's string escaping, without building a Value.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::NspState::{self, *};

    const ALL: [NspState; 8] = [
        Inactive,
        WaitingForEngine,
        ConnectSent {
            left_session: false,
        },
        ConnectSent { left_session: true },
        Connected,
        Left {
            connect_sent: true,
            left_session: false,
        },
        Left {
            connect_sent: false,
            left_session: true,
        },
        Left {
            connect_sent: true,
            left_session: true,
        },
    ];

    #[test]
    fn connected_is_active_with_nothing_pending_or_left() {
        for state in ALL {
            if state.is_connected() {
                assert!(state.is_active());
                assert!(!state.connect_sent() && !state.left_session());
            }
        }
    }

    #[test]
    fn leaving_and_joining_again_on_one_engine_waits_for_the_unanswered_connect() {
        let sent = ConnectSent {
            left_session: false,
        };
        let left = sent.deactivated();
        assert!(!left.is_active() && left.connect_sent() && !left.left_session());
        assert_eq!(left.activated(), sent, "no second CONNECT");
        // The reply to a CONNECT the caller no longer wants leaves nothing behind.
        assert_eq!(left.answered_inactive(), Inactive);
    }

    #[test]
    fn a_left_session_is_remembered_until_a_connect_reply_or_the_engine_closes() {
        let left = Connected.deactivated();
        assert!(left.left_session() && !left.connect_sent() && !left.is_active());
        // Joining again needs a new CONNECT; the caller carries the left session into it.
        assert_eq!(left.activated(), WaitingForEngine);
        let rejoining = ConnectSent { left_session: true };
        assert!(rejoining.is_active() && rejoining.left_session());
        // Left again before the reply: both the CONNECT and the old session are on the engine.
        let both = rejoining.deactivated();
        assert!(both.connect_sent() && both.left_session());
        assert_eq!(
            both.answered_inactive(),
            left,
            "the reply answers only the CONNECT"
        );
        assert_eq!(
            rejoining.answered_inactive(),
            left,
            "a refusal keeps it too"
        );
        for state in ALL {
            assert!(!state.engine_closed().left_session());
            assert!(!state.engine_closed().connect_sent());
            assert_eq!(state.engine_closed().is_active(), state.is_active());
        }
    }

    #[test]
    fn transitions_never_make_an_empty_left_state() {
        let empty = Left {
            connect_sent: false,
            left_session: false,
        };
        for state in ALL {
            for next in [
                state.activated(),
                state.deactivated(),
                state.answered_inactive(),
                state.engine_closed(),
            ] {
                assert_ne!(next, empty, "from {state:?}");
            }
        }
        assert_eq!(WaitingForEngine.deactivated(), Inactive);
        assert_eq!(Inactive.activated(), WaitingForEngine);
    }
}
