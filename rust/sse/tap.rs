//! The relay tap for OpenAI chat-completion streams: passes upstream's bytes through event by
//! event, byte for byte, while noting usage, `[DONE]` and errors, and optionally dropping the
//! usage-only chunk the gateway asked for on the caller's behalf, and optionally collecting the
//! completion's text (for counting its tokens when the upstream reports no usage). Pure Rust: the
//! pyo3 skin lives in `mod.rs`.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::lines::Lines;
use super::parser::split_field;

static USAGE_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"usage\""));
static ERROR_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"error\""));
static TIER_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"service_tier\""));

/// Where the output of one [`Tap::feed`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A slice of the chunk just fed (often all of it, so the caller can reuse the chunk).
    Slice(Range<usize>),
    /// In [`Tap::out`].
    Owned,
}

/// The top-level keys the tap looks at; the rest are skipped without being built.
#[derive(Deserialize)]
struct Top<'a> {
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    choices: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    service_tier: Option<&'a RawValue>,
}

/// A chunk as text collection reads it: the generated text of every choice's delta.
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    choices: Option<Vec<Choice<'a>>>,
    #[serde(borrow, default)]
    service_tier: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    /// Legacy completions (`/v1/completions`) stream their text here rather than in a delta.
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    delta: Option<Delta<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    refusal: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallDelta<'a> {
    #[serde(borrow, default)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

impl Chunk<'_> {
    /// Appends the text this chunk generated: a completion's text, content, reasoning, refusals, tool
    /// names and arguments.
    fn collect(&self, text: &mut String) {
        for choice in self.choices.iter().flatten() {
            if let Some(t) = &choice.text {
                text.push_str(t);
            }
            let Some(delta) = choice.delta.as_ref() else {
                continue;
            };
            for part in [&delta.content, &delta.reasoning_content, &delta.refusal]
                .into_iter()
                .flatten()
            {
                text.push_str(part);
            }
            for f in delta
                .tool_calls
                .iter()
                .flatten()
                .filter_map(|t| t.function.as_ref())
            {
                for part in [&f.name, &f.arguments].into_iter().flatten() {
                    text.push_str(part);
                }
            }
        }
    }
}

/// Whether `data` has `"key"` followed by `:` and a value other than `null`: a cheap filter that
/// lets through every JSON text with such a top-level key (and some others, which the real parse
/// then rejects). Keys spelled with `\u` escapes are not recognised.
#[inline]
fn has_non_null_key(data: &[u8], key: &Finder<'_>) -> bool {
    key.find_iter(data).any(|i| {
        let rest = skip_ws(&data[i + key.needle().len()..]);
        match rest.split_first() {
            Some((b':', value)) => !skip_ws(value).starts_with(b"null"),
            _ => false,
        }
    })
}

#[inline]
fn skip_ws(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(s.len());
    &s[n..]
}

fn is_empty_array(raw: &RawValue) -> bool {
    raw.get()
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .is_some_and(|inner| inner.trim_matches([' ', '\t', '\n', '\r']).is_empty())
}

/// What the tap has seen so far.
#[derive(Debug, Default)]
struct Seen {
    strip_usage_chunk: bool,
    collect_text: bool,
    text: String,
    usage: Option<Vec<u8>>,
    error: Option<Vec<u8>>,
    service_tier: Option<String>,
    done: bool,
    events: u64,
}

impl Seen {
    /// Notes a dispatched event's data; returns whether to pass the event on.
    fn event(&mut self, data: &[u8]) -> bool {
        self.events += 1;
        if data.starts_with(b"[DONE]") {
            // As the OpenAI SDKs test it.
            self.done = true;
            return true;
        }
        let want_usage = has_non_null_key(data, &USAGE_KEY);
        let want_error = self.error.is_none() && has_non_null_key(data, &ERROR_KEY);
        let want_tier = self.service_tier.is_none() && has_non_null_key(data, &TIER_KEY);
        let want_any = want_usage || want_error || want_tier || self.collect_text;
        if !want_any || skip_ws(data).first() != Some(&b'{') {
            return true;
        }
        // JSON is UTF-8: serde's derive skips unnamed fields without checking theirs, so check first.
        let Ok(data) = std::str::from_utf8(data) else {
            return true;
        };
        if self.collect_text {
            if let Ok(chunk) = serde_json::from_str::<Chunk<'_>>(data) {
                chunk.collect(&mut self.text);
                self.note_tier(chunk.service_tier);
                return self.note(
                    data,
                    chunk.usage,
                    chunk.error,
                    chunk.choices.map(|c| c.is_empty()),
                );
            }
        }
        if !(want_usage || want_error || want_tier) {
            return true;
        }
        let Ok(top) = serde_json::from_str::<Top<'_>>(data) else {
            return true; // Not JSON (or duplicate keys): pass it on untouched.
        };
        let empty = top.choices.map(is_empty_array);
        self.note_tier(top.service_tier);
        self.note(data, top.usage, top.error, empty)
    }

    /// Records the first string `service_tier` (the tier the provider says it served the request on).
    fn note_tier(&mut self, tier: Option<&RawValue>) {
        if self.service_tier.is_none() {
            self.service_tier = tier.and_then(|t| serde_json::from_str::<String>(t.get()).ok());
        }
    }

    /// Records usage and the first error; returns whether to pass the event on.
    fn note(
        &mut self,
        data: &str,
        usage: Option<&RawValue>,
        error: Option<&RawValue>,
        empty_choices: Option<bool>,
    ) -> bool {
        if self.error.is_none() && error.is_some() {
            self.error = Some(data.as_bytes().to_vec());
        }
        let Some(usage) = usage else {
            return true;
        };
        let usage = usage.get().as_bytes();
        match &mut self.usage {
            Some(v) => {
                v.clear();
                v.extend_from_slice(usage);
            }
            None => self.usage = Some(usage.to_vec()),
        }
        !(self.strip_usage_chunk && empty_choices == Some(true))
    }
}

/// Collects the output of one feed: a range of the chunk while it can, a copy once it must.
struct Out<'a> {
    buf: &'a mut Vec<u8>,
    range: Range<usize>,
    owned: bool,
}

impl Out<'_> {
    #[inline]
    fn push(&mut self, chunk: &[u8], r: Range<usize>) {
        if r.is_empty() {
        } else if self.owned {
            self.buf.extend_from_slice(&chunk[r]);
        } else if self.range.is_empty() {
            self.range = r;
        } else if self.range.end == r.start {
            self.range.end = r.end;
        } else {
            self.copy_out(chunk);
            self.buf.extend_from_slice(&chunk[r]);
        }
    }

    fn push_bytes(&mut self, chunk: &[u8], bytes: &[u8]) {
        if !self.owned {
            self.copy_out(chunk);
        }
        self.buf.extend_from_slice(bytes);
    }

    fn copy_out(&mut self, chunk: &[u8]) {
        self.owned = true;
        self.buf.clear();
        self.buf.extend_from_slice(&chunk[self.range.clone()]);
    }

    fn finish(self) -> Output {
        if self.owned {
            Output::Owned
        } else {
            Output::Slice(self.range)
        }
    }
}

/// The tap. Blocks (everything up to and including the blank line that ends an event, comments
/// and stray blank lines included) are passed on whole once complete; the bytes of an incomplete
/// block are held back. A CRLF split across chunks counts as one ending of the block it ends.
#[derive(Debug, Default)]
pub struct Tap {
    lines: Lines,
    /// Raw bytes of the incomplete block (as far as earlier chunks carried it).
    held: Vec<u8>,
    /// The incomplete block's data buffer, without the trailing LF.
    data: Vec<u8>,
    has_data: bool,
    /// The last chunk ended with a CR that ended a block: whether that block was passed on (an LF
    /// starting the next chunk belongs to it).
    cr_ended_block: Option<bool>,
    out: Vec<u8>,
    seen: Seen,
}

impl Tap {
    pub fn new(strip_usage_chunk: bool) -> Self {
        Self::with_text(strip_usage_chunk, false)
    }

    /// A tap that also collects the completion's text (see [`Tap::text`]); it parses every event.
    pub fn with_text(strip_usage_chunk: bool, collect_text: bool) -> Self {
        Tap {
            seen: Seen {
                strip_usage_chunk,
                collect_text,
                ..Seen::default()
            },
            ..Tap::default()
        }
    }

    /// Takes the next chunk of upstream's stream; returns where the bytes of the blocks it
    /// completes are (less a stripped usage chunk).
    pub fn feed(&mut self, chunk: &[u8]) -> Output {
        let Tap {
            lines,
            held,
            data,
            has_data,
            cr_ended_block,
            out,
            seen,
        } = self;
        let mut out = Out {
            buf: out,
            range: 0..0,
            owned: false,
        };
        if chunk.is_empty() {
            return out.finish();
        }
        let mut block_start = 0;
        if let Some(passed_on) = cr_ended_block.take() {
            debug_assert!(lines.after_cr());
            if chunk[0] == b'\n' {
                if passed_on {
                    out.push(chunk, 0..1);
                }
                block_start = 1;
            }
        }
        lines.feed(chunk, |line, end| {
            if !line.is_empty() {
                if line[0] != b':' {
                    if let (b"data", value) = split_field(line) {
                        if *has_data {
                            data.push(b'\n');
                        }
                        data.extend_from_slice(value);
                        *has_data = true;
                    }
                }
                return;
            }
            let pass_on = !std::mem::take(has_data) || seen.event(data);
            data.clear();
            if pass_on {
                if !held.is_empty() {
                    out.push_bytes(chunk, held);
                }
                out.push(chunk, block_start..end);
            }
            held.clear();
            block_start = end;
            if end == chunk.len() && chunk[end - 1] == b'\r' {
                *cr_ended_block = Some(pass_on);
            }
        });
        held.extend_from_slice(&chunk[block_start..]);
        out.finish()
    }

    /// The output of the last feed, when it returned [`Output::Owned`].
    pub fn out(&self) -> &[u8] {
        &self.out
    }

    /// Convenience for tests and benches: feed and copy the output.
    pub fn feed_to_vec(&mut self, chunk: &[u8]) -> Vec<u8> {
        match self.feed(chunk) {
            Output::Slice(r) => chunk[r].to_vec(),
            Output::Owned => self.out.clone(),
        }
    }

    /// Ends the stream: returns the held-back bytes of an incomplete block unchanged (per the
    /// spec a client discards them, so they are not counted) and gets ready for a new stream.
    /// What was seen (usage, done, error, events) is kept.
    pub fn finish(&mut self) -> Vec<u8> {
        self.lines.reset();
        self.data.clear();
        self.has_data = false;
        self.cr_ended_block = None;
        std::mem::take(&mut self.held)
    }

    /// Bytes held back (the incomplete block so far).
    pub fn pending(&self) -> usize {
        self.held.len()
    }

    /// The raw JSON text of the last non-null top-level `usage` seen.
    pub fn usage(&self) -> Option<&[u8]> {
        self.seen.usage.as_deref()
    }

    /// The data of the first event whose JSON object has a non-null top-level `error`.
    pub fn error(&self) -> Option<&[u8]> {
        self.seen.error.as_deref()
    }

    /// Whether a `data: [DONE]` event was seen.
    pub fn done(&self) -> bool {
        self.seen.done
    }

    /// The number of events dispatched (blocks with data), stripped ones included.
    pub fn events(&self) -> u64 {
        self.seen.events
    }

    /// The first string `service_tier` any event carried.
    pub fn service_tier(&self) -> Option<&str> {
        self.seen.service_tier.as_deref()
    }

    /// The text generated so far (every choice's content, reasoning, refusal, tool names and
    /// arguments, in arrival order); empty unless made by [`Tap::with_text`].
    pub fn text(&self) -> &str {
        &self.seen.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: &str = r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}"#;
    const STOP: &str = r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#;
    const USAGE: &str = r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#;
    const USAGE_JSON: &str = r#"{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}"#;

    fn stream(sep: &str) -> String {
        [CHUNK, STOP, USAGE, "data: [DONE]"]
            .iter()
            .map(|e| format!("{e}{sep}{sep}"))
            .collect()
    }

    /// Feeds `chunks`, returns the concatenated output plus finish() and the tap.
    fn run(strip: bool, chunks: &[&[u8]]) -> (Vec<u8>, Tap) {
        let mut tap = Tap::new(strip);
        let mut all = Vec::new();
        for c in chunks {
            all.extend(tap.feed_to_vec(c));
        }
        all.extend(tap.finish());
        (all, tap)
    }

    fn every_split(strip: bool, s: &[u8], expected: &[u8]) {
        let bytes: Vec<&[u8]> = s.chunks(1).collect();
        assert_eq!(run(strip, &bytes).0, expected, "byte by byte");
        for i in 0..=s.len() {
            let (a, b) = s.split_at(i);
            let (out, tap) = run(strip, &[a, b]);
            assert_eq!(out, expected, "split at {i}");
            assert_eq!(tap.usage(), Some(USAGE_JSON.as_bytes()));
            assert!(tap.done());
            assert_eq!(tap.events(), 4);
        }
    }

    #[test]
    fn invalid_utf8_is_not_json() {
        let bad = b"data: {\"\":\"\xff\",\"choices\":[],\"usage\":{}}\n\n";
        for collect in [false, true] {
            let mut tap = Tap::with_text(true, collect);
            assert_eq!(tap.feed_to_vec(bad), bad, "passed on untouched");
            assert_eq!(tap.usage(), None);
        }
    }

    #[test]
    fn records_the_service_tier() {
        let s = "data: {\"choices\":[],\"service_tier\":7}\n\ndata: {\"service_tier\":\"de\\u0066ault\",\"choices\":[]}\n\ndata: {\"service_tier\":\"flex\"}\n\n";
        for collect in [false, true] {
            let mut tap = Tap::with_text(false, collect);
            tap.feed_to_vec(s.as_bytes());
            assert_eq!(tap.service_tier(), Some("default"), "collect={collect}");
        }
        assert_eq!(Tap::new(false).service_tier(), None);
    }

    #[test]
    fn collects_completion_text() {
        let events = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"think "}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hi \"you\""}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"get","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]}"#,
            r#"{"choices":[{"index":1,"delta":{"refusal":"no"}}],"usage":null}"#,
            r#"{"choices":[],"usage":{"total_tokens":5}}"#,
            "[DONE]",
        ];
        let s: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
        let mut tap = Tap::with_text(true, true);
        let out = tap.feed_to_vec(s.as_bytes());
        assert_eq!(tap.text(), "think Hi \"you\"get{\"a\":1}no");
        assert_eq!(tap.usage(), Some(&br#"{"total_tokens":5}"#[..]));
        assert!(
            !String::from_utf8(out).unwrap().contains("total_tokens"),
            "usage chunk stripped"
        );
        assert_eq!(Tap::new(false).text(), "");
        // Legacy completions stream their text in `choices[].text`.
        let mut tap = Tap::with_text(false, true);
        tap.feed_to_vec(
            b"data: {\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"def f\"}]}\n\n",
        );
        tap.feed_to_vec(
            b"data: {\"choices\":[{\"index\":0,\"text\":\"():\",\"finish_reason\":null}]}\n\n",
        );
        assert_eq!(tap.text(), "def f():");
        // A chunk whose choices are not the expected shape still yields its usage.
        let mut tap = Tap::with_text(false, true);
        tap.feed_to_vec(b"data: {\"choices\":7,\"usage\":{\"a\":1}}\n\n");
        assert_eq!(tap.usage(), Some(&br#"{"a":1}"#[..]));
        assert_eq!(tap.text(), "");
    }

    #[test]
    fn passes_through_without_strip() {
        for sep in ["\n", "\r\n", "\r"] {
            let s = stream(sep);
            every_split(false, s.as_bytes(), s.as_bytes());
        }
    }

    #[test]
    fn strips_usage_chunk() {
        for sep in ["\n", "\r\n", "\r"] {
            let s = stream(sep);
            let expected = s.replace(&format!("{USAGE}{sep}{sep}"), "");
            assert_ne!(expected, s);
            every_split(true, s.as_bytes(), expected.as_bytes());
        }
    }

    #[test]
    fn whole_chunk_output_is_the_chunk_itself() {
        let mut tap = Tap::new(true);
        let one = format!("{CHUNK}\n\n");
        assert_eq!(tap.feed(one.as_bytes()), Output::Slice(0..one.len()));
        // A trailing partial event is held back.
        let two = format!("{CHUNK}\n\ndata: {{\"x\"");
        assert_eq!(tap.feed(two.as_bytes()), Output::Slice(0..one.len()));
        assert_eq!(tap.pending(), 10);
        assert_eq!(tap.finish(), b"data: {\"x\"");
        assert!(!tap.done());
    }

    #[test]
    fn split_crlf_after_stripped_block_is_stripped_with_it() {
        let u = format!("{USAGE}\r\r");
        let (out, tap) = run(true, &[u.as_bytes(), b"\ndata: [DONE]\r\n\r\n"]);
        assert_eq!(out, b"data: [DONE]\r\n\r\n");
        assert!(tap.done());
        let (out, _) = run(false, &[u.as_bytes(), b"\ndata: [DONE]\r\n\r\n"]);
        assert_eq!(out, format!("{USAGE}\r\r\ndata: [DONE]\r\n\r\n").as_bytes());
    }

    #[test]
    fn comments_blank_lines_and_bom_pass_through() {
        let s = format!("\u{FEFF}: keepalive\n\n\n{CHUNK}\n: c\n\n{USAGE}\n\ndata: [DONE]\n\n");
        let expected = format!("\u{FEFF}: keepalive\n\n\n{CHUNK}\n: c\n\ndata: [DONE]\n\n");
        let (out, tap) = run(true, &[s.as_bytes()]);
        assert_eq!(out, expected.as_bytes());
        assert_eq!(tap.events(), 3);
        // The BOM does not hide the first event's data.
        let s = format!("\u{FEFF}{USAGE}\n\n");
        let (out, tap) = run(true, &[s.as_bytes()]);
        assert_eq!(out, b"");
        assert_eq!(tap.usage(), Some(USAGE_JSON.as_bytes()));
    }

    #[test]
    fn usage_recorded_without_strip_and_from_chunks_with_choices() {
        let with_choices = r#"data: {"choices":[{"delta":{}}], "usage" : { "total_tokens": 3 } }"#;
        let s = format!("{with_choices}\n\n");
        let (out, tap) = run(true, &[s.as_bytes()]);
        assert_eq!(out, s.as_bytes());
        assert_eq!(tap.usage(), Some(&br#"{ "total_tokens": 3 }"#[..]));
        // The last non-null one wins; later nulls do not clear it.
        let s = format!("{USAGE}\n\n{CHUNK}\n\n");
        let (_, tap) = run(false, &[s.as_bytes()]);
        assert_eq!(tap.usage(), Some(USAGE_JSON.as_bytes()));
    }

    #[test]
    fn not_stripped_unless_usage_and_empty_choices() {
        for data in [
            r#"{"choices":[],"usage":null}"#,
            r#"{"usage":{"a":1}}"#,
            r#"{"choices":[1],"usage":{"a":1}}"#,
            r#"{"choices":{},"usage":{"a":1}}"#,
            r#"{"x":{"choices":[],"usage":{"a":1}}}"#,
            r#"[{"choices":[],"usage":{"a":1}}]"#,
            r#"{"choices":[],"usage":{"a":1}"#,
            r#"{"choices":[],"usage":{"a":1},"usage":{"a":2}}"#,
        ] {
            let s = format!("data: {data}\n\n");
            let (out, _) = run(true, &[s.as_bytes()]);
            assert_eq!(out, s.as_bytes(), "{data}");
        }
        for data in [
            r#"{"choices":[ ],"usage":{"a":1}}"#,
            r#" { "usage" :{"a":1}, "choices" : [] } "#,
        ] {
            let s = format!("data: {data}\n\n");
            let (out, tap) = run(true, &[s.as_bytes()]);
            assert_eq!(out, b"", "{data}");
            assert_eq!(tap.usage(), Some(&br#"{"a":1}"#[..]));
        }
        // Nested usage is not recorded.
        let (_, tap) = run(true, &[br#"data: {"x":{"usage":{"a":1}}}"#, b"\n\n"]);
        assert_eq!(tap.usage(), None);
    }

    #[test]
    fn multi_line_data_is_joined() {
        let s = "data: {\"choices\":[],\ndata: \"usage\":{\"a\":1}}\n\ndata: [DONE]\n\n";
        let (out, tap) = run(true, &[s.as_bytes()]);
        assert_eq!(out, b"data: [DONE]\n\n");
        assert_eq!(tap.usage(), Some(&br#"{"a":1}"#[..]));
    }

    #[test]
    fn error_first_one_kept() {
        let e1 = r#"{"error":{"message":"overloaded","type":"server_error"}}"#;
        let s = format!(
            "data: {{\"error\":null}}\n\ndata: {e1}\n\nevent: error\ndata: {{\"error\":2}}\n\n"
        );
        let (out, tap) = run(true, &[s.as_bytes()]);
        assert_eq!(out, s.as_bytes());
        assert_eq!(tap.error(), Some(e1.as_bytes()));
        assert_eq!(tap.events(), 3);
        assert!(!tap.done());
        let (_, tap) = run(
            true,
            &[br#"data: {"content":"the \"error\": bad"}"#, b"\n\n"],
        );
        assert_eq!(tap.error(), None);
    }

    #[test]
    fn unterminated_event_not_counted() {
        let s = format!("{CHUNK}\n\n{USAGE}\n");
        let (out, tap) = run(true, &[s.as_bytes()]);
        assert_eq!(out, s.as_bytes());
        assert_eq!(tap.events(), 1);
        assert_eq!(tap.usage(), None);
    }

    #[test]
    fn done_prefix() {
        let (_, tap) = run(false, &[b"data: [DONE]\r"]);
        assert!(!tap.done(), "not dispatched yet");
        let (_, tap) = run(false, &[b"data: [DONE]\r\r"]);
        assert!(tap.done());
    }

    #[test]
    fn pre_check() {
        let f = &*USAGE_KEY;
        assert!(has_non_null_key(br#"{"usage":{}}"#, f));
        assert!(has_non_null_key(br#"{"usage" :  1}"#, f));
        assert!(!has_non_null_key(br#"{"usage": null}"#, f));
        assert!(!has_non_null_key(br#"{"usage"}"#, f));
        assert!(!has_non_null_key(br#"{"x":"usage"}"#, f));
        assert!(has_non_null_key(br#"{"usage":null,"x":{"usage":2}}"#, f));
        assert!(!has_non_null_key(br#"{"x":"\"usage\": 1"}"#, f));
    }
}
