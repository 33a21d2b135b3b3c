//! Plain JavaScript objects (`#[napi(object)]`): what the API returns and the option
//! objects it takes. Date-times come out as `Date`; absent values are `null`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use napi::bindgen_prelude::{ClassInstance, Either, Either3};
use napi_derive::napi;

use crate::inputs::input_keys;
use crate::lifecycle::Clock;

/// A wall-clock time in the interaction's `timezone`, e.g.
/// `{ local: '2026-12-01T09:30:00' }`. A time skipped or repeated by a daylight-saving
/// change is a `VALIDATION` error.
#[napi(object)]
pub struct LocalTime {
    /// `YYYY-MM-DDTHH:MM[:SS[.fff]]`, no offset.
    pub local: String,
}
input_keys!(LocalTime { local });

/// How to open a store. Every field is optional; the defaults are the core's.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ConnectOptions<'env> {
    /// Apply pending migrations while opening. Default `false`: opening a database that
    /// is behind rejects with `SCHEMA_VERSION`.
    pub migrate: Option<bool>,
    /// Connections kept open even when idle. Default 5.
    pub min_connections: Option<f64>,
    /// Upper bound of the pool. Default 20.
    pub max_connections: Option<f64>,
    /// How long a call waits for a pooled connection before rejecting with
    /// `UNAVAILABLE`, in milliseconds. Default 30000.
    pub acquire_timeout_ms: Option<f64>,
    /// Idle connections above the minimum are closed after this many milliseconds;
    /// `null` keeps them. Default 600000 (10 min).
    #[napi(ts_type = "number | null")]
    pub idle_timeout_ms: Option<Option<f64>>,
    /// Connections are replaced after this many milliseconds; `null` never replaces them.
    /// Default 1800000 (30 min).
    #[napi(ts_type = "number | null")]
    pub max_lifetime_ms: Option<Option<f64>>,
    /// Password hashes computed at once; further logins queue. Default: the number of CPUs.
    pub login_concurrency: Option<f64>,
    /// How long opening one connection may take (PostgreSQL: TCP, TLS and
    /// authentication; SQLite: opening the file), in milliseconds. A refused connection
    /// rejects at once with `UNAVAILABLE`. Default 10000.
    pub connect_timeout_ms: Option<f64>,
    /// Longest time one statement may run on the server, in milliseconds; past it the
    /// statement is cancelled and the call rejects with `TIMEOUT`. Default 30000.
    pub statement_timeout_ms: Option<f64>,
    /// Longest wait for a lock another transaction holds (a row on PostgreSQL, the
    /// database write lock of another process on SQLite), in milliseconds; past it the
    /// call rejects with `TIMEOUT` and nothing is written. Default 10000.
    pub lock_timeout_ms: Option<f64>,
    /// The deadline of every call (waiting for a connection plus the statements), in
    /// milliseconds: no call settles later, whatever the server does. Past it the call
    /// rejects with `TIMEOUT`; a write may still have committed (see
    /// `NewInteraction.idempotencyKey`). Default 60000.
    pub call_timeout_ms: Option<f64>,
    /// Calls that take at least this many milliseconds are logged as warnings (see
    /// `INTERACTION_STORE_LOG` in the README); `null` turns the warning off. Default 1000.
    #[napi(ts_type = "number | null")]
    pub slow_statement_threshold_ms: Option<Option<f64>>,
    /// Check the schema version while opening. Default `true`. `false` opens a database
    /// of any version (or none) without touching it, for operator tools that read
    /// `schemaVersion()` or stage an upgrade with `migrateTo()`; other calls may then fail.
    pub check_schema: Option<bool>,
    /// Cache login tokens (24 h), permissions (15 min) and Finder pages and counts (5 min),
    /// in Redis with `redisUrl`, else in this process's memory; every change invalidates
    /// what it affects when it commits. Default `true`. Processes sharing a database
    /// without sharing a Redis see each other's changes in cached data only after those
    /// TTLs: give them a Redis, or pass `false`.
    pub cache: Option<bool>,
    /// A Redis shared by every process of the deployment (`redis://host:port/db`,
    /// `rediss://` for TLS, `unix://path`): a logout or a change in one process is seen by
    /// the next call in all of them. Anything else rejects with `VALIDATION` (field
    /// `redis_url`). Redis is never a dependency: down, slow or flushed, calls go to the
    /// database. Default: none (the cache is in this process's memory).
    pub redis_url: Option<String>,
    /// The longest wait for one Redis reply (or connection), in milliseconds, before Redis
    /// is treated as down until a background probe finds it again. Default 100.
    pub redis_timeout_ms: Option<f64>,
    /// How long a Finder page or count is cached, in milliseconds (it dies earlier when its
    /// site's rows change); at most 24 hours; `0` caches no Finder results while still
    /// caching logins and permissions. Default 300000 (5 min).
    pub finder_cache_ttl_ms: Option<f64>,
    /// URLs of streaming replicas of the PostgreSQL primary (same database) that serve
    /// searches and loads of single records, balanced across the healthy ones; writes,
    /// authentication and permission checks always go to the primary. A session's reads go
    /// to a replica only once it has replayed the session's `consistencyToken`. The primary
    /// URL may list several hosts (`postgres://u@h1:5432,h2:5433/db`): the writable one is
    /// used. Default: none.
    pub replicas: Option<Vec<String>>,
    /// A replica for counts, exports and audit reads, so that reporting never competes
    /// with searches. Default: none.
    pub reporting_replica: Option<String>,
    /// How far behind the primary a replica may be, in milliseconds, and still serve reads;
    /// further behind it leaves the rotation until it catches up (with none healthy, reads
    /// go to the primary). Default 1000.
    pub replica_max_lag_ms: Option<f64>,
    /// The URL leads to pgBouncer in transaction pooling mode: no prepared statements and no
    /// settings at connect time (set the time limits on the role or database instead).
    /// Default `false`.
    pub behind_pgbouncer: Option<bool>,
    /// The source of every timestamp the store writes or compares (creation, deletion,
    /// token expiry, archival and retention cut-offs). A `Clock.manual(...)` makes
    /// archival, retention and expiry testable without waiting. Default `Clock.system()`.
    pub clock: Option<ClassInstance<'env, Clock>>,
    /// How long each kind of data is kept, applied by `purge()`; an absent period keeps
    /// its default. Each is checked when the store opens (between one hour and 100 years,
    /// else `VALIDATION` with field `retention.<name>`, e.g. `retention.deleted_interactions`).
    pub retention: Option<RetentionPolicy>,
    /// Record every read of interactions (a get or a Finder page) in the access log: who,
    /// which site and resource, and the outcome. Costs one insert per read. Default `false`.
    pub access_logging: Option<bool>,
    /// The PostgreSQL schema that holds every table and view of the store, so that it lives
    /// beside a host application's own `users` or `schema_migrations`: a lowercase
    /// identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes, not `pg_…`), else `VALIDATION`
    /// with field `schema`. `migrate: true` creates it. Behind pgBouncer the role must set
    /// it (`ALTER ROLE app IN DATABASE db SET search_path = interactions`), else
    /// `CONFIGURATION`. SQLite accepts only `main`. Default: none (the connection's own
    /// `search_path`, normally `public`).
    pub schema: Option<String>,
}
input_keys!(ConnectOptions<'_> {
    migrate,
    min_connections,
    max_connections,
    acquire_timeout_ms,
    idle_timeout_ms,
    max_lifetime_ms,
    login_concurrency,
    connect_timeout_ms,
    statement_timeout_ms,
    lock_timeout_ms,
    call_timeout_ms,
    slow_statement_threshold_ms,
    check_schema,
    cache,
    redis_url,
    redis_timeout_ms,
    finder_cache_ttl_ms,
    replicas,
    reporting_replica,
    replica_max_lag_ms,
    behind_pgbouncer,
    clock,
    retention,
    access_logging,
    schema
});

/// How long each kind of data is kept before `purge()` deletes (or anonymises) it, in
/// milliseconds (`connect(url, { retention })`). Every field is optional: an absent one
/// keeps the default (spec §6.1, §6.4).
#[napi(object)]
#[derive(Default)]
pub struct RetentionPolicy {
    /// Soft-deleted interactions are deleted for good this long after their deletion (and
    /// can be restored until then). Default 2592000000 (30 days).
    pub deleted_interactions_ms: Option<f64>,
    /// Archived interactions are deleted this long after their archival. Default
    /// 157680000000 (5 years of 365 days).
    pub archived_interactions_ms: Option<f64>,
    /// Access-log rows of reads and refused calls (access attempts) are deleted after this
    /// long. Default 31536000000 (1 year).
    pub access_attempts_ms: Option<f64>,
    /// Login and logout records are anonymised (username, user and detail removed; the row
    /// kept for counts) after this long. Default 31536000000 (1 year).
    pub user_activity_ms: Option<f64>,
    /// Login and logout records are deleted after this long. Default 63072000000 (2 years).
    pub authentication_logs_ms: Option<f64>,
    /// Audit rows of changes to interactions are deleted after this long. Default
    /// 63072000000 (2 years).
    pub data_modifications_ms: Option<f64>,
    /// Audit rows of administration (users, sites, roles, archival, purges,
    /// anonymisation) are deleted after this long. Default 94608000000 (3 years).
    pub admin_actions_ms: Option<f64>,
    /// Audit rows of schema migrations are deleted after this long. Default 157680000000
    /// (5 years).
    pub schema_changes_ms: Option<f64>,
}
input_keys!(RetentionPolicy {
    deleted_interactions_ms,
    archived_interactions_ms,
    access_attempts_ms,
    user_activity_ms,
    authentication_logs_ms,
    data_modifications_ms,
    admin_actions_ms,
    schema_changes_ms
});

/// Options of `archive`. `null` is the same as absent.
#[napi(object)]
#[derive(Default)]
pub struct ArchiveOptions {
    /// Archive interactions that have not changed (update, else creation) for this many
    /// milliseconds: between one hour and 100 years. Default two years (63072000000).
    #[napi(ts_type = "number | null")]
    pub older_than_ms: Option<Option<f64>>,
    /// Count what would move, change nothing. Default `false`.
    #[napi(ts_type = "boolean | null")]
    pub dry_run: Option<Option<bool>>,
}
input_keys!(ArchiveOptions {
    older_than_ms,
    dry_run
});

/// Options of `purge`. `null` is the same as absent.
#[napi(object)]
#[derive(Default)]
pub struct PurgeOptions {
    /// Count what would be purged, change nothing. Default `false`.
    #[napi(ts_type = "boolean | null")]
    pub dry_run: Option<Option<bool>>,
}
input_keys!(PurgeOptions { dry_run });

/// What an archival run did (or, in a dry run, would do): `store.archive()`.
#[napi(object)]
pub struct ArchiveReport {
    /// Nothing was moved: the counts say what a real run would move now.
    pub dry_run: bool,
    /// Interactions whose last change (update, else creation) is older than this moved.
    pub cutoff: DateTime<Utc>,
    /// `cutoff` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub cutoff_iso: String,
    /// Interactions moved (would move, in a dry run).
    pub moved: i64,
    /// Moved per site id: `{ [siteId]: count }`.
    #[napi(ts_type = "Record<string, number>")]
    pub sites: BTreeMap<String, i64>,
    /// Transactions committed (would commit).
    pub batches: i64,
    /// Candidates left live: an edit held them or made them active again during the run.
    pub skipped: i64,
    /// SHA-256 over the content of every moved interaction, in the order moved (hex; empty
    /// when nothing moved or in a dry run). Each batch compared it with the archived copies
    /// before it committed.
    pub checksum: String,
}

impl From<interaction_core::ArchiveReport> for ArchiveReport {
    fn from(r: interaction_core::ArchiveReport) -> Self {
        ArchiveReport {
            dry_run: r.dry_run,
            cutoff: r.cutoff,
            cutoff_iso: crate::convert::iso(r.cutoff),
            moved: count(r.moved),
            sites: r
                .sites
                .into_iter()
                .map(|(site, n)| (site.to_string(), count(n)))
                .collect(),
            batches: count(r.batches),
            skipped: count(r.skipped),
            checksum: r.checksum,
        }
    }
}

/// What one retention rule did (or would do) in a `PurgeReport`.
#[napi(object)]
pub struct PurgeOutcome {
    /// The rule: a `RetentionPolicy` field in snake_case without `Ms`
    /// (`deleted_interactions`, ...), `expired_tokens` or `expired_idempotency_keys`.
    pub policy: String,
    /// The table it applies to.
    pub table: String,
    /// `delete`, or `anonymise` (personal fields removed, the row kept).
    #[napi(ts_type = "'delete' | 'anonymise'")]
    pub action: String,
    /// Rows older than this were affected.
    pub cutoff: DateTime<Utc>,
    /// `cutoff` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub cutoff_iso: String,
    /// Rows affected (would be, in a dry run).
    pub rows: i64,
}

/// What a purge did (or would do): `store.purge()`.
#[napi(object)]
pub struct PurgeReport {
    /// Nothing was changed: the counts say what a real purge would do now.
    pub dry_run: bool,
    /// The store clock's time the cut-offs were computed from.
    pub now: DateTime<Utc>,
    /// `now` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub now_iso: String,
    /// One entry per rule, in the order applied.
    pub outcomes: Vec<PurgeOutcome>,
    /// Rows affected by every rule together.
    pub total: i64,
}

impl From<interaction_core::PurgeReport> for PurgeReport {
    fn from(r: interaction_core::PurgeReport) -> Self {
        let total = count(r.total());
        PurgeReport {
            dry_run: r.dry_run,
            now: r.now,
            now_iso: crate::convert::iso(r.now),
            outcomes: r
                .outcomes
                .into_iter()
                .map(|o| PurgeOutcome {
                    policy: o.policy,
                    table: o.table,
                    action: o.action,
                    cutoff: o.cutoff,
                    cutoff_iso: crate::convert::iso(o.cutoff),
                    rows: count(o.rows),
                })
                .collect(),
            total,
        }
    }
}

/// How many users, sites and live, deleted and archived interactions the database holds:
/// `store.counts()`.
#[napi(object)]
pub struct Counts {
    /// Users, active or not.
    pub users: i64,
    /// Sites, active or not.
    pub sites: i64,
    /// Interactions neither deleted nor archived.
    pub live: i64,
    /// Soft-deleted interactions (not yet purged).
    pub deleted: i64,
    /// Archived interactions.
    pub archived: i64,
}

impl From<interaction_core::Counts> for Counts {
    fn from(c: interaction_core::Counts) -> Self {
        Counts {
            users: count(c.users),
            sites: count(c.sites),
            live: count(c.live),
            deleted: count(c.deleted),
            archived: count(c.archived),
        }
    }
}

/// Hits and misses of one cache since the store opened.
#[napi(object)]
pub struct CacheCounts {
    /// Lookups answered by the cache.
    pub hits: i64,
    /// Lookups that went to the database (absent, expired or invalidated entry).
    pub misses: i64,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl From<interaction_core::CacheCounts> for CacheCounts {
    fn from(c: interaction_core::CacheCounts) -> Self {
        CacheCounts {
            hits: count(c.hits),
            misses: count(c.misses),
        }
    }
}

/// Cache statistics of a store: `store.cacheStats()`.
#[napi(object)]
pub struct CacheStats {
    /// `redis` (`redisUrl`), `memory` (the default: this process's memory) or `off`
    /// (`cache: false`).
    #[napi(ts_type = "'redis' | 'memory' | 'off'")]
    pub backend: String,
    /// False while Redis is unreachable (calls go to the database meanwhile).
    pub available: bool,
    /// Login tokens.
    pub auth: CacheCounts,
    /// Roles and activation of users and sites, re-checked on every session call.
    pub permissions: CacheCounts,
    /// Finder pages and counts.
    pub finder: CacheCounts,
    /// Lookup data (sites), always in process memory.
    pub lookup: CacheCounts,
    /// Lookups that bypassed an unavailable cache.
    pub bypassed: i64,
    /// Times Redis became unreachable.
    pub outages: i64,
}

impl From<interaction_core::CacheStats> for CacheStats {
    fn from(s: interaction_core::CacheStats) -> Self {
        CacheStats {
            backend: s.backend.to_string(),
            available: s.available,
            auth: s.auth.into(),
            permissions: s.permissions.into(),
            finder: s.finder.into(),
            lookup: s.lookup.into(),
            bypassed: count(s.bypassed),
            outages: count(s.outages),
        }
    }
}

/// A configured replica as the health probe last saw it: `store.replicaStatus()`.
#[napi(object)]
pub struct ReplicaStatus {
    /// `host:port`.
    pub place: String,
    /// The reporting replica (`reportingReplica`).
    pub reporting: bool,
    /// In the rotation: answering, a standby, and within `replicaMaxLagMs`.
    pub healthy: bool,
    /// The WAL position it had replayed at the last probe (`0/0` before any).
    pub replayed: String,
}

impl From<interaction_core::ReplicaStatus> for ReplicaStatus {
    fn from(r: interaction_core::ReplicaStatus) -> Self {
        ReplicaStatus {
            place: r.place,
            reporting: r.reporting,
            healthy: r.healthy,
            replayed: r.replayed,
        }
    }
}

/// A schema version, `major.minor.patch`.
#[napi(object)]
pub struct SchemaVersion {
    /// Breaking schema changes.
    pub major: u32,
    /// Backward-compatible additions.
    pub minor: u32,
    /// Non-structural changes.
    pub patch: u32,
}

impl From<interaction_core::SchemaVersion> for SchemaVersion {
    fn from(v: interaction_core::SchemaVersion) -> Self {
        SchemaVersion {
            major: v.major,
            minor: v.minor,
            patch: v.patch,
        }
    }
}

/// A user account. The password hash never leaves the library.
#[napi(object, use_nullable = true)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Unique login name (at most 50 characters).
    pub username: String,
    /// Unique (case-insensitively) email address.
    pub email: String,
    /// Inactive users cannot log in or open sessions.
    pub is_active: bool,
    /// The last successful login.
    pub last_login: Option<DateTime<Utc>>,
    /// `lastLogin` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only;
    /// `null` when `lastLogin` is. Accepted wherever an instant is an input.
    pub last_login_iso: Option<String>,
}

impl From<User> for interaction_core::User {
    fn from(u: User) -> Self {
        interaction_core::User {
            id: u.id,
            username: u.username,
            email: u.email,
            is_active: u.is_active,
            last_login: crate::convert::exact_opt(u.last_login, u.last_login_iso.as_deref()),
        }
    }
}

impl From<interaction_core::User> for User {
    fn from(u: interaction_core::User) -> Self {
        User {
            id: u.id,
            username: u.username,
            email: u.email,
            is_active: u.is_active,
            last_login: u.last_login,
            last_login_iso: u.last_login.map(crate::convert::iso),
        }
    }
}

/// A site: one tenant's set of interactions.
#[napi(object, use_nullable = true)]
pub struct Site {
    /// Primary key.
    pub id: i64,
    /// Unique name (at most 100 characters).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Inactive sites cannot be opened in a session.
    pub is_active: bool,
}

impl From<interaction_core::Site> for Site {
    fn from(s: interaction_core::Site) -> Self {
        Site {
            id: s.id,
            name: s.name,
            description: s.description,
            is_active: s.is_active,
        }
    }
}

/// A site together with the user's role there (`userSites`).
#[napi(object)]
pub struct UserSite {
    /// The site.
    pub site: Site,
    /// `viewer`, `editor` or `admin`.
    #[napi(ts_type = "Role")]
    pub role: String,
}

/// A user's membership of a site.
#[napi(object)]
pub struct Member {
    /// The member.
    pub user_id: i64,
    /// The member's username.
    pub username: String,
    /// `viewer`, `editor` or `admin`.
    #[napi(ts_type = "Role")]
    pub role: String,
    /// When the role was assigned.
    pub assigned_at: DateTime<Utc>,
    /// `assignedAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub assigned_at_iso: String,
}

impl From<interaction_core::Member> for Member {
    fn from(m: interaction_core::Member) -> Self {
        Member {
            user_id: m.user_id,
            username: m.username,
            role: m.role.as_str().to_string(),
            assigned_at: m.assigned_at,
            assigned_at_iso: crate::convert::iso(m.assigned_at),
        }
    }
}

/// The result of a successful `login`.
#[napi(object)]
pub struct LoginToken {
    /// The opaque bearer token for `session` and `logout`. Only its hash is stored.
    pub token: String,
    /// The user who logged in.
    pub user_id: i64,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// `expiresAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub expires_at_iso: String,
}

impl From<interaction_core::LoginToken> for LoginToken {
    fn from(t: interaction_core::LoginToken) -> Self {
        LoginToken {
            token: t.token,
            user_id: t.user_id,
            expires_at: t.expires_at,
            expires_at_iso: crate::convert::iso(t.expires_at),
        }
    }
}

/// An access-log entry.
#[napi(object, use_nullable = true)]
pub struct AccessLogEntry {
    /// When the attempt happened.
    pub occurred_at: DateTime<Utc>,
    /// `occurredAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub occurred_at_iso: String,
    /// The username given.
    pub username: String,
    /// The user, when known.
    pub user_id: Option<i64>,
    /// `login`, `logout`, or for reads (with `accessLogging`) `read`, `search` or `count`.
    pub action: String,
    /// Whether it succeeded.
    pub success: bool,
    /// The outcome: `ok`, or why not (`wrong password`, `not_found`, `denied`, ...).
    pub detail: Option<String>,
    /// The site of a read.
    pub site_id: Option<i64>,
    /// What was read: `interaction:<id>` or `finder`.
    pub resource: Option<String>,
}

impl From<interaction_core::AccessLogEntry> for AccessLogEntry {
    fn from(e: interaction_core::AccessLogEntry) -> Self {
        AccessLogEntry {
            occurred_at: e.occurred_at,
            occurred_at_iso: crate::convert::iso(e.occurred_at),
            username: e.username,
            user_id: e.user_id,
            action: e.action,
            success: e.success,
            detail: e.detail,
            site_id: e.site_id,
            resource: e.resource,
        }
    }
}

/// A stored interaction.
#[napi(object, use_nullable = true)]
pub struct Interaction {
    /// Primary key.
    pub id: i64,
    /// The site it belongs to.
    pub site_id: i64,
    /// Title (1–255 characters).
    pub title: String,
    /// Type of interaction (1–50 characters), e.g. `meeting`.
    pub interaction_type: String,
    /// Person leading it (1–100 characters).
    pub lead: String,
    /// Start instant.
    pub start_datetime: DateTime<Utc>,
    /// `startDatetime` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub start_datetime_iso: String,
    /// End instant, never before the start.
    pub end_datetime: DateTime<Utc>,
    /// `endDatetime` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub end_datetime_iso: String,
    /// IANA zone the interaction was entered in, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Location (at most 255 characters).
    pub location: Option<String>,
    /// Description (at most 1 MiB).
    pub description: Option<String>,
    /// Notes (at most 1 MiB).
    pub notes: Option<String>,
    /// Creator.
    pub created_by: i64,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// `createdAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub created_at_iso: String,
    /// Last updater.
    pub updated_by: Option<i64>,
    /// Last update instant.
    pub updated_at: Option<DateTime<Utc>>,
    /// `updatedAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only;
    /// `null` when `updatedAt` is. Accepted wherever an instant is an input.
    pub updated_at_iso: Option<String>,
    /// Set when soft-deleted.
    pub deleted_at: Option<DateTime<Utc>>,
    /// `deletedAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only;
    /// `null` when `deletedAt` is. Accepted wherever an instant is an input.
    pub deleted_at_iso: Option<String>,
    /// Who soft-deleted it.
    pub deleted_by: Option<i64>,
    /// Optimistic-concurrency version: 1 on creation, +1 on every change. Pass it as
    /// `expectedVersion` to refuse a stale write with `CONFLICT`.
    pub version: i64,
    /// When it was archived; `null` for a live interaction. Archived interactions are
    /// read-only (a change rejects with `ARCHIVED`) and found by the Finder only with
    /// `includeArchived()` / `archivedOnly()`.
    pub archived_at: Option<DateTime<Utc>>,
    /// `archivedAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only;
    /// `null` when `archivedAt` is. Accepted wherever an instant is an input.
    pub archived_at_iso: Option<String>,
}

impl From<interaction_core::Interaction> for Interaction {
    fn from(i: interaction_core::Interaction) -> Self {
        Interaction {
            id: i.id,
            site_id: i.site_id,
            title: i.title,
            interaction_type: i.interaction_type,
            lead: i.lead,
            start_datetime: i.start_datetime,
            start_datetime_iso: crate::convert::iso(i.start_datetime),
            end_datetime: i.end_datetime,
            end_datetime_iso: crate::convert::iso(i.end_datetime),
            timezone: i.timezone,
            location: i.location,
            description: i.description,
            notes: i.notes,
            created_by: i.created_by,
            created_at: i.created_at,
            created_at_iso: crate::convert::iso(i.created_at),
            updated_by: i.updated_by,
            updated_at: i.updated_at,
            updated_at_iso: i.updated_at.map(crate::convert::iso),
            deleted_at: i.deleted_at,
            deleted_at_iso: i.deleted_at.map(crate::convert::iso),
            deleted_by: i.deleted_by,
            version: i.version,
            archived_at: i.archived_at,
            archived_at_iso: i.archived_at.map(crate::convert::iso),
        }
    }
}

impl From<Interaction> for interaction_core::Interaction {
    fn from(i: Interaction) -> Self {
        interaction_core::Interaction {
            id: i.id,
            site_id: i.site_id,
            title: i.title,
            interaction_type: i.interaction_type,
            lead: i.lead,
            start_datetime: crate::convert::exact(i.start_datetime, Some(&i.start_datetime_iso)),
            end_datetime: crate::convert::exact(i.end_datetime, Some(&i.end_datetime_iso)),
            timezone: i.timezone,
            location: i.location,
            description: i.description,
            notes: i.notes,
            created_by: i.created_by,
            created_at: crate::convert::exact(i.created_at, Some(&i.created_at_iso)),
            updated_by: i.updated_by,
            updated_at: crate::convert::exact_opt(i.updated_at, i.updated_at_iso.as_deref()),
            deleted_at: crate::convert::exact_opt(i.deleted_at, i.deleted_at_iso.as_deref()),
            deleted_by: i.deleted_by,
            version: i.version,
            archived_at: crate::convert::exact_opt(i.archived_at, i.archived_at_iso.as_deref()),
        }
    }
}

/// Input of `createInteraction` (and each item of `createInteractions`).
#[napi(object)]
pub struct NewInteraction {
    /// Title (1–255 characters).
    pub title: String,
    /// Type (1–50 characters), e.g. `meeting`.
    pub interaction_type: String,
    /// Lead (1–100 characters).
    pub lead: String,
    /// Start: a `Date`, an ISO-8601 string with an offset, or `{ local: '...' }` in
    /// `timezone`.
    #[napi(ts_type = "When")]
    pub start: Either3<DateTime<Utc>, String, LocalTime>,
    /// End, not before `start`; same forms as `start`.
    #[napi(ts_type = "When")]
    pub end: Either3<DateTime<Utc>, String, LocalTime>,
    /// IANA zone name, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Location (at most 255 characters).
    #[napi(ts_type = "string | null")]
    pub location: Option<Option<String>>,
    /// Description (at most 1 MiB).
    #[napi(ts_type = "string | null")]
    pub description: Option<Option<String>>,
    /// Notes (at most 1 MiB).
    #[napi(ts_type = "string | null")]
    pub notes: Option<Option<String>>,
    /// Makes retrying this create safe (1–255 characters chosen by the caller, e.g. a
    /// UUID per form submission). A create that rejected with `TIMEOUT` or `UNAVAILABLE`
    /// may still have committed; retried with the same key in the same site within 24
    /// hours, it resolves to the interaction the first call created (no second row, no
    /// second audit row). The same key with other content rejects with `CONFLICT`.
    #[napi(ts_type = "string | null")]
    pub idempotency_key: Option<Option<String>>,
}
input_keys!(NewInteraction {
    title,
    interaction_type,
    lead,
    start,
    end,
    timezone,
    location,
    description,
    notes,
    idempotency_key
});

/// A partial update: an absent (or `undefined`) field is left as it is; `null` clears
/// one of the nullable fields (`location`, `description`, `notes`).
#[napi(object)]
#[derive(Default)]
pub struct InteractionPatch {
    /// New title.
    pub title: Option<String>,
    /// New type.
    pub interaction_type: Option<String>,
    /// New lead.
    pub lead: Option<String>,
    /// New start (a `{ local }` time is read in the new `timezone` if one is given).
    #[napi(ts_type = "When")]
    pub start: Option<Either3<DateTime<Utc>, String, LocalTime>>,
    /// New end.
    #[napi(ts_type = "When")]
    pub end: Option<Either3<DateTime<Utc>, String, LocalTime>>,
    /// New IANA zone. Changing it alone does not move the stored instants.
    pub timezone: Option<String>,
    /// New location, or `null` to clear it.
    #[napi(ts_type = "string | null")]
    pub location: Option<Option<String>>,
    /// New description, or `null` to clear it.
    #[napi(ts_type = "string | null")]
    pub description: Option<Option<String>>,
    /// New notes, or `null` to clear it.
    #[napi(ts_type = "string | null")]
    pub notes: Option<Option<String>>,
}
input_keys!(InteractionPatch {
    title,
    interaction_type,
    lead,
    start,
    end,
    timezone,
    location,
    description,
    notes
});

/// Options of `auditTrail`. `null` is the same as absent.
#[napi(object)]
#[derive(Default)]
pub struct AuditOptions {
    /// Page size, 1–500. Default 50.
    #[napi(ts_type = "number | null")]
    pub limit: Option<Option<f64>>,
    /// The previous page's `nextCursor`, to continue.
    #[napi(ts_type = "string | null")]
    pub after: Option<Option<String>>,
}
input_keys!(AuditOptions { limit, after });

/// A row of the audit trail.
#[napi(object, use_nullable = true)]
pub struct AuditEntry {
    /// Sequence number; later entries have larger ids.
    pub id: i64,
    /// When the change committed.
    pub occurred_at: DateTime<Utc>,
    /// `occurredAt` as an ISO-8601 UTC string with microseconds
    /// (`2026-12-01T08:30:00.123456Z`), exact where the `Date` keeps milliseconds only.
    /// Accepted wherever an instant is an input.
    pub occurred_at_iso: String,
    /// Who did it; `null` for the host application or the migrator.
    pub actor_id: Option<i64>,
    /// The site concerned, if any.
    pub site_id: Option<i64>,
    /// `create`, `update`, `delete`, `restore`, `set_role`, `remove_member`, `migrate`, ...
    pub action: String,
    /// `interaction`, `user`, `site`, `membership`, `schema`.
    pub entity: String,
    /// Id of the entity concerned.
    pub entity_id: Option<i64>,
    /// Changed fields: `{ field: { old, new } }` for updates, the values for creations,
    /// the details of other actions.
    #[napi(ts_type = "Record<string, any> | null")]
    pub changes: serde_json::Value,
}

impl From<interaction_core::AuditEntry> for AuditEntry {
    fn from(e: interaction_core::AuditEntry) -> Self {
        AuditEntry {
            id: e.id,
            occurred_at: e.occurred_at,
            occurred_at_iso: crate::convert::iso(e.occurred_at),
            actor_id: e.actor_id,
            site_id: e.site_id,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            changes: e.changes,
        }
    }
}

/// A page of the audit trail, newest first.
#[napi(object, use_nullable = true)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` to continue; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// An interval for the Finder's `dateRange`.
#[napi(object)]
pub struct DateRange {
    /// Start of the range: a `Date` or an ISO-8601 string with an offset.
    #[napi(ts_type = "Date | string")]
    pub from: Either<DateTime<Utc>, String>,
    /// End of the range, not before `from`.
    #[napi(ts_type = "Date | string")]
    pub to: Either<DateTime<Utc>, String>,
    /// `overlap` (default): the interaction overlaps the range; `contained`: it lies
    /// entirely within it.
    #[napi(ts_type = "RangeMode | null")]
    pub mode: Option<Option<String>>,
}
input_keys!(DateRange { from, to, mode });

/// The filters, order and page of a Finder query (what `session.finder()` accumulates).
/// `null` is the same as absent.
#[napi(object)]
#[derive(Default)]
pub struct FindOptions {
    /// Free text over title, description and notes, web-search syntax: `"exact phrase"`,
    /// `or`, `-excluded`.
    #[napi(ts_type = "string | null")]
    pub text: Option<Option<String>>,
    /// Title contains this, case-insensitively.
    #[napi(ts_type = "string | null")]
    pub title_contains: Option<Option<String>>,
    /// Type is one of these.
    #[napi(ts_type = "Array<string> | null")]
    pub types: Option<Option<Vec<String>>>,
    /// Lead contains this, case-insensitively.
    #[napi(ts_type = "string | null")]
    pub lead_contains: Option<Option<String>>,
    /// Interactions overlapping (or contained in) a range.
    #[napi(ts_type = "DateRange | null")]
    pub date_range: Option<Option<DateRange>>,
    /// Created by this user id.
    #[napi(ts_type = "number | null")]
    pub created_by: Option<Option<f64>>,
    /// Include soft-deleted interactions (admin only).
    #[napi(ts_type = "boolean | null")]
    pub include_deleted: Option<Option<bool>>,
    /// Also return archived interactions (read-only, with `archivedAt` set), in the same
    /// pages and order as live ones.
    #[napi(ts_type = "boolean | null")]
    pub include_archived: Option<Option<bool>>,
    /// Return archived interactions only.
    #[napi(ts_type = "boolean | null")]
    pub archived_only: Option<Option<bool>>,
    /// Return every item masked as the `interactions_masked` view shows it (the core's
    /// rule, as `maskInteraction`): description and notes `null`, lead reduced to initials.
    #[napi(ts_type = "boolean | null")]
    pub masked: Option<Option<bool>>,
    /// Order; default `start_desc`. `relevance` needs `text`.
    #[napi(ts_type = "Sort | null")]
    pub sort: Option<Option<String>>,
    /// Page size, 1–500; default 50.
    #[napi(ts_type = "number | null")]
    pub limit: Option<Option<f64>>,
    /// Continue after the page that returned this `nextCursor`.
    #[napi(ts_type = "string | null")]
    pub after: Option<Option<String>>,
}
input_keys!(FindOptions {
    text,
    title_contains,
    types,
    lead_contains,
    date_range,
    created_by,
    include_deleted,
    include_archived,
    archived_only,
    masked,
    sort,
    limit,
    after
});

/// One page of Finder results.
#[napi(object, use_nullable = true)]
pub struct Page {
    /// The interactions of this page, in the requested order.
    pub items: Vec<Interaction>,
    /// Give to `after` to fetch the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One of this library's migrations not yet applied to the database:
/// `store.pendingMigrations()`.
#[napi(object)]
pub struct PendingMigration {
    /// Its number (`0004_lifecycle.sql` is 4), recorded in `schema_migrations`.
    pub id: i32,
    /// Its name (`lifecycle`).
    pub name: String,
    /// The schema version the database is at once it is applied.
    pub version: SchemaVersion,
    /// The SQL script it runs, for this store's backend.
    pub sql: String,
}

impl From<interaction_core::PendingMigration> for PendingMigration {
    fn from(m: interaction_core::PendingMigration) -> Self {
        PendingMigration {
            id: m.id,
            name: m.name,
            version: m.version.into(),
            sql: m.sql,
        }
    }
}

/// One migration as the database records it, against this library's copy.
#[napi(object)]
pub struct MigrationCheck {
    /// Its id (`schema_migrations.migration_id`), in order of application.
    pub id: i32,
    /// Its name (this library's, else the recorded one).
    pub name: String,
    /// The schema version it leads to (this library's, else the recorded one).
    pub version: String,
    /// `applied` (recorded with this library's checksum), `modified` (another checksum: a
    /// problem), `unknown` (recorded by a newer library) or `pending` (not recorded: a
    /// problem).
    #[napi(ts_type = "'applied' | 'modified' | 'unknown' | 'pending'")]
    pub state: String,
}

impl From<interaction_core::MigrationCheck> for MigrationCheck {
    fn from(m: interaction_core::MigrationCheck) -> Self {
        MigrationCheck {
            id: m.id,
            name: m.name,
            version: m.version,
            // The core's own name of the state (its serialized form, as `verify --json`).
            state: serde_json::to_value(m.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    }
}

/// One named check over the rows of the database.
#[napi(object, use_nullable = true)]
pub struct Check {
    /// Stable identifier, e.g. `interactions_without_site`.
    pub name: String,
    /// What a failing row is, in words.
    pub description: String,
    /// How many rows fail it (0: sound); `null` when a table it reads is missing.
    pub failing: Option<i64>,
}

/// The content checksum of one table.
#[napi(object)]
pub struct TableChecksum {
    /// The table's name.
    pub table: String,
    /// Its number of rows.
    pub rows: i64,
    /// SHA-256 (hex) over the table's name, its columns' names and the multiset of its
    /// rows: equal for equal content whatever the rows' order. Comparable between databases
    /// of the same engine only.
    pub digest: String,
}

/// The integrity report of `store.verify()`. Two reports are deeply equal when the
/// databases hold the same schema, migrations and content: compare a restored backup's
/// with the original's.
#[napi(object, use_nullable = true)]
pub struct IntegrityReport {
    /// Whether no problem was found (`problems` is empty): the core's answer.
    pub ok: bool,
    /// The schema version recorded in the database, as written there; `null` when it was
    /// never migrated.
    pub schema_version: Option<String>,
    /// The schema version this library requires.
    pub required_version: SchemaVersion,
    /// One entry per migration, this library's and any recorded one it does not know.
    pub migrations: Vec<MigrationCheck>,
    /// Users, sites and live, soft-deleted and archived interactions.
    pub counts: Counts,
    /// The referential and placement checks, each with its number of failing rows.
    pub checks: Vec<Check>,
    /// A content checksum of every table of the schema present, by name.
    pub tables: Vec<TableChecksum>,
    /// Tables the library requires that the database lacks.
    pub missing_tables: Vec<String>,
    /// Every problem found, one sentence each; empty when the database is sound.
    pub problems: Vec<String>,
}

impl From<interaction_core::IntegrityReport> for IntegrityReport {
    fn from(r: interaction_core::IntegrityReport) -> Self {
        IntegrityReport {
            ok: r.ok(),
            schema_version: r.schema_version,
            required_version: r.required_version.into(),
            migrations: r.migrations.into_iter().map(Into::into).collect(),
            counts: r.counts.into(),
            checks: r
                .checks
                .into_iter()
                .map(|c| Check {
                    name: c.name,
                    description: c.description,
                    failing: c.failing.map(count),
                })
                .collect(),
            tables: r
                .tables
                .into_iter()
                .map(|t| TableChecksum {
                    table: t.table,
                    rows: count(t.rows),
                    digest: t.digest,
                })
                .collect(),
            missing_tables: r.missing_tables,
            problems: r.problems,
        }
    }
}
