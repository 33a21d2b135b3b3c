//! The core's `tracing` events on Python's `logging`.
//!
//! The core emits `tracing` events (target `interaction_core::…`); with no tracing
//! subscriber installed they arrive as `log` records. They are forwarded by `pyo3-log`
//! to the stdlib logger `interaction_store` (target `interaction_core::exec` becomes the
//! logger `interaction_store.exec`, a child of `interaction_store`). Records of other
//! crates (drivers, runtime) are not forwarded.
//!
//! `pyo3-log` caches each Python logger's effective level on first use, so that a
//! disabled level costs nothing and takes no GIL; the cache is reset whenever a store is
//! opened, so levels configured before `connect()` are always honoured.

use std::sync::OnceLock;

use log::{LevelFilter, Log, Metadata, Record};
use pyo3::prelude::*;
use pyo3_log::{Caching, Logger, ResetHandle};

/// The core's `tracing` target, and the Python logger it becomes.
const CORE_TARGET: &str = "interaction_core";
const PY_LOGGER: &str = "interaction_store";

static RESET: OnceLock<ResetHandle> = OnceLock::new();

/// Forwards the core's records, renamed, to a `pyo3-log` logger.
struct Renamed(Logger);

/// `interaction_core::exec` -> `interaction_store::exec`; `None` for other crates.
fn rename(target: &str) -> Option<String> {
    let rest = target.strip_prefix(CORE_TARGET)?;
    (rest.is_empty() || rest.starts_with("::")).then(|| format!("{PY_LOGGER}{rest}"))
}

impl Log for Renamed {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        rename(metadata.target()).is_some_and(|target| {
            self.0.enabled(
                &Metadata::builder()
                    .level(metadata.level())
                    .target(&target)
                    .build(),
            )
        })
    }

    fn log(&self, record: &Record<'_>) {
        let Some(target) = rename(record.target()) else {
            return;
        };
        self.0.log(
            &Record::builder()
                .args(*record.args())
                .level(record.level())
                .target(&target)
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Installs the bridge once per process (at import).
pub(crate) fn init(py: Python<'_>) -> PyResult<()> {
    if RESET.get().is_some() {
        return Ok(());
    }
    let logger = Logger::new(py, Caching::LoggersAndLevels)?.filter(LevelFilter::Debug);
    let handle = logger.reset_handle();
    // Another logger already installed (e.g. by an embedding Rust program): keep it.
    if log::set_boxed_logger(Box::new(Renamed(logger))).is_ok() {
        log::set_max_level(LevelFilter::Debug);
        let _ = RESET.set(handle);
    }
    Ok(())
}

/// Forgets the cached Python loggers and levels (called when a store is opened).
pub(crate) fn reset_levels() {
    if let Some(handle) = RESET.get() {
        handle.reset();
    }
}
