//! The thin pyo3 skin over `client`: `HttpClient`, `Response` and the typed errors.
//!
//! Every await goes through `bridge::Pending`: cancelling it aborts the tokio task doing the work, so a
//! caller who leaves while the upstream is still thinking closes that upstream connection at once.
//! A body read first looks at what the connection already delivered (`client::try_chunk`) and only
//! crosses to the runtime thread when there is nothing yet, so a non-streamed answer that arrived with
//! its headers is read without a loop turn. There is no read-ahead: each chunk is handed over as the
//! socket delivered it, and a chunk is read only when asked for.
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use reqwest::header::HeaderMap;
use reqwest::Body;
use tokio::runtime::Handle;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::bridge::{self, Deliver, Pending};
use super::client::{self, After, Client, Config, Deadlines, Error, ErrorKind, Head};

create_exception!(
    switchyard._core,
    HttpError,
    PyException,
    "An upstream HTTP exchange failed (connection reset or refused, malformed response, ...)."
);
create_exception!(
    switchyard._core,
    ConnectError,
    HttpError,
    "The upstream could not be connected to (refused, unreachable, DNS or TLS failure)."
);
create_exception!(
    switchyard._core,
    ConnectTimeout,
    HttpError,
    "The connection to the upstream was not established within the client's connect timeout."
);
create_exception!(
    switchyard._core,
    RequestTimeout,
    HttpError,
    "The request's total deadline (`total_timeout_s`) passed."
);
create_exception!(
    switchyard._core,
    ReadTimeout,
    HttpError,
    "The upstream sent nothing within the first-byte or idle timeout."
);

fn to_py_err(e: Error) -> PyErr {
    let Error { kind, message } = e;
    match kind {
        ErrorKind::Connect => ConnectError::new_err(message),
        ErrorKind::ConnectTimeout => ConnectTimeout::new_err(message),
        ErrorKind::RequestTimeout => RequestTimeout::new_err(message),
        ErrorKind::ReadTimeout => ReadTimeout::new_err(message),
        ErrorKind::Transport => HttpError::new_err(message),
        ErrorKind::InvalidRequest => PyValueError::new_err(message),
    }
}

fn failed(e: Error) -> Deliver {
    Box::new(move |_| Err(to_py_err(e)))
}

fn chunk(b: Option<Bytes>) -> Deliver {
    Box::new(move |py| {
        Ok(match b {
            Some(b) => PyBytes::new(py, &b).into_any().unbind(),
            None => py.None(),
        })
    })
}

fn bytes(b: Vec<u8>) -> Deliver {
    Box::new(move |py| Ok(PyBytes::new(py, &b).into_any().unbind()))
}

fn seconds(what: &str, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        PyValueError::new_err(format!("{what} must be a number of seconds >= 0, got {s}"))
    })
}

/// A deadline past any real request (a total timeout too large for `Instant`).
const FAR: Duration = Duration::from_secs(100 * 365 * 86_400);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A pooled HTTP/1.1 + h2 client (keep-alive, TCP_NODELAY, no redirects, no decompression).
#[pyclass(module = "switchyard._core", name = "HttpClient", frozen)]
pub struct PyHttpClient {
    client: Client,
}

#[pymethods]
impl PyHttpClient {
    #[new]
    #[pyo3(signature = (connect_timeout_s = 10.0, pool_idle_timeout_s = 90.0))]
    fn new(py: Python<'_>, connect_timeout_s: f64, pool_idle_timeout_s: f64) -> PyResult<Self> {
        let cfg = Config {
            connect_timeout: seconds("connect_timeout_s", connect_timeout_s)?,
            pool_idle_timeout: seconds("pool_idle_timeout_s", pool_idle_timeout_s)?,
            ..Config::default()
        };
        // the first client of a process starts the runtime thread and waits for it
        let client = py.detach(|| Client::new(&cfg)).map_err(to_py_err)?;
        Ok(PyHttpClient { client })
    }

    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (method, url, headers, body, total_timeout_s, first_byte_timeout_s = None, idle_timeout_s = None))]
    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &Bound<'_, PyAny>,
        body: &[u8],
        total_timeout_s: f64,
        first_byte_timeout_s: Option<f64>,
        idle_timeout_s: Option<f64>,
    ) -> PyResult<Pending> {
        if !self.client.usable() {
            return Err(PyRuntimeError::new_err(
                "this HttpClient was built in another process (before a fork): build it in the worker",
            ));
        }
        let now = Instant::now();
        let total = seconds("total_timeout_s", total_timeout_s)
            .map(|d| now.checked_add(d).unwrap_or(now + FAR))?;
        let first_byte = first_byte_timeout_s
            .map(|s| seconds("first_byte_timeout_s", s))
            .transpose()?;
        let idle = idle_timeout_s
            .map(|s| seconds("idle_timeout_s", s))
            .transpose()?;
        let mut pairs: Vec<(Bound<'_, PyString>, Bound<'_, PyString>)> = Vec::new();
        for item in headers.try_iter()? {
            pairs.push(item?.extract()?);
        }
        let mut strs = Vec::with_capacity(pairs.len());
        for (n, v) in &pairs {
            strs.push((n.to_str()?, v.to_str()?));
        }
        let req = self
            .client
            .request(method, url, strs, Bytes::copy_from_slice(body))
            .map_err(to_py_err)?;
        let fut = self.client.execute(req);
        let rt = self.client.runtime().clone();
        let wait = Deadlines {
            total,
            read: first_byte,
        };
        Ok(bridge::spawn(self.client.runtime(), async move {
            match wait.run(fut).await {
                Ok(mut head) => {
                    let (early, after) = client::prefetch(&mut head.body).await;
                    let resp = Response::new(head, early, after, total, idle, rt);
                    Box::new(move |py: Python<'_>| Ok(Py::new(py, resp)?.into_any())) as Deliver
                }
                Err(e) => failed(e),
            }
        }))
    }
}

enum Phase {
    Open,
    /// A read is waiting on the runtime thread; it holds the body.
    Reading(Option<AbortHandle>),
    Ended,
    Failed(Error),
    Closed,
}

struct BodyState {
    body: Option<Body>,
    /// Body bytes that came with the headers: the first read returns them.
    early: Option<Bytes>,
    phase: Phase,
}

/// An upstream response whose headers are in; the body is read chunk by chunk or whole.
#[pyclass(module = "switchyard._core", name = "Response", frozen)]
pub struct Response {
    #[pyo3(get)]
    status: u16,
    headers: HeaderMap,
    state: Arc<Mutex<BodyState>>,
    total: Instant,
    idle: Option<Duration>,
    rt: Handle,
}

impl Response {
    fn new(
        head: Head,
        early: Option<Bytes>,
        after: After,
        total: Instant,
        idle: Option<Duration>,
        rt: Handle,
    ) -> Self {
        let (body, phase) = match after {
            After::More => (Some(head.body), Phase::Open),
            After::End => (None, Phase::Ended),
            After::Failed(e) => (None, Phase::Failed(e)),
        };
        Response {
            status: head.status,
            headers: head.headers,
            state: Arc::new(Mutex::new(BodyState { body, early, phase })),
            total,
            idle,
            rt,
        }
    }

    /// The body, if it can be read now; else the awaitable that reports why not.
    fn take_body(&self, st: &mut BodyState) -> Result<Body, Pending> {
        match &st.phase {
            Phase::Open => {}
            Phase::Ended => return Err(bridge::ready(chunk(None))),
            Phase::Failed(e) => return Err(bridge::ready(failed(e.clone()))),
            Phase::Closed => return Err(closed("the response is closed")),
            Phase::Reading(h) if h.as_ref().is_some_and(|h| h.is_finished()) => {
                // the read's task ended without handing the body back: it was cancelled
                return Err(closed(
                    "a read of this response was cancelled; its connection is gone",
                ));
            }
            Phase::Reading(_) => {
                return Err(bridge::ready(Box::new(|_| {
                    Err(PyRuntimeError::new_err(
                        "another read of this response is in progress",
                    ))
                })))
            }
        }
        let deadlines = self.deadlines();
        if let Some(e) = deadlines.expired() {
            st.body = None;
            st.phase = Phase::Failed(e.clone());
            return Err(bridge::ready(failed(e)));
        }
        Ok(st.body.take().expect("an open response has its body"))
    }

    fn deadlines(&self) -> Deadlines {
        Deadlines {
            total: self.total,
            read: self.idle,
        }
    }
}

fn closed(msg: &'static str) -> Pending {
    bridge::ready(failed(Error::new(ErrorKind::Transport, msg)))
}

/// Runtime thread: a read finished; give the body back to the response (unless it was closed).
fn finish(state: &Mutex<BodyState>, body: Body, after: After) {
    let mut st = lock(state);
    if let Phase::Reading(_) = st.phase {
        st.phase = match after {
            After::More => {
                st.body = Some(body);
                Phase::Open
            }
            After::End => Phase::Ended,
            After::Failed(e) => Phase::Failed(e),
        };
    }
}

fn after_of(r: &Result<Option<Bytes>, Error>) -> After {
    match r {
        Ok(Some(_)) => After::More,
        Ok(None) => After::End,
        Err(e) => After::Failed(e.clone()),
    }
}

#[pymethods]
impl Response {
    /// The first value of header `name` (any case), or None.
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// Every header as (lowercase name, value), in the order received.
    fn headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    }

    /// Awaitable: the next body chunk as the socket delivered it, or None at the end.
    fn read_chunk(&self) -> Pending {
        let mut st = lock(&self.state);
        if let Some(b) = st.early.take() {
            return bridge::ready(chunk(Some(b)));
        }
        let mut body = match self.take_body(&mut st) {
            Ok(b) => b,
            Err(p) => return p,
        };
        match client::try_chunk(&mut body) {
            Poll::Ready(Some(Ok(b))) => {
                st.body = Some(body);
                return bridge::ready(chunk(Some(b)));
            }
            Poll::Ready(None) => {
                st.phase = Phase::Ended;
                return bridge::ready(chunk(None));
            }
            Poll::Ready(Some(Err(e))) => {
                st.phase = Phase::Failed(e.clone());
                return bridge::ready(failed(e));
            }
            Poll::Pending => {}
        }
        let state = self.state.clone();
        let wait = self.deadlines();
        let p = bridge::spawn(&self.rt, async move {
            let r = wait
                .run(async { Ok(client::next_chunks(&mut body).await) })
                .await;
            let (r, after) = match r {
                Ok((r, after)) => (r.transpose(), after),
                Err(e) => (Err(e.clone()), After::Failed(e)),
            };
            finish(&state, body, after);
            match r {
                Ok(b) => chunk(b),
                Err(e) => failed(e),
            }
        });
        st.phase = Phase::Reading(p.abort_handle());
        p
    }

    /// Awaitable: the rest of the body, stopping once it is longer than `limit` bytes (so a result
    /// longer than `limit` means "too large"; the connection is then not reused).
    fn read_all(&self, limit: usize) -> Pending {
        let mut st = lock(&self.state);
        let mut buf = st.early.take().map_or_else(Vec::new, Vec::from);
        if matches!(st.phase, Phase::Ended)
            || (buf.len() > limit && matches!(st.phase, Phase::Open))
        {
            return bridge::ready(bytes(buf));
        }
        let mut body = match self.take_body(&mut st) {
            Ok(b) => b,
            Err(p) => return p,
        };
        loop {
            match client::try_chunk(&mut body) {
                Poll::Ready(Some(Ok(b))) => {
                    buf.extend_from_slice(&b);
                    if buf.len() > limit {
                        st.body = Some(body);
                        return bridge::ready(bytes(buf));
                    }
                }
                Poll::Ready(None) => {
                    st.phase = Phase::Ended;
                    return bridge::ready(bytes(buf));
                }
                Poll::Ready(Some(Err(e))) => {
                    st.phase = Phase::Failed(e.clone());
                    return bridge::ready(failed(e));
                }
                Poll::Pending => break,
            }
        }
        let state = self.state.clone();
        let wait = self.deadlines();
        let p = bridge::spawn(&self.rt, async move {
            let mut r = Ok(Some(Bytes::new()));
            while buf.len() <= limit {
                r = wait
                    .run(async { client::next_chunk(&mut body).await.transpose() })
                    .await;
                match &r {
                    Ok(Some(b)) => buf.extend_from_slice(b),
                    _ => break,
                }
            }
            finish(&state, body, after_of(&r));
            match r {
                Ok(_) => bytes(buf),
                Err(e) => failed(e),
            }
        });
        st.phase = Phase::Reading(p.abort_handle());
        p
    }

    /// Releases the response: a fully read body has already returned its connection to the pool; an
    /// unfinished one (or a read in progress) is dropped, closing the connection.
    fn close(&self) {
        let mut st = lock(&self.state);
        let body = st.body.take();
        st.early = None;
        if let Phase::Reading(Some(h)) = std::mem::replace(&mut st.phase, Phase::Closed) {
            h.abort();
        }
        drop(st);
        drop(body);
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<PyHttpClient>()?;
    m.add_class::<Response>()?;
    m.add_class::<Pending>()?;
    m.add("HttpError", py.get_type::<HttpError>())?;
    m.add("ConnectError", py.get_type::<ConnectError>())?;
    m.add("ConnectTimeout", py.get_type::<ConnectTimeout>())?;
    m.add("RequestTimeout", py.get_type::<RequestTimeout>())?;
    m.add("ReadTimeout", py.get_type::<ReadTimeout>())?;
    Ok(())
}
