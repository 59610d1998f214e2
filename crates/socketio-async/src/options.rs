//! Every option of socket.io-client, with its name in snake_case and its default.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use engineio_proto::TransportKind;
use socketio_proto::codec::{JsonParser, Parser};
use socketio_proto::{ManagerConfig, SocketConfig};

use crate::error::Error;
use crate::prepare::{BeforeConnect, ConnectAttempt};

/// Options for [`crate::io`] and [`crate::Manager`]: the engine's, the manager's and the
/// socket's in one struct, as in socket.io-client. Start from [`Options::default`].
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    // ----- io() -----
    /// Always create a new manager instead of reusing a cached one. Default `false`.
    pub force_new: bool,
    /// Reuse one connection for several namespaces of the same server. Default `true`.
    pub multiplex: bool,
    /// Connect as soon as the socket is created. Default `true`.
    pub auto_connect: bool,

    // ----- engine -----
    /// The server path. Default `/socket.io`.
    pub path: String,
    /// Whether the path ends with `/`. Default `true`.
    pub add_trailing_slash: bool,
    /// Query parameters of the handshake (and every request). The URL's own query is added.
    pub query: Vec<(String, String)>,
    /// Transports in order. Default polling, then an upgrade to WebSocket.
    pub transports: Vec<TransportKind>,
    /// Upgrade from polling to WebSocket. Default `true`.
    pub upgrade: bool,
    /// Start with WebSocket when one worked before in this process. Default `false`.
    pub remember_upgrade: bool,
    /// On failure while opening, try the next transport. Default `false`.
    pub try_all_transports: bool,
    /// Cache-busting parameter: `None` (default) = on polling requests only.
    pub timestamp_requests: Option<bool>,
    /// Name of the cache-busting parameter. Default `t`.
    pub timestamp_param: String,
    /// Send binary as base64 text. Default `false`.
    pub force_base64: bool,
    /// The Engine.IO revision: `V4` (the default), `V3` for socket.io 2.x servers, or
    /// `Detect` to speak whichever the server answers in (see
    /// [`engineio_proto::EngineProtocol`]). With v3, `auth` cannot be sent: use `query`.
    pub protocol: crate::EngineProtocol,
    /// Headers on every HTTP request and the WebSocket handshake.
    pub extra_headers: Vec<(String, String)>,
    /// Keep and send back cookies (sticky sessions). Default `false`.
    pub with_credentials: bool,
    /// WebSocket sub-protocols.
    pub protocols: Vec<String>,
    /// The largest WebSocket message (and frame) accepted, in bytes; a larger one closes the
    /// connection ("transport error"). Default 100 MiB, as the `ws` library under
    /// socket.io-client on Node accepts.
    pub max_websocket_message: usize,
    /// The decoder's limits on received packets: nesting depth (default 1,000), attachments
    /// per binary packet (10, as socket.io-parser's `maxAttachments`) and the bytes a partly
    /// received binary packet may buffer (100 MiB). A packet over a limit is a parse error
    /// naming the limit ("parse error" close, then reconnection).
    pub limits: socketio_proto::codec::Limits,
    /// The largest long-polling response body accepted, in bytes; a larger (or never-ending)
    /// body fails the request ("transport error"). Default 100 MiB, the WebSocket bound, so
    /// both transports carry the same largest message.
    pub max_polling_body: usize,
    /// Flow control on the receive side (per connection): the read-ahead in bytes (1 MiB)
    /// above which the transport is not read until the application catches up, and the
    /// capacity (1,024 events) and [`crate::Overflow`] policy (wait: nothing dropped) of
    /// event streams and `on_async` queues. See docs/flow-control.md.
    pub flow: crate::FlowOptions,
    /// The send buffer's bounds and overflow policy (per socket): emits accepted and not
    /// yet handed to the transport, offline or while the transport is behind. Unbounded by
    /// default, as the reference's `sendBuffer`. See docs/flow-control.md.
    pub send_buffer: crate::SendBufferOptions,

    // ----- manager -----
    /// Reconnect automatically. Default `true`.
    pub reconnection: bool,
    /// Attempts before giving up; `None` (default) = forever.
    pub reconnection_attempts: Option<u32>,
    /// First reconnection delay. Default 1 s.
    pub reconnection_delay: Duration,
    /// Largest reconnection delay. Default 5 s.
    pub reconnection_delay_max: Duration,
    /// Jitter, 0..=1. Default 0.5.
    pub randomization_factor: f64,
    /// Connection timeout; `None` waits forever. Default 20 s.
    pub timeout: Option<Duration>,
    /// The packet encoding. Default JSON.
    pub parser: Arc<dyn Parser>,

    // ----- socket -----
    /// The CONNECT payload (a JSON object), e.g. `{"token": "..."}`.
    pub auth: Option<serde_json::Value>,
    /// Default ack timeout.
    pub ack_timeout: Option<Duration>,
    /// Resend unacknowledged emits this many times (needs `ack_timeout`).
    pub retries: Option<u32>,

    // ----- this client -----
    /// An async hook run before every connection and reconnection attempt, which may change
    /// auth, query, headers, transports and the server (see [`BeforeConnect`]). Default none.
    pub before_connect: Option<BeforeConnect>,
}

/// 100 MiB: the largest message the `ws` library (under socket.io-client on Node) accepts by
/// default.
pub const DEFAULT_MAX_MESSAGE: usize = 100 << 20;

impl Default for Options {
    fn default() -> Self {
        Self {
            force_new: false,
            multiplex: true,
            auto_connect: true,
            path: "/socket.io".into(),
            add_trailing_slash: true,
            query: Vec::new(),
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            upgrade: true,
            remember_upgrade: false,
            try_all_transports: false,
            timestamp_requests: None,
            timestamp_param: "t".into(),
            force_base64: false,
            protocol: crate::EngineProtocol::V4,
            extra_headers: Vec::new(),
            with_credentials: false,
            protocols: Vec::new(),
            max_websocket_message: DEFAULT_MAX_MESSAGE,
            max_polling_body: DEFAULT_MAX_MESSAGE,
            limits: socketio_proto::codec::Limits::default(),
            flow: crate::FlowOptions::default(),
            send_buffer: crate::SendBufferOptions::default(),
            reconnection: true,
            reconnection_attempts: None,
            reconnection_delay: Duration::from_millis(1000),
            reconnection_delay_max: Duration::from_millis(5000),
            randomization_factor: 0.5,
            timeout: Some(Duration::from_millis(20_000)),
            parser: Arc::new(JsonParser),
            auth: None,
            ack_timeout: None,
            retries: None,
            before_connect: None,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Auth, query values and header values may be secrets: never print them.
        let names = |pairs: &[(String, String)]| -> Vec<String> {
            pairs.iter().map(|(k, _)| k.clone()).collect()
        };
        f.debug_struct("Options")
            .field("force_new", &self.force_new)
            .field("multiplex", &self.multiplex)
            .field("auto_connect", &self.auto_connect)
            .field("path", &self.path)
            .field("query", &names(&self.query))
            .field("transports", &self.transports)
            .field("upgrade", &self.upgrade)
            .field("protocol", &self.protocol)
            .field("extra_headers", &names(&self.extra_headers))
            .field("with_credentials", &self.with_credentials)
            .field("max_websocket_message", &self.max_websocket_message)
            .field("max_polling_body", &self.max_polling_body)
            .field("limits", &self.limits)
            .field("flow", &self.flow)
            .field("send_buffer", &self.send_buffer)
            .field("reconnection", &self.reconnection)
            .field("reconnection_attempts", &self.reconnection_attempts)
            .field("reconnection_delay", &self.reconnection_delay)
            .field("reconnection_delay_max", &self.reconnection_delay_max)
            .field("randomization_factor", &self.randomization_factor)
            .field("timeout", &self.timeout)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("ack_timeout", &self.ack_timeout)
            .field("retries", &self.retries)
            .field("before_connect", &self.before_connect.is_some())
            .finish_non_exhaustive()
    }
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl Options {
    setter!(/// Sets `force_new`.
        force_new: bool);
    setter!(/// Sets `multiplex`.
        multiplex: bool);
    setter!(/// Sets `auto_connect`.
        auto_connect: bool);
    setter!(/// Sets `reconnection`.
        reconnection: bool);
    setter!(/// Sets `reconnection_attempts`.
        reconnection_attempts: Option<u32>);
    setter!(/// Sets `reconnection_delay`.
        reconnection_delay: Duration);
    setter!(/// Sets `reconnection_delay_max`.
        reconnection_delay_max: Duration);
    setter!(/// Sets `randomization_factor`.
        randomization_factor: f64);
    setter!(/// Sets `timeout`.
        timeout: Option<Duration>);
    setter!(/// Sets `protocol` (the Engine.IO revision).
        protocol: crate::EngineProtocol);
    setter!(/// Sets `upgrade`.
        upgrade: bool);
    setter!(/// Sets `with_credentials`.
        with_credentials: bool);
    setter!(/// Sets `ack_timeout`.
        ack_timeout: Option<Duration>);
    setter!(/// Sets `retries`.
        retries: Option<u32>);
    setter!(/// Sets the parser.
        parser: Arc<dyn Parser>);
    setter!(/// Sets `max_websocket_message`.
        max_websocket_message: usize);
    setter!(/// Sets `max_polling_body`.
        max_polling_body: usize);
    setter!(/// Sets the decoder's `limits`.
        limits: socketio_proto::codec::Limits);
    setter!(/// Sets the receive-side `flow` control (read-ahead, queue capacity, overflow).
        flow: crate::FlowOptions);
    setter!(/// Sets the `send_buffer` bounds and overflow policy.
        send_buffer: crate::SendBufferOptions);

    /// Sets the transports, in the order they are tried.
    pub fn transports(mut self, transports: impl IntoIterator<Item = TransportKind>) -> Self {
        self.transports = transports.into_iter().collect();
        self
    }

    /// Runs `hook` before every connection and reconnection attempt; it may change what the
    /// attempt uses ([`ConnectAttempt`]), e.g. refresh a token:
    ///
    /// ```
    /// use socketio_async::{ConnectAttempt, Options};
    ///
    /// # async fn fetch_token() -> Result<String, std::io::Error> { Ok("t".into()) }
    /// let options = Options::default().before_connect(|mut attempt: ConnectAttempt| async move {
    ///     let token = fetch_token().await?;
    ///     attempt.auth.insert("/".into(), serde_json::json!({ "token": token }));
    ///     Ok(attempt)
    /// });
    /// ```
    pub fn before_connect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(ConnectAttempt) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<ConnectAttempt, crate::BoxError>> + Send + 'static,
    {
        self.before_connect = Some(BeforeConnect::new(hook));
        self
    }

    /// Sets the CONNECT payload.
    pub fn auth(mut self, auth: serde_json::Value) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a header.
    pub fn extra_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((name.into(), value.into()));
        self
    }

    /// Sets the path.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The manager configuration for the server at `url` (its path is the namespace and is
    /// not used here; its query is added to `query`). Public for clients built on the
    /// sans-IO core without this crate's driver (`socketio-blocking`).
    pub fn manager_config(&self, url: &url::Url) -> Result<ManagerConfig, Error> {
        let mut base = url.clone();
        let url_query: Vec<(String, String)> = base
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        base.set_query(None);
        base.set_path("/");
        let mut engine = engineio_proto::Config::from_url(base)?;
        engine.path = self.path.clone();
        engine.add_trailing_slash = self.add_trailing_slash;
        engine.query = url_query;
        engine.query.extend(self.query.iter().cloned());
        engine.transports = self.transports.clone();
        engine.upgrade = self.upgrade;
        engine.remember_upgrade = self.remember_upgrade;
        engine.try_all_transports = self.try_all_transports;
        engine.timestamp_requests = self.timestamp_requests;
        engine.timestamp_param = self.timestamp_param.clone();
        engine.force_base64 = self.force_base64;
        engine.protocol = self.protocol;
        engine.extra_headers = self.extra_headers.clone();
        engine.with_credentials = self.with_credentials;
        engine.protocols = self.protocols.clone();
        let mut config = ManagerConfig::from_engine(engine);
        config.reconnection = self.reconnection;
        config.reconnection_attempts = self.reconnection_attempts;
        config.reconnection_delay = self.reconnection_delay;
        config.reconnection_delay_max = self.reconnection_delay_max;
        config.randomization_factor = self.randomization_factor;
        config.timeout = self.timeout;
        config.parser = self.parser.clone();
        config.limits = self.limits;
        config.validate()?;
        Ok(config)
    }

    /// The namespace socket's configuration (`ack_timeout`, `retries`), checked, with `auth`
    /// checked to be a JSON object.
    pub fn socket_config(&self) -> Result<SocketConfig, Error> {
        let mut config = SocketConfig::default();
        config.ack_timeout = self.ack_timeout;
        config.retries = self.retries;
        config.validate()?;
        if let Some(auth) = &self.auth
            && !auth.is_object()
        {
            return Err(Error::Config(socketio_proto::ConfigError::InvalidAuth));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder's limits set on the options reach the manager's configuration.
    #[test]
    fn limits_reach_the_manager() {
        let limits = socketio_proto::codec::Limits {
            max_depth: 5,
            max_attachments: 2,
            ..socketio_proto::codec::Limits::default()
        };
        let url = url::Url::parse("http://localhost:3000").expect("url");
        let config = Options::default()
            .limits(limits)
            .manager_config(&url)
            .expect("valid options");
        assert_eq!(config.limits, limits);
    }
}
