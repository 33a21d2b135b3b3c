//! JavaScript values to core inputs. Only representation is checked here (a number that
//! is not an integer, a string that is not a date-time); every rule is the core's.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use interaction_core::{RangeMode, Role, Sort, When};
use napi::bindgen_prelude::{Either, Either3};

use crate::errors::invalid;
use crate::types::LocalTime;

/// Largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JS number that must be an integer (ids, versions). Range rules (positive, fits the
/// column) are the core's.
pub(crate) fn int(field: &str, v: f64) -> napi::Result<i64> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() <= MAX_SAFE_INTEGER {
        Ok(v as i64)
    } else {
        Err(invalid(field, format!("{v} is not an integer")))
    }
}

/// A JS number that must be a non-negative integer fitting `u32` (limits, pool sizes).
pub(crate) fn uint(field: &str, v: f64) -> napi::Result<u32> {
    let i = int(field, v)?;
    u32::try_from(i).map_err(|_| invalid(field, format!("{v} is out of range")))
}

/// Milliseconds as a [`Duration`].
pub(crate) fn millis(field: &str, v: f64) -> napi::Result<Duration> {
    let i = int(field, v)?;
    u64::try_from(i)
        .map(Duration::from_millis)
        .map_err(|_| invalid(field, format!("{v} must not be negative")))
}

/// A role name (`viewer`, `editor`, `admin`), parsed by the core.
pub(crate) fn role(v: &str) -> napi::Result<Role> {
    v.parse().map_err(crate::errors::to_js)
}

/// A Finder sort order (`start_desc`, `start_asc`, `created_desc`, `relevance`), parsed
/// by the core.
pub(crate) fn sort(v: &str) -> napi::Result<Sort> {
    v.parse().map_err(crate::errors::to_js)
}

/// A date-range mode (`overlap`, `contained`), parsed by the core.
pub(crate) fn range_mode(v: &str) -> napi::Result<RangeMode> {
    v.parse().map_err(crate::errors::to_js)
}

/// An instant: a `Date`, or an ISO-8601 / RFC 3339 string with a UTC offset. A string
/// without an offset is refused: it would be a guess.
pub(crate) fn instant(
    field: &str,
    v: Either<DateTime<Utc>, String>,
) -> napi::Result<DateTime<Utc>> {
    match v {
        Either::A(t) => Ok(t),
        Either::B(s) => parse_instant(field, &s),
    }
}

fn parse_instant(field: &str, s: &str) -> napi::Result<DateTime<Utc>> {
    if s.contains('\0') {
        return Err(invalid(field, "must not contain NUL characters"));
    }
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            let hint = if parse_local(s).is_some() {
                "has no UTC offset: add one ('Z', '+01:00') or pass { local: '...' } for a \
                 wall-clock time in the interaction's timezone"
            } else {
                "is not an ISO-8601 date-time with a UTC offset (e.g. 2026-12-01T09:30:00Z)"
            };
            invalid(field, format!("{s:?} {hint}"))
        })
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A start or end: an instant (`Date` or string with offset) or `{ local: '...' }`, a
/// wall-clock time in the interaction's timezone (resolved by the core).
pub(crate) fn when(
    field: &str,
    v: Either3<DateTime<Utc>, String, LocalTime>,
) -> napi::Result<When> {
    match v {
        Either3::A(t) => Ok(When::Instant(t)),
        Either3::B(s) => parse_instant(field, &s).map(When::Instant),
        Either3::C(LocalTime { local }) => parse_local(&local).map(When::Local).ok_or_else(|| {
            invalid(
                field,
                format!("{local:?} is not a local date-time (expected e.g. 2026-12-01T09:30:00)"),
            )
        }),
    }
}

/// An instant as the `...Iso` fields carry it: ISO-8601 in UTC with exactly six
/// fractional digits (`2026-12-01T08:30:00.123456Z`), the core's precision.
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An instant of a value given back (`maskInteraction`, `maskUser`): its `...Iso` string
/// when it is one (exact to the microsecond), else the `Date` (milliseconds).
pub(crate) fn exact(date: DateTime<Utc>, iso: Option<&str>) -> DateTime<Utc> {
    iso.and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map_or(date, |t| t.with_timezone(&Utc))
}

/// [`exact`] of a nullable instant.
pub(crate) fn exact_opt(date: Option<DateTime<Utc>>, iso: Option<&str>) -> Option<DateTime<Utc>> {
    date.map(|d| exact(d, iso))
}
