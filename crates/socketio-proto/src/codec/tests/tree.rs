//! A JSON-like value with binary leaves, for property tests.

use std::fmt;

use bytes::Bytes;
use proptest::prelude::*;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tree {
    Null,
    Bool(bool),
    Int(i64),
    /// Quarter steps: exact in binary and short in decimal, so they survive any f64 parser.
    Float(f64),
    Str(String),
    Bytes(Bytes),
    Arr(Vec<Tree>),
    Obj(Vec<(String, Tree)>),
}

impl Tree {
    pub(super) fn binary_leaves(&self) -> usize {
        match self {
            Tree::Bytes(_) => 1,
            Tree::Arr(items) => items.iter().map(Tree::binary_leaves).sum(),
            Tree::Obj(entries) => entries.iter().map(|(_, v)| v.binary_leaves()).sum(),
            _ => 0,
        }
    }
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Null => s.serialize_unit(),
            Tree::Bool(b) => s.serialize_bool(*b),
            Tree::Int(i) => s.serialize_i64(*i),
            Tree::Float(f) => s.serialize_f64(*f),
            Tree::Str(v) => s.serialize_str(v),
            Tree::Bytes(b) => s.serialize_bytes(b),
            Tree::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Tree::Obj(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tree;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tree")
            }
            fn visit_unit<E>(self) -> Result<Tree, E> {
                Ok(Tree::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Tree, E> {
                Ok(Tree::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Tree, E> {
                Ok(Tree::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Tree, E> {
                i64::try_from(v).map(Tree::Int).map_err(E::custom)
            }
            fn visit_f64<E>(self, v: f64) -> Result<Tree, E> {
                Ok(Tree::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Tree, E> {
                Ok(Tree::Str(v.to_owned()))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Tree, E> {
                Ok(Tree::Bytes(Bytes::copy_from_slice(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Tree::Arr(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Tree::Obj(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// Object keys: short, sometimes needing escapes, never `_placeholder`.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,4}",
        Just("num".to_owned()),
        Just("k\"\\\u{1}é😀".to_owned()),
        any::<String>().prop_filter("not a placeholder key", |k| k != "_placeholder"),
    ]
}

fn leaf(binary: bool) -> impl Strategy<Value = Tree> {
    let bytes = proptest::collection::vec(any::<u8>(), 0..24).prop_map(move |b| {
        if binary {
            Tree::Bytes(b.into())
        } else {
            Tree::Null
        }
    });
    prop_oneof![
        Just(Tree::Null),
        any::<bool>().prop_map(Tree::Bool),
        any::<i64>().prop_map(Tree::Int),
        (-4000i32..4000).prop_map(|q| Tree::Float(f64::from(q) / 4.0 + 0.25)),
        any::<String>().prop_map(Tree::Str),
        "[a-z\"\\\\/\n\t\u{0}\u{1f}é😀]{0,8}".prop_map(Tree::Str),
        bytes,
    ]
}

/// Nested values with binary leaves at random depths.
pub(super) fn tree() -> impl Strategy<Value = Tree> {
    tree_of(leaf(true))
}

/// A tree without binary leaves.
pub(super) fn plain_tree() -> impl Strategy<Value = Tree> {
    tree_of(leaf(false))
}

fn tree_of(leaf: impl Strategy<Value = Tree> + 'static) -> impl Strategy<Value = Tree> {
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Tree::Arr),
            proptest::collection::vec((key(), inner), 0..6).prop_map(Tree::Obj),
        ]
    })
}
