//! The two OpenAI encodings this module counts with, and the model → encoding table.
//!
//! Counting is the `tiktoken` crate's (pure Rust, vocabularies embedded and decoded on first use of each
//! encoding, ~45 ms). It counts special-token text such as `<|endoftext|>` as ordinary text, which is
//! `tiktoken.Encoding.encode_ordinary` in Python, and how a chat API reads a caller's text.

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

    /// Whether the vocabulary is decoded (the first use of each encoding decodes it, ~45 ms).
    pub fn is_loaded(self) -> bool {
        self.slot().get().is_some()
    }

    /// The number of tokens of `text`, special-token text counted as ordinary text.
    pub fn count(self, text: &str) -> usize {
        if text.is_empty() {
            return 0;
        }
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
