//! `switchyard._core`: the latency-critical pieces of the gateway. This file only registers; each
//! concern is a pure-Rust core with a thin pyo3 skin in its own module.
use pyo3::prelude::*;

pub mod inspect;
pub mod sse;

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    sse::register(m)?;
    inspect::register(m)?;
    Ok(())
}
