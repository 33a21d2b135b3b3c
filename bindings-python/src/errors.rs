//! Error mapping: one core [`Error`] becomes one exception of the hierarchy declared in
//! `interaction_store/_errors.py`, chosen by [`Error::kind`] (never by message text).

use interaction_core::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The Python class name of each error kind.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Validation => "ValidationError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::PermissionDenied => "PermissionDeniedError",
        ErrorKind::AuthenticationFailed => "AuthenticationError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::SchemaVersion => "SchemaVersionError",
        ErrorKind::Unavailable => "UnavailableError",
        // Internal, and any kind added to the core later.
        _ => "InternalError",
    }
}

/// Converts a core error into the matching Python exception.
pub(crate) fn to_py_err(py: Python<'_>, e: Error) -> PyErr {
    match build(py, &e) {
        Ok(err) => err,
        // The hierarchy could not be imported: still raise something meaningful.
        Err(import_failure) => import_failure,
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("interaction_store._errors")?;
    let cls = module.getattr(class_name(e.kind()))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("field", e.field())?;
    let exc = cls.call((e.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// An `UnavailableError` raised by the binding itself (closed store, forked process).
pub(crate) fn unavailable(message: impl Into<String>) -> PyErr {
    Python::attach(|py| to_py_err(py, Error::unavailable(message)))
}

/// A `ValidationError` for a value of the right Python type that cannot be converted
/// (a naive datetime, an unknown sort name, a negative timeout).
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> PyErr {
    Python::attach(|py| {
        to_py_err(
            py,
            Error::Validation {
                field: field.to_string(),
                message: message.into(),
            },
        )
    })
}
