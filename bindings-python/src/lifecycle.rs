//! `Clock` and `RetentionPolicy`: the data-lifecycle options of `connect()` (`clock=`,
//! `retention=`). Thin wrappers around the core values; every rule (ranges, defaults)
//! is the core's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use interaction_core as core;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict};

use crate::convert;
use crate::errors::to_py_err;

/// The core's field name of every clock error (`Clock::set`, `Clock::advance`).
const CLOCK: &str = "clock";

/// An aware `datetime` for the clock: `TypeError` names the argument, a naive one is a
/// `ValidationError` of `clock`.
fn clock_instant(arg: &str, ob: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    if !ob.is_instance_of::<PyDateTime>() {
        return Err(convert::type_error(arg, "an aware datetime", ob));
    }
    convert::instant(CLOCK, ob)
}

/// Where a store reads the current time: the system clock (the default) or a manual clock
/// that only moves when told to (tests, demos, data generators). Every timestamp the store
/// writes or compares (creation, deletion, token expiry, archival and retention cut-offs)
/// comes from it. Copies share the time: advance a manual clock passed as `connect(...,
/// clock=)` and every call of that store sees it.
#[pyclass(frozen, module = "interaction_store")]
#[derive(Clone)]
pub struct Clock {
    pub(crate) inner: core::Clock,
}

impl Clock {
    pub(crate) fn new(inner: core::Clock) -> Self {
        Clock { inner }
    }
}

#[pymethods]
impl Clock {
    /// The system clock (UTC).
    #[staticmethod]
    fn system() -> Self {
        Clock::new(core::Clock::system())
    }

    /// A clock that reads `start` (an aware datetime) until `set()` or `advance()` moves
    /// it.
    #[staticmethod]
    fn manual(start: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Clock::new(core::Clock::manual(clock_instant(
            "start", start,
        )?)))
    }

    /// Whether this is a manual clock.
    #[getter]
    fn is_manual(&self) -> bool {
        self.inner.is_manual()
    }

    /// The current time (an aware datetime in UTC, to the microsecond).
    fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    /// Sets a manual clock to `t`, an aware datetime (it may go backwards, like a
    /// corrected system clock). On the system clock: `ValidationError` (field `clock`).
    fn set(&self, py: Python<'_>, t: &Bound<'_, PyAny>) -> PyResult<()> {
        let t = clock_instant("t", t)?;
        self.inner.set(t).map_err(|e| to_py_err(py, e))
    }

    /// Moves a manual clock forward by `delta` (a `timedelta` or seconds). On the system
    /// clock: `ValidationError` (field `clock`).
    fn advance(&self, py: Python<'_>, delta: &Bound<'_, PyAny>) -> PyResult<()> {
        let d = convert::duration(CLOCK, delta)?;
        self.inner.advance(d).map_err(|e| to_py_err(py, e))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        if self.inner.is_manual() {
            Ok(format!(
                "Clock.manual({})",
                self.inner.now().into_pyobject(py)?.repr()?
            ))
        } else {
            Ok("Clock.system()".to_string())
        }
    }
}

/// Declares `RetentionPolicy` with one keyword argument and one attribute per core field.
macro_rules! retention_policy {
    ($( $(#[$doc:meta])* $field:ident ),* $(,)?) => {
        /// How long each kind of data is kept before `InteractionStore.purge()` deletes (or
        /// anonymises) it: pass it as `connect(..., retention=)`. Keyword arguments are
        /// `timedelta`s (or seconds); an omitted one keeps the core's default (spec §6.1,
        /// §6.4). The store checks every period when it opens (between one hour and 100
        /// years: else `ValidationError`, field `retention.<name>`). Immutable.
        #[pyclass(frozen, eq, module = "interaction_store")]
        #[derive(Clone, PartialEq)]
        pub struct RetentionPolicy {
            pub(crate) inner: core::RetentionPolicy,
        }

        #[pymethods]
        impl RetentionPolicy {
            #[new]
            #[allow(clippy::too_many_arguments)]
            #[pyo3(signature = (*, $($field = None),*))]
            fn new($($field: Option<&Bound<'_, PyAny>>),*) -> PyResult<Self> {
                let mut inner = core::RetentionPolicy::default();
                $(
                    if let Some(v) = $field {
                        if !v.is_none() {
                            inner.$field = period(stringify!($field), v)?;
                        }
                    }
                )*
                Ok(RetentionPolicy { inner })
            }

            $(
                $(#[$doc])*
                #[getter]
                fn $field(&self) -> Duration {
                    self.inner.$field
                }
            )*

            /// Every period in a new dict (`timedelta`s).
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $( d.set_item(stringify!($field), self.inner.$field)?; )*
                Ok(d)
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!(
                        "{}={}",
                        stringify!($field),
                        self.inner.$field.into_pyobject(py)?.repr()?
                    )
                ),*];
                Ok(format!("RetentionPolicy({})", parts.join(", ")))
            }
        }
    };
}

/// One period of a `RetentionPolicy`: the core's field name is `retention.<name>`.
fn period(name: &str, v: &Bound<'_, PyAny>) -> PyResult<Duration> {
    convert::duration(&format!("retention.{name}"), v)
}

retention_policy! {
    /// Soft-deleted interactions are deleted for good this long after their deletion (and
    /// can be restored until then). Default 30 days.
    deleted_interactions,
    /// Archived interactions are deleted this long after their archival. Default 5 years.
    archived_interactions,
    /// Access-log rows of reads and refused calls (access attempts) are deleted after this
    /// long. Default 1 year.
    access_attempts,
    /// Login and logout records are anonymised (username, user and detail removed; the row
    /// kept for counts) after this long. Default 1 year.
    user_activity,
    /// Login and logout records are deleted after this long. Default 2 years.
    authentication_logs,
    /// Audit rows of changes to interactions are deleted after this long. Default 2 years.
    data_modifications,
    /// Audit rows of administration (users, sites, roles, archival, purges, anonymisation)
    /// are deleted after this long. Default 3 years.
    admin_actions,
    /// Audit rows of schema migrations are deleted after this long. Default 5 years.
    schema_changes,
}
