//! A complete Socket.IO client with no async runtime, driven by its own loop:
//! `socketio_blocking::Connection` does the IO (`std::net`, rustls, tungstenite's WebSocket,
//! a small HTTP/1 client for long-polling, so every transport and the upgrade), the sans-IO
//! `socketio_proto::Manager` inside it decides what to do, and this loop decides when.
//! See docs/embedding.md.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use socketio_blocking::{Connection, Options};
use socketio_proto::Event;

/// The connection and the events it reported that nobody waited for.
pub struct BlockingClient {
    pub connection: Connection,
    pub events: VecDeque<Event>,
}

impl BlockingClient {
    /// A client for `url` (polling, then an upgrade to WebSocket), not connecting until a
    /// socket's `connect`.
    pub fn new(url: &str) -> Result<Self, socketio_blocking::Error> {
        let connection = Connection::open(url, Options::default().auto_connect(false))?;
        Ok(Self {
            connection,
            events: VecDeque::new(),
        })
    }

    /// Runs the loop until `done` accepts an event (returned) or `limit` passes (`None`).
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Event) -> bool,
    ) -> Option<Event> {
        let end = Instant::now() + limit;
        loop {
            // 1. Drain: `poll_event` performs the transmits before each event.
            while let Some(event) = self.connection.poll_event() {
                if done(&event) {
                    return Some(event);
                }
                self.events.push_back(event);
            }
            // 2. Wait for a socket, at most until the manager's deadline. A loop of your own
            //    (mio, poll, select) can wait on the connection's raw fd instead.
            if Instant::now() >= end {
                return None;
            }
            let deadline = self.connection.poll_timeout().map_or(end, |t| t.min(end));
            if self.connection.wait(Some(deadline)).is_err() {
                return None;
            }
            // 3. Read what came, then fire what is due.
            self.connection.handle_readable();
            self.connection.handle_timeout(Instant::now());
        }
    }
}
