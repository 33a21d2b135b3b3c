//! The asyncio bridge: a core call as a coroutine that the event loop's own thread drives.
//!
//! An asyncio method (`AsyncSiteSession.get_interaction(1)`) returns a [`Call`]: a coroutine
//! for asyncio's purposes (`await`, `create_task`, `TaskGroup`, `gather`, `wait_for`). When
//! the task first runs it, the core future is polled right there, on the loop's thread and
//! inside the runtime's context: the request goes out with no thread hop. If the future has
//! to wait, the task waits on an asyncio future and the loop goes back to its selector.
//!
//! When the reply arrives, the runtime's I/O thread calls the future's waker, which queues
//! the call on its loop's [`Notifier`] and writes one byte to a socket pair the loop watches
//! (`loop.add_reader`, registered once per loop). No tokio thread takes the GIL. The loop
//! runs the reader callback ([`Drain`]), which polls the queued calls and resolves the
//! asyncio futures of those that finished; their tasks resume and the value is converted
//! (or the error mapped) there. Loops without `add_reader` (Windows' proactor loop) are
//! woken with `call_soon_threadsafe` instead.
//!
//! Cancelling the task (or `close()`, or dropping the coroutine) drops the core future, as
//! dropping any future does; core writes run on their own tasks, so a cancelled write still
//! commits or rolls back whole.
//!
//! Polling on the loop's thread is only for futures that merely wait on sockets when
//! polled (PostgreSQL; password hashing runs on tokio's blocking pool): a poll then holds
//! the loop no longer than decoding a reply. A SQLite store runs its statements in the
//! poll (`InteractionStore::polls_run_statements`), so its calls run on a runtime task and
//! the loop's thread polls only the join handle ([`Driver::Runtime`]).

use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll, Wake, Waker};

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::intern;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::IntoPyObjectExt;
use pyo3::{PyTraverseError, PyVisit};

/// A finished call's result, turned into a Python value or exception on the loop's thread.
pub(crate) type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

type CallFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// Where a call's future is polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    /// On the event loop's thread: no thread hop. Only for futures that merely wait on
    /// sockets when polled (PostgreSQL).
    Loop,
    /// On a runtime task, the loop's thread polling only its join handle: for futures
    /// that do work when polled (SQLite statements run in the poll, see
    /// `InteractionStore::polls_run_statements`), which must not hold the loop and the GIL.
    Runtime,
}

impl Driver {
    /// How to drive the calls of `store`.
    pub(crate) fn for_store(store: &interaction_core::InteractionStore) -> Driver {
        if store.polls_run_statements() {
            Driver::Runtime
        } else {
            Driver::Loop
        }
    }
}

/// Aborts a runtime task when the call that awaits it is dropped (cancelled), as dropping
/// a future polled on the loop would.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Wraps a core future whose output converts to Python as a [`Call`] named `name`
/// (`"AsyncSiteSession.get_interaction"`: its `__qualname__`, shown in task reprs),
/// driven as `driver` says.
pub(crate) fn call<T, F>(name: &'static str, driver: Driver, fut: F) -> Call
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let fut: Pin<Box<dyn Future<Output = PyResult<T>> + Send>> = match driver {
        Driver::Loop => Box::pin(fut),
        // Spawned at the first poll (inside the runtime's context), so an unawaited call
        // does nothing, as on the loop.
        Driver::Runtime => Box::pin(async move {
            let task = tokio::spawn(fut);
            let _abort = AbortOnDrop(task.abort_handle());
            match task.await {
                Ok(r) => r,
                Err(e) if e.is_panic() => Err(PanicException::new_err(format!(
                    "a core call panicked: {e}"
                ))),
                Err(e) => Err(PyRuntimeError::new_err(format!(
                    "the call was cancelled: {e}"
                ))),
            }
        }),
    };
    Call::new(
        name,
        Box::pin(async move {
            let r = fut.await;
            Box::new(move |py: Python<'_>| r.and_then(|v| v.into_py_any(py))) as Outcome
        }),
    )
}

/// Where a call stands.
enum Slot {
    /// Created, not run yet.
    Idle(CallFuture),
    /// Waiting: the future, and the asyncio future its task waits on.
    Waiting(CallFuture, Py<PyAny>),
    /// Being polled (the future is on the poller's stack).
    Polling,
    /// Finished; the task has not taken the outcome yet.
    Ready(Outcome),
    /// Delivered, or abandoned (thrown into, closed, dropped).
    Done,
}

/// The state a call shares with its waker.
struct Shared {
    slot: Mutex<Slot>,
    /// The loop the call runs on, set before the first poll. Weak: a closed loop's
    /// notifier goes away with its queue even if calls on it are still alive.
    notifier: OnceLock<Weak<Notifier>>,
    /// On its notifier's queue already.
    queued: AtomicBool,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(n) = self.notifier.get().and_then(Weak::upgrade) {
            n.push(self.clone());
        }
    }
}

impl Shared {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        // A panic never happens while the lock is held (polls run unlocked).
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Polls the future once, inside the runtime's context; a panic becomes a
    /// `PanicException`.
    fn poll(self: &Arc<Self>, fut: &mut CallFuture) -> Poll<Outcome> {
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        let handle = crate::runtime::current();
        let _rt = handle.as_ref().map(|rt| rt.enter());
        match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(&mut cx))) {
            Ok(p) => p,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a core call panicked".to_string());
                Poll::Ready(Box::new(move |_py: Python<'_>| {
                    Err(PanicException::new_err(message))
                }))
            }
        }
    }

    /// Called by the loop's reader callback: polls a waiting call and, when it finished,
    /// resolves the asyncio future its task waits on.
    fn resume(self: &Arc<Self>, py: Python<'_>) {
        let (mut fut, waiter) = {
            let mut slot = self.slot();
            match std::mem::replace(&mut *slot, Slot::Polling) {
                Slot::Waiting(f, w) => (f, w),
                other => {
                    *slot = other;
                    return;
                }
            }
        };
        match self.poll(&mut fut) {
            Poll::Pending => {
                let mut slot = self.slot();
                if matches!(*slot, Slot::Polling) {
                    *slot = Slot::Waiting(fut, waiter);
                } else {
                    drop(slot);
                    drop_future(fut);
                }
            }
            Poll::Ready(outcome) => {
                let mut slot = self.slot();
                let live = matches!(*slot, Slot::Polling);
                if live {
                    *slot = Slot::Ready(outcome);
                }
                drop(slot);
                drop_future(fut);
                if live {
                    let w = waiter.bind(py);
                    // A cancelled waiter: its task throws into the call, which drops the
                    // outcome.
                    if !w
                        .call_method0(intern!(py, "done"))
                        .and_then(|d| d.is_truthy())
                        .unwrap_or(true)
                    {
                        if let Err(e) = w.call_method1(intern!(py, "set_result"), (py.None(),)) {
                            e.write_unraisable(py, Some(w));
                        }
                    }
                }
            }
        }
    }

    /// Drops the future (the call is cancelled); the outcome of a finished call is
    /// discarded.
    fn abandon(&self) {
        let old = std::mem::replace(&mut *self.slot(), Slot::Done);
        match old {
            Slot::Idle(f) | Slot::Waiting(f, _) => drop_future(f),
            // The poller sees `Done` and drops the future itself.
            Slot::Polling | Slot::Ready(_) | Slot::Done => {}
        }
    }
}

/// Drops a core future inside the runtime's context (dropping a pooled connection hands it
/// back through the runtime). In a forked child the runtime is unusable: leak it instead.
fn drop_future(fut: CallFuture) {
    match crate::runtime::current() {
        Some(rt) => {
            let _rt = rt.enter();
            drop(fut);
        }
        None => std::mem::forget(fut),
    }
}

/// One event loop's queue of calls to poll again, and how to wake the loop.
struct Notifier {
    ready: Mutex<Vec<Arc<Shared>>>,
    /// A wake-up is on its way and the queue has not been drained since.
    signalled: AtomicBool,
    wakeup: Wakeup,
}

enum Wakeup {
    /// A socket pair whose read end the loop watches (`add_reader`); any thread writes a
    /// byte without the GIL.
    #[cfg(unix)]
    Socket {
        tx: std::os::unix::net::UnixStream,
        rx: std::os::unix::net::UnixStream,
    },
    /// `loop.call_soon_threadsafe(drain)`, for loops without `add_reader`; takes the GIL.
    Threadsafe { event_loop: Py<PyAny> },
}

impl Notifier {
    /// Queues a woken call and wakes the loop (once until it drains).
    fn push(self: &Arc<Self>, call: Arc<Shared>) {
        self.ready
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
        if self.signalled.swap(true, Ordering::SeqCst) {
            return;
        }
        match &self.wakeup {
            #[cfg(unix)]
            Wakeup::Socket { tx, .. } => {
                use std::io::Write;
                // A full socket buffer means the loop has wake-ups pending already.
                let _ = (&*tx).write(&[1]);
            }
            Wakeup::Threadsafe { event_loop } => Python::attach(|py| {
                let drain = Drain {
                    notifier: Arc::downgrade(self),
                };
                // A closed loop has nothing left to resume.
                let _ = event_loop
                    .bind(py)
                    .call_method1(intern!(py, "call_soon_threadsafe"), (drain,));
            }),
        }
    }

    /// The loop's reader callback: polls every queued call.
    ///
    /// The order matters: the wake-up bytes are read first, then `signalled` is cleared,
    /// then the queue taken. A call pushed before the clear is in the queue taken here; a
    /// call pushed after it sets `signalled` again and writes a byte no read has consumed,
    /// so the loop drains again. (Clearing before reading could consume the byte of a push
    /// that is not in the queue yet and leave `signalled` set: that call would never be
    /// resumed.)
    fn drain(&self, py: Python<'_>) {
        #[cfg(unix)]
        if let Wakeup::Socket { rx, .. } = &self.wakeup {
            use std::io::Read;
            let mut buf = [0u8; 64];
            while let Ok(n) = (&*rx).read(&mut buf) {
                if n < buf.len() {
                    break;
                }
            }
        }
        self.signalled.store(false, Ordering::SeqCst);
        let calls = std::mem::take(&mut *self.ready.lock().unwrap_or_else(|e| e.into_inner()));
        for call in calls {
            // Cleared before polling: a wake during the poll queues the call again.
            call.queued.store(false, Ordering::SeqCst);
            call.resume(py);
        }
    }

    /// A notifier for `event_loop`, registered with it.
    fn register(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Notifier>> {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let (rx, tx) = std::os::unix::net::UnixStream::pair()?;
            rx.set_nonblocking(true)?;
            tx.set_nonblocking(true)?;
            let fd = rx.as_raw_fd();
            let n = Arc::new(Notifier {
                ready: Mutex::new(Vec::new()),
                signalled: AtomicBool::new(false),
                wakeup: Wakeup::Socket { tx, rx },
            });
            let drain = Drain {
                notifier: Arc::downgrade(&n),
            };
            match event_loop.call_method1(intern!(py, "add_reader"), (fd, drain)) {
                Ok(_) => return Ok(n),
                Err(e) if e.is_instance_of::<pyo3::exceptions::PyNotImplementedError>(py) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Arc::new(Notifier {
            ready: Mutex::new(Vec::new()),
            signalled: AtomicBool::new(false),
            wakeup: Wakeup::Threadsafe {
                event_loop: event_loop.clone().unbind(),
            },
        }))
    }
}

/// The loop's reader callback (see [`Notifier::drain`]).
#[pyclass(frozen, module = "interaction_store._native")]
struct Drain {
    notifier: Weak<Notifier>,
}

#[pymethods]
impl Drain {
    #[pyo3(signature = (*_args))]
    fn __call__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) {
        if let Some(n) = self.notifier.upgrade() {
            n.drain(py);
        }
    }
}

thread_local! {
    /// The event loops that ran calls on this thread, with their notifiers. A loop runs on
    /// one thread, so a thread-local list finds it without locking; closed loops are
    /// forgotten when the next loop registers.
    static LOOPS: RefCell<Vec<(Py<PyAny>, Arc<Notifier>)>> = const { RefCell::new(Vec::new()) };
}

/// The running event loop of this thread and its notifier (registered on first use).
fn running_loop<'py>(py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, Arc<Notifier>)> {
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let event_loop = GET_RUNNING_LOOP
        .import(py, "asyncio", "_get_running_loop")?
        .call0()?;
    if event_loop.is_none() {
        return Err(PyRuntimeError::new_err("no running event loop"));
    }
    let known = LOOPS.with(|loops| {
        loops
            .borrow()
            .iter()
            .find(|(l, _)| l.as_ptr() == event_loop.as_ptr())
            .map(|(_, n)| n.clone())
    });
    if let Some(n) = known {
        return Ok((event_loop, n));
    }
    let closed: Vec<bool> = LOOPS.with(|loops| {
        loops
            .borrow()
            .iter()
            .map(|(l, _)| {
                l.bind(py)
                    .call_method0(intern!(py, "is_closed"))
                    .and_then(|c| c.is_truthy())
                    .unwrap_or(true)
            })
            .collect()
    });
    let n = Notifier::register(py, &event_loop)?;
    LOOPS.with(|loops| {
        let mut loops = loops.borrow_mut();
        let mut i = 0;
        loops.retain(|_| {
            i += 1;
            !closed.get(i - 1).copied().unwrap_or(false)
        });
        loops.push((event_loop.clone().unbind(), n.clone()));
    });
    Ok((event_loop, n))
}

/// A call into the store from the asyncio API: a coroutine (`send`, `throw`, `close`,
/// `__await__`; registered as a `collections.abc.Coroutine`). Nothing runs until a task
/// awaits it.
#[pyclass(frozen, module = "interaction_store._native")]
pub(crate) struct Call {
    name: &'static str,
    shared: Arc<Shared>,
}

impl Call {
    fn new(name: &'static str, fut: CallFuture) -> Self {
        Call {
            name,
            shared: Arc::new(Shared {
                slot: Mutex::new(Slot::Idle(fut)),
                notifier: OnceLock::new(),
                queued: AtomicBool::new(false),
            }),
        }
    }

    /// Runs the call one step: the first step polls the future, a later one delivers its
    /// outcome. Returns the asyncio future to wait on, or raises `StopIteration(value)`
    /// or the call's exception.
    fn step(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let shared = &self.shared;
        let mut slot = shared.slot();
        match std::mem::replace(&mut *slot, Slot::Done) {
            Slot::Idle(mut fut) => {
                *slot = Slot::Polling;
                drop(slot);
                let (event_loop, notifier) = match running_loop(py) {
                    Ok(l) => l,
                    Err(e) => {
                        *shared.slot() = Slot::Done;
                        drop_future(fut);
                        return Err(e);
                    }
                };
                let _ = shared.notifier.set(Arc::downgrade(&notifier));
                match shared.poll(&mut fut) {
                    Poll::Ready(outcome) => {
                        *shared.slot() = Slot::Done;
                        drop_future(fut);
                        deliver(py, outcome)
                    }
                    Poll::Pending => {
                        let waiter = match event_loop.call_method0(intern!(py, "create_future")) {
                            Ok(w) => w,
                            Err(e) => {
                                *shared.slot() = Slot::Done;
                                drop_future(fut);
                                return Err(e);
                            }
                        };
                        // What `yield from future` sets: the task waits on it.
                        waiter.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
                        let mut slot = shared.slot();
                        if matches!(*slot, Slot::Polling) {
                            *slot = Slot::Waiting(fut, waiter.clone().unbind());
                            Ok(waiter.unbind())
                        } else {
                            drop(slot);
                            drop_future(fut);
                            Err(PyRuntimeError::new_err("the call was closed while it ran"))
                        }
                    }
                }
            }
            Slot::Ready(outcome) => {
                drop(slot);
                deliver(py, outcome)
            }
            Slot::Waiting(fut, waiter) => {
                // Stepped before its waiter resolved: wait on it again.
                let w = waiter.clone_ref(py);
                *slot = Slot::Waiting(fut, waiter);
                drop(slot);
                w.bind(py)
                    .setattr(intern!(py, "_asyncio_future_blocking"), true)?;
                Ok(w)
            }
            Slot::Polling => {
                *slot = Slot::Polling;
                Err(PyRuntimeError::new_err("coroutine is already running"))
            }
            Slot::Done => Err(PyRuntimeError::new_err(
                "cannot reuse already awaited coroutine",
            )),
        }
    }
}

/// Ends the coroutine with the call's value (`StopIteration(value)`) or its exception.
fn deliver(py: Python<'_>, outcome: Outcome) -> PyResult<Py<PyAny>> {
    let value = outcome(py)?;
    Err(PyStopIteration::new_err((value,)))
}

impl Drop for Call {
    fn drop(&mut self) {
        self.shared.abandon();
    }
}

#[pymethods]
impl Call {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.step(py)
    }

    /// The asyncio future a waiting call holds (it refers back to the task awaiting
    /// the call): visible to the garbage collector, so an abandoned task is collected.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(slot) = self.shared.slot.try_lock() {
            if let Slot::Waiting(_, waiter) = &*slot {
                visit.call(waiter)?;
            }
        }
        Ok(())
    }

    fn __clear__(&self) {
        self.shared.abandon();
    }

    fn send(&self, py: Python<'_>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.step(py)
    }

    /// Abandons the call (drops the core future) and raises `exc` in the awaiting code,
    /// as asyncio does to cancel a task.
    #[pyo3(signature = (typ, val=None, _tb=None))]
    fn throw(
        &self,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.shared.abandon();
        let exc = match val {
            Some(v) if !v.is_none() => v,
            _ => typ,
        };
        Err(PyErr::from_value(exc.clone()))
    }

    /// Abandons the call (drops the core future).
    fn close(&self) {
        self.shared.abandon();
    }

    #[getter]
    fn __name__(&self) -> &'static str {
        self.name.rsplit('.').next().unwrap_or(self.name)
    }

    #[getter]
    fn __qualname__(&self) -> &'static str {
        self.name
    }

    fn __repr__(&self) -> String {
        format!("<interaction_store call {}>", self.name)
    }
}

/// Registers [`Call`] as a `collections.abc.Coroutine` (at import), so that
/// `asyncio.create_task()` and `TaskGroup.create_task()` accept it.
pub(crate) fn register(py: Python<'_>) -> PyResult<()> {
    py.import("collections.abc")?
        .getattr("Coroutine")?
        .call_method1("register", (py.get_type::<Call>(),))?;
    Ok(())
}
