//! A long-polling payload: decoding never panics, stops at the first bad record, and when every
//! record decodes the packets survive re-encoding.

#![no_main]

use bytes::Bytes;
use engineio_proto::Packet;
use engineio_proto::packet::{decode_payload, encode_payload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let items: Vec<_> = decode_payload(Bytes::copy_from_slice(data)).collect();
    assert!(!items.is_empty(), "a payload has at least one record");
    if let Some(i) = items.iter().position(Result::is_err) {
        assert_eq!(i, items.len() - 1, "nothing after the first error");
        return;
    }
    let packets: Vec<Packet> = items.into_iter().map(Result::unwrap).collect();
    let wire = encode_payload(&packets);
    let again: Vec<Packet> = decode_payload(wire)
        .collect::<Result<_, _>>()
        .expect("a re-encoded payload decodes");
    assert_eq!(again, packets);
});
