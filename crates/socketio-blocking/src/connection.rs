//! [`Connection`]: the sans-IO manager with its sockets, stepped by the caller's own loop.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use engineio_proto::{
    Header, IoError, IoErrorKind, PollRequest, Transmit, TransportEvent, TransportId, WsFrame,
};
use socketio_async::Options;
use socketio_async::proxy::ProxyOptions;
use socketio_async::tls::TlsOptions;
use socketio_proto::{Event, Manager, Output};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};
use url::Url;

use crate::error::Error;
use crate::http::{Exchange, Step, request_bytes};
use crate::net::{Connector, Stream, failure, io_kind};

/// The waker's token; sockets count up from zero and never reach it.
const WAKE: mio::Token = mio::Token(usize::MAX);

/// Idle kept-alive HTTP connections per polling transport: one GET and one POST at most are
/// in flight, so two cover every request.
const MAX_IDLE: usize = 2;

/// Bytes read from a WebSocket at once: tungstenite's default (128 KiB, allocated up front)
/// is far more than Engine.IO frames need; a larger frame still grows the buffer.
const WS_READ_BUFFER: usize = 4 * 1024;

/// How long a transport whose engine said goodbye may keep its last request (the `1` POST)
/// in flight: a server that never answers it does not hold the socket for ever (the async
/// driver gives the same grace).
const CLOSE_GRACE: Duration = Duration::from_secs(30);

/// Hands the manager one transport report, at the time it is handled.
fn report<W>(manager: &mut Manager<W>, transport: TransportId, event: TransportEvent) {
    manager.handle_transport(Instant::now(), transport, event);
}

/// An IO failure of this crate's HTTP client, which says what failed in its message
/// (connecting, TLS and the WebSocket handshake report typed kinds and sources instead).
fn io_error(message: String) -> IoError {
    IoError::new(IoErrorKind::Other, message)
}

/// What one transport id has open: a WebSocket, or a polling session's requests and idle
/// connections.
#[derive(Debug, Default)]
struct Transport {
    ws: Option<WebSocket<Stream>>,
    get: Option<Exchange>,
    post: Option<Exchange>,
    idle: Vec<Stream>,
    /// Its engine said goodbye and is gone (at this time): kept only until what is in
    /// flight (the `1` POST) finishes, or [`CLOSE_GRACE`] passes.
    lingering: Option<Instant>,
}

impl Transport {
    /// Stops readiness reports for every socket it holds (before they are dropped).
    fn deregister(self, registry: &mio::Registry) {
        if let Some(mut ws) = self.ws {
            ws.get_mut().deregister(registry);
        }
        let exchanges = self.get.into_iter().chain(self.post).map(|e| e.stream);
        for mut stream in exchanges.chain(self.idle) {
            stream.deregister(registry);
        }
    }
}

/// Options for a [`Connection`] or a [`crate::Client`]: the socket.io-client options plus
/// TLS, a proxy and the blocking steps' timeout.
///
/// ```
/// use std::time::Duration;
/// use socketio_blocking::{Builder, Options, TlsOptions};
///
/// let builder = Builder::new("https://chat.example.com/admin")
///     .options(Options::default().auth(serde_json::json!({"token": "t0k3n"})))
///     .tls(TlsOptions::default())
///     .connect_timeout(Duration::from_secs(5));
/// # let _ = builder;
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    url: String,
    options: Options,
    tls: TlsOptions,
    proxy: Option<ProxyOptions>,
    connect_timeout: Option<Duration>,
}

impl Builder {
    /// Options for the server at `url`; its path is the namespace (`http://host/admin` is
    /// `/admin`), as for socket.io-client's `io()`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            options: Options::default(),
            tls: TlsOptions::default(),
            proxy: None,
            connect_timeout: None,
        }
    }

    /// The socket.io-client options (transports, auth, reconnection, parser, ...).
    /// `force_new` and `multiplex` mean nothing here: every client is its own connection.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// TLS options for `https`/`wss` (`ca`, client certificates, ciphers, ...).
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Tunnels every connection through this HTTP proxy with `CONNECT` (except to the hosts
    /// of its `no_proxy` list); TLS runs end to end inside the tunnel.
    pub fn proxy(mut self, proxy: ProxyOptions) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// The most [`crate::Client::connect`] waits for the namespace, and the most each
    /// blocking network step (TCP connect, proxy `CONNECT`, TLS and WebSocket handshakes)
    /// may take. Default: the options' `timeout` (20 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.connect_timeout
            .or(self.options.timeout)
            .unwrap_or(Duration::from_secs(20))
    }

    pub(crate) fn namespace(&self) -> Result<String, Error> {
        let url = engineio_proto::parse_server_url(&self.url)?;
        Ok(match url.path() {
            "" => "/".to_owned(),
            p => p.to_owned(),
        })
    }

    /// A [`Connection`] with a socket for the URL's namespace (connecting already when the
    /// options' `auto_connect` is on, the default). Nothing happens on the network until it
    /// is polled.
    pub fn connection(self) -> Result<Connection, Error> {
        self.connection_with_waiters()
    }

    /// A [`Connection`] like [`Builder::connection`] whose manager keeps a waiter of type `W`
    /// with each ack (see [`Manager::with_waiters`]): give it to
    /// [`socketio_proto::SocketMut::emit_with_ack`], and [`Event::Ack`] hands it back.
    pub fn connection_with_waiters<W>(self) -> Result<Connection<W>, Error> {
        let url = engineio_proto::parse_server_url(&self.url)?;
        let config = self.options.manager_config(&url)?;
        let socket_config = self.options.socket_config()?;
        let nsp = self.namespace()?;
        let auth = match &self.options.auth {
            Some(auth) => Some(socketio_proto::codec::Payload::from_serialize(auth)?),
            None => None,
        };
        let tls = self.tls.build().map_err(Error::Tls)?;
        let rng = Box::new(rand_core::UnwrapErr(rand_core::OsRng));
        let now = Instant::now();
        let mut manager = Manager::with_waiters(config, now, rng)?;
        let mut socket = manager.add_socket(&nsp, socket_config)?;
        socket.set_auth(auth)?;
        if self.options.auto_connect {
            socket.connect(now);
        }
        let timeout = self.timeout();
        Connection::new(
            manager,
            Connector {
                tls,
                proxy: self.proxy,
                timeout,
            },
        )
    }

    /// Connects a [`crate::Client`]: see [`crate::Client::connect`].
    pub fn connect(self) -> Result<crate::Client, Error> {
        crate::client::connect(self)
    }
}

/// Wakes a [`Connection`] blocked in [`Connection::wait`] from another thread.
#[derive(Debug)]
pub struct Notifier(mio::Waker);

impl Notifier {
    /// Makes the current or next [`Connection::wait`] return.
    pub fn notify(&self) {
        // Failing leaves the waiter to its deadline, which is all that can be done.
        let _ = self.0.wake();
    }
}

/// A Socket.IO connection for your own event loop: the sans-IO [`Manager`], its sockets
/// (`std::net`, rustls, tungstenite, a small HTTP/1 client) and one readiness poller over
/// them.
///
/// **The loop: drain [`Connection::poll_event`] until `None` (it performs the manager's
/// transmits as it goes), then wait until a socket is readable or
/// [`Connection::poll_timeout`] passes ([`Connection::wait`], or your own loop on
/// [`Connection`]'s raw fd), then call [`Connection::handle_readable`] and
/// [`Connection::handle_timeout`].** Commands go to the manager at any point
/// ([`Connection::manager_mut`]); their output comes out at the next drain.
///
/// The raw fd is Unix-only. On Windows mio's poller is an I/O completion port fed through
/// AFD, not a handle that `select` or `WaitForMultipleObjects` can wait on, so there is no
/// `AsRawSocket`/`AsRawHandle` to offer: run [`Connection::wait`] on a thread of its own and
/// wake it with a [`Notifier`].
///
/// Reads and writes never block. Opening a connection does, for at most the
/// [`Builder::connect_timeout`] of each step: TCP connect, proxy `CONNECT`, TLS and WebSocket
/// handshakes run to completion when the manager asks for a connection (inside
/// `poll_event`). On a local network that is a round trip or two; a loop that must never
/// stall that long should run the connection on a thread of its own (as [`crate::Client`]
/// does).
///
/// ```no_run
/// use std::time::Instant;
/// use socketio_blocking::{Builder, Connection};
/// use socketio_proto::{EmitOptions, Event};
/// use socketio_proto::codec::Payload;
///
/// let mut connection = Builder::new("http://localhost:3000").connection()?;
/// let hello = Payload::from_serialize(&("hello", "world"))?;
/// connection.manager_mut().socket_mut("/").unwrap()
///     .emit(Instant::now(), hello, EmitOptions::default())?;
/// loop {
///     while let Some(event) = connection.poll_event() {
///         if let Event::Message { nsp, payload, ack: Some(id), .. } = event {
///             // The server asked for an ack.
///             let reply = Payload::from_serialize(&["ok"])?;
///             connection.manager_mut().socket_mut(&nsp).unwrap().ack(Instant::now(), id, reply)?;
///         }
///     }
///     connection.wait(connection.poll_timeout())?;
///     connection.handle_readable();
///     connection.handle_timeout(Instant::now());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Connection<W = ()> {
    manager: Manager<W>,
    poll: mio::Poll,
    readiness: mio::Events,
    connector: Connector,
    transports: BTreeMap<TransportId, Transport>,
    next_token: usize,
}

impl Connection {
    /// A connection to `url` (its path is the namespace) with `options`; see [`Builder`] for
    /// TLS and proxy options.
    pub fn open(url: &str, options: Options) -> Result<Self, Error> {
        Builder::new(url).options(options).connection()
    }
}

impl<W> Connection<W> {
    fn new(manager: Manager<W>, connector: Connector) -> Result<Self, Error> {
        Ok(Self {
            manager,
            poll: mio::Poll::new()?,
            readiness: mio::Events::with_capacity(16),
            connector,
            transports: BTreeMap::new(),
            next_token: 0,
        })
    }

    /// The sans-IO manager, to look at.
    pub fn manager(&self) -> &Manager<W> {
        &self.manager
    }

    /// The sans-IO manager, for commands: `add_socket`, `socket_mut(nsp)?.emit(..)`,
    /// `.ack(..)`, `.connect(..)`, `close(..)`.
    pub fn manager_mut(&mut self) -> &mut Manager<W> {
        &mut self.manager
    }

    /// A handle that makes [`Connection::wait`] return from another thread (for a command
    /// queued while the loop waits).
    pub fn notifier(&self) -> Result<Notifier, Error> {
        Ok(Notifier(mio::Waker::new(self.poll.registry(), WAKE)?))
    }

    /// The next event, performing every transmit before it; `None` when the manager has
    /// nothing more until new input. May block while a connection opens (see
    /// [`Connection`]).
    pub fn poll_event(&mut self) -> Option<Event<W>> {
        while let Some(output) = self.manager.poll_output() {
            match output {
                Output::Transmit(transmit) => self.perform(transmit),
                Output::Event(event) => {
                    if let Event::Close { goodbye, .. } = &event {
                        // A failed engine is gone, and so are its requests and WebSockets:
                        // the manager ignores what they would report. When the client said
                        // goodbye (its own close, a parse error, a server that broke the
                        // protocol) the `1` POST may still be on its way: that finishes.
                        if *goodbye {
                            let now = Instant::now();
                            for transport in self.transports.values_mut() {
                                transport.lingering.get_or_insert(now);
                            }
                        } else {
                            self.drop_transports();
                        }
                    } else if let Event::Error(_) = &event {
                        self.drop_transports();
                    }
                    return Some(event);
                }
            }
        }
        // Only now, with every transmit performed: a closing engine's next POST reuses its
        // transport, which must still be there.
        self.forget_finished();
        None
    }

    /// When [`Connection::handle_timeout`] is next due; `None` when nothing is scheduled.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let grace_ends = self
            .transports
            .values()
            .filter_map(|t| t.lingering)
            .min()
            .map(|since| since + CLOSE_GRACE);
        match (self.manager.poll_timeout(), grace_ends) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Fires what is due at `now`. Harmless when early or repeated.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.manager.handle_timeout(now);
        self.forget_lingering(now);
    }

    /// Blocks until a socket may be ready, [`Notifier::notify`] is called, or `deadline`
    /// passes (`None`: no deadline). Returns early now and then without cause; that is
    /// harmless.
    pub fn wait(&mut self, deadline: Option<Instant>) -> Result<(), Error> {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        match self.poll.poll(&mut self.readiness, timeout) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads whatever every socket has and writes what was waiting for room, reporting it to
    /// the manager. Never blocks; cheap when nothing is ready. Call it after [`wait`] or
    /// whenever your loop sees the raw fd readable.
    ///
    /// [`wait`]: Connection::wait
    pub fn handle_readable(&mut self) {
        // Takes the readiness that brought us here, so a raw-fd loop sees the fd quiet again.
        let _ = self.poll.poll(&mut self.readiness, Some(Duration::ZERO));
        let ids: Vec<TransportId> = self.transports.keys().copied().collect();
        for id in ids {
            self.read_ws(id);
            self.advance_http(id, PollRequest::Get);
            self.advance_http(id, PollRequest::Post);
        }
    }

    fn token(&mut self) -> mio::Token {
        self.next_token += 1;
        mio::Token(self.next_token)
    }

    fn perform(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::HttpGet {
                transport,
                url,
                headers,
            } => {
                let request = request_bytes(false, &url, &headers, &[]);
                self.start_http(transport, PollRequest::Get, url, request);
            }
            Transmit::HttpPost {
                transport,
                url,
                headers,
                body,
            } => {
                let request = request_bytes(true, &url, &headers, &body);
                self.start_http(transport, PollRequest::Post, url, request);
            }
            Transmit::WsOpen {
                transport,
                url,
                headers,
                protocols,
            } => self.open_ws(transport, &url, &headers, &protocols),
            Transmit::WsSend { transport, frame } => self.send_ws(transport, frame),
            Transmit::WsClose { transport } => {
                if let Some(mut ws) = self.transports.remove(&transport).and_then(|t| t.ws) {
                    // A close frame if it fits now; the server also sees the TCP close.
                    let _ = ws.close(None);
                    let _ = ws.flush();
                    ws.get_mut().deregister(self.poll.registry());
                }
            }
        }
    }

    // ----- long-polling -----

    fn start_http(
        &mut self,
        transport: TransportId,
        request: PollRequest,
        url: Url,
        bytes: Vec<u8>,
    ) {
        let idle = self
            .transports
            .get_mut(&transport)
            .and_then(|t| t.idle.pop());
        let exchange = match idle {
            Some(stream) => Exchange::new(stream, url, bytes, true),
            None => match self.fresh_stream(&url) {
                Ok(stream) => Exchange::new(stream, url, bytes, false),
                Err(e) => {
                    report(
                        &mut self.manager,
                        transport,
                        TransportEvent::HttpError { request, error: e },
                    );
                    return;
                }
            },
        };
        let entry = self.transports.entry(transport).or_default();
        match request {
            PollRequest::Get => entry.get = Some(exchange),
            PollRequest::Post => entry.post = Some(exchange),
        }
        self.advance_http(transport, request);
    }

    fn fresh_stream(&mut self, url: &Url) -> Result<Stream, IoError> {
        let mut stream = self.connector.connect(url)?;
        let token = self.token();
        stream
            .make_polled(self.poll.registry(), token)
            .map_err(|e| failure(IoErrorKind::Other, "poll", e))?;
        Ok(stream)
    }

    fn advance_http(&mut self, transport: TransportId, request: PollRequest) {
        let Some(entry) = self.transports.get_mut(&transport) else {
            return;
        };
        let slot = match request {
            PollRequest::Get => &mut entry.get,
            PollRequest::Post => &mut entry.post,
        };
        let Some(mut exchange) = slot.take() else {
            return;
        };
        match exchange.advance() {
            Step::Pending => *slot = Some(exchange),
            Step::Done(response, reusable) => {
                if reusable && entry.idle.len() < MAX_IDLE {
                    entry.idle.push(exchange.stream);
                } else {
                    exchange.stream.deregister(self.poll.registry());
                }
                report(
                    &mut self.manager,
                    transport,
                    TransportEvent::HttpResponse { request, response },
                );
            }
            Step::Failed { error, retry } => {
                exchange.stream.deregister(self.poll.registry());
                if retry {
                    // The server closed the kept-alive connection while it was idle: the
                    // request never reached it, so it goes again on a new one.
                    let (url, bytes) = exchange.into_request();
                    match self.fresh_stream(&url) {
                        Ok(stream) => {
                            let entry = self.transports.entry(transport).or_default();
                            let fresh = Some(Exchange::new(stream, url, bytes, false));
                            match request {
                                PollRequest::Get => entry.get = fresh,
                                PollRequest::Post => entry.post = fresh,
                            }
                            self.advance_http(transport, request);
                        }
                        Err(e) => report(
                            &mut self.manager,
                            transport,
                            TransportEvent::HttpError { request, error: e },
                        ),
                    }
                } else {
                    report(
                        &mut self.manager,
                        transport,
                        TransportEvent::HttpError {
                            request,
                            error: io_error(error),
                        },
                    );
                }
            }
        }
    }

    // ----- WebSocket -----

    fn open_ws(
        &mut self,
        transport: TransportId,
        url: &Url,
        headers: &[Header],
        protocols: &[String],
    ) {
        match self.connect_ws(url, headers, protocols) {
            Ok((ws, headers)) => {
                self.transports.entry(transport).or_default().ws = Some(ws);
                report(
                    &mut self.manager,
                    transport,
                    TransportEvent::WsOpen { headers },
                );
                // The handshake's last read may have taken the first frames along: edge
                // readiness will not announce them again.
                self.read_ws(transport);
            }
            Err(e) => report(
                &mut self.manager,
                transport,
                TransportEvent::WsClose { error: Some(e) },
            ),
        }
    }

    fn connect_ws(
        &mut self,
        url: &Url,
        headers: &[Header],
        protocols: &[String],
    ) -> Result<(WebSocket<Stream>, Vec<Header>), IoError> {
        use tungstenite::client::IntoClientRequest;
        use tungstenite::http::{HeaderName, HeaderValue};
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| failure(IoErrorKind::Other, "websocket request", e))?;
        for (name, value) in headers {
            let name: HeaderName = name
                .parse()
                .map_err(|e| failure(IoErrorKind::Other, "header name", e))?;
            let value = HeaderValue::from_str(value)
                .map_err(|e| failure(IoErrorKind::Other, "header value", e))?;
            request.headers_mut().append(name, value);
        }
        if !protocols.is_empty() {
            let value = HeaderValue::from_str(&protocols.join(", "))
                .map_err(|e| failure(IoErrorKind::Other, "protocols", e))?;
            request
                .headers_mut()
                .insert("sec-websocket-protocol", value);
        }
        let stream = self.connector.connect(url)?;
        let config = WebSocketConfig::default().read_buffer_size(WS_READ_BUFFER);
        let (mut ws, response) =
            tungstenite::client::client_with_config(request, stream, Some(config)).map_err(
                |e| match e {
                    tungstenite::HandshakeError::Failure(e) => {
                        // tungstenite's error is kept: a refused handshake's HTTP response
                        // (its status) is in it, by variant.
                        let kind = match &e {
                            tungstenite::Error::Io(io) => io_kind(io),
                            _ => IoErrorKind::Protocol,
                        };
                        failure(kind, "websocket", e)
                    }
                    // The stream blocks until the handshake is done, with timeouts: a
                    // would-block here is the read timeout.
                    tungstenite::HandshakeError::Interrupted(_) => {
                        IoError::new(IoErrorKind::Timeout, "websocket: handshake timed out")
                    }
                },
            )?;
        let token = self.token();
        ws.get_mut()
            .make_polled(self.poll.registry(), token)
            .map_err(|e| failure(IoErrorKind::Other, "poll", e))?;
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| matches!(name.as_str(), "set-cookie" | "date"))
            .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
            .collect();
        Ok((ws, headers))
    }

    fn send_ws(&mut self, transport: TransportId, frame: WsFrame) {
        let Some(ws) = self
            .transports
            .get_mut(&transport)
            .and_then(|t| t.ws.as_mut())
        else {
            return;
        };
        let message = match frame {
            // The engine's text frames are UTF-8 by construction.
            WsFrame::Text(text) => match tungstenite::Utf8Bytes::try_from(text) {
                Ok(text) => Message::Text(text),
                Err(e) => {
                    return self
                        .close_ws(transport, Some(io_error(format!("websocket text: {e}"))));
                }
            },
            WsFrame::Binary(data) => Message::Binary(data),
        };
        match ws.send(message) {
            Ok(()) => {}
            // Queued in tungstenite's buffer; flushed when the socket has room again.
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => self.close_ws(transport, Some(io_error(format!("websocket send: {e}")))),
        }
    }

    /// Reads every frame the WebSocket has (edge readiness needs reading until
    /// `WouldBlock`), flushes what waits to be written, and reports frames and a close.
    fn read_ws(&mut self, transport: TransportId) {
        let Some(ws) = self
            .transports
            .get_mut(&transport)
            .and_then(|t| t.ws.as_mut())
        else {
            return;
        };
        let mut frames = Vec::new();
        let mut closed = None;
        loop {
            match ws.read() {
                Ok(Message::Text(text)) => frames.push(WsFrame::Text(Bytes::from(text))),
                Ok(Message::Binary(data)) => frames.push(WsFrame::Binary(data)),
                // Pings are answered by tungstenite (flushed below); a close frame is
                // followed by `ConnectionClosed`.
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    break;
                }
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    closed = Some(None);
                    break;
                }
                Err(e) => {
                    let kind = match &e {
                        // Dropped without a close frame: "transport close", as in the reference.
                        tungstenite::Error::Protocol(
                            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                        ) => IoErrorKind::Closed,
                        tungstenite::Error::Io(io)
                            if matches!(
                                io.kind(),
                                std::io::ErrorKind::ConnectionReset
                                    | std::io::ErrorKind::UnexpectedEof
                            ) =>
                        {
                            IoErrorKind::Closed
                        }
                        tungstenite::Error::Capacity(_) => IoErrorKind::TooLarge,
                        _ => IoErrorKind::Other,
                    };
                    closed = Some(Some(IoError::new(kind, format!("websocket: {e}"))));
                    break;
                }
            }
        }
        if closed.is_none() {
            match ws.flush() {
                Ok(()) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => closed = Some(Some(io_error(format!("websocket send: {e}")))),
            }
        }
        for frame in frames {
            report(&mut self.manager, transport, TransportEvent::WsFrame(frame));
        }
        if let Some(error) = closed {
            self.close_ws(transport, error);
        }
    }

    fn close_ws(&mut self, transport: TransportId, error: Option<IoError>) {
        if let Some(mut ws) = self
            .transports
            .get_mut(&transport)
            .and_then(|t| t.ws.take())
        {
            ws.get_mut().deregister(self.poll.registry());
            report(
                &mut self.manager,
                transport,
                TransportEvent::WsClose { error },
            );
        }
    }

    /// Forgets every request and WebSocket: their engine has failed.
    fn drop_transports(&mut self) {
        let registry = self.poll.registry();
        for (_, transport) in std::mem::take(&mut self.transports) {
            transport.deregister(registry);
        }
    }

    /// Forgets the lingering transports that have nothing left in flight, with their idle
    /// connections: nobody will send on them again.
    fn forget_finished(&mut self) {
        self.forget(|t| t.ws.is_none() && t.get.is_none() && t.post.is_none());
    }

    /// Forgets the lingering transports whose grace has run out at `now`, finished or not.
    fn forget_lingering(&mut self, now: Instant) {
        self.forget(|t| t.lingering.is_some_and(|since| now >= since + CLOSE_GRACE));
    }

    /// Forgets the lingering transports that match `done`.
    fn forget(&mut self, done: impl Fn(&Transport) -> bool) {
        let finished: Vec<TransportId> = self
            .transports
            .iter()
            .filter(|(_, t)| t.lingering.is_some() && done(t))
            .map(|(id, _)| *id)
            .collect();
        for id in finished {
            if let Some(transport) = self.transports.remove(&id) {
                transport.deregister(self.poll.registry());
            }
        }
    }
}

#[cfg(unix)]
impl<W> std::os::fd::AsRawFd for Connection<W> {
    /// The readiness poller's fd (epoll on Linux, kqueue on BSD and macOS): readable whenever
    /// one of the connection's sockets may be. Wait on it in your own `poll`/`select`/mio
    /// loop, then call [`Connection::handle_readable`].
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.poll.as_raw_fd()
    }
}
