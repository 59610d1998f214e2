//! A caller waiting for an ack reads the answer itself.
//!
//! The driver's transports are polled with one waker of their own, [`IoWake`]. When a socket
//! becomes readable it wakes the driver task, as any waker would, and also the caller whose
//! [`AckWait`] waits for an answer. That caller, woken at once by the reactor (often on the
//! reactor's own thread), takes the idle driver and reads what arrived
//! ([`Driver::read_inline`]): its ack is answered without waiting for the driver task to be
//! scheduled, which on async-io is another thread woken with a futex while the caller's thread
//! waits in the reactor a second time. Everything else that arrives (events for listeners,
//! what the answer queued behind an event) is left to the driver task, which was woken all the
//! same: a caller that stops polling its ack future never holds up the connection.

use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};

use futures_channel::oneshot;
use socketio_proto::AckError;
use socketio_proto::codec::Payload;

use super::{Driver, send_replies};
use crate::shared::lock;

/// The waker the driver polls its transports with.
#[derive(Default)]
pub(crate) struct IoWake {
    wakers: Mutex<Wakers>,
}

#[derive(Default)]
struct Wakers {
    /// The driver task's.
    task: Option<Waker>,
    /// The caller waiting for an ack, until the next wake.
    reader: Option<Waker>,
    /// A transport woke since the driver last read them all.
    woken: bool,
}

impl Wake for IoWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let (reader, task) = {
            let mut wakers = lock(&self.wakers);
            wakers.woken = true;
            (wakers.reader.take(), wakers.task.clone())
        };
        // The caller first: it waits, and it may read before the driver task is running.
        if let Some(reader) = reader {
            reader.wake();
        }
        if let Some(task) = task {
            task.wake();
        }
    }
}

impl IoWake {
    /// The driver task's waker (`None` once it ended).
    pub(crate) fn set_task(&self, waker: Option<&Waker>) {
        let mut wakers = lock(&self.wakers);
        match (waker, &wakers.task) {
            (Some(new), Some(old)) if old.will_wake(new) => {}
            _ => wakers.task = waker.cloned(),
        }
    }

    /// Whether a transport woke since the driver last read them; whoever asks (holding the
    /// driver) reads them now. Every wake that sets it also wakes the driver task, so a
    /// reader that takes it and then reads nothing loses no wake-up.
    pub(crate) fn take_woken(&self) -> bool {
        std::mem::take(&mut lock(&self.wakers).woken)
    }

    /// Wakes `reader` too at the next wake.
    fn register(&self, reader: &Waker) {
        let mut wakers = lock(&self.wakers);
        if !wakers.reader.as_ref().is_some_and(|r| r.will_wake(reader)) {
            wakers.reader = Some(reader.clone());
        }
    }

    /// `reader` no longer waits.
    fn unregister(&self, reader: &Waker) {
        let mut wakers = lock(&self.wakers);
        if wakers.reader.as_ref().is_some_and(|r| r.will_wake(reader)) {
            wakers.reader = None;
        }
    }
}

/// The answer to one `emit_with_ack`, read by the waiting caller itself when it can.
pub(crate) struct AckWait {
    rx: oneshot::Receiver<Result<Payload, AckError>>,
    driver: Weak<Mutex<Driver>>,
    io: Arc<IoWake>,
    /// The waker registered with [`IoWake`], to take back when done.
    registered: Option<Waker>,
}

impl AckWait {
    pub(crate) fn new(
        rx: oneshot::Receiver<Result<Payload, AckError>>,
        driver: Weak<Mutex<Driver>>,
        io: Arc<IoWake>,
    ) -> Self {
        Self {
            rx,
            driver,
            io,
            registered: None,
        }
    }

    fn done(&mut self) {
        if let Some(waker) = self.registered.take() {
            self.io.unregister(&waker);
        }
    }
}

impl Future for AckWait {
    type Output = Result<Result<Payload, AckError>, oneshot::Canceled>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(result) = Pin::new(&mut this.rx).poll(cx) {
            this.done();
            return Poll::Ready(result);
        }
        this.io.register(cx.waker());
        if !this
            .registered
            .as_ref()
            .is_some_and(|r| r.will_wake(cx.waker()))
        {
            this.registered = Some(cx.waker().clone());
        }
        // Busy (its task, or another caller, reads now), or gone: the answer comes through
        // the channel.
        if let Some(cell) = this.driver.upgrade()
            && let Ok(mut driver) = cell.try_lock()
            && driver.io.take_woken()
        {
            driver.read_inline();
            let replies = std::mem::take(&mut driver.replies);
            drop(driver);
            send_replies(replies);
            if let Poll::Ready(result) = Pin::new(&mut this.rx).poll(cx) {
                this.done();
                return Poll::Ready(result);
            }
        }
        Poll::Pending
    }
}

impl Drop for AckWait {
    fn drop(&mut self) {
        self.done();
    }
}
