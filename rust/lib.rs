//! `switchyard._core`: the latency-critical pieces of the gateway. This file only registers; each
//! concern is a pure-Rust core with a thin pyo3 skin in its own module.
use pyo3::prelude::*;

pub mod http;
pub mod inspect;
pub mod limits;
pub mod sse;
pub mod tokens;

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    sse::register(m)?;
    inspect::register(m)?;
    tokens::register(m)?;
    limits::register(m)?;
    http::register(m)?;
    Ok(())
}
