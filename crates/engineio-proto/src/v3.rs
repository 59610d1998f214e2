//! The Engine.IO 3 codec (`EIO=3`, engine.io-parser 2.x, spoken by socket.io 2.x servers and
//! by later servers with `allowEIO3`), where it differs from v4:
//!
//! - Binary in text form is `b` + the packet type + base64 (`b4AQID`), not `b` + base64.
//! - A binary WebSocket frame starts with the packet type byte (`0x04` for a message).
//! - A text polling payload frames each packet as `<length>:<packet>`, the length counted in
//!   UTF-16 code units, as JavaScript's `String.length` counts them (`2:4é` is one message
//!   `é`; `3:4😀` is one message with an emoji, which is two UTF-16 units).
//! - A binary polling payload (what the server sends when a batch holds binary and the client
//!   did not ask for `b64`) frames each packet as a marker byte (`0` text, `1` binary), the
//!   length as one byte per decimal digit, `0xFF`, then the data: UTF-8 text whose length is
//!   counted in bytes, or the packet type byte followed by the raw binary.
//!
//! Everything here is a pure function over bytes; decoded data are [`Bytes`] views of the
//! input where the format allows (text and binary payload records), copies where it does not
//! (base64).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{BufMut, Bytes, BytesMut};

use crate::error::DecodeError;
use crate::packet::{Message, Packet, PacketType};

/// The most decimal digits a payload length may have: more cannot be a length this client
/// could ever receive (the reference stops at 310, the digits of `Number.MAX_VALUE`).
const MAX_LENGTH_DIGITS: usize = 19;

/// Decodes one v3 text packet: a WebSocket text frame or one record of a text payload.
///
/// `b<type><base64>` is binary data of that packet type; only messages may carry it.
pub fn decode_text(data: Bytes) -> Result<Packet, DecodeError> {
    match data.first() {
        Some(b'b') => {
            let ty = *data.get(1).ok_or(DecodeError::InvalidBase64)?;
            if PacketType::from_char(ty).ok_or(DecodeError::UnknownType(ty))? != PacketType::Message
            {
                return Err(DecodeError::UnexpectedData);
            }
            let raw = BASE64
                .decode(&data[2..])
                .map_err(|_| DecodeError::InvalidBase64)?;
            Ok(Packet::Message(Message::Binary(Bytes::from(raw))))
        }
        // Apart from the base64 form, text packets are written alike in v3 and v4.
        _ => Packet::decode_text(data),
    }
}

/// Decodes a v3 binary WebSocket frame (or binary payload record): the packet type byte, then
/// the data. Only a message may be binary.
pub fn decode_binary(mut data: Bytes) -> Result<Packet, DecodeError> {
    let Some(&ty) = data.first() else {
        return Err(DecodeError::Empty);
    };
    match ty {
        4 => {
            bytes::Buf::advance(&mut data, 1);
            Ok(Packet::Message(Message::Binary(data)))
        }
        0..=6 => Err(DecodeError::UnexpectedData),
        other => Err(DecodeError::UnknownType(other)),
    }
}

/// The v3 binary WebSocket frame of a binary message: the type byte `4`, then the data.
pub fn binary_frame(data: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(1 + data.len());
    out.put_u8(4);
    out.put_slice(data);
    out.freeze()
}

/// The v3 text encoding of a packet: binary as `b4` + base64.
pub fn to_text(packet: &Packet) -> Bytes {
    let mut out = BytesMut::with_capacity(packet.encoded_text_len() + 1);
    encode_text(packet, &mut out);
    out.freeze()
}

fn encode_text(packet: &Packet, out: &mut BytesMut) {
    match packet {
        Packet::Message(Message::Binary(d)) => {
            out.put_slice(b"b4");
            let start = out.len();
            let len = base64::encoded_len(d.len(), true).unwrap_or(0);
            out.resize(start + len, 0);
            // The length was computed for exactly this input, so encoding cannot fail.
            let _ = BASE64.encode_slice(d, &mut out[start..]);
        }
        other => other.encode_text(out),
    }
}

/// How many UTF-16 code units (JavaScript's `String.length`) the UTF-8 text `s` has: one per
/// character, two for a character outside the Basic Multilingual Plane (a 4-byte sequence).
pub fn utf16_len(s: &[u8]) -> usize {
    s.iter()
        .map(|&b| match b {
            0x80..=0xBF => 0, // continuation byte
            0xF0..=0xFF => 2, // starts a 4-byte sequence: a surrogate pair
            _ => 1,
        })
        .sum()
}

/// Encodes packets as one v3 text payload: `<length>:<packet>` each, the length in UTF-16
/// code units, binary as `b4` + base64. An empty list is `0:`, as the reference writes it.
pub fn encode_payload<'a>(packets: impl IntoIterator<Item = &'a Packet>) -> Bytes {
    let mut out = BytesMut::new();
    let mut record = BytesMut::new();
    let mut any = false;
    for packet in packets {
        any = true;
        record.clear();
        encode_text(packet, &mut record);
        out.put_slice(utf16_len(&record).to_string().as_bytes());
        out.put_u8(b':');
        out.put_slice(&record);
    }
    if !any {
        out.put_slice(b"0:");
    }
    out.freeze()
}

/// Which framing a polling response body uses, judged from its first bytes: what a server
/// answers to the handshake request tells which Engine.IO revision it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// An Engine.IO 4 payload: the handshake is `0{`, records are `\x1e`-separated.
    V4,
    /// An Engine.IO 3 text payload (`<digits>:`) or binary payload (first byte `0` or `1`).
    V3,
    /// Neither: the first bytes, printable and shortened, for the error message.
    Unknown(String),
}

/// Tells the framing of a polling response body (see [`Framing`]).
///
/// The rule is unambiguous for a handshake response: a v4 handshake starts with `0{`, which no
/// v3 payload can (a v3 length is followed by `:`, and `0:` is the empty payload); a v3 text
/// payload starts with decimal digits and `:`; a v3 binary payload starts with the byte `0` or
/// `1`, which is no printable text.
pub fn sniff_polling(body: &[u8]) -> Framing {
    match body {
        [b'0', b'{', ..] => Framing::V4,
        [0 | 1, ..] => Framing::V3,
        _ => {
            let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits > 0 && body.get(digits) == Some(&b':') {
                Framing::V3
            } else {
                Framing::Unknown(excerpt(body))
            }
        }
    }
}

/// A short printable excerpt of what a server sent, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(24)];
    let mut s: String = String::from_utf8_lossy(head)
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    if body.len() > head.len() {
        s.push('…');
    }
    s
}

/// Decodes a v3 polling payload, text or binary (told apart by the first byte).
///
/// Like the reference, a payload that fails anywhere is an error; the packets before the
/// failing record are still yielded first, in order, so a close or message that arrived ahead
/// of the garbage is not lost. An empty body is an error; `0:` holds no packet.
pub fn decode_payload(body: Bytes) -> std::vec::IntoIter<Result<Packet, DecodeError>> {
    let mut out = Vec::new();
    let result = match body.first() {
        None => Err(DecodeError::Empty),
        Some(0 | 1) => decode_binary_payload(body, &mut out),
        Some(_) => decode_text_payload(body, &mut out),
    };
    if let Err(e) = result {
        out.push(Err(e));
    }
    out.into_iter()
}

fn decode_text_payload(
    body: Bytes,
    out: &mut Vec<Result<Packet, DecodeError>>,
) -> Result<(), DecodeError> {
    let text = std::str::from_utf8(&body).map_err(|_| DecodeError::InvalidUtf8)?;
    let mut i = 0;
    while i < text.len() {
        let digits = text.as_bytes()[i..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > MAX_LENGTH_DIGITS {
            return Err(DecodeError::InvalidLength);
        }
        if text.as_bytes().get(i + digits) != Some(&b':') {
            return Err(DecodeError::InvalidLength);
        }
        let units: usize = text[i..i + digits]
            .parse()
            .map_err(|_| DecodeError::InvalidLength)?;
        let start = i + digits + 1;
        // Walk `units` UTF-16 code units forward; a length that ends inside a surrogate pair
        // or past the end is no record boundary.
        let mut end = start;
        let mut counted = 0;
        let mut chars = text[start..].chars();
        while counted < units {
            let c = chars.next().ok_or(DecodeError::InvalidLength)?;
            counted += c.len_utf16();
            end += c.len_utf8();
        }
        if counted != units {
            return Err(DecodeError::InvalidLength);
        }
        if units > 0 {
            out.push(Ok(decode_text(body.slice(start..end))?));
        }
        i = end;
    }
    Ok(())
}

fn decode_binary_payload(
    mut body: Bytes,
    out: &mut Vec<Result<Packet, DecodeError>>,
) -> Result<(), DecodeError> {
    while !body.is_empty() {
        let is_text = match body[0] {
            0 => true,
            1 => false,
            other => return Err(DecodeError::UnknownType(other)),
        };
        let digits = body[1..].iter().take_while(|&&d| d <= 9).count();
        if digits == 0 || digits > MAX_LENGTH_DIGITS || body.get(1 + digits) != Some(&0xFF) {
            return Err(DecodeError::InvalidLength);
        }
        let len = body[1..1 + digits]
            .iter()
            .try_fold(0usize, |n, &d| {
                n.checked_mul(10)?.checked_add(usize::from(d))
            })
            .ok_or(DecodeError::InvalidLength)?;
        let start = 2 + digits;
        let end = start.checked_add(len).ok_or(DecodeError::InvalidLength)?;
        if end > body.len() {
            return Err(DecodeError::InvalidLength);
        }
        let record = body.slice(start..end);
        bytes::Buf::advance(&mut body, end);
        let packet = if is_text {
            std::str::from_utf8(&record).map_err(|_| DecodeError::InvalidUtf8)?;
            decode_text(record)?
        } else {
            decode_binary(record)?
        };
        out.push(Ok(packet));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(body: &'static [u8]) -> Vec<Result<Packet, DecodeError>> {
        decode_payload(Bytes::from_static(body)).collect()
    }

    #[test]
    fn lengths_count_utf16_units() {
        assert_eq!(utf16_len("4é".as_bytes()), 2);
        assert_eq!(utf16_len("4😀".as_bytes()), 3);
        let p = Packet::Message(Message::text("😀é"));
        assert_eq!(&encode_payload([&p])[..], "4:4😀é".as_bytes());
        assert_eq!(all("4:4😀é".as_bytes()), vec![Ok(p)]);
    }

    #[test]
    fn split_surrogate_pair_is_refused() {
        // 2 units end inside the emoji's surrogate pair.
        assert_eq!(
            all("2:4😀".as_bytes()),
            vec![Err(DecodeError::InvalidLength)]
        );
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_polling(b"0{\"sid\":\"a\"}"), Framing::V4);
        assert_eq!(sniff_polling(b"96:0{\"sid\":\"a\"}"), Framing::V3);
        assert_eq!(sniff_polling(&[0, 2, 255, b'4', b'a']), Framing::V3);
        assert!(matches!(sniff_polling(b"<html>"), Framing::Unknown(_)));
        assert!(matches!(sniff_polling(b"12"), Framing::Unknown(_)));
    }
}
