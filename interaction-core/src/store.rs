//! Opening a store: options, pools, the schema-version check, closing.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::{Mutex, OnceCell, Semaphore};

use crate::backend::{Backend, Db, Sql};
use crate::error::{Error, Result};
use crate::migrate::{self, SchemaVersion};

/// The database a store opens when no URL is given: `interactions.db` in the working
/// directory, created if missing.
pub const DEFAULT_URL: &str = "sqlite://interactions.db";

/// How to open an [`InteractionStore`]. Every setter documents its default; the pool
/// defaults are those of spec §5.3.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    url: String,
    min_connections: u32,
    max_connections: u32,
    acquire_timeout: Duration,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    migrate: bool,
    login_concurrency: usize,
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
            migrate: false,
            login_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }

    /// Connections kept open even when idle. Default 5.
    pub fn min_connections(mut self, n: u32) -> Self {
        self.min_connections = n;
        self
    }

    /// Upper bound of the pool. Default 20.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How long a call waits for a pooled connection before failing with
    /// [`Error::Unavailable`]. Default 30 s.
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

    /// Apply pending migrations while opening. Default `false`: opening a database that is
    /// behind fails with [`Error::SchemaVersion`].
    pub fn migrate(mut self, yes: bool) -> Self {
        self.migrate = yes;
        self
    }

    /// Password hashes computed at once; further logins queue, so a login flood cannot
    /// take every core. Default: the number of CPUs.
    pub fn login_concurrency(mut self, n: usize) -> Self {
        self.login_concurrency = n.max(1);
        self
    }

    /// Opens the pool, applies migrations if asked, then checks the schema version.
    pub async fn connect(self) -> Result<InteractionStore> {
        let db = self.open_pool().await?;
        let store = InteractionStore {
            inner: Arc::new(Inner {
                db,
                login_gate: Semaphore::new(self.login_concurrency),
                dummy_hash: OnceCell::new(),
            }),
        };
        if self.migrate {
            store.migrate().await?;
        }
        store.check_schema().await?;
        Ok(store)
    }

    async fn open_pool(&self) -> Result<Db> {
        let url = self.url.trim();
        crate::validate::no_nul("url", url)?;
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)
                .map_err(|e| Error::validation("url", e.to_string()))?
                // Finder queries must get custom plans: a generic plan of a prepared
                // full-text query is ~17x slower (PERFORMANCE.md).
                .options([("plan_cache_mode", "force_custom_plan")])
                .application_name("interaction-store");
            let pool = PgPoolOptions::new()
                .min_connections(self.min_connections)
                .max_connections(self.max_connections)
                .acquire_timeout(self.acquire_timeout)
                .idle_timeout(self.idle_timeout)
                .max_lifetime(self.max_lifetime)
                // No ping per acquire (~2.5x on a PK read); lifetime, idle limits and one
                // retry on a broken connection cover stale sockets instead.
                .test_before_acquire(false)
                .connect_with(opts)
                .await
                .map_err(unavailable)?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(|e| Error::validation("url", e.to_string()))?
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(if memory {
                    SqliteJournalMode::Memory
                } else {
                    SqliteJournalMode::Wal
                })
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(self.acquire_timeout);
            // An in-memory database lives in one connection: never close or replace it.
            let (min, max, idle, life) = if memory {
                (1, 1, None, None)
            } else {
                (
                    self.min_connections.min(self.max_connections),
                    self.max_connections,
                    self.idle_timeout,
                    self.max_lifetime,
                )
            };
            let pool = SqlitePoolOptions::new()
                .min_connections(min)
                .max_connections(max)
                .acquire_timeout(self.acquire_timeout)
                .idle_timeout(idle)
                .max_lifetime(life)
                .test_before_acquire(false)
                .connect_with(opts)
                .await
                .map_err(unavailable)?;
            Ok(Db::Sqlite(pool, Arc::new(Mutex::new(()))))
        } else {
            Err(Error::validation(
                "url",
                "expected postgres://…, sqlite://path or sqlite::memory:",
            ))
        }
    }
}

fn unavailable(e: sqlx::Error) -> Error {
    match Error::from(e) {
        Error::Internal(m) => Error::Unavailable(m),
        other => other,
    }
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    /// Caps concurrent password hashing (see [`StoreOptions::login_concurrency`]).
    pub(crate) login_gate: Semaphore,
    /// A real argon2 hash verified when the user is unknown, so failures take equal time.
    pub(crate) dummy_hash: OnceCell<String>,
}

/// The entry point: a cheap, cloneable handle on a pool. Open one per process and share it.
///
/// Store-level calls (users, sites, roles, login) are for the host application's own
/// administration; everything site-scoped goes through a [`SiteSession`](crate::SiteSession).
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

    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Applies pending migrations (forward-only, each recorded and audited). Safe to call
    /// from several processes at once: PostgreSQL serialises migrators with an advisory
    /// lock, SQLite with its write lock. Returns the versions applied now.
    pub async fn migrate(&self) -> Result<Vec<SchemaVersion>> {
        let db = self.inner.db.clone();
        // Spawned: a caller that gives up must not leave a half-applied migration.
        spawn(async move { migrate::run(&db).await }).await
    }

    /// The schema version recorded in the database, `None` for an empty database.
    pub async fn schema_version(&self) -> Result<Option<SchemaVersion>> {
        migrate::current_version(&self.inner.db).await
    }

    /// Checks the database against [`migrate::REQUIRED`]: the same MAJOR and at least the
    /// required version. Newer MINOR/PATCH versions are backward-compatible and accepted.
    pub async fn check_schema(&self) -> Result<()> {
        let found = self.schema_version().await?;
        let required = migrate::required();
        match found {
            Some(v) if v.major == required.major && v >= required => Ok(()),
            other => Err(Error::SchemaVersion {
                found: other.map_or_else(|| "none".to_string(), |v| v.to_string()),
                required: required.to_string(),
            }),
        }
    }

    /// Closes the pool: waits for calls in flight, then every later call fails with
    /// [`Error::Unavailable`].
    pub async fn close(&self) {
        self.inner.db.close().await;
    }

    /// True after [`close`](Self::close).
    pub fn is_closed(&self) -> bool {
        self.inner.db.is_closed()
    }

    pub(crate) fn sql(&self, text: &str) -> Sql {
        Sql::new(self.backend(), text)
    }
}

/// Runs a database write on its own task, so that a caller that drops or times out the
/// call never leaves a transaction half-done or a pooled connection inside one: the write
/// commits or rolls back on its own.
pub(crate) async fn spawn<T, F>(fut: F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(fut)
        .await
        .map_err(|e| Error::Internal(format!("write task failed: {e}")))?
}
