//! The two OpenAI encodings this module counts with, and the model → encoding table.
//!
//! Counting is the `tiktoken` crate's (pure Rust, vocabularies embedded and decoded on first use of
//! each encoding: 84 ms for o200k_base, 47 ms for cl100k_base, +30 MB resident for both), in chunks
//! (see [`chunks`]). Special-token text such as `<|endoftext|>` counts as ordinary text, as
//! `tiktoken.Encoding.encode_ordinary` counts it in Python and as a chat API reads a caller's text.

use std::sync::OnceLock;

use tiktoken::CoreBpe;

static O200K_BASE: OnceLock<&'static CoreBpe> = OnceLock::new();
static CL100K_BASE: OnceLock<&'static CoreBpe> = OnceLock::new();

/// An encoding whose vocabulary is in the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o-series.
    O200kBase,
    /// GPT-4, GPT-3.5 Turbo, the embeddings models.
    Cl100kBase,
}

impl Encoding {
    /// The encoding named `name` (tiktoken's names), or None.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "o200k_base" => Some(Self::O200kBase),
            "cl100k_base" => Some(Self::Cl100kBase),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::O200kBase => "o200k_base",
            Self::Cl100kBase => "cl100k_base",
        }
    }

    fn slot(self) -> &'static OnceLock<&'static CoreBpe> {
        match self {
            Self::O200kBase => &O200K_BASE,
            Self::Cl100kBase => &CL100K_BASE,
        }
    }

    fn bpe(self) -> &'static CoreBpe {
        // Both names are compiled in (Cargo.toml features), so `get_encoding` cannot return None.
        self.slot()
            .get_or_init(|| tiktoken::get_encoding(self.name()).expect("vocabulary compiled in"))
    }

    /// Whether the vocabulary is decoded (the first use of each encoding decodes it: 47-84 ms).
    pub fn is_loaded(self) -> bool {
        self.slot().get().is_some()
    }

    /// The number of tokens of `text`, special-token text counted as ordinary text.
    ///
    /// Counted a chunk at a time (see [`chunks`]): the `tiktoken` crate's split is quadratic in the text
    /// after the cursor wherever its regex fallback runs (non-ASCII whitespace before a non-space, as
    /// in French text with no-break spaces: 16 KB of "\u{a0}." took 100 ms, 1 MB would take minutes),
    /// and short chunks bound that to a constant per chunk.
    pub fn count(self, text: &str) -> usize {
        let bpe = self.bpe();
        chunks(text, CHUNK).map(|c| bpe.count(c)).sum()
    }

    /// The count of `text` in one piece, as the `tiktoken` crate gives it (the tests' oracle for
    /// [`chunks`]).
    pub fn count_whole(self, text: &str) -> usize {
        self.bpe().count(text)
    }

    /// Decode the vocabulary now rather than on the first count.
    pub fn load(self) {
        self.bpe();
    }

    /// The encoding of an OpenAI model, or None; see [`for_model`].
    pub fn for_model(model: &str) -> Option<Self> {
        for_model(model)
    }
}

/// Exact model names (after [`base_model`]), as tiktoken's `MODEL_TO_ENCODING` has them for the two
/// encodings we embed, plus `gpt-4.5`.
const EXACT: &[(&str, Encoding)] = &[
    ("o1", Encoding::O200kBase),
    ("o3", Encoding::O200kBase),
    ("o4-mini", Encoding::O200kBase),
    ("gpt-5", Encoding::O200kBase),
    ("gpt-4.5", Encoding::O200kBase),
    ("gpt-4.1", Encoding::O200kBase),
    ("gpt-4o", Encoding::O200kBase),
    ("gpt-4", Encoding::Cl100kBase),
    ("gpt-3.5-turbo", Encoding::Cl100kBase),
    ("gpt-3.5", Encoding::Cl100kBase),
    ("gpt-35-turbo", Encoding::Cl100kBase),
    ("davinci-002", Encoding::Cl100kBase),
    ("babbage-002", Encoding::Cl100kBase),
    ("text-embedding-ada-002", Encoding::Cl100kBase),
    ("text-embedding-3-small", Encoding::Cl100kBase),
    ("text-embedding-3-large", Encoding::Cl100kBase),
];

/// Prefixes, first match wins: tiktoken's `MODEL_PREFIX_TO_ENCODING` (0.14) for the encodings we
/// embed, widened to `o1`..`o4` series and `text-embedding-3-`; `gpt-oss-` is `o200k_harmony` there,
/// which has o200k_base's ranks and pattern and differs only in special tokens, so its counts of
/// ordinary text are o200k_base's.
const PREFIX: &[(&str, Encoding)] = &[
    ("o1-", Encoding::O200kBase),
    ("o3-", Encoding::O200kBase),
    ("o4-", Encoding::O200kBase),
    ("gpt-5", Encoding::O200kBase),
    ("gpt-4.5-", Encoding::O200kBase),
    ("gpt-4.1-", Encoding::O200kBase),
    ("chatgpt-4o-", Encoding::O200kBase),
    ("gpt-4o-", Encoding::O200kBase),
    ("gpt-oss-", Encoding::O200kBase),
    ("gpt-4-", Encoding::Cl100kBase),
    ("gpt-3.5-turbo-", Encoding::Cl100kBase),
    ("gpt-35-turbo-", Encoding::Cl100kBase),
    ("text-embedding-3-", Encoding::Cl100kBase),
    ("ft:gpt-4o", Encoding::O200kBase),
    ("ft:gpt-4.1", Encoding::O200kBase),
    ("ft:gpt-4", Encoding::Cl100kBase),
    ("ft:gpt-3.5-turbo", Encoding::Cl100kBase),
    ("ft:davinci-002", Encoding::Cl100kBase),
    ("ft:babbage-002", Encoding::Cl100kBase),
];

/// The model name without a routing prefix: everything up to the last `/` goes (`openai/gpt-4o`,
/// `azure/gpt-4o`, `openrouter/openai/gpt-4o` → `gpt-4o`).
pub fn base_model(model: &str) -> &str {
    model.rsplit('/').next().unwrap_or(model)
}

/// The encoding of an OpenAI model we route, matched ASCII-case-insensitively after
/// [`base_model`]: an exact name first, then the first prefix that matches; None if unknown.
pub fn for_model(model: &str) -> Option<Encoding> {
    let name = base_model(model).to_ascii_lowercase();
    if let Some(&(_, enc)) = EXACT.iter().find(|(m, _)| *m == name) {
        return Some(enc);
    }
    PREFIX
        .iter()
        .find(|(p, _)| name.starts_with(p))
        .map(|&(_, enc)| enc)
}

/// The length a chunk grows to before it is cut at the next safe boundary.
const CHUNK: usize = 256;

/// `text` cut into pieces of about `min` bytes or more, each cut at a position where both encodings'
/// split patterns always end a piece, whatever follows, and where nothing before depends on what
/// follows; so counting the chunks one by one gives the count of the whole. A cut goes before:
///
/// 1. whitespace other than CR/LF that follows a non-whitespace character: a letter, number,
///    contraction or punctuation piece never runs on into such whitespace (a punctuation run's tail
///    takes only CR, LF and, in o200k_base, '/'); the whitespace run before that character ended
///    before it, so its lookahead (`\s+(?!\S)`) saw only text before the cut;
/// 2. a non-whitespace character other than '/' that follows CR or LF: whitespace pieces that end in a
///    newline (`\s*[\r\n]+`, `\s*[\r\n]`, `\s++$`) and punctuation tails stop there, and a letter
///    piece's optional leading character is never CR/LF;
/// 3. whitespace that follows CR or LF when the whitespace run from there has no CR/LF and ends at a
///    non-whitespace character: the newline piece ends at its last newline either way.
///
/// `char::is_whitespace` is Unicode White_Space, which is the patterns' `\s`. The property tests in
/// `tests/core/test_tokens.py` hold the chunked counts to Python tiktoken's whole-text counts.
pub fn chunks(text: &str, min: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let cut = next_cut(rest, min).unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(cut);
        rest = tail;
        Some(chunk)
    })
}

fn is_newline(c: char) -> bool {
    c == '\r' || c == '\n'
}

/// The first safe cut at or after byte `min` of `text` (never 0), or None.
fn next_cut(text: &str, min: usize) -> Option<usize> {
    if text.len() <= min {
        return None;
    }
    // Start at the character boundary at or before `min`; the character there is `prev`.
    let mut start = min;
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut iter = text[start..].char_indices().map(|(i, c)| (start + i, c));
    let (_, mut prev) = iter.next()?;
    for (i, c) in iter {
        let cut = if is_newline(prev) {
            if c.is_whitespace() {
                !is_newline(c) && run_ends_without_newline(&text[i..])
            } else {
                c != '/'
            }
        } else {
            !prev.is_whitespace() && c.is_whitespace() && !is_newline(c)
        };
        if cut {
            return Some(i);
        }
        prev = c;
    }
    None
}

/// Whether the whitespace run at the start of `s` contains no CR/LF and is followed by a character.
fn run_ends_without_newline(s: &str) -> bool {
    for c in s.chars() {
        if is_newline(c) {
            return false;
        }
        if !c.is_whitespace() {
            return true;
        }
    }
    false
}
