//! Reading payloads with serde, from the scanner's tape.
//!
//! The decoder's scan already checked the grammar and recorded every value (span, kind, where
//! its next sibling starts), so deserializing walks that tape instead of lexing the text again:
//! a string without escapes is handed to the visitor as a `&str` borrowed from the payload (a
//! `String` field copies it once, a `&str` field not at all), a number is parsed from its
//! recorded digits, a value the target ignores is skipped in one step, and a placeholder is
//! offered as the borrowed bytes of its attachment (or as a sequence of `u8` when a sequence
//! is asked for, for `Vec<u8>` and arrays).
//!
//! The only recursion is serde's own (one visitor call per level of the value being read); the
//! tape bounds it at the depth the scan allowed. Errors are serde_json's, so messages read as
//! they would from `serde_json::from_slice`.

use std::borrow::Cow;

use bytes::Bytes;
use serde::de::value::{BorrowedStrDeserializer, SeqDeserializer, StringDeserializer};
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, Error as _, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, VariantAccess, Visitor,
};
use serde_json::Error;

use super::json::{Tok, TokKind, unescape_strict};

/// serde_json's marker for `RawValue`, which must see the raw text even around placeholders.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// What a node borrows from its payload.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    /// The text, checked as UTF-8 once per read up to what the read reaches (a read of one
    /// number, boolean or null checks nothing: see [`Payload::arg`](super::Payload::arg)).
    pub json: &'a str,
    /// The whole text, unchecked: numbers are read from it.
    pub bytes: &'a [u8],
    pub tape: &'a [Tok],
    pub attachments: &'a [Bytes],
    /// Whether placeholders stand for their attachments; if not, they read as the objects
    /// they are in the text ([`Payload::to_value`](super::Payload::to_value)).
    pub binary: bool,
}

impl<'a> Ctx<'a> {
    fn bytes(&self, tok: &Tok) -> &'a [u8] {
        &self.bytes[tok.start as usize..tok.end as usize]
    }

    /// A value's text: from the checked text, or checked now if it lies beyond (a scalar
    /// read alone, asked for its text: a `RawValue`, a 128-bit integer).
    fn text(&self, tok: &Tok) -> Result<&'a str, Error> {
        match self.json.get(tok.start as usize..tok.end as usize) {
            Some(text) => Ok(text),
            None => std::str::from_utf8(self.bytes(tok))
                .map_err(|_| Error::custom("payload is not UTF-8")),
        }
    }

    /// The text between a string token's quotes.
    #[inline]
    fn raw_string(&self, tok: &Tok) -> &'a str {
        &self.json[tok.start as usize + 1..tok.end as usize - 1]
    }

    /// The contents of a string token, borrowed when it has no escapes.
    fn string(&self, tok: &Tok) -> Result<Cow<'a, str>, Error> {
        let inner = self.raw_string(tok);
        if tok.kind == TokKind::Str {
            return Ok(Cow::Borrowed(inner));
        }
        unescape_strict(inner.as_bytes())
            .map(Cow::Owned)
            .ok_or_else(|| Error::custom("lone leading surrogate in hex escape"))
    }

    fn attachment(&self, tok: &Tok) -> &'a [u8] {
        self.attachments
            .get(tok.aux as usize)
            .map_or(&[][..], |b| &b[..])
    }
}

/// One JSON value of a payload: an index into the tape.
#[derive(Clone, Copy)]
pub(crate) struct Node<'c, 'a> {
    /// By reference: a node is made for every value read, and the context is seven words.
    pub ctx: &'c Ctx<'a>,
    pub tok: usize,
}

impl<'a> Node<'_, 'a> {
    fn tok(&self) -> &'a Tok {
        &self.ctx.tape[self.tok]
    }

    fn kind(&self) -> TokKind {
        match self.tok().kind {
            TokKind::Placeholder if !self.ctx.binary => TokKind::Object,
            kind => kind,
        }
    }

    /// The value read by serde_json from its text (for `RawValue` and opaque text).
    fn serde_json(&self) -> Result<serde_json::Deserializer<serde_json::de::StrRead<'a>>, Error> {
        Ok(serde_json::Deserializer::from_str(
            self.ctx.text(self.tok())?,
        ))
    }

    fn unexpected(&self) -> Unexpected<'a> {
        let tok = self.tok();
        match self.kind() {
            TokKind::Null => Unexpected::Unit,
            TokKind::True => Unexpected::Bool(true),
            TokKind::False => Unexpected::Bool(false),
            TokKind::UInt | TokKind::NegInt | TokKind::Float => Unexpected::Other("number"),
            TokKind::Str | TokKind::EscStr => Unexpected::Other("string"),
            TokKind::Array => Unexpected::Seq,
            TokKind::Object => Unexpected::Map,
            TokKind::Placeholder => Unexpected::Bytes(self.ctx.attachment(tok)),
            TokKind::Opaque => Unexpected::Other("JSON"),
        }
    }

    /// The number of tape entries directly inside this container (object: keys and values).
    fn children(&self) -> usize {
        let (mut at, end) = (self.tok + 1, self.tok().next as usize);
        let mut count = 0;
        while at < end {
            at = self.ctx.tape[at].next as usize;
            count += 1;
        }
        count
    }

    fn seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let tok = self.tok();
        let mut seq = Seq {
            ctx: self.ctx,
            at: self.tok + 1,
            end: tok.next as usize,
            left: tok.aux as usize,
        };
        let value = visitor.visit_seq(&mut seq)?;
        if seq.at < seq.end {
            // The target took fewer elements than there are (a tuple too short).
            let count = self.children();
            return Err(Error::invalid_length(count, &ExpectedLen(count - seq.left)));
        }
        Ok(value)
    }

    fn map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let tok = self.tok();
        let mut map = Map {
            ctx: self.ctx,
            at: self.tok + 1,
            end: tok.next as usize,
            // A placeholder read as an object keeps its attachment index in `aux`.
            left: if tok.kind == TokKind::Object {
                tok.aux as usize
            } else {
                0
            },
        };
        let value = visitor.visit_map(&mut map)?;
        if map.at < map.end {
            let count = self.children() / 2;
            return Err(Error::invalid_length(
                count,
                &ExpectedLen(count - map.left.min(count)),
            ));
        }
        Ok(value)
    }

    fn number<V: Visitor<'a>>(&self, visitor: V) -> Result<V::Value, Error> {
        let tok = self.tok();
        let digits = self.ctx.bytes(tok);
        let float = || match fast_f64(digits) {
            Some(f) => Ok(f),
            None => parse_f64(self.ctx.text(tok)?),
        };
        match tok.kind {
            TokKind::UInt => match parse_u64(digits) {
                Some(n) => visitor.visit_u64(n),
                // Beyond u64: a float, as serde_json reads it.
                None => visitor.visit_f64(float()?),
            },
            TokKind::NegInt => match parse_u64(&digits[1..]) {
                Some(n) if n <= i64::MAX as u64 + 1 => visitor.visit_i64((n as i64).wrapping_neg()),
                _ => visitor.visit_f64(float()?),
            },
            _ => visitor.visit_f64(float()?),
        }
    }

    fn string<V: Visitor<'a>>(&self, visitor: V) -> Result<V::Value, Error> {
        let tok = self.tok();
        // Most strings have no escapes: straight to the visitor, borrowed.
        if tok.kind == TokKind::Str {
            return visitor.visit_borrowed_str(self.ctx.raw_string(tok));
        }
        match self.ctx.string(tok)? {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    /// 128-bit integers from their digits (serde_json reads them exactly too).
    fn int128<V: Visitor<'a>>(self, visitor: V, signed: bool) -> Result<V::Value, Error> {
        let tok = self.tok();
        let text = self.ctx.text(tok)?;
        match tok.kind {
            TokKind::UInt if !signed => match text.parse::<u128>() {
                Ok(n) => visitor.visit_u128(n),
                Err(_) => Err(Error::custom("number out of range")),
            },
            TokKind::UInt | TokKind::NegInt => match text.parse::<i128>() {
                Ok(n) => visitor.visit_i128(n),
                Err(_) => Err(Error::custom("number out of range")),
            },
            _ => self.deserialize_any(visitor),
        }
    }
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    // Up to 19 digits cannot overflow (u64::MAX has 20): no check per digit.
    if digits.len() <= 19 {
        let mut n: u64 = 0;
        for &d in digits {
            n = n * 10 + u64::from(d - b'0');
        }
        return Some(n);
    }
    let mut n: u64 = 0;
    for &d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(n)
}

fn parse_f64(text: &str) -> Result<f64, Error> {
    if let Some(f) = fast_f64(text.as_bytes()) {
        return Ok(f);
    }
    // The scan checked the grammar, which Rust's parser accepts (and rounds correctly).
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(f),
        _ => Err(Error::custom("number out of range")),
    }
}

/// Clinger's fast path for the common short decimal (`12.75`, `-0.5`): with at most 15
/// digits and no exponent, the digits as an integer and the power of ten are both exact in
/// an `f64`, so one division rounds correctly. `None` for anything else.
fn fast_f64(text: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut scale = 0;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(c - b'0'),
            b'.' => scale = digits.len() - i - 1,
            _ => return None,
        }
    }
    if mantissa >= 1 << 53 {
        return None;
    }
    let value = mantissa as f64 / POW10[scale];
    Some(if negative { -value } else { value })
}

struct ExpectedLen(usize);

impl de::Expected for ExpectedLen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} elements", self.0)
    }
}

impl<'a> Deserializer<'a> for Node<'_, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            TokKind::Null => visitor.visit_unit(),
            TokKind::True => visitor.visit_bool(true),
            TokKind::False => visitor.visit_bool(false),
            TokKind::UInt | TokKind::NegInt | TokKind::Float => self.number(visitor),
            TokKind::Str | TokKind::EscStr => self.string(visitor),
            TokKind::Array => self.seq(visitor),
            TokKind::Object => self.map(visitor),
            TokKind::Placeholder => visitor.visit_borrowed_bytes(self.ctx.attachment(self.tok())),
            TokKind::Opaque => self.serde_json()?.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            TokKind::Null => visitor.visit_none(),
            TokKind::Opaque => self.serde_json()?.deserialize_option(visitor),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            TokKind::Null => visitor.visit_unit(),
            _ => Err(Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        // As serde_json: a string gives its (unescaped) bytes.
        match self.kind() {
            TokKind::Str | TokKind::EscStr => match self.ctx.string(self.tok())? {
                Cow::Borrowed(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
                Cow::Owned(s) => visitor.visit_byte_buf(s.into_bytes()),
            },
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.kind() {
            // `Vec<u8>`, `[u8; N]`: the attachment's bytes one by one.
            TokKind::Placeholder => visitor.visit_seq(SeqDeserializer::<_, Error>::new(
                self.ctx.attachment(self.tok()).iter().copied(),
            )),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == RAW_VALUE_TOKEN {
            return self.serde_json()?.deserialize_newtype_struct(name, visitor);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let tok = self.tok();
        match self.kind() {
            TokKind::Str | TokKind::EscStr => match self.ctx.string(tok)? {
                Cow::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s)),
                Cow::Owned(s) => visitor.visit_enum(StringDeserializer::<Error>::new(s)),
            },
            TokKind::Object if tok.aux == 1 => {
                let key = self.tok + 1;
                visitor.visit_enum(Enum {
                    ctx: self.ctx,
                    key,
                    value: self.ctx.tape[key].next as usize,
                })
            }
            TokKind::Placeholder => visitor.visit_borrowed_bytes(self.ctx.attachment(tok)),
            TokKind::Opaque => self.serde_json()?.deserialize_enum(name, variants, visitor),
            _ => Err(Error::invalid_type(
                self.unexpected(),
                &"a string or an object with one key for an enum",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        // The tape knows where the value ends: nothing to read.
        visitor.visit_unit()
    }

    fn deserialize_i128<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.int128(visitor, true)
    }

    fn deserialize_u128<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.int128(visitor, false)
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string map struct identifier
    }
}

/// Array elements as a serde sequence: tape indices from `at` to `end`, `left` of them.
pub(crate) struct Seq<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub at: usize,
    pub end: usize,
    pub left: usize,
}

impl<'a> SeqAccess<'a> for Seq<'_, 'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if self.at >= self.end {
            return Ok(None);
        }
        let tok = self.at;
        self.at = self.ctx.tape[tok].next as usize;
        self.left = self.left.saturating_sub(1);
        seed.deserialize(Node { ctx: self.ctx, tok }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// Object entries (key and value tape entries alternating) as a serde map.
struct Map<'c, 'a> {
    ctx: &'c Ctx<'a>,
    at: usize,
    end: usize,
    left: usize,
}

impl<'a> MapAccess<'a> for Map<'_, 'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if self.at >= self.end {
            return Ok(None);
        }
        let key = self.at;
        // The value follows its key, which is a string (one tape entry).
        self.at = key + 1;
        seed.deserialize(Key {
            ctx: self.ctx,
            tok: key,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let tok = self.at;
        if tok >= self.end {
            return Err(Error::custom("object key without value"));
        }
        self.at = self.ctx.tape[tok].next as usize;
        self.left = self.left.saturating_sub(1);
        seed.deserialize(Node { ctx: self.ctx, tok })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// `{"Variant": value}` as an enum.
struct Enum<'c, 'a> {
    ctx: &'c Ctx<'a>,
    key: usize,
    value: usize,
}

impl<'c, 'a> EnumAccess<'a> for Enum<'c, 'a> {
    type Error = Error;
    type Variant = Node<'c, 'a>;

    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Node<'c, 'a>), Error> {
        let variant = seed.deserialize(Key {
            ctx: self.ctx,
            tok: self.key,
        })?;
        Ok((
            variant,
            Node {
                ctx: self.ctx,
                tok: self.value,
            },
        ))
    }
}

impl<'a> VariantAccess<'a> for Node<'_, 'a> {
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

/// An object key (a string on the tape). Like serde_json, numbers and booleans can be read
/// out of the key's text.
struct Key<'c, 'a> {
    ctx: &'c Ctx<'a>,
    tok: usize,
}

impl<'a> Key<'_, 'a> {
    fn text(&self) -> Result<Cow<'a, str>, Error> {
        self.ctx.string(&self.ctx.tape[self.tok])
    }

    fn parse<T: std::str::FromStr>(&self) -> Result<T, Error> {
        self.text()?
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

impl<'a> Deserializer<'a> for Key<'_, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let tok = &self.ctx.tape[self.tok];
        if tok.kind == TokKind::Str {
            return visitor.visit_borrowed_str(self.ctx.raw_string(tok));
        }
        match self.text()? {
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
        match self.text()? {
            Cow::Borrowed(s) => visitor.visit_enum(s.into_deserializer()),
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
pub(crate) struct Args<'c, 'a> {
    pub seq: Seq<'c, 'a>,
}

impl<'a> Deserializer<'a> for Args<'_, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(self.seq)
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

#[cfg(test)]
mod tests {
    use super::fast_f64;

    #[test]
    fn the_fast_float_path_rounds_like_the_standard_parser() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "0.1",
            "0.2",
            "0.3",
            "12.75",
            "-0.5",
            "1.7976931348623",
            "9007199254740991",
            "9007199254740993",
            "123456789012.345",
            "0.000000000000001",
            "-99999999999999.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // A deterministic spread of mantissas and scales.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 10_u64.pow((x >> 60) as u32 % 16 + 1)).to_string();
            let point = (x >> 40) as usize % (digits.len() + 1);
            let text = if point == 0 || point == digits.len() {
                digits
            } else {
                format!("{}.{}", &digits[..point], &digits[point..])
            };
            cases.push(text);
        }
        for text in cases {
            if let Some(fast) = fast_f64(text.as_bytes()) {
                let slow: f64 = text.parse().unwrap();
                assert_eq!(fast.to_bits(), slow.to_bits(), "{text}");
            }
        }
    }
}
