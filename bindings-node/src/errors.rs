//! The one mapping from core errors to JavaScript rejections.
//!
//! napi 3 async functions can only reject with its built-in `Status`, so the stable code
//! travels in the reason: `interaction-store-error:` followed by a JSON object with `code`
//! (`ErrorKind::code()`), `field` (validation errors), `message`, `retryable`
//! (`Error::is_retryable()`) and `cause` (the text of the core error's `source()` chain,
//! `null` when there is none). The package's `index.js` turns it back into an `Error` with
//! those properties.

use std::error::Error as _;

use interaction_core::{Error as CoreError, ErrorKind};

/// Prefix of every encoded error reason; `index.js` looks for exactly this.
pub(crate) const MARKER: &str = "interaction-store-error:";

/// Encodes an error's kind, field, message, retryability and cause into a napi error.
fn encode(
    kind: ErrorKind,
    field: Option<&str>,
    message: &str,
    retryable: bool,
    cause: Option<String>,
) -> napi::Error {
    let payload = serde_json::json!({
        "code": kind.code(),
        "field": field,
        "message": message,
        "retryable": retryable,
        "cause": cause,
    });
    napi::Error::from_reason(format!("{MARKER}{payload}"))
}

/// The `source()` chain of `e`, outermost first, joined with `: `; `None` without one. A
/// source whose text its wrapper already shows (sqlx's I/O errors) is not repeated.
fn cause(e: &CoreError) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut next = e.source();
    while let Some(s) = next {
        let text = s.to_string();
        if !parts.last().is_some_and(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = s.source();
    }
    (!parts.is_empty()).then(|| parts.join(": "))
}

/// Maps a core error by its kind, never by its text.
pub(crate) fn to_js(e: CoreError) -> napi::Error {
    encode(
        e.kind(),
        e.field(),
        &e.to_string(),
        e.is_retryable(),
        cause(&e),
    )
}

/// A conversion error raised by the binding itself (a JS value that has no Rust meaning,
/// such as a fractional id): reported exactly like a core validation error.
pub(crate) fn invalid(field: &str, message: impl AsRef<str>) -> napi::Error {
    let message = message.as_ref();
    let kind = ErrorKind::Validation;
    encode(
        kind,
        Some(field),
        &format!("invalid {field}: {message}"),
        kind.is_retryable(),
        None,
    )
}

/// `Result` of a core call, mapped for JavaScript.
pub(crate) trait IntoJs<T> {
    /// Maps the error with [`to_js`].
    fn js(self) -> napi::Result<T>;
}

impl<T> IntoJs<T> for Result<T, CoreError> {
    fn js(self) -> napi::Result<T> {
        self.map_err(to_js)
    }
}
