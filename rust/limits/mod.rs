//! `limits`: in-process rate and concurrency limits, cheap enough to check on every request.
//! Pure-Rust cores, `gcra` (GCRA buckets, exact integer arithmetic, time passed in) and `slots`
//! (in-flight permits), under a thin pyo3 skin (`py`). The contract is the `limits` section of
//! `python/switchyard/_core.pyi`; the Python reference is `tests/core/limits_reference.py`.
use pyo3::prelude::*;

pub mod gcra;
mod py;
pub mod slots;
#[cfg(test)]
mod tests;

pub use gcra::{Check, Limit, Limiter, State, Verdict};
pub use slots::{Permit, Slots};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
