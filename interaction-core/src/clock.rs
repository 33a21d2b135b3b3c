//! The store's source of time. Every timestamp the library writes or compares (creation,
//! deletion, token expiry, archival and retention cut-offs, audit rows) is read from the
//! store's [`Clock`], so retention, archival and expiry are testable without waiting and
//! without touching rows by hand.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};

use crate::error::{Error, Result};

/// Where a store reads the current time: the system clock (the default) or a manual clock
/// that only moves when told to (tests, demos, data generators).
///
/// Clones share the same time: advance a manual clock given to
/// [`StoreOptions::clock`](crate::StoreOptions::clock) and every call of that store sees it.
///
/// ```
/// use interaction_core::Clock;
/// let start = "2020-01-01T00:00:00Z".parse().unwrap();
/// let clock = Clock::manual(start);
/// clock.advance(std::time::Duration::from_secs(86_400)).unwrap();
/// assert_eq!(clock.now().to_rfc3339(), "2020-01-02T00:00:00+00:00");
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.manual {
            None => f.write_str("Clock::system()"),
            Some(_) => write!(f, "Clock::manual({})", self.now()),
        }
    }
}

impl Clock {
    /// The system clock (UTC).
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that reads `start` until [`set`](Self::set) or [`advance`](Self::advance)
    /// moves it.
    pub fn manual(start: DateTime<Utc>) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(start.trunc_subsecs(6)))),
        }
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// The current time, to the microsecond (what both backends store).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            None => Utc::now().trunc_subsecs(6),
            Some(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
        }
    }

    /// Sets a manual clock to `t` (it may go backwards, like a corrected system clock).
    /// On the system clock this is a [`Error::Validation`] of `clock`.
    pub fn set(&self, t: DateTime<Utc>) -> Result<()> {
        let m = self.manual_or_err()?;
        crate::validate::in_range("clock", t)?;
        *m.lock().unwrap_or_else(|p| p.into_inner()) = t.trunc_subsecs(6);
        Ok(())
    }

    /// Moves a manual clock forward by `d`. On the system clock this is a
    /// [`Error::Validation`] of `clock`.
    pub fn advance(&self, d: std::time::Duration) -> Result<()> {
        let m = self.manual_or_err()?;
        let mut t = m.lock().unwrap_or_else(|p| p.into_inner());
        let next = chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| t.checked_add_signed(d))
            .ok_or_else(|| Error::validation("clock", "advanced past the supported range"))?;
        let next = crate::validate::in_range("clock", next)?;
        *t = next.trunc_subsecs(6);
        Ok(())
    }

    fn manual_or_err(&self) -> Result<&Arc<Mutex<DateTime<Utc>>>> {
        self.manual
            .as_ref()
            .ok_or_else(|| Error::validation("clock", "the system clock cannot be set"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let start: DateTime<Utc> = "2021-03-04T05:06:07.123456789Z".parse().unwrap();
        let c = Clock::manual(start);
        let other = c.clone();
        assert_eq!(c.now(), start.trunc_subsecs(6));
        other.advance(std::time::Duration::from_secs(60)).unwrap();
        assert_eq!(
            c.now(),
            start.trunc_subsecs(6) + chrono::Duration::seconds(60)
        );
        assert!(Clock::system().set(start).is_err());
        assert!(Clock::system()
            .advance(std::time::Duration::from_secs(1))
            .is_err());
        assert!(c
            .advance(std::time::Duration::from_secs(u64::MAX / 4))
            .is_err());
    }
}
