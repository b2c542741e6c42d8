//! `tokens`: exact token counts for OpenAI's o200k_base and cl100k_base encodings (vocabularies inside
//! the build), the model → encoding table, chat-request counting with the overheads OpenAI bills, and
//! documented estimates for other families. Pure-Rust cores (`encoding`, `chat`, `image`, `estimate`)
//! under a thin pyo3 skin (this file). The contract is the `tokens` section of
//! `python/switchyard/_core.pyi`; the Python reference is `tests/core/tokens_reference.py`.
//!
//! The BPE is the `tiktoken` crate (4.1), chosen by measurement over `tiktoken-rs` (0.12) and GitHub's
//! `bpe-openai` (0.3): per call on mixed prose/code/multilingual text, o200k_base, one core, each call
//! a different text (so caches see realistic reuse):
//!
//! | text  | tiktoken 4.1 | bpe-openai 0.3 | tiktoken-rs 0.12 | Python tiktoken 0.14 |
//! |-------|--------------|----------------|------------------|----------------------|
//! | 1 KB  | 4.4 µs       | 19 µs          | 35 µs            | 50 µs                |
//! | 50 KB | 0.40 ms      | 1.23 ms        | 1.95 ms          | 2.3–4.3 ms           |
//! | 1 MB  | 8.0 ms       | 24.8 ms        | 41.6 ms          | 46.7 ms              |
//!
//! (cl100k_base alike.) All three gave the same counts as Python tiktoken on that corpus; the property
//! tests in `tests/core/test_tokens.py` hold ours to Python tiktoken on generated text.
//!
//! One catch, found by those tests: the `tiktoken` crate is quadratic where its regex fallback runs
//! (non-ASCII whitespace before a non-space: 96 KB of "\u{a0}." took 1.16 s, against 9.1 ms for
//! tiktoken-rs and 2.8 ms for bpe-openai). `encoding.rs` therefore counts in ~256-byte chunks cut where
//! the split patterns always end a piece, which is exact and linear (600 KB of it: 34 ms; Python
//! tiktoken 137 ms) and costs nothing measurable on ordinary text.
//! No pyo3 type leaves this file; the cores take `&str`/`&[u8]` and return integers.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

pub mod chat;
pub mod encoding;
pub mod estimate;
pub mod image;
#[cfg(test)]
mod tests;

pub use chat::{count_chat as count_chat_body, ChatError};
pub use encoding::{base_model, Encoding};
pub use estimate::Family;

/// Above this many bytes a count runs with the GIL released (`py.detach`); below it the hand-off costs
/// more than it frees (16 KB of text counts in ~0.1 ms).
const DETACH_AT: usize = 16 * 1024;

/// Run `f` with the GIL released if the input is long or `enc`'s vocabulary is not decoded yet (the
/// first use of each encoding decodes it, 47-84 ms: other threads should not wait for that).
fn run<T: Send>(py: Python<'_>, len: usize, enc: Encoding, f: impl FnOnce() -> T + Send) -> T {
    if len > DETACH_AT || !enc.is_loaded() {
        py.detach(f)
    } else {
        f()
    }
}

fn encoding_named(name: &str) -> PyResult<Encoding> {
    Encoding::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown encoding {name:?}: expected \"o200k_base\" or \"cl100k_base\""
        ))
    })
}

/// The counts for `model`: exact for OpenAI models, estimated for the families in `estimate.rs`,
/// o200k_base for anything else.
pub fn count_for_model(text: &str, model: &str) -> u64 {
    let name = base_model(model).to_ascii_lowercase();
    match Encoding::for_model(&name) {
        Some(enc) => enc.count(text) as u64,
        None => {
            let n = Encoding::O200kBase.count(text) as u64;
            Family::of(&name).map_or(n, |f| f.scale(n))
        }
    }
}

/// Tokens of `text` in `encoding`; see the stub.
#[pyfunction]
#[pyo3(signature = (text, /, encoding = "o200k_base"))]
fn count_tokens(py: Python<'_>, text: &Bound<'_, PyString>, encoding: &str) -> PyResult<usize> {
    let enc = encoding_named(encoding)?;
    // A str with lone surrogates has no UTF-8 form; Python tiktoken replaces them with U+FFFD too.
    let text = text.to_string_lossy();
    Ok(run(py, text.len(), enc, || enc.count(&text)))
}

/// The encoding of an OpenAI model; see the stub.
#[pyfunction]
#[pyo3(signature = (model, /))]
fn encoding_for_model(model: &str) -> Option<&'static str> {
    Encoding::for_model(model).map(Encoding::name)
}

/// Exact or estimated tokens of `text` for `model`; see the stub.
#[pyfunction]
#[pyo3(signature = (text, /, model))]
fn count_tokens_for_model(py: Python<'_>, text: &Bound<'_, PyString>, model: &str) -> u64 {
    let text = text.to_string_lossy();
    let enc = Encoding::for_model(model).unwrap_or(Encoding::O200kBase);
    run(py, text.len(), enc, || count_for_model(&text, model))
}

/// Prompt tokens of a chat-completions request body; see the stub.
#[pyfunction]
#[pyo3(signature = (body, /, model = None))]
fn count_chat(py: Python<'_>, body: &[u8], model: Option<&str>) -> PyResult<u64> {
    // The body's own `model` is not known before the parse; a model that needs cl100k_base and comes
    // first holds the GIL while it decodes once (`preload_encodings` avoids that).
    let enc = chat::Counter::for_model(model).encoding;
    run(py, body.len(), enc, || chat::count_chat(body, model))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Decode both vocabularies now; see the stub.
#[pyfunction]
fn preload_encodings(py: Python<'_>) {
    py.detach(|| {
        Encoding::O200kBase.load();
        Encoding::Cl100kBase.load();
    });
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(count_tokens, m)?)?;
    m.add_function(wrap_pyfunction!(encoding_for_model, m)?)?;
    m.add_function(wrap_pyfunction!(count_tokens_for_model, m)?)?;
    m.add_function(wrap_pyfunction!(count_chat, m)?)?;
    m.add_function(wrap_pyfunction!(preload_encodings, m)?)?;
    Ok(())
}
