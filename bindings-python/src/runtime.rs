//! The one tokio runtime of the process, and the two ways Python calls reach it: blocking
//! (the GIL released around `block_on`, interruptible by Ctrl-C) and awaitable (a coroutine
//! the event loop's thread drives, [`crate::asyncio`]).
//!
//! The runtime is created lazily, once per process. Every pool is created and used on it
//! (a sqlx pool is bound to the runtime that made it). A forked child inherits the
//! parent's runtime object but none of its threads: using it would hang, so every call
//! compares the PID recorded at creation with the current one and fails fast instead.

use std::future::Future;
use std::sync::OnceLock;
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::asyncio::{Call, Driver};
use crate::errors::to_py_err;

struct ProcessRuntime {
    runtime: Runtime,
    pid: u32,
}

static RUNTIME: OnceLock<ProcessRuntime> = OnceLock::new();

/// The process's tokio runtime; an error in a process forked after it was created.
pub(crate) fn rt() -> PyResult<&'static Runtime> {
    let r = RUNTIME.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("interaction-store")
            .build()
            .expect("cannot start the tokio runtime");
        ProcessRuntime {
            runtime,
            pid: std::process::id(),
        }
    });
    if r.pid != std::process::id() {
        return Err(crate::errors::unavailable(format!(
            "interaction_store was used in a forked child process: its runtime and \
             connections belong to the parent (pid {}). Open stores only after forking, \
             or use the 'spawn' or 'forkserver' multiprocessing start method",
            r.pid
        )));
    }
    Ok(&r.runtime)
}

/// The runtime if it was created in this process (no error built: for drops).
pub(crate) fn current() -> Option<&'static Runtime> {
    RUNTIME
        .get()
        .filter(|r| r.pid == std::process::id())
        .map(|r| &r.runtime)
}

/// How often a blocking call on the main thread wakes up to run Python's signal handlers.
const SIGNAL_SLICE: Duration = Duration::from_millis(50);

/// The Python main thread, if the module was imported there (the only thread Python runs
/// signal handlers on).
static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Records the calling thread as Python's main thread if it is (called at import).
pub(crate) fn note_main_thread(py: Python<'_>) -> PyResult<()> {
    let threading = py.import("threading")?;
    let main = threading.call_method0("main_thread")?;
    let current = threading.call_method0("current_thread")?;
    if main.is(&current) {
        let _ = MAIN_THREAD.set(std::thread::current().id());
    }
    Ok(())
}

/// Runs a core call to completion with the GIL released, so that other Python threads
/// run meanwhile. The future runs on the calling thread (no thread hop).
///
/// On the main thread the wait is cut into slices of [`SIGNAL_SLICE`]; between slices the
/// thread re-attaches and runs Python's signal handlers, so Ctrl-C interrupts a blocked
/// call: the call is abandoned (dropped) and `KeyboardInterrupt` raised. Dropping is safe
/// for the same reason as asyncio cancellation: core writes run on their own tasks and
/// commit or roll back whole; reads are simply dropped.
pub(crate) fn block<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = interaction_core::Result<T>> + Send,
    T: Send,
{
    let rt = rt()?;
    if MAIN_THREAD.get() != Some(&std::thread::current().id()) {
        // Python runs signal handlers only on the main thread: nothing to check here.
        return py.detach(|| rt.block_on(fut)).map_err(|e| to_py_err(py, e));
    }
    let mut fut = std::pin::pin!(fut);
    loop {
        let slice = py.detach(|| {
            rt.block_on(async {
                tokio::select! {
                    biased;
                    r = &mut fut => Some(r),
                    () = tokio::time::sleep(SIGNAL_SLICE) => None,
                }
            })
        });
        match slice {
            Some(r) => return r.map_err(|e| to_py_err(py, e)),
            // A signal handler that raises (KeyboardInterrupt) abandons the call.
            None => py.check_signals()?,
        }
    }
}

/// Wraps a core call as an asyncio coroutine named `name` (see [`crate::asyncio`]). The
/// fork check runs now; the call runs when a task awaits it. Cancelling the task drops the
/// call; core writes run on their own tasks, so a cancelled write still commits or rolls
/// back whole.
pub(crate) fn awaitable<T, F>(name: &'static str, driver: Driver, fut: F) -> PyResult<Call>
where
    F: Future<Output = interaction_core::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    rt()?;
    Ok(crate::asyncio::call(name, driver, async move {
        match fut.await {
            Ok(v) => Ok(v),
            Err(e) => Err(Python::attach(|py| to_py_err(py, e))),
        }
    }))
}

/// Like [`awaitable`] for futures that already produce Python errors.
pub(crate) fn awaitable_py<T, F>(name: &'static str, driver: Driver, fut: F) -> PyResult<Call>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    rt()?;
    Ok(crate::asyncio::call(name, driver, fut))
}

/// The store a core handle belongs to, to choose how its asyncio calls are driven.
pub(crate) trait OfStore {
    fn of_store(&self) -> &interaction_core::InteractionStore;
}

impl OfStore for interaction_core::InteractionStore {
    fn of_store(&self) -> &interaction_core::InteractionStore {
        self
    }
}

impl OfStore for interaction_core::SiteSession {
    fn of_store(&self) -> &interaction_core::InteractionStore {
        self.store()
    }
}
