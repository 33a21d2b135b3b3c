//! `InteractionStore`: the handle on a pool. Async methods take `&self` over the core's
//! cloneable handle (an `Arc` inside); nothing is `&mut self`.

use interaction_core::{Backend, RetentionPolicy as CoreRetention, StoreOptions, DEFAULT_URL};
use napi::bindgen_prelude::{PromiseRaw, Undefined};
use napi::Env;
use napi_derive::napi;

use crate::convert::{int, millis, uint};
use crate::errors::IntoJs;
use crate::lifecycle::Clock;
use crate::session::SiteSession;
use crate::types::{
    AccessLogEntry, ArchiveOptions, ArchiveReport, CacheStats, ConnectOptions, Counts,
    IntegrityReport, LoginToken, PendingMigration, PurgeOptions, PurgeReport, ReplicaStatus,
    RetentionPolicy, SchemaVersion, Site, User, UserSite,
};

/// The entry point: a handle on a connection pool. Open one per process and share it;
/// call `close()` when done.
#[napi]
pub struct InteractionStore {
    pub(crate) inner: interaction_core::InteractionStore,
}

/// The core's policy: each period given replaces the core default (field
/// `retention.<name>` in errors, as the core names it).
fn retention(r: RetentionPolicy) -> napi::Result<CoreRetention> {
    let mut p = CoreRetention::default();
    let periods = [
        (
            "deleted_interactions",
            r.deleted_interactions_ms,
            &mut p.deleted_interactions,
        ),
        (
            "archived_interactions",
            r.archived_interactions_ms,
            &mut p.archived_interactions,
        ),
        (
            "access_attempts",
            r.access_attempts_ms,
            &mut p.access_attempts,
        ),
        ("user_activity", r.user_activity_ms, &mut p.user_activity),
        (
            "authentication_logs",
            r.authentication_logs_ms,
            &mut p.authentication_logs,
        ),
        (
            "data_modifications",
            r.data_modifications_ms,
            &mut p.data_modifications,
        ),
        ("admin_actions", r.admin_actions_ms, &mut p.admin_actions),
        ("schema_changes", r.schema_changes_ms, &mut p.schema_changes),
    ];
    for (name, ms, slot) in periods {
        if let Some(ms) = ms {
            *slot = millis(&format!("retention.{name}"), ms)?;
        }
    }
    Ok(p)
}

fn store_options(url: Option<String>, o: ConnectOptions<'_>) -> napi::Result<StoreOptions> {
    let mut opts = StoreOptions::new(url.unwrap_or_else(|| DEFAULT_URL.to_string()));
    if let Some(v) = o.migrate {
        opts = opts.migrate(v);
    }
    if let Some(v) = o.min_connections {
        opts = opts.min_connections(uint("min_connections", v)?);
    }
    if let Some(v) = o.max_connections {
        opts = opts.max_connections(uint("max_connections", v)?);
    }
    if let Some(v) = o.acquire_timeout_ms {
        opts = opts.acquire_timeout(millis("acquire_timeout", v)?);
    }
    if let Some(v) = o.idle_timeout_ms {
        opts = opts.idle_timeout(v.map(|v| millis("idle_timeout", v)).transpose()?);
    }
    if let Some(v) = o.max_lifetime_ms {
        opts = opts.max_lifetime(v.map(|v| millis("max_lifetime", v)).transpose()?);
    }
    if let Some(v) = o.login_concurrency {
        opts = opts.login_concurrency(uint("login_concurrency", v)? as usize);
    }
    if let Some(v) = o.connect_timeout_ms {
        opts = opts.connect_timeout(millis("connect_timeout", v)?);
    }
    if let Some(v) = o.statement_timeout_ms {
        opts = opts.statement_timeout(millis("statement_timeout", v)?);
    }
    if let Some(v) = o.lock_timeout_ms {
        opts = opts.lock_timeout(millis("lock_timeout", v)?);
    }
    if let Some(v) = o.call_timeout_ms {
        opts = opts.call_timeout(millis("call_timeout", v)?);
    }
    if let Some(v) = o.slow_statement_threshold_ms {
        let d = v
            .map(|v| millis("slow_statement_threshold", v))
            .transpose()?;
        opts = opts.slow_statement_threshold(d);
    }
    if let Some(v) = o.check_schema {
        opts = opts.check_schema(v);
    }
    if let Some(v) = o.cache {
        opts = opts.cache(v);
    }
    if let Some(v) = o.redis_url {
        opts = opts.redis_url(v);
    }
    if let Some(v) = o.redis_timeout_ms {
        opts = opts.redis_timeout(millis("redis_timeout", v)?);
    }
    if let Some(v) = o.finder_cache_ttl_ms {
        opts = opts.finder_cache_ttl(millis("finder_cache_ttl", v)?);
    }
    if let Some(v) = o.replicas {
        opts = opts.replicas(v);
    }
    if let Some(v) = o.reporting_replica {
        opts = opts.reporting_replica(v);
    }
    if let Some(v) = o.replica_max_lag_ms {
        opts = opts.replica_max_lag(millis("replica_max_lag", v)?);
    }
    if let Some(v) = o.behind_pgbouncer {
        opts = opts.behind_pgbouncer(v);
    }
    if let Some(c) = o.clock {
        opts = opts.clock(c.inner.clone());
    }
    if let Some(r) = o.retention {
        opts = opts.retention(retention(r)?);
    }
    if let Some(v) = o.access_logging {
        opts = opts.access_logging(v);
    }
    if let Some(v) = o.schema {
        opts = opts.schema(v);
    }
    Ok(opts)
}

/// Raises a new session's consistency token to `token`, if given.
fn with_token(
    inner: interaction_core::SiteSession,
    token: Option<String>,
) -> napi::Result<SiteSession> {
    let inner = match token {
        Some(t) => inner.with_consistency_token(&t).js()?,
        None => inner,
    };
    Ok(SiteSession { inner })
}

#[napi]
impl InteractionStore {
    /// Opens `url` (`postgres://…`, `sqlite://path.db`, `sqlite::memory:`; default
    /// `sqlite://interactions.db` in the working directory) and checks the schema version.
    // Writable and configurable (napi makes statics neither by default): `index.js` wraps it.
    // Not an `async fn`: the options (a `Clock` is a class instance, borrowed from JS) are
    // converted here, then only owned values go into the future.
    #[napi(writable = true, configurable = true)]
    pub fn connect<'env>(
        env: &'env Env,
        url: Option<String>,
        options: Option<ConnectOptions<'_>>,
    ) -> napi::Result<PromiseRaw<'env, InteractionStore>> {
        let opts = store_options(url, options.unwrap_or_default())?;
        env.spawn_future(async move {
            let inner = opts.connect().await.js()?;
            Ok(InteractionStore { inner })
        })
    }

    /// `postgres` or `sqlite`.
    #[napi(getter, ts_return_type = "'postgres' | 'sqlite'")]
    pub fn backend(&self) -> &'static str {
        match self.inner.backend() {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The PostgreSQL schema the store works in (`connect(url, { schema })`); `null`
    /// without one (the connection's default, normally `public`) and on SQLite.
    #[napi(getter)]
    pub fn schema(&self) -> Option<String> {
        self.inner.schema().map(str::to_string)
    }

    /// True after `close()`.
    #[napi(getter)]
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The store's clock (`connect(url, { clock })`, else the system clock). No I/O.
    #[napi(getter)]
    pub fn clock(&self) -> Clock {
        Clock {
            inner: self.inner.clock().clone(),
        }
    }

    /// Hits and misses of each cache since the store opened, and whether Redis is
    /// reachable. No I/O: returns at once (not a promise).
    #[napi]
    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache_stats().into()
    }

    /// The configured replicas as the health probe last saw them (empty without replicas).
    /// No I/O: returns at once (not a promise).
    #[napi]
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        self.inner
            .replica_status()
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// Applies pending migrations (forward-only, safe from several processes at once).
    /// Resolves to the versions applied now.
    #[napi]
    pub async fn migrate(&self) -> napi::Result<Vec<SchemaVersion>> {
        let applied = self.inner.migrate().await.js()?;
        Ok(applied.into_iter().map(Into::into).collect())
    }

    /// Applies pending migrations up to and including `version` (`'1.1.0'`, one of this
    /// library's schema versions), e.g. to stage an upgrade. Resolves to the versions
    /// applied now.
    #[napi]
    pub async fn migrate_to(&self, version: String) -> napi::Result<Vec<SchemaVersion>> {
        let target = version.parse().js()?;
        let applied = self.inner.migrate_to(target).await.js()?;
        Ok(applied.into_iter().map(Into::into).collect())
    }

    /// The schema version recorded in the database, `null` for an empty database.
    #[napi]
    pub async fn schema_version(&self) -> napi::Result<Option<SchemaVersion>> {
        Ok(self.inner.schema_version().await.js()?.map(Into::into))
    }

    /// Rejects with `SCHEMA_VERSION` unless the database schema is one this library can use.
    #[napi]
    pub async fn check_schema(&self) -> napi::Result<Undefined> {
        self.inner.check_schema().await.js()
    }

    /// The migrations `migrate()` would apply, oldest first, each with its SQL for this
    /// backend (for review): all of them on an empty database, none on an up-to-date one.
    /// Reads only; works on a store opened with `checkSchema: false`.
    #[napi]
    pub async fn pending_migrations(&self) -> napi::Result<Vec<PendingMigration>> {
        let pending = self.inner.pending_migrations().await.js()?;
        Ok(pending.into_iter().map(Into::into).collect())
    }

    /// The integrity report: schema version, migration checksums, counts, referential
    /// checks and a content checksum per table; `ok` is `true` when `problems` is empty.
    /// Problems found are in the report, not rejections; works on a store opened with
    /// `checkSchema: false`. Reads every table.
    #[napi]
    pub async fn verify(&self) -> napi::Result<IntegrityReport> {
        Ok(self.inner.verify().await.js()?.into())
    }

    /// Creates a user (password 8–1024 characters, stored as an argon2id hash).
    #[napi]
    pub async fn create_user(
        &self,
        username: String,
        email: String,
        password: String,
    ) -> napi::Result<User> {
        let u = self
            .inner
            .create_user(&username, &email, &password)
            .await
            .js()?;
        Ok(u.into())
    }

    /// A user by id; `NOT_FOUND` if there is none.
    #[napi]
    pub async fn get_user(&self, user_id: f64) -> napi::Result<User> {
        let id = int("user_id", user_id)?;
        Ok(self.inner.get_user(id).await.js()?.into())
    }

    /// A user by username; `NOT_FOUND` if there is none.
    #[napi]
    pub async fn get_user_by_username(&self, username: String) -> napi::Result<User> {
        Ok(self
            .inner
            .get_user_by_username(&username)
            .await
            .js()?
            .into())
    }

    /// Every user, active or not, by id (oldest first).
    #[napi]
    pub async fn list_users(&self) -> napi::Result<Vec<User>> {
        let users = self.inner.list_users().await.js()?;
        Ok(users.into_iter().map(Into::into).collect())
    }

    /// The right to be forgotten: replaces the user's username and email with tombstones,
    /// clears the password, deactivates the account, revokes its tokens and scrubs the old
    /// username and email from the access log, the audit trail and interactions (live,
    /// deleted, archived), keeping every key and count. Resolves to the anonymised user; an
    /// unknown one is `NOT_FOUND`. Cannot be undone.
    #[napi]
    pub async fn anonymize_user(&self, user_id: f64) -> napi::Result<User> {
        let id = int("user_id", user_id)?;
        Ok(self.inner.anonymize_user(id).await.js()?.into())
    }

    /// Replaces a user's password and revokes the user's login tokens.
    #[napi]
    pub async fn set_password(&self, user_id: f64, password: String) -> napi::Result<Undefined> {
        let id = int("user_id", user_id)?;
        self.inner.set_password(id, &password).await.js()
    }

    /// Activates or deactivates a user (deactivating revokes the user's tokens).
    #[napi]
    pub async fn set_user_active(&self, user_id: f64, active: bool) -> napi::Result<User> {
        let id = int("user_id", user_id)?;
        Ok(self.inner.set_user_active(id, active).await.js()?.into())
    }

    /// The sites where the user has a role, with that role.
    #[napi]
    pub async fn user_sites(&self, user_id: f64) -> napi::Result<Vec<UserSite>> {
        let id = int("user_id", user_id)?;
        let sites = self.inner.user_sites(id).await.js()?;
        Ok(sites
            .into_iter()
            .map(|(site, role)| UserSite {
                site: site.into(),
                role: role.as_str().to_string(),
            })
            .collect())
    }

    /// Creates a site (unique name, at most 100 characters).
    #[napi]
    pub async fn create_site(
        &self,
        name: String,
        description: Option<String>,
    ) -> napi::Result<Site> {
        let s = self
            .inner
            .create_site(&name, description.as_deref())
            .await
            .js()?;
        Ok(s.into())
    }

    /// A site by id; `NOT_FOUND` if there is none.
    #[napi]
    pub async fn get_site(&self, site_id: f64) -> napi::Result<Site> {
        let id = int("site_id", site_id)?;
        Ok(self.inner.get_site(id).await.js()?.into())
    }

    /// Every site.
    #[napi]
    pub async fn list_sites(&self) -> napi::Result<Vec<Site>> {
        let sites = self.inner.list_sites().await.js()?;
        Ok(sites.into_iter().map(Into::into).collect())
    }

    /// Activates or deactivates a site.
    #[napi]
    pub async fn set_site_active(&self, site_id: f64, active: bool) -> napi::Result<Site> {
        let id = int("site_id", site_id)?;
        Ok(self.inner.set_site_active(id, active).await.js()?.into())
    }

    /// Gives a user a role (`viewer`, `editor`, `admin`) at a site, as the host application.
    #[napi]
    pub async fn grant_role(
        &self,
        user_id: f64,
        site_id: f64,
        #[napi(ts_arg_type = "Role")] role: String,
    ) -> napi::Result<Undefined> {
        let user = int("user_id", user_id)?;
        let site = int("site_id", site_id)?;
        let role = crate::convert::role(&role)?;
        self.inner.grant_role(user, site, role).await.js()
    }

    /// Checks a password; resolves to a token valid for 24 hours. Every failure (unknown
    /// user, wrong password, inactive user) is `AUTHENTICATION_FAILED`.
    #[napi]
    pub async fn login(&self, username: String, password: String) -> napi::Result<LoginToken> {
        Ok(self.inner.login(&username, &password).await.js()?.into())
    }

    /// Revokes a login token.
    #[napi]
    pub async fn logout(&self, token: String) -> napi::Result<Undefined> {
        self.inner.logout(&token).await.js()
    }

    /// The most recent access-log entries, newest first (`limit` 1–500, default 50).
    #[napi]
    pub async fn access_log(&self, limit: Option<f64>) -> napi::Result<Vec<AccessLogEntry>> {
        let limit = uint("limit", limit.unwrap_or(50.0))?;
        let entries = self.inner.access_log(limit).await.js()?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    /// Opens a session on a site for the holder of a login token. An invalid token is
    /// `AUTHENTICATION_FAILED`; no role at the site or an inactive site is
    /// `PERMISSION_DENIED`. With `consistencyToken` (a session's `consistencyToken`, maybe
    /// of another process or request) its reads see every write up to it, even on
    /// replicas; a malformed one is `VALIDATION` (field `consistency_token`).
    #[napi]
    pub async fn session(
        &self,
        token: String,
        site_id: f64,
        consistency_token: Option<String>,
    ) -> napi::Result<SiteSession> {
        let site = int("site_id", site_id)?;
        let inner = self.inner.session(&token, site).await.js()?;
        with_token(inner, consistency_token)
    }

    /// Opens a session for a user the host application authenticated itself;
    /// `consistencyToken` as in `session()`.
    #[napi]
    pub async fn session_for_user(
        &self,
        user_id: f64,
        site_id: f64,
        consistency_token: Option<String>,
    ) -> napi::Result<SiteSession> {
        let user = int("user_id", user_id)?;
        let site = int("site_id", site_id)?;
        let inner = self.inner.session_for_user(user, site).await.js()?;
        with_token(inner, consistency_token)
    }

    /// Moves interactions that have not changed for `olderThanMs` (default two years) and
    /// are not soft-deleted to the archive, in batches of 500, each checked by count and
    /// checksum before it commits. Archived interactions are read-only (a change rejects
    /// with `ARCHIVED`), found by the Finder only with `includeArchived()` /
    /// `archivedOnly()`, and deleted by `purge()` after the retention period. `dryRun`:
    /// count what would move, change nothing. Safe to interrupt and rerun, and to run while
    /// the application writes.
    #[napi]
    pub async fn archive(&self, options: Option<ArchiveOptions>) -> napi::Result<ArchiveReport> {
        let o = options.unwrap_or_default();
        let older_than = o
            .older_than_ms
            .flatten()
            .map(|ms| millis("older_than", ms))
            .transpose()?;
        let dry_run = o.dry_run.flatten().unwrap_or(false);
        Ok(self.inner.archive(older_than, dry_run).await.js()?.into())
    }

    /// Applies the retention rules (`connect(url, { retention })`) at the store clock's
    /// time: deletes soft-deleted interactions past `deletedInteractionsMs`, archived ones
    /// past `archivedInteractionsMs`, access attempts, authentication logs and audit rows
    /// past their periods, anonymises login records past `userActivityMs`, and removes
    /// expired or revoked login tokens and expired idempotency keys. Works in batches of
    /// 1000 rows, each its own transaction with an audit tombstone, so it can be
    /// interrupted and rerun. `dryRun`: count, change nothing.
    #[napi]
    pub async fn purge(&self, options: Option<PurgeOptions>) -> napi::Result<PurgeReport> {
        let dry_run = options
            .unwrap_or_default()
            .dry_run
            .flatten()
            .unwrap_or(false);
        Ok(self.inner.purge(dry_run).await.js()?.into())
    }

    /// How many users, sites and live, deleted and archived interactions the database
    /// holds (tables an older schema lacks count as empty).
    #[napi]
    pub async fn counts(&self) -> napi::Result<Counts> {
        Ok(self.inner.counts().await.js()?.into())
    }

    /// Closes the pool: waits for calls in flight; every later call rejects with
    /// `UNAVAILABLE`. A process whose store is closed exits on its own.
    #[napi]
    pub async fn close(&self) -> napi::Result<Undefined> {
        self.inner.close().await;
        Ok(())
    }
}
