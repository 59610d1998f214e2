//! The Engine.IO v4 packet codec: single packets (one WebSocket frame) and the long-polling
//! payload (`\x1e`-separated records, binary as `b` + base64).
//!
//! Everything here is a pure function over bytes. Text data stays a [`Bytes`] view of the
//! received frame, so decoding a message never copies it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::DecodeError;

/// The record separator between packets of a long-polling payload.
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// The seven Engine.IO packet types, with their wire character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`: the server's handshake.
    Open,
    /// `1`: the end of the session.
    Close,
    /// `2`: a heartbeat from the server, or `2probe` from the client on a probed transport.
    Ping,
    /// `3`: the client's heartbeat answer, or the server's `3probe`.
    Pong,
    /// `4`: application data.
    Message,
    /// `5`: sent by the client on the new transport to finish an upgrade.
    Upgrade,
    /// `6`: sent by the server to release a parked polling GET.
    Noop,
}

impl PacketType {
    /// The character that stands for this type on the wire.
    pub const fn as_char(self) -> u8 {
        match self {
            Self::Open => b'0',
            Self::Close => b'1',
            Self::Ping => b'2',
            Self::Pong => b'3',
            Self::Message => b'4',
            Self::Upgrade => b'5',
            Self::Noop => b'6',
        }
    }

    /// The type of a wire character, if it is one.
    pub const fn from_char(c: u8) -> Option<Self> {
        Some(match c {
            b'0' => Self::Open,
            b'1' => Self::Close,
            b'2' => Self::Ping,
            b'3' => Self::Pong,
            b'4' => Self::Message,
            b'5' => Self::Upgrade,
            b'6' => Self::Noop,
            _ => return None,
        })
    }
}

/// The data of a message packet: UTF-8 text or raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// Text data. The bytes are valid UTF-8 (checked when decoded).
    Text(Bytes),
    /// Binary data.
    Binary(Bytes),
}

impl Message {
    /// A text message from a string.
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(Bytes::from(s.into()))
    }

    /// The message's bytes, whichever kind it is.
    pub fn as_bytes(&self) -> &Bytes {
        match self {
            Self::Text(b) | Self::Binary(b) => b,
        }
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }
}

/// One Engine.IO packet.
///
/// Only `message` packets carry application data; `ping`/`pong` may carry the `probe` marker
/// and `open` carries the handshake JSON (parsed by [`crate::Handshake::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Packet {
    /// `0{...}`: the handshake JSON, not yet parsed.
    Open(Bytes),
    /// `1`.
    Close,
    /// `2` or `2probe` (`probe == true`).
    Ping {
        /// Whether this is the upgrade probe.
        probe: bool,
    },
    /// `3` or `3probe` (`probe == true`).
    Pong {
        /// Whether this answers the upgrade probe.
        probe: bool,
    },
    /// `4...` or binary data.
    Message(Message),
    /// `5`.
    Upgrade,
    /// `6`.
    Noop,
}

const PROBE: &[u8] = b"probe";

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Open(_) => PacketType::Open,
            Self::Close => PacketType::Close,
            Self::Ping { .. } => PacketType::Ping,
            Self::Pong { .. } => PacketType::Pong,
            Self::Message(_) => PacketType::Message,
            Self::Upgrade => PacketType::Upgrade,
            Self::Noop => PacketType::Noop,
        }
    }

    /// Decodes one text packet: a WebSocket text frame, or one record of a polling payload.
    ///
    /// A record that starts with `b` is a base64 binary message (the polling and `force_base64`
    /// encoding). `data` must be UTF-8; it is sliced, not copied.
    pub fn decode_text(data: Bytes) -> Result<Self, DecodeError> {
        Self::decode_text_record(data, false)
    }

    /// [`Packet::decode_text`], told whether `data` is already known to be UTF-8: a record of
    /// a polling payload, whose body was checked whole, is not checked again.
    fn decode_text_record(data: Bytes, utf8_checked: bool) -> Result<Self, DecodeError> {
        let Some(&first) = data.first() else {
            return Err(DecodeError::Empty);
        };
        if first == b'b' {
            let raw = BASE64
                .decode(&data[1..])
                .map_err(|_| DecodeError::InvalidBase64)?;
            return Ok(Self::Message(Message::Binary(Bytes::from(raw))));
        }
        let ty = PacketType::from_char(first).ok_or(DecodeError::UnknownType(first))?;
        // The data past the type byte, without touching the reference count (`slice` would).
        let mut rest = data;
        rest.advance(1);
        Ok(match ty {
            PacketType::Open => Self::Open(rest),
            PacketType::Close => Self::Close,
            PacketType::Ping => Self::Ping {
                probe: probe_marker(&rest)?,
            },
            PacketType::Pong => Self::Pong {
                probe: probe_marker(&rest)?,
            },
            PacketType::Message => {
                if !utf8_checked {
                    std::str::from_utf8(&rest).map_err(|_| DecodeError::InvalidUtf8)?;
                }
                Self::Message(Message::Text(rest))
            }
            PacketType::Upgrade => Self::Upgrade,
            PacketType::Noop => Self::Noop,
        })
    }

    /// Decodes a WebSocket binary frame: always a binary message, never copied.
    pub fn decode_binary(data: Bytes) -> Self {
        Self::Message(Message::Binary(data))
    }

    /// The exact number of bytes [`Packet::encode_text`] writes for this packet.
    pub fn encoded_text_len(&self) -> usize {
        match self {
            Self::Open(d) => 1 + d.len(),
            Self::Ping { probe } | Self::Pong { probe } => 1 + if *probe { PROBE.len() } else { 0 },
            Self::Message(Message::Text(d)) => 1 + d.len(),
            Self::Message(Message::Binary(d)) => {
                1 + base64::encoded_len(d.len(), true).unwrap_or(0)
            }
            Self::Close | Self::Upgrade | Self::Noop => 1,
        }
    }

    /// Appends the text encoding of this packet (binary as `b` + base64) to `out`.
    pub fn encode_text(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_text_len());
        match self {
            Self::Message(Message::Binary(d)) => {
                out.put_u8(b'b');
                let start = out.len();
                let len = base64::encoded_len(d.len(), true).unwrap_or(0);
                out.resize(start + len, 0);
                // The length was computed for exactly this input, so encoding cannot fail.
                let _ = BASE64.encode_slice(d, &mut out[start..]);
            }
            other => {
                out.put_u8(other.packet_type().as_char());
                match other {
                    Self::Open(d) | Self::Message(Message::Text(d)) => out.put_slice(d),
                    Self::Ping { probe: true } | Self::Pong { probe: true } => out.put_slice(PROBE),
                    _ => {}
                }
            }
        }
    }

    /// The text encoding of this packet as a new buffer.
    pub fn to_text(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_text_len());
        self.encode_text(&mut out);
        out.freeze()
    }
}

fn probe_marker(rest: &[u8]) -> Result<bool, DecodeError> {
    match rest {
        [] => Ok(false),
        PROBE => Ok(true),
        _ => Err(DecodeError::UnexpectedData),
    }
}

/// Encodes packets as one long-polling payload (`\x1e` between records, binary as `b` + base64).
pub fn encode_payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> Bytes {
    let mut out = BytesMut::new();
    for (i, packet) in packets.into_iter().enumerate() {
        if i > 0 {
            out.put_u8(RECORD_SEPARATOR);
        }
        packet.encode_text(&mut out);
    }
    out.freeze()
}

/// Decodes a long-polling payload into its packets.
///
/// Like the reference decoder it stops at the first record that fails: the iterator yields
/// that error and then ends. The body must be UTF-8 as a whole (checked once, up front), and an
/// empty body or an empty record is an error.
pub fn decode_payload(body: Bytes) -> PayloadDecoder {
    let state = if std::str::from_utf8(&body).is_ok() {
        Ok(body)
    } else {
        Err(DecodeError::InvalidUtf8)
    };
    PayloadDecoder { state: Some(state) }
}

/// Iterator over the packets of a long-polling payload; see [`decode_payload`].
#[derive(Debug)]
pub struct PayloadDecoder {
    /// `Some(Ok(rest))` while records remain, `Some(Err(e))` when only an error is left to
    /// report, `None` once finished.
    state: Option<Result<Bytes, DecodeError>>,
}

impl Iterator for PayloadDecoder {
    type Item = Result<Packet, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut rest = match self.state.take()? {
            Ok(rest) => rest,
            Err(e) => return Some(Err(e)),
        };
        let record = match rest.iter().position(|&b| b == RECORD_SEPARATOR) {
            Some(i) => {
                let record = rest.split_to(i);
                bytes::Buf::advance(&mut rest, 1);
                // Even an empty remainder is a record: `a\x1e` announces a second packet.
                self.state = Some(Ok(rest));
                record
            }
            None => rest,
        };
        // The whole body was checked as UTF-8 by `decode_payload`, and a record boundary
        // (`\x1e`, ASCII) never splits a character.
        let decoded = Packet::decode_text_record(record, true);
        if decoded.is_err() {
            self.state = None;
        }
        Some(decoded)
    }
}
