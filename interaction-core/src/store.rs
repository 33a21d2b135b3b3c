//! Opening a store: options, pools, the schema-version check, closing.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};

#[cfg(feature = "postgres")]
use crate::backend::cluster::Cluster;
use crate::backend::{Arg, Backend, Db, Limits, Sql};
use crate::cache::{Cache, CacheConfig, CacheStats};
use crate::clock::Clock;
use crate::cursor::CursorKey;
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op, DEFAULT_CALL_TIMEOUT};
use crate::migrate::{self, SchemaVersion};
use crate::ops::retention::RetentionPolicy;

/// The database a store opens when no URL is given: `interactions.db` in the working
/// directory, created if missing.
pub const DEFAULT_URL: &str = "sqlite://interactions.db";

/// How to open an [`InteractionStore`]. Every setter documents its default; the pool
/// defaults are those of spec §5.3.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use interaction_core::{Clock, StoreOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> interaction_core::Result<()> {
/// let clock = Clock::manual("2026-01-01T00:00:00Z".parse().unwrap());
/// let store = StoreOptions::new("sqlite::memory:") // or sqlite://file.db, postgres://user@host/db
///     .migrate(true)                              // default false: a database behind is refused
///     .call_timeout(Duration::from_secs(5))
///     .cache(false)                               // default true (in process memory)
///     .clock(clock.clone())                       // default: the system clock
///     .connect()
///     .await?;
/// assert_eq!(store.create_site("Head office", None).await.map(|s| s.id)?, 1);
/// assert_eq!(store.clock().now(), clock.now());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StoreOptions {
    url: String,
    min_connections: u32,
    max_connections: u32,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    connect_timeout: Duration,
    statement_timeout: Duration,
    lock_timeout: Duration,
    call_timeout: Duration,
    slow_statement_threshold: Option<Duration>,
    migrate: bool,
    check_schema: bool,
    login_concurrency: usize,
    cache: bool,
    redis_url: Option<String>,
    redis_timeout: Duration,
    replicas: Vec<String>,
    reporting_replica: Option<String>,
    replica_max_lag: Duration,
    behind_pgbouncer: bool,
    finder_cache_ttl: Duration,
    clock: Clock,
    retention: RetentionPolicy,
    access_logging: bool,
    schema: Option<String>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions::new(DEFAULT_URL)
    }
}

impl StoreOptions {
    /// Options for `url`: `postgres://…`, `sqlite://path/to/file.db` (created if missing)
    /// or `sqlite::memory:`.
    pub fn new(url: impl Into<String>) -> Self {
        StoreOptions {
            url: url.into(),
            min_connections: 5,
            max_connections: 20,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(10),
            call_timeout: DEFAULT_CALL_TIMEOUT,
            slow_statement_threshold: Some(Duration::from_secs(1)),
            migrate: false,
            check_schema: true,
            login_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            cache: true,
            redis_url: None,
            redis_timeout: Duration::from_millis(100),
            replicas: Vec::new(),
            reporting_replica: None,
            replica_max_lag: Duration::from_secs(1),
            behind_pgbouncer: false,
            finder_cache_ttl: Duration::from_secs(300),
            clock: Clock::system(),
            retention: RetentionPolicy::default(),
            access_logging: false,
            schema: None,
        }
    }

    /// Connections kept open even when idle, opened in the background when the store
    /// opens (PostgreSQL; SQLite connections open on first use). Default 5.
    pub fn min_connections(mut self, n: u32) -> Self {
        self.min_connections = n;
        self
    }

    /// Upper bound of the pool. Default 20.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How long a call waits for a pooled connection when all are busy before failing
    /// with [`Error::Unavailable`] ("all 20 connections busy for 30000 ms"). Default 30 s.
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.acquire_timeout = d;
        self
    }

    /// Idle connections above the minimum are closed after this long. Default 10 min.
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Connections are replaced after this long. Default 30 min.
    pub fn max_lifetime(mut self, d: Option<Duration>) -> Self {
        self.max_lifetime = d;
        self
    }

    /// How long opening one connection may take (PostgreSQL: TCP, TLS and
    /// authentication; SQLite: opening the file). A refused connection fails at once.
    /// Default 10 s.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Longest time one statement may run on the server (PostgreSQL's
    /// `statement_timeout`, spec §5.3 "prevent hanging operations"); past it the statement
    /// is cancelled with [`Error::Timeout`]. Default 30 s.
    pub fn statement_timeout(mut self, d: Duration) -> Self {
        self.statement_timeout = d;
        self
    }

    /// Longest wait for a lock held by another transaction (a row another writer holds
    /// on PostgreSQL, the database write lock of another process on SQLite); past it the
    /// call fails with [`Error::Timeout`] and nothing is written. Default 10 s.
    pub fn lock_timeout(mut self, d: Duration) -> Self {
        self.lock_timeout = d;
        self
    }

    /// The deadline of every call, covering the wait for the writer gate and for a
    /// connection and the statements themselves: no call returns later than this (plus
    /// scheduling), whatever the server does. A call past it fails with
    /// [`Error::Timeout`]; a write may still have committed (see
    /// [`NewInteraction::idempotency_key`](crate::NewInteraction::idempotency_key)).
    /// Default 60 s.
    pub fn call_timeout(mut self, d: Duration) -> Self {
        self.call_timeout = d;
        self
    }

    /// Calls that take at least this long are logged as warnings (`tracing` target
    /// `interaction_core`); `None` turns the warning off. Default 1 s.
    pub fn slow_statement_threshold(mut self, d: Option<Duration>) -> Self {
        self.slow_statement_threshold = d;
        self
    }

    /// Apply pending migrations while opening. Default `false`: opening a database that is
    /// behind fails with [`Error::SchemaVersion`].
    pub fn migrate(mut self, yes: bool) -> Self {
        self.migrate = yes;
        self
    }

    /// Check the schema version while opening. Default `true`. `false` opens a database
    /// of any version (or none) without touching it: for operator tools that read the
    /// version ([`InteractionStore::schema_version`]) or stage an upgrade
    /// ([`InteractionStore::migrate_to`]); other calls may then fail.
    pub fn check_schema(mut self, yes: bool) -> Self {
        self.check_schema = yes;
        self
    }

    /// Password hashes computed at once; further logins queue, so a login flood cannot
    /// take every core. Default: the number of CPUs.
    pub fn login_concurrency(mut self, n: usize) -> Self {
        self.login_concurrency = n.max(1);
        self
    }

    /// Caches login tokens (24 h), permissions (15 min) and Finder results (5 min), in
    /// Redis with [`redis_url`](Self::redis_url), else in this process's memory. Every
    /// change invalidates what it affects when it commits; see the README's "Caching".
    /// Default `true`. Processes that share one database without sharing a Redis see each
    /// other's changes in cached data only after these TTLs: give them a Redis, or turn
    /// caching off.
    pub fn cache(mut self, yes: bool) -> Self {
        self.cache = yes;
        self
    }

    /// How long a Finder page or count is kept in the cache (it dies earlier when its
    /// site's rows change). Default 5 minutes (spec §5.2); at most 24 hours; zero keeps
    /// no Finder results while still caching logins and permissions.
    pub fn finder_cache_ttl(mut self, d: Duration) -> Self {
        self.finder_cache_ttl = d;
        self
    }

    /// A Redis shared by every process of the deployment (`redis://host:port/db`,
    /// `rediss://` for TLS): a revocation or a change in one process is seen by the next
    /// call in all of them. Redis is never a dependency: down, slow or flushed, calls go
    /// to the database. Default: none (caches in process memory).
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    /// Longest wait for one Redis reply (or connection) before Redis is treated as down
    /// for this process until a background probe finds it again. Default 100 ms.
    pub fn redis_timeout(mut self, d: Duration) -> Self {
        self.redis_timeout = d;
        self
    }

    /// Streaming replicas of the primary (PostgreSQL URLs, same database) that serve
    /// Finder searches and loads of single records, balanced across the healthy ones
    /// (spec §5.4). Writes, transactions, authentication and permission checks always go
    /// to the primary. A read that must see a session's own writes goes to a replica only
    /// once it has replayed them (see
    /// [`SiteSession::consistency_token`](crate::SiteSession::consistency_token)); a replica
    /// that is down or lags more than [`replica_max_lag`](Self::replica_max_lag) leaves the
    /// rotation until it catches up; with none healthy, reads go to the primary. Each
    /// replica gets its own pool with this store's limits. Default: none.
    pub fn replicas<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.replicas = urls.into_iter().map(Into::into).collect();
        self
    }

    /// A replica for counts, exports and audit reads (spec §5.4), so that reporting
    /// never competes with searches; while it is unhealthy those reads use the other
    /// replicas or the primary. Default: none.
    pub fn reporting_replica(mut self, url: impl Into<String>) -> Self {
        self.reporting_replica = Some(url.into());
        self
    }

    /// How far behind the primary a replica may be (the age of the oldest WAL it has
    /// not replayed) and still serve reads. Default 1 s.
    pub fn replica_max_lag(mut self, d: Duration) -> Self {
        self.replica_max_lag = d;
        self
    }

    /// The PostgreSQL URL leads to pgBouncer in transaction pooling mode (spec §5.3):
    /// every statement goes as one simple-protocol message with its values inlined as
    /// typed literals (no named prepared statement survives a change of server
    /// connection), and no settings are sent at connect time (pgBouncer refuses them):
    /// set `statement_timeout`, `lock_timeout` and `idle_in_transaction_session_timeout`
    /// on the role or database instead (`ALTER ROLE app SET statement_timeout = '30s'`).
    /// Every call's deadline (`call_timeout`) still holds. Default `false`.
    pub fn behind_pgbouncer(mut self, yes: bool) -> Self {
        self.behind_pgbouncer = yes;
        self
    }

    /// The source of time of every timestamp the store writes or compares (creation,
    /// deletion, token expiry, archival and retention cut-offs). Default
    /// [`Clock::system`]; a [`Clock::manual`] makes retention and archival testable
    /// without waiting.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How long each kind of data is kept (spec §6.1, §6.4); applied by
    /// [`InteractionStore::purge`]. Default [`RetentionPolicy::default`].
    pub fn retention(mut self, policy: RetentionPolicy) -> Self {
        self.retention = policy;
        self
    }

    /// Records every read of interactions (a get or a Finder page) in the access log:
    /// who, which site and resource, and the outcome (spec §6.3). Costs one insert per
    /// read. Default `false`.
    pub fn access_logging(mut self, yes: bool) -> Self {
        self.access_logging = yes;
        self
    }

    /// The PostgreSQL schema that holds every table and view of the store, so that the
    /// store can live in a host application's database beside that application's own
    /// `users` or `schema_migrations` (see the README, "Beside a host application").
    ///
    /// A lowercase identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes, not `pg_…`);
    /// anything else is an [`Error::Validation`] of `schema`. Every connection of the
    /// store (and of its replicas) works in that schema alone: its `search_path` is just
    /// that schema, so no name of the store's ever resolves to a table of another
    /// schema. [`migrate`](StoreOptions::migrate) creates the schema when missing;
    /// migrators of different schemas do not wait for each other. `pg_trgm` and
    /// `btree_gin`, which the migrations need and PostgreSQL installs once per database,
    /// are used where they are installed; when missing they are installed in `public`
    /// (when it exists and the migrating role may create there), else in this schema.
    ///
    /// With [`behind_pgbouncer`](Self::behind_pgbouncer) no setting can travel with the
    /// connection: set the role's `search_path` instead (`ALTER ROLE app IN DATABASE db
    /// SET search_path = interactions`); opening checks it and fails with
    /// [`Error::Configuration`] when the first schema of the `search_path` is another.
    ///
    /// SQLite has no schemas: there only `main` (a no-op) is accepted; use another
    /// database file instead.
    ///
    /// Default: none: the connection's own `search_path`, normally `"$user", public`, so
    /// the tables are in `public` (the behaviour before this option existed).
    ///
    /// ```no_run
    /// # async fn run() -> interaction_core::Result<()> {
    /// use interaction_core::StoreOptions;
    ///
    /// let store = StoreOptions::new("postgres://app@db/app")
    ///     .schema("interactions")
    ///     .migrate(true)
    ///     .connect()
    ///     .await?;
    /// assert_eq!(store.schema(), Some("interactions"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn schema(mut self, name: impl Into<String>) -> Self {
        self.schema = Some(name.into());
        self
    }

    /// The schema the store's PostgreSQL connections work in: the configured
    /// [`schema`](Self::schema), `None` without one and on SQLite (where `main` is the
    /// only schema).
    fn pg_schema(&self) -> Option<String> {
        if self.url.trim().starts_with("sqlite:") {
            None
        } else {
            self.schema.clone()
        }
    }

    /// Opens the pool, applies migrations if asked, then checks the schema version.
    ///
    /// A refused open leaves no file behind: when it fails (an empty database opened
    /// without `migrate`, a failed migration, ...) on a SQLite file that did not exist
    /// before, the file it created is removed again (only while it holds no schema, so
    /// a file another process created and migrated meanwhile stays). Existing files are
    /// never removed.
    pub async fn connect(self) -> Result<InteractionStore> {
        self.validate()?;
        #[cfg(feature = "sqlite")]
        let new_file = crate::backend::new_sqlite_file(self.url.trim());
        let mut opened = None;
        let result = self.open(&mut opened).await;
        #[cfg(feature = "sqlite")]
        if let (Err(_), Some(file)) = (&result, new_file) {
            if let Some(db) = opened {
                db.close();
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                while db.size() > 0 && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
            file.remove_if_empty();
        }
        #[cfg(not(feature = "sqlite"))]
        drop(opened);
        result
    }

    /// [`connect`](Self::connect) without the clean-up; `opened` gets the pool as soon as
    /// it is open.
    async fn open(&self, opened: &mut Option<Db>) -> Result<InteractionStore> {
        let db = Db::open(self.url.trim(), self.limits()).await?;
        *opened = Some(db.clone());
        #[cfg(feature = "postgres")]
        let cluster = self.cluster(&db).await?;
        let open = |db: Db, cache: Cache| InteractionStore {
            inner: Arc::new(Inner {
                db,
                login_gate: Semaphore::new(self.login_concurrency),
                dummy_hash: OnceCell::new(),
                cursor_key: OnceCell::new(),
                cache,
                retention: self.retention.clone(),
                access_logging: self.access_logging,
                #[cfg(feature = "postgres")]
                cluster: cluster.clone(),
            }),
        };
        let store = open(db.clone(), Cache::new(CacheConfig::Off, Duration::ZERO)?);
        if self.behind_pgbouncer {
            if let Some(schema) = self.pg_schema() {
                store.check_search_path(&schema).await?;
            }
        }
        if self.migrate {
            store.migrate().await?;
        }
        if self.check_schema {
            store.check_schema().await?;
        }
        let config = match (&self.redis_url, self.cache) {
            (_, false) => CacheConfig::Off,
            (None, true) => CacheConfig::Memory {
                capacity: MEMORY_CACHE_ENTRIES,
            },
            (Some(url), true) => match store.cache_namespace().await? {
                Some(namespace) => CacheConfig::Redis {
                    url: url.trim().to_string(),
                    timeout: self.redis_timeout,
                    namespace,
                },
                None => {
                    tracing::warn!(
                        "the database has no store_secrets table (schema before 1.2.0): \
                         caching in process memory instead of Redis until it is migrated"
                    );
                    CacheConfig::Memory {
                        capacity: MEMORY_CACHE_ENTRIES,
                    }
                }
            },
        };
        Ok(open(db, Cache::new(config, self.finder_cache_ttl)?))
    }

    /// The replicas' pools and their probe, if any are configured.
    #[cfg(feature = "postgres")]
    async fn cluster(&self, primary: &Db) -> Result<Option<Cluster>> {
        if self.replicas.is_empty() && self.reporting_replica.is_none() {
            return Ok(None);
        }
        if primary.backend() != Backend::Postgres {
            return Err(Error::validation(
                "replicas",
                "replicas need a PostgreSQL primary",
            ));
        }
        let replicas = self
            .replicas
            .iter()
            .map(|u| Db::replica(u.trim(), self.limits()))
            .collect::<Result<Vec<_>>>()?;
        let reporting = self
            .reporting_replica
            .as_deref()
            .map(|u| Db::replica(u.trim(), self.limits()))
            .transpose()?;
        Ok(Some(
            Cluster::start(primary.clone(), replicas, reporting, self.replica_max_lag).await,
        ))
    }

    fn validate(&self) -> Result<()> {
        crate::validate::no_nul("url", &self.url)?;
        if self.max_connections == 0 {
            return Err(Error::validation("max_connections", "must be at least 1"));
        }
        if let Some(url) = &self.redis_url {
            crate::validate::no_nul("redis_url", url)?;
            let u = url.trim();
            if !(u.starts_with("redis://")
                || u.starts_with("rediss://")
                || u.starts_with("unix://"))
            {
                return Err(Error::validation(
                    "redis_url",
                    "expected redis://host:port/db, rediss://… or unix://path",
                ));
            }
        }
        if self.finder_cache_ttl > Duration::from_secs(24 * 3600) {
            return Err(Error::validation(
                "finder_cache_ttl",
                "must be at most 24 hours",
            ));
        }
        self.retention.validate()?;
        if let Some(schema) = &self.schema {
            crate::validate::schema_name(schema)?;
            if self.url.trim().starts_with("sqlite:") && schema != "main" {
                return Err(Error::validation(
                    "schema",
                    "SQLite has no schemas (only `main`): use another database file",
                ));
            }
        }
        for u in self.replicas.iter().chain(self.reporting_replica.iter()) {
            crate::validate::no_nul("replicas", u)?;
        }
        for (field, d) in [
            ("replica_max_lag", self.replica_max_lag),
            ("redis_timeout", self.redis_timeout),
            ("acquire_timeout", self.acquire_timeout),
            ("connect_timeout", self.connect_timeout),
            ("statement_timeout", self.statement_timeout),
            ("lock_timeout", self.lock_timeout),
            ("call_timeout", self.call_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::validation(field, "must be longer than zero"));
            }
            if d > Duration::from_secs(24 * 3600) {
                return Err(Error::validation(field, "must be at most 24 hours"));
            }
        }
        Ok(())
    }

    fn limits(&self) -> Limits {
        Limits {
            call_timeout: self.call_timeout,
            acquire_timeout: self.acquire_timeout,
            connect_timeout: self.connect_timeout,
            statement_timeout: self.statement_timeout,
            lock_timeout: self.lock_timeout,
            idle_timeout: self.idle_timeout,
            max_lifetime: self.max_lifetime,
            slow_threshold: self.slow_statement_threshold,
            min_connections: self.min_connections.min(self.max_connections),
            max_connections: self.max_connections,
            pgbouncer: self.behind_pgbouncer,
            clock: self.clock.clone(),
            schema: self.pg_schema(),
        }
    }
}

/// A replica as the store's health probe last saw it: see
/// [`InteractionStore::replica_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// `host:port`.
    pub place: String,
    /// The reporting replica (`StoreOptions::reporting_replica`).
    pub reporting: bool,
    /// In the rotation: answering, a standby, and within `replica_max_lag`.
    pub healthy: bool,
    /// The WAL position it had replayed at the last probe (`0/0` before any).
    pub replayed: String,
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    /// Caps concurrent password hashing (see [`StoreOptions::login_concurrency`]).
    pub(crate) login_gate: Semaphore,
    /// A real argon2 hash verified when the user is unknown, so failures take equal time.
    pub(crate) dummy_hash: OnceCell<String>,
    /// The deployment's cursor secret, read once (see `cursor.rs`).
    pub(crate) cursor_key: OnceCell<CursorKey>,
    pub(crate) cache: Cache,
    /// What [`InteractionStore::purge`] keeps, and for how long.
    pub(crate) retention: RetentionPolicy,
    /// Whether reads of interactions are written to the access log.
    pub(crate) access_logging: bool,
    /// Replicas and their health (PostgreSQL with `replicas`).
    #[cfg(feature = "postgres")]
    pub(crate) cluster: Option<Cluster>,
}

/// Entries of the in-process cache; when full, expired ones go first, then all.
const MEMORY_CACHE_ENTRIES: usize = 50_000;

/// The entry point: a cheap, cloneable handle on a pool. Open one per process and share it.
///
/// Store-level calls (users, sites, roles, login) are for the host application's own
/// administration; everything site-scoped goes through a [`SiteSession`](crate::SiteSession).
///
/// # Examples
///
/// ```
/// use interaction_core::StoreOptions;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> interaction_core::Result<()> {
/// // One store per process; clones share the pool.
/// let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
/// let site = store.create_site("Head office", Some("HQ")).await?;
/// let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// let login = store.login("alice", "correct horse battery").await?;
/// assert_eq!(login.user_id, alice.id);
/// assert_eq!(store.counts().await?.sites, 1);
/// # let _ = site;
/// store.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct InteractionStore {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for InteractionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InteractionStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl InteractionStore {
    /// Opens `url` with default [`StoreOptions`] and checks the schema version.
    pub async fn connect(url: &str) -> Result<Self> {
        StoreOptions::new(url).connect().await
    }

    /// Opens a SQLite file at `path` (created if missing) and applies migrations: the
    /// zero-setup path for development, tests and single-node deployments.
    pub async fn open_file(path: impl AsRef<Path>) -> Result<Self> {
        let url = format!("sqlite://{}", path.as_ref().display());
        StoreOptions::new(url).migrate(true).connect().await
    }

    /// The backend this store runs on.
    pub fn backend(&self) -> Backend {
        self.inner.db.backend()
    }

    /// Whether polling this store's futures runs database work on the polling thread.
    /// SQLite statements run on the thread that polls the call (no worker thread:
    /// microseconds for a point read, up to the call's deadline for a scan); PostgreSQL
    /// calls only wait on sockets when polled. A bridge that polls on a thread that must
    /// stay responsive (an asyncio event loop) runs such a store's calls on the runtime.
    pub fn polls_run_statements(&self) -> bool {
        self.backend() == Backend::Sqlite
    }

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Applies pending migrations (forward-only, each recorded and audited). Safe to call
    /// from several processes at once: PostgreSQL serialises migrators with an advisory
    /// lock, SQLite with its write lock. Returns the versions applied now.
    pub async fn migrate(&self) -> Result<Vec<SchemaVersion>> {
        migrate::run(self, None).await
    }

    /// Applies pending migrations up to and including `version` (one of this library's
    /// schema versions), e.g. to stage an upgrade. Returns the versions applied now.
    pub async fn migrate_to(&self, version: SchemaVersion) -> Result<Vec<SchemaVersion>> {
        migrate::run(self, Some(version)).await
    }

    /// The migrations this library would apply to the database ([`migrate`](Self::migrate)),
    /// oldest first, each with its SQL for this backend: all of them on an empty
    /// database, none on an up-to-date one. Reads only; works on a store opened with
    /// [`StoreOptions::check_schema`]`(false)` at any version.
    pub async fn pending_migrations(&self) -> Result<Vec<migrate::PendingMigration>> {
        migrate::pending(self).await
    }

    /// The schema version recorded in the database, `None` for an empty database.
    pub async fn schema_version(&self) -> Result<Option<SchemaVersion>> {
        migrate::current_version(self).await
    }

    /// Checks the database against [`migrate::required`]: the same MAJOR and at least the
    /// required version. Newer MINOR/PATCH versions are backward-compatible and accepted.
    pub async fn check_schema(&self) -> Result<()> {
        let found = self.schema_version().await?;
        let required = migrate::required();
        match found {
            Some(v) if migrate::compatible(v, required) => Ok(()),
            other => Err(Error::SchemaVersion {
                found: other.map_or_else(|| "none".to_string(), |v| v.to_string()),
                required: required.to_string(),
            }),
        }
    }

    /// Closes the store: idle connections close at once and every later call fails with
    /// [`Error::Unavailable`]. Calls in flight end within their own deadline (a write
    /// still commits or rolls back whole); this waits for them at most `call_timeout`,
    /// and never waits on an unreachable server.
    pub async fn close(&self) {
        self.inner.db.close();
        self.inner.cache.close();
        #[cfg(feature = "postgres")]
        if let Some(c) = &self.inner.cluster {
            c.close();
        }
        let deadline = tokio::time::Instant::now() + self.inner.db.limits().call_timeout;
        while self.inner.db.size() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Hits and misses of each cache since the store opened, and whether Redis is
    /// reachable.
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.snapshot()
    }

    pub(crate) fn cache(&self) -> &Cache {
        &self.inner.cache
    }

    /// The configured replicas as the health probe last saw them (empty without
    /// replicas).
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        #[cfg(feature = "postgres")]
        if let Some(c) = &self.inner.cluster {
            return c.status();
        }
        Vec::new()
    }

    /// The store's clock (see [`StoreOptions::clock`]).
    pub fn clock(&self) -> &Clock {
        &self.inner.db.limits().clock
    }

    /// The current time of the store's clock.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock().now()
    }

    /// The PostgreSQL schema this store works in ([`StoreOptions::schema`]); `None` when
    /// none was configured (the connection's default, normally `public`) and on SQLite.
    pub fn schema(&self) -> Option<&str> {
        self.inner.db.limits().schema.as_deref()
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.inner.db.is_closed()
    }

    pub(crate) fn sql(&self, text: &str) -> Sql {
        Sql::new(self.backend(), text)
    }
}

impl InteractionStore {
    /// Behind pgBouncer the `search_path` cannot be sent at connect time: the role (or
    /// database) must set it. Checks that the first schema of the connection's
    /// `search_path` is `schema` (the schema need not exist yet: `migrate` creates it).
    async fn check_search_path(&self, schema: &str) -> Result<()> {
        let Some(q) = self.backend().dialect().search_path() else {
            return Ok(());
        };
        let (path,): (String,) = self
            .read_opt(Op::new("check_search_path"), Fresh::Latest, q)
            .await?
            .unwrap_or_default();
        let first = path
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if first == schema {
            return Ok(());
        }
        Err(Error::Configuration {
            message: format!(
                "schema \"{schema}\" behind pgBouncer: the search_path cannot be sent at \
                 connect time, and the role's is `{path}`; run `ALTER ROLE <role> IN \
                 DATABASE <database> SET search_path = {schema}` (or `ALTER DATABASE \
                 <database> SET search_path = {schema}`)"
            ),
            source: None,
        })
    }

    /// The prefix of this deployment's Redis keys, derived from its `cursor_mac` secret
    /// (one-way): unique per database, the same in every process. `None` before schema
    /// 1.2.0.
    async fn cache_namespace(&self) -> Result<Option<String>> {
        use sha2::Digest;
        let b = self.backend();
        let op = Op::new("cache_namespace");
        let table = b.dialect().table_exists("store_secrets");
        if self
            .read_opt::<(i32,)>(op.clone(), Fresh::Latest, table)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let q = Sql::fixed(
            b,
            "SELECT secret FROM store_secrets WHERE name = $1",
            vec![Arg::Text("cursor_mac".into())],
        );
        let Some((secret,)): Option<(Vec<u8>,)> = self.read_opt(op, Fresh::Latest, q).await? else {
            return Ok(None);
        };
        let mut h = sha2::Sha256::new();
        h.update(b"interaction-store cache namespace\0");
        h.update(&secret);
        let d = h.finalize();
        Ok(Some(format!(
            "is:{}",
            d[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )))
    }

    /// The key that authenticates cursors: the deployment's `cursor_mac` secret, read once.
    /// A database without one (opened with `check_schema(false)` before schema 1.2.0) gets
    /// a key of this process only, not remembered, so that a later `migrate()` takes over.
    pub(crate) async fn cursor_key(&self) -> Result<CursorKey> {
        if let Some(k) = self.inner.cursor_key.get() {
            return Ok(k.clone());
        }
        let b = self.backend();
        let op = Op::new("cursor_key");
        let table = b.dialect().table_exists("store_secrets");
        if self
            .read_opt::<(i32,)>(op.clone(), Fresh::Latest, table)
            .await?
            .is_none()
        {
            static EPHEMERAL: std::sync::OnceLock<CursorKey> = std::sync::OnceLock::new();
            return Ok(EPHEMERAL
                .get_or_init(|| CursorKey::new(rand::random::<[u8; 32]>().to_vec()))
                .clone());
        }
        let q = Sql::fixed(
            b,
            "SELECT secret FROM store_secrets WHERE name = $1",
            vec![Arg::Text("cursor_mac".into())],
        );
        let (secret,): (Vec<u8>,) = self
            .read_opt(op, Fresh::Latest, q)
            .await?
            .ok_or_else(|| Error::internal("store_secrets has no cursor_mac secret"))?;
        let _ = self.inner.cursor_key.set(CursorKey::new(secret));
        Ok(self.inner.cursor_key.get().expect("just set").clone())
    }
}
