//! [`SocketBuilder`]: listeners registered before the first byte is read.

use std::future::Future;
use std::sync::Arc;

use crate::error::{ConnectError, DisconnectReason, Error};
use crate::events::{Message, SocketEvent};
use crate::options::Options;
use crate::runtime::Runtime;
use crate::socket::Socket;

/// A socket whose listeners and streams are in place before its connection starts, so none
/// of them misses an event (the server's welcome on connection, say).
///
/// Why a builder: the client runs on a task of its own, which on a multi-thread runtime may
/// connect and deliver events while the code that called [`crate::io`] is still adding
/// listeners. Here nothing is sent until [`SocketBuilder::connect`] (or
/// [`SocketBuilder::build`]), and the connection's task reads nothing before that.
///
/// ```no_run
/// # use std::sync::Arc;
/// # fn runtime() -> Arc<dyn socketio_async::Runtime> { unimplemented!() }
/// # async fn demo() -> Result<(), socketio_async::Error> {
/// use socketio_async::{Options, SocketBuilder};
///
/// let socket = SocketBuilder::new("http://localhost:3000", Options::default(), runtime())?
///     .on("welcome", |msg| println!("welcome: {:?}", msg.args.values()))
///     .on_async("job", |msg| async move { /* await things */ let _ = msg; })
///     .connect()
///     .await?;
/// socket.emit("hello", "world")?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SocketBuilder {
    socket: Socket,
    auto_connect: bool,
}

impl SocketBuilder {
    /// A socket for the namespace in `url`'s path, like [`crate::io`] (same connection
    /// cache), not connected yet. `options.auto_connect` decides whether
    /// [`SocketBuilder::build`] connects.
    pub fn new(url: &str, options: Options, runtime: Arc<dyn Runtime>) -> Result<Self, Error> {
        let auto_connect = options.auto_connect;
        let socket = crate::io(url, options.auto_connect(false), runtime)?;
        Ok(Self {
            socket,
            auto_connect,
        })
    }

    /// The socket, to register with its own methods (`prepend_any`, `on_any_outgoing`...)
    /// or to make [`Socket::events`] streams before it connects.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// A stream of every event of the socket, made before it connects (see
    /// [`Socket::events`]).
    pub fn events(&self) -> crate::EventStream<SocketEvent> {
        self.socket.events()
    }

    /// A stream with its own capacity and overflow policy, made before the socket connects
    /// (see [`Socket::events_with`]).
    pub fn events_with(
        &self,
        capacity: usize,
        overflow: crate::Overflow,
    ) -> crate::EventStream<SocketEvent> {
        self.socket.events_with(capacity, overflow)
    }

    /// [`Socket::on`].
    pub fn on(self, event: &str, f: impl Fn(Message) + Send + Sync + 'static) -> Self {
        self.socket.on(event, f);
        self
    }

    /// [`Socket::once`].
    pub fn once(self, event: &str, f: impl Fn(Message) + Send + Sync + 'static) -> Self {
        self.socket.once(event, f);
        self
    }

    /// [`Socket::on_async`].
    pub fn on_async<F, Fut>(self, event: &str, f: F) -> Self
    where
        F: Fn(Message) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.socket.on_async(event, f);
        self
    }

    /// [`Socket::on_any`].
    pub fn on_any(self, f: impl Fn(Message) + Send + Sync + 'static) -> Self {
        self.socket.on_any(f);
        self
    }

    /// [`Socket::on_connect`].
    pub fn on_connect(self, f: impl Fn(bool) + Send + Sync + 'static) -> Self {
        self.socket.on_connect(f);
        self
    }

    /// [`Socket::on_disconnect`].
    pub fn on_disconnect(self, f: impl Fn(DisconnectReason) + Send + Sync + 'static) -> Self {
        self.socket.on_disconnect(f);
        self
    }

    /// [`Socket::on_connect_error`].
    pub fn on_connect_error(self, f: impl Fn(&ConnectError) + Send + Sync + 'static) -> Self {
        self.socket.on_connect_error(f);
        self
    }

    /// The socket, connecting unless `auto_connect` was off (then call
    /// [`Socket::connect`]). Returns at once.
    pub fn build(self) -> Socket {
        if self.auto_connect {
            // The outcome is for whoever listens: this call does not wait for it.
            drop(self.socket.connect());
        }
        self.socket
    }

    /// Connects and waits for the namespace's CONNECT (see [`Socket::connect`]), whatever
    /// `auto_connect` says. On failure reconnection goes on behind the error; the socket is
    /// dropped with it unless [`SocketBuilder::socket`] was cloned.
    pub async fn connect(self) -> Result<Socket, Error> {
        self.socket.connect().await?;
        Ok(self.socket)
    }
}
