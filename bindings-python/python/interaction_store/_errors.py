"""The exception hierarchy of interaction_store, declared once.

The native module raises these by the core error's kind (never by message text):
every exception carries ``code`` (a stable string such as ``"NOT_FOUND"``), ``message``,
``field`` (the offending input for a ValidationError, else ``None``) and ``cause`` (the
text of the database driver's error behind it, else ``None``). Each class also says
whether retrying may help (``retryable``: the core's ``ErrorKind::is_retryable``, set on
the classes by the native module when it is imported). They pickle with class, message,
field and cause intact.
"""

from __future__ import annotations

import builtins
from typing import ClassVar, Optional, Tuple, Type

__all__ = [
    "InteractionStoreError",
    "ValidationError",
    "NotFoundError",
    "PermissionDeniedError",
    "AuthenticationError",
    "ConflictError",
    "ArchivedError",
    "SchemaVersionError",
    "UnavailableError",
    "TimeoutError",
    "ConfigurationError",
    "InternalError",
]


class InteractionStoreError(Exception):
    """Base class of every error raised by interaction_store."""

    #: Stable code of the error kind (``ErrorKind::code()`` of the core).
    code: ClassVar[str] = "INTERNAL"

    #: Whether the same call may succeed if retried later (``UNAVAILABLE`` and
    #: ``TIMEOUT``). Set from the core's ``ErrorKind::is_retryable`` at import. A retried
    #: ``create_interaction`` needs an ``idempotency_key`` to be safe.
    retryable: ClassVar[bool] = False

    message: str
    field: Optional[str]
    #: The database driver's error behind this one (its ``source()`` chain), if any.
    cause: Optional[str]

    def __init__(
        self, message: str = "", field: Optional[str] = None, cause: Optional[str] = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.cause = cause

    def __reduce__(
        self,
    ) -> Tuple[Type[InteractionStoreError], Tuple[str, Optional[str], Optional[str]]]:
        return (type(self), (self.message, self.field, self.cause))


class ValidationError(InteractionStoreError, ValueError):
    """An input failed validation; nothing was written. ``field`` names the input."""

    code: ClassVar[str] = "VALIDATION"


class NotFoundError(InteractionStoreError):
    """The record does not exist, or is not visible from this site."""

    code: ClassVar[str] = "NOT_FOUND"


class PermissionDeniedError(InteractionStoreError):
    """The caller's role does not allow the operation."""

    code: ClassVar[str] = "PERMISSION_DENIED"


class AuthenticationError(InteractionStoreError):
    """Unknown user, wrong password, inactive user, or an invalid/expired token."""

    code: ClassVar[str] = "AUTHENTICATION_FAILED"


class ConflictError(InteractionStoreError):
    """A concurrent change won (stale ``expected_version``), or a uniqueness rule was hit."""

    code: ClassVar[str] = "CONFLICT"


class ArchivedError(InteractionStoreError):
    """The interaction is archived and read-only: any change to it (update, delete,
    restore) raises this until a site admin brings it back with
    ``unarchive_interaction()``."""

    code: ClassVar[str] = "ARCHIVED"


class SchemaVersionError(InteractionStoreError):
    """The database schema is not one this library can use: run ``migrate``."""

    code: ClassVar[str] = "SCHEMA_VERSION"


class UnavailableError(InteractionStoreError):
    """The database is unreachable (e.g. connection refused), every pooled connection
    stayed busy for ``acquire_timeout``, or the store is closed. Retryable."""

    code: ClassVar[str] = "UNAVAILABLE"


class TimeoutError(InteractionStoreError, builtins.TimeoutError):
    """A statement (``statement_timeout``), a lock wait (``lock_timeout``) or the whole
    call (``call_timeout``) ran out of time. Retryable; also a builtin ``TimeoutError``.

    A write that timed out may still have committed: retry a ``create_interaction`` with
    the same ``idempotency_key``, or use ``expected_version`` for updates."""

    code: ClassVar[str] = "TIMEOUT"


class ConfigurationError(InteractionStoreError):
    """The server rejected the store's settings: unknown database, role or password, a
    missing extension. Not retryable: fix the configuration."""

    code: ClassVar[str] = "CONFIGURATION"


class InternalError(InteractionStoreError):
    """A bug or an unexpected database error."""

    code: ClassVar[str] = "INTERNAL"
