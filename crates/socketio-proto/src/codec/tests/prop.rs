//! Property tests: encode → decode gives the packet back, and payloads read back what was
//! written.

use bytes::Bytes;
use proptest::prelude::*;

use super::tree::{Tree, plain_tree, tree};
use super::{decode_all, encode_all};
use crate::codec::{Packet, PacketKind, Payload, RESERVED_EVENTS};

fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_é-]{0,8}"]
}

fn event_name() -> impl Strategy<Value = Tree> {
    let not_reserved = |s: &String| !RESERVED_EVENTS.contains(&s.as_str());
    prop_oneof![
        "[a-z]{1,8}"
            .prop_filter("reserved", not_reserved)
            .prop_map(Tree::Str),
        any::<String>()
            .prop_filter("reserved", not_reserved)
            .prop_map(Tree::Str),
        any::<i64>().prop_map(Tree::Int),
    ]
}

fn object() -> impl Strategy<Value = Tree> {
    proptest::collection::vec(("[a-z]{0,6}", plain_tree()), 0..5).prop_map(Tree::Obj)
}

/// A valid packet and the tree its payload was made from.
fn packet() -> impl Strategy<Value = (Packet, Option<Tree>)> {
    let payload = |t: &Tree| Payload::from_serialize(t).expect("serializable");
    prop_oneof![
        (nsp(), proptest::option::of(object())).prop_map(move |(nsp, auth)| {
            (Packet::connect(&nsp, auth.as_ref().map(payload)), auth)
        }),
        nsp().prop_map(|nsp| (Packet::disconnect(&nsp), None)),
        (
            nsp(),
            event_name(),
            proptest::collection::vec(tree(), 0..5),
            any::<Option<u64>>()
        )
            .prop_map(move |(nsp, name, mut args, id)| {
                args.insert(0, name);
                let data = Tree::Arr(args);
                (Packet::event(&nsp, payload(&data), id), Some(data))
            }),
        (nsp(), proptest::collection::vec(tree(), 0..5), any::<u64>()).prop_map(
            move |(nsp, args, id)| {
                let data = Tree::Arr(args);
                (Packet::ack(&nsp, id, payload(&data)), Some(data))
            }
        ),
        (
            nsp(),
            prop_oneof![object(), any::<String>().prop_map(Tree::Str)]
        )
            .prop_map(move |(nsp, data)| (Packet::connect_error(&nsp, payload(&data)), Some(data))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_gives_the_packet(input in packet()) {
        let (packet, tree) = input;
        let messages = encode_all(&packet);
        let attachments = tree.as_ref().map_or(0, Tree::binary_leaves);
        prop_assert_eq!(messages.len(), 1 + attachments);
        prop_assert_eq!(messages[1..].iter().all(|m| m.is_binary()), true);
        let decoded = decode_all(&messages).expect("decodes");
        prop_assert_eq!(&decoded, &packet);

        // Both the sent and the received payload read back as the original tree.
        if let (Some(tree), Some(sent), Some(received)) = (&tree, &packet.data, &decoded.data) {
            prop_assert_eq!(&sent.deserialize::<Tree>().expect("sent"), tree);
            prop_assert_eq!(&received.deserialize::<Tree>().expect("received"), tree);
            prop_assert_eq!(received.has_binary(), attachments > 0);
        }
    }

    #[test]
    fn array_helpers_agree_with_the_tree(
        name in event_name(),
        args in proptest::collection::vec(tree(), 0..6),
        id in any::<Option<u64>>(),
    ) {
        let mut items = vec![name.clone()];
        items.extend(args.iter().cloned());
        let packet = Packet::event("/", Payload::from_serialize(&Tree::Arr(items.clone())).unwrap(), id);
        let decoded = decode_all(&encode_all(&packet)).unwrap();
        let data = decoded.data.unwrap();
        prop_assert_eq!(decoded.kind, PacketKind::Event);
        prop_assert_eq!(data.len(), items.len());
        let expected_name = match &name {
            Tree::Str(s) => s.clone(),
            Tree::Int(i) => i.to_string(),
            _ => unreachable!(),
        };
        let got_name = data.event_name();
        prop_assert_eq!(got_name.as_deref(), Some(expected_name.as_str()));
        prop_assert_eq!(&data.args::<Vec<Tree>>(1).unwrap(), &args);
        for (i, arg) in args.iter().enumerate() {
            prop_assert_eq!(&data.arg::<Tree>(i + 1).unwrap(), arg);
        }
        prop_assert_eq!(data.arg::<Option<Tree>>(items.len()).unwrap(), None);
        let last = match items.last() {
            Some(Tree::Str(s)) if !serde_json::to_string(s).unwrap().contains('\\') => Some(s.as_str()),
            _ => None,
        };
        prop_assert_eq!(data.last_str(), last);

        // pop_last on the received payload (sole owner: cut in place) and on a shared copy.
        let shared = data.clone();
        let mut owned = data;
        let mut copied = shared.clone();
        owned.pop_last();
        copied.pop_last();
        let mut expected = items.clone();
        expected.pop();
        prop_assert_eq!(&owned.deserialize::<Tree>().unwrap(), &Tree::Arr(expected.clone()));
        prop_assert_eq!(&copied, &owned);
        prop_assert_eq!(owned.len(), expected.len());
        prop_assert_eq!(&shared.deserialize::<Tree>().unwrap(), &Tree::Arr(items));
        // What remains is still a valid payload that round-trips.
        let reparsed = Payload::from_json(Bytes::copy_from_slice(owned.json())).unwrap();
        prop_assert_eq!(reparsed.json(), owned.json());
    }

    #[test]
    fn placeholders_count_up_in_text_order(t in tree()) {
        let payload = Payload::from_serialize(&t).unwrap();
        prop_assert_eq!(payload.attachments().len(), t.binary_leaves());
        let text = std::str::from_utf8(payload.json()).unwrap();
        let mut at = 0;
        for n in 0..payload.attachments().len() {
            let marker = format!(r#"{{"_placeholder":true,"num":{n}}}"#);
            let found = text[at..].find(&marker).expect("placeholder in order");
            at += found + marker.len();
        }
        // The text without binary is exactly what serde_json writes.
        if t.binary_leaves() == 0 {
            let plain = serde_json::to_vec(&t).unwrap();
            prop_assert_eq!(payload.json(), plain.as_slice());
        }
    }
}
