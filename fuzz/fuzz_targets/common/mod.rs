//! Shared by the fuzz targets: the chunking scheme of the SSE targets, a spec-literal reference SSE
//! parser (a port of `tests/core/sse_reference.py`), and the serde_json-based JSON references.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt;

use _core::sse::Event;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

// --------------------------------------------------------------------------------------- chunking

/// An SSE target's input: `[h][k length bytes][stream]`, where `k = h & 7` (clamped to what is
/// there). The stream is fed in chunks whose lengths cycle through the length bytes (0 = an empty
/// chunk); with no length bytes it is fed one byte at a time. The other bits of `h` are free for the
/// target (`sse_tap` reads none of them either: it runs with stripping on and off).
pub struct Split<'a> {
    pub header: u8,
    pub lens: &'a [u8],
    pub stream: &'a [u8],
}

pub fn split(input: &[u8]) -> Split<'_> {
    let Some((&header, rest)) = input.split_first() else {
        return Split {
            header: 0,
            lens: &[],
            stream: &[],
        };
    };
    let k = usize::from(header & 7).min(rest.len());
    Split {
        header,
        lens: &rest[..k],
        stream: &rest[k..],
    }
}

impl<'a> Split<'a> {
    /// The chunks, in order; their concatenation is `stream`.
    pub fn chunks(&self) -> Vec<&'a [u8]> {
        let s = self.stream;
        let all_zero = self.lens.iter().all(|&l| l == 0);
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < s.len() {
            let len = if self.lens.is_empty() {
                1
            } else {
                j += 1;
                usize::from(self.lens[(j - 1) % self.lens.len()])
            };
            if len == 0 {
                out.push(&s[i..i]);
                if all_zero {
                    out.push(&s[i..i + 1]);
                    i += 1;
                }
                continue;
            }
            let end = (i + len).min(s.len());
            out.push(&s[i..end]);
            i = end;
        }
        out
    }
}

// ----------------------------------------------------------------------------- reference parser

/// What the spec's parser dispatches for a whole stream, plus its final state.
#[derive(Debug, PartialEq, Eq)]
pub struct RefParsed {
    pub events: Vec<Event>,
    pub last_event_id: Option<String>,
    pub retry: Option<u64>,
}

/// The stream's lines, split on CRLF | CR | LF; what follows the last ending is not a line.
pub fn lines(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut pos, mut i) = (0, 0);
    while i < b.len() {
        match b[i] {
            b'\r' => {
                let end = if b.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                out.push((pos, i));
                i = end;
                pos = end;
            }
            b'\n' => {
                out.push((pos, i));
                i += 1;
                pos = i;
            }
            _ => i += 1,
        }
    }
    out
}

/// Straight from the WHATWG "event stream interpretation", on the whole stream decoded first
/// (`tests/core/sse_reference.py::parse`, line for line).
pub fn ref_parse(stream: &[u8]) -> RefParsed {
    let decoded = String::from_utf8_lossy(stream);
    let text = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    let mut events = Vec::new();
    let mut data = String::new();
    let mut event_type = String::new();
    let mut id_buffer: Option<String> = None;
    let mut last_event_id: Option<String> = None;
    let mut block_retry: Option<u64> = None;
    let mut retry: Option<u64> = None;
    for (a, b) in lines(text) {
        let line = &text[a..b];
        if line.is_empty() {
            last_event_id.clone_from(&id_buffer);
            let this_retry = block_retry.take();
            if data.is_empty() {
                event_type.clear();
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            events.push(Event {
                event: if event_type.is_empty() {
                    "message".to_owned()
                } else {
                    event_type.clone()
                },
                data: std::mem::take(&mut data),
                id: id_buffer.clone(),
                retry: this_retry,
            });
            event_type.clear();
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match name {
            "event" => event_type = value.to_owned(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id_buffer = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) => {
                if let Ok(ms) = value.parse::<u64>() {
                    block_retry = Some(ms);
                    retry = Some(ms);
                }
            }
            _ => {}
        }
    }
    RefParsed {
        events,
        last_event_id,
        retry,
    }
}

/// One complete block: its raw bytes and the data it dispatches (None without a `data` field).
pub type Block<'a> = (&'a [u8], Option<Vec<u8>>);

/// The complete blocks of a stream (raw bytes through the ending of the blank line that closes
/// them) with the data each dispatches (None without a `data` field), and the incomplete rest
/// (`sse_reference.py::split_blocks`).
pub fn split_blocks(stream: &[u8]) -> (Vec<Block<'_>>, &[u8]) {
    let mut blocks = Vec::new();
    let (mut start, mut pos, mut i) = (0, 0, 0);
    let mut data: Vec<&[u8]> = Vec::new();
    let mut first = true;
    let mut on_line = |line_start: usize, line_end: usize, end: usize, start: &mut usize| {
        let mut line = &stream[line_start..line_end];
        if first {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            first = false;
        }
        if line.is_empty() {
            let d = (!data.is_empty()).then(|| data.join(&b'\n'));
            blocks.push((&stream[*start..end], d));
            *start = end;
            data.clear();
        } else if line[0] != b':' {
            let (name, value) = match line.iter().position(|&c| c == b':') {
                Some(c) => (&line[..c], &line[c + 1..]),
                None => (line, &[][..]),
            };
            if name == b"data" {
                data.push(value.strip_prefix(b" ").unwrap_or(value));
            }
        }
    };
    while i < stream.len() {
        match stream[i] {
            b'\r' => {
                let end = if stream.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                on_line(pos, i, end, &mut start);
                i = end;
                pos = end;
            }
            b'\n' => {
                on_line(pos, i, i + 1, &mut start);
                i += 1;
                pos = i;
            }
            _ => i += 1,
        }
    }
    (blocks, &stream[start..])
}

// ---------------------------------------------------------------------------------------- JSON

/// serde_json's reading of a body, as the oracle for our hand scanner. Two documented differences
/// are bridged first: lone surrogate escapes (`\ud800`), which our scanner accepts as Python's `json`
/// does and decodes to U+FFFD, are replaced by `\ufffd` (same length, so byte offsets and "every
/// other byte untouched" still hold); and serde_json's own limits (numbers beyond f64 such as `1e400`,
/// nesting past 128) leave no oracle (`Limit`) rather than a verdict.
pub enum Oracle {
    Json(Value),
    Limit,
    Invalid(serde_json::Error),
}

pub fn oracle(body: &[u8]) -> Oracle {
    let patched = patch_lone_surrogates(body);
    match serde_json::from_slice::<Value>(&patched) {
        Ok(v) => Oracle::Json(v),
        Err(e) => {
            let m = e.to_string();
            if m.contains("number out of range") || m.contains("recursion limit exceeded") {
                Oracle::Limit
            } else {
                Oracle::Invalid(e)
            }
        }
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    let h = b.get(..4)?;
    h.iter()
        .try_fold(0, |acc, &c| Some(acc * 16 + (c as char).to_digit(16)?))
}

/// Every `\uXXXX` escape of a lone surrogate replaced by `\ufffd`; surrogate pairs kept. Decodes
/// escapes left to right as a JSON string reader does (so `\\ud800` is not an escape).
pub fn patch_lone_surrogates(b: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr_u(b).is_none() {
        return std::borrow::Cow::Borrowed(b);
    }
    let mut out = b.to_vec();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        if b[i + 1] != b'u' {
            i += 2;
            continue;
        }
        let Some(code) = hex4(&b[i + 2..]) else {
            i += 2;
            continue;
        };
        let pair = (0xD800..0xDC00).contains(&code)
            && b.get(i + 6..i + 8) == Some(&b"\\u"[..])
            && hex4(&b[i + 8..]).is_some_and(|lo| (0xDC00..0xE000).contains(&lo));
        if pair {
            i += 12;
        } else {
            if (0xD800..0xE000).contains(&code) {
                out[i + 2..i + 6].copy_from_slice(b"fffd");
            }
            i += 6;
        }
    }
    std::borrow::Cow::Owned(out)
}

fn memchr_u(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\\u")
}

/// The top-level keys of a JSON object in document order (None if `data` is not a JSON object).
pub fn top_keys(data: &[u8]) -> Option<Vec<String>> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(k) = m.next_key::<String>()? {
                m.next_value::<IgnoredAny>()?;
                keys.push(k);
            }
            Ok(keys)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(data);
    let keys = (&mut de).deserialize_map(Keys).ok()?;
    de.end().ok()?;
    Some(keys)
}

/// Whether an object's top-level keys are all distinct.
pub fn unique_keys(data: &[u8]) -> bool {
    top_keys(data).is_some_and(|k| k.iter().collect::<HashSet<_>>().len() == k.len())
}

/// `v[key]` unless absent or null.
pub fn non_null<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.get(key).filter(|x| !x.is_null())
}
