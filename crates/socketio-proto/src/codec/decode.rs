//! Engine messages → packets, with the reassembly of binary packets.

use bytes::{Buf, Bytes};
use engineio_proto::Message;
use smol_str::SmolStr;

use super::RESERVED_EVENTS;
use super::error::{ParseError, PayloadReason};
use super::json::{self, Index, Kind, ScanError};
use super::packet::{Packet, PacketKind};
use super::payload::Payload;

/// Bounds on what the decoder accepts from the peer: how deep a payload nests, and what it
/// buffers for one binary packet. Going over one is a [`ParseError`] naming the limit.
///
/// ```
/// use socketio_proto::codec::Limits;
///
/// let limits = Limits { max_depth: 64, ..Limits::default() };
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most attachments one packet may announce (the reference's `maxAttachments`,
    /// default 10). More is [`ParseError::TooManyAttachments`].
    pub max_attachments: usize,
    /// The most attachment bytes buffered for one packet while it waits for the rest of its
    /// attachments (default 100 MiB; the reference has no bound of its own). More is
    /// [`ParseError::AttachmentsTooLarge`].
    pub max_attachment_bytes: usize,
    /// The deepest nesting of arrays and objects in a payload (default
    /// [`DEFAULT_MAX_DEPTH`](super::DEFAULT_MAX_DEPTH), 1,000; the reference has no bound).
    /// Deeper is [`ParseError::InvalidPayload`] with
    /// [`JsonErrorKind::TooDeep`](super::JsonErrorKind::TooDeep).
    ///
    /// The decoder's scan needs no stack for depth (it keeps an explicit one, 16 bytes a
    /// level); reading a payload as typed values does, one serde visitor call per level.
    /// Raising this far above the default means reading deep payloads on a thread with a
    /// stack to match (docs/robustness.md gives the measured cost per level).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attachments: 10,
            max_attachment_bytes: 100 * 1024 * 1024,
            max_depth: super::DEFAULT_MAX_DEPTH,
        }
    }
}

/// A binary packet waiting for its attachments.
#[derive(Debug)]
struct Pending {
    kind: PacketKind,
    nsp: SmolStr,
    id: Option<u64>,
    json: Bytes,
    index: Index,
    expected: usize,
    attachments: Vec<Bytes>,
    buffered: usize,
}

/// Turns engine messages into packets.
///
/// Feed every engine message, in order, to [`decode`](Self::decode). A text message yields its
/// packet at once, except a BINARY_EVENT/BINARY_ACK header announcing `N > 0` attachments:
/// the packet comes out with the `N`th binary message that follows.
///
/// Everything about a packet is checked when its text arrives (header, JSON, payload shape,
/// placeholder numbers), so a packet that comes out is valid and reading its payload can only
/// fail on a type mismatch. After an error the decoder is idle again, as after
/// [`reset`](Self::reset); the reference client closes the connection (`"parse error"`)
/// anyway. Call `reset` when the engine connection is replaced, so that a half-received binary
/// packet does not swallow the new connection's messages.
#[derive(Default)]
pub struct Decoder {
    limits: Limits,
    pending: Option<Pending>,
    /// The JSON scanner's stack, kept between packets.
    stack: Vec<json::Frame>,
    /// The JSON scanner's tape, kept between packets while they are tiny.
    tape: Vec<json::Tok>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder")
            .field("limits", &self.limits)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            pending: None,
            stack: Vec::new(),
            tape: Vec::new(),
        }
    }

    /// Decodes one engine message: `Ok(Some(packet))` when a packet is complete, `Ok(None)`
    /// while a binary packet still waits for attachments.
    pub fn decode(&mut self, message: Message) -> Result<Option<Packet>, ParseError> {
        let result = match message {
            Message::Text(text) => self.text(text),
            Message::Binary(data) => self.binary(data),
        };
        if result.is_err() {
            self.pending = None;
        }
        result
    }

    /// Forgets a half-received binary packet.
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Whether a binary packet is waiting for attachments.
    pub fn is_reconstructing(&self) -> bool {
        self.pending.is_some()
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn binary(&mut self, data: Bytes) -> Result<Option<Packet>, ParseError> {
        let max = self.limits.max_attachment_bytes;
        let pending = self.pending.as_mut().ok_or(ParseError::UnexpectedBinary)?;
        pending.buffered = pending
            .buffered
            .checked_add(data.len())
            .filter(|&total| total <= max)
            .ok_or(ParseError::AttachmentsTooLarge { max })?;
        pending.attachments.push(data);
        if pending.attachments.len() < pending.expected {
            return Ok(None);
        }
        let Some(p) = self.pending.take() else {
            return Ok(None);
        };
        Ok(Some(Packet {
            kind: p.kind,
            nsp: p.nsp,
            id: p.id,
            data: Some(Payload::from_scanned(p.json, p.attachments, p.index)),
        }))
    }

    fn text(&mut self, mut text: Bytes) -> Result<Option<Packet>, ParseError> {
        if self.pending.is_some() {
            return Err(ParseError::UnexpectedText);
        }
        let Parsed {
            kind,
            nsp,
            id,
            start,
            attachments,
            index,
        } = self.parse(&text).map_err(|e| {
            // The text is checked as a whole only when it failed: one that decodes is UTF-8
            // (the header's namespace is checked, and the JSON scan checks the strings, the
            // only place JSON allows anything but ASCII), and one that is not fails as not
            // UTF-8, as if that had been checked first.
            match std::str::from_utf8(&text) {
                Ok(_) => e,
                Err(_) => ParseError::InvalidUtf8,
            }
        })?;
        let Some(index) = index else {
            return Ok(Some(Packet {
                kind,
                nsp,
                id,
                data: None,
            }));
        };
        // The payload is the rest of the message, without touching the reference count.
        text.advance(start);
        let json = text;
        if attachments == 0 {
            let data = Payload::from_scanned(json, Vec::new(), index);
            return Ok(Some(Packet {
                kind,
                nsp,
                id,
                data: Some(data),
            }));
        }
        self.pending = Some(Pending {
            kind,
            nsp,
            id,
            json,
            index,
            expected: attachments,
            attachments: Vec::with_capacity(attachments),
            buffered: 0,
        });
        Ok(None)
    }

    /// The header and the scan of a text message's payload.
    fn parse(&mut self, b: &[u8]) -> Result<Parsed, ParseError> {
        let (kind, binary) = match b.first() {
            None => return Err(ParseError::Empty),
            Some(b'0') => (PacketKind::Connect, false),
            Some(b'1') => (PacketKind::Disconnect, false),
            Some(b'2') => (PacketKind::Event, false),
            Some(b'3') => (PacketKind::Ack, false),
            Some(b'4') => (PacketKind::ConnectError, false),
            Some(b'5') => (PacketKind::Event, true),
            Some(b'6') => (PacketKind::Ack, true),
            Some(&other) => return Err(ParseError::UnknownPacketType(other)),
        };
        let mut i = 1;

        // `<count>-`
        let attachments = if binary {
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start || b.get(i) != Some(&b'-') {
                return Err(ParseError::IllegalAttachments);
            }
            let count = b[start..i].iter().try_fold(0usize, |n, &d| {
                n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            });
            let max = self.limits.max_attachments;
            match count {
                Some(count) if count <= max => {
                    i += 1;
                    count
                }
                count => {
                    let count = count.unwrap_or(usize::MAX);
                    return Err(ParseError::TooManyAttachments { count, max });
                }
            }
        } else {
            0
        };

        // `/nsp,` (the comma may be missing at the end of the text)
        let nsp = if b.get(i) == Some(&b'/') {
            let end = b[i..]
                .iter()
                .position(|&c| c == b',')
                .map_or(b.len(), |p| i + p);
            let nsp =
                SmolStr::new(std::str::from_utf8(&b[i..end]).map_err(|_| ParseError::InvalidUtf8)?);
            i = (end + 1).min(b.len());
            nsp
        } else {
            SmolStr::new_static("/")
        };

        // ack id
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let id = if i > start {
            let id = b[start..i].iter().try_fold(0u64, |n, &d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            });
            Some(id.ok_or(ParseError::InvalidAckId)?)
        } else {
            None
        };

        let json = (i < b.len()).then(|| &b[i..]);
        let index = check_payload(
            kind,
            json,
            binary.then_some(attachments),
            self.limits.max_depth,
            &mut self.stack,
            &mut self.tape,
        )?;
        Ok(Parsed {
            kind,
            nsp,
            id,
            start: i,
            attachments,
            index,
        })
    }
}

/// What [`Decoder::parse`] read of a text message.
struct Parsed {
    kind: PacketKind,
    nsp: SmolStr,
    id: Option<u64>,
    /// Where the payload starts.
    start: usize,
    attachments: usize,
    /// The payload's scan, if there is a payload.
    index: Option<Index>,
}

/// Validates a payload against its packet type (the reference's `isPayloadValid`, with a
/// payload required where `isPacketValid` requires one). Returns the scan of the JSON.
fn check_payload(
    kind: PacketKind,
    json: Option<&[u8]>,
    attachments: Option<usize>,
    max_depth: usize,
    stack: &mut Vec<json::Frame>,
    tape: &mut Vec<json::Tok>,
) -> Result<Option<Index>, ParseError> {
    let invalid = |reason| Err(ParseError::InvalidPayload(reason));
    let Some(json) = json else {
        return match kind {
            PacketKind::Connect | PacketKind::Disconnect => Ok(None),
            _ => invalid(PayloadReason::Missing),
        };
    };
    if kind == PacketKind::Disconnect {
        return invalid(PayloadReason::Unexpected);
    }
    let index = match json::scan_with(json, attachments, max_depth, stack, tape) {
        Ok(index) => index,
        Err(ScanError::Json(e)) => return invalid(PayloadReason::Json(e)),
        Err(ScanError::IllegalPlaceholder) => return Err(ParseError::IllegalAttachments),
    };
    match kind {
        PacketKind::Connect if index.kind != Kind::Object => invalid(PayloadReason::NotObject),
        PacketKind::ConnectError if !matches!(index.kind, Kind::Object | Kind::String) => {
            invalid(PayloadReason::NotObjectOrString)
        }
        PacketKind::Ack | PacketKind::Event if index.kind != Kind::Array => {
            invalid(PayloadReason::NotArray)
        }
        PacketKind::Event => {
            let Some(first) = index.child(0) else {
                return invalid(PayloadReason::EmptyEvent);
            };
            let name = first.of(json);
            match name.first() {
                Some(b'-' | b'0'..=b'9') => Ok(Some(index)),
                Some(b'"') => {
                    let raw = &name[1..name.len() - 1];
                    // Escapes are rare in names; compare the raw bytes unless there are some.
                    let reserved = if raw.contains(&b'\\') {
                        let name = json::unescape(raw);
                        RESERVED_EVENTS.iter().find(|r| **r == name)
                    } else if is_reserved(raw) {
                        RESERVED_EVENTS.iter().find(|r| r.as_bytes() == raw)
                    } else {
                        None
                    };
                    if let Some(name) = reserved {
                        return invalid(PayloadReason::ReservedEventName((*name).to_owned()));
                    }
                    Ok(Some(index))
                }
                _ => invalid(PayloadReason::InvalidEventName),
            }
        }
        _ => Ok(Some(index)),
    }
}

/// A fast check of a name without escapes against [`RESERVED_EVENTS`].
fn is_reserved(raw: &[u8]) -> bool {
    matches!(
        raw,
        b"connect"
            | b"connect_error"
            | b"disconnect"
            | b"disconnecting"
            | b"newListener"
            | b"removeListener"
    )
}
