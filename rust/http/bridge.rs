//! The asyncio bridge: a tokio task's result delivered to the awaiting asyncio task, and a cancelled
//! await turned into an aborted tokio task.
//!
//! `Pending` is the awaitable every `_core.http` call returns. Awaiting it from a task yields one
//! `asyncio.Future` (from the running loop) for the task to sleep on; the tokio task stores its result
//! in the shared `Op` and queues that future on its loop's `Wakeup`. The runtime thread never takes the
//! GIL: it writes to an eventfd that the loop watches (`loop.add_reader`), and the loop thread resolves
//! every queued future in one callback, so N completions in one loop turn cost one wake-up. The
//! result becomes a Python object only when the task resumes (`__next__`), on its own thread.
//!
//! Cancellation: asyncio cancels the future it sleeps on, then throws `CancelledError` into the
//! coroutine, which reaches `Pending.throw`: the tokio task is aborted there (and on `close()` or when
//! the last reference to an unfinished `Pending` goes), dropping whatever it held, connection
//! included. A `Pending` already finished when it is created (data the socket had delivered) completes
//! in its first `__next__` without a future or a loop turn.
use std::cell::RefCell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use pyo3::exceptions::{PyBaseException, PyRuntimeError, PyStopIteration};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::{intern, IntoPyObjectExt};
use tokio::runtime::Handle;
use tokio::task::AbortHandle;

/// Turns a finished operation's Rust result into its Python value (on the loop's thread, GIL held).
/// Built on the runtime thread, so it must own no Python object.
pub type Deliver = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum State {
    /// Still running; once a task awaits, the future it sleeps on and that future's loop.
    Running {
        future: Option<Py<PyAny>>,
        wakeup: Option<Arc<Wakeup>>,
    },
    Done(Deliver),
    /// Result handed over, or cancelled.
    Finished,
}

struct Op {
    state: Mutex<State>,
    abort: OnceLock<AbortHandle>,
}

impl Op {
    fn complete(&self, result: Deliver) {
        let mut st = lock(&self.state);
        if let State::Running { future, wakeup } = &mut *st {
            let (future, wakeup) = (future.take(), wakeup.take());
            *st = State::Done(result);
            drop(st);
            if let (Some(f), Some(w)) = (future, wakeup) {
                w.push(f);
            }
        }
        // Finished: the awaiter is gone; `result` (a response, a chunk) is dropped here.
    }

    fn cancel(&self) {
        let old = std::mem::replace(&mut *lock(&self.state), State::Finished);
        if let State::Running { .. } = old {
            if let Some(h) = self.abort.get() {
                h.abort();
            }
        }
    }
}

/// Runs `fut` on `rt` and returns the awaitable for its result.
pub fn spawn<F>(rt: &Handle, fut: F) -> Pending
where
    F: std::future::Future<Output = Deliver> + Send + 'static,
{
    let op = Arc::new(Op {
        state: Mutex::new(State::Running {
            future: None,
            wakeup: None,
        }),
        abort: OnceLock::new(),
    });
    let task_op = op.clone();
    let handle = rt.spawn(async move { task_op.complete(fut.await) });
    let _ = op.abort.set(handle.abort_handle());
    Pending { op }
}

/// An awaitable that is already finished.
pub fn ready(result: Deliver) -> Pending {
    Pending {
        op: Arc::new(Op {
            state: Mutex::new(State::Done(result)),
            abort: OnceLock::new(),
        }),
    }
}

/// The awaitable result of an upstream operation: await it once.
#[pyclass(module = "switchyard._core", frozen)]
pub struct Pending {
    op: Arc<Op>,
}

impl Pending {
    /// Aborts the operation's tokio task (None for an awaitable that was finished at birth).
    pub fn abort_handle(&self) -> Option<AbortHandle> {
        self.op.abort.get().cloned()
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.op.cancel();
    }
}

#[pymethods]
impl Pending {
    fn __await__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut st = lock(&self.op.state);
        match &mut *st {
            State::Done(_) => {
                let State::Done(deliver) = std::mem::replace(&mut *st, State::Finished) else {
                    unreachable!()
                };
                drop(st);
                Err(PyStopIteration::new_err((deliver(py)?,)))
            }
            State::Running { future, wakeup } => {
                let fut = match future {
                    Some(f) => f.clone_ref(py), // resumed before completion: sleep on it again
                    None => {
                        let (lp, w) = loop_wakeup(py)?;
                        let f = lp.call_method0(intern!(py, "create_future"))?.unbind();
                        *future = Some(f.clone_ref(py));
                        *wakeup = Some(w);
                        f
                    }
                };
                drop(st);
                // what `Future.__await__` sets before it yields, so the task sleeps on it
                fut.setattr(py, intern!(py, "_asyncio_future_blocking"), true)?;
                Ok(fut)
            }
            State::Finished => Err(PyRuntimeError::new_err(
                "this upstream operation was already awaited or cancelled",
            )),
        }
    }

    #[pyo3(signature = (value, /))]
    fn send(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let _ = value; // asyncio only ever sends None
        self.__next__(py)
    }

    /// The awaiting task was cancelled (or the exception is thrown in for another reason): abort the
    /// tokio task, then raise the exception where the task awaited.
    #[pyo3(signature = (typ, val = None, tb = None, /))]
    fn throw(
        &self,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let _ = tb;
        self.op.cancel();
        let exc = match val {
            Some(v) if v.is_instance_of::<PyBaseException>() => v.clone(),
            _ if typ.is_instance_of::<PyBaseException>() => typ.clone(),
            Some(v) if !v.is_none() => typ.call1((v,))?,
            _ => typ.call0()?,
        };
        Err(PyErr::from_value(exc))
    }

    fn close(&self) {
        self.op.cancel();
    }
}

/// One loop's completion queue: futures to resolve, and the eventfd that wakes the loop for them.
pub struct Wakeup {
    fd: OwnedFd,
    queue: Mutex<Vec<Py<PyAny>>>,
    armed: AtomicBool,
}

impl Wakeup {
    fn new() -> std::io::Result<Self> {
        // SAFETY: plain syscall; the fd is owned by the returned OwnedFd.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Wakeup {
            // SAFETY: `fd` is a fresh descriptor nobody else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            queue: Mutex::new(Vec::new()),
            armed: AtomicBool::new(false),
        })
    }

    /// Runtime thread: queue a future to resolve; wake the loop unless a wake-up is already pending.
    fn push(&self, future: Py<PyAny>) {
        lock(&self.queue).push(future);
        if !self.armed.swap(true, Ordering::SeqCst) {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live u64 to our eventfd. It cannot fail short of the
            // counter overflowing (2^64 - 2 unread wake-ups), which the armed flag rules out.
            unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        }
    }

    /// Loop thread: resolve every queued future (their tasks resume on the next loop turn).
    fn drain(&self, py: Python<'_>) {
        let mut counter: u64 = 0;
        // SAFETY: reads at most 8 bytes into a live u64; EAGAIN (nothing to read) is fine.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut counter as *mut u64).cast(), 8) };
        self.armed.store(false, Ordering::SeqCst);
        let futures = std::mem::take(&mut *lock(&self.queue));
        let none = py.None();
        for f in futures {
            // a cancelled future raises InvalidStateError: its task is already being cancelled
            let _ = f.call_method1(py, intern!(py, "set_result"), (none.clone_ref(py),));
        }
    }
}

/// The reader callback registered on a loop for its `Wakeup`'s eventfd.
#[pyclass(module = "switchyard._core", frozen)]
struct WakeupReader(Arc<Wakeup>);

#[pymethods]
impl WakeupReader {
    fn __call__(&self, py: Python<'_>) {
        self.0.drain(py);
    }
}

thread_local! {
    /// The last loop this thread awaited on and its `Wakeup` (a thread runs one loop at a time).
    static CURRENT: RefCell<Option<(Py<PyAny>, Arc<Wakeup>)>> = const { RefCell::new(None) };
}

/// The running loop and its `Wakeup`, registering one with the loop on first use.
fn loop_wakeup(py: Python<'_>) -> PyResult<(Bound<'_, PyAny>, Arc<Wakeup>)> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let lp = GET_RUNNING_LOOP
        .import(py, "asyncio", "get_running_loop")?
        .call0()?;
    let cached = CURRENT.with_borrow(|c| match c {
        Some((l, w)) if l.is(&lp) => Some(w.clone()),
        _ => None,
    });
    if let Some(w) = cached {
        return Ok((lp, w));
    }
    let w = Arc::new(Wakeup::new()?);
    let reader = WakeupReader(w.clone()).into_py_any(py)?;
    lp.call_method1(intern!(py, "add_reader"), (w.fd.as_raw_fd(), reader))?;
    CURRENT.with_borrow_mut(|c| *c = Some((lp.clone().unbind(), w.clone())));
    Ok((lp, w))
}
