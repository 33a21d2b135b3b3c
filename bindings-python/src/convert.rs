//! Python → Rust argument conversion.
//!
//! The rule: a value of the wrong Python type raises `TypeError`; a value of the right
//! type that cannot be used raises `ValidationError` (with the field name). Integers out
//! of range are saturated so that the core refuses them with its own validation error.

use std::time::Duration;

use chrono::{DateTime, Utc};
use interaction_core::{RangeMode, Role, Sort, When};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDelta, PyDeltaAccess, PyFloat, PyInt, PyTzInfo, PyTzInfoAccess};

use crate::errors::invalid;
use crate::values::LocalTime;

/// Raises `TypeError` naming the argument and the expected type.
pub(crate) fn type_error(name: &str, expected: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let got = got
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_string());
    PyTypeError::new_err(format!("argument '{name}' must be {expected}, not {got}"))
}

/// An `int`, saturated to the `i64` range.
pub(crate) fn int(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<i64> {
    if !ob.is_instance_of::<PyInt>() {
        return Err(type_error(name, "int", ob));
    }
    match ob.extract::<i64>() {
        Ok(v) => Ok(v),
        Err(e) if e.is_instance_of::<PyOverflowError>(ob.py()) => {
            Ok(if ob.gt(0)? { i64::MAX } else { i64::MIN })
        }
        Err(e) => Err(e),
    }
}

/// An optional `int`.
pub(crate) fn opt_int(name: &str, ob: Option<&Bound<'_, PyAny>>) -> PyResult<Option<i64>> {
    match ob {
        Some(o) if !o.is_none() => int(name, o).map(Some),
        _ => Ok(None),
    }
}

/// A page size or count limit, saturated to `u32` (0 for negatives): the core checks the
/// range.
pub(crate) fn limit(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<u32> {
    let v = int(name, ob)?;
    Ok(u32::try_from(v.max(0)).unwrap_or(u32::MAX))
}

/// Like [`limit`], with a default for a missing or `None` argument.
pub(crate) fn limit_or(name: &str, ob: Option<&Bound<'_, PyAny>>, default: u32) -> PyResult<u32> {
    match ob {
        Some(o) if !o.is_none() => limit(name, o),
        _ => Ok(default),
    }
}

/// A `str`.
pub(crate) fn string(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<String> {
    if !ob.is_instance_of::<pyo3::types::PyString>() {
        return Err(type_error(name, "str", ob));
    }
    ob.extract()
}

/// A list or tuple of `str` (not a bare `str`, whose characters would be taken one by
/// one).
pub(crate) fn strings(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if !(ob.is_instance_of::<pyo3::types::PyList>() || ob.is_instance_of::<pyo3::types::PyTuple>())
    {
        return Err(type_error(name, "a list of str", ob));
    }
    ob.try_iter()?.map(|item| string(name, &item?)).collect()
}

/// `None` or a `str`.
pub(crate) fn opt_string(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if ob.is_none() {
        Ok(None)
    } else {
        string(name, ob).map(Some)
    }
}

/// A `bool` (not any truthy object).
pub(crate) fn boolean(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<bool> {
    if !ob.is_instance_of::<pyo3::types::PyBool>() {
        return Err(type_error(name, "bool", ob));
    }
    ob.extract()
}

/// A role name, parsed by the core (`viewer`, `editor`, `admin`).
pub(crate) fn role(ob: &Bound<'_, PyAny>) -> PyResult<Role> {
    let s = string("role", ob)?;
    s.parse::<Role>()
        .map_err(|e| crate::errors::to_py_err(ob.py(), e))
}

/// A sort name, parsed by the core.
pub(crate) fn sort(ob: &Bound<'_, PyAny>) -> PyResult<Sort> {
    let s = string("sort", ob)?;
    s.parse::<Sort>()
        .map_err(|e| crate::errors::to_py_err(ob.py(), e))
}

/// A date-range mode name, parsed by the core.
pub(crate) fn range_mode(ob: &Bound<'_, PyAny>) -> PyResult<RangeMode> {
    let s = string("mode", ob)?;
    s.parse::<RangeMode>()
        .map_err(|e| crate::errors::to_py_err(ob.py(), e))
}

fn is_aware(dt: &Bound<'_, PyDateTime>) -> PyResult<bool> {
    Ok(match dt.get_tzinfo() {
        None => false,
        Some(tz) => !tz.call_method1("utcoffset", (dt,))?.is_none(),
    })
}

/// An aware `datetime`, as a UTC instant. A naive one is a `ValidationError`.
pub(crate) fn instant(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<DateTime<Utc>> {
    let Ok(dt) = ob.cast::<PyDateTime>() else {
        return Err(type_error(field, "an aware datetime", ob));
    };
    if !is_aware(dt)? {
        return Err(invalid(
            field,
            "naive datetime: give an aware datetime (e.g. tzinfo=timezone.utc) for an \
             instant, or LocalTime(naive) for a wall-clock time in the interaction's \
             timezone",
        ));
    }
    let utc = PyTzInfo::utc(ob.py())?;
    match dt.call_method1("astimezone", (utc,)) {
        Ok(t) => t.extract(),
        // Python's datetime cannot hold the UTC instant (year 0 or 10000): the same
        // refusal the core gives any instant outside years 1..9999.
        Err(e) if e.is_instance_of::<PyOverflowError>(ob.py()) => Err(invalid(
            field,
            "is outside 0001-01-01..9999-12-31 UTC once converted to UTC",
        )),
        Err(e) => Err(e),
    }
}

/// An aware `datetime` (an instant) or a `LocalTime` (a wall-clock time in the
/// interaction's zone).
pub(crate) fn when(field: &str, ob: &Bound<'_, PyAny>) -> PyResult<When> {
    if let Ok(local) = ob.cast::<LocalTime>() {
        return Ok(When::Local(local.get().value));
    }
    if !ob.is_instance_of::<PyDateTime>() {
        return Err(type_error(field, "an aware datetime or a LocalTime", ob));
    }
    instant(field, ob).map(When::Instant)
}

/// Seconds (`int`/`float`) or a `timedelta`, not negative.
pub(crate) fn duration(name: &str, ob: &Bound<'_, PyAny>) -> PyResult<Duration> {
    let secs: f64 = if let Ok(d) = ob.cast::<PyDelta>() {
        d.get_days() as f64 * 86_400.0
            + f64::from(d.get_seconds())
            + f64::from(d.get_microseconds()) / 1e6
    } else if ob.is_instance_of::<PyInt>() && !ob.is_instance_of::<pyo3::types::PyBool>()
        || ob.is_instance_of::<PyFloat>()
    {
        ob.extract()?
    } else {
        return Err(type_error(
            name,
            "seconds (int or float) or a timedelta",
            ob,
        ));
    };
    Duration::try_from_secs_f64(secs)
        .map_err(|_| invalid(name, "must be a finite, non-negative duration"))
}
