//! Socket.IO packets.

use smol_str::SmolStr;

use super::payload::Payload;

/// The type of a Socket.IO packet.
///
/// BINARY_EVENT (5) and BINARY_ACK (6) are not kinds of their own: the encoder writes them
/// when the payload has attachments and the decoder reads them as [`Event`](Self::Event) and
/// [`Ack`](Self::Ack).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// `0`: join a namespace (client → server, optional auth object) or the server's
    /// acceptance (`{"sid":...}`).
    Connect,
    /// `1`: leave a namespace, or be removed from it by the server.
    Disconnect,
    /// `2` (or `5` with attachments): an event, `[name, ...args]`.
    Event,
    /// `3` (or `6` with attachments): the answer to an event that had an ack id.
    Ack,
    /// `4`: the server refused a CONNECT.
    ConnectError,
}

impl PacketKind {
    /// The type digit written for this kind when the payload has no attachments.
    pub fn type_digit(self) -> u8 {
        match self {
            Self::Connect => b'0',
            Self::Disconnect => b'1',
            Self::Event => b'2',
            Self::Ack => b'3',
            Self::ConnectError => b'4',
        }
    }
}

/// One Socket.IO packet: what travels as one engine text message plus one binary message per
/// attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketKind,
    /// The namespace, `"/"` for the main one. Namespaces start with `/` and contain no `,`
    /// (the header format cannot carry anything else).
    pub nsp: SmolStr,
    /// The ack id: set on an EVENT that wants an answer, and on the ACK that answers it.
    pub id: Option<u64>,
    /// The JSON payload with its attachments.
    pub data: Option<Payload>,
}

impl Packet {
    /// A CONNECT for `nsp`, with the optional auth object.
    pub fn connect(nsp: &str, auth: Option<Payload>) -> Self {
        Self {
            kind: PacketKind::Connect,
            nsp: SmolStr::new(nsp),
            id: None,
            data: auth,
        }
    }

    /// A DISCONNECT from `nsp`.
    pub fn disconnect(nsp: &str) -> Self {
        Self {
            kind: PacketKind::Disconnect,
            nsp: SmolStr::new(nsp),
            id: None,
            data: None,
        }
    }

    /// An EVENT; `data` is the array `[name, ...args]`. With `id` the receiver answers with an
    /// ACK carrying the same id.
    pub fn event(nsp: &str, data: Payload, id: Option<u64>) -> Self {
        Self {
            kind: PacketKind::Event,
            nsp: SmolStr::new(nsp),
            id,
            data: Some(data),
        }
    }

    /// An ACK answering the event with ack id `id`; `data` is the array of answer arguments
    /// (`[]` for none).
    pub fn ack(nsp: &str, id: u64, data: Payload) -> Self {
        Self {
            kind: PacketKind::Ack,
            nsp: SmolStr::new(nsp),
            id: Some(id),
            data: Some(data),
        }
    }

    /// A CONNECT_ERROR (what a server sends to refuse a CONNECT; `data` is normally
    /// `{"message":...,"data"?:...}`).
    pub fn connect_error(nsp: &str, data: Payload) -> Self {
        Self {
            kind: PacketKind::ConnectError,
            nsp: SmolStr::new(nsp),
            id: None,
            data: Some(data),
        }
    }
}
