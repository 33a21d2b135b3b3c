//! The one mapping from core errors to JavaScript rejections.
//!
//! napi 3 async functions can only reject with its built-in `Status`, so the stable code
//! travels in the reason: `interaction-store-error:` followed by a JSON object with `code`
//! (`ErrorKind::code()`), `field` (validation errors) and `message`. The package's
//! `index.js` turns it back into an `Error` with `code` and `field` properties.

use interaction_core::{Error as CoreError, ErrorKind};

/// Prefix of every encoded error reason; `index.js` looks for exactly this.
pub(crate) const MARKER: &str = "interaction-store-error:";

/// Encodes `kind`, `field` and `message` into a napi error.
fn encode(kind: ErrorKind, field: Option<&str>, message: &str) -> napi::Error {
    let payload = serde_json::json!({
        "code": kind.code(),
        "field": field,
        "message": message,
    });
    napi::Error::from_reason(format!("{MARKER}{payload}"))
}

/// Maps a core error by its kind, never by its text.
pub(crate) fn to_js(e: CoreError) -> napi::Error {
    encode(e.kind(), e.field(), &e.to_string())
}

/// A conversion error raised by the binding itself (a JS value that has no Rust meaning,
/// such as a fractional id): reported exactly like a core validation error.
pub(crate) fn invalid(field: &str, message: impl AsRef<str>) -> napi::Error {
    let message = message.as_ref();
    encode(
        ErrorKind::Validation,
        Some(field),
        &format!("invalid {field}: {message}"),
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
