//! `InteractionStore` (blocking) and `AsyncInteractionStore` (asyncio): thin handles on
//! one core store.

use interaction_core as core;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::asyncio::Call;
use crate::asyncio::Driver;
use crate::convert;
use crate::errors::unavailable;
use crate::lifecycle::{Clock, RetentionPolicy};
use crate::runtime::{awaitable, block, InProcess};
use crate::session::{AsyncSiteSession, SiteSession};
use crate::values::{
    AccessLogEntry, ArchiveReport, CacheStats, Counts, IntegrityReport, LoginToken,
    PendingMigration, PurgeReport, ReplicaStatus, SchemaVersion, Site, User,
};

/// Builds the core options from `connect()`'s arguments. Options present in `options`
/// override the core defaults (`StoreOptions`' setters, same names); `idle_timeout=None`,
/// `max_lifetime=None` and `slow_statement_threshold=None` disable those limits. The
/// core validates the values.
fn store_options(
    url: Option<String>,
    migrate: bool,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<core::StoreOptions> {
    let mut o = core::StoreOptions::new(url.unwrap_or_else(|| core::DEFAULT_URL.to_string()))
        .migrate(migrate);
    if let Some(options) = options {
        for (k, v) in options.iter() {
            let key: String = k.extract()?;
            o = match key.as_str() {
                "min_connections" => o.min_connections(convert::limit(&key, &v)?),
                "max_connections" => o.max_connections(convert::limit(&key, &v)?),
                "login_concurrency" => {
                    let n = convert::limit(&key, &v)?;
                    o.login_concurrency(usize::try_from(n).unwrap_or(usize::MAX))
                }
                "acquire_timeout" => o.acquire_timeout(convert::duration(&key, &v)?),
                "connect_timeout" => o.connect_timeout(convert::duration(&key, &v)?),
                "statement_timeout" => o.statement_timeout(convert::duration(&key, &v)?),
                "lock_timeout" => o.lock_timeout(convert::duration(&key, &v)?),
                "call_timeout" => o.call_timeout(convert::duration(&key, &v)?),
                "slow_statement_threshold" => o.slow_statement_threshold(if v.is_none() {
                    None
                } else {
                    Some(convert::duration(&key, &v)?)
                }),
                "check_schema" => o.check_schema(convert::boolean(&key, &v)?),
                "cache" => o.cache(convert::boolean(&key, &v)?),
                // `None` keeps the core default (no Redis: caches in process memory).
                "redis_url" => match convert::opt_string(&key, &v)? {
                    Some(url) => o.redis_url(url),
                    None => o,
                },
                "redis_timeout" => o.redis_timeout(convert::duration(&key, &v)?),
                "finder_cache_ttl" => o.finder_cache_ttl(convert::duration(&key, &v)?),
                "replicas" => o.replicas(convert::strings(&key, &v)?),
                // `None` keeps the core default (no reporting replica).
                "reporting_replica" => match convert::opt_string(&key, &v)? {
                    Some(url) => o.reporting_replica(url),
                    None => o,
                },
                "replica_max_lag" => o.replica_max_lag(convert::duration(&key, &v)?),
                "behind_pgbouncer" => o.behind_pgbouncer(convert::boolean(&key, &v)?),
                "idle_timeout" => o.idle_timeout(if v.is_none() {
                    None
                } else {
                    Some(convert::duration(&key, &v)?)
                }),
                "max_lifetime" => o.max_lifetime(if v.is_none() {
                    None
                } else {
                    Some(convert::duration(&key, &v)?)
                }),
                "clock" => match v.cast::<Clock>() {
                    Ok(c) => o.clock(c.get().inner.clone()),
                    Err(_) => return Err(convert::type_error(&key, "a Clock", &v)),
                },
                "retention" => match v.cast::<RetentionPolicy>() {
                    Ok(r) => o.retention(r.get().inner.clone()),
                    Err(_) => return Err(convert::type_error(&key, "a RetentionPolicy", &v)),
                },
                "access_logging" => o.access_logging(convert::boolean(&key, &v)?),
                // `None` keeps the core default (the connection's own search_path).
                "schema" => match convert::opt_string(&key, &v)? {
                    Some(name) => o.schema(name),
                    None => o,
                },
                other => {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "connect() got an unexpected keyword argument '{other}'"
                    )))
                }
            };
        }
    }
    Ok(o)
}

/// The `consistency_token=` argument: `None` or a `str` (the core parses it).
fn consistency(token: Option<&Bound<'_, PyAny>>) -> PyResult<Option<String>> {
    match token {
        Some(t) => convert::opt_string("consistency_token", t),
        None => Ok(None),
    }
}

/// Raises a new session's consistency token to `token`, if given.
fn with_token(
    session: core::SiteSession,
    token: Option<String>,
) -> core::Result<core::SiteSession> {
    match token {
        Some(t) => session.with_consistency_token(&t),
        None => Ok(session),
    }
}

fn open_handle(store: &InProcess<core::InteractionStore>) -> PyResult<core::InteractionStore> {
    let store = store.get()?;
    if store.is_closed() {
        return Err(unavailable("the store is closed"));
    }
    Ok(store.clone())
}

fn backend_name(store: &core::InteractionStore) -> &'static str {
    match store.backend() {
        core::Backend::Postgres => "postgres",
        core::Backend::Sqlite => "sqlite",
    }
}

/// A connection pool on PostgreSQL or SQLite with the blocking API. Open one per process
/// with `InteractionStore.connect()` and share it between threads: every call releases
/// the GIL while it waits.
#[pyclass(frozen, module = "interaction_store")]
pub struct InteractionStore {
    inner: InProcess<core::InteractionStore>,
}

/// The same store with the asyncio API: every I/O method returns a coroutine.
#[pyclass(frozen, module = "interaction_store")]
pub struct AsyncInteractionStore {
    inner: InProcess<core::InteractionStore>,
}

impl InteractionStore {
    fn handle(&self) -> PyResult<core::InteractionStore> {
        open_handle(&self.inner)
    }
}

impl AsyncInteractionStore {
    fn handle(&self) -> PyResult<core::InteractionStore> {
        open_handle(&self.inner)
    }
}

dual! {
    InteractionStore / AsyncInteractionStore, |py, store|;
    sync {
        /// Opens `url` (default: `sqlite://interactions.db` in the working directory),
        /// applies migrations when `migrate=True`, and checks the schema version (unless
        /// `check_schema=False`). Other keywords: see `StoreOptions` in the core.
        #[staticmethod]
        #[pyo3(signature = (url=None, *, migrate=false, **options))]
        fn connect(
            py: Python<'_>,
            url: Option<String>,
            migrate: bool,
            options: Option<&Bound<'_, PyDict>>,
        ) -> PyResult<InteractionStore> {
            let o = store_options(url, migrate, options)?;
            crate::logging::reset_levels();
            let inner = block(py, o.connect())?;
            Ok(InteractionStore { inner: InProcess::new(inner) })
        }

        /// Opens a session on `site_id` for the user holding login `token`, seeing every
        /// write up to `consistency_token` (a session's `consistency_token`, maybe of
        /// another process).
        #[pyo3(signature = (token, site_id, consistency_token=None))]
        fn session(
            &self,
            py: Python<'_>,
            token: String,
            site_id: &Bound<'_, PyAny>,
            consistency_token: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<SiteSession> {
            let store = self.handle()?;
            let site = convert::int("site_id", site_id)?;
            let seen = consistency(consistency_token)?;
            let inner = block(py, async move {
                with_token(store.session(&token, site).await?, seen)
            })?;
            Ok(SiteSession::new(inner))
        }

        /// Opens a session for a user the host application authenticated itself, seeing
        /// every write up to `consistency_token`.
        #[pyo3(signature = (user_id, site_id, consistency_token=None))]
        fn session_for_user(
            &self,
            py: Python<'_>,
            user_id: &Bound<'_, PyAny>,
            site_id: &Bound<'_, PyAny>,
            consistency_token: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<SiteSession> {
            let store = self.handle()?;
            let user = convert::int("user_id", user_id)?;
            let site = convert::int("site_id", site_id)?;
            let seen = consistency(consistency_token)?;
            let inner = block(py, async move {
                with_token(store.session_for_user(user, site).await?, seen)
            })?;
            Ok(SiteSession::new(inner))
        }

        /// Closes the pool after the calls in flight; later calls raise
        /// `UnavailableError`. Closing twice is allowed.
        fn close(&self, py: Python<'_>) -> PyResult<()> {
            let store = self.inner.get()?.clone();
            block(py, async move {
                store.close().await;
                Ok(())
            })
        }

        fn __enter__(slf: Py<Self>) -> Py<Self> {
            slf
        }

        #[pyo3(signature = (*_exc))]
        fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
            self.close(py)?;
            Ok(false)
        }

        /// `"postgres"` or `"sqlite"`.
        #[getter]
        fn backend(&self) -> &'static str {
            backend_name(self.inner.peek())
        }

        /// The PostgreSQL schema the store works in (`schema=`); `None` without one
        /// (the connection's default, normally `public`) and on SQLite.
        #[getter]
        fn schema(&self) -> Option<String> {
            self.inner.peek().schema().map(str::to_string)
        }

        /// True after `close()`.
        #[getter]
        fn closed(&self) -> bool {
            self.inner.peek().is_closed()
        }

        /// Hits and misses of each cache since the store opened, and whether Redis is
        /// reachable (no I/O).
        fn cache_stats(&self) -> CacheStats {
            CacheStats::from(self.inner.peek().cache_stats())
        }

        /// The store's clock (`connect(..., clock=)`, else the system clock); no I/O.
        #[getter]
        fn clock(&self) -> Clock {
            Clock::new(self.inner.peek().clock().clone())
        }

        /// The configured replicas as the health probe last saw them (empty without
        /// replicas; no I/O).
        fn replica_status(&self) -> Vec<ReplicaStatus> {
            self.inner.peek().replica_status().into_iter().map(ReplicaStatus::from).collect()
        }

        fn __repr__(&self) -> String {
            format!(
                "InteractionStore(backend='{}', closed={})",
                backend_name(self.inner.peek()),
                if self.inner.peek().is_closed() { "True" } else { "False" }
            )
        }
    }
    async {
        /// Opens `url` (default: `sqlite://interactions.db` in the working directory),
        /// applies migrations when `migrate=True`, and checks the schema version (unless
        /// `check_schema=False`). Other keywords: see `StoreOptions` in the core.
        /// Returns a coroutine of the store.
        #[staticmethod]
        #[pyo3(signature = (url=None, *, migrate=false, **options))]
        fn connect(
            url: Option<String>,
            migrate: bool,
            options: Option<&Bound<'_, PyDict>>,
        ) -> PyResult<Call> {
            let o = store_options(url, migrate, options)?;
            crate::logging::reset_levels();
            // Runtime: opening (and migrating) a SQLite file runs in the poll.
            awaitable("AsyncInteractionStore.connect", Driver::Runtime, async move {
                let inner = o.connect().await?;
                Ok(AsyncInteractionStore { inner: InProcess::new(inner) })
            })
        }

        /// Opens a session on `site_id` for the user holding login `token`, seeing every
        /// write up to `consistency_token` (a session's `consistency_token`, maybe of
        /// another process).
        #[pyo3(signature = (token, site_id, consistency_token=None))]
        fn session(
            &self,
            token: String,
            site_id: &Bound<'_, PyAny>,
            consistency_token: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Call> {
            let store = self.handle()?;
            let site = convert::int("site_id", site_id)?;
            let seen = consistency(consistency_token)?;
            awaitable("AsyncInteractionStore.session", Driver::for_store(&store), async move {
                with_token(store.session(&token, site).await?, seen).map(AsyncSiteSession::new)
            })
        }

        /// Opens a session for a user the host application authenticated itself, seeing
        /// every write up to `consistency_token`.
        #[pyo3(signature = (user_id, site_id, consistency_token=None))]
        fn session_for_user(
            &self,
            user_id: &Bound<'_, PyAny>,
            site_id: &Bound<'_, PyAny>,
            consistency_token: Option<&Bound<'_, PyAny>>,
        ) -> PyResult<Call> {
            let store = self.handle()?;
            let user = convert::int("user_id", user_id)?;
            let site = convert::int("site_id", site_id)?;
            let seen = consistency(consistency_token)?;
            awaitable("AsyncInteractionStore.session_for_user", Driver::for_store(&store), async move {
                with_token(store.session_for_user(user, site).await?, seen).map(AsyncSiteSession::new)
            })
        }

        /// Closes the pool after the calls in flight; later calls raise
        /// `UnavailableError`. Closing twice is allowed.
        fn close(&self) -> PyResult<Call> {
            let store = self.inner.get()?.clone();
            awaitable("AsyncInteractionStore.close", Driver::Runtime, async move {
                store.close().await;
                Ok(())
            })
        }

        fn __aenter__(slf: Py<Self>) -> PyResult<Call> {
            crate::runtime::awaitable_py("AsyncInteractionStore.__aenter__", Driver::Loop, async move { Ok(slf) })
        }

        #[pyo3(signature = (*_exc))]
        fn __aexit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Call> {
            let store = self.inner.get()?.clone();
            awaitable("AsyncInteractionStore.__aexit__", Driver::Runtime, async move {
                store.close().await;
                Ok(false)
            })
        }

        /// `"postgres"` or `"sqlite"`.
        #[getter]
        fn backend(&self) -> &'static str {
            backend_name(self.inner.peek())
        }

        /// The PostgreSQL schema the store works in (`schema=`); `None` without one
        /// (the connection's default, normally `public`) and on SQLite.
        #[getter]
        fn schema(&self) -> Option<String> {
            self.inner.peek().schema().map(str::to_string)
        }

        /// True after `close()`.
        #[getter]
        fn closed(&self) -> bool {
            self.inner.peek().is_closed()
        }

        /// Hits and misses of each cache since the store opened, and whether Redis is
        /// reachable (no I/O).
        fn cache_stats(&self) -> CacheStats {
            CacheStats::from(self.inner.peek().cache_stats())
        }

        /// The store's clock (`connect(..., clock=)`, else the system clock); no I/O.
        #[getter]
        fn clock(&self) -> Clock {
            Clock::new(self.inner.peek().clock().clone())
        }

        /// The configured replicas as the health probe last saw them (empty without
        /// replicas; no I/O).
        fn replica_status(&self) -> Vec<ReplicaStatus> {
            self.inner.peek().replica_status().into_iter().map(ReplicaStatus::from).collect()
        }

        fn __repr__(&self) -> String {
            format!(
                "AsyncInteractionStore(backend='{}', closed={})",
                backend_name(self.inner.peek()),
                if self.inner.peek().is_closed() { "True" } else { "False" }
            )
        }
    }

    /// Applies pending migrations; returns the versions applied now.
    fn migrate() -> Vec<SchemaVersion> {} => async move {
        Ok(store.migrate().await?.into_iter().map(SchemaVersion::from).collect())
    };

    /// Applies pending migrations up to and including `version` (`"1.0.0"`, one of this
    /// library's schema versions), e.g. to stage an upgrade; returns the versions applied
    /// now.
    fn migrate_to(version: &Bound<'_, PyAny>) -> Vec<SchemaVersion> {
        let version = convert::string("version", version)?
            .parse::<core::SchemaVersion>()
            .map_err(|e| crate::errors::to_py_err(py, e))?;
    } => async move {
        Ok(store.migrate_to(version).await?.into_iter().map(SchemaVersion::from).collect())
    };

    /// The schema version recorded in the database, `None` for an empty database.
    fn schema_version() -> Option<SchemaVersion> {} => async move {
        Ok(store.schema_version().await?.map(SchemaVersion::from))
    };

    /// Raises `SchemaVersionError` unless the database schema is one this library can use.
    fn check_schema() -> () {} => async move { store.check_schema().await };

    /// The migrations `migrate()` would apply, oldest first, each with its SQL for this
    /// backend (for review): all of them on an empty database, none on an up-to-date
    /// one. Reads only; works on a store opened with `check_schema=False`.
    fn pending_migrations() -> Vec<PendingMigration> {} => async move {
        Ok(store.pending_migrations().await?.into_iter().map(PendingMigration::from).collect())
    };

    /// The integrity report: schema version, migration checksums, counts, referential
    /// checks and a content checksum per table (`ok` is true when `problems` is empty).
    /// Problems found are in the report, not raised; works on a store opened with
    /// `check_schema=False`. Reads every table.
    fn verify() -> IntegrityReport {} => async move {
        store.verify().await.map(IntegrityReport::from)
    };

    /// Creates an active user; a duplicate username or email is a `ConflictError`.
    fn create_user(username: String, email: String, password: String) -> User {} => async move {
        store.create_user(&username, &email, &password).await.map(User::from)
    };

    /// Reads a user by id.
    fn get_user(user_id: &Bound<'_, PyAny>) -> User {
        let id = convert::int("user_id", user_id)?;
    } => async move { store.get_user(id).await.map(User::from) };

    /// Reads a user by username.
    fn get_user_by_username(username: String) -> User {} => async move {
        store.get_user_by_username(&username).await.map(User::from)
    };

    /// Every user, active or not, by id (oldest first).
    fn list_users() -> Vec<User> {} => async move {
        Ok(store.list_users().await?.into_iter().map(User::from).collect())
    };

    /// The right to be forgotten: replaces the user's username and email with tombstones,
    /// clears the password, deactivates the account, revokes its tokens and scrubs the old
    /// username and email from the access log, the audit trail and interactions (live,
    /// deleted, archived), keeping every key and count. Returns the anonymised user.
    /// Cannot be undone.
    fn anonymize_user(user_id: &Bound<'_, PyAny>) -> User {
        let id = convert::int("user_id", user_id)?;
    } => async move { store.anonymize_user(id).await.map(User::from) };

    /// Sets a new password (revokes the user's login tokens).
    fn set_password(user_id: &Bound<'_, PyAny>, password: String) -> () {
        let id = convert::int("user_id", user_id)?;
    } => async move { store.set_password(id, &password).await };

    /// Activates or deactivates a user.
    fn set_user_active(user_id: &Bound<'_, PyAny>, active: &Bound<'_, PyAny>) -> User {
        let id = convert::int("user_id", user_id)?;
        let active = convert::boolean("active", active)?;
    } => async move { store.set_user_active(id, active).await.map(User::from) };

    /// The sites the user belongs to, with the role at each: `[(Site, role), ...]`.
    fn user_sites(user_id: &Bound<'_, PyAny>) -> Vec<(Site, &'static str)> {
        let id = convert::int("user_id", user_id)?;
    } => async move {
        Ok(store
            .user_sites(id)
            .await?
            .into_iter()
            .map(|(s, r)| (Site::from(s), r.as_str()))
            .collect())
    };

    /// Creates an active site; a duplicate name is a `ConflictError`.
    #[pyo3(signature = (name, description=None))]
    fn create_site(name: String, description: Option<String>) -> Site {} => async move {
        store.create_site(&name, description.as_deref()).await.map(Site::from)
    };

    /// Reads a site.
    fn get_site(site_id: &Bound<'_, PyAny>) -> Site {
        let id = convert::int("site_id", site_id)?;
    } => async move { store.get_site(id).await.map(Site::from) };

    /// All sites, by name.
    fn list_sites() -> Vec<Site> {} => async move {
        Ok(store.list_sites().await?.into_iter().map(Site::from).collect())
    };

    /// Activates or deactivates a site.
    fn set_site_active(site_id: &Bound<'_, PyAny>, active: &Bound<'_, PyAny>) -> Site {
        let id = convert::int("site_id", site_id)?;
        let active = convert::boolean("active", active)?;
    } => async move { store.set_site_active(id, active).await.map(Site::from) };

    /// Gives a user a role (`"viewer"`, `"editor"` or `"admin"`) at a site.
    fn grant_role(user_id: &Bound<'_, PyAny>, site_id: &Bound<'_, PyAny>, role: &Bound<'_, PyAny>) -> () {
        let user = convert::int("user_id", user_id)?;
        let site = convert::int("site_id", site_id)?;
        let role = convert::role(role)?;
    } => async move { store.grant_role(user, site, role).await };

    /// Checks a username and password; returns a new login token.
    fn login(username: String, password: String) -> LoginToken {} => async move {
        store.login(&username, &password).await.map(LoginToken::from)
    };

    /// Revokes a login token.
    fn logout(token: String) -> () {} => async move { store.logout(&token).await };

    /// The most recent access-log entries, newest first (`limit` 1-500).
    #[pyo3(signature = (limit=None), text_signature = "($self, limit=50)")]
    fn access_log(limit: Option<&Bound<'_, PyAny>>) -> Vec<AccessLogEntry> {
        let limit = convert::limit_or("limit", limit, 50)?;
    } => async move {
        Ok(store
            .access_log(limit)
            .await?
            .into_iter()
            .map(AccessLogEntry::from)
            .collect())
    };

    /// Moves interactions that have not changed for `older_than` (a `timedelta` or
    /// seconds; default two years) and are not soft-deleted to the archive, in batches of
    /// 500, each checked by count and checksum before it commits. Archived interactions
    /// are read-only, found by the Finder only with `include_archived()` /
    /// `archived_only()`, and deleted by `purge()` after the retention period.
    /// `dry_run=True`: count what would move, change nothing. Safe to interrupt and rerun,
    /// and to run while the application writes.
    #[pyo3(signature = (older_than=None, *, dry_run=false))]
    fn archive(older_than: Option<&Bound<'_, PyAny>>, dry_run: bool) -> ArchiveReport {
        let older_than = match older_than {
            Some(v) if !v.is_none() => Some(convert::duration("older_than", v)?),
            _ => None,
        };
    } => async move { store.archive(older_than, dry_run).await.map(ArchiveReport::from) };

    /// Applies the retention rules of `connect(..., retention=)` at the store clock's
    /// time: deletes soft-deleted interactions past `deleted_interactions`, archived ones
    /// past `archived_interactions`, access attempts, authentication logs and audit rows
    /// past their periods, anonymises login records past `user_activity`, and removes
    /// expired or revoked login tokens and expired idempotency keys. Works in batches of
    /// 1000 rows, each its own transaction with an audit tombstone, so it can be
    /// interrupted and rerun. `dry_run=True`: count, change nothing.
    #[pyo3(signature = (*, dry_run=false))]
    fn purge(dry_run: bool) -> PurgeReport {} => async move {
        store.purge(dry_run).await.map(PurgeReport::from)
    };

    /// How many users, sites and live, deleted and archived interactions the database
    /// holds (tables an older schema lacks count as empty).
    fn counts() -> Counts {} => async move { store.counts().await.map(Counts::from) };
}
