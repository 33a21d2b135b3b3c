# Stubs of the native module (src/*.rs). Checked against the built module by
# `python -m mypy.stubtest interaction_store` in scripts/test.sh: they cannot drift.

from datetime import datetime, timedelta
from types import TracebackType
from typing_extensions import Self
from typing import (
    Any,
    Coroutine,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
    final,
)

from interaction_store._types import (
    CacheBackend,
    MigrationState,
    NewInteraction,
    RangeMode,
    Role,
    Seconds,
    Sort,
)

__all__ = [
    "InteractionStore",
    "AsyncInteractionStore",
    "SiteSession",
    "AsyncSiteSession",
    "Finder",
    "AsyncFinder",
    "FinderIter",
    "AsyncFinderIter",
    "User",
    "Site",
    "Member",
    "Interaction",
    "Page",
    "AuditEntry",
    "AuditPage",
    "AccessLogEntry",
    "LoginToken",
    "SchemaVersion",
    "LocalTime",
    "CacheStats",
    "CacheCounts",
    "ReplicaStatus",
    "ArchiveReport",
    "PurgeOutcome",
    "PurgeReport",
    "Counts",
    "PendingMigration",
    "IntegrityReport",
    "MigrationCheck",
    "Check",
    "TableChecksum",
    "Clock",
    "RetentionPolicy",
    "DEFAULT_URL",
    "SCHEMA_VERSION",
]

DEFAULT_URL: str
SCHEMA_VERSION: SchemaVersion

# An instant (aware datetime) or a wall-clock time in the interaction's timezone.
_When = Union[datetime, LocalTime]

# ----------------------------------------------------------------------- values

@final
class LocalTime:
    """A wall-clock time in an interaction's time zone (wraps a naive datetime)."""

    def __new__(cls, value: datetime) -> LocalTime:
        """Wraps ``value``, a naive ``datetime`` (no ``tzinfo``): that wall-clock time in
        the interaction's ``timezone``. An aware datetime is a ``ValidationError`` (field
        ``local_time``): pass it directly for an exact instant."""
    @property
    def value(self) -> datetime:
        """The naive wall-clock time."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SchemaVersion:
    """A schema version ``MAJOR.MINOR.PATCH``; ordered, hashable, ``str()`` gives
    ``"1.0.0"``. ``SCHEMA_VERSION`` is the one this library requires."""

    @property
    def major(self) -> int:
        """The MAJOR number: breaking schema changes."""
    @property
    def minor(self) -> int:
        """The MINOR number: backward-compatible additions."""
    @property
    def patch(self) -> int:
        """The PATCH number: non-structural changes."""
    def to_dict(self) -> Dict[str, int]:
        """``{"major": .., "minor": .., "patch": ..}``."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __lt__(self, other: SchemaVersion, /) -> bool: ...
    def __le__(self, other: SchemaVersion, /) -> bool: ...
    def __gt__(self, other: SchemaVersion, /) -> bool: ...
    def __ge__(self, other: SchemaVersion, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class User:
    """A user account (immutable; the password hash never leaves the library)."""

    @property
    def id(self) -> int:
        """Primary key."""
    @property
    def username(self) -> str:
        """Unique login name."""
    @property
    def email(self) -> str:
        """Unique email address (unique case-insensitively)."""
    @property
    def is_active(self) -> bool:
        """Inactive users cannot log in or open sessions."""
    @property
    def last_login(self) -> Optional[datetime]:
        """The last successful login; ``None`` before the first."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def masked(self) -> User:
        """This user as the ``users_masked`` view shows it (the core's rule): username and
        email masked (``a***``, ``a***@example.com``), everything else kept."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Site:
    """A site: one tenant's set of interactions (immutable)."""

    @property
    def id(self) -> int:
        """Primary key."""
    @property
    def name(self) -> str:
        """Unique name."""
    @property
    def description(self) -> Optional[str]:
        """Free text; ``None`` when not given."""
    @property
    def is_active(self) -> bool:
        """Inactive sites cannot be opened in a session."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Member:
    """A user's membership of a site: ``SiteSession.members()`` (immutable)."""

    @property
    def user_id(self) -> int:
        """The member's user id."""
    @property
    def username(self) -> str:
        """The member's username."""
    @property
    def role(self) -> Role:
        """``"viewer"``, ``"editor"`` or ``"admin"``."""
    @property
    def assigned_at(self) -> datetime:
        """When the role was assigned."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Interaction:
    """A stored interaction (immutable): what ``SiteSession`` calls and the Finder return."""

    @property
    def id(self) -> int:
        """Primary key."""
    @property
    def site_id(self) -> int:
        """The site it belongs to."""
    @property
    def title(self) -> str:
        """Title."""
    @property
    def interaction_type(self) -> str:
        """Type, e.g. ``"meeting"``."""
    @property
    def lead(self) -> str:
        """The person leading it."""
    @property
    def start_datetime(self) -> datetime:
        """Start instant (an aware datetime in UTC)."""
    @property
    def end_datetime(self) -> datetime:
        """End instant (an aware datetime in UTC)."""
    @property
    def timezone(self) -> str:
        """The IANA zone it was entered in (e.g. ``"Europe/Madrid"``)."""
    @property
    def location(self) -> Optional[str]:
        """Location; ``None`` when not given."""
    @property
    def description(self) -> Optional[str]:
        """Description; ``None`` when not given."""
    @property
    def notes(self) -> Optional[str]:
        """Notes; ``None`` when not given."""
    @property
    def created_by(self) -> int:
        """The user id of its creator."""
    @property
    def created_at(self) -> datetime:
        """Creation instant."""
    @property
    def updated_by(self) -> Optional[int]:
        """The user id of the last updater; ``None`` if never updated."""
    @property
    def updated_at(self) -> Optional[datetime]:
        """Last update instant; ``None`` if never updated."""
    @property
    def deleted_at(self) -> Optional[datetime]:
        """When it was soft-deleted; ``None`` unless deleted (deleted ones are found only
        with ``Finder.include_deleted()``)."""
    @property
    def deleted_by(self) -> Optional[int]:
        """The user id of who soft-deleted it; ``None`` unless deleted."""
    @property
    def version(self) -> int:
        """Optimistic-concurrency version: goes up by one with every change. Pass it as
        ``expected_version`` to ``update_interaction()`` / ``delete_interaction()`` to
        refuse a concurrent change."""
    @property
    def archived_at(self) -> Optional[datetime]:
        """When it was archived; ``None`` for a live interaction. Archived interactions
        are read-only (a change raises ``ArchivedError``) and found only with
        ``Finder.include_archived()`` / ``archived_only()``."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def masked(self) -> Interaction:
        """This interaction as the ``interactions_masked`` view shows it (the core's rule):
        description and notes hidden (``None``), lead reduced to initials
        (``"Ana María López"`` -> ``"A. M."``), everything else kept."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Page:
    """One page of Finder results (immutable): iterate it or read ``items``; pass
    ``next_cursor`` to ``Finder.after()`` for the next page."""

    @property
    def items(self) -> List[Interaction]:
        """The interactions of this page, in the requested order."""
    @property
    def next_cursor(self) -> Optional[str]:
        """Give to ``Finder.after()`` to fetch the next page; ``None`` on the last page."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict; the items as dicts."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __iter__(self) -> Iterator[Interaction]:
        """Iterates over ``items``."""
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class AuditEntry:
    """A row of a site's audit trail: ``SiteSession.audit_trail()`` (immutable)."""

    @property
    def id(self) -> int:
        """Sequence number; later entries have larger ids."""
    @property
    def occurred_at(self) -> datetime:
        """When the change committed."""
    @property
    def actor_id(self) -> Optional[int]:
        """Who did it; ``None`` for the host application or the migrator."""
    @property
    def site_id(self) -> Optional[int]:
        """The site concerned; ``None`` for a change outside any site."""
    @property
    def action(self) -> str:
        """``"create"``, ``"update"``, ``"delete"``, ``"restore"``, ..."""
    @property
    def entity(self) -> str:
        """``"interaction"``, ``"user"``, ``"site"``, ``"membership"``, ``"schema"``."""
    @property
    def entity_id(self) -> Optional[int]:
        """Id of the entity concerned; ``None`` when it has none."""
    @property
    def changes(self) -> Any:
        """Changed fields, as JSON values (dicts, lists, str, int, float, bool, None)."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class AuditPage:
    """One page of a site's audit trail, newest first (immutable): iterate it or read
    ``entries``."""

    @property
    def entries(self) -> List[AuditEntry]:
        """The entries of this page, newest first."""
    @property
    def next_cursor(self) -> Optional[str]:
        """Pass as ``audit_trail(after=)`` to continue; ``None`` on the last page."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict; the entries as dicts."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __iter__(self) -> Iterator[AuditEntry]:
        """Iterates over ``entries``."""
    def __len__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class AccessLogEntry:
    """An entry of the access log: ``InteractionStore.access_log()`` (immutable)."""

    @property
    def occurred_at(self) -> datetime:
        """When the attempt happened."""
    @property
    def username(self) -> str:
        """The username given."""
    @property
    def user_id(self) -> Optional[int]:
        """The user, when known; ``None`` otherwise (e.g. an unknown username)."""
    @property
    def action(self) -> str:
        """``"login"``, ``"logout"``, or for reads (with ``access_logging=True``)
        ``"read"``, ``"search"`` or ``"count"``."""
    @property
    def success(self) -> bool:
        """Whether it succeeded."""
    @property
    def detail(self) -> Optional[str]:
        """The outcome: ``"ok"``, or why not (``"wrong password"``, ``"not_found"``,
        ``"denied"``, ...)."""
    @property
    def site_id(self) -> Optional[int]:
        """The site of a read."""
    @property
    def resource(self) -> Optional[str]:
        """What was read: ``"interaction:<id>"`` or ``"finder"``."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class LoginToken:
    """The result of a successful ``login()`` (immutable). The token is a credential:
    ``repr()`` hides it."""

    @property
    def token(self) -> str:
        """The opaque bearer token, for ``session()`` and ``logout()``."""
    @property
    def user_id(self) -> int:
        """The user who logged in."""
    @property
    def expires_at(self) -> datetime:
        """When the token stops being accepted (24 hours after the login)."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class CacheCounts:
    """Hits and misses of one cache since the store opened."""

    @property
    def hits(self) -> int:
        """Lookups answered by the cache."""
    @property
    def misses(self) -> int:
        """Lookups that went to the database (absent, expired or invalidated entry)."""
    def to_dict(self) -> Dict[str, int]:
        """``{"hits": .., "misses": ..}``."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class CacheStats:
    """Cache statistics of a store: ``InteractionStore.cache_stats()``."""

    @property
    def backend(self) -> CacheBackend:
        """``"redis"`` (``redis_url=``), ``"memory"`` (the default: this process's
        memory) or ``"off"`` (``cache=False``)."""
    @property
    def available(self) -> bool:
        """False while Redis is unreachable (calls go to the database meanwhile)."""
    @property
    def auth(self) -> CacheCounts:
        """Login tokens."""
    @property
    def permissions(self) -> CacheCounts:
        """Roles and activation of users and sites, re-checked on every session call."""
    @property
    def finder(self) -> CacheCounts:
        """Finder pages and counts."""
    @property
    def lookup(self) -> CacheCounts:
        """Lookup data (sites), always in process memory."""
    @property
    def bypassed(self) -> int:
        """Lookups that bypassed an unavailable cache."""
    @property
    def outages(self) -> int:
        """Times Redis became unreachable."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict; the counts as ``{"hits": .., "misses": ..}``."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class ReplicaStatus:
    """A configured replica as the health probe last saw it:
    ``InteractionStore.replica_status()``."""

    @property
    def place(self) -> str:
        """``host:port``."""
    @property
    def reporting(self) -> bool:
        """The reporting replica (``reporting_replica=``)."""
    @property
    def healthy(self) -> bool:
        """In the rotation: answering, a standby, and within ``replica_max_lag``."""
    @property
    def replayed(self) -> str:
        """The WAL position it had replayed at the last probe (``"0/0"`` before any)."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class ArchiveReport:
    """What an archival run did (or, in a dry run, would do): ``InteractionStore.archive()``."""

    @property
    def dry_run(self) -> bool:
        """Nothing was moved: the counts say what a real run would move now."""
    @property
    def cutoff(self) -> datetime:
        """Interactions whose last change (update, else creation) is older than this moved."""
    @property
    def moved(self) -> int:
        """Interactions moved (would move, in a dry run)."""
    @property
    def sites(self) -> Dict[int, int]:
        """Moved per site id: ``{site_id: count}``."""
    @property
    def batches(self) -> int:
        """Transactions committed (would commit)."""
    @property
    def skipped(self) -> int:
        """Candidates left live: an edit held them or made them active again during the run."""
    @property
    def checksum(self) -> str:
        """SHA-256 over the content of every moved interaction, in the order moved (hex;
        empty when nothing moved or in a dry run). Each batch compared it with the
        archived copies before it committed."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class PurgeOutcome:
    """What one retention rule did (or would do) in a ``PurgeReport``."""

    @property
    def policy(self) -> str:
        """The rule: a ``RetentionPolicy`` attribute name, ``"expired_tokens"`` or
        ``"expired_idempotency_keys"``."""
    @property
    def table(self) -> str:
        """The table it applies to."""
    @property
    def action(self) -> str:
        """``"delete"``, or ``"anonymise"`` (personal fields removed, the row kept)."""
    @property
    def cutoff(self) -> datetime:
        """Rows older than this were affected."""
    @property
    def rows(self) -> int:
        """Rows affected (would be, in a dry run)."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class PurgeReport:
    """What a purge did (or would do): ``InteractionStore.purge()``."""

    @property
    def dry_run(self) -> bool:
        """Nothing was changed: the counts say what a real purge would do now."""
    @property
    def now(self) -> datetime:
        """The store clock's time the cut-offs were computed from."""
    @property
    def outcomes(self) -> List[PurgeOutcome]:
        """One entry per rule, in the order applied."""
    @property
    def total(self) -> int:
        """Rows affected by every rule together."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict; the outcomes as dicts."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Counts:
    """How many users, sites and live, deleted and archived interactions the database
    holds: ``InteractionStore.counts()``."""

    @property
    def users(self) -> int:
        """Users, active or not."""
    @property
    def sites(self) -> int:
        """Sites, active or not."""
    @property
    def live(self) -> int:
        """Interactions neither deleted nor archived."""
    @property
    def deleted(self) -> int:
        """Soft-deleted interactions (not yet purged)."""
    @property
    def archived(self) -> int:
        """Archived interactions."""
    def to_dict(self) -> Dict[str, int]:
        """Every count in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class PendingMigration:
    """One of this library's migrations not yet applied to the database:
    ``InteractionStore.pending_migrations()``."""

    @property
    def id(self) -> int:
        """Its number (``0004_lifecycle.sql`` is 4), recorded in ``schema_migrations``."""
    @property
    def name(self) -> str:
        """Its name (``"lifecycle"``)."""
    @property
    def version(self) -> SchemaVersion:
        """The schema version the database is at once it is applied."""
    @property
    def sql(self) -> str:
        """The SQL script it runs, for this store's backend."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class MigrationCheck:
    """One migration as the database records it, against this library's copy."""

    @property
    def id(self) -> int:
        """Its id (``schema_migrations.migration_id``), in order of application."""
    @property
    def name(self) -> str:
        """Its name (this library's, else the recorded one)."""
    @property
    def version(self) -> str:
        """The schema version it leads to (this library's, else the recorded one)."""
    @property
    def state(self) -> MigrationState:
        """``"applied"`` (recorded with this library's checksum), ``"modified"`` (another
        checksum: a problem), ``"unknown"`` (recorded by a newer library) or ``"pending"``
        (not recorded: a problem)."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Check:
    """One named check over the rows of the database."""

    @property
    def name(self) -> str:
        """Stable identifier, e.g. ``"interactions_without_site"``."""
    @property
    def description(self) -> str:
        """What a failing row is, in words."""
    @property
    def failing(self) -> Optional[int]:
        """How many rows fail it (0: sound); ``None`` when a table it reads is missing."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class TableChecksum:
    """The content checksum of one table."""

    @property
    def table(self) -> str:
        """The table's name."""
    @property
    def rows(self) -> int:
        """Its number of rows."""
    @property
    def digest(self) -> str:
        """SHA-256 (hex) over the table's name, its columns' names and the multiset of its
        rows: equal for equal content whatever the rows' order. Comparable between
        databases of the same engine only."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict."""
    def to_json(self) -> str:
        """``to_dict()`` as a JSON string; instants in ISO 8601 (``isoformat()``)."""
    def __copy__(self) -> Self: ...
    def __deepcopy__(self, memo: Any, /) -> Self: ...
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class IntegrityReport:
    """The integrity report of ``InteractionStore.verify()``.

    Two reports are equal when the databases hold the same schema, migrations and content:
    compare a restored backup's with the original's.
    """

    @property
    def schema_version(self) -> Optional[str]:
        """The schema version recorded in the database, as written there; ``None`` when it
        was never migrated."""
    @property
    def required_version(self) -> SchemaVersion:
        """The schema version this library requires."""
    @property
    def migrations(self) -> List[MigrationCheck]:
        """One entry per migration, this library's and any recorded one it does not know."""
    @property
    def counts(self) -> Counts:
        """Users, sites and live, soft-deleted and archived interactions."""
    @property
    def checks(self) -> List[Check]:
        """The referential and placement checks, each with its number of failing rows."""
    @property
    def tables(self) -> List[TableChecksum]:
        """A content checksum of every table of the schema present, by name."""
    @property
    def missing_tables(self) -> List[str]:
        """Tables the library requires that the database lacks."""
    @property
    def problems(self) -> List[str]:
        """Every problem found, one sentence each; empty when the database is sound."""
    @property
    def ok(self) -> bool:
        """Whether no problem was found (``problems`` is empty)."""
    def table(self, table: str) -> Optional[TableChecksum]:
        """The checksum of ``table``, ``None`` if the database lacks it."""
    def check(self, name: str) -> Optional[Check]:
        """The check named ``name``, ``None`` if the report has none of that name."""
    def to_dict(self) -> Dict[str, Any]:
        """Every attribute in a new dict (with ``ok``); nested values as dicts."""
    def __eq__(self, other: object, /) -> bool: ...

@final
class Clock:
    """Where a store reads the current time: the system clock (the default) or a manual
    clock that only moves when told to (tests, demos, data generators).

    Every timestamp the store writes or compares (creation, deletion, token expiry,
    archival and retention cut-offs) comes from it. Copies share the time: advance a
    manual clock passed as ``connect(..., clock=)`` and every call of that store sees it.
    """

    @staticmethod
    def system() -> Clock:
        """The system clock (UTC)."""
    @staticmethod
    def manual(start: datetime) -> Clock:
        """A clock that reads ``start`` (an aware datetime; a naive one is a
        ``ValidationError``, field ``clock``) until ``set()`` or ``advance()`` moves it."""
    @property
    def is_manual(self) -> bool:
        """Whether this is a manual clock."""
    def now(self) -> datetime:
        """The current time (an aware datetime in UTC, to the microsecond)."""
    def set(self, t: datetime) -> None:
        """Sets a manual clock to ``t``, an aware datetime (it may go backwards, like a
        corrected system clock). On the system clock: ``ValidationError`` (field
        ``clock``)."""
    def advance(self, delta: Seconds) -> None:
        """Moves a manual clock forward by ``delta`` (a ``timedelta`` or seconds; negative
        is a ``ValidationError``). On the system clock: ``ValidationError`` (field
        ``clock``)."""

@final
class RetentionPolicy:
    """How long each kind of data is kept before ``InteractionStore.purge()`` deletes (or
    anonymises) it: pass it as ``connect(..., retention=)``.

    Keyword arguments are ``timedelta``s (or seconds); an omitted one keeps the core's
    default (spec §6.1, §6.4), shown by the attributes of ``RetentionPolicy()``. The store
    checks every period when it opens (between one hour and 100 years, else
    ``ValidationError`` with field ``retention.<name>``). Immutable.
    """

    def __new__(
        cls,
        *,
        deleted_interactions: Optional[Seconds] = None,
        archived_interactions: Optional[Seconds] = None,
        access_attempts: Optional[Seconds] = None,
        user_activity: Optional[Seconds] = None,
        authentication_logs: Optional[Seconds] = None,
        data_modifications: Optional[Seconds] = None,
        admin_actions: Optional[Seconds] = None,
        schema_changes: Optional[Seconds] = None,
    ) -> RetentionPolicy:
        """A policy with the given periods (keyword-only, each a ``timedelta`` or seconds);
        an omitted one keeps the default its attribute shows. A wrong type is a
        ``TypeError``; the periods' range is checked when a store opens with the policy
        (``ValidationError``, field ``retention.<name>``)."""
    @property
    def deleted_interactions(self) -> timedelta:
        """Soft-deleted interactions are deleted for good this long after their deletion
        (and can be restored until then). Default 30 days."""
    @property
    def archived_interactions(self) -> timedelta:
        """Archived interactions are deleted this long after their archival. Default 5
        years."""
    @property
    def access_attempts(self) -> timedelta:
        """Access-log rows of reads and refused calls (access attempts) are deleted after
        this long. Default 1 year."""
    @property
    def user_activity(self) -> timedelta:
        """Login and logout records are anonymised (username, user and detail removed; the
        row kept for counts) after this long. Default 1 year."""
    @property
    def authentication_logs(self) -> timedelta:
        """Login and logout records are deleted after this long. Default 2 years."""
    @property
    def data_modifications(self) -> timedelta:
        """Audit rows of changes to interactions are deleted after this long. Default 2
        years."""
    @property
    def admin_actions(self) -> timedelta:
        """Audit rows of administration (users, sites, roles, archival, purges,
        anonymisation) are deleted after this long. Default 3 years."""
    @property
    def schema_changes(self) -> timedelta:
        """Audit rows of schema migrations are deleted after this long. Default 5 years."""
    def to_dict(self) -> Dict[str, timedelta]:
        """Every period in a new dict."""
    def __eq__(self, other: object, /) -> bool: ...

# ---------------------------------------------------------------- blocking API

@final
class InteractionStore:
    """A connection pool on PostgreSQL or SQLite with the blocking API. Open one per process
    with ``InteractionStore.connect()`` and share it between threads: every call releases
    the GIL while it waits. As a context manager, ``with`` closes it on exit.

    Errors derive from ``InteractionStoreError``, one subclass per kind
    (``ValidationError``, ``NotFoundError``, ``ConflictError``, ...)."""

    @staticmethod
    def connect(
        url: Optional[str] = None,
        *,
        migrate: bool = False,
        min_connections: int = ...,
        max_connections: int = ...,
        acquire_timeout: Seconds = ...,
        idle_timeout: Optional[Seconds] = ...,
        max_lifetime: Optional[Seconds] = ...,
        login_concurrency: int = ...,
        connect_timeout: Seconds = ...,
        statement_timeout: Seconds = ...,
        lock_timeout: Seconds = ...,
        call_timeout: Seconds = ...,
        slow_statement_threshold: Optional[Seconds] = ...,
        check_schema: bool = ...,
        cache: bool = ...,
        redis_url: Optional[str] = ...,
        redis_timeout: Seconds = ...,
        finder_cache_ttl: Seconds = ...,
        replicas: Sequence[str] = ...,
        reporting_replica: Optional[str] = ...,
        replica_max_lag: Seconds = ...,
        behind_pgbouncer: bool = ...,
        clock: Clock = ...,
        retention: RetentionPolicy = ...,
        access_logging: bool = ...,
        schema: Optional[str] = ...,
    ) -> InteractionStore:
        """Opens ``url`` (default ``sqlite://interactions.db`` in the working directory).

        ``migrate=True`` applies pending migrations first; ``check_schema=False`` skips
        the schema-version check (for operator tools: ``schema_version()``,
        ``migrate_to()``). The other keywords are the core's ``StoreOptions`` (omit one
        for its default; durations are seconds or ``timedelta``; the core validates them
        and raises ``ValidationError`` with ``field`` set, e.g. for a zero or over-24-h
        timeout):

        * ``min_connections`` (5), ``max_connections`` (20), ``login_concurrency``
          (CPUs);
        * ``acquire_timeout`` (30 s): wait for a pooled connection, then
          ``UnavailableError``;
        * ``idle_timeout`` (10 min), ``max_lifetime`` (30 min): ``None`` disables;
        * ``connect_timeout`` (10 s): opening one connection; a refused connection
          fails at once;
        * ``statement_timeout`` (30 s): one statement on the server, then
          ``TimeoutError``;
        * ``lock_timeout`` (10 s): wait for a row or database lock another
          transaction holds, then ``TimeoutError`` (nothing written);
        * ``call_timeout`` (60 s): the deadline of every call, covering the waits and
          the statements; past it ``TimeoutError`` (a write may have committed);
        * ``slow_statement_threshold`` (1 s): calls at least this slow are logged as
          warnings on the ``interaction_store`` logger; ``None`` disables;
        * ``cache`` (``True``): cache login tokens (24 h), permissions (15 min) and
          Finder pages and counts (5 min); every change invalidates what it affects when
          it commits. ``False`` reads the database every time;
        * ``redis_url`` (none: this process's memory): a Redis shared by every process
          of the deployment (``redis://host:port/db``, ``rediss://`` for TLS,
          ``unix://path``), so a logout or a change in one process is seen by the next
          call in all of them; anything else is a ``ValidationError`` (field
          ``redis_url``). Redis is never a dependency: down, slow or flushed, calls go to
          the database;
        * ``redis_timeout`` (0.1 s): the longest wait for one Redis reply before Redis is
          treated as down until a background probe finds it again;
        * ``finder_cache_ttl`` (5 min, at most 24 h): how long a Finder page or count is
          cached (less when its site changes); ``0`` caches no Finder results;
        * ``replicas`` (none): URLs of streaming replicas of the PostgreSQL primary (same
          database) that serve searches and loads of single records, balanced across the
          healthy ones; writes, authentication and permission checks go to the primary.
          A session's reads go to a replica only once it has replayed the session's
          ``consistency_token``. The primary ``url`` may list several hosts
          (``postgres://u@h1:5432,h2:5433/db``): the writable one is used;
        * ``reporting_replica`` (none): a replica for counts, exports and audit reads;
        * ``replica_max_lag`` (1 s): a replica further behind leaves the rotation until
          it catches up (with none healthy, reads go to the primary);
        * ``behind_pgbouncer`` (``False``): the URL leads to pgBouncer in transaction
          pooling mode (no prepared statements, no settings at connect time: set the
          time limits on the role or database);
        * ``clock`` (``Clock.system()``): the source of every timestamp the store writes
          or compares; a ``Clock.manual(...)`` makes archival, retention and token expiry
          testable without waiting;
        * ``retention`` (``RetentionPolicy()``: the spec's periods): how long each kind of
          data is kept, applied by ``purge()``;
        * ``access_logging`` (``False``): record every read of interactions (a get or a
          Finder page) in the access log: who, which site and resource, the outcome;
        * ``schema`` (none: the connection's own ``search_path``, normally ``public``):
          the PostgreSQL schema that holds every table and view of the store, so that it
          lives beside a host application's own ``users`` or ``schema_migrations``; a
          lowercase identifier (``[a-z_][a-z0-9_]*``, at most 63 bytes, not ``pg_…``),
          else ``ValidationError`` (field ``schema``). ``migrate=True`` creates it. Behind
          pgBouncer the role must set it (``ALTER ROLE app IN DATABASE db SET
          search_path = interactions``), else ``ConfigurationError``. SQLite accepts only
          ``"main"``.
        """
    @property
    def backend(self) -> str:
        """``"postgres"`` or ``"sqlite"``."""
    @property
    def closed(self) -> bool:
        """True after ``close()``."""
    @property
    def schema(self) -> Optional[str]:
        """The PostgreSQL schema the store works in (``schema=``); ``None`` without one
        (the connection's default, normally ``public``) and on SQLite."""
    def cache_stats(self) -> CacheStats:
        """Hits and misses of each cache since the store opened, and whether Redis is
        reachable (no I/O)."""
    def replica_status(self) -> List[ReplicaStatus]:
        """The configured replicas as the health probe last saw them (empty without
        replicas; no I/O)."""
    def close(self) -> None:
        """Closes the store: idle connections close at once and every later call raises
        ``UnavailableError``. Calls in flight end within their own deadline (a write
        still commits or rolls back whole); this waits for them at most ``call_timeout``,
        never on an unreachable server. Closing twice is allowed."""
    def __enter__(self) -> InteractionStore: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
        /,
    ) -> bool: ...
    def migrate(self) -> List[SchemaVersion]:
        """Applies pending migrations (forward-only, each recorded and audited); returns the
        versions applied now (empty when up to date). Safe to call from several processes
        at once: PostgreSQL serialises migrators with an advisory lock, SQLite with its
        write lock."""
    def migrate_to(self, version: str) -> List[SchemaVersion]:
        """Applies pending migrations up to and including ``version`` (``"1.0.0"``, one
        of this library's schema versions), e.g. to stage an upgrade; returns the
        versions applied now. An unparsable version is a ``SchemaVersionError``, an
        unknown one a ``ValidationError`` (field ``version``)."""
    def schema_version(self) -> Optional[SchemaVersion]:
        """The schema version recorded in the database; ``None`` for an empty database."""
    def check_schema(self) -> None:
        """Raises ``SchemaVersionError`` unless the database schema is one this library can
        use: the same MAJOR version as ``SCHEMA_VERSION`` and at least that version
        (newer MINOR/PATCH versions are backward-compatible and accepted)."""
    def pending_migrations(self) -> List[PendingMigration]:
        """The migrations ``migrate()`` would apply, oldest first, each with its SQL for this
        backend (for review): all of them on an empty database, none on an up-to-date one.
        Reads only; works on a store opened with ``check_schema=False``."""
    def verify(self) -> IntegrityReport:
        """The integrity report: schema version, migration checksums, counts, referential
        checks and a content checksum per table (``ok`` is true when ``problems`` is
        empty). Problems found are in the report, not raised; works on a store opened with
        ``check_schema=False``. Reads every table."""
    def create_user(self, username: str, email: str, password: str) -> User:
        """Creates an active user and returns it. Username and email must be unique (email
        case-insensitively): a duplicate is a ``ConflictError``; an invalid value a
        ``ValidationError`` naming the field."""
    def get_user(self, user_id: int) -> User:
        """Reads a user by id; an unknown id is a ``NotFoundError``."""
    def get_user_by_username(self, username: str) -> User:
        """Reads a user by username; an unknown one is a ``NotFoundError``."""
    def list_users(self) -> List[User]:
        """Every user, active or not, by id (oldest first)."""
    def anonymize_user(self, user_id: int) -> User:
        """The right to be forgotten: replaces the user's username and email with
        tombstones, clears the password, deactivates the account, revokes its tokens and
        scrubs the old username and email from the access log, the audit trail and
        interactions (live, deleted, archived), keeping every key and count. Returns the
        anonymised user; an unknown one is a ``NotFoundError``. Cannot be undone."""
    def set_password(self, user_id: int, password: str) -> None:
        """Sets a new password for the user and revokes every login token of the user."""
    def set_user_active(self, user_id: int, active: bool) -> User:
        """Activates (``active=True``) or deactivates a user; returns the user. Deactivation
        revokes every login token of the user."""
    def user_sites(self, user_id: int) -> List[Tuple[Site, Role]]:
        """The sites the user belongs to, with the role at each: ``[(Site, role), ...]``."""
    def create_site(self, name: str, description: Optional[str] = None) -> Site:
        """Creates an active site and returns it; a duplicate name is a ``ConflictError``."""
    def get_site(self, site_id: int) -> Site:
        """Reads a site by id; an unknown id is a ``NotFoundError``."""
    def list_sites(self) -> List[Site]:
        """All sites, by name."""
    def set_site_active(self, site_id: int, active: bool) -> Site:
        """Activates (``active=True``) or deactivates a site; returns the site. Sessions
        cannot be opened on an inactive site."""
    def grant_role(self, user_id: int, site_id: int, role: Role) -> None:
        """Gives the user ``role`` (``"viewer"``, ``"editor"`` or ``"admin"``) at the site,
        replacing any earlier role. For the host application's own administration, e.g.
        to create a site's first admin; site admins use
        ``SiteSession.set_member_role()``."""
    def login(self, username: str, password: str) -> LoginToken:
        """Checks a username and password and returns a new login token, valid for 24 hours.
        Every attempt is written to the access log. An unknown user, a wrong password and
        an inactive user all raise ``AuthenticationError``."""
    def logout(self, token: str) -> None:
        """Revokes a login token; an unknown or already revoked token is an
        ``AuthenticationError``."""
    def access_log(self, limit: int = 50) -> List[AccessLogEntry]:
        """The most recent access-log entries, newest first: at most ``limit``, 1-500 (else
        ``ValidationError``, field ``limit``)."""
    @property
    def clock(self) -> Clock:
        """The store's clock (``connect(..., clock=)``, else the system clock); no I/O."""
    def archive(
        self, older_than: Optional[Seconds] = None, *, dry_run: bool = False
    ) -> ArchiveReport:
        """Moves interactions that have not changed for ``older_than`` (a ``timedelta`` or
        seconds, between one hour and 100 years, else ``ValidationError`` with field
        ``older_than``; default two years) and are not soft-deleted to the archive, in
        batches of 500, each checked by count and checksum before it commits.

        Archived interactions are read-only (a change raises ``ArchivedError``), found by
        the Finder only with ``include_archived()`` / ``archived_only()``, and deleted by
        ``purge()`` after the retention period. ``dry_run=True``: count what would move,
        change nothing. Safe to interrupt and rerun, and to run while the application
        writes."""
    def purge(self, *, dry_run: bool = False) -> PurgeReport:
        """Applies the retention rules (``connect(..., retention=)``) at the store clock's
        time: deletes soft-deleted interactions past ``deleted_interactions``, archived
        ones past ``archived_interactions``, access attempts, authentication logs and
        audit rows past their periods, anonymises login records past ``user_activity``,
        and removes expired or revoked login tokens and expired idempotency keys.

        Works in batches of 1000 rows, each its own transaction with an audit tombstone
        (rule, table, cut-off, rows), so it can be interrupted and rerun.
        ``dry_run=True``: count, change nothing."""
    def counts(self) -> Counts:
        """How many users, sites and live, deleted and archived interactions the database
        holds (tables an older schema lacks count as empty)."""
    def session(
        self, token: str, site_id: int, consistency_token: Optional[str] = None
    ) -> SiteSession:
        """Opens a session on ``site_id`` for the user holding login ``token``.

        ``consistency_token`` (a session's ``consistency_token``, maybe of another
        process or request) makes its reads see every write up to it, even on replicas;
        a malformed one is a ``ValidationError`` (field ``consistency_token``)."""
    def session_for_user(
        self, user_id: int, site_id: int, consistency_token: Optional[str] = None
    ) -> SiteSession:
        """Opens a session for a user the host application authenticated itself;
        ``consistency_token`` as in ``session()``."""

@final
class SiteSession:
    """A user's view of one site with that user's role there (blocking API). Open one per
    request with ``InteractionStore.session()`` or ``session_for_user()``. Every call
    re-checks the session (a logout, role change, removal or deactivation is seen by the
    next call); a call the role does not allow is a ``PermissionDeniedError``."""

    @property
    def user_id(self) -> int:
        """The session's user id."""
    @property
    def site_id(self) -> int:
        """The session's site id."""
    @property
    def role(self) -> Role:
        """The user's role at the site when the session opened (every call re-checks
        the session: a logout, role change, removal or deactivation is seen by the next
        call)."""
    @property
    def consistency_token(self) -> Optional[str]:
        """The commit position (PostgreSQL LSN, e.g. ``"0/16B3748"``) of the newest
        write this session made or was given; ``None`` before any, and always on a
        store without replicas. Hand it to the next request and pass it to
        ``session(..., consistency_token=)`` there to read your writes."""
    def finder(self) -> Finder:
        """Starts a Finder over this site's interactions (no I/O until ``fetch()``,
        ``count()`` or iteration)."""
    def create_interaction(
        self,
        *,
        title: str,
        interaction_type: str,
        lead: str,
        start: _When,
        end: _When,
        timezone: str,
        location: Optional[str] = None,
        description: Optional[str] = None,
        notes: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Interaction:
        """Creates an interaction (editor or admin). ``start``/``end`` are aware
        datetimes (instants) or ``LocalTime``s (wall-clock times in ``timezone``).

        A create that timed out (``TimeoutError``), failed as ``UnavailableError`` or
        was cancelled (Ctrl-C, asyncio cancellation) may still have committed. With an
        ``idempotency_key`` (any string unique per logical create, e.g. a request id)
        retrying is safe: the same key in this site within 24 h returns the interaction
        the first call created (no second row, no second audit entry); the same key with
        other content is a ``ConflictError``."""
    def create_interactions(
        self, interactions: Sequence[NewInteraction]
    ) -> List[Interaction]:
        """Creates up to 1000 interactions in one transaction (editor or admin): each item
        a dict of ``create_interaction()``'s keyword arguments. Every item is validated
        before anything is written; the first invalid one fails the call and names its
        index (``ValidationError`` with field ``interactions[2].title``; a wrong type is a
        ``TypeError`` naming ``interactions[2].title``). All commit together or none does;
        returns the interactions in input order."""
    def get_interaction(self, id: int) -> Interaction:
        """Reads one interaction of this site that is not deleted: a live one, or an
        archived one (read-only, ``archived_at`` set). A missing interaction, or another
        site's, is a ``NotFoundError``."""
    def update_interaction(
        self,
        id: int,
        *,
        expected_version: Optional[int] = None,
        title: str = ...,
        interaction_type: str = ...,
        lead: str = ...,
        start: _When = ...,
        end: _When = ...,
        timezone: str = ...,
        location: Optional[str] = ...,
        description: Optional[str] = ...,
        notes: Optional[str] = ...,
    ) -> Interaction:
        """Partial update (editor or admin): pass only the fields to change; returns the
        updated interaction. ``location=None`` (or ``description``, ``notes``) clears the
        field; omitting it leaves it. With ``expected_version``, a record whose version
        differs is a ``ConflictError`` and nothing changes. A patch that changes nothing
        returns the record as it is; an archived interaction is an ``ArchivedError``."""
    def delete_interaction(self, id: int, *, expected_version: Optional[int] = None) -> None:
        """Soft-deletes an interaction (editor or admin): it disappears from reads and the
        Finder; an admin can restore it until the retention policy's
        ``deleted_interactions`` period (30 days by default) has passed. With
        ``expected_version``, a record whose version differs is a ``ConflictError``."""
    def restore_interaction(self, id: int) -> Interaction:
        """Restores a soft-deleted interaction (admin) and returns it; one deleted longer
        ago than the retention policy's ``deleted_interactions`` period (30 days by
        default) is a ``ConflictError``."""
    def unarchive_interaction(self, id: int) -> Interaction:
        """Brings an archived interaction back to the live table (admin): it becomes
        editable again, its version goes up by one and its last change is now (so the
        next archival run leaves it alone)."""
    def set_member_role(self, user_id: int, role: Role) -> None:
        """Gives a user a role at this site (admin): ``"viewer"``, ``"editor"`` or
        ``"admin"``, replacing any earlier role."""
    def remove_member(self, user_id: int) -> None:
        """Removes a user from this site (admin)."""
    def verify(self) -> Role:
        """Re-check the session now (as every call does) and return the current role."""
        ...
    def members(self) -> List[Member]:
        """The site's members (admin)."""
    def audit_trail(self, limit: int = 50, after: Optional[str] = None) -> AuditPage:
        """The site's audit trail, newest first (admin). ``limit`` 1-500; pass the previous
        page's ``next_cursor`` as ``after`` to continue."""

@final
class Finder:
    """A search over one site's interactions (blocking API). Build it with
    ``SiteSession.finder()``, chain filters (each returns a new Finder), then
    ``fetch()``, ``count()`` or iterate it. The filters are checked when the query runs:
    an invalid one is a ``ValidationError`` naming it."""

    def text(self, query: str) -> Finder:
        """Free text over title, description and notes (web-search syntax: ``"exact
        phrase"``, ``or``, ``-excluded``)."""
    def title_contains(self, s: str) -> Finder:
        """Title contains ``s``, case-insensitively."""
    def types(self, types: List[str]) -> Finder:
        """Type is one of ``types`` (a list of str)."""
    def lead_contains(self, s: str) -> Finder:
        """Lead contains ``s``, case-insensitively."""
    def date_range(self, start: datetime, end: datetime, mode: RangeMode = "overlap") -> Finder:
        """Interactions overlapping ``[start, end]`` (``mode="overlap"``, the default) or
        contained in it (``mode="contained"``); ``start`` and ``end`` are aware
        datetimes."""
    def created_by(self, user_id: int) -> Finder:
        """Created by ``user_id``."""
    def include_deleted(self, yes: bool = True) -> Finder:
        """Also return soft-deleted interactions (admin only: for another role the query
        raises ``PermissionDeniedError``)."""
    def include_archived(self, yes: bool = True) -> Finder:
        """Also return archived interactions (read-only, with ``archived_at`` set), in
        the same pages and order as live ones."""
    def archived_only(self, yes: bool = True) -> Finder:
        """Return archived interactions only."""
    def masked(self, yes: bool = True) -> Finder:
        """Return every item masked as the ``interactions_masked`` view shows it (the
        core's rule, as ``Interaction.masked()``): description and notes hidden, lead
        reduced to initials."""
    def sort(self, sort: Sort) -> Finder:
        """Sort order: ``"start_desc"`` (default), ``"start_asc"``, ``"created_desc"`` or
        ``"relevance"`` (needs ``text()``, else ``ValidationError``)."""
    def limit(self, limit: int) -> Finder:
        """Page size, 1-500 (else the query raises ``ValidationError``); default 50."""
    def after(self, cursor: str) -> Finder:
        """Continue after the page that returned ``cursor`` (its ``Page.next_cursor``)."""
    def fetch(self) -> Page:
        """Runs the query and returns one page: at most ``limit`` interactions and the next
        page's cursor."""
    def count(self) -> int:
        """Counts every match of the filters (ignores sort, limit and cursor); a separate
        query."""
    def explain(self) -> str:
        """The database's plan for the page query (``EXPLAIN`` on PostgreSQL, ``EXPLAIN
        QUERY PLAN`` on SQLite), one line per plan node: for checking index use."""
    def iter(self) -> FinderIter:
        """Iterates over every match, fetching page after page (``limit`` per page)."""
    def __iter__(self) -> FinderIter:
        """``for i in finder:`` is ``for i in finder.iter():``."""

@final
class FinderIter:
    """Iterator over every match of a ``Finder`` (``Finder.iter()``): fetches the next page
    when the current one is used up."""

    def __iter__(self) -> FinderIter: ...
    def __next__(self) -> Interaction: ...

# ----------------------------------------------------------------- asyncio API

@final
class AsyncInteractionStore:
    """The same store with the asyncio API: every I/O method returns a coroutine. Open one
    with ``await AsyncInteractionStore.connect()``; ``async with`` closes it on exit.

    Errors derive from ``InteractionStoreError``, one subclass per kind
    (``ValidationError``, ``NotFoundError``, ``ConflictError``, ...)."""

    @staticmethod
    def connect(
        url: Optional[str] = None,
        *,
        migrate: bool = False,
        min_connections: int = ...,
        max_connections: int = ...,
        acquire_timeout: Seconds = ...,
        idle_timeout: Optional[Seconds] = ...,
        max_lifetime: Optional[Seconds] = ...,
        login_concurrency: int = ...,
        connect_timeout: Seconds = ...,
        statement_timeout: Seconds = ...,
        lock_timeout: Seconds = ...,
        call_timeout: Seconds = ...,
        slow_statement_threshold: Optional[Seconds] = ...,
        check_schema: bool = ...,
        cache: bool = ...,
        redis_url: Optional[str] = ...,
        redis_timeout: Seconds = ...,
        finder_cache_ttl: Seconds = ...,
        replicas: Sequence[str] = ...,
        reporting_replica: Optional[str] = ...,
        replica_max_lag: Seconds = ...,
        behind_pgbouncer: bool = ...,
        clock: Clock = ...,
        retention: RetentionPolicy = ...,
        access_logging: bool = ...,
        schema: Optional[str] = ...,
    ) -> Coroutine[Any, Any, AsyncInteractionStore]:
        """Opens ``url`` (default ``sqlite://interactions.db`` in the working directory).

        ``migrate=True`` applies pending migrations first; ``check_schema=False`` skips
        the schema-version check (for operator tools: ``schema_version()``,
        ``migrate_to()``). The other keywords are the core's ``StoreOptions`` (omit one
        for its default; durations are seconds or ``timedelta``; the core validates them
        and raises ``ValidationError`` with ``field`` set, e.g. for a zero or over-24-h
        timeout):

        * ``min_connections`` (5), ``max_connections`` (20), ``login_concurrency``
          (CPUs);
        * ``acquire_timeout`` (30 s): wait for a pooled connection, then
          ``UnavailableError``;
        * ``idle_timeout`` (10 min), ``max_lifetime`` (30 min): ``None`` disables;
        * ``connect_timeout`` (10 s): opening one connection; a refused connection
          fails at once;
        * ``statement_timeout`` (30 s): one statement on the server, then
          ``TimeoutError``;
        * ``lock_timeout`` (10 s): wait for a row or database lock another
          transaction holds, then ``TimeoutError`` (nothing written);
        * ``call_timeout`` (60 s): the deadline of every call, covering the waits and
          the statements; past it ``TimeoutError`` (a write may have committed);
        * ``slow_statement_threshold`` (1 s): calls at least this slow are logged as
          warnings on the ``interaction_store`` logger; ``None`` disables;
        * ``cache`` (``True``): cache login tokens (24 h), permissions (15 min) and
          Finder pages and counts (5 min); every change invalidates what it affects when
          it commits. ``False`` reads the database every time;
        * ``redis_url`` (none: this process's memory): a Redis shared by every process
          of the deployment (``redis://host:port/db``, ``rediss://`` for TLS,
          ``unix://path``), so a logout or a change in one process is seen by the next
          call in all of them; anything else is a ``ValidationError`` (field
          ``redis_url``). Redis is never a dependency: down, slow or flushed, calls go to
          the database;
        * ``redis_timeout`` (0.1 s): the longest wait for one Redis reply before Redis is
          treated as down until a background probe finds it again;
        * ``finder_cache_ttl`` (5 min, at most 24 h): how long a Finder page or count is
          cached (less when its site changes); ``0`` caches no Finder results;
        * ``replicas`` (none): URLs of streaming replicas of the PostgreSQL primary (same
          database) that serve searches and loads of single records, balanced across the
          healthy ones; writes, authentication and permission checks go to the primary.
          A session's reads go to a replica only once it has replayed the session's
          ``consistency_token``. The primary ``url`` may list several hosts
          (``postgres://u@h1:5432,h2:5433/db``): the writable one is used;
        * ``reporting_replica`` (none): a replica for counts, exports and audit reads;
        * ``replica_max_lag`` (1 s): a replica further behind leaves the rotation until
          it catches up (with none healthy, reads go to the primary);
        * ``behind_pgbouncer`` (``False``): the URL leads to pgBouncer in transaction
          pooling mode (no prepared statements, no settings at connect time: set the
          time limits on the role or database);
        * ``clock`` (``Clock.system()``): the source of every timestamp the store writes
          or compares; a ``Clock.manual(...)`` makes archival, retention and token expiry
          testable without waiting;
        * ``retention`` (``RetentionPolicy()``: the spec's periods): how long each kind of
          data is kept, applied by ``purge()``;
        * ``access_logging`` (``False``): record every read of interactions (a get or a
          Finder page) in the access log: who, which site and resource, the outcome;
        * ``schema`` (none: the connection's own ``search_path``, normally ``public``):
          the PostgreSQL schema that holds every table and view of the store, so that it
          lives beside a host application's own ``users`` or ``schema_migrations``; a
          lowercase identifier (``[a-z_][a-z0-9_]*``, at most 63 bytes, not ``pg_…``),
          else ``ValidationError`` (field ``schema``). ``migrate=True`` creates it. Behind
          pgBouncer the role must set it (``ALTER ROLE app IN DATABASE db SET
          search_path = interactions``), else ``ConfigurationError``. SQLite accepts only
          ``"main"``.
        """
    @property
    def backend(self) -> str:
        """``"postgres"`` or ``"sqlite"``."""
    @property
    def closed(self) -> bool:
        """True after ``close()``."""
    @property
    def schema(self) -> Optional[str]:
        """The PostgreSQL schema the store works in (``schema=``); ``None`` without one
        (the connection's default, normally ``public``) and on SQLite."""
    def cache_stats(self) -> CacheStats:
        """Hits and misses of each cache since the store opened, and whether Redis is
        reachable (no I/O: not a coroutine)."""
    def replica_status(self) -> List[ReplicaStatus]:
        """The configured replicas as the health probe last saw them (empty without
        replicas; no I/O: not a coroutine)."""
    def close(self) -> Coroutine[Any, Any, None]:
        """Closes the store: idle connections close at once and every later call raises
        ``UnavailableError``. Calls in flight end within their own deadline (a write
        still commits or rolls back whole); this waits for them at most ``call_timeout``,
        never on an unreachable server. Closing twice is allowed."""
    def __aenter__(self) -> Coroutine[Any, Any, AsyncInteractionStore]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
        /,
    ) -> Coroutine[Any, Any, bool]: ...
    def migrate(self) -> Coroutine[Any, Any, List[SchemaVersion]]:
        """Applies pending migrations (forward-only, each recorded and audited); returns the
        versions applied now (empty when up to date). Safe to call from several processes
        at once: PostgreSQL serialises migrators with an advisory lock, SQLite with its
        write lock."""
    def migrate_to(self, version: str) -> Coroutine[Any, Any, List[SchemaVersion]]:
        """Applies pending migrations up to and including ``version`` (``"1.0.0"``, one
        of this library's schema versions), e.g. to stage an upgrade; returns the
        versions applied now. An unparsable version is a ``SchemaVersionError``, an
        unknown one a ``ValidationError`` (field ``version``)."""
    def schema_version(self) -> Coroutine[Any, Any, Optional[SchemaVersion]]:
        """The schema version recorded in the database; ``None`` for an empty database."""
    def check_schema(self) -> Coroutine[Any, Any, None]:
        """Raises ``SchemaVersionError`` unless the database schema is one this library can
        use: the same MAJOR version as ``SCHEMA_VERSION`` and at least that version
        (newer MINOR/PATCH versions are backward-compatible and accepted)."""
    def pending_migrations(self) -> Coroutine[Any, Any, List[PendingMigration]]:
        """The migrations ``migrate()`` would apply, oldest first, each with its SQL for this
        backend (for review): all of them on an empty database, none on an up-to-date one.
        Reads only; works on a store opened with ``check_schema=False``."""
    def verify(self) -> Coroutine[Any, Any, IntegrityReport]:
        """The integrity report: schema version, migration checksums, counts, referential
        checks and a content checksum per table (``ok`` is true when ``problems`` is
        empty). Problems found are in the report, not raised; works on a store opened with
        ``check_schema=False``. Reads every table."""
    def create_user(self, username: str, email: str, password: str) -> Coroutine[Any, Any, User]:
        """Creates an active user and returns it. Username and email must be unique (email
        case-insensitively): a duplicate is a ``ConflictError``; an invalid value a
        ``ValidationError`` naming the field."""
    def get_user(self, user_id: int) -> Coroutine[Any, Any, User]:
        """Reads a user by id; an unknown id is a ``NotFoundError``."""
    def get_user_by_username(self, username: str) -> Coroutine[Any, Any, User]:
        """Reads a user by username; an unknown one is a ``NotFoundError``."""
    def list_users(self) -> Coroutine[Any, Any, List[User]]:
        """Every user, active or not, by id (oldest first)."""
    def anonymize_user(self, user_id: int) -> Coroutine[Any, Any, User]:
        """The right to be forgotten: replaces the user's username and email with
        tombstones, clears the password, deactivates the account, revokes its tokens and
        scrubs the old username and email from the access log, the audit trail and
        interactions (live, deleted, archived), keeping every key and count. Returns the
        anonymised user; an unknown one is a ``NotFoundError``. Cannot be undone."""
    def set_password(self, user_id: int, password: str) -> Coroutine[Any, Any, None]:
        """Sets a new password for the user and revokes every login token of the user."""
    def set_user_active(self, user_id: int, active: bool) -> Coroutine[Any, Any, User]:
        """Activates (``active=True``) or deactivates a user; returns the user. Deactivation
        revokes every login token of the user."""
    def user_sites(self, user_id: int) -> Coroutine[Any, Any, List[Tuple[Site, Role]]]:
        """The sites the user belongs to, with the role at each: ``[(Site, role), ...]``."""
    def create_site(self, name: str, description: Optional[str] = None) -> Coroutine[Any, Any, Site]:
        """Creates an active site and returns it; a duplicate name is a ``ConflictError``."""
    def get_site(self, site_id: int) -> Coroutine[Any, Any, Site]:
        """Reads a site by id; an unknown id is a ``NotFoundError``."""
    def list_sites(self) -> Coroutine[Any, Any, List[Site]]:
        """All sites, by name."""
    def set_site_active(self, site_id: int, active: bool) -> Coroutine[Any, Any, Site]:
        """Activates (``active=True``) or deactivates a site; returns the site. Sessions
        cannot be opened on an inactive site."""
    def grant_role(self, user_id: int, site_id: int, role: Role) -> Coroutine[Any, Any, None]:
        """Gives the user ``role`` (``"viewer"``, ``"editor"`` or ``"admin"``) at the site,
        replacing any earlier role. For the host application's own administration, e.g.
        to create a site's first admin; site admins use
        ``SiteSession.set_member_role()``."""
    def login(self, username: str, password: str) -> Coroutine[Any, Any, LoginToken]:
        """Checks a username and password and returns a new login token, valid for 24 hours.
        Every attempt is written to the access log. An unknown user, a wrong password and
        an inactive user all raise ``AuthenticationError``."""
    def logout(self, token: str) -> Coroutine[Any, Any, None]:
        """Revokes a login token; an unknown or already revoked token is an
        ``AuthenticationError``."""
    def access_log(self, limit: int = 50) -> Coroutine[Any, Any, List[AccessLogEntry]]:
        """The most recent access-log entries, newest first: at most ``limit``, 1-500 (else
        ``ValidationError``, field ``limit``)."""
    @property
    def clock(self) -> Clock:
        """The store's clock (``connect(..., clock=)``, else the system clock); no I/O."""
    def archive(
        self, older_than: Optional[Seconds] = None, *, dry_run: bool = False
    ) -> Coroutine[Any, Any, ArchiveReport]:
        """Moves interactions that have not changed for ``older_than`` (a ``timedelta`` or
        seconds, between one hour and 100 years, else ``ValidationError`` with field
        ``older_than``; default two years) and are not soft-deleted to the archive, in
        batches of 500, each checked by count and checksum before it commits.

        Archived interactions are read-only (a change raises ``ArchivedError``), found by
        the Finder only with ``include_archived()`` / ``archived_only()``, and deleted by
        ``purge()`` after the retention period. ``dry_run=True``: count what would move,
        change nothing. Safe to interrupt and rerun, and to run while the application
        writes."""
    def purge(self, *, dry_run: bool = False) -> Coroutine[Any, Any, PurgeReport]:
        """Applies the retention rules (``connect(..., retention=)``) at the store clock's
        time: deletes soft-deleted interactions past ``deleted_interactions``, archived
        ones past ``archived_interactions``, access attempts, authentication logs and
        audit rows past their periods, anonymises login records past ``user_activity``,
        and removes expired or revoked login tokens and expired idempotency keys.

        Works in batches of 1000 rows, each its own transaction with an audit tombstone
        (rule, table, cut-off, rows), so it can be interrupted and rerun.
        ``dry_run=True``: count, change nothing."""
    def counts(self) -> Coroutine[Any, Any, Counts]:
        """How many users, sites and live, deleted and archived interactions the database
        holds (tables an older schema lacks count as empty)."""
    def session(
        self, token: str, site_id: int, consistency_token: Optional[str] = None
    ) -> Coroutine[Any, Any, AsyncSiteSession]:
        """Opens a session on ``site_id`` for the user holding login ``token``.

        ``consistency_token`` (a session's ``consistency_token``, maybe of another
        process or request) makes its reads see every write up to it, even on replicas;
        a malformed one is a ``ValidationError`` (field ``consistency_token``)."""
    def session_for_user(
        self, user_id: int, site_id: int, consistency_token: Optional[str] = None
    ) -> Coroutine[Any, Any, AsyncSiteSession]:
        """Opens a session for a user the host application authenticated itself;
        ``consistency_token`` as in ``session()``."""

@final
class AsyncSiteSession:
    """A user's view of one site (asyncio API): ``SiteSession``'s methods, the I/O ones
    returning coroutines. Open one with ``await store.session(...)`` or ``await
    store.session_for_user(...)``."""

    @property
    def user_id(self) -> int:
        """The session's user id."""
    @property
    def site_id(self) -> int:
        """The session's site id."""
    @property
    def role(self) -> Role:
        """The user's role at the site when the session opened (every call re-checks
        the session: a logout, role change, removal or deactivation is seen by the next
        call)."""
    @property
    def consistency_token(self) -> Optional[str]:
        """The commit position (PostgreSQL LSN, e.g. ``"0/16B3748"``) of the newest
        write this session made or was given; ``None`` before any, and always on a
        store without replicas. Hand it to the next request and pass it to
        ``session(..., consistency_token=)`` there to read your writes."""
    def finder(self) -> AsyncFinder:
        """Starts a Finder over this site's interactions (no I/O until ``fetch()``,
        ``count()`` or iteration)."""
    def create_interaction(
        self,
        *,
        title: str,
        interaction_type: str,
        lead: str,
        start: _When,
        end: _When,
        timezone: str,
        location: Optional[str] = None,
        description: Optional[str] = None,
        notes: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Coroutine[Any, Any, Interaction]:
        """Creates an interaction (editor or admin). ``start``/``end`` are aware
        datetimes (instants) or ``LocalTime``s (wall-clock times in ``timezone``).

        A create that timed out (``TimeoutError``), failed as ``UnavailableError`` or
        was cancelled (Ctrl-C, asyncio cancellation) may still have committed. With an
        ``idempotency_key`` (any string unique per logical create, e.g. a request id)
        retrying is safe: the same key in this site within 24 h returns the interaction
        the first call created (no second row, no second audit entry); the same key with
        other content is a ``ConflictError``."""
    def create_interactions(
        self, interactions: Sequence[NewInteraction]
    ) -> Coroutine[Any, Any, List[Interaction]]:
        """Creates up to 1000 interactions in one transaction (editor or admin): each item
        a dict of ``create_interaction()``'s keyword arguments. Every item is validated
        before anything is written; the first invalid one fails the call and names its
        index (``ValidationError`` with field ``interactions[2].title``; a wrong type is a
        ``TypeError`` naming ``interactions[2].title``). All commit together or none does;
        returns the interactions in input order."""
    def get_interaction(self, id: int) -> Coroutine[Any, Any, Interaction]:
        """Reads one interaction of this site that is not deleted: a live one, or an
        archived one (read-only, ``archived_at`` set). A missing interaction, or another
        site's, is a ``NotFoundError``."""
    def update_interaction(
        self,
        id: int,
        *,
        expected_version: Optional[int] = None,
        title: str = ...,
        interaction_type: str = ...,
        lead: str = ...,
        start: _When = ...,
        end: _When = ...,
        timezone: str = ...,
        location: Optional[str] = ...,
        description: Optional[str] = ...,
        notes: Optional[str] = ...,
    ) -> Coroutine[Any, Any, Interaction]:
        """Partial update (editor or admin): pass only the fields to change; returns the
        updated interaction. ``location=None`` (or ``description``, ``notes``) clears the
        field; omitting it leaves it. With ``expected_version``, a record whose version
        differs is a ``ConflictError`` and nothing changes. A patch that changes nothing
        returns the record as it is; an archived interaction is an ``ArchivedError``."""
    def delete_interaction(
        self, id: int, *, expected_version: Optional[int] = None
    ) -> Coroutine[Any, Any, None]:
        """Soft-deletes an interaction (editor or admin): it disappears from reads and the
        Finder; an admin can restore it until the retention policy's
        ``deleted_interactions`` period (30 days by default) has passed. With
        ``expected_version``, a record whose version differs is a ``ConflictError``."""
    def restore_interaction(self, id: int) -> Coroutine[Any, Any, Interaction]:
        """Restores a soft-deleted interaction (admin) and returns it; one deleted longer
        ago than the retention policy's ``deleted_interactions`` period (30 days by
        default) is a ``ConflictError``."""
    def unarchive_interaction(self, id: int) -> Coroutine[Any, Any, Interaction]:
        """Brings an archived interaction back to the live table (admin): it becomes
        editable again, its version goes up by one and its last change is now (so the
        next archival run leaves it alone)."""
    def set_member_role(self, user_id: int, role: Role) -> Coroutine[Any, Any, None]:
        """Gives a user a role at this site (admin): ``"viewer"``, ``"editor"`` or
        ``"admin"``, replacing any earlier role."""
    def remove_member(self, user_id: int) -> Coroutine[Any, Any, None]:
        """Removes a user from this site (admin)."""
    def verify(self) -> Coroutine[Any, Any, Role]:
        """Re-check the session now (as every call does) and return the current role."""
        ...
    def members(self) -> Coroutine[Any, Any, List[Member]]:
        """The site's members (admin)."""
    def audit_trail(self, limit: int = 50, after: Optional[str] = None) -> Coroutine[Any, Any, AuditPage]:
        """The site's audit trail, newest first (admin). ``limit`` 1-500; pass the previous
        page's ``next_cursor`` as ``after`` to continue."""

@final
class AsyncFinder:
    """A search over one site's interactions (asyncio API): ``Finder``'s builder methods;
    ``fetch()``, ``count()`` and ``explain()`` return coroutines, and ``async for``
    iterates over every match."""

    def text(self, query: str) -> AsyncFinder:
        """Free text over title, description and notes (web-search syntax: ``"exact
        phrase"``, ``or``, ``-excluded``)."""
    def title_contains(self, s: str) -> AsyncFinder:
        """Title contains ``s``, case-insensitively."""
    def types(self, types: List[str]) -> AsyncFinder:
        """Type is one of ``types`` (a list of str)."""
    def lead_contains(self, s: str) -> AsyncFinder:
        """Lead contains ``s``, case-insensitively."""
    def date_range(
        self, start: datetime, end: datetime, mode: RangeMode = "overlap"
    ) -> AsyncFinder:
        """Interactions overlapping ``[start, end]`` (``mode="overlap"``, the default) or
        contained in it (``mode="contained"``); ``start`` and ``end`` are aware
        datetimes."""
    def created_by(self, user_id: int) -> AsyncFinder:
        """Created by ``user_id``."""
    def include_deleted(self, yes: bool = True) -> AsyncFinder:
        """Also return soft-deleted interactions (admin only: for another role the query
        raises ``PermissionDeniedError``)."""
    def include_archived(self, yes: bool = True) -> AsyncFinder:
        """Also return archived interactions (read-only, with ``archived_at`` set), in
        the same pages and order as live ones."""
    def archived_only(self, yes: bool = True) -> AsyncFinder:
        """Return archived interactions only."""
    def masked(self, yes: bool = True) -> AsyncFinder:
        """Return every item masked as the ``interactions_masked`` view shows it (the
        core's rule, as ``Interaction.masked()``): description and notes hidden, lead
        reduced to initials."""
    def sort(self, sort: Sort) -> AsyncFinder:
        """Sort order: ``"start_desc"`` (default), ``"start_asc"``, ``"created_desc"`` or
        ``"relevance"`` (needs ``text()``, else ``ValidationError``)."""
    def limit(self, limit: int) -> AsyncFinder:
        """Page size, 1-500 (else the query raises ``ValidationError``); default 50."""
    def after(self, cursor: str) -> AsyncFinder:
        """Continue after the page that returned ``cursor`` (its ``Page.next_cursor``)."""
    def fetch(self) -> Coroutine[Any, Any, Page]:
        """Runs the query and returns one page: at most ``limit`` interactions and the next
        page's cursor."""
    def count(self) -> Coroutine[Any, Any, int]:
        """Counts every match of the filters (ignores sort, limit and cursor); a separate
        query."""
    def explain(self) -> Coroutine[Any, Any, str]:
        """The database's plan for the page query (``EXPLAIN`` on PostgreSQL, ``EXPLAIN
        QUERY PLAN`` on SQLite), one line per plan node: for checking index use."""
    def iter(self) -> AsyncFinderIter:
        """Async-iterates over every match (``async for``), fetching page after page
        (``limit`` per page)."""
    def __aiter__(self) -> AsyncFinderIter:
        """``async for i in finder:`` is ``async for i in finder.iter():``."""

@final
class AsyncFinderIter:
    """Async iterator over every match of an ``AsyncFinder`` (``AsyncFinder.iter()``):
    fetches the next page when the current one is used up."""

    def __aiter__(self) -> AsyncFinderIter: ...
    def __anext__(self) -> Coroutine[Any, Any, Interaction]: ...
