"""The exception hierarchy of interaction_store, declared once.

The native module raises these by the core error's kind (never by message text):
every exception carries ``code`` (a stable string such as ``"NOT_FOUND"``), ``message``
and ``field`` (the offending input for a ValidationError, else ``None``). They pickle
with class, message and field intact.
"""

from __future__ import annotations

from typing import ClassVar, Optional, Tuple, Type

__all__ = [
    "InteractionStoreError",
    "ValidationError",
    "NotFoundError",
    "PermissionDeniedError",
    "AuthenticationError",
    "ConflictError",
    "SchemaVersionError",
    "UnavailableError",
    "InternalError",
]


class InteractionStoreError(Exception):
    """Base class of every error raised by interaction_store."""

    #: Stable code of the error kind (``ErrorKind::code()`` of the core).
    code: ClassVar[str] = "INTERNAL"

    message: str
    field: Optional[str]

    def __init__(self, message: str = "", field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __reduce__(
        self,
    ) -> Tuple[Type[InteractionStoreError], Tuple[str, Optional[str]]]:
        return (type(self), (self.message, self.field))


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


class SchemaVersionError(InteractionStoreError):
    """The database schema is not one this library can use: run ``migrate``."""

    code: ClassVar[str] = "SCHEMA_VERSION"


class UnavailableError(InteractionStoreError):
    """The database is unreachable, the pool timed out, or the store is closed."""

    code: ClassVar[str] = "UNAVAILABLE"


class InternalError(InteractionStoreError):
    """A bug or an unexpected database error."""

    code: ClassVar[str] = "INTERNAL"
