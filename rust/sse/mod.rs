//! `text/event-stream`: a pure-Rust incremental parser exact to the WHATWG rules
//! ([`Parser`]), a byte-exact relay tap for OpenAI chat-completion streams ([`Tap`]), and their
//! thin pyo3 skins (`SseParser`, `SseEvent`, `ChatStreamTap`).

mod lines;
pub mod parser;
pub mod tap;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

pub use parser::{Event, Parser};
pub use tap::{Output, Tap};

/// Feeds at least this long are parsed with the GIL released (below it the release and
/// re-acquire cost more than they free up).
const DETACH_BYTES: usize = 64 * 1024;

/// One server-sent event (frozen; compares and hashes by value).
#[pyclass(module = "switchyard._core", name = "SseEvent", frozen, eq, hash)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SseEvent(Event);

#[pymethods]
impl SseEvent {
    #[new]
    #[pyo3(
        signature = (data, event = "message".to_owned(), id = None, retry = None),
        text_signature = "(data, event='message', id=None, retry=None)"
    )]
    fn new(data: String, event: String, id: Option<String>, retry: Option<u64>) -> Self {
        SseEvent(Event {
            event,
            data,
            id,
            retry,
        })
    }

    #[getter]
    fn event(&self) -> &str {
        &self.0.event
    }

    #[getter]
    fn data(&self) -> &str {
        &self.0.data
    }

    #[getter]
    fn id(&self) -> Option<&str> {
        self.0.id.as_deref()
    }

    #[getter]
    fn retry(&self) -> Option<u64> {
        self.0.retry
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr = |s: &str| -> PyResult<String> { Ok(PyString::new(py, s).repr()?.to_string()) };
        Ok(format!(
            "SseEvent(event={}, data={}, id={}, retry={})",
            repr(&self.0.event)?,
            repr(&self.0.data)?,
            match &self.0.id {
                Some(id) => repr(id)?,
                None => "None".to_owned(),
            },
            match self.0.retry {
                Some(ms) => ms.to_string(),
                None => "None".to_owned(),
            },
        ))
    }
}

/// Incremental `text/event-stream` parser.
#[pyclass(module = "switchyard._core", name = "SseParser")]
#[derive(Debug, Default)]
pub struct SseParser(Parser);

#[pymethods]
impl SseParser {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    #[pyo3(signature = (chunk, /))]
    fn feed(&mut self, py: Python<'_>, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if chunk.len() >= DETACH_BYTES {
            py.detach(|| self.0.feed(chunk, &mut events));
        } else {
            self.0.feed(chunk, &mut events);
        }
        events.into_iter().map(SseEvent).collect()
    }

    fn finish(&mut self) -> Vec<SseEvent> {
        self.0.finish();
        Vec::new()
    }

    #[getter]
    fn last_event_id(&self) -> Option<&str> {
        self.0.last_event_id()
    }

    #[getter]
    fn retry(&self) -> Option<u64> {
        self.0.retry()
    }
}

/// Relay tap for an OpenAI chat-completion stream.
#[pyclass(module = "switchyard._core", name = "ChatStreamTap")]
#[derive(Debug)]
pub struct ChatStreamTap(Tap);

#[pymethods]
impl ChatStreamTap {
    #[new]
    #[pyo3(signature = (strip_usage_chunk, *, collect_text = false))]
    fn new(strip_usage_chunk: bool, collect_text: bool) -> Self {
        ChatStreamTap(Tap::with_text(strip_usage_chunk, collect_text))
    }

    #[pyo3(signature = (chunk, /))]
    fn feed<'py>(&mut self, py: Python<'py>, chunk: Bound<'py, PyBytes>) -> Bound<'py, PyBytes> {
        let bytes = chunk.as_bytes();
        let out = if bytes.len() >= DETACH_BYTES {
            py.detach(|| self.0.feed(bytes))
        } else {
            self.0.feed(bytes)
        };
        match out {
            Output::Slice(r) if r.len() == bytes.len() => chunk,
            Output::Slice(r) => PyBytes::new(py, &bytes[r]),
            Output::Owned => PyBytes::new(py, self.0.out()),
        }
    }

    fn finish<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.0.finish())
    }

    #[getter]
    fn usage<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.0.usage().map(|u| PyBytes::new(py, u))
    }

    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.0.error().map(|e| PyBytes::new(py, e))
    }

    #[getter]
    fn done(&self) -> bool {
        self.0.done()
    }

    #[getter]
    fn events(&self) -> u64 {
        self.0.events()
    }

    #[getter]
    fn pending(&self) -> usize {
        self.0.pending()
    }

    #[getter]
    fn text(&self) -> &str {
        self.0.text()
    }

    #[getter]
    fn service_tier(&self) -> Option<&str> {
        self.0.service_tier()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<SseEvent>()?;
    m.add_class::<SseParser>()?;
    m.add_class::<ChatStreamTap>()?;
    Ok(())
}
