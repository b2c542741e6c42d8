//! `inspect`: one validating pass over a chat-completions request body that keeps only what the gateway
//! routes and admits on. It builds nothing for the messages: text is measured where it lies (decoded
//! into one reused buffer only to be lowercased for the keyword search).
//!
//! Semantics (the Python reference `tests/core/inspect_reference.py` computes the same from `json.loads`):
//! - top-level keys only; a duplicated key takes its last value (as `json.loads` does), but every
//!   occurrence is type-checked;
//! - `max_tokens` is `max_completion_tokens` unless that is absent or null, then `max_tokens`;
//! - text is a message's string `content` and the `text` of its `{"type": "text"}` parts; its length is
//!   in Unicode code points (a surrogate-pair escape is one);
//! - `code_blocks` is the number of ```` ``` ```` fences (non-overlapping, per text) over all messages,
//!   halved and floored; `reasoning_markers` counts non-overlapping, leftmost-first, ASCII-case-
//!   insensitive matches of `MARKERS` per text (Python: `len(re.findall("|".join(MARKERS), text,
//!   re.I | re.A))`);
//! - a type error is reported only once the whole body has parsed: invalid JSON anywhere wins, as in a
//!   server that parses before it validates. The first type error in document order is the one raised.

use aho_corasick::packed::{Config, MatchKind, Searcher};
use std::sync::OnceLock;

use super::scan::{text, type_name, BodyError, Kind, Result, Scanner};

/// The keywords counted by `reasoning_markers`, lowercase; the order is the alternation's order.
pub const MARKERS: [&str; 7] = [
    "step by step",
    "prove",
    "derive",
    "reason",
    "analyze",
    "analyse",
    "think",
];

/// What `inspect` found. `messages` is None when the key is absent (an empty array is `Some(0)`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inspection {
    pub model: Option<String>,
    pub stream: bool,
    pub include_usage: bool,
    pub max_tokens: Option<i64>,
    pub n: Option<i64>,
    pub messages: Option<usize>,
    pub text_len: usize,
    pub has_tools: bool,
    pub has_images: bool,
    pub has_response_format: bool,
    pub code_blocks: usize,
    pub reasoning_markers: usize,
    pub last_user_len: usize,
    /// The caller's end-user id (`user`, a string or null): session affinity's fallback key.
    pub user: Option<String>,
}

/// Scan a request body. Errors: invalid JSON, a body that is not an object, or a wrong type on a field
/// the gateway relies on (see `BodyError`).
pub fn inspect(body: &[u8]) -> std::result::Result<Inspection, BodyError> {
    let mut w = Walk {
        s: Scanner::new(body),
        keys: Vec::new(),
        texts: Vec::new(),
        deferred: None,
    };
    w.top().map_err(|e| *e)
}

#[derive(Default, Clone, Copy)]
struct TextStats {
    len: usize,
    fences: usize,
    markers: usize,
}

impl TextStats {
    fn add(&mut self, o: TextStats) {
        self.len += o.len;
        self.fences += o.fences;
        self.markers += o.markers;
    }
}

/// What one `content` value holds.
#[derive(Default, Clone, Copy)]
struct Content {
    text: TextStats,
    images: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Top {
    Model,
    Messages,
    Stream,
    StreamOptions,
    MaxTokens,
    MaxCompletionTokens,
    N,
    Tools,
    Functions,
    ResponseFormat,
    User,
    Other,
}

struct Walk<'a> {
    s: Scanner<'a>,
    /// Decoded keys and short values that had escapes.
    keys: Vec<u8>,
    /// Decoded, lowercased message text.
    texts: Vec<u8>,
    /// The first type error, raised only if the whole body turns out to be valid JSON.
    deferred: Option<Box<BodyError>>,
}

impl<'a> Walk<'a> {
    fn defer(&mut self, e: Box<BodyError>) {
        if self.deferred.is_none() {
            self.deferred = Some(e);
        }
    }

    fn wrong_type(&mut self, param: impl FnOnce() -> String, expected: &str) -> Result<()> {
        if self.deferred.is_none() {
            let at = self.s.i;
            let got = type_name(self.s.b, at);
            self.deferred = Some(BodyError::invalid_type(param(), expected, got, at));
        }
        self.s.skip_value()
    }

    fn top(&mut self) -> Result<Inspection> {
        let s = &mut self.s;
        s.ws();
        let start = s.i;
        if s.kind()? != Kind::Object {
            s.skip_value()?;
            s.finish()?;
            return Err(BodyError::not_object(start, type_name(s.b, start)));
        }
        let mut out = Inspection::default();
        let (mut max_tokens, mut max_completion_tokens) = (None, None);
        let (mut tools, mut functions) = (false, false);
        if self.s.object_begin()? {
            loop {
                let key = self.s.key()?;
                let field = match text(self.s.b, key, &mut self.keys) {
                    b"model" => Top::Model,
                    b"messages" => Top::Messages,
                    b"stream" => Top::Stream,
                    b"stream_options" => Top::StreamOptions,
                    b"max_tokens" => Top::MaxTokens,
                    b"max_completion_tokens" => Top::MaxCompletionTokens,
                    b"n" => Top::N,
                    b"tools" => Top::Tools,
                    b"functions" => Top::Functions,
                    b"response_format" => Top::ResponseFormat,
                    b"user" => Top::User,
                    _ => Top::Other,
                };
                match field {
                    Top::Model => out.model = self.model()?,
                    Top::Messages => self.messages(&mut out)?,
                    Top::Stream => out.stream = self.bool_or_null("stream")?,
                    Top::StreamOptions => out.include_usage = self.stream_options()?,
                    Top::MaxTokens => max_tokens = self.int_or_null("max_tokens")?,
                    Top::MaxCompletionTokens => {
                        max_completion_tokens = self.int_or_null("max_completion_tokens")?
                    }
                    Top::N => out.n = self.int_or_null("n")?,
                    Top::Tools => tools = self.non_empty_array(Some("tools"))?,
                    Top::Functions => functions = self.non_empty_array(None)?,
                    Top::ResponseFormat => {
                        out.has_response_format = self.s.kind()? != Kind::Null;
                        self.s.skip_value()?;
                    }
                    Top::User => out.user = self.string_or_null("user")?,
                    Top::Other => self.s.skip_value()?,
                }
                if !self.s.object_next()? {
                    break;
                }
            }
        }
        self.s.finish()?;
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        out.max_tokens = max_completion_tokens.or(max_tokens);
        out.has_tools = tools || functions;
        out.code_blocks /= 2; // fences were counted here; a block is a pair
        Ok(out)
    }

    fn model(&mut self) -> Result<Option<String>> {
        if self.s.kind()? != Kind::String {
            self.wrong_type(|| "model".into(), "a string")?;
            return Ok(None);
        }
        let sp = self.s.string()?;
        let t = text(self.s.b, sp, &mut self.keys);
        // Valid UTF-8 by construction (the scanner checked it; lone surrogates were decoded to U+FFFD).
        Ok(Some(String::from_utf8_lossy(t).into_owned()))
    }

    fn string_or_null(&mut self, name: &'static str) -> Result<Option<String>> {
        match self.s.kind()? {
            Kind::Null => {
                self.s.skip_value()?;
                Ok(None)
            }
            Kind::String => {
                let sp = self.s.string()?;
                let t = text(self.s.b, sp, &mut self.keys);
                Ok(Some(String::from_utf8_lossy(t).into_owned()))
            }
            _ => {
                self.wrong_type(|| name.into(), "a string")?;
                Ok(None)
            }
        }
    }

    fn bool_or_null(&mut self, name: &'static str) -> Result<bool> {
        match self.s.kind()? {
            k @ (Kind::True | Kind::False | Kind::Null) => {
                self.s.literal()?;
                Ok(k == Kind::True)
            }
            _ => self.wrong_type(|| name.into(), "a boolean").map(|()| false),
        }
    }

    fn int_or_null(&mut self, name: &'static str) -> Result<Option<i64>> {
        match self.s.kind()? {
            Kind::Null => self.s.literal().map(|()| None),
            Kind::Number => {
                let start = self.s.i;
                if !self.s.number()? {
                    self.s.i = start;
                    return self.wrong_type(|| name.into(), "an integer").map(|()| None);
                }
                let v = self.s.int_value(start, self.s.i);
                if v.is_none() {
                    self.defer(BodyError::invalid_value(
                        name.into(),
                        "integer out of 64-bit range",
                        start,
                    ));
                }
                Ok(v)
            }
            _ => self.wrong_type(|| name.into(), "an integer").map(|()| None),
        }
    }

    /// `tools` (type-checked: an array or null) or legacy `functions` (not checked): true if a non-empty
    /// array.
    fn non_empty_array(&mut self, checked: Option<&'static str>) -> Result<bool> {
        match self.s.kind()? {
            Kind::Array => {
                let mut j = self.s.i + 1;
                while matches!(self.s.b.get(j), Some(b' ' | b'\n' | b'\r' | b'\t')) {
                    j += 1;
                }
                let non_empty = self.s.b.get(j) != Some(&b']');
                self.s.skip_value()?;
                Ok(non_empty)
            }
            Kind::Null => self.s.literal().map(|()| false),
            _ => match checked {
                Some(name) => self.wrong_type(|| name.into(), "an array").map(|()| false),
                None => self.s.skip_value().map(|()| false),
            },
        }
    }

    /// `stream_options`: an object or null; true if its `include_usage` is `true`.
    fn stream_options(&mut self) -> Result<bool> {
        match self.s.kind()? {
            Kind::Null => self.s.literal().map(|()| false),
            Kind::Object => {
                let mut include = false;
                if self.s.object_begin()? {
                    loop {
                        let key = self.s.key()?;
                        if text(self.s.b, key, &mut self.keys) == b"include_usage" {
                            include = self.s.kind()? == Kind::True;
                        }
                        self.s.skip_value()?;
                        if !self.s.object_next()? {
                            break;
                        }
                    }
                }
                Ok(include)
            }
            _ => self
                .wrong_type(|| "stream_options".into(), "an object")
                .map(|()| false),
        }
    }

    fn messages(&mut self, out: &mut Inspection) -> Result<()> {
        if self.s.kind()? != Kind::Array {
            return self.wrong_type(|| "messages".into(), "an array");
        }
        // A repeated `messages` key replaces what an earlier one measured.
        let (mut count, mut total, mut last_user, mut images) = (0, TextStats::default(), 0, false);
        if self.s.array_begin()? {
            loop {
                if let Some((user, content)) = self.message(count)? {
                    total.add(content.text);
                    images |= content.images;
                    if user {
                        last_user = content.text.len;
                    }
                }
                count += 1;
                if !self.s.array_next()? {
                    break;
                }
            }
        }
        out.messages = Some(count);
        out.text_len = total.len;
        out.code_blocks = total.fences;
        out.reasoning_markers = total.markers;
        out.last_user_len = last_user;
        out.has_images = images;
        Ok(())
    }

    /// One message: Some((is the role "user", its content)) if it is an object.
    fn message(&mut self, idx: usize) -> Result<Option<(bool, Content)>> {
        let start = self.s.i;
        if self.s.kind()? != Kind::Object {
            self.wrong_type(|| format!("messages[{idx}]"), "an object")?;
            return Ok(None);
        }
        let (mut role, mut content) = (None, Content::default());
        if self.s.object_begin()? {
            loop {
                let key = self.s.key()?;
                match text(self.s.b, key, &mut self.keys) {
                    b"role" => {
                        if self.s.kind()? == Kind::String {
                            let sp = self.s.string()?;
                            role = Some(text(self.s.b, sp, &mut self.keys) == b"user");
                        } else {
                            role = Some(false);
                            self.wrong_type(|| format!("messages[{idx}].role"), "a string")?;
                        }
                    }
                    b"content" => content = self.content(idx)?,
                    _ => self.s.skip_value()?,
                }
                if !self.s.object_next()? {
                    break;
                }
            }
        }
        if role.is_none() {
            self.defer(BodyError::missing(format!("messages[{idx}].role"), start));
        }
        Ok(Some((role == Some(true), content)))
    }

    fn content(&mut self, idx: usize) -> Result<Content> {
        let mut c = Content::default();
        match self.s.kind()? {
            Kind::String => c.text = self.text_value()?,
            Kind::Null => self.s.literal()?,
            Kind::Array => {
                if self.s.array_begin()? {
                    let mut j = 0;
                    loop {
                        self.part(idx, j, &mut c)?;
                        j += 1;
                        if !self.s.array_next()? {
                            break;
                        }
                    }
                }
            }
            _ => {
                let param = || format!("messages[{idx}].content");
                self.wrong_type(param, "one of a string or array of objects")?
            }
        }
        Ok(c)
    }

    /// One content part: text parts add their text, image parts set `images`.
    fn part(&mut self, idx: usize, j: usize, c: &mut Content) -> Result<()> {
        if self.s.kind()? != Kind::Object {
            return self.wrong_type(|| format!("messages[{idx}].content[{j}]"), "an object");
        }
        #[derive(PartialEq)]
        enum PartType {
            Text,
            Image,
            Other,
        }
        let (mut ty, mut body) = (PartType::Other, None);
        if self.s.object_begin()? {
            loop {
                let key = self.s.key()?;
                match text(self.s.b, key, &mut self.keys) {
                    b"type" if self.s.kind()? == Kind::String => {
                        let sp = self.s.string()?;
                        ty = match text(self.s.b, sp, &mut self.keys) {
                            b"text" => PartType::Text,
                            b"image_url" | b"input_image" => PartType::Image,
                            _ => PartType::Other,
                        };
                    }
                    b"type" => {
                        ty = PartType::Other;
                        self.s.skip_value()?;
                    }
                    // Measured now, counted below only if the part turns out to be a text part.
                    b"text" if self.s.kind()? == Kind::String => body = Some(self.text_value()?),
                    b"text" => {
                        body = None;
                        self.s.skip_value()?;
                    }
                    _ => self.s.skip_value()?,
                }
                if !self.s.object_next()? {
                    break;
                }
            }
        }
        match (ty, body) {
            (PartType::Text, Some(t)) => c.text.add(t),
            (PartType::Image, _) => c.images = true,
            _ => {}
        }
        Ok(())
    }

    /// Consume the string at the cursor and measure its text: length, fences and markers.
    fn text_value(&mut self) -> Result<TextStats> {
        self.texts.clear();
        self.s.string_decoded(&mut self.texts)?;
        Ok(measure_text(&mut self.texts))
    }
}

/// Measure decoded text in place (it is lowercased for the keyword search).
fn measure_text(buf: &mut [u8]) -> TextStats {
    let len = buf.len() - continuation_bytes(buf);
    buf.make_ascii_lowercase();
    let (fences, markers) = fences_and_markers(buf);
    TextStats {
        len,
        fences,
        markers,
    }
}

/// UTF-8 continuation bytes (`10xxxxxx`), counted in u8 lanes per 128-byte chunk so the loop
/// vectorizes (a plain `filter().count()` widened every byte to 64 bits: 4x slower).
fn continuation_bytes(b: &[u8]) -> usize {
    b.chunks(128)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u8, |n, &c| n + u8::from((c as i8) < -0x40)) as usize
        })
        .sum()
}

/// One SIMD multi-literal search (Teddy, from aho-corasick's `packed` module) finds the keywords and
/// the fence together, leftmost-first and non-overlapping; a fence can never overlap a keyword, so the
/// two counts are what separate searches would give.
fn searcher() -> &'static Searcher {
    static S: OnceLock<Searcher> = OnceLock::new();
    S.get_or_init(|| {
        let mut b = Config::new().match_kind(MatchKind::LeftmostFirst).builder();
        b.extend(MARKERS.iter().chain(&[FENCE]));
        b.build()
            .expect("a handful of short literals always builds a packed searcher")
    })
}

const FENCE: &str = "```";

/// (fences, keyword matches) in lowercase text.
fn fences_and_markers(lower: &[u8]) -> (usize, usize) {
    let mut fences = 0;
    let mut markers = 0;
    for m in searcher().find_iter(lower) {
        if m.pattern().as_usize() == MARKERS.len() {
            fences += 1;
        } else {
            markers += 1;
        }
    }
    (fences, markers)
}

/// Leftmost-first, non-overlapping matches of the alternation of `MARKERS` in lowercase text.
pub fn count_markers(lower: &[u8]) -> usize {
    fences_and_markers(lower).1
}
