//! The codec's errors, typed by what went wrong.
//!
//! [`ParseError`] is always the peer's fault (it sent something the protocol does not allow);
//! [`EncodeError`] and [`PayloadError`] are about the caller's data or the caller's choice of
//! Rust type.

use std::fmt;

/// Why a JSON text was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// The text ended in the middle of a value (or was empty).
    UnexpectedEnd,
    /// A byte that cannot start or continue a value here.
    UnexpectedByte(u8),
    /// A number that does not follow the JSON grammar (leading zero, lone `-`, `1.`, `1e`).
    InvalidNumber,
    /// A backslash escape other than `\" \\ \/ \b \f \n \r \t \uXXXX`.
    InvalidEscape,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter,
    /// Something other than whitespace after the value.
    TrailingCharacters,
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// Arrays and objects nested deeper than the limit: the decoder's
    /// [`Limits::max_depth`](super::Limits::max_depth), or
    /// [`DEFAULT_MAX_DEPTH`](super::DEFAULT_MAX_DEPTH) for payloads built locally.
    TooDeep,
    /// A text of 4 GiB or more (the scanner's index holds 32-bit offsets).
    TooLarge,
}

/// A JSON text that is not valid JSON, with the byte offset where that became clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JsonError {
    /// Byte offset into the JSON text.
    pub offset: usize,
    /// What was wrong there.
    pub kind: JsonErrorKind,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            JsonErrorKind::UnexpectedEnd => f.write_str("unexpected end of JSON")?,
            JsonErrorKind::UnexpectedByte(b) => write!(f, "unexpected byte {:?}", b as char)?,
            JsonErrorKind::InvalidNumber => f.write_str("invalid number")?,
            JsonErrorKind::InvalidEscape => f.write_str("invalid escape")?,
            JsonErrorKind::ControlCharacter => f.write_str("control character in string")?,
            JsonErrorKind::TrailingCharacters => f.write_str("trailing characters")?,
            JsonErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8")?,
            JsonErrorKind::TooDeep => f.write_str("nested deeper than the max_depth limit")?,
            JsonErrorKind::TooLarge => f.write_str("text of 4 GiB or more")?,
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl std::error::Error for JsonError {}

/// Why the payload of a received packet does not fit its packet type
/// (the reference decoder's `invalid payload`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadReason {
    /// The payload is not valid JSON.
    Json(JsonError),
    /// A DISCONNECT carried a payload.
    Unexpected,
    /// An EVENT, ACK or CONNECT_ERROR carried no payload.
    Missing,
    /// A CONNECT payload that is not an object.
    NotObject,
    /// An EVENT or ACK payload that is not an array.
    NotArray,
    /// An EVENT with an empty array.
    EmptyEvent,
    /// An EVENT whose first element is neither a string nor a number.
    InvalidEventName,
    /// An EVENT named like one of [`RESERVED_EVENTS`](super::RESERVED_EVENTS).
    ReservedEventName(String),
    /// A CONNECT_ERROR payload that is neither an object nor a string.
    NotObjectOrString,
}

impl fmt::Display for PayloadReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(e) => write!(f, "invalid JSON: {e}"),
            Self::Unexpected => f.write_str("DISCONNECT must not carry a payload"),
            Self::Missing => f.write_str("payload missing"),
            Self::NotObject => f.write_str("CONNECT payload must be an object"),
            Self::NotArray => f.write_str("EVENT/ACK payload must be an array"),
            Self::EmptyEvent => f.write_str("EVENT payload must not be empty"),
            Self::InvalidEventName => f.write_str("event name must be a string or a number"),
            Self::ReservedEventName(name) => write!(f, "reserved event name {name:?}"),
            Self::NotObjectOrString => {
                f.write_str("CONNECT_ERROR payload must be an object or a string")
            }
        }
    }
}

/// A received message that breaks the Socket.IO protocol. Always the peer's fault.
///
/// The reference client closes the engine connection with reason `"parse error"` on any of
/// these. After an error the [`Decoder`](super::Decoder) is idle again (as after
/// [`reset`](super::Decoder::reset)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParseError {
    /// An empty text message.
    Empty,
    /// A text message whose bytes are not UTF-8.
    InvalidUtf8,
    /// The first byte is not a packet type `0`..`6`; holds that byte (e.g. `b'9'`).
    UnknownPacketType(u8),
    /// A binary packet header without a well-formed `<count>-` (e.g. `5`, `51`, `5a-`,
    /// `51.23-`), or a placeholder whose `num` is not an integer in `[0, attachments)`.
    IllegalAttachments,
    /// A binary packet announcing more attachments than [`Limits::max_attachments`](super::Limits).
    TooManyAttachments {
        /// The announced count (saturated at `usize::MAX`).
        count: usize,
        /// The configured maximum.
        max: usize,
    },
    /// The attachments of one packet add up to more than
    /// [`Limits::max_attachment_bytes`](super::Limits).
    AttachmentsTooLarge {
        /// The configured maximum.
        max: usize,
    },
    /// The ack id does not fit in a `u64`.
    InvalidAckId,
    /// The payload is not valid for the packet type.
    InvalidPayload(PayloadReason),
    /// A binary message arrived while no binary packet was waiting for attachments.
    UnexpectedBinary,
    /// A text message arrived while a binary packet was still waiting for attachments.
    UnexpectedText,
    /// A parser with a binary format (e.g. msgpack) could not read the message.
    Format(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty packet"),
            Self::InvalidUtf8 => f.write_str("packet is not UTF-8"),
            Self::UnknownPacketType(b) => write!(f, "unknown packet type {:?}", *b as char),
            Self::IllegalAttachments => f.write_str("illegal attachments"),
            Self::TooManyAttachments { count, max } => {
                write!(
                    f,
                    "too many attachments: {count} announced, limit max_attachments = {max}"
                )
            }
            Self::AttachmentsTooLarge { max } => {
                write!(
                    f,
                    "attachments over the limit max_attachment_bytes = {max} bytes in total"
                )
            }
            Self::InvalidAckId => f.write_str("invalid ack id"),
            Self::InvalidPayload(reason) => write!(f, "invalid payload: {reason}"),
            Self::UnexpectedBinary => {
                f.write_str("got binary data when not reconstructing a packet")
            }
            Self::UnexpectedText => f.write_str("got plaintext data when reconstructing a packet"),
            Self::Format(why) => write!(f, "undecodable packet: {why}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A value that cannot become a [`Payload`](super::Payload). The caller's fault.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncodeError {
    /// serde_json refused the value (e.g. a map with non-string keys, or a failing
    /// `Serialize` impl); holds its message.
    Serialize(String),
    /// Arrays and objects nested deeper than [`DEFAULT_MAX_DEPTH`](super::DEFAULT_MAX_DEPTH)
    /// (a decoder with the default limits would reject the packet).
    TooDeep,
    /// The value holds binary data and also an object that looks like an attachment
    /// placeholder (`{"_placeholder":true,...}`), which the receiver could not tell apart.
    PlaceholderConflict,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serialize(msg) => write!(f, "cannot serialize payload: {msg}"),
            Self::TooDeep => write!(
                f,
                "payload nested deeper than {} levels (DEFAULT_MAX_DEPTH)",
                super::DEFAULT_MAX_DEPTH
            ),
            Self::PlaceholderConflict => {
                f.write_str("payload holds binary data and a look-alike placeholder object")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

/// A payload that cannot be built from the given JSON, or read as the requested Rust type.
/// The caller's fault (or a mismatch between the caller's type and the peer's data).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadError {
    /// [`Payload::from_json`](super::Payload::from_json) got text that is not valid JSON.
    InvalidJson(JsonError),
    /// An array helper was called on a payload that is not a JSON array.
    NotAnArray,
    /// serde could not produce the requested type; holds serde's message.
    Deserialize(String),
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJson(e) => write!(f, "invalid JSON: {e}"),
            Self::NotAnArray => f.write_str("payload is not an array"),
            Self::Deserialize(msg) => write!(f, "cannot deserialize payload: {msg}"),
        }
    }
}

impl std::error::Error for PayloadError {}

impl From<serde_json::Error> for PayloadError {
    fn from(e: serde_json::Error) -> Self {
        Self::Deserialize(e.to_string())
    }
}
