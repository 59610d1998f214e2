//! One Engine.IO packet (a WebSocket frame or one polling record): decoding never panics, and
//! whatever decodes re-encodes to something that decodes to the same packet.

#![no_main]

use bytes::Bytes;
use engineio_proto::Packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let frame = Bytes::copy_from_slice(data);
    if let Ok(packet) = Packet::decode_text(frame.clone()) {
        let wire = packet.to_text();
        assert_eq!(wire.len(), packet.encoded_text_len(), "{packet:?}");
        assert_eq!(Packet::decode_text(wire), Ok(packet));
    }
    // A binary frame is always a message; its polling form (`b` + base64) comes back intact.
    let binary = Packet::decode_binary(frame);
    let wire = binary.to_text();
    assert_eq!(wire.len(), binary.encoded_text_len());
    assert_eq!(Packet::decode_text(wire), Ok(binary));
});
