//! One namespace socket's state, and the borrowed views through which callers use it.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use crate::codec::{Packet, Payload};
use crate::config::SocketConfig;
use crate::event::EmitId;

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
    pub(crate) nsp: String,
    pub(crate) config: SocketConfig,
    /// Subscribed to the manager: (re)connects whenever the engine (re)opens.
    pub(crate) active: bool,
    pub(crate) connected: bool,
    /// CONNECT written on the current engine and not yet answered.
    pub(crate) connect_sent: bool,
    /// The caller left this namespace on the current engine: until the next CONNECT reply,
    /// what arrives for it was sent to the server socket that was left.
    pub(crate) left_on_engine: bool,
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
            .field("active", &self.active)
            .field("connected", &self.connected)
            .field("connect_sent", &self.connect_sent)
            .field("left_on_engine", &self.left_on_engine)
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
    pub(crate) fn new(nsp: String, config: SocketConfig) -> Self {
        Self {
            nsp,
            config,
            active: false,
            connected: false,
            connect_sent: false,
            left_on_engine: false,
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
