//! The data of a packet: JSON text plus binary attachments.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::de::{Args, Ctx, Missing, Node, Seq};
use super::error::{EncodeError, PayloadError};
use super::json::{self, Index, Kind, ScanError, TokKind};
use super::ser;

/// The data of a packet: a JSON value whose binary parts are attachment placeholders
/// (`{"_placeholder":true,"num":N}`), plus the attachments themselves.
///
/// The JSON stays text: on decode it is a zero-copy slice of the received message, and typed
/// values are deserialized straight from it with serde (borrowing `&str`s where possible),
/// never through `serde_json::Value` unless asked ([`to_value`](Self::to_value)). The
/// decoder's validating scan leaves an index of every value in the text (its *tape*), so
/// reading typed values does not lex the text a second time. The tape costs 20 bytes a JSON
/// value (about three times the text for arrays of small records) and lives as long as the
/// payload; payloads of three values or fewer keep it inline.
///
/// Events and acks carry a JSON array; the array helpers ([`len`](Self::len),
/// [`event_name`](Self::event_name), [`args`](Self::args), [`arg`](Self::arg),
/// [`last_str`](Self::last_str), [`pop_last`](Self::pop_last)) read it without parsing the
/// elements they do not touch.
///
/// Placeholders are interpreted only when the payload has attachments: a payload without any
/// keeps a look-alike `{"_placeholder":true,...}` object as an ordinary object, as the
/// reference does for EVENT/ACK packets of type 2/3.
///
/// Two payloads are equal when their JSON texts and their attachments are equal.
#[derive(Clone)]
pub struct Payload {
    repr: Repr,
}

/// The payload formats. Only JSON (the default Socket.IO parser) for now; a msgpack variant
/// would sit next to it.
///
/// Boxed: a received event is moved a dozen times on its way to the application (the
/// engine's and the manager's output queues, the driver's read-ahead, the `Message`), and
/// with the text, the attachments and the inline tape a payload is ~200 bytes. One
/// allocation per payload costs less than copying that many bytes at every move (measured:
/// docs/benchmarks.md, Session 5).
#[derive(Clone)]
enum Repr {
    Json(Box<JsonPayload>),
}

#[derive(Clone)]
struct JsonPayload {
    /// Valid JSON, placeholders included.
    json: Bytes,
    attachments: Vec<Bytes>,
    index: Lazy,
}

/// The scan of the text: made at construction when the text was scanned anyway (decoded
/// packets, binary payloads, `from_json`), on first use otherwise. Always made at
/// construction when there are attachments, so the placeholder positions are known.
#[derive(Clone)]
enum Lazy {
    Ready(Index),
    Later(OnceLock<Index>),
}

impl JsonPayload {
    fn index(&self) -> &Index {
        match &self.index {
            Lazy::Ready(index) => index,
            Lazy::Later(cell) => cell.get_or_init(|| {
                json::scan(&self.json, None, json::DEFAULT_MAX_DEPTH)
                    .unwrap_or_else(|_| Index::opaque(self.json.len()))
            }),
        }
    }

    /// The index, taken out (put it back with `self.index = Lazy::Ready(..)`).
    fn take_index(&mut self) -> Index {
        match std::mem::replace(&mut self.index, Lazy::Later(OnceLock::new())) {
            Lazy::Ready(index) => index,
            Lazy::Later(cell) => cell.into_inner().unwrap_or_else(|| {
                json::scan(&self.json, None, json::DEFAULT_MAX_DEPTH)
                    .unwrap_or_else(|_| Index::opaque(self.json.len()))
            }),
        }
    }

    /// What the deserializer reads, the text checked as UTF-8 up to `end` (every payload is
    /// UTF-8 from its construction; the check is how safe code gets a `&str` back).
    fn ctx(&self, end: usize) -> Result<Ctx<'_>, PayloadError> {
        let index = self.index();
        // Nothing to check for a scalar read alone (`end == 0`): `from_utf8` costs ~20
        // instructions even on no bytes, and that read is the most common one.
        let json = match end {
            0 => "",
            _ => std::str::from_utf8(&self.json[..end])
                .map_err(|_| PayloadError::Deserialize("payload is not UTF-8".into()))?,
        };
        Ok(Ctx {
            json,
            bytes: &self.json,
            tape: &index.tape,
            attachments: &self.attachments,
            binary: true,
        })
    }
}

impl Payload {
    /// A payload the decoder has validated (`index` comes from scanning `json` with
    /// `attachments.len()`).
    pub(crate) fn from_scanned(json: Bytes, attachments: Vec<Bytes>, index: Index) -> Self {
        Self {
            repr: Repr::Json(Box::new(JsonPayload {
                json,
                attachments,
                index: Lazy::Ready(index),
            })),
        }
    }

    fn inner(&self) -> &JsonPayload {
        let Repr::Json(inner) = &self.repr;
        inner
    }

    /// Serializes `value` to JSON. Every binary value in it (anything serialized with
    /// `serialize_bytes`: `bytes::Bytes`, `serde_bytes::ByteBuf`, `#[serde(with =
    /// "serde_bytes")]` fields), at any depth, becomes a placeholder
    /// `{"_placeholder":true,"num":N}` and its bytes the attachment `N`, numbered in text order.
    ///
    /// ```
    /// # use socketio_proto::codec::Payload;
    /// let payload = Payload::from_serialize(&("ev", 1, bytes::Bytes::from_static(b"\x01")))?;
    /// assert_eq!(payload.json(), br#"["ev",1,{"_placeholder":true,"num":0}]"#);
    /// assert_eq!(payload.attachments(), [bytes::Bytes::from_static(b"\x01")]);
    /// # Ok::<(), socketio_proto::codec::EncodeError>(())
    /// ```
    ///
    /// The bytes are copied once (serde hands them over as `&[u8]`). A value without binary
    /// costs what `serde_json::to_vec` costs.
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Payload, EncodeError> {
        let state = ser::State::new(json::DEFAULT_MAX_DEPTH);
        let mut out = Vec::with_capacity(128);
        if let Err(e) = ser::to_json(value, &mut out, &state) {
            return Err(if state.too_deep.get() {
                EncodeError::TooDeep
            } else {
                EncodeError::Serialize(e.to_string())
            });
        }
        let json = Bytes::from(out);
        let attachments = state.attachments.into_inner();
        if attachments.is_empty() {
            let inner = JsonPayload {
                json,
                attachments,
                index: Lazy::Later(OnceLock::new()),
            };
            return Ok(Self {
                repr: Repr::Json(Box::new(inner)),
            });
        }
        // The receiver finds placeholders by their shape, so the text must hold exactly ours.
        let index = match json::scan(&json, Some(attachments.len()), json::DEFAULT_MAX_DEPTH) {
            Ok(index) => index,
            Err(ScanError::IllegalPlaceholder) => return Err(EncodeError::PlaceholderConflict),
            Err(ScanError::Json(e)) if e.kind == super::JsonErrorKind::TooDeep => {
                return Err(EncodeError::TooDeep);
            }
            Err(ScanError::Json(e)) => return Err(EncodeError::Serialize(e.to_string())),
        };
        let nums = index.placeholder_nums();
        let ours = nums.len() == attachments.len()
            && nums.iter().enumerate().all(|(i, &num)| num as usize == i);
        if !ours {
            return Err(EncodeError::PlaceholderConflict);
        }
        Ok(Self::from_scanned(json, attachments, index))
    }

    /// A payload from JSON text, validated (RFC 8259 grammar, nesting up to
    /// [`DEFAULT_MAX_DEPTH`](super::DEFAULT_MAX_DEPTH)), without attachments. The bytes are
    /// kept as they are.
    pub fn from_json(json: Bytes) -> Result<Payload, PayloadError> {
        if let Err(e) = std::str::from_utf8(&json) {
            return Err(PayloadError::InvalidJson(super::JsonError {
                offset: e.valid_up_to(),
                kind: super::JsonErrorKind::InvalidUtf8,
            }));
        }
        match json::scan(&json, None, json::DEFAULT_MAX_DEPTH) {
            Ok(index) => Ok(Self::from_scanned(json, Vec::new(), index)),
            Err(ScanError::Json(e)) => Err(PayloadError::InvalidJson(e)),
            Err(ScanError::IllegalPlaceholder) => unreachable!("not scanned for placeholders"),
        }
    }

    /// The JSON text, placeholders included: what goes on the wire after the packet header.
    pub fn json(&self) -> &[u8] {
        &self.inner().json
    }

    /// The JSON text as a shared `Bytes` (no copy).
    pub fn json_bytes(&self) -> &Bytes {
        &self.inner().json
    }

    /// The attachments, in placeholder `num` order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.inner().attachments
    }

    /// Whether the payload has attachments (and so travels as BINARY_EVENT / BINARY_ACK).
    pub fn has_binary(&self) -> bool {
        !self.inner().attachments.is_empty()
    }

    /// Deserializes the whole value, placeholders replaced by their attachments: a field of
    /// type `bytes::Bytes`, `Vec<u8>`, `serde_bytes::ByteBuf` or `&[u8]` (borrowed from the
    /// attachment) receives the bytes. Borrowed `&str`s work where serde allows (strings
    /// without escapes).
    ///
    /// A `serde_json::Value` cannot hold bytes, so deserializing one from a payload with
    /// placeholders fails; use [`to_value`](Self::to_value) for a dynamic view.
    pub fn deserialize<'a, T: Deserialize<'a>>(&'a self) -> Result<T, PayloadError> {
        let inner = self.inner();
        let ctx = inner.ctx(inner.json.len())?;
        Ok(T::deserialize(Node { ctx: &ctx, tok: 0 })?)
    }

    /// The number of array elements; 0 if the payload is not an array.
    pub fn len(&self) -> usize {
        let index = self.inner().index();
        if index.kind == Kind::Array {
            index.children_len()
        } else {
            0
        }
    }

    /// Whether the payload is an empty array, or not an array.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The event name: element 0 of the array if it is a string (unescaped; borrowed unless
    /// it had escapes) or a number (its JSON text, e.g. `"1"`).
    pub fn event_name(&self) -> Option<Cow<'_, str>> {
        let inner = self.inner();
        let index = inner.index();
        if index.kind != Kind::Array {
            return None;
        }
        let tok = &index.tape[index.child_tok(0)?];
        let text = tok.span().of(&inner.json);
        match tok.kind {
            TokKind::Str => std::str::from_utf8(&text[1..text.len() - 1])
                .ok()
                .map(Cow::Borrowed),
            TokKind::EscStr => Some(json::unescape(&text[1..text.len() - 1])),
            TokKind::UInt | TokKind::NegInt | TokKind::Float => {
                std::str::from_utf8(text).ok().map(Cow::Borrowed)
            }
            _ => None,
        }
    }

    /// Deserializes the array elements from `skip` on as one sequence: a tuple, a `Vec`, or a
    /// struct that deserializes from a sequence. Elements past what the target takes are
    /// ignored (as a JavaScript listener ignores extra arguments); `skip` past the end gives
    /// an empty sequence. Placeholders are replaced as in [`deserialize`](Self::deserialize).
    ///
    /// For an event, `args(1)` are the arguments after the name.
    pub fn args<'a, T: Deserialize<'a>>(&'a self, skip: usize) -> Result<T, PayloadError> {
        let inner = self.inner();
        let index = inner.index();
        if index.kind != Kind::Array {
            return Err(PayloadError::NotAnArray);
        }
        let root = &index.tape[0];
        let (at, left) = match index.child_tok(skip) {
            Some(at) => (at, index.children_len() - skip),
            None => (root.next as usize, 0),
        };
        let ctx = inner.ctx(root.end as usize)?;
        let seq = Seq {
            ctx: &ctx,
            at,
            end: root.next as usize,
            left,
        };
        Ok(T::deserialize(Args { seq })?)
    }

    /// Deserializes array element `index`. Past the end it reads as absent: `None` for an
    /// `Option`, an error for other types.
    pub fn arg<'a, T: Deserialize<'a>>(&'a self, index: usize) -> Result<T, PayloadError> {
        let inner = self.inner();
        let scanned = inner.index();
        if scanned.kind != Kind::Array {
            return Err(PayloadError::NotAnArray);
        }
        Ok(match scanned.child_tok(index) {
            Some(tok) => {
                // A number, boolean or null is ASCII and read from the bytes: the text before
                // it needs no check.
                let end = match scanned.tape[tok].kind {
                    TokKind::UInt
                    | TokKind::NegInt
                    | TokKind::Float
                    | TokKind::True
                    | TokKind::False
                    | TokKind::Null => 0,
                    _ => scanned.tape[tok].end as usize,
                };
                T::deserialize(Node {
                    ctx: &inner.ctx(end)?,
                    tok,
                })?
            }
            None => T::deserialize(Missing { index })?,
        })
    }

    /// The last array element if it is a JSON string without escape sequences (the
    /// connection-state-recovery offset a server appends to events is one). `None` otherwise,
    /// including for strings with escapes.
    pub fn last_str(&self) -> Option<&str> {
        let inner = self.inner();
        let index = inner.index();
        if index.kind != Kind::Array {
            return None;
        }
        let last = index.child_toks().last()?;
        let text = index.tape[last].span().of(&inner.json);
        let body = text.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        if body.contains(&b'\\') {
            return None;
        }
        std::str::from_utf8(body).ok()
    }

    /// Drops the last array element (to hide a recovery offset from the application).
    /// Nothing happens if the payload is not a non-empty array.
    ///
    /// Cheap: the text is cut in place when this payload holds the only reference to its
    /// buffer, copied once otherwise. Attachments are kept (placeholder numbers stay valid).
    pub fn pop_last(&mut self) {
        let Repr::Json(inner) = &mut self.repr;
        let mut index = inner.take_index();
        let (mut prev, mut last) = (None, None);
        if index.kind == Kind::Array {
            for tok in index.child_toks() {
                (prev, last) = (last, Some(tok));
            }
        }
        if let Some(last) = last {
            let cut = prev.map_or(index.root.start + 1, |prev| index.tape[prev].end as usize);
            // The last element and everything inside it end the tape.
            index.tape.truncate(last);
            index.root.end = cut + 1;
            let tape_len = index.tape.len() as u32;
            if let Some(root) = index.tape.first_mut() {
                root.end = (cut + 1) as u32;
                root.next = tape_len;
                root.aux -= 1;
            }
            let json = std::mem::take(&mut inner.json);
            inner.json = match json.try_into_mut() {
                Ok(mut text) => {
                    text.truncate(cut);
                    text.extend_from_slice(b"]");
                    text.freeze()
                }
                Err(json) => {
                    let mut text = Vec::with_capacity(cut + 1);
                    text.extend_from_slice(&json[..cut]);
                    text.push(b']');
                    Bytes::from(text)
                }
            };
        }
        inner.index = Lazy::Ready(index);
    }

    /// The payload as a `serde_json::Value`, for debugging and dynamic use. Binary parts stay
    /// placeholder objects (`{"_placeholder":true,"num":N}`); the bytes are in
    /// [`attachments`](Self::attachments). A number beyond `f64` (`1e400`, which the
    /// protocol allows) cannot be represented; the result is then `Value::Null`.
    pub fn to_value(&self) -> serde_json::Value {
        let inner = self.inner();
        let Ok(ctx) = inner.ctx(inner.json.len()) else {
            return serde_json::Value::Null;
        };
        // Placeholders read as what they are in the text, not as their bytes.
        let ctx = Ctx {
            binary: false,
            ..ctx
        };
        serde_json::Value::deserialize(Node { ctx: &ctx, tok: 0 })
            .unwrap_or(serde_json::Value::Null)
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json() && self.attachments() == other.attachments()
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payload")
            .field("json", &String::from_utf8_lossy(self.json()))
            .field("attachments", &self.attachments())
            .finish()
    }
}
