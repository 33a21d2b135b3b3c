"""interaction_store: the embeddable data layer of an Interaction Management System,
on PostgreSQL or embedded SQLite.

Two parallel APIs over one Rust core:

* blocking: ``InteractionStore``, ``SiteSession``, ``Finder`` (the GIL is released
  while a call waits, so threads run concurrently);
* asyncio: ``AsyncInteractionStore``, ``AsyncSiteSession``, ``AsyncFinder`` (the same
  methods, returning coroutines).

Values (``Interaction``, ``Page``, ``User``, ...) are immutable. Errors derive from
``InteractionStoreError``, one subclass per kind. The core's log records (one per call at
DEBUG, slow calls at WARNING; never parameter values) go to the stdlib logger
``interaction_store``.
"""

from __future__ import annotations

from ._errors import (
    ArchivedError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InteractionStoreError,
    InternalError,
    NotFoundError,
    PermissionDeniedError,
    SchemaVersionError,
    TimeoutError,
    UnavailableError,
    ValidationError,
)
from ._native import (
    DEFAULT_URL,
    SCHEMA_VERSION,
    AccessLogEntry,
    ArchiveReport,
    AsyncFinder,
    AsyncFinderIter,
    AsyncInteractionStore,
    AsyncSiteSession,
    AuditEntry,
    AuditPage,
    CacheCounts,
    CacheStats,
    Clock,
    Counts,
    Finder,
    FinderIter,
    Interaction,
    InteractionStore,
    LocalTime,
    LoginToken,
    Member,
    Page,
    PurgeOutcome,
    PurgeReport,
    ReplicaStatus,
    RetentionPolicy,
    SchemaVersion,
    Site,
    SiteSession,
    User,
)
from ._types import CacheBackend, RangeMode, Role, Seconds, Sort

__all__ = [
    "DEFAULT_URL",
    "SCHEMA_VERSION",
    "AccessLogEntry",
    "ArchiveReport",
    "ArchivedError",
    "AsyncFinder",
    "AsyncFinderIter",
    "AsyncInteractionStore",
    "AsyncSiteSession",
    "AuditEntry",
    "AuditPage",
    "AuthenticationError",
    "CacheBackend",
    "CacheCounts",
    "CacheStats",
    "Clock",
    "ConfigurationError",
    "ConflictError",
    "Counts",
    "Finder",
    "FinderIter",
    "Interaction",
    "InteractionStore",
    "InteractionStoreError",
    "InternalError",
    "LocalTime",
    "LoginToken",
    "Member",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "PurgeOutcome",
    "PurgeReport",
    "RangeMode",
    "ReplicaStatus",
    "RetentionPolicy",
    "Role",
    "SchemaVersion",
    "SchemaVersionError",
    "Seconds",
    "Site",
    "SiteSession",
    "Sort",
    "TimeoutError",
    "UnavailableError",
    "User",
    "ValidationError",
]
