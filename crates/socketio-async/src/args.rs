//! Event arguments both ways: [`EmitArgs`] turns a tuple into `[event, a, b, ...]`, and
//! [`Args`] reads received arguments as typed values straight from the frame's bytes.

use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeSeq, Serializer};
use socketio_proto::codec::Payload;

use crate::error::Error;
use crate::value::Value;

/// Arguments of an emit or an ack.
///
/// - one argument: a string, number, `bool`, `serde_json::Value`, `bytes::Bytes` or
///   [`Value`], as is: `socket.emit("hello", "world")`; any other serializable value wrapped
///   in [`One`]: `socket.emit("move", One(point))`;
/// - several: a tuple, `("world", 42)` (binary as `bytes::Bytes`, anywhere inside), `()` for
///   none;
/// - a count known at run time: [`ArgsVec`], a `Vec<Value>`, or received [`Args`] (emitted
///   again as they came).
///
/// Why not every `Serialize` type as one argument: a tuple is `Serialize` too, so
/// `("world", 42)` would then be ambiguous (one array argument, or two arguments?). Tuples
/// stay argument lists, as socket.io's `emit(event, ...args)`; the common single types are
/// listed above, and [`One`] says "one argument" for the rest, including a tuple or `Vec`
/// meant as one array argument.
pub trait EmitArgs {
    /// How many arguments.
    fn count(&self) -> usize;
    /// Serializes each argument as the next element of `seq`.
    fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error>;

    /// These arguments as a packet's data: `[event, args...]` for an event, `[args...]` for
    /// an ack (`event` `None`). Every client of this family builds its packets with it.
    fn to_payload(&self, event: Option<&str>) -> Result<Payload, socketio_proto::codec::EncodeError>
    where
        Self: Sized,
    {
        Payload::from_serialize(&Data { event, args: self })
    }
}

impl EmitArgs for () {
    fn count(&self) -> usize {
        0
    }
    fn serialize_each<S: SerializeSeq>(&self, _: &mut S) -> Result<(), S::Error> {
        Ok(())
    }
}

macro_rules! tuple_args {
    ($($name:ident $idx:tt),+; $n:expr) => {
        impl<$($name: Serialize),+> EmitArgs for ($($name,)+) {
            fn count(&self) -> usize {
                $n
            }
            fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
                $(seq.serialize_element(&self.$idx)?;)+
                Ok(())
            }
        }
    };
}

tuple_args!(A 0; 1);
tuple_args!(A 0, B 1; 2);
tuple_args!(A 0, B 1, C 2; 3);
tuple_args!(A 0, B 1, C 2, D 3; 4);
tuple_args!(A 0, B 1, C 2, D 3, E 4; 5);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5; 6);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6; 7);
tuple_args!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7; 8);

/// One argument of any serializable type: `socket.emit("move", One(Point { x: 1, y: 2 }))`.
/// See [`EmitArgs`] for why single values of other types need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct One<T>(pub T);

impl<T: Serialize> EmitArgs for One<T> {
    fn count(&self) -> usize {
        1
    }
    fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        seq.serialize_element(&self.0)
    }
}

macro_rules! single_args {
    ($($t:ty),*) => {$(
        impl EmitArgs for $t {
            fn count(&self) -> usize {
                1
            }
            fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
                seq.serialize_element(self)
            }
        }
    )*};
}

single_args!(
    str,
    String,
    bool,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f32,
    f64,
    serde_json::Value,
    bytes::Bytes,
    Value
);

/// A reference emits what it points to: `&String`, `&Value`, `&Args`...
impl<T: EmitArgs + ?Sized> EmitArgs for &T {
    fn count(&self) -> usize {
        (**self).count()
    }
    fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        (**self).serialize_each(seq)
    }
}

/// Each value is one argument (what [`Args::values`] returns, emitted back).
impl EmitArgs for Vec<Value> {
    fn count(&self) -> usize {
        self.len()
    }
    fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        self.iter().try_for_each(|v| seq.serialize_element(v))
    }
}

/// Received arguments emitted (or acked) again as they came, binary included.
impl EmitArgs for Args {
    fn count(&self) -> usize {
        self.len()
    }
    fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        let values = self
            .values()
            .map_err(<S::Error as serde::ser::Error>::custom)?;
        values.iter().try_for_each(|v| seq.serialize_element(v))
    }
}

/// A dynamic number of arguments of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgsVec<T>(pub Vec<T>);

impl<T: Serialize> EmitArgs for ArgsVec<T> {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn serialize_each<S: SerializeSeq>(&self, seq: &mut S) -> Result<(), S::Error> {
        self.0.iter().try_for_each(|v| seq.serialize_element(v))
    }
}

/// `[event, args...]` (or `[args...]` without an event) as one serializable array.
struct Data<'a, A> {
    event: Option<&'a str>,
    args: &'a A,
}

impl<A: EmitArgs> Serialize for Data<'_, A> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer
            .serialize_seq(Some(self.args.count() + usize::from(self.event.is_some())))?;
        if let Some(event) = self.event {
            seq.serialize_element(event)?;
        }
        self.args.serialize_each(&mut seq)?;
        seq.end()
    }
}

pub(crate) fn event_payload<A: EmitArgs>(event: &str, args: &A) -> Result<Payload, Error> {
    args.to_payload(Some(event)).map_err(Error::from)
}

pub(crate) fn ack_payload<A: EmitArgs>(args: &A) -> Result<Payload, Error> {
    args.to_payload(None).map_err(Error::from)
}

/// Received arguments: an event's (after its name) or an ack's.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    payload: Payload,
    skip: usize,
}

impl Args {
    pub(crate) fn new(payload: Payload, skip: usize) -> Self {
        Self { payload, skip }
    }

    /// How many arguments.
    pub fn len(&self) -> usize {
        self.payload.len().saturating_sub(self.skip)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Argument `index` as a `T` (binary arrives as `bytes::Bytes`).
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<T, Error> {
        self.payload.arg(self.skip + index).map_err(Error::from)
    }

    /// All arguments as one `T`, usually a tuple: `let (name, age): (String, u8) = args.parse()?`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        self.payload.args(self.skip).or_else(|e| {
            // No arguments also reads as `()` or `None`: "the ack came, with nothing".
            if self.is_empty() {
                serde_json::from_str("null").map_err(|_| Error::Decode(e))
            } else {
                Err(Error::Decode(e))
            }
        })
    }

    /// Argument `index` borrowed from the received bytes (e.g. `&str` without copying).
    pub fn get_borrowed<'a, T: serde::Deserialize<'a>>(&'a self, index: usize) -> Result<T, Error> {
        self.payload.arg(self.skip + index).map_err(Error::from)
    }

    /// The whole packet data, including the event name for events.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// Every argument as a [`Value`], binary parts included: the dynamic view of any
    /// message, which emits back unchanged.
    pub fn values(&self) -> Result<Vec<Value>, Error> {
        self.payload
            .args::<Vec<Value>>(self.skip)
            .map_err(Error::from)
    }

    /// The arguments as JSON values, for printing: binary attachments show as their
    /// placeholders (see [`Args::values`] for the bytes).
    pub fn to_values(&self) -> Vec<serde_json::Value> {
        match self.payload.to_value() {
            serde_json::Value::Array(items) => items.into_iter().skip(self.skip).collect(),
            _ => Vec::new(),
        }
    }
}
