//! Writing payloads with serde: binary values become attachment placeholders.
//!
//! [`Intercept`] wraps serde_json's serializer and forwards every call, except
//! `serialize_bytes` (which `bytes::Bytes`, `serde_bytes` and `#[serde(with = "serde_bytes")]`
//! fields use): it stores a copy of the bytes as the next attachment and writes
//! `{"_placeholder":true,"num":N}` in their place. Depth-first serialization order is text
//! order, so `num` counts up through the text like the reference's `deconstructPacket`.
//! Nothing is buffered and no `serde_json::Value` is built; a value without bytes costs what
//! plain `serde_json::to_vec` costs.

use std::cell::{Cell, RefCell};

use bytes::Bytes;
use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

/// What the serialization collects on the side.
pub(crate) struct State {
    pub attachments: RefCell<Vec<Bytes>>,
    depth: Cell<usize>,
    max_depth: usize,
    pub too_deep: Cell<bool>,
}

impl State {
    /// A serialization refusing nesting deeper than `max_depth` (what a decoder with the
    /// same limit accepts).
    pub fn new(max_depth: usize) -> Self {
        Self {
            attachments: RefCell::default(),
            depth: Cell::new(0),
            max_depth,
            too_deep: Cell::new(false),
        }
    }

    fn enter<E: ser::Error>(&self, levels: usize) -> Result<(), E> {
        let depth = self.depth.get() + levels;
        self.depth.set(depth);
        if depth > self.max_depth {
            self.too_deep.set(true);
            return Err(E::custom("payload nested too deeply"));
        }
        Ok(())
    }

    fn leave(&self, levels: usize) {
        self.depth.set(self.depth.get().saturating_sub(levels));
    }
}

/// A serializer that forwards to `inner`, turning bytes into placeholders.
pub(crate) struct Intercept<'s, S> {
    pub inner: S,
    pub state: &'s State,
}

/// A value to be serialized through [`Intercept`].
pub(crate) struct Wrapped<'v, 's, T: ?Sized> {
    pub value: &'v T,
    pub state: &'s State,
}

impl<T: ?Sized + Serialize> Serialize for Wrapped<'_, '_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Intercept {
            inner: serializer,
            state: self.state,
        })
    }
}

/// The placeholder object, in the reference's key order.
struct PlaceholderObject {
    num: usize,
}

impl Serialize for PlaceholderObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut object = serializer.serialize_struct("Placeholder", 2)?;
        object.serialize_field("_placeholder", &true)?;
        object.serialize_field("num", &self.num)?;
        object.end()
    }
}

/// A compound (array or object) being written, `levels` deep in JSON terms.
pub(crate) struct Compound<'s, C> {
    inner: C,
    state: &'s State,
    levels: usize,
}

macro_rules! forward_scalars {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
            self.inner.$method(v)
        }
    )*};
}

impl<'s, S: Serializer> Serializer for Intercept<'s, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'s, S::SerializeSeq>;
    type SerializeTuple = Compound<'s, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'s, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'s, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'s, S::SerializeMap>;
    type SerializeStruct = Compound<'s, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'s, S::SerializeStructVariant>;

    forward_scalars! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_unit_struct(&'static str);
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        self.state.enter(1)?;
        let num = {
            let mut attachments = self.state.attachments.borrow_mut();
            attachments.push(Bytes::copy_from_slice(v));
            attachments.len() - 1
        };
        let result = PlaceholderObject { num }.serialize(self.inner);
        self.state.leave(1);
        result
    }

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.serialize_some(&Wrapped {
            value,
            state: self.state,
        })
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_newtype_struct(
            name,
            &Wrapped {
                value,
                state: self.state,
            },
        )
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        // `{"variant": value}`: one level of object.
        self.state.enter(1)?;
        let result = self.inner.serialize_newtype_variant(
            name,
            index,
            variant,
            &Wrapped {
                value,
                state: self.state,
            },
        );
        self.state.leave(1);
        result
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.state.enter(1)?;
        let inner = self.inner.serialize_seq(len)?;
        Ok(Compound {
            inner,
            state: self.state,
            levels: 1,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.state.enter(1)?;
        let inner = self.inner.serialize_tuple(len)?;
        Ok(Compound {
            inner,
            state: self.state,
            levels: 1,
        })
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.state.enter(1)?;
        let inner = self.inner.serialize_tuple_struct(name, len)?;
        Ok(Compound {
            inner,
            state: self.state,
            levels: 1,
        })
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        // `{"variant": [...]}`: two levels.
        self.state.enter(2)?;
        let inner = self
            .inner
            .serialize_tuple_variant(name, index, variant, len)?;
        Ok(Compound {
            inner,
            state: self.state,
            levels: 2,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.state.enter(1)?;
        let inner = self.inner.serialize_map(len)?;
        Ok(Compound {
            inner,
            state: self.state,
            levels: 1,
        })
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.state.enter(1)?;
        let inner = self.inner.serialize_struct(name, len)?;
        Ok(Compound {
            inner,
            state: self.state,
            levels: 1,
        })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.state.enter(2)?;
        let inner = self
            .inner
            .serialize_struct_variant(name, index, variant, len)?;
        Ok(Compound {
            inner,
            state: self.state,
            levels: 2,
        })
    }

    fn collect_str<T: ?Sized + std::fmt::Display>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<C: SerializeSeq> SerializeSeq for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_element(&Wrapped {
            value,
            state: self.state,
        })
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.state.leave(self.levels);
        self.inner.end()
    }
}

impl<C: SerializeTuple> SerializeTuple for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_element(&Wrapped {
            value,
            state: self.state,
        })
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.state.leave(self.levels);
        self.inner.end()
    }
}

impl<C: SerializeTupleStruct> SerializeTupleStruct for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_field(&Wrapped {
            value,
            state: self.state,
        })
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.state.leave(self.levels);
        self.inner.end()
    }
}

impl<C: SerializeTupleVariant> SerializeTupleVariant for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_field(&Wrapped {
            value,
            state: self.state,
        })
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.state.leave(self.levels);
        self.inner.end()
    }
}

impl<C: SerializeMap> SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), C::Error> {
        self.inner.serialize_key(&Wrapped {
            value: key,
            state: self.state,
        })
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_value(&Wrapped {
            value,
            state: self.state,
        })
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.state.leave(self.levels);
        self.inner.end()
    }
}

impl<C: SerializeStruct> SerializeStruct for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.inner.serialize_field(
            key,
            &Wrapped {
                value,
                state: self.state,
            },
        )
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.state.leave(self.levels);
        self.inner.end()
    }
}

impl<C: SerializeStructVariant> SerializeStructVariant for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.inner.serialize_field(
            key,
            &Wrapped {
                value,
                state: self.state,
            },
        )
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.state.leave(self.levels);
        self.inner.end()
    }
}

/// Serializes `value` as compact JSON into `out`, collecting bytes as attachments.
pub(crate) fn to_json<T: ?Sized + Serialize>(
    value: &T,
    out: &mut Vec<u8>,
    state: &State,
) -> Result<(), serde_json::Error> {
    let mut serializer = serde_json::Serializer::new(out);
    value.serialize(Intercept {
        inner: &mut serializer,
        state,
    })
}
