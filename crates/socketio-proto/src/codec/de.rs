//! Reading payloads with serde, placeholders replaced by their attachments.
//!
//! A subtree that holds no placeholder is handed whole to serde_json (zero-copy, its full
//! speed). Only the containers on the way to a placeholder are split here into their children,
//! using the scanner; a placeholder itself is offered to the visitor as borrowed bytes (or as
//! a sequence of `u8` when a sequence is asked for, for `Vec<u8>` and arrays).

use std::borrow::Cow;

use bytes::Bytes;
use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer, StringDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error as _, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde_json::Error;
use serde_json::de::SliceRead;

use super::json::{self, Kind, Placeholder, Span, unescape};

/// serde_json's marker for `RawValue`, which must see the raw text even around placeholders.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// What a node borrows from its payload.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub json: &'a [u8],
    pub attachments: &'a [Bytes],
    /// Sorted by start, disjoint.
    pub placeholders: &'a [Placeholder],
}

enum Class<'a> {
    /// No placeholder inside: serde_json reads it.
    Plain,
    /// The node is a placeholder for these bytes.
    Placeholder(&'a [u8]),
    /// An array or object with a placeholder somewhere inside.
    Container,
}

impl<'a> Ctx<'a> {
    fn classify(&self, span: Span) -> Class<'a> {
        let i = self
            .placeholders
            .partition_point(|p| p.span.start < span.start);
        match self.placeholders.get(i) {
            Some(p) if p.span == span => {
                Class::Placeholder(self.attachments.get(p.num).map_or(&[][..], |b| &b[..]))
            }
            Some(p) if p.span.start < span.end => Class::Container,
            _ => Class::Plain,
        }
    }
}

/// One JSON value of a payload.
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    pub ctx: Ctx<'a>,
    pub span: Span,
}

impl<'a> Node<'a> {
    fn json(&self) -> serde_json::Deserializer<SliceRead<'a>> {
        serde_json::Deserializer::from_slice(&self.ctx.json[self.span.start..self.span.end])
    }

    /// The children of this container, with offsets into the whole payload.
    fn children(&self) -> Result<(Kind, Vec<Span>), Error> {
        let base = self.span.start;
        let index = json::scan(self.span.of(self.ctx.json), None)
            .map_err(|_| Error::custom("payload changed after validation"))?;
        let children = index
            .children
            .iter()
            .map(|s| Span {
                start: s.start + base,
                end: s.end + base,
            })
            .collect();
        Ok((index.kind, children))
    }

    fn container<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let (kind, children) = self.children()?;
        let count = children.len();
        match kind {
            Kind::Array => {
                let mut seq = Seq {
                    ctx: self.ctx,
                    iter: children.into_iter(),
                };
                let value = visitor.visit_seq(&mut seq)?;
                match seq.iter.len() {
                    0 => Ok(value),
                    left => Err(Error::invalid_length(count, &ExpectedLen(count - left))),
                }
            }
            Kind::Object => {
                let mut map = Map {
                    ctx: self.ctx,
                    iter: children.into_iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut map)?;
                match map.iter.len() {
                    0 => Ok(value),
                    left => Err(Error::invalid_length(
                        count / 2,
                        &ExpectedLen((count - left) / 2),
                    )),
                }
            }
            _ => Err(Error::custom("placeholder inside a scalar")),
        }
    }
}

struct ExpectedLen(usize);

impl de::Expected for ExpectedLen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} elements", self.0)
    }
}

macro_rules! node_forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
            match self.ctx.classify(self.span) {
                Class::Plain => (&mut self.json()).$method($($arg,)* visitor),
                Class::Placeholder(bytes) => visitor.visit_borrowed_bytes(bytes),
                Class::Container => self.container(visitor),
            }
        }
    )*};
}

macro_rules! node_seq {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'a>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
            match self.ctx.classify(self.span) {
                Class::Plain => (&mut self.json()).$method($($arg,)* visitor),
                Class::Placeholder(bytes) => {
                    visitor.visit_seq(SeqDeserializer::<_, Error>::new(bytes.iter().copied()))
                }
                Class::Container => self.container(visitor),
            }
        }
    )*};
}

impl<'a> Deserializer<'a> for Node<'a> {
    type Error = Error;

    node_forward! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_identifier();
    }

    node_seq! {
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.ctx.classify(self.span) {
            Class::Plain => (&mut self.json()).deserialize_option(visitor),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.ctx.classify(self.span) {
            Class::Plain => (&mut self.json()).deserialize_newtype_struct(name, visitor),
            _ if name == RAW_VALUE_TOKEN => {
                (&mut self.json()).deserialize_newtype_struct(name, visitor)
            }
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.ctx.classify(self.span) {
            Class::Plain => (&mut self.json()).deserialize_enum(name, variants, visitor),
            Class::Placeholder(bytes) => visitor.visit_borrowed_bytes(bytes),
            Class::Container => match self.children()? {
                (Kind::Object, children) if children.len() == 2 => visitor.visit_enum(Enum {
                    ctx: self.ctx,
                    key: children[0],
                    value: children[1],
                }),
                _ => Err(Error::custom("expected an object with one key for an enum")),
            },
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

/// Array elements as a serde sequence.
pub(crate) struct Seq<'a, I> {
    pub ctx: Ctx<'a>,
    pub iter: I,
}

impl<'a, I: ExactSizeIterator<Item = Span>> SeqAccess<'a> for Seq<'a, I> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.iter.next() {
            Some(span) => seed
                .deserialize(Node {
                    ctx: self.ctx,
                    span,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Object entries (key and value spans alternating) as a serde map.
struct Map<'a, I> {
    ctx: Ctx<'a>,
    iter: I,
    value: Option<Span>,
}

impl<'a, I: ExactSizeIterator<Item = Span>> MapAccess<'a> for Map<'a, I> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(key) = self.iter.next() else {
            return Ok(None);
        };
        self.value = self.iter.next();
        seed.deserialize(Key {
            raw: key.of(self.ctx.json),
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let span = self
            .value
            .take()
            .ok_or_else(|| Error::custom("object key without value"))?;
        seed.deserialize(Node {
            ctx: self.ctx,
            span,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len() / 2)
    }
}

/// `{"Variant": value}` as an enum.
struct Enum<'a> {
    ctx: Ctx<'a>,
    key: Span,
    value: Span,
}

impl<'a> EnumAccess<'a> for Enum<'a> {
    type Error = Error;
    type Variant = Node<'a>;

    fn variant_seed<V: DeserializeSeed<'a>>(self, seed: V) -> Result<(V::Value, Node<'a>), Error> {
        let variant = seed.deserialize(Key {
            raw: self.key.of(self.ctx.json),
        })?;
        Ok((
            variant,
            Node {
                ctx: self.ctx,
                span: self.value,
            },
        ))
    }
}

impl<'a> VariantAccess<'a> for Node<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }
}

/// An object key (raw text with quotes). Like serde_json, numbers and booleans can be read
/// out of the key's text.
struct Key<'a> {
    raw: &'a [u8],
}

impl<'a> Key<'a> {
    fn text(&self) -> Cow<'a, str> {
        unescape(&self.raw[1..self.raw.len() - 1])
    }

    fn parse<T: std::str::FromStr>(&self) -> Result<T, Error> {
        self.text()
            .parse()
            .map_err(|_| Error::custom("object key is not a number or boolean"))
    }
}

macro_rules! key_parse {
    ($($method:ident => $visit:ident,)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(self.parse()?)
        }
    )*};
}

impl<'a> Deserializer<'a> for Key<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.text() {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    key_parse! {
        deserialize_bool => visit_bool,
        deserialize_i8 => visit_i8,
        deserialize_i16 => visit_i16,
        deserialize_i32 => visit_i32,
        deserialize_i64 => visit_i64,
        deserialize_i128 => visit_i128,
        deserialize_u8 => visit_u8,
        deserialize_u16 => visit_u16,
        deserialize_u32 => visit_u32,
        deserialize_u64 => visit_u64,
        deserialize_u128 => visit_u128,
        deserialize_f32 => visit_f32,
        deserialize_f64 => visit_f64,
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.text() {
            Cow::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s)),
            Cow::Owned(s) => visitor.visit_enum(StringDeserializer::<Error>::new(s)),
        }
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// The elements of a payload array from some index on, as a sequence. Extra elements the
/// target does not ask for are ignored (as a JavaScript listener ignores extra arguments).
pub(crate) struct Args<'a> {
    pub ctx: Ctx<'a>,
    pub elements: &'a [Span],
}

impl<'a> Deserializer<'a> for Args<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(Seq {
            ctx: self.ctx,
            iter: self.elements.iter().copied(),
        })
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// An argument that is not there (past the end of the array): `None` for an `Option`, `()`
/// for a unit, an error for anything else.
pub(crate) struct Missing {
    pub index: usize,
}

impl<'a> Deserializer<'a> for Missing {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(Error::custom(format_args!(
            "missing argument {}",
            self.index
        )))
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_none()
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}
