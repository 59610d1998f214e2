//! The transports of one connection, read and written by the driver's own task: every HTTP
//! request and WebSocket is a value the driver polls, never a task of its own, so what the
//! socket delivers reaches the manager in the same turn, and what the manager writes reaches
//! the socket in the same turn.
//!
//! One [`Link`] per transport id holds all of that transport's IO state (its requests in
//! flight, or its WebSocket with the frames waiting for room), so letting a transport go is
//! removing one value.

use std::collections::VecDeque;
use std::task::{Context, Poll};
use web_time::Instant;

use engineio_proto::{HttpResponse, PollRequest, TransportEvent, TransportId, WsFrame};

use crate::runtime::{BoxFuture, TransportFailure, WebSocket, WsConnection};

type HttpFuture = BoxFuture<'static, Result<HttpResponse, TransportFailure>>;
type WsFuture = BoxFuture<'static, Result<WsConnection, TransportFailure>>;

/// Frames read from one WebSocket per [`Links::poll`], so that a socket that is always
/// ready does not keep the driver from its other work. How much is read at all is bounded
/// in bytes by the read-ahead allowance the driver passes in: once what was read and not yet
/// delivered reaches `FlowOptions::read_ahead`, the socket is not read (the server's buffers
/// and TCP then slow the server down).
pub(crate) const READ_BATCH: usize = 64;

/// One transport's IO.
enum Io {
    /// Long-polling: the requests in flight. The engine keeps one GET and one POST at most,
    /// but for its goodbye `1`, which may go out beside a POST.
    Polling(Vec<(PollRequest, HttpFuture)>),
    /// A WebSocket handshake in progress.
    Connecting(WsFuture),
    /// An open WebSocket.
    Open(OpenWs),
}

struct OpenWs {
    socket: Box<dyn WebSocket>,
    /// Frames the socket had no room for yet, in order.
    outbox: VecDeque<WsFrame>,
    /// Frames were handed to the socket since its last flush.
    unflushed: bool,
    close: Close,
    /// A write a caller made through the driver failed: reported at the driver's next poll.
    failed: Option<TransportFailure>,
    /// The socket had nothing to read at the last poll in this wake-up, and its waker is
    /// registered: reading again before the next wake-up would only ask the kernel again
    /// (async-io answers each such read with a failed `recv` and an `epoll_ctl`).
    drained: bool,
}

#[derive(PartialEq, Eq)]
enum Close {
    /// Open.
    No,
    /// The engine let go of it: its close frame goes out after the frames before it.
    Wanted,
    /// Our close frame is out; reading until the server's answer ends the stream.
    Sent,
}

struct Link {
    id: TransportId,
    io: Io,
    /// Set once the engine no longer needs this transport but its IO may still finish (the
    /// goodbye POST, the close handshake): dropped at this time if it has not.
    linger_until: Option<Instant>,
}

/// Every transport of the connection.
#[derive(Default)]
pub(crate) struct Links {
    links: Vec<Link>,
}

impl Links {
    fn get(&mut self, id: TransportId) -> &mut Link {
        let index = match self.links.iter().position(|l| l.id == id) {
            Some(index) => index,
            None => {
                self.links.push(Link {
                    id,
                    io: Io::Polling(Vec::new()),
                    linger_until: None,
                });
                self.links.len() - 1
            }
        };
        &mut self.links[index]
    }

    /// Gives back the room of links that are gone (an idle connection has one).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.links.shrink_to_fit();
    }

    /// Whether anything is in flight (for the driver's shutdown).
    pub(crate) fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// A polling request to perform.
    pub(crate) fn start_http(&mut self, id: TransportId, request: PollRequest, future: HttpFuture) {
        let link = self.get(id);
        if let Io::Polling(requests) = &mut link.io {
            requests.push((request, future));
        }
    }

    /// A WebSocket to open.
    pub(crate) fn start_ws(&mut self, id: TransportId, connecting: WsFuture) {
        self.get(id).io = Io::Connecting(connecting);
    }

    /// A frame to write, after those before it.
    pub(crate) fn send(&mut self, id: TransportId, frame: WsFrame) {
        if let Some(Link {
            io: Io::Open(ws), ..
        }) = self.links.iter_mut().find(|l| l.id == id)
            && ws.close == Close::No
        {
            ws.outbox.push_back(frame);
        }
    }

    /// The engine closed a WebSocket: its close frame follows what is queued; one still
    /// connecting is let go at once.
    pub(crate) fn close_ws(&mut self, id: TransportId) {
        let Some(index) = self.links.iter().position(|l| l.id == id) else {
            return;
        };
        match &mut self.links[index].io {
            Io::Open(ws) if ws.close == Close::No => ws.close = Close::Wanted,
            Io::Open(_) => {}
            Io::Connecting(_) | Io::Polling(_) => {
                self.links.swap_remove(index);
            }
        }
    }

    /// The engine is gone cleanly: what is in flight may finish until `until` (the goodbye,
    /// the close handshake), then it is dropped.
    pub(crate) fn linger(&mut self, until: Instant) {
        for link in &mut self.links {
            link.linger_until.get_or_insert(until);
        }
    }

    /// The engine failed: nobody waits for any of it. Dropping a request or a WebSocket
    /// closes its connection (a dead server never answers a close frame, and a GET may
    /// trickle forever).
    pub(crate) fn drop_all(&mut self) {
        self.links.clear();
    }

    /// Frames queued for WebSockets that had no room for them yet.
    pub(crate) fn outbox_frames(&self) -> usize {
        self.links
            .iter()
            .map(|l| match &l.io {
                Io::Open(ws) => ws.outbox.len(),
                _ => 0,
            })
            .sum()
    }

    /// Whether everything handed to the transports is written: no POST in flight, every
    /// open WebSocket's queue empty and flushed.
    pub(crate) fn is_idle(&self) -> bool {
        self.links.iter().all(|l| match &l.io {
            Io::Polling(requests) => requests.iter().all(|(r, _)| *r != PollRequest::Post),
            Io::Open(ws) => ws.outbox.is_empty() && !ws.unflushed,
            Io::Connecting(_) => true,
        })
    }

    /// When the next lingering transport is due to be dropped.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.links.iter().filter_map(|l| l.linger_until).min()
    }

    /// Drops the lingering transports that are due.
    pub(crate) fn expire(&mut self, now: Instant) {
        self.links
            .retain(|l| l.linger_until.is_none_or(|until| until > now));
    }

    /// Writes what the open WebSockets have queued, reading nothing (for a caller writing
    /// through the driver). Returns whether all of it was written and flushed; a failure is
    /// kept for the driver's next poll to report.
    pub(crate) fn write(&mut self, cx: &mut Context<'_>) -> bool {
        let mut done = true;
        for link in &mut self.links {
            if let Io::Open(ws) = &mut link.io
                && ws.failed.is_none()
            {
                if let Err(e) = ws.write(cx) {
                    ws.failed = Some(e);
                }
                done &= ws.outbox.is_empty() && !ws.unflushed && ws.failed.is_none();
            }
        }
        done
    }

    /// The driver task was woken: any socket may have something to read again.
    pub(crate) fn woken(&mut self) {
        for link in &mut self.links {
            if let Io::Open(ws) = &mut link.io {
                ws.drained = false;
            }
        }
    }

    /// Polls every transport: writes what is queued, reads what is ready (at most
    /// [`READ_BATCH`] frames each, and while `allowance` bytes are left: a frame or a
    /// polling response is taken whole, then counted), and hands what happened to `report`.
    /// With no allowance left, WebSockets are only written and polling GETs not polled, so
    /// their bytes wait in the OS and the server. Returns whether anything happened.
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        allowance: &mut usize,
        mut report: impl FnMut(TransportId, TransportEvent),
    ) -> bool {
        let mut progress = false;
        let mut index = 0;
        while index < self.links.len() {
            let link = &mut self.links[index];
            let id = link.id;
            let done = match &mut link.io {
                Io::Polling(requests) => {
                    requests.retain_mut(|(request, future)| {
                        // A GET's body is what the server sent: left unread while the
                        // read-ahead is full. POSTs (our writes) always finish.
                        if *request == PollRequest::Get && *allowance == 0 {
                            return true;
                        }
                        match future.as_mut().poll(cx) {
                            Poll::Pending => true,
                            Poll::Ready(result) => {
                                progress = true;
                                if let Ok(response) = &result {
                                    *allowance = allowance
                                        .saturating_sub(response.body.len() + super::EVENT_COST);
                                }
                                report(id, http_event(*request, result));
                                false
                            }
                        }
                    });
                    requests.is_empty()
                }
                Io::Connecting(connecting) => match connecting.as_mut().poll(cx) {
                    Poll::Pending => false,
                    Poll::Ready(Ok(connection)) => {
                        progress = true;
                        report(
                            id,
                            TransportEvent::WsOpen {
                                headers: connection.headers,
                            },
                        );
                        link.io = Io::Open(OpenWs {
                            socket: connection.socket,
                            outbox: VecDeque::new(),
                            unflushed: false,
                            close: Close::No,
                            failed: None,
                            drained: false,
                        });
                        // Poll it right away: its first frames may be there already, and its
                        // waker must be registered.
                        continue;
                    }
                    Poll::Ready(Err(e)) => {
                        progress = true;
                        report(id, TransportEvent::WsClose { error: Some(e) });
                        true
                    }
                },
                Io::Open(ws) => {
                    let (moved, ended) = ws.poll(cx, allowance, |event| report(id, event));
                    progress |= moved;
                    ended
                }
            };
            if done {
                self.links.swap_remove(index);
            } else {
                index += 1;
            }
        }
        progress
    }
}

fn http_event(
    request: PollRequest,
    result: Result<HttpResponse, TransportFailure>,
) -> TransportEvent {
    match result {
        Ok(response) => TransportEvent::HttpResponse { request, response },
        Err(error) => TransportEvent::HttpError { request, error },
    }
}

impl OpenWs {
    /// Writes, then reads. Returns (something happened, the WebSocket is finished).
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        allowance: &mut usize,
        mut report: impl FnMut(TransportEvent),
    ) -> (bool, bool) {
        let mut progress = false;
        if let Some(e) = self.failed.take() {
            report(TransportEvent::WsClose { error: Some(e) });
            return (true, true);
        }
        if let Err(e) = self.write(cx) {
            report(TransportEvent::WsClose { error: Some(e) });
            return (true, true);
        }
        if self.drained {
            return (progress, false);
        }
        for _ in 0..READ_BATCH {
            // Once closing, frames are dropped unread by anyone: read on to the end.
            if *allowance == 0 && self.close == Close::No {
                // The consumer that makes room wakes the driver.
                return (progress, false);
            }
            match self.socket.poll_next(cx) {
                Poll::Pending => {
                    self.drained = true;
                    return (progress, false);
                }
                Poll::Ready(Some(Ok(frame))) => {
                    progress = true;
                    if self.close == Close::No {
                        let len = match &frame {
                            WsFrame::Text(b) | WsFrame::Binary(b) => b.len(),
                        };
                        *allowance = allowance.saturating_sub(len + super::EVENT_COST);
                        report(TransportEvent::WsFrame(frame));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    report(TransportEvent::WsClose { error: Some(e) });
                    return (true, true);
                }
                Poll::Ready(None) => {
                    report(TransportEvent::WsClose { error: None });
                    return (true, true);
                }
            }
        }
        // More may be ready: the driver comes back after delivering these.
        (true, false)
    }

    /// Hands the socket every queued frame it has room for, flushes, and sends the close
    /// frame once nothing is queued before it.
    fn write(&mut self, cx: &mut Context<'_>) -> Result<(), TransportFailure> {
        while !self.outbox.is_empty() {
            match self.socket.poll_ready(cx)? {
                Poll::Pending => break,
                Poll::Ready(()) => {
                    if let Some(frame) = self.outbox.pop_front() {
                        self.socket.start_send(frame)?;
                        self.unflushed = true;
                    }
                }
            }
        }
        if self.unflushed && self.socket.poll_flush(cx)?.is_ready() {
            self.unflushed = false;
        }
        if self.close == Close::Wanted
            && self.outbox.is_empty()
            && self.socket.poll_close(cx)?.is_ready()
        {
            self.close = Close::Sent;
            self.unflushed = false;
        }
        Ok(())
    }
}
