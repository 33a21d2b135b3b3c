//! The one tokio runtime of the process, and the two ways Python calls reach it: blocking
//! (the GIL released around `block_on`, interruptible by Ctrl-C) and awaitable (a coroutine
//! the event loop's thread drives, [`crate::asyncio`]).
//!
//! The runtime is created lazily, once per process. Every pool is created and used on it
//! (a sqlx pool is bound to the runtime that made it).
//!
//! **Fork.** A forked child inherits the parent's runtime object but none of its threads,
//! and the parent's connections (their sockets are shared with the parent). The child
//! therefore gets a runtime of its own on first use (the parent's is leaked, never
//! dropped: its threads do not exist here), and every object opened before the fork is
//! wrapped in [`InProcess`], which refuses it in the child with an `UnavailableError`
//! (and leaks it on drop: closing it would write to the parent's connections). New stores
//! opened in the child work.
//!
//! **Exit.** An `atexit` handler (registered at import) shuts the runtime down while the
//! interpreter is still whole, with the GIL released so that a runtime thread finishing
//! a log record can take it: no runtime thread is left to touch Python while the
//! interpreter finalizes. Objects finalized afterwards are leaked, not dropped.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread::ThreadId;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::{Handle, Runtime};

use crate::asyncio::{Call, Driver};
use crate::errors::to_py_err;

/// The runtime of this process, by the pid it was created in.
enum State {
    /// Not created yet (in this process).
    Idle,
    /// Running, created in process `pid` (a forked child sees its parent's).
    Running { runtime: Runtime, pid: u32 },
    /// Shut down by the exit handler of process `pid`.
    Exited { pid: u32 },
}

/// Locked only briefly and only by threads holding the GIL (`os.fork()` holds it too), so
/// a fork never copies it locked.
static RUNTIME: Mutex<State> = Mutex::new(State::Idle);

/// How long the exit handler waits for blocking work in flight (a password hash).
const EXIT_GRACE: Duration = Duration::from_secs(2);

fn state() -> MutexGuard<'static, State> {
    RUNTIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn new_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("interaction-store")
        .build()
        .expect("cannot start the tokio runtime")
}

/// The process's tokio runtime, created on first use in this process (also in a forked
/// child: the parent's is left alone); an error once the interpreter is exiting.
pub(crate) fn rt() -> PyResult<Handle> {
    let pid = std::process::id();
    let mut s = state();
    match &*s {
        State::Running { runtime, pid: p } if *p == pid => return Ok(runtime.handle().clone()),
        State::Exited { pid: p } if *p == pid => {
            return Err(crate::errors::unavailable(
                "the Python interpreter is exiting: interaction_store's runtime is shut down",
            ))
        }
        _ => {}
    }
    // First use in this process. A runtime inherited from the parent has no threads here:
    // leak it (dropping would wait for threads that do not exist).
    if let State::Running { .. } = &*s {
        if let State::Running { runtime, .. } = std::mem::replace(&mut *s, State::Idle) {
            std::mem::forget(runtime);
        }
    }
    let runtime = new_runtime();
    let handle = runtime.handle().clone();
    *s = State::Running { runtime, pid };
    Ok(handle)
}

/// The runtime if it is running in this process (none created, inherited from the parent
/// or shut down: `None`; no error built: for polls and drops).
pub(crate) fn current() -> Option<Handle> {
    match &*state() {
        State::Running { runtime, pid } if *pid == std::process::id() => {
            Some(runtime.handle().clone())
        }
        _ => None,
    }
}

/// The `atexit` handler: shuts this process's runtime down (see the module docs).
#[pyfunction]
fn _shutdown_runtime(py: Python<'_>) {
    let pid = std::process::id();
    let runtime = {
        let mut s = state();
        match &*s {
            State::Running { pid: p, .. } if *p == pid => {
                match std::mem::replace(&mut *s, State::Exited { pid }) {
                    State::Running { runtime, .. } => Some(runtime),
                    _ => None,
                }
            }
            State::Idle => {
                *s = State::Exited { pid };
                None
            }
            _ => None,
        }
    };
    if let Some(runtime) = runtime {
        py.detach(|| runtime.shutdown_timeout(EXIT_GRACE));
    }
}

/// Registers the exit handler (at import).
pub(crate) fn register_exit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let f = wrap_pyfunction!(_shutdown_runtime, m)?;
    m.py().import("atexit")?.call_method1("register", (f,))?;
    Ok(())
}

/// A value bound to the process that made it (a store, a session, a Finder: their pools
/// belong to that process's runtime). In a forked child [`InProcess::get`] refuses it,
/// and dropping it leaks it; a value dropped after the exit handler is leaked too.
pub(crate) struct InProcess<T> {
    /// Always `Some` but in `drop`.
    value: Option<T>,
    pid: u32,
}

impl<T> InProcess<T> {
    pub(crate) fn new(value: T) -> Self {
        InProcess {
            value: Some(value),
            pid: std::process::id(),
        }
    }

    /// The value, in the process that opened it; `UnavailableError` in a forked child.
    pub(crate) fn get(&self) -> PyResult<&T> {
        if self.pid != std::process::id() {
            return Err(crate::errors::unavailable(format!(
                "this store was opened in process {}, and this is a forked child process: its \
                 connections belong to the parent and cannot be used here. Open a new store \
                 in this process (after the fork), e.g. on first use in each worker",
                self.pid
            )));
        }
        Ok(self.peek())
    }

    /// The value without the process check: for attributes that do no I/O.
    pub(crate) fn peek(&self) -> &T {
        self.value
            .as_ref()
            .expect("an InProcess value is only taken when dropped")
    }

    /// The same value, in the same process.
    pub(crate) fn map<U>(&self, f: impl FnOnce(&T) -> U) -> InProcess<U> {
        InProcess {
            value: Some(f(self.peek())),
            pid: self.pid,
        }
    }
}

impl<T: Clone> Clone for InProcess<T> {
    fn clone(&self) -> Self {
        self.map(T::clone)
    }
}

impl<T> Drop for InProcess<T> {
    fn drop(&mut self) {
        let value = self.value.take();
        // The parent's (after a fork), or no runtime left (shut down at exit): leaked.
        let handle = (self.pid == std::process::id()).then(current).flatten();
        match handle {
            Some(handle) => {
                let _rt = handle.enter();
                drop(value);
            }
            None => std::mem::forget(value),
        }
    }
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
