//! Packet → engine messages.

use bytes::Bytes;
use engineio_proto::Message;

use super::packet::{Packet, PacketKind};

/// Encodes `packet` as one text message
/// `<type>[<attachments>-][<nsp>,][<ack id>][<JSON>]`, followed by one binary message per
/// attachment, all pushed onto `out`.
///
/// An EVENT or ACK whose payload has attachments is written as BINARY_EVENT (5) or
/// BINARY_ACK (6). The namespace is written only when it is not `"/"` (nor empty), always
/// followed by a comma, as the reference encoder does. The JSON is copied once, behind the
/// header; attachments are shared, not copied.
///
/// The packet is written as given: a CONNECT, DISCONNECT or CONNECT_ERROR never travels with
/// attachments (the protocol has no binary form of them), so their attachments are not sent.
pub fn encode(packet: &Packet, out: &mut Vec<Message>) {
    let binary = matches!(packet.kind, PacketKind::Event | PacketKind::Ack)
        && packet.data.as_ref().is_some_and(|data| data.has_binary());
    let json = packet.data.as_ref().map_or(&[][..], |data| data.json());
    let nsp = (!packet.nsp.is_empty() && packet.nsp != "/").then_some(packet.nsp.as_bytes());

    let attachments = match &packet.data {
        Some(data) if binary => data.attachments(),
        _ => &[],
    };
    // The exact length, so that the Vec becomes a Bytes without another allocation.
    let len =
        1 + if binary {
            decimal_len(attachments.len() as u64) + 1
        } else {
            0
        } + nsp.map_or(0, |n| n.len() + 1)
            + packet.id.map_or(0, decimal_len)
            + json.len();
    let mut text = Vec::with_capacity(len);
    match (packet.kind, binary) {
        (PacketKind::Event, true) => text.push(b'5'),
        (PacketKind::Ack, true) => text.push(b'6'),
        (kind, _) => text.push(kind.type_digit()),
    }
    if binary {
        push_decimal(&mut text, attachments.len() as u64);
        text.push(b'-');
    }
    if let Some(nsp) = nsp {
        text.extend_from_slice(nsp);
        text.push(b',');
    }
    if let Some(id) = packet.id {
        push_decimal(&mut text, id);
    }
    text.extend_from_slice(json);
    debug_assert_eq!(text.len(), len);
    out.push(Message::Text(Bytes::from(text)));
    // A loop, not `extend`: most packets have no attachments, and the iterator's `extend`
    // reserves and folds even over none.
    for attachment in attachments {
        out.push(Message::Binary(attachment.clone()));
    }
}

fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn decimal_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}
