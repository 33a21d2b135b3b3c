//! The one error type of the library. Bindings map errors by [`ErrorKind`], never by
//! message text.

use std::fmt;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in an [`InteractionStore`](crate::InteractionStore) call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input failed validation; nothing was written.
    #[error("invalid {field}: {message}")]
    Validation {
        /// The input field at fault (`title`, `end_datetime`, `cursor`, ...).
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The record does not exist, or is not visible from this site.
    #[error("{entity} {id} not found")]
    NotFound {
        /// Entity name (`interaction`, `user`, `site`).
        entity: &'static str,
        /// The identifier that was looked up.
        id: String,
    },
    /// The caller's role does not allow the operation.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// Unknown user, wrong password, inactive user, or an invalid/expired token. One
    /// message for all of them, so accounts cannot be enumerated.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// A concurrent change won (stale `expected_version`), or a uniqueness rule was hit.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database schema is not one this library can use.
    #[error(
        "schema version mismatch: database is at {found}, this library requires {required}; \
         run `migrate` to upgrade the database"
    )]
    SchemaVersion {
        /// The version recorded in the database (`none` for an empty database).
        found: String,
        /// The version this library requires.
        required: String,
    },
    /// The database is unreachable, the pool timed out, or the store is closed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected database error.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The kind of an [`Error`]: a stable, matchable code for bindings and callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::Validation`].
    Validation,
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::PermissionDenied`].
    PermissionDenied,
    /// See [`Error::AuthenticationFailed`].
    AuthenticationFailed,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::SchemaVersion`].
    SchemaVersion,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::Internal`].
    Internal,
}

impl ErrorKind {
    /// The stable code string used by the bindings (`VALIDATION`, `NOT_FOUND`, ...).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "VALIDATION",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::PermissionDenied => "PERMISSION_DENIED",
            ErrorKind::AuthenticationFailed => "AUTHENTICATION_FAILED",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::SchemaVersion => "SCHEMA_VERSION",
            ErrorKind::Unavailable => "UNAVAILABLE",
            ErrorKind::Internal => "INTERNAL",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation { .. } => ErrorKind::Validation,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::PermissionDenied(_) => ErrorKind::PermissionDenied,
            Error::AuthenticationFailed => ErrorKind::AuthenticationFailed,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::SchemaVersion { .. } => ErrorKind::SchemaVersion,
            Error::Unavailable(_) => ErrorKind::Unavailable,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The offending field of a [`Error::Validation`], `None` for other kinds.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Validation { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    pub(crate) fn denied(message: impl Into<String>) -> Self {
        Error::PermissionDenied(message.into())
    }

    /// True when retrying on a fresh connection may succeed (a broken socket).
    pub(crate) fn from_broken_connection(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Io(_) | sqlx::Error::Protocol(_))
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::PoolTimedOut => {
                Error::Unavailable("timed out waiting for a pooled connection".into())
            }
            sqlx::Error::PoolClosed => Error::Unavailable("the store is closed".into()),
            sqlx::Error::Io(io) => Error::Unavailable(io.to_string()),
            sqlx::Error::Tls(t) => Error::Unavailable(t.to_string()),
            sqlx::Error::Database(db) => {
                if db.is_unique_violation() {
                    Error::Conflict(format!(
                        "a record with the same unique value exists ({})",
                        db.message()
                    ))
                } else if db.is_foreign_key_violation() {
                    Error::validation(
                        "reference",
                        format!("unknown referenced record ({})", db.message()),
                    )
                } else if db.is_check_violation() {
                    Error::validation("record", db.message().to_string())
                } else if db.code().as_deref() == Some("57P01")
                    || db.message().contains("database is locked")
                {
                    Error::Unavailable(db.message().to_string())
                } else {
                    Error::Internal(db.to_string())
                }
            }
            _ => Error::Internal(e.to_string()),
        }
    }
}
