//! Round-trip properties of the codec.

use bytes::Bytes;
use engineio_proto::packet::{RECORD_SEPARATOR, decode_payload, encode_payload};
use engineio_proto::{Message, Packet};
use proptest::prelude::*;

/// Text that may travel in a payload: any UTF-8 but the record separator.
fn payload_text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\u{1e}', ""))
}

fn packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        payload_text().prop_map(|s| Packet::Open(Bytes::from(s))),
        Just(Packet::Close),
        any::<bool>().prop_map(|probe| Packet::Ping { probe }),
        any::<bool>().prop_map(|probe| Packet::Pong { probe }),
        payload_text().prop_map(|s| Packet::Message(Message::text(s))),
        proptest::collection::vec(any::<u8>(), 0..64)
            .prop_map(|b| Packet::Message(Message::Binary(Bytes::from(b)))),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

proptest! {
    #[test]
    fn a_packet_survives_text_encoding(p in packet()) {
        let wire = p.to_text();
        prop_assert_eq!(wire.len(), p.encoded_text_len());
        prop_assert!(std::str::from_utf8(&wire).is_ok());
        prop_assert_eq!(Packet::decode_text(wire), Ok(p));
    }

    #[test]
    fn a_payload_survives_encoding(packets in proptest::collection::vec(packet(), 1..8)) {
        let wire = encode_payload(&packets);
        let separators = wire.iter().filter(|&&b| b == RECORD_SEPARATOR).count();
        prop_assert_eq!(separators, packets.len() - 1);
        let decoded: Result<Vec<Packet>, _> = decode_payload(wire).collect();
        prop_assert_eq!(decoded, Ok(packets));
    }

    #[test]
    fn decoding_arbitrary_text_never_panics_and_is_stable(s in any::<String>()) {
        if let Ok(p) = Packet::decode_text(Bytes::from(s)) {
            prop_assert_eq!(Packet::decode_text(p.to_text()), Ok(p));
        }
    }

    #[test]
    fn decoding_arbitrary_payloads_ends_at_the_first_error(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let items: Vec<_> = decode_payload(Bytes::from(body)).collect();
        prop_assert!(!items.is_empty());
        let first_err = items.iter().position(Result::is_err);
        if let Some(i) = first_err {
            prop_assert_eq!(i, items.len() - 1);
        }
    }
}
