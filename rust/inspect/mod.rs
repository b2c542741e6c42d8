//! `inspect`: read a chat-completions request body without building Python objects for it, and rewrite
//! its `model` in place. Pure-Rust cores (`scan` the tokenizer, `request` the inspection walk, `rewrite`
//! the byte edit) under a thin pyo3 skin (this file). The contract is the `inspect` section of
//! `python/switchyard/_core.pyi`; the Python reference is `tests/core/inspect_reference.py`.
//!
//! A hand scanner, not serde_json, by measurement: any serde approach costs at least serde_json's own
//! validate-only pass (`IgnoredAny`), which took 0.12 / 4.2-4.6 / 19.6-20.3 us on the 216 B / 10 KB /
//! 50 KB bodies of `benches/micro_inspect.py`, against 0.15 / 3.0 / 13.6 us for this scanner's whole
//! rewrite scan (Rust, this machine, same session). And serde gives no byte offsets, no value spans to
//! edit, and skips UTF-8 checks inside values it ignores (the mutation test in `tests.rs` caught it).

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

pub mod error;
pub mod request;
pub mod rewrite;
pub mod scan;
#[cfg(test)]
mod tests;

pub use error::{BodyError, ErrorKind};
pub use request::{inspect, Inspection, MARKERS};
pub use rewrite::rewrite;

create_exception!(
    switchyard._core,
    InspectError,
    PyValueError,
    "A request body the gateway cannot accept; `kind`, `param` and `offset` say why and where."
);

/// Above this size the scan runs with the GIL released (`py.detach`); below it the hand-off costs more
/// than it frees (a 64 KB body scans in tens of microseconds).
const DETACH_AT: usize = 64 * 1024;

/// What `inspect_request` found in a request body.
#[pyclass(frozen, module = "switchyard._core")]
pub struct Inspected {
    #[pyo3(get)]
    model: Option<Py<PyString>>,
    #[pyo3(get)]
    stream: bool,
    #[pyo3(get)]
    include_usage: bool,
    #[pyo3(get)]
    max_tokens: Option<i64>,
    #[pyo3(get)]
    n: Option<i64>,
    #[pyo3(get)]
    messages: Option<usize>,
    #[pyo3(get)]
    text_len: usize,
    #[pyo3(get)]
    has_tools: bool,
    #[pyo3(get)]
    has_images: bool,
    #[pyo3(get)]
    has_response_format: bool,
    #[pyo3(get)]
    code_blocks: usize,
    #[pyo3(get)]
    reasoning_markers: usize,
    #[pyo3(get)]
    last_user_len: usize,
    #[pyo3(get)]
    user: Option<Py<PyString>>,
}

#[pymethods]
impl Inspected {
    fn __repr__(&self, py: Python<'_>) -> String {
        let model = match &self.model {
            Some(m) => m
                .bind(py)
                .repr()
                .map_or_else(|_| "?".into(), |r| r.to_string()),
            None => "None".into(),
        };
        let opt = |v: Option<i64>| v.map_or_else(|| "None".into(), |v| v.to_string());
        let py_bool = |b: bool| if b { "True" } else { "False" };
        format!(
            "Inspected(model={model}, stream={}, include_usage={}, max_tokens={}, n={}, messages={}, \
             text_len={}, has_tools={}, has_images={}, has_response_format={}, code_blocks={}, \
             reasoning_markers={}, last_user_len={})",
            py_bool(self.stream),
            py_bool(self.include_usage),
            opt(self.max_tokens),
            opt(self.n),
            self.messages.map_or_else(|| "None".into(), |v| v.to_string()),
            self.text_len,
            py_bool(self.has_tools),
            py_bool(self.has_images),
            py_bool(self.has_response_format),
            self.code_blocks,
            self.reasoning_markers,
            self.last_user_len,
        )
    }
}

fn to_py_err(py: Python<'_>, e: BodyError) -> PyErr {
    let err = InspectError::new_err(e.message);
    let value = err.value(py);
    let set = || -> PyResult<()> {
        value.setattr("kind", e.kind.as_str())?;
        value.setattr("param", e.param)?;
        value.setattr("offset", e.offset)
    };
    match set() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// Scan a JSON chat-completions request body; see the stub for the fields and their semantics.
#[pyfunction]
#[pyo3(signature = (body, /))]
fn inspect_request(py: Python<'_>, body: &[u8]) -> PyResult<Inspected> {
    let found = if body.len() > DETACH_AT {
        py.detach(|| inspect(body))
    } else {
        inspect(body)
    };
    let i = found.map_err(|e| to_py_err(py, e))?;
    Ok(Inspected {
        model: i.model.map(|m| PyString::new(py, &m).unbind()),
        stream: i.stream,
        include_usage: i.include_usage,
        max_tokens: i.max_tokens,
        n: i.n,
        messages: i.messages,
        text_len: i.text_len,
        has_tools: i.has_tools,
        has_images: i.has_images,
        has_response_format: i.has_response_format,
        code_blocks: i.code_blocks,
        reasoning_markers: i.reasoning_markers,
        last_user_len: i.last_user_len,
        user: i.user.map(|u| PyString::new(py, &u).unbind()),
    })
}

/// The body with its top-level `model` replaced (and optionally `include_usage` forced on), every other
/// byte untouched; see the stub and `rewrite.rs` for the exact edits.
#[pyfunction]
#[pyo3(signature = (body, model, /, *, include_usage = false))]
fn rewrite_model<'py>(
    py: Python<'py>,
    body: &[u8],
    model: &str,
    include_usage: bool,
) -> PyResult<Bound<'py, PyBytes>> {
    let planned = if body.len() > DETACH_AT {
        py.detach(|| rewrite::plan(body, include_usage))
    } else {
        rewrite::plan(body, include_usage)
    };
    let plan = planned.map_err(|e| to_py_err(py, e))?;
    let model_json = rewrite::json_string(model);
    let len = plan.output_len(body.len(), &model_json);
    PyBytes::new_with(py, len, |out| {
        plan.write(body, &model_json, out);
        Ok(())
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("InspectError", m.py().get_type::<InspectError>())?;
    m.add_class::<Inspected>()?;
    m.add_function(wrap_pyfunction!(inspect_request, m)?)?;
    m.add_function(wrap_pyfunction!(rewrite_model, m)?)?;
    m.add("REASONING_MARKERS", PyTuple::new(m.py(), MARKERS)?)?;
    Ok(())
}
