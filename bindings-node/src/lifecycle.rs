//! `Clock`: the store's source of time (`connect(url, { clock })`). A thin class around
//! the core's `Clock`; every rule (ranges, what the system clock refuses) is the core's.

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{Either, Undefined};
use napi_derive::napi;

use crate::convert::{instant, millis};
use crate::errors::IntoJs;

/// The core's field name of every clock error.
const CLOCK: &str = "clock";

/// Where a store reads the current time: the system clock (the default) or a manual clock
/// that only moves when told to (tests, demos, data generators). Every timestamp the store
/// writes or compares (creation, deletion, token expiry, archival and retention cut-offs)
/// comes from it. Copies share the time: advance a manual clock passed as
/// `connect(url, { clock })` and every call of that store sees it (`store.clock` is the
/// same clock).
#[napi]
pub struct Clock {
    pub(crate) inner: interaction_core::Clock,
}

#[napi]
impl Clock {
    /// The system clock (UTC).
    #[napi(factory, writable = true, configurable = true)]
    pub fn system() -> Clock {
        Clock {
            inner: interaction_core::Clock::system(),
        }
    }

    /// A clock that reads `start` (a `Date` or an ISO-8601 string with an offset) until
    /// `set()` or `advance()` moves it.
    #[napi(factory, writable = true, configurable = true)]
    pub fn manual(
        #[napi(ts_arg_type = "Date | string")] start: Either<DateTime<Utc>, String>,
    ) -> napi::Result<Clock> {
        Ok(Clock {
            inner: interaction_core::Clock::manual(instant(CLOCK, start)?),
        })
    }

    /// Whether this is a manual clock.
    #[napi(getter)]
    pub fn is_manual(&self) -> bool {
        self.inner.is_manual()
    }

    /// The current time (a `Date`: millisecond precision; the store keeps microseconds).
    #[napi]
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.now()
    }

    /// Sets a manual clock to `t` (it may go backwards, like a corrected system clock). On
    /// the system clock: `VALIDATION` (field `clock`).
    #[napi]
    pub fn set(
        &self,
        #[napi(ts_arg_type = "Date | string")] t: Either<DateTime<Utc>, String>,
    ) -> napi::Result<Undefined> {
        self.inner.set(instant(CLOCK, t)?).js()
    }

    /// Moves a manual clock forward by `ms` milliseconds (a non-negative integer). On the
    /// system clock: `VALIDATION` (field `clock`).
    #[napi]
    pub fn advance(&self, ms: f64) -> napi::Result<Undefined> {
        self.inner.advance(millis(CLOCK, ms)?).js()
    }
}
