//! What the fake Socket.IO server knows and how it answers: namespaces, middlewares, acks,
//! echoes, connection state recovery.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use socketio_proto::codec::Payload;

/// A namespace middleware: sees each CONNECT (not the recovered ones, like the Node server with
/// `skipMiddlewares`) and lets it in or refuses it.
pub type Middleware = Box<dyn FnMut(&ConnectRequest<'_>) -> Result<(), ConnectRefusal>>;

/// A CONNECT as a middleware sees it.
#[derive(Debug, Clone, Copy)]
pub struct ConnectRequest<'a> {
    /// The namespace.
    pub nsp: &'a str,
    /// The CONNECT payload (the client's `auth`, plus `pid`/`offset` when it tries to recover).
    pub auth: Option<&'a serde_json::Value>,
    /// How many CONNECTs this namespace has received so far, this one included (1 for the
    /// first), over every Engine.IO session.
    pub attempt: u32,
    /// When it arrived.
    pub now: Instant,
}

/// A middleware's refusal: the CONNECT_ERROR `{"message":..., "data":...}` the client gets
/// (`data` is the Node `err.data`; absent when `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectRefusal {
    /// `err.message`.
    pub message: String,
    /// `err.data`.
    pub data: Option<serde_json::Value>,
}

impl ConnectRefusal {
    /// A refusal with `message` and no data.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data`.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = Some(data);
        self
    }

    /// The CONNECT_ERROR payload.
    pub fn to_json(&self) -> String {
        let mut object = serde_json::Map::new();
        object.insert("message".into(), self.message.clone().into());
        if let Some(data) = &self.data {
            object.insert("data".into(), data.clone());
        }
        serde_json::Value::Object(object).to_string()
    }
}

/// When the server answers a client event that asked for an ack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckPolicy {
    /// At once, while handling the event.
    Immediate,
    /// This long after the event arrived (dropped if the namespace is left meanwhile).
    After(Duration),
    /// Never: for timeouts and retries.
    Never,
}

/// How one namespace behaves.
pub struct NamespaceConfig {
    /// Runs on every CONNECT that is not a recovery; `None` lets everyone in.
    pub middleware: Option<Middleware>,
    /// Emit every client event that did not ask for an ack back to the client, unchanged
    /// (binary included), like the Node test server's `echo` handler.
    pub echo: bool,
    /// When client events that ask for an ack are answered. Default [`AckPolicy::Immediate`].
    pub acks: AckPolicy,
    /// Per event name, instead of [`NamespaceConfig::acks`].
    pub acks_by_event: BTreeMap<String, AckPolicy>,
    /// The ack arguments (a JSON array); `None` answers with the event's own arguments.
    pub ack_with: Option<Payload>,
    /// An event (`[name, args...]`) emitted to every socket right after its CONNECT reply,
    /// like the Node test server's `welcome`; with recovery on, it initialises the offset.
    pub welcome: Option<Payload>,
}

impl NamespaceConfig {
    /// A namespace that lets everyone in and acks at once with the event's arguments.
    pub fn new() -> Self {
        Self {
            middleware: None,
            echo: false,
            acks: AckPolicy::Immediate,
            acks_by_event: BTreeMap::new(),
            ack_with: None,
            welcome: None,
        }
    }

    /// Sets the middleware.
    pub fn middleware(
        mut self,
        middleware: impl FnMut(&ConnectRequest<'_>) -> Result<(), ConnectRefusal> + 'static,
    ) -> Self {
        self.middleware = Some(Box::new(middleware));
        self
    }

    /// Refuses every CONNECT with `refusal`.
    pub fn refuse_all(self, refusal: ConnectRefusal) -> Self {
        self.middleware(move |_| Err(refusal.clone()))
    }

    /// Sets whether events without an ack are echoed.
    pub fn echo(mut self, echo: bool) -> Self {
        self.echo = echo;
        self
    }

    /// Sets when acks are sent.
    pub fn acks(mut self, policy: AckPolicy) -> Self {
        self.acks = policy;
        self
    }

    /// Sets when acks are sent for events named `event`.
    pub fn acks_for(mut self, event: &str, policy: AckPolicy) -> Self {
        self.acks_by_event.insert(event.to_owned(), policy);
        self
    }

    /// Answers acks with these arguments (a JSON array) instead of the event's.
    pub fn ack_with(mut self, args: Payload) -> Self {
        self.ack_with = Some(args);
        self
    }

    /// Emits `event` after each successful CONNECT.
    pub fn welcome(mut self, event: Payload) -> Self {
        self.welcome = Some(event);
        self
    }

    /// The policy for an event named `name`.
    pub(crate) fn policy(&self, name: Option<&str>) -> AckPolicy {
        name.and_then(|n| self.acks_by_event.get(n))
            .copied()
            .unwrap_or(self.acks)
    }
}

impl Default for NamespaceConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for NamespaceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceConfig")
            .field("middleware", &self.middleware.as_ref().map(|_| "<fn>"))
            .field("echo", &self.echo)
            .field("acks", &self.acks)
            .field("acks_by_event", &self.acks_by_event)
            .field("ack_with", &self.ack_with)
            .field("welcome", &self.welcome)
            .finish()
    }
}

/// The fake Socket.IO server's options. Defaults are the Node server's.
#[derive(Debug)]
#[non_exhaustive]
pub struct SioConfig {
    /// The namespaces that exist; a CONNECT to any other is refused with
    /// `{"message":"Invalid namespace"}`. Default: `/` only.
    pub namespaces: BTreeMap<String, NamespaceConfig>,
    /// Connection state recovery with this `maxDisconnectionDuration`; `None` (the default)
    /// turns it off.
    pub recovery: Option<Duration>,
    /// The Engine.IO session is closed when no namespace joined within this (`connectTimeout`).
    /// Default 45 s.
    pub connect_timeout: Option<Duration>,
}

impl SioConfig {
    /// The defaults: namespace `/`, no recovery, a 45 s connect timeout.
    pub fn new() -> Self {
        let mut namespaces = BTreeMap::new();
        namespaces.insert("/".to_owned(), NamespaceConfig::new());
        Self {
            namespaces,
            recovery: None,
            connect_timeout: Some(Duration::from_secs(45)),
        }
    }

    /// Adds (or replaces) namespace `nsp`.
    pub fn namespace(mut self, nsp: &str, config: NamespaceConfig) -> Self {
        self.namespaces.insert(nsp.to_owned(), config);
        self
    }

    /// Turns connection state recovery on, with `maxDisconnectionDuration`.
    pub fn recovery(mut self, max_disconnection: Duration) -> Self {
        self.recovery = Some(max_disconnection);
        self
    }

    /// Sets the connect timeout (`None`: never).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

impl Default for SioConfig {
    fn default() -> Self {
        Self::new()
    }
}
