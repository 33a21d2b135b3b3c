//! Error mapping: one core [`Error`] becomes one exception of the hierarchy declared in
//! `interaction_store/_errors.py`, chosen by [`Error::kind`] (never by message text).

use interaction_core::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::PyDict;

const ERRORS_MODULE: &str = "interaction_store._errors";

/// The Python class name of each error kind.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Validation => "ValidationError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::PermissionDenied => "PermissionDeniedError",
        ErrorKind::AuthenticationFailed => "AuthenticationError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::Archived => "ArchivedError",
        ErrorKind::SchemaVersion => "SchemaVersionError",
        ErrorKind::Unavailable => "UnavailableError",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::Configuration => "ConfigurationError",
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
    let module = py.import(ERRORS_MODULE)?;
    let cls = module.getattr(class_name(e.kind()))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("field", e.field())?;
    kwargs.set_item("cause", cause(e))?;
    let exc = cls.call((e.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// The text of the error's `source()` chain (the driver error the core kept), outermost
/// first; `None` when the core error has no cause.
fn cause(e: &Error) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut next = std::error::Error::source(e);
    while let Some(c) = next {
        let text = c.to_string();
        // Drivers often repeat the inner error in the outer one's text.
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = c.source();
    }
    (!parts.is_empty()).then(|| parts.join(": "))
}

/// Sets each exception class's `retryable` from the core's [`ErrorKind::is_retryable`]
/// (at import), so the rule lives in one place.
pub(crate) fn declare_retryable(py: Python<'_>) -> PyResult<()> {
    let module = py.import(ERRORS_MODULE)?;
    for kind in ErrorKind::ALL {
        let cls = module.getattr(class_name(kind))?;
        if cls.getattr("code")?.extract::<String>()? != kind.code() {
            return Err(pyo3::exceptions::PyImportError::new_err(format!(
                "interaction_store._errors.{} does not declare code {}",
                class_name(kind),
                kind.code()
            )));
        }
        cls.setattr("retryable", kind.is_retryable())?;
    }
    Ok(())
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
