//! The Engine.IO 3 codec: text and binary polling payloads, text packets and type-prefixed
//! binary frames. Decoding never panics, yields nothing after its first error, and when
//! everything decodes the packets survive re-encoding as a text payload (the form this client
//! POSTs); the sniffer never panics either.

#![no_main]

use bytes::Bytes;
use engineio_proto::Packet;
use engineio_proto::v3;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = v3::sniff_polling(data);
    let _ = v3::decode_binary(Bytes::copy_from_slice(data));
    if std::str::from_utf8(data).is_ok() {
        let _ = v3::decode_text(Bytes::copy_from_slice(data));
    }
    let items: Vec<_> = v3::decode_payload(Bytes::copy_from_slice(data)).collect();
    if let Some(i) = items.iter().position(Result::is_err) {
        assert_eq!(i, items.len() - 1, "nothing after the first error");
        return;
    }
    let packets: Vec<Packet> = items.into_iter().map(Result::unwrap).collect();
    let wire = v3::encode_payload(&packets);
    let again: Vec<Packet> = v3::decode_payload(wire)
        .collect::<Result<_, _>>()
        .expect("a re-encoded payload decodes");
    assert_eq!(again, packets);
});
