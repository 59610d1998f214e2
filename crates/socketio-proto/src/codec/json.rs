//! A validating JSON scanner.
//!
//! One pass over the text checks the grammar exactly as serde_json does (RFC 8259, no
//! extensions) and records everything the codec needs to read the text again without lexing
//! it: a *tape* of the values in text order (each with its span, its kind, and where the next
//! sibling starts, so the root's children are a walk along it); for binary packets the
//! attachment placeholders are marked on it with their attachment index. Typed arguments are
//! then deserialized from the tape (see `de.rs`): strings are borrowed straight from their
//! recorded spans, numbers parsed from theirs, skipped values jumped over, so the text is
//! lexed once per packet whatever the caller reads.
//!
//! The scan is iterative (an explicit stack, no recursion, so hostile nesting cannot overflow
//! the thread's stack) and bounds nesting at the depth it is given
//! ([`Limits::max_depth`](super::Limits::max_depth)).
//!
//! Lone surrogate escapes (`"\ud800"`) and numbers beyond `f64` (`1e400`) are grammatically
//! valid and accepted, as `JSON.parse` does; deserializing such a value into a Rust `String`
//! or `f64` may then fail like any other type mismatch.

use std::borrow::Cow;

use super::error::{JsonError, JsonErrorKind};

/// The default bound on nesting (arrays and objects inside each other) in a received payload:
/// [`Limits::max_depth`](super::Limits::max_depth), and the most a payload built with
/// [`Payload::from_serialize`](super::Payload::from_serialize) or
/// [`Payload::from_json`](super::Payload::from_json) may hold.
///
/// The reference client has no bound (V8's `JSON.parse` is iterative), so this is far above
/// anything an application sends (a few levels) while keeping the stack that typed
/// deserialization needs small: reading a value 1,000 levels deep into `serde_json::Value`
/// takes well under 1 MiB of stack in an optimized build (see docs/robustness.md).
pub const DEFAULT_MAX_DEPTH: usize = 1000;

/// A byte range in a JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn of(self, json: &[u8]) -> &[u8] {
        &json[self.start..self.end]
    }
}

/// What kind of JSON value the root is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

/// What one tape entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    Null,
    True,
    False,
    /// A number without sign, fraction or exponent.
    UInt,
    /// A number with a sign and neither fraction nor exponent.
    NegInt,
    /// Any other number.
    Float,
    /// A string without escapes: its contents are the text between the quotes.
    Str,
    /// A string with escapes.
    EscStr,
    Array,
    Object,
    /// An attachment placeholder object (only on tapes scanned with attachments); `aux` is
    /// the attachment index. What is inside it is on the tape but never read.
    Placeholder,
    /// Text that could not be scanned (see [`Index::opaque`]); read by serde_json.
    Opaque,
}

/// One value on the tape. Offsets are `u32` to keep the tape small (20 bytes an entry); the
/// scan refuses texts of 4 GiB or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    /// The value's span in the text (quotes and brackets included).
    pub start: u32,
    pub end: u32,
    /// The tape index after this value and everything inside it: its next sibling.
    pub next: u32,
    /// Arrays: the number of elements. Objects: the number of entries. Placeholders: the
    /// attachment index.
    pub aux: u32,
    pub kind: TokKind,
}

impl Tok {
    const EMPTY: Tok = Tok {
        start: 0,
        end: 0,
        next: 0,
        aux: 0,
        kind: TokKind::Null,
    };

    pub fn span(&self) -> Span {
        Span {
            start: self.start as usize,
            end: self.end as usize,
        }
    }
}

/// An attachment placeholder object found during a scan (only to check, at the end, that
/// every outermost one has a usable `num`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placeholder {
    /// The whole `{"_placeholder":true,...}` object.
    pub span: Span,
    /// Index into the attachments.
    pub num: usize,
}

/// What one scan learned about a JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Index {
    pub root: Span,
    pub kind: Kind,
    /// Every value in text order; entry 0 is the root, its direct children (array elements,
    /// or object keys and values alternating) follow each other by `next`.
    pub tape: Tape,
}

impl Index {
    /// The index of a text that could not be scanned (only reachable for payloads built from
    /// serde_json `RawValue`s nested deeper than [`DEFAULT_MAX_DEPTH`]): no children, one
    /// opaque tape entry that serde_json reads.
    pub fn opaque(len: usize) -> Self {
        let end = u32::try_from(len).unwrap_or(u32::MAX);
        let tok = Tok {
            start: 0,
            end,
            next: 1,
            aux: 0,
            kind: TokKind::Opaque,
        };
        Self {
            root: Span { start: 0, end: len },
            kind: Kind::Null,
            tape: Tape::Inline(1, {
                let mut toks = [Tok::EMPTY; Tape::INLINE];
                toks[0] = tok;
                toks
            }),
        }
    }

    /// The attachment numbers of the placeholders in text order, outermost only (an object
    /// nested inside a placeholder is replaced along with it, as in the reference). Empty
    /// unless scanned with attachments.
    pub fn placeholder_nums(&self) -> Vec<u32> {
        let mut nums = Vec::new();
        let mut i = 0;
        while let Some(tok) = self.tape.get(i) {
            if tok.kind == TokKind::Placeholder {
                nums.push(tok.aux);
                i = tok.next as usize;
            } else {
                i += 1;
            }
        }
        nums
    }

    /// The tape indices of the root's direct children, in order.
    pub fn child_toks(&self) -> impl Iterator<Item = usize> + '_ {
        let end = self.tape.first().map_or(0, |root| root.next as usize);
        let mut at = 1;
        std::iter::from_fn(move || {
            if at >= end || !matches!(self.kind, Kind::Array | Kind::Object) {
                return None;
            }
            let tok = at;
            at = self.tape[tok].next as usize;
            Some(tok)
        })
    }

    /// How many direct children the root has (for an object, keys and values count
    /// separately).
    pub fn children_len(&self) -> usize {
        match self.tape.first() {
            Some(root) if root.kind == TokKind::Array => root.aux as usize,
            _ => self.child_toks().count(),
        }
    }

    /// The tape index of direct child `n` of the root: `n` hops along the siblings (called
    /// for every event, by the decoder and by each argument read, so not through the
    /// iterator, whose closure costs more than the hops).
    pub fn child_tok(&self, n: usize) -> Option<usize> {
        if !matches!(self.kind, Kind::Array | Kind::Object) {
            return None;
        }
        let tape: &[Tok] = &self.tape;
        let end = tape.first()?.next as usize;
        let mut at = 1;
        for _ in 0..n {
            if at >= end {
                return None;
            }
            at = tape.get(at)?.next as usize;
        }
        (at < end).then_some(at)
    }

    /// The span of direct child `n` of the root.
    pub fn child(&self, n: usize) -> Option<Span> {
        self.child_tok(n).map(|tok| self.tape[tok].span())
    }

    /// The spans of the root's direct children.
    #[cfg(test)]
    pub fn children(&self) -> Vec<Span> {
        self.child_toks().map(|tok| self.tape[tok].span()).collect()
    }
}

/// The tape of a payload: inline while tiny (an event with up to three arguments has at most five
/// values, and needs no allocation then), on the heap otherwise.
#[derive(Debug, Clone)]
pub(crate) enum Tape {
    Inline(u8, [Tok; Tape::INLINE]),
    Heap(Vec<Tok>),
}

impl Tape {
    /// Room for the root and four values: an event name and up to three arguments.
    const INLINE: usize = 5;

    /// The tape of a finished scan: copied inline when it fits (`scratch` then stays with the
    /// caller, for the next scan), moved out otherwise (copying it would cost what the next
    /// scan's one reservation costs, plus the copy).
    fn take(scratch: &mut Vec<Tok>) -> Self {
        if scratch.len() <= Self::INLINE {
            let mut toks = [Tok::EMPTY; Self::INLINE];
            toks[..scratch.len()].copy_from_slice(scratch);
            return Self::Inline(scratch.len() as u8, toks);
        }
        Self::Heap(std::mem::take(scratch))
    }

    pub fn truncate(&mut self, len: usize) {
        match self {
            Self::Inline(n, _) => *n = (*n).min(len as u8),
            Self::Heap(toks) => toks.truncate(len),
        }
    }
}

// By content: an inline tape's unused slots may hold anything after a truncation.
impl PartialEq for Tape {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Tape {}

impl std::ops::Deref for Tape {
    type Target = [Tok];

    fn deref(&self) -> &[Tok] {
        match self {
            Self::Inline(n, toks) => &toks[..usize::from(*n)],
            Self::Heap(toks) => toks,
        }
    }
}

impl std::ops::DerefMut for Tape {
    fn deref_mut(&mut self) -> &mut [Tok] {
        match self {
            Self::Inline(n, toks) => &mut toks[..usize::from(*n)],
            Self::Heap(toks) => toks,
        }
    }
}

/// Why a scan failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    Json(JsonError),
    /// A placeholder whose `num` is missing, not an integer, or out of range.
    IllegalPlaceholder,
}

/// The num recorded for a placeholder whose `num` is unusable; reported only if that
/// placeholder is not itself inside another placeholder.
const INVALID_NUM: usize = usize::MAX;

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyClass {
    Other,
    Placeholder,
    Num,
}

/// One open array or object during a scan.
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    /// Its tape index.
    tok: u32,
    is_array: bool,
    /// Children so far (object: entries).
    count: u32,
    // Placeholder tracking (objects, binary mode only). Duplicate keys: the last one wins,
    // as with `JSON.parse`.
    key: KeyClass,
    placeholder: bool,
    num: Option<usize>,
}

/// Scans `json` with nesting bounded by `max_depth`. With `attachments: Some(n)` placeholders
/// are located and their `num` checked against `n`.
pub(crate) fn scan(
    json: &[u8],
    attachments: Option<usize>,
    max_depth: usize,
) -> Result<Index, ScanError> {
    scan_with(
        json,
        attachments,
        max_depth,
        &mut Vec::new(),
        &mut Vec::new(),
    )
}

/// [`scan`] with a caller-owned stack and tape, so that a decoder reuses their allocations:
/// the stack always, the tape while payloads are tiny (a larger tape moves into the index).
pub(crate) fn scan_with(
    json: &[u8],
    attachments: Option<usize>,
    max_depth: usize,
    stack: &mut Vec<Frame>,
    tape: &mut Vec<Tok>,
) -> Result<Index, ScanError> {
    stack.clear();
    tape.clear();
    if u32::try_from(json.len()).is_err() {
        return Err(err(0, JsonErrorKind::TooLarge));
    }
    // Payloads of records hold a value every 6-7 bytes (more for long strings); starting
    // there saves the reallocations (each one a copy of the tape so far).
    tape.reserve(json.len() / 6 + 2);
    Scanner {
        b: json,
        pos: 0,
        tape,
    }
    .run(attachments, max_depth, stack)
}

fn err(offset: usize, kind: JsonErrorKind) -> ScanError {
    ScanError::Json(JsonError { offset, kind })
}

struct Scanner<'a, 't> {
    b: &'a [u8],
    pos: usize,
    tape: &'t mut Vec<Tok>,
}

impl Scanner<'_, '_> {
    /// Appends a scalar spanning `start..self.pos`.
    #[inline(always)]
    fn push(&mut self, start: usize, kind: TokKind) {
        let next = self.tape.len() as u32 + 1;
        self.tape.push(Tok {
            start: start as u32,
            end: self.pos as u32,
            next,
            aux: 0,
            kind,
        });
    }

    fn run(
        mut self,
        attachments: Option<usize>,
        max_depth: usize,
        stack: &mut Vec<Frame>,
    ) -> Result<Index, ScanError> {
        let mut placeholders: Vec<Placeholder> = Vec::new();
        self.skip_ws();
        let root_start = self.pos;

        'value: loop {
            // Parse one value starting at `self.pos` (whitespace already skipped).
            let start = self.pos;
            let kind = match self.peek()? {
                c @ (b'{' | b'[') => {
                    if stack.len() >= max_depth {
                        return Err(err(start, JsonErrorKind::TooDeep));
                    }
                    let is_array = c == b'[';
                    self.pos += 1;
                    self.skip_ws();
                    let tok = self.tape.len() as u32;
                    self.tape.push(Tok {
                        start: start as u32,
                        end: 0,
                        next: 0,
                        aux: 0,
                        kind: if is_array {
                            TokKind::Array
                        } else {
                            TokKind::Object
                        },
                    });
                    let close = if is_array { b']' } else { b'}' };
                    if self.b.get(self.pos) == Some(&close) {
                        self.pos += 1;
                        let t = &mut self.tape[tok as usize];
                        t.end = self.pos as u32;
                        t.next = tok + 1;
                        if is_array { Kind::Array } else { Kind::Object }
                    } else {
                        stack.push(Frame {
                            tok,
                            is_array,
                            count: 0,
                            key: KeyClass::Other,
                            placeholder: false,
                            num: None,
                        });
                        if !is_array {
                            let frame = stack.last_mut().expect("just pushed");
                            self.key(frame, attachments.is_some())?;
                        }
                        continue 'value;
                    }
                }
                b'"' => {
                    self.pos += 1;
                    let escaped = self.string()?;
                    self.push(
                        start,
                        if escaped {
                            TokKind::EscStr
                        } else {
                            TokKind::Str
                        },
                    );
                    Kind::String
                }
                b'-' | b'0'..=b'9' => {
                    let kind = self.number()?;
                    self.push(start, kind);
                    Kind::Number
                }
                b't' => {
                    self.literal(b"true")?;
                    self.push(start, TokKind::True);
                    Kind::Bool
                }
                b'f' => {
                    self.literal(b"false")?;
                    self.push(start, TokKind::False);
                    Kind::Bool
                }
                b'n' => {
                    self.literal(b"null")?;
                    self.push(start, TokKind::Null);
                    Kind::Null
                }
                c => return Err(err(start, JsonErrorKind::UnexpectedByte(c))),
            };

            // A value of `kind` spans `vstart..self.pos`; hand it to its container, closing
            // as many containers as end here.
            let mut vstart = start;
            let mut vkind = kind;
            loop {
                let vend = self.pos;
                let Some(frame) = stack.last_mut() else {
                    self.skip_ws();
                    if self.pos != self.b.len() {
                        return Err(err(self.pos, JsonErrorKind::TrailingCharacters));
                    }
                    if placeholders.iter().any(|p| p.num == INVALID_NUM) {
                        return Err(ScanError::IllegalPlaceholder);
                    }
                    return Ok(Index {
                        root: Span {
                            start: root_start,
                            end: vend,
                        },
                        kind: vkind,
                        tape: Tape::take(self.tape),
                    });
                };
                if let Some(n) = attachments
                    && !frame.is_array
                {
                    match frame.key {
                        KeyClass::Other => {}
                        KeyClass::Placeholder => {
                            frame.placeholder = &self.b[vstart..vend] == b"true";
                        }
                        KeyClass::Num => {
                            frame.num = (vkind == Kind::Number)
                                .then(|| placeholder_num(&self.b[vstart..vend], n))
                                .flatten();
                        }
                    }
                }
                frame.count += 1;
                let Some(c) = self.next_non_ws() else {
                    return Err(err(self.pos, JsonErrorKind::UnexpectedEnd));
                };
                self.pos += 1;
                match (frame.is_array, c) {
                    (_, b',') => {
                        self.skip_ws();
                        if !frame.is_array {
                            self.key(frame, attachments.is_some())?;
                        }
                        continue 'value;
                    }
                    (true, b']') => {
                        let next = self.tape.len() as u32;
                        let t = &mut self.tape[frame.tok as usize];
                        t.end = self.pos as u32;
                        t.next = next;
                        t.aux = frame.count;
                        vstart = t.start as usize;
                        vkind = Kind::Array;
                        stack.pop();
                    }
                    (false, b'}') => {
                        let next = self.tape.len() as u32;
                        let t = &mut self.tape[frame.tok as usize];
                        t.end = self.pos as u32;
                        t.next = next;
                        t.aux = frame.count;
                        vstart = t.start as usize;
                        vkind = Kind::Object;
                        if frame.placeholder {
                            let num = frame.num.unwrap_or(INVALID_NUM);
                            t.kind = TokKind::Placeholder;
                            t.aux = u32::try_from(num).unwrap_or(u32::MAX);
                            // Anything inside is replaced together with this object.
                            while placeholders.last().is_some_and(|p| p.span.start > vstart) {
                                placeholders.pop();
                            }
                            placeholders.push(Placeholder {
                                span: Span {
                                    start: vstart,
                                    end: self.pos,
                                },
                                num,
                            });
                        }
                        stack.pop();
                    }
                    _ => return Err(err(self.pos - 1, JsonErrorKind::UnexpectedByte(c))),
                }
            }
        }
    }

    fn peek(&self) -> Result<u8, ScanError> {
        self.b
            .get(self.pos)
            .copied()
            .ok_or(err(self.pos, JsonErrorKind::UnexpectedEnd))
    }

    /// The next byte that is not whitespace, at `self.pos` after skipping. Compact text
    /// (what peers send) has none: then one lookup, where skipping first and looking after
    /// made two.
    #[inline(always)]
    fn next_non_ws(&mut self) -> Option<u8> {
        match self.b.get(self.pos) {
            Some(&c) if c > b' ' => Some(c),
            _ => {
                self.skip_ws();
                self.b.get(self.pos).copied()
            }
        }
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        if let Some(&c) = self.b.get(self.pos)
            && c > b' '
        {
            return;
        }
        self.skip_ws_slow();
    }

    #[inline(never)]
    fn skip_ws_slow(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// An object key (at `self.pos`), the colon, and the whitespace before the value.
    #[inline(always)]
    fn key(&mut self, frame: &mut Frame, classify: bool) -> Result<(), ScanError> {
        let start = self.pos;
        match self.b.get(start) {
            Some(b'"') => {}
            Some(&c) => return Err(err(start, JsonErrorKind::UnexpectedByte(c))),
            None => return Err(err(start, JsonErrorKind::UnexpectedEnd)),
        }
        self.pos += 1;
        let escaped = self.string()?;
        self.push(
            start,
            if escaped {
                TokKind::EscStr
            } else {
                TokKind::Str
            },
        );
        let end = self.pos;
        if classify {
            let key = unescape(&self.b[start + 1..end - 1]);
            frame.key = match &*key {
                "_placeholder" => KeyClass::Placeholder,
                "num" => KeyClass::Num,
                _ => KeyClass::Other,
            };
        }
        match self.next_non_ws() {
            Some(b':') => self.pos += 1,
            Some(c) => return Err(err(self.pos, JsonErrorKind::UnexpectedByte(c))),
            None => return Err(err(self.pos, JsonErrorKind::UnexpectedEnd)),
        }
        self.skip_ws();
        Ok(())
    }

    /// The rest of a string whose opening quote was consumed; whether it had escapes.
    #[inline(always)]
    fn string(&mut self) -> Result<bool, ScanError> {
        let mut escaped = false;
        loop {
            // Skip plain bytes eight at a time, stopping exactly at the first special one.
            'plain: {
                while let Some(chunk) = self.b.get(self.pos..self.pos + 8) {
                    let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                    let mask = special_bytes(word);
                    if mask != 0 {
                        self.pos += (mask.trailing_zeros() / 8) as usize;
                        break 'plain;
                    }
                    self.pos += 8;
                }
                // The last bytes of the text (where a payload's last string argument ends),
                // padded with zero bytes, which count as special: the scan stops at the end
                // of the text at the latest, which the lookup below reports as the end.
                // (Unless the string ends right here, as an empty last argument does.)
                if self
                    .b
                    .get(self.pos)
                    .is_some_and(|&c| (0x20..0x80).contains(&c) && c != b'"' && c != b'\\')
                {
                    let mask = special_bytes(tail_word(self.b, self.pos));
                    self.pos += (mask.trailing_zeros() / 8) as usize;
                }
            }
            let Some(&c) = self.b.get(self.pos) else {
                return Err(err(self.pos, JsonErrorKind::UnexpectedEnd));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                0..=0x1f => return Err(err(self.pos, JsonErrorKind::ControlCharacter)),
                0x80.. => self.non_ascii()?,
                // Not reached: `special_bytes` flags no other byte first.
                _ => self.pos += 1,
            }
        }
    }

    /// The run of non-ASCII bytes at `self.pos`, which must be UTF-8. Strings are the only
    /// place JSON allows them, so checking them here proves the whole text UTF-8 without a
    /// pass of its own; ASCII bytes never continue a character, so each run stands alone.
    #[cold]
    fn non_ascii(&mut self) -> Result<(), ScanError> {
        let start = self.pos;
        let len = self.b[start..]
            .iter()
            .position(|&c| c < 0x80)
            .unwrap_or(self.b.len() - start);
        match std::str::from_utf8(&self.b[start..start + len]) {
            Ok(_) => {
                self.pos += len;
                Ok(())
            }
            Err(e) => Err(err(start + e.valid_up_to(), JsonErrorKind::InvalidUtf8)),
        }
    }

    /// A backslash escape at `self.pos`.
    fn escape(&mut self) -> Result<(), ScanError> {
        let Some(&e) = self.b.get(self.pos + 1) else {
            return Err(err(self.pos + 1, JsonErrorKind::UnexpectedEnd));
        };
        match e {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 2,
            b'u' => {
                for i in 2..6 {
                    match self.b.get(self.pos + i) {
                        Some(h) if h.is_ascii_hexdigit() => {}
                        Some(_) => return Err(err(self.pos + i, JsonErrorKind::InvalidEscape)),
                        None => return Err(err(self.pos + i, JsonErrorKind::UnexpectedEnd)),
                    }
                }
                self.pos += 6;
            }
            _ => return Err(err(self.pos + 1, JsonErrorKind::InvalidEscape)),
        }
        Ok(())
    }

    fn number(&mut self) -> Result<TokKind, ScanError> {
        let mut kind = TokKind::UInt;
        if self.b.get(self.pos) == Some(&b'-') {
            kind = TokKind::NegInt;
            self.pos += 1;
        }
        match self.b.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(err(self.pos, JsonErrorKind::InvalidNumber)),
        }
        if self.b.get(self.pos) == Some(&b'.') {
            kind = TokKind::Float;
            self.pos += 1;
            if !self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                return Err(err(self.pos, JsonErrorKind::InvalidNumber));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.b.get(self.pos) {
            kind = TokKind::Float;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.b.get(self.pos) {
                self.pos += 1;
            }
            if !self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
                return Err(err(self.pos, JsonErrorKind::InvalidNumber));
            }
            self.digits();
        }
        Ok(kind)
    }

    fn digits(&mut self) {
        while self.b.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ScanError> {
        for (i, &expected) in word.iter().enumerate() {
            match self.b.get(self.pos + i) {
                Some(&c) if c == expected => {}
                Some(&c) => {
                    return Err(err(self.pos + i, JsonErrorKind::UnexpectedByte(c)));
                }
                None => return Err(err(self.pos + i, JsonErrorKind::UnexpectedEnd)),
            }
        }
        self.pos += word.len();
        Ok(())
    }
}

/// The bytes of `b` from `pos` on (fewer than eight) as a little-endian word, padded with
/// zero bytes: the text's last eight bytes shifted down, without copying byte by byte.
#[inline(never)]
fn tail_word(b: &[u8], pos: usize) -> u64 {
    let rest = b.len().saturating_sub(pos);
    if rest == 0 {
        return 0;
    }
    match b.len().checked_sub(8).map(|from| &b[from..]) {
        Some(last) if rest < 8 => {
            u64::from_le_bytes(last.try_into().expect("8 bytes")) >> (8 * (8 - rest))
        }
        // A text shorter than a word.
        _ => b[pos..]
            .iter()
            .take(7)
            .enumerate()
            .fold(0, |word, (i, &c)| word | u64::from(c) << (8 * i)),
    }
}

/// A mask with the high bit set in each byte of `word` (little-endian) that is `"`, `\`, a
/// control character or not ASCII. Bytes after the first such one may be flagged falsely
/// (borrows carry upwards), so only the lowest set bit is exact, and that is the one the
/// caller uses.
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    quote | backslash | control | (word & HIGH)
}

/// A placeholder's `num` as an attachment index: a non-negative integer below `attachments`
/// (`1.0` and `1e0` count, as they are the number 1 in JavaScript).
fn placeholder_num(text: &[u8], attachments: usize) -> Option<usize> {
    if text.iter().all(u8::is_ascii_digit) {
        let mut n: usize = 0;
        for &d in text {
            n = n.checked_mul(10)?.checked_add(usize::from(d - b'0'))?;
        }
        return (n < attachments).then_some(n);
    }
    let value: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    (value >= 0.0 && value.fract() == 0.0 && value < attachments as f64).then_some(value as usize)
}

/// The text of a JSON string's contents (between the quotes), unescaped. Borrowed when there
/// is nothing to unescape. Lone surrogates become U+FFFD. Expects scanned (valid) input.
pub(crate) fn unescape(raw: &[u8]) -> Cow<'_, str> {
    if !raw.contains(&b'\\') {
        return String::from_utf8_lossy(raw);
    }
    Cow::Owned(unescape_owned(raw, true).unwrap_or_default())
}

/// The contents of a string with escapes, unescaped; `None` if it holds a lone surrogate
/// (which a Rust `String` cannot hold: serde_json refuses it too). Expects scanned input.
pub(crate) fn unescape_strict(raw: &[u8]) -> Option<String> {
    unescape_owned(raw, false)
}

fn unescape_owned(raw: &[u8], lossy: bool) -> Option<String> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        // Copy the run up to the next backslash at once.
        let run = raw[i..]
            .iter()
            .position(|&c| c == b'\\')
            .unwrap_or(raw.len() - i);
        out.extend_from_slice(&raw[i..i + run]);
        i += run;
        if i >= raw.len() {
            break;
        }
        let Some(&e) = raw.get(i + 1) else { break };
        i += 2;
        let simple = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => 0,
            _ => break,
        };
        if e != b'u' {
            out.push(simple);
            continue;
        }
        let Some(high) = hex4(raw, i) else { break };
        i += 4;
        let ch = if (0xD800..0xDC00).contains(&high) {
            match (raw.get(i), raw.get(i + 1), hex4(raw, i + 2)) {
                (Some(b'\\'), Some(b'u'), Some(low)) if (0xDC00..0xE000).contains(&low) => {
                    i += 6;
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                }
                _ => None,
            }
        } else {
            char::from_u32(high)
        };
        let ch = match ch {
            Some(ch) => ch,
            None if lossy => '\u{FFFD}',
            None => return None,
        };
        let mut buf = [0; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    match String::from_utf8(out) {
        Ok(text) => Some(text),
        Err(e) if lossy => Some(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        Err(_) => None,
    }
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    let text = std::str::from_utf8(digits).ok()?;
    u32::from_str_radix(text, 16).ok()
}
