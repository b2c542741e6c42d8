//! The extension's tokio runtime: one per process, a current-thread runtime driven by its own OS
//! thread, created on first use. A Granian worker is a forked (or spawned) copy of the process that
//! imported us; a fork copies memory but not threads, so a runtime made before the fork would have no
//! thread to drive it in the worker. A `pthread_atfork` child hook bumps a generation counter, and a
//! runtime (and every `Client` built on it) belongs to the generation it was made in.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use tokio::runtime::Handle;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();
static RUNTIME: Mutex<Option<(u64, Handle)>> = Mutex::new(None);

extern "C" fn after_fork_in_child() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The current process generation: changes in a child after every `fork()`.
pub fn generation() -> u64 {
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only touches an atomic, which is async-signal-safe.
        unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
    });
    GENERATION.load(Ordering::Relaxed)
}

/// The process's runtime handle, starting the runtime thread if this process has none yet.
/// Blocks (briefly, once per process) while the thread starts: call it with the GIL released.
pub fn handle() -> std::io::Result<Handle> {
    let gen = generation();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((g, h)) = slot.as_ref() {
        if *g == gen {
            return Ok(h.clone());
        }
    }
    // A runtime inherited through fork has no thread here: leak it rather than drop it (dropping
    // would wait for a driver that does not exist in this process).
    if let Some((_, old)) = slot.take() {
        std::mem::forget(old);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("switchyard-http")
        .build()?;
    let handle = rt.handle().clone();
    std::thread::Builder::new()
        .name("switchyard-http".into())
        .spawn(move || rt.block_on(std::future::pending::<()>()))?;
    *slot = Some((gen, handle.clone()));
    Ok(handle)
}
