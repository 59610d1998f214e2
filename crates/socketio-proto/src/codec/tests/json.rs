//! The JSON scanner accepts exactly what serde_json accepts.

use proptest::prelude::*;
use serde::de::IgnoredAny;

use super::tree::plain_tree;
use crate::codec::DEFAULT_MAX_DEPTH;
use crate::codec::json::{Kind, scan};

/// Fragments that make near-JSON text likely to hit every branch of the grammar.
fn soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("["),
        Just("]"),
        Just("{"),
        Just("}"),
        Just(","),
        Just(":"),
        Just("\""),
        Just("\"a\""),
        Just("\"\\u00e9\\ud83d\\ude00\""),
        Just("\"\\ud800\""),
        Just("\\"),
        Just("\\u"),
        Just("\\n"),
        Just("\\x"),
        Just("0"),
        Just("1"),
        Just("-"),
        Just("."),
        Just("e"),
        Just("E+"),
        Just("12.5e-3"),
        Just("true"),
        Just("fals"),
        Just("null"),
        Just(" "),
        Just("\t"),
        Just("\n"),
        Just("\u{1}"),
        Just("é"),
        Just("x"),
        Just("00"),
        Just("-0"),
        Just("1e400"),
    ];
    proptest::collection::vec(token, 0..24).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn agrees_with_serde_json_on_near_json(text in soup()) {
        let ours = scan(text.as_bytes(), None, DEFAULT_MAX_DEPTH).is_ok();
        let theirs = serde_json::from_str::<IgnoredAny>(&text).is_ok();
        prop_assert_eq!(ours, theirs, "{:?}", text);
    }

    #[test]
    fn agrees_with_serde_json_on_arbitrary_text(text in any::<String>()) {
        let ours = scan(text.as_bytes(), None, DEFAULT_MAX_DEPTH).is_ok();
        let theirs = serde_json::from_str::<IgnoredAny>(&text).is_ok();
        prop_assert_eq!(ours, theirs, "{:?}", text);
    }

    #[test]
    fn finds_the_children_of_valid_json(tree in plain_tree(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&tree).unwrap()
        } else {
            serde_json::to_string(&tree).unwrap()
        };
        let index = scan(text.as_bytes(), None, DEFAULT_MAX_DEPTH).expect("valid");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        match &value {
            serde_json::Value::Array(items) => {
                prop_assert_eq!(index.kind, Kind::Array);
                prop_assert_eq!(index.children_len(), items.len());
                for (span, item) in index.children().iter().zip(items) {
                    let child: serde_json::Value = serde_json::from_slice(span.of(text.as_bytes())).unwrap();
                    prop_assert_eq!(&child, item);
                }
            }
            serde_json::Value::Object(map) => {
                prop_assert_eq!(index.kind, Kind::Object);
                prop_assert_eq!(index.children_len() % 2, 0);
                // Duplicate keys collapse in the map, so compare against the last of each.
                let mut seen = serde_json::Map::new();
                for pair in index.children().chunks(2) {
                    let key: String = serde_json::from_slice(pair[0].of(text.as_bytes())).unwrap();
                    let child: serde_json::Value = serde_json::from_slice(pair[1].of(text.as_bytes())).unwrap();
                    seen.insert(key, child);
                }
                prop_assert_eq!(&seen, map);
            }
            _ => prop_assert!(index.children().is_empty()),
        }
        prop_assert_eq!(index.root.of(text.as_bytes()), text.trim().as_bytes());
    }
}

#[test]
fn agrees_with_serde_json_on_edge_cases() {
    let cases = [
        "",
        " ",
        "0",
        "-0",
        "01",
        "-",
        "1.",
        ".1",
        "1e",
        "1e+",
        "1E-2",
        "1.5e400",
        "-1e-400",
        "\"",
        "\"\\\"",
        "\"\\u\"",
        "\"\\u12\"",
        "\"\\uD800\"",
        "\"\\uDC00\\uD800\"",
        "\"\u{7f}\"",
        "\"\u{1f}\"",
        "\"\\/\"",
        "[",
        "[]",
        "[,]",
        "[1,]",
        "[1 2]",
        "{}",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{1:1}",
        "{\"a\":1 \"b\":2}",
        "nul",
        "nulll",
        "truefalse",
        "[true false]",
        " [ ] ",
        "\u{feff}[]",
        "[]\u{0}",
        "\r\n[\t]\r\n",
        "[\"é😀\"]",
        "{\"a\":{\"b\":[{}]}}",
        "[[[[]]]]",
        "[[[[]]]",
        "\"abcdefghijklmnopqrstuvwxyz\\n0123\"",
        "\"abcdefgh\u{1}ijklmnop\"",
        "\"abcdefghijklmnop\u{1}\"",
        "\"abcdefghijklmnopqrstuvw",
    ];
    for text in cases {
        let ours = scan(text.as_bytes(), None, DEFAULT_MAX_DEPTH).is_ok();
        let theirs = serde_json::from_str::<IgnoredAny>(text).is_ok();
        assert_eq!(ours, theirs, "{text:?}");
    }
}

/// Strings are skipped eight bytes at a time and the text's last bytes as one word padded
/// with zero bytes: a special byte (quote, backslash, control, non-ASCII) must stop the skip at
/// every position of a word and of the tail, and the padding must never end a string.
#[test]
fn strings_stop_at_the_first_special_byte_at_every_position() {
    use crate::codec::json::{ScanError, TokKind};
    use crate::codec::{JsonError, JsonErrorKind};
    for len in 0..20 {
        let plain = "a".repeat(len);
        for (special, expect) in [
            ("\\n", Ok(TokKind::EscStr)),
            ("\\u00e9", Ok(TokKind::EscStr)),
            ("é", Ok(TokKind::Str)),
            ("😀", Ok(TokKind::Str)),
            ("\u{1}", Err(JsonErrorKind::ControlCharacter)),
            ("\u{1f}", Err(JsonErrorKind::ControlCharacter)),
        ] {
            for after in ["", "b", "bcdefghij"] {
                for outer in ["[\"{s}\"]", "\"{s}\"", "{\"{s}\":1}"] {
                    let body = format!("{plain}{special}{after}");
                    let text = outer.replace("{s}", &body);
                    let got = scan(text.as_bytes(), None, DEFAULT_MAX_DEPTH);
                    match expect {
                        Ok(kind) => {
                            let index = got.unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
                            let tok = index
                                .tape
                                .iter()
                                .find(|t| t.kind != TokKind::Array && t.kind != TokKind::Object)
                                .unwrap();
                            assert_eq!(tok.kind, kind, "{text:?}");
                            assert_eq!(
                                tok.end as usize - tok.start as usize,
                                body.len() + 2,
                                "{text:?}"
                            );
                        }
                        Err(kind) => {
                            let offset = text.find(special).unwrap();
                            assert_eq!(
                                got,
                                Err(ScanError::Json(JsonError { offset, kind })),
                                "{text:?}"
                            );
                        }
                    }
                }
            }
            // Unterminated: the end of the text, wherever it falls in a word.
            let text = format!("[\"{plain}");
            let got = scan(text.as_bytes(), None, DEFAULT_MAX_DEPTH);
            let end = JsonError {
                offset: text.len(),
                kind: JsonErrorKind::UnexpectedEnd,
            };
            assert_eq!(got, Err(ScanError::Json(end)), "{text:?}");
        }
        // Invalid UTF-8 at each position, and a character cut by the end of the text.
        let text = [b"[\"", plain.as_bytes(), b"\xff\"]"].concat();
        let got = scan(&text, None, DEFAULT_MAX_DEPTH);
        let bad = JsonError {
            offset: 2 + len,
            kind: JsonErrorKind::InvalidUtf8,
        };
        assert_eq!(got, Err(ScanError::Json(bad)));
        let text = [b"\"", plain.as_bytes(), "é".as_bytes().split_at(1).0].concat();
        let got = scan(&text, None, DEFAULT_MAX_DEPTH);
        let bad = JsonError {
            offset: 1 + len,
            kind: JsonErrorKind::InvalidUtf8,
        };
        assert_eq!(got, Err(ScanError::Json(bad)));
    }
}
