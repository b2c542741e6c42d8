//! The thin pyo3 skin over `gcra` and `slots`: `Limit`, `Limiter`, `Decision`, `LimitState`,
//! `Concurrency`, `Permit`.
//!
//! Every class is `frozen` with a `Mutex` inside where it has state, not `unsendable`: the module is
//! declared `gil_used = false`, a `Permit` may be finalized on whatever thread drops the last
//! reference, and an uncontended lock + unlock costs ~13 ns here (std `Mutex`, measured in a loop), about
//! 4% of a one-limit `admit` from Python (0.31 µs). `frozen` also spares pyo3's per-call borrow flag.
use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyList, PyString, PyTuple};

use super::gcra::{self, Check, State, Verdict, MAX_COST};
use super::slots::{Permit, Slots};

/// Seconds (a float, as `time.monotonic()` gives) to integer ns: `int(secs * 1e9)`, the product
/// truncated toward zero exactly as Python's `int()` does, so the reference sees the same ns.
fn nanos(secs: f64) -> PyResult<i64> {
    let x = secs * 1e9;
    if (0.0..9_223_372_036_854_775_808.0).contains(&x) {
        Ok(x as i64)
    } else {
        Err(PyValueError::new_err(format!(
            "now must be a time in seconds in [0, 2**63 ns), got {secs}"
        )))
    }
}

fn units(value: i64, what: &str, lo: i64) -> PyResult<u64> {
    if value < lo || value > MAX_COST as i64 {
        return Err(PyValueError::new_err(format!(
            "{what} must be in {lo}..=2**53, got {value}"
        )));
    }
    Ok(value.unsigned_abs())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A rate limit: `rate` units per `period_s`, at most `burst` at once (default `rate`).
#[pyclass(module = "switchyard._core", name = "Limit", frozen, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub struct PyLimit(Arc<gcra::Limit>);

#[pymethods]
impl PyLimit {
    #[new]
    #[pyo3(signature = (name, rate, period_s = 60.0, burst = None))]
    fn new(name: &str, rate: i64, period_s: f64, burst: Option<i64>) -> PyResult<Self> {
        let ns = period_s * 1e9;
        if !(1.0..=gcra::MAX_PERIOD_NS as f64).contains(&ns) {
            return Err(PyValueError::new_err(format!(
                "period_s must be in [1e-9, 1e7], got {period_s}"
            )));
        }
        let burst = burst.unwrap_or(rate);
        let positive = |v: i64| u64::try_from(v).unwrap_or(0);
        gcra::Limit::new(name, positive(rate), ns as u64, positive(burst))
            .map(|l| PyLimit(Arc::new(l)))
            .map_err(PyValueError::new_err)
    }

    #[getter]
    fn name(&self) -> &str {
        self.0.name()
    }

    #[getter]
    fn rate(&self) -> u64 {
        self.0.rate()
    }

    #[getter]
    fn period_s(&self) -> f64 {
        self.0.period_ns() as f64 / 1e9
    }

    #[getter]
    fn burst(&self) -> u64 {
        self.0.burst()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Limit({}, rate={}, period_s={}, burst={})",
            PyString::new(py, self.0.name()).repr()?,
            self.0.rate(),
            PyFloat::new(py, self.period_s()).repr()?,
            self.0.burst()
        ))
    }
}

/// One limit's state for one key, as of a call.
#[pyclass(module = "switchyard._core", name = "LimitState", frozen)]
pub struct LimitState {
    key: Py<PyString>,
    limit: Py<PyLimit>,
    state: State,
}

impl LimitState {
    fn clone_ref(&self, py: Python<'_>) -> Self {
        LimitState {
            key: self.key.clone_ref(py),
            limit: self.limit.clone_ref(py),
            state: self.state,
        }
    }
}

#[pymethods]
impl LimitState {
    #[getter]
    fn key(&self, py: Python<'_>) -> Py<PyString> {
        self.key.clone_ref(py)
    }

    #[getter]
    fn limit(&self, py: Python<'_>) -> Py<PyLimit> {
        self.limit.clone_ref(py)
    }

    #[getter]
    fn remaining(&self) -> u64 {
        self.state.remaining
    }

    #[getter]
    fn reset_s(&self) -> f64 {
        self.state.reset_ns as f64 / 1e9
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "LimitState(key={}, limit={}, remaining={}, reset_s={})",
            self.key.bind(py).repr()?,
            self.limit.bind(py).repr()?,
            self.state.remaining,
            PyFloat::new(py, self.reset_s()).repr()?
        ))
    }
}

/// The answer of `Limiter.admit`.
#[pyclass(module = "switchyard._core", name = "Decision", frozen)]
pub struct Decision {
    verdict: Verdict,
    states: Vec<LimitState>,
}

#[pymethods]
impl Decision {
    #[getter]
    fn allowed(&self) -> bool {
        self.verdict == Verdict::Allowed
    }

    fn __bool__(&self) -> bool {
        self.allowed()
    }

    #[getter]
    fn retry_after_s(&self) -> Option<f64> {
        match self.verdict {
            Verdict::Allowed => Some(0.0),
            Verdict::Denied { retry_after_ns, .. } => retry_after_ns.map(|ns| ns as f64 / 1e9),
        }
    }

    #[getter]
    fn denied_by(&self, py: Python<'_>) -> Option<LimitState> {
        match self.verdict {
            Verdict::Allowed => None,
            Verdict::Denied { by, .. } => Some(self.states[by].clone_ref(py)),
        }
    }

    #[getter]
    fn states(&self, py: Python<'_>) -> Vec<LimitState> {
        self.states.iter().map(|s| s.clone_ref(py)).collect()
    }

    /// The most constraining state among the checks whose limit is named `name`: least remaining,
    /// then longest reset, then first.
    #[pyo3(signature = (name, /))]
    fn tightest(&self, py: Python<'_>, name: &str) -> Option<LimitState> {
        let mut best: Option<&LimitState> = None;
        for s in &self.states {
            if s.limit.get().0.name() != name {
                continue;
            }
            let tighter = best.is_none_or(|b| {
                (s.state.remaining, std::cmp::Reverse(s.state.reset_ns))
                    < (b.state.remaining, std::cmp::Reverse(b.state.reset_ns))
            });
            if tighter {
                best = Some(s);
            }
        }
        best.map(|s| s.clone_ref(py))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let by = match self.denied_by(py) {
            Some(s) => s.__repr__(py)?,
            None => "None".into(),
        };
        Ok(format!(
            "Decision(allowed={}, retry_after_s={}, denied_by={by}, checks={})",
            if self.allowed() { "True" } else { "False" },
            match self.retry_after_s() {
                Some(s) => PyFloat::new(py, s).repr()?.to_string(),
                None => "None".into(),
            },
            self.states.len()
        ))
    }
}

struct Item<'py> {
    key: Bound<'py, PyString>,
    limit: Bound<'py, PyLimit>,
    cost: u64,
}

fn item<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Item<'py>> {
    let shape =
        || PyTypeError::new_err("each check must be a (key: str, limit: Limit, cost: int) tuple");
    let t = obj.cast::<PyTuple>().map_err(|_| shape())?;
    if t.len() != 3 {
        return Err(shape());
    }
    let key = t
        .get_item(0)?
        .cast_into::<PyString>()
        .map_err(|_| shape())?;
    key.to_str()?; // a lone surrogate fails here, before anything is consumed
    let limit = t.get_item(1)?.cast_into::<PyLimit>().map_err(|_| shape())?;
    let cost = units(t.get_item(2)?.extract::<i64>()?, "cost", 0)?;
    Ok(Item { key, limit, cost })
}

/// GCRA rate limiter over any number of (key, Limit) buckets; see the stub for the semantics.
#[pyclass(module = "switchyard._core", name = "Limiter", frozen)]
pub struct PyLimiter(Mutex<gcra::Limiter>);

#[pymethods]
impl PyLimiter {
    #[new]
    #[pyo3(signature = (max_buckets = 100_000))]
    fn new(max_buckets: usize) -> PyResult<Self> {
        if max_buckets == 0 {
            return Err(PyValueError::new_err("max_buckets must be at least 1"));
        }
        Ok(PyLimiter(Mutex::new(gcra::Limiter::new(max_buckets))))
    }

    #[pyo3(signature = (checks, now, /))]
    fn admit(&self, checks: &Bound<'_, PyAny>, now: f64) -> PyResult<Decision> {
        let now = nanos(now)?;
        let items = match checks.cast::<PyList>() {
            Ok(list) => list
                .iter()
                .map(|o| item(&o))
                .collect::<PyResult<Vec<_>>>()?,
            Err(_) => checks
                .try_iter()?
                .map(|o| item(&o?))
                .collect::<PyResult<Vec<_>>>()?,
        };
        let refs: Vec<Check<'_>> = items
            .iter()
            .map(|it| Check {
                key: it.key.to_str().unwrap_or(""),
                limit: &it.limit.get().0,
                cost: it.cost,
            })
            .collect();
        let mut states = Vec::with_capacity(items.len());
        let verdict = lock(&self.0).admit(&refs, now, &mut states);
        drop(refs);
        let states = items
            .into_iter()
            .zip(states)
            .map(|(it, state)| LimitState {
                key: it.key.unbind(),
                limit: it.limit.unbind(),
                state,
            })
            .collect();
        Ok(Decision { verdict, states })
    }

    #[pyo3(signature = (key, limit, delta, now, /))]
    fn settle(&self, key: &str, limit: &Bound<'_, PyLimit>, delta: i64, now: f64) -> PyResult<()> {
        if delta.unsigned_abs() > MAX_COST {
            return Err(PyValueError::new_err(format!(
                "delta must be in -2**53..=2**53, got {delta}"
            )));
        }
        let now = nanos(now)?;
        lock(&self.0).settle(key, &limit.get().0, delta, now);
        Ok(())
    }

    #[pyo3(signature = (key, limit, now, /))]
    fn peek(
        &self,
        key: Bound<'_, PyString>,
        limit: Bound<'_, PyLimit>,
        now: f64,
    ) -> PyResult<LimitState> {
        let now = nanos(now)?;
        let state = lock(&self.0).peek(key.to_str()?, &limit.get().0, now);
        Ok(LimitState {
            key: key.unbind(),
            limit: limit.unbind(),
            state,
        })
    }

    #[getter]
    fn max_buckets(&self) -> usize {
        lock(&self.0).max_buckets()
    }

    fn __len__(&self) -> usize {
        lock(&self.0).len()
    }
}

/// In-flight slots per key.
#[pyclass(module = "switchyard._core", name = "Concurrency", frozen)]
pub struct PyConcurrency(Arc<Slots>);

#[pymethods]
impl PyConcurrency {
    #[new]
    fn new() -> Self {
        PyConcurrency(Slots::new())
    }

    #[pyo3(signature = (key, max_in_flight, /))]
    fn try_acquire(
        &self,
        key: Bound<'_, PyString>,
        max_in_flight: i64,
    ) -> PyResult<Option<PyPermit>> {
        if max_in_flight < 0 {
            return Err(PyValueError::new_err(format!(
                "max_in_flight must be at least 0, got {max_in_flight}"
            )));
        }
        let permit = self
            .0
            .try_acquire(key.to_str()?, max_in_flight.unsigned_abs());
        Ok(permit.map(|p| PyPermit {
            permit: Mutex::new(Some(p)),
            key: key.unbind(),
        }))
    }

    #[pyo3(signature = (key, /))]
    fn in_flight(&self, key: &str) -> u64 {
        self.0.in_flight(key)
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }
}

/// One in-flight slot; released by `release()`, by leaving a `with` block, or when garbage collected.
#[pyclass(module = "switchyard._core", name = "Permit", frozen)]
pub struct PyPermit {
    permit: Mutex<Option<Permit>>,
    key: Py<PyString>,
}

#[pymethods]
impl PyPermit {
    fn release(&self) -> bool {
        let taken = lock(&self.permit).take();
        taken.map(Permit::release).is_some()
    }

    #[getter]
    fn released(&self) -> bool {
        lock(&self.permit).is_none()
    }

    #[getter]
    fn key(&self, py: Python<'_>) -> Py<PyString> {
        self.key.clone_ref(py)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (_exc_type, _exc, _tb, /))]
    fn __exit__(
        &self,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) {
        self.release();
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "Permit(key={}, released={})",
            self.key.bind(py).repr()?,
            if self.released() { "True" } else { "False" }
        ))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyLimit>()?;
    m.add_class::<LimitState>()?;
    m.add_class::<Decision>()?;
    m.add_class::<PyLimiter>()?;
    m.add_class::<PyConcurrency>()?;
    m.add_class::<PyPermit>()?;
    Ok(())
}
