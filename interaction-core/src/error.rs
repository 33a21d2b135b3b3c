//! The one error type of the library. Bindings map errors by [`ErrorKind`], never by
//! message text.

use std::fmt;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in an [`InteractionStore`](crate::InteractionStore) call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    ///
    /// # Examples
    ///
    /// ```
    /// # use chrono::{Duration, Utc};
    /// # use interaction_core::{NewInteraction, Role, StoreOptions};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> interaction_core::Result<()> {
    /// # let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
    /// # let site = store.create_site("Head office", None).await?;
    /// # let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
    /// # store.grant_role(alice.id, site.id, Role::Admin).await?;
    /// # let session = store.session_for_user(alice.id, site.id).await?;
    /// use interaction_core::{Error, ErrorKind};
    /// let err = session.get_interaction(9999).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);     // what callers and the bindings match on
    /// assert!(!err.is_retryable());
    /// let bad = session
    ///     .create_interaction(NewInteraction::new("", "meeting", "Alice", Utc::now(), Utc::now(), "UTC"))
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(bad, Error::Validation { .. }));
    /// assert_eq!(bad.field(), Some("title"));
    /// # Ok(())
    /// # }
    /// ```
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
    /// The interaction is archived (spec §4.3): read-only until a site admin unarchives
    /// it ([`SiteSession::unarchive_interaction`](crate::SiteSession::unarchive_interaction)).
    #[error("interaction {id} is archived and read-only; a site admin can unarchive it")]
    Archived {
        /// The archived interaction.
        id: i64,
    },
    /// The database schema is not one this library can use.
    #[error(
        "schema version mismatch: database is at {found}, this library requires {required}; \
         run `interactions migrate` (the operator CLI) or open the store with migrate=True \
         (Rust: StoreOptions::migrate(true), Node: {{ migrate: true }})"
    )]
    SchemaVersion {
        /// The version recorded in the database (`none` for an empty database).
        found: String,
        /// The version this library requires.
        required: String,
    },
    /// The database is unreachable, every pooled connection stayed busy, or the store is
    /// closed. Retrying later may help.
    #[error("database unavailable: {message}")]
    Unavailable {
        /// What happened, e.g. `connection refused by 127.0.0.1:5432`.
        message: String,
        /// The driver error, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// A statement, a lock wait or the whole call ran out of time. Retrying may help; a
    /// write that timed out may still have committed (see
    /// [`NewInteraction::idempotency_key`](crate::NewInteraction::idempotency_key)).
    #[error("timed out: {message}")]
    Timeout {
        /// What ran out of time, and after how long.
        message: String,
        /// The driver error, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// The server rejected the store's settings: unknown database, role or password, a
    /// missing extension. Retrying will not help until the configuration is fixed.
    #[error("configuration rejected: {message}")]
    Configuration {
        /// What the server refused.
        message: String,
        /// The driver error, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// A bug or an unexpected database error.
    #[error("internal error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
        /// The driver error, when there is one.
        #[source]
        source: Option<Cause>,
    },
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
    /// See [`Error::Archived`].
    Archived,
    /// See [`Error::SchemaVersion`].
    SchemaVersion,
    /// See [`Error::Unavailable`].
    Unavailable,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::Configuration`].
    Configuration,
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
            ErrorKind::Archived => "ARCHIVED",
            ErrorKind::SchemaVersion => "SCHEMA_VERSION",
            ErrorKind::Unavailable => "UNAVAILABLE",
            ErrorKind::Timeout => "TIMEOUT",
            ErrorKind::Configuration => "CONFIGURATION",
            ErrorKind::Internal => "INTERNAL",
        }
    }

    /// Every kind, in declaration order (for bindings that declare one exception each).
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Validation,
        ErrorKind::NotFound,
        ErrorKind::PermissionDenied,
        ErrorKind::AuthenticationFailed,
        ErrorKind::Conflict,
        ErrorKind::Archived,
        ErrorKind::SchemaVersion,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Configuration,
        ErrorKind::Internal,
    ];

    /// Whether the same call may succeed if retried later (the one place that answers
    /// it): `UNAVAILABLE` and `TIMEOUT`. A retried write needs an idempotency key to be
    /// safe.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Unavailable | ErrorKind::Timeout)
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
            Error::Archived { .. } => ErrorKind::Archived,
            Error::SchemaVersion { .. } => ErrorKind::SchemaVersion,
            Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Configuration { .. } => ErrorKind::Configuration,
            Error::Internal { .. } => ErrorKind::Internal,
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

    /// A [`Error::Unavailable`] without a driver cause.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::Unavailable {
            message: message.into(),
            source: None,
        }
    }

    /// A [`Error::Internal`] without a driver cause.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
            source: None,
        }
    }

    /// A [`Error::Timeout`] without a driver cause.
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::Timeout {
            message: message.into(),
            source: None,
        }
    }

    /// Whether the same call may succeed if retried: see [`ErrorKind::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }
}

/// The driver error behind an [`Error`], kept as its `source()`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;
