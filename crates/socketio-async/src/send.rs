//! Flow control on the send side: the per-socket send buffer (emits accepted and not yet
//! handed to the transport, whether the namespace is offline or the transport is behind),
//! its bounds and overflow policy, and the accounting the handles and the driver share.
//!
//! The handle reserves room when an emit is made (so a full buffer is known at once, before
//! the emit crosses to the driver); the driver releases it when the emit leaves the buffer
//! (handed to the protocol once the namespace is connected and the transport keeps up, or
//! dropped), waking the emitters waiting for room.

use std::task::{Context, Poll, Waker};

use socketio_proto::codec::Payload;

/// What an emit does when the send buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SendOverflow {
    /// The emit fails with [`crate::Error::SendBufferFull`] (the caller decides: retry
    /// later, or await room with [`crate::Socket::emit_wait`]). Nothing already buffered is
    /// touched.
    #[default]
    Fail,
    /// The oldest buffered emit is dropped to make room (its ack, if any, fails with
    /// [`crate::AckError::Dropped`]): for state where the latest value wins.
    DropOldest,
    /// The new emit is dropped, volatile-style (`emit` returns `Ok`, an ack fails with
    /// [`crate::AckError::Dropped`]).
    DropNewest,
}

/// The bounds of a socket's send buffer ([`crate::Options::send_buffer`]). Both bounds
/// `None` (the default) is today's and the reference's behaviour: unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SendBufferOptions {
    /// The most emits the buffer holds.
    pub max_emits: Option<usize>,
    /// The most payload bytes (JSON and binary attachments) the buffer holds. One emit
    /// larger than this is still accepted into an empty buffer, so it is never stuck.
    pub max_bytes: Option<usize>,
    /// What an emit does when the buffer is full.
    pub overflow: SendOverflow,
}

impl SendBufferOptions {
    /// A buffer of at most `emits` emits.
    pub fn max_emits(mut self, emits: usize) -> Self {
        self.max_emits = Some(emits);
        self
    }

    /// A buffer of at most `bytes` payload bytes.
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// This overflow policy.
    pub fn overflow(mut self, overflow: SendOverflow) -> Self {
        self.overflow = overflow;
        self
    }
}

/// A socket's send buffer at one moment ([`crate::Socket::send_buffer`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SendBufferSnapshot {
    /// Emits accepted and not yet handed to the transport (those still on their way to the
    /// connection's task included).
    pub emits: usize,
    /// Their payload bytes.
    pub bytes: usize,
    /// Emits dropped by a dropping [`SendOverflow`] policy or by
    /// [`crate::Socket::clear_send_buffer`], since the socket was made.
    pub dropped: u64,
}

/// What the send buffer says to a new emit.
pub(crate) enum Admit {
    /// Room reserved: the emit goes to the driver.
    Yes,
    /// Full, and the policy is to fail it.
    Full(SendBufferSnapshot),
    /// Full, and the policy is to drop it.
    Drop,
}

/// The send buffer's accounting, under the socket's lock.
#[derive(Debug, Default)]
pub(crate) struct SendAccount {
    pub(crate) options: SendBufferOptions,
    pub(crate) emits: usize,
    pub(crate) bytes: usize,
    pub(crate) dropped: u64,
    /// Emitters waiting for room ([`crate::Socket::emit_wait`]).
    waiters: Vec<Waker>,
}

impl SendAccount {
    pub(crate) fn new(options: SendBufferOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// Whether an emit of `bytes` fits now.
    fn fits(&self, bytes: usize) -> bool {
        let emits = self.options.max_emits.is_none_or(|max| self.emits < max);
        // One emit larger than the byte bound still goes into an empty buffer.
        let fits_bytes = self
            .options
            .max_bytes
            .is_none_or(|max| self.emits == 0 || self.bytes + bytes <= max);
        emits && fits_bytes
    }

    /// Whether the buffer holds more than its bounds (after a `DropOldest` admission).
    pub(crate) fn over(&self) -> bool {
        self.options.max_emits.is_some_and(|max| self.emits > max)
            || self
                .options
                .max_bytes
                .is_some_and(|max| self.emits > 1 && self.bytes > max)
    }

    pub(crate) fn snapshot(&self) -> SendBufferSnapshot {
        SendBufferSnapshot {
            emits: self.emits,
            bytes: self.bytes,
            dropped: self.dropped,
        }
    }

    /// Decides about a new emit of `bytes`, reserving its room when it goes in.
    pub(crate) fn admit(&mut self, bytes: usize) -> Admit {
        if !self.fits(bytes) {
            match self.options.overflow {
                SendOverflow::Fail => return Admit::Full(self.snapshot()),
                SendOverflow::DropNewest => {
                    self.dropped += 1;
                    tracing::debug!(
                        emits = self.emits,
                        bytes = self.bytes,
                        "send buffer full: dropped the new emit"
                    );
                    return Admit::Drop;
                }
                // The driver drops the oldest once this one is in the buffer.
                SendOverflow::DropOldest => {}
            }
        }
        self.emits += 1;
        self.bytes += bytes;
        Admit::Yes
    }

    /// Reserves room for `bytes` if it fits, else registers `cx` to be woken when room is
    /// made.
    pub(crate) fn poll_reserve(&mut self, cx: &mut Context<'_>, bytes: usize) -> Poll<()> {
        if self.fits(bytes) {
            self.emits += 1;
            self.bytes += bytes;
            return Poll::Ready(());
        }
        self.waiters.push(cx.waker().clone());
        Poll::Pending
    }

    /// An emit left the buffer (handed on, or dropped): its room is free again.
    pub(crate) fn release(&mut self, bytes: usize, dropped: bool) {
        self.emits = self.emits.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(bytes);
        if dropped {
            self.dropped += 1;
        }
        for waker in self.waiters.drain(..) {
            waker.wake();
        }
    }
}

/// An emit's weight in the send buffer: its payload's bytes.
pub(crate) fn payload_bytes(payload: &Payload) -> usize {
    payload.json_bytes().len() + payload.attachments().iter().map(|a| a.len()).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_policies() {
        let options = SendBufferOptions::default().max_emits(2).max_bytes(100);
        let mut fail = SendAccount::new(options);
        assert!(matches!(fail.admit(10), Admit::Yes));
        assert!(matches!(fail.admit(10), Admit::Yes));
        let Admit::Full(snapshot) = fail.admit(10) else {
            panic!("full")
        };
        assert_eq!((snapshot.emits, snapshot.bytes), (2, 20));
        fail.release(10, false);
        assert!(matches!(fail.admit(95), Admit::Full(_)), "bytes bound");
        fail.release(10, false);
        assert!(
            matches!(fail.admit(500), Admit::Yes),
            "alone, larger than the bound"
        );

        let mut newest = SendAccount::new(options.overflow(SendOverflow::DropNewest));
        newest.admit(1);
        newest.admit(1);
        assert!(matches!(newest.admit(1), Admit::Drop));
        assert_eq!(newest.snapshot().dropped, 1);

        let mut oldest = SendAccount::new(options.overflow(SendOverflow::DropOldest));
        oldest.admit(1);
        oldest.admit(1);
        assert!(matches!(oldest.admit(1), Admit::Yes));
        assert!(oldest.over(), "the driver drops the oldest");
    }

    #[test]
    fn unbounded_by_default() {
        let mut account = SendAccount::default();
        for _ in 0..10_000 {
            assert!(matches!(account.admit(1 << 20), Admit::Yes));
        }
        assert!(!account.over());
    }
}
