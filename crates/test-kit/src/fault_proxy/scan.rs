//! Following one direction of a connection to find what a [`Trigger`] looks for: the raw
//! bytes (with a tail kept so a pattern may span reads) and, on a WebSocket connection, the
//! messages, unmasked. Matches are placed in the read that completes them, so the proxy can
//! cut exactly before or after them.

use super::{MAX_PATTERN, Trigger};

/// Longest HTTP head read to decide whether a connection is a WebSocket.
const MAX_HEAD: usize = 16 * 1024;

/// The state of one direction of one connection.
#[derive(Debug, Default)]
pub(super) struct Scanner {
    /// The last bytes seen, so a pattern split across reads is still found.
    tail: Vec<u8>,
    /// Bytes fed before the current read.
    fed: u64,
    ws: Ws,
}

#[derive(Debug)]
enum Ws {
    /// Reading the connection's first HTTP head.
    Head(Vec<u8>),
    /// Not a WebSocket (or no longer followed).
    Plain,
    /// WebSocket frames: bytes of the frame in progress (`at` is the stream offset of the
    /// first), and payload bytes still to skip of a frame too large to match.
    Frames { buf: Vec<u8>, at: u64, skip: u64 },
}

impl Default for Ws {
    fn default() -> Self {
        Self::Head(Vec::new())
    }
}

/// A complete WebSocket message: its payload and where its frame starts and ends in the
/// stream.
#[derive(Debug)]
struct Message {
    payload: Vec<u8>,
    start: u64,
    end: u64,
}

/// What one read brought: the bytes (with the tail before them) and complete messages.
#[derive(Debug)]
pub(super) struct Seen {
    window: Vec<u8>,
    /// Where this read's bytes start in `window`: a match must end past it, so an old one
    /// does not fire a trigger armed later.
    fresh_from: usize,
    /// The stream offset of this read's first byte.
    offset: u64,
    messages: Vec<Message>,
}

impl Seen {
    /// Where `trigger` matches in this read, if it does: the range of the match in the read's
    /// bytes (its start is 0 when the match began in an earlier read).
    pub(super) fn find(&self, trigger: &Trigger) -> Option<(usize, usize)> {
        if trigger.websocket {
            let message = self.messages.iter().find(|m| {
                if trigger.prefix {
                    m.payload.starts_with(&trigger.pattern)
                } else {
                    m.payload == trigger.pattern
                }
            })?;
            let local = |at: u64| at.saturating_sub(self.offset) as usize;
            return Some((local(message.start), local(message.end)));
        }
        let len = trigger.pattern.len();
        let from = self.fresh_from.saturating_sub(len - 1);
        let at = self
            .window
            .get(from..)?
            .windows(len)
            .position(|w| w == trigger.pattern)?;
        let end = from + at + len - self.fresh_from;
        Some(((from + at).saturating_sub(self.fresh_from), end))
    }
}

impl Scanner {
    /// Takes the next read.
    pub(super) fn feed(&mut self, data: &[u8]) -> Seen {
        let fresh_from = self.tail.len();
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(data);
        let keep = window.len().min(MAX_PATTERN - 1);
        self.tail = window[window.len() - keep..].to_vec();
        let offset = self.fed;
        self.fed += data.len() as u64;
        let messages = self.ws.feed(data);
        Seen {
            window,
            fresh_from,
            offset,
            messages,
        }
    }

    /// Bytes were dropped: frames can no longer be followed.
    pub(super) fn lose_track(&mut self) {
        self.tail.clear();
        self.ws = Ws::Plain;
    }
}

impl Ws {
    fn feed(&mut self, data: &[u8]) -> Vec<Message> {
        let mut messages = Vec::new();
        match self {
            Self::Plain => {}
            Self::Head(head) => {
                head.extend_from_slice(data);
                if let Some(end) = find(head, b"\r\n\r\n") {
                    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
                    // A request asking for the upgrade, or the 101 answering it.
                    if text.contains("upgrade: websocket") {
                        // The head is the first thing on the connection: offsets start there.
                        let buf = head[end + 4..].to_vec();
                        let at = (end + 4) as u64;
                        *self = Self::Frames { buf, at, skip: 0 };
                        return self.feed(&[]);
                    }
                    *self = Self::Plain;
                } else if head.len() > MAX_HEAD {
                    *self = Self::Plain;
                }
            }
            Self::Frames { buf, at, skip } => {
                buf.extend_from_slice(data);
                frames(buf, at, skip, &mut messages);
            }
        }
        messages
    }
}

/// Takes the complete frames off the front of `buf` (which starts at stream offset `at`),
/// keeping the payloads of small complete text and binary messages (unmasked).
fn frames(buf: &mut Vec<u8>, at: &mut u64, skip: &mut u64, messages: &mut Vec<Message>) {
    let consume = |buf: &mut Vec<u8>, at: &mut u64, n: usize| {
        buf.drain(..n);
        *at += n as u64;
    };
    loop {
        if *skip > 0 {
            let n = (*skip).min(buf.len() as u64);
            consume(buf, at, n as usize);
            *skip -= n;
            if *skip > 0 {
                return;
            }
        }
        if buf.len() < 2 {
            return;
        }
        let fin = buf[0] & 0x80 != 0;
        let opcode = buf[0] & 0x0f;
        let masked = buf[1] & 0x80 != 0;
        let short = u64::from(buf[1] & 0x7f);
        let extended = match short {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header = 2 + extended + if masked { 4 } else { 0 };
        if buf.len() < header {
            return;
        }
        let len = match extended {
            0 => short,
            2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            _ => {
                let mut be = [0; 8];
                be.copy_from_slice(&buf[2..10]);
                u64::from_be_bytes(be)
            }
        };
        if len > 125 {
            // Too large to be matched: skip it without keeping it.
            consume(buf, at, header);
            *skip = len;
            continue;
        }
        let total = header + len as usize;
        if buf.len() < total {
            return;
        }
        let mut payload = buf[header..total].to_vec();
        if masked {
            let key = [
                buf[header - 4],
                buf[header - 3],
                buf[header - 2],
                buf[header - 1],
            ];
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        // Text or binary, unfragmented; control frames and fragments are not messages here.
        if fin && (opcode == 1 || opcode == 2) {
            messages.push(Message {
                payload,
                start: *at,
                end: *at + total as u64,
            });
        }
        consume(buf, at, total);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::super::Direction;
    use super::*;

    fn masked_frame(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
        let mut frame = vec![0x81, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&key);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        frame
    }

    #[test]
    fn a_masked_client_message_is_found_across_reads() {
        let trigger = Trigger::websocket_message(Direction::ToServer, "5");
        let mut scanner = Scanner::default();
        let head =
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
        assert!(scanner.feed(head).find(&trigger).is_none());
        let mut frames = masked_frame(b"2probe", [1, 2, 3, 4]);
        frames.extend(masked_frame(b"5", [9, 8, 7, 6]));
        let (first, second) = frames.split_at(9);
        assert!(scanner.feed(first).find(&trigger).is_none());
        assert!(scanner.feed(second).find(&trigger).is_some());
    }

    #[test]
    fn a_large_frame_is_skipped_and_the_next_one_found() {
        let trigger = Trigger::websocket_message(Direction::ToClient, "3probe");
        let mut scanner = Scanner::default();
        scanner.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
        let mut big = vec![0x82, 126, 0x01, 0x00];
        big.extend(std::iter::repeat_n(b'3', 256));
        assert!(scanner.feed(&big[..100]).find(&trigger).is_none());
        let mut rest = big[100..].to_vec();
        rest.extend([0x81, 6]);
        rest.extend(b"3probe");
        assert!(scanner.feed(&rest).find(&trigger).is_some());
    }

    #[test]
    fn polling_bodies_are_not_read_as_frames() {
        let trigger = Trigger::websocket_message(Direction::ToServer, "5");
        let mut scanner = Scanner::default();
        let post = b"POST /socket.io/?EIO=4&transport=polling HTTP/1.1\r\ncontent-length: 3\r\n\r\n\x81\x015";
        assert!(scanner.feed(post).find(&trigger).is_none());
        assert!(scanner.feed(b"\x81\x015").find(&trigger).is_none());
    }

    #[test]
    fn a_byte_pattern_spanning_reads_fires_once() {
        let trigger = Trigger::bytes(Direction::ToClient, &b"\r\n\r\n6"[..]);
        let mut scanner = Scanner::default();
        assert!(
            scanner
                .feed(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r")
                .find(&trigger)
                .is_none()
        );
        assert!(scanner.feed(b"\n6").find(&trigger).is_some());
        // The same bytes are not matched again by the next read.
        assert!(scanner.feed(b"x").find(&trigger).is_none());
    }

    #[test]
    fn a_message_is_placed_in_the_read_that_completes_it() {
        let trigger = Trigger::websocket_message(Direction::ToClient, "452-[").as_prefix();
        let mut scanner = Scanner::default();
        let head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
        let mut read = head.to_vec();
        read.extend([0x81, 2]);
        read.extend(b"40");
        let frame_at = read.len();
        read.extend([0x81, 9]);
        read.extend(b"452-[1,2]");
        let frame_end = read.len();
        read.extend([0x82, 3, 1, 2, 3]);
        assert_eq!(
            scanner.feed(&read).find(&trigger),
            Some((frame_at, frame_end))
        );
        // Exact matching wants the whole payload.
        let exact = Trigger::websocket_message(Direction::ToClient, "452-[");
        let mut scanner = Scanner::default();
        assert_eq!(scanner.feed(&read).find(&exact), None);
    }
}
