//! `http`: the upstream HTTP client. A pure-Rust core (`client`: reqwest on the extension's own tokio
//! runtime, `runtime`), the asyncio bridge (`bridge`: results to the awaiting task, cancellation to the
//! tokio task) and a thin pyo3 skin (`py`). The contract is the `http` section of
//! `python/switchyard/_core.pyi`; `python/switchyard/upstream.py` is its one user.
//!
//! Why our own: pyreqwest 0.15 answers a cancelled await with `CancelledError` but leaves its tokio
//! task running, so an upstream still computing a non-streamed answer was never told the caller left.
//! Here every await is a `bridge::Pending` whose cancellation aborts the task and drops its connection.
use pyo3::prelude::*;

mod bridge;
pub mod client;
mod py;
pub mod runtime;
#[cfg(test)]
mod tests;

pub use client::{Client, Config, Error, ErrorKind, Head};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    py::register(m)
}
