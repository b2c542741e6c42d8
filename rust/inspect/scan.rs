//! A validating JSON tokenizer over a byte slice (RFC 8259, plus lone `\uD800`-style surrogate escapes,
//! which Python's `json.loads` accepts too). It owns syntax only: the walkers in `request.rs` and
//! `rewrite.rs` decide what the members mean. Every error carries the byte offset where it was found;
//! running out of input is always reported at `body.len()`.
//!
//! Strings are scanned 8 bytes at a time (a SWAR test for `"`, `\`, control bytes and non-ASCII), and
//! UTF-8 is checked only inside strings, where it may appear: anything non-ASCII elsewhere is a syntax
//! error anyway. No allocation except the stack of open containers in `skip_value` (reused).

pub use super::error::{BodyError, ErrorKind, Result};

/// The raw bytes between a string's quotes; `escaped` says whether `decode` is needed to read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub escaped: bool,
}

/// The JSON type of the value that starts at the cursor, known from its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Flags (high bit of each byte) the bytes of `w` that are `"`, `\`, below 0x20 or non-ASCII: the
/// classic "has zero byte" and "has byte less than n" tricks. Borrows only travel upwards from a flagged
/// byte, so the lowest flag is exact, which is all `find_special` uses.
#[inline(always)]
fn special_mask(w: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let quote = zero(w ^ (LO * b'"' as u64));
    let backslash = zero(w ^ (LO * b'\\' as u64));
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    quote | backslash | control | (w & HI)
}

/// The index of the first byte at or after `i` that a string scan must look at (`"`, `\`, a control
/// byte, or non-ASCII), or `b.len()`. SSE2 (always present on x86_64) does 16 bytes a step: one signed
/// `< 0x20` compare catches control bytes and non-ASCII alike; it halved the scan time of the 8-byte
/// SWAR loop alone on escape-heavy chat text.
#[inline(always)]
fn find_special(b: &[u8], mut i: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; loads stay within `b` (i + 16 <= len).
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let space = _mm_set1_epi8(0x20);
            while i + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(i).cast());
                let hit = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                    _mm_cmplt_epi8(v, space),
                );
                let mask = _mm_movemask_epi8(hit) as u32;
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }
    while i + 8 <= b.len() {
        let m = special_mask(u64::from_le_bytes(b[i..i + 8].try_into().unwrap()));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && !matches!(b[i], b'"' | b'\\' | 0..=0x1f | 0x80..=0xff) {
        i += 1;
    }
    i
}

pub struct Scanner<'a> {
    pub b: &'a [u8],
    pub i: usize,
    stack: Vec<bool>,
}

impl<'a> Scanner<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Scanner {
            b,
            i: 0,
            stack: Vec::new(),
        }
    }

    #[inline]
    pub fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub fn eof(&self) -> Box<BodyError> {
        BodyError::json(self.b.len(), "unexpected end of input")
    }

    /// The type of the value at the cursor (whitespace already skipped), without consuming it.
    #[inline]
    pub fn kind(&self) -> Result<Kind> {
        match self.peek() {
            Some(b'{') => Ok(Kind::Object),
            Some(b'[') => Ok(Kind::Array),
            Some(b'"') => Ok(Kind::String),
            Some(b'-' | b'0'..=b'9') => Ok(Kind::Number),
            Some(b't') => Ok(Kind::True),
            Some(b'f') => Ok(Kind::False),
            Some(b'n') => Ok(Kind::Null),
            Some(_) => Err(BodyError::json(self.i, "expected value")),
            None => Err(self.eof()),
        }
    }

    /// Consume a string (cursor on its opening quote); return the span between the quotes.
    #[inline]
    pub fn string(&mut self) -> Result<Span> {
        self.string_into(None)
    }

    /// Consume a string and append its decoded text to `out` (a lone surrogate escape becomes U+FFFD):
    /// message text is decoded while it is validated, not in a second pass.
    #[inline]
    pub fn string_decoded(&mut self, out: &mut Vec<u8>) -> Result<Span> {
        self.string_into(Some(out))
    }

    #[inline(always)]
    fn string_into(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<Span> {
        let b = self.b;
        let start = self.i + 1;
        let (mut i, mut copied) = (start, start);
        let mut escaped = false;
        loop {
            i = find_special(b, i);
            let Some(&c) = b.get(i) else {
                return Err(self.eof());
            };
            match c {
                b'"' => {
                    if let Some(out) = out {
                        out.extend_from_slice(&b[copied..i]);
                    }
                    self.i = i + 1;
                    return Ok(Span {
                        start,
                        end: i,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    let next = self.escape(i)?;
                    if let Some(out) = out.as_deref_mut() {
                        out.extend_from_slice(&b[copied..i]);
                        i = decode_escape(b, i, out);
                        copied = i;
                    } else {
                        i = next;
                    }
                }
                0..=0x1f => return Err(BodyError::json(i, "control character in string")),
                _ => i = self.utf8_run(i)?,
            }
        }
    }

    /// Validate the escape at `i` (a backslash); return the index after it.
    fn escape(&self, i: usize) -> Result<usize> {
        match self.b.get(i + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
            Some(b'u') => {
                for k in i + 2..i + 6 {
                    match self.b.get(k) {
                        Some(c) if c.is_ascii_hexdigit() => {}
                        Some(_) => return Err(BodyError::json(i, "invalid \\u escape")),
                        None => return Err(self.eof()),
                    }
                }
                Ok(i + 6)
            }
            Some(_) => Err(BodyError::json(i, "invalid escape")),
            None => Err(self.eof()),
        }
    }

    /// Validate the run of non-ASCII bytes starting at `i` as UTF-8; return the index after it.
    fn utf8_run(&self, i: usize) -> Result<usize> {
        let mut j = i;
        while j < self.b.len() && self.b[j] >= 0x80 {
            j += 1;
        }
        match std::str::from_utf8(&self.b[i..j]) {
            Ok(_) => Ok(j),
            Err(e) if e.error_len().is_none() && j == self.b.len() => Err(self.eof()),
            Err(e) => Err(BodyError::json(i + e.valid_up_to(), "invalid UTF-8")),
        }
    }

    /// Consume a number; return whether it is an integer (no fraction, no exponent).
    pub fn number(&mut self) -> Result<bool> {
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        i = match b.get(i) {
            Some(b'0') => i + 1,
            Some(b'1'..=b'9') => digits(b, i + 1),
            Some(_) => return Err(BodyError::json(i, "invalid number")),
            None => return Err(self.eof()),
        };
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            integer = false;
            i = self.some_digits(i + 1)?;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            integer = false;
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            i = self.some_digits(i)?;
        }
        self.i = i;
        Ok(integer)
    }

    fn some_digits(&self, i: usize) -> Result<usize> {
        match self.b.get(i) {
            Some(b'0'..=b'9') => Ok(digits(self.b, i + 1)),
            Some(_) => Err(BodyError::json(i, "invalid number")),
            None => Err(self.eof()),
        }
    }

    /// Consume `true`, `false` or `null` (chosen by the byte at the cursor).
    pub fn literal(&mut self) -> Result<()> {
        let word: &[u8] = match self.peek() {
            Some(b't') => b"true",
            Some(b'f') => b"false",
            _ => b"null",
        };
        for (k, &want) in word.iter().enumerate() {
            match self.b.get(self.i + k) {
                Some(&c) if c == want => {}
                Some(_) => return Err(BodyError::json(self.i, "expected value")),
                None => return Err(self.eof()),
            }
        }
        self.i += word.len();
        Ok(())
    }

    /// Consume one scalar value (not an object or array).
    fn scalar(&mut self, kind: Kind) -> Result<()> {
        match kind {
            Kind::String => self.string().map(drop),
            Kind::Number => self.number().map(drop),
            _ => self.literal(),
        }
    }

    /// Consume any value, validating it. Iterative, so nesting depth costs heap, never stack.
    pub fn skip_value(&mut self) -> Result<()> {
        let base = self.stack.len();
        'value: loop {
            match self.kind()? {
                Kind::Object => {
                    if self.object_begin()? {
                        self.stack.push(true);
                        self.key()?;
                        continue 'value;
                    }
                }
                Kind::Array => {
                    if self.array_begin()? {
                        self.stack.push(false);
                        continue 'value;
                    }
                }
                kind => self.scalar(kind)?,
            }
            // A value just ended: close containers until one has another element.
            while let Some(&in_object) = self.stack.last() {
                if self.stack.len() == base {
                    break;
                }
                let more = if in_object {
                    self.object_next()?
                } else {
                    self.array_next()?
                };
                if more {
                    if in_object {
                        self.key()?;
                    }
                    continue 'value;
                }
                self.stack.pop();
            }
            return Ok(());
        }
    }

    /// Consume `{` and whitespace; false if the object is empty (its `}` consumed too).
    #[inline]
    pub fn object_begin(&mut self) -> Result<bool> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// Consume `[` and whitespace; false if the array is empty (its `]` consumed too).
    #[inline]
    pub fn array_begin(&mut self) -> Result<bool> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(false);
        }
        Ok(true)
    }

    /// Consume a member's key, the colon and the whitespace around it; the cursor ends on the value.
    #[inline]
    pub fn key(&mut self) -> Result<Span> {
        match self.peek() {
            Some(b'"') => {}
            Some(_) => return Err(BodyError::json(self.i, "expected string key")),
            None => return Err(self.eof()),
        }
        let key = self.string()?;
        self.ws();
        match self.peek() {
            Some(b':') => self.i += 1,
            Some(_) => return Err(BodyError::json(self.i, "expected ':'")),
            None => return Err(self.eof()),
        }
        self.ws();
        Ok(key)
    }

    /// After a member's value: true if a `,` follows (consumed, with whitespace), false on `}`.
    #[inline]
    pub fn object_next(&mut self) -> Result<bool> {
        self.next(b'}', "expected ',' or '}'")
    }

    /// After an element: true if a `,` follows (consumed, with whitespace), false on `]`.
    #[inline]
    pub fn array_next(&mut self) -> Result<bool> {
        self.next(b']', "expected ',' or ']'")
    }

    #[inline]
    fn next(&mut self, close: u8, what: &str) -> Result<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.ws();
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            Some(_) => Err(BodyError::json(self.i, what)),
            None => Err(self.eof()),
        }
    }

    /// After the top-level value: only whitespace may follow.
    pub fn finish(&mut self) -> Result<()> {
        self.ws();
        if self.i < self.b.len() {
            return Err(BodyError::json(
                self.i,
                "unexpected data after the JSON value",
            ));
        }
        Ok(())
    }

    /// Read an integer the cursor is on (already known to be one) into an i64; None if it overflows.
    pub fn int_value(&self, start: usize, end: usize) -> Option<i64> {
        std::str::from_utf8(&self.b[start..end]).ok()?.parse().ok()
    }
}

#[inline]
fn digits(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    i
}

/// OpenAI's name for the type of the value at `i` ("an integer", "a decimal", …), for error messages.
pub fn type_name(b: &[u8], i: usize) -> &'static str {
    match b.get(i) {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => {
            let mut j = i + 1;
            while matches!(b.get(j), Some(b'0'..=b'9')) {
                j += 1;
            }
            if matches!(b.get(j), Some(b'.' | b'e' | b'E')) {
                "a decimal"
            } else {
                "an integer"
            }
        }
        _ => "a value",
    }
}

/// The text of a string span: borrowed if it has no escapes, else decoded into `scratch`.
#[inline]
pub fn text<'x>(body: &'x [u8], sp: Span, scratch: &'x mut Vec<u8>) -> &'x [u8] {
    let raw = &body[sp.start..sp.end];
    if !sp.escaped {
        return raw;
    }
    scratch.clear();
    decode(raw, scratch);
    scratch
}

/// Append the decoded text of an already-validated string body to `out`.
pub fn decode(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &raw[i..]) {
        out.extend_from_slice(&raw[i..i + k]);
        i = decode_escape(raw, i + k, out);
    }
    out.extend_from_slice(&raw[i..]);
}

/// Decode the validated escape at `b[i]` (a backslash) into `out`; return the index after it. A
/// surrogate pair of escapes is one character; a lone surrogate (legal in Python's `json`, not
/// representable in UTF-8) becomes U+FFFD, still one code point.
fn decode_escape(b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let byte = match b[i + 1] {
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'u' => {
            let hi = hex4(&b[i + 2..i + 6]);
            let mut end = i + 6;
            let mut code = hi;
            if (0xD800..0xDC00).contains(&hi) && b.get(end..end + 2) == Some(b"\\u") {
                if let Some(lo) = b.get(end + 2..end + 6).and_then(hex4_checked) {
                    if (0xDC00..0xE000).contains(&lo) {
                        code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        end += 6;
                    }
                }
            }
            let ch = char::from_u32(code).unwrap_or('\u{FFFD}');
            out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
            return end;
        }
        other => other, // `"`, `\`, `/`
    };
    out.push(byte);
    i + 2
}

fn hex4(h: &[u8]) -> u32 {
    h.iter().fold(0, |acc, &c| {
        acc * 16 + (c as char).to_digit(16).unwrap_or(0)
    })
}

fn hex4_checked(h: &[u8]) -> Option<u32> {
    h.iter()
        .try_fold(0, |acc, &c| Some(acc * 16 + (c as char).to_digit(16)?))
}
