//! The backend layer: the only part of the crate that knows PostgreSQL from SQLite.
//!
//! Domain modules build one [`Sql`] (text with `$n` placeholders plus typed [`Arg`]s) and
//! hand it to the execution path (`exec.rs`), which runs it here on a pooled connection
//! ([`Lease`]) or inside a write transaction ([`Tx`]). What differs in the SQL itself is
//! asked of the statement's [`Dialect`](dialect::Dialect); each engine keeps its answers,
//! connection setup and error codes in its own file.
//!
//! Pooling is deadpool over sqlx connections (PostgreSQL) and rusqlite connections
//! (SQLite): a connection goes back to the pool without the ping sqlx's own pool sends on
//! every release (one round trip per call saved). A connection whose statement was
//! interrupted (deadline, cancellation, broken socket) is never handed out again as it
//! is: PostgreSQL ones are dropped, SQLite ones rolled back first.

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!(
    "interaction-core needs at least one backend: enable feature `postgres` or `sqlite`"
);

#[cfg(feature = "postgres")]
pub(crate) mod cluster;
pub(crate) mod dialect;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
mod sql;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{Metrics, Object, Pool, PoolError, RecycleError, RecycleResult};
#[cfg(feature = "postgres")]
use sqlx::AssertSqlSafe;
use tokio::sync::{Mutex, OwnedMutexGuard};
use tokio::time::Instant;

#[cfg(feature = "sqlite")]
pub(crate) use sql::LiteRow;
#[cfg(feature = "postgres")]
use sql::Plan;
pub(crate) use sql::{db_row, Arg, Rowable, Sql, Ts};

use crate::error::{Error, ErrorKind, Result};

/// Parses a commit position as PostgreSQL writes an LSN (`16/B374D848`): the form of a
/// session's consistency token.
pub(crate) fn parse_lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.trim().split_once('/')?;
    let part = |p: &str| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_hexdigit());
    if !(part(hi) && part(lo)) {
        return None;
    }
    let hi = u32::from_str_radix(hi, 16).ok()?;
    let lo = u32::from_str_radix(lo, 16).ok()?;
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// An LSN as PostgreSQL writes it.
pub(crate) fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xffff_ffff)
}

#[cfg(test)]
mod lsn_tests {
    use super::*;

    #[test]
    fn lsns_parse_and_print_like_postgres() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(format_lsn(0x16_B374_D848), "16/B374D848");
        assert_eq!(parse_lsn("0/0"), Some(0));
        for bad in ["", "/", "1/", "x/1", "1/2/3", "123456789/0", "1 2", "+1/2"] {
            assert_eq!(parse_lsn(bad), None, "{bad}");
        }
    }
}

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// PostgreSQL 15+: the production backend.
    Postgres,
    /// Embedded SQLite: the zero-setup default.
    Sqlite,
}

impl Backend {
    /// The name used by the bindings: `postgres` or `sqlite`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }

    /// The SQL dialect of this engine.
    pub(crate) fn dialect(self) -> &'static dyn dialect::Dialect {
        match self {
            #[cfg(feature = "postgres")]
            Backend::Postgres => &postgres::Postgres,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => &sqlite::Sqlite,
            // No statement is built for a backend no store can open.
            #[allow(unreachable_patterns)]
            other => unreachable!("built without the {} backend", other.as_str()),
        }
    }
}

/// Every time limit and pool bound of a store (see `StoreOptions` for their meaning).
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub call_timeout: Duration,
    pub acquire_timeout: Duration,
    pub connect_timeout: Duration,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub idle_timeout: Option<Duration>,
    pub max_lifetime: Option<Duration>,
    pub slow_threshold: Option<Duration>,
    pub min_connections: u32,
    pub max_connections: u32,
    /// PostgreSQL behind pgBouncer in transaction mode: no named prepared statements (the
    /// next statement may reach another server connection) and no settings in the
    /// startup packet (pgBouncer refuses them).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub pgbouncer: bool,
    /// The store's source of time (see `clock.rs`).
    pub clock: crate::clock::Clock,
    /// The PostgreSQL schema every connection works in (`StoreOptions::schema`); `None`:
    /// the connection's default `search_path`. Always `None` on SQLite.
    pub schema: Option<String>,
}

/// Where a store's connections go, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `host:port` or the SQLite file.
    pub place: String,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub database: String,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub user: String,
}

/// Replaces connections past their lifetime or idle limit when they are next taken.
fn recycle<E>(limits: &Limits, m: &Metrics) -> RecycleResult<E> {
    if limits.max_lifetime.is_some_and(|l| m.age() > l) {
        return Err(RecycleError::message("past max_lifetime"));
    }
    if limits.idle_timeout.is_some_and(|l| m.last_used() > l) {
        return Err(RecycleError::message("idle longer than idle_timeout"));
    }
    Ok(())
}

enum Pools {
    #[cfg(feature = "postgres")]
    Postgres(Pool<postgres::PgManager>),
    #[cfg(feature = "sqlite")]
    Sqlite(Pool<sqlite::SqliteManager>),
}

type Opened = (Pools, Target, Option<Arc<Mutex<()>>>);

fn build<M: deadpool::managed::Manager>(m: M, limits: &Limits) -> Result<Pool<M>> {
    Pool::builder(m)
        .max_size(limits.max_connections.max(1) as usize)
        .wait_timeout(Some(limits.acquire_timeout))
        // The most recently used connection first: its server process and socket are
        // warm in the caches (FIFO rotates over every connection).
        .queue_mode(deadpool::managed::QueueMode::Lifo)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| Error::internal(format!("cannot build the pool: {e}")))
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, limits: &Limits, primary: bool) -> Result<Opened> {
    let (hosts, target) = postgres::connect_options(url, limits)?;
    let manager = postgres::PgManager::new(hosts, limits.clone(), primary);
    Ok((Pools::Postgres(build(manager, limits)?), target, None))
}

#[cfg(feature = "sqlite")]
fn open_sqlite(url: &str, limits: &mut Limits) -> Result<Opened> {
    let (opts, target) = sqlite::connect_options(url)?;
    if opts.memory() {
        // An in-memory database lives in one connection.
        limits.max_connections = 1;
        limits.min_connections = 1;
    }
    let manager = sqlite::SqliteManager {
        opts,
        limits: limits.clone(),
    };
    Ok((
        Pools::Sqlite(build(manager, limits)?),
        target,
        Some(Arc::new(Mutex::new(()))),
    ))
}

/// The SQLite file an open of `url` would create (see [`sqlite::NewFile`]); `None` for
/// other URLs and files that exist.
#[cfg(feature = "sqlite")]
pub(crate) fn new_sqlite_file(url: &str) -> Option<sqlite::NewFile> {
    if url.starts_with("sqlite:") {
        sqlite::NewFile::before_open(url)
    } else {
        None
    }
}

/// The error for a URL of a backend this build leaves out.
#[cfg(not(all(feature = "postgres", feature = "sqlite")))]
fn left_out(backend: Backend) -> Error {
    Error::Configuration {
        message: format!(
            "this build of interaction-core has no {0} backend (cargo feature `{0}`)",
            backend.as_str()
        ),
        source: None,
    }
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_: &str, _: &Limits, _: bool) -> Result<Opened> {
    Err(left_out(Backend::Postgres))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(_: &str, _: &mut Limits) -> Result<Opened> {
    Err(left_out(Backend::Sqlite))
}

/// Runs `$body` on the pool of whichever backend the store uses.
macro_rules! on_pool {
    ($pools:expr, |$p:ident| $body:expr) => {
        match $pools {
            #[cfg(feature = "postgres")]
            Pools::Postgres($p) => $body,
            #[cfg(feature = "sqlite")]
            Pools::Sqlite($p) => $body,
        }
    };
}

struct DbInner {
    pools: Pools,
    limits: Limits,
    target: Target,
    /// SQLite allows one writer at a time; the in-process gate queues writers in FIFO
    /// order instead of letting them spin in SQLite's busy handler.
    write_gate: Option<Arc<Mutex<()>>>,
}

/// The connection pool of a store, with its limits. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Db {
    inner: Arc<DbInner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend())
            .field("target", &self.inner.target.place)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Builds the pool for `url` and opens one connection, so that a wrong address, name
    /// or password fails here. Further connections open lazily; `min_connections` are
    /// warmed in the background.
    pub(crate) async fn open(url: &str, limits: Limits) -> Result<Db> {
        let db = Db::build(url, limits, true)?;
        let deadline = Instant::now() + db.limits().call_timeout;
        db.acquire(deadline).await?.keep();
        db.maintain();
        Ok(db)
    }

    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    /// The pool of a PostgreSQL replica: nothing is opened yet (a replica that is down
    /// when the store opens only stays out of the rotation until it answers).
    pub(crate) fn replica(url: &str, limits: Limits) -> Result<Db> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::validation("replicas", "expected postgres://… URLs"));
        }
        Db::build(url, limits, false)
    }

    fn build(url: &str, mut limits: Limits, primary: bool) -> Result<Db> {
        let (pools, target, gate) =
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                open_postgres(url, &limits, primary)?
            } else if url.starts_with("sqlite:") {
                open_sqlite(url, &mut limits)?
            } else {
                return Err(Error::validation(
                    "url",
                    "expected postgres://…, sqlite://path or sqlite::memory:",
                ));
            };
        Ok(Db {
            inner: Arc::new(DbInner {
                pools,
                limits,
                target,
                write_gate: gate,
            }),
        })
    }

    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    /// Where this pool connects (`host:port`, several for a failover pair, or a file).
    pub(crate) fn place(&self) -> &str {
        &self.inner.target.place
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.inner.pools {
            #[cfg(feature = "postgres")]
            Pools::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(_) => Backend::Sqlite,
        }
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Warms `min_connections` (PostgreSQL) and, while the pool lives, closes connections
    /// idle past `idle_timeout` above that minimum.
    ///
    /// SQLite pools are not warmed: opening a file costs microseconds on first use, and
    /// background SQLite work at the moment a process forks can leave SQLite's global
    /// mutex held in the child (SQLite is not fork-safe): a store opened just before a
    /// fork (`gunicorn --preload`) must leave no SQLite call running.
    fn maintain(&self) {
        let warm = self.backend() != Backend::Sqlite;
        macro_rules! spawn_for {
            ($pool:expr) => {{
                let weak = $pool.weak();
                let limits = self.inner.limits.clone();
                tokio::spawn(async move {
                    let warm: Vec<_> = {
                        let Some(pool) = weak.upgrade() else { return };
                        let want = if warm {
                            limits.min_connections.min(limits.max_connections) as usize
                        } else {
                            0
                        };
                        let mut held = Vec::new();
                        while pool.status().size < want && held.len() < want {
                            match pool.get().await {
                                Ok(c) => held.push(c),
                                Err(_) => break,
                            }
                        }
                        held
                    };
                    drop(warm);
                    let Some(idle) = limits.idle_timeout else {
                        return;
                    };
                    let period = (idle / 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
                    loop {
                        tokio::time::sleep(period).await;
                        let Some(pool) = weak.upgrade() else { return };
                        if pool.is_closed() {
                            return;
                        }
                        let mut spare = pool
                            .status()
                            .size
                            .saturating_sub(limits.min_connections as usize);
                        pool.retain(|_, m| {
                            if spare > 0 && m.last_used() > idle {
                                spare -= 1;
                                false
                            } else {
                                true
                            }
                        });
                    }
                });
            }};
        }
        on_pool!(&self.inner.pools, |p| spawn_for!(p))
    }

    /// A pooled connection, waiting at most until `deadline` (and `acquire_timeout`).
    pub(crate) async fn acquire(&self, deadline: Instant) -> Result<Lease> {
        macro_rules! get {
            ($pool:expr, $variant:ident) => {
                match tokio::time::timeout_at(deadline, $pool.get()).await {
                    Ok(Ok(obj)) => Ok(Conn::$variant(obj)),
                    Ok(Err(e)) => Err(self.pool_error(e)),
                    Err(_) => Err(self.deadline_error("waiting for a connection")),
                }
            };
        }
        let conn = match &self.inner.pools {
            #[cfg(feature = "postgres")]
            Pools::Postgres(p) => get!(p, Postgres),
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(p) => get!(p, Sqlite),
        }?;
        Ok(Lease {
            conn: Some(conn),
            keep: false,
            deadline,
        })
    }

    /// Drops every idle connection: after one turned out dead (a restart or failover
    /// closes them all), the next call gets a fresh one instead of another dead one.
    pub(crate) fn drop_idle(&self) {
        // SQLite connections are not lost that way (and an in-memory database is its
        // one connection).
        #[cfg(feature = "postgres")]
        #[allow(irrefutable_let_patterns)]
        if let Pools::Postgres(p) = &self.inner.pools {
            p.retain(|_, _| false);
        }
    }

    fn pool_error<E: Into<DriverError> + std::fmt::Display>(&self, e: PoolError<E>) -> Error {
        let limits = &self.inner.limits;
        match e {
            PoolError::Backend(e) => self.classify(e.into()),
            PoolError::Timeout(deadpool::managed::TimeoutType::Wait) => {
                Error::unavailable(format!(
                    "all {} connections busy for {} ms",
                    limits.max_connections,
                    limits.acquire_timeout.as_millis()
                ))
            }
            PoolError::Timeout(_) => Error::unavailable(format!(
                "no connection to {} within the connect timeout ({} ms)",
                self.inner.target.place,
                limits.connect_timeout.as_millis()
            )),
            PoolError::Closed => Error::unavailable("the store is closed"),
            other => Error::internal(format!("connection pool: {other}")),
        }
    }

    /// The error for a call that reached its deadline while `doing` something.
    pub(crate) fn deadline_error(&self, doing: &str) -> Error {
        Error::timeout(format!(
            "the call reached its deadline (call_timeout {} ms) while {doing}",
            self.inner.limits.call_timeout.as_millis()
        ))
    }

    /// Classifies a driver error by its type and the engine's codes, never by message
    /// text, and keeps it as the source.
    pub(crate) fn classify(&self, e: DriverError) -> Error {
        let DbInner { limits, target, .. } = &*self.inner;
        let classified = match &e {
            #[cfg(feature = "postgres")]
            DriverError::Postgres(pg) => postgres::classify(pg, limits, target),
            #[cfg(feature = "sqlite")]
            DriverError::Sqlite(lite) => sqlite::classify(lite, limits, target),
        };
        let (kind, message) = match classified {
            Ok(km) => km,
            Err(done) => return done,
        };
        let source: Option<crate::error::Cause> = Some(match e {
            #[cfg(feature = "postgres")]
            DriverError::Postgres(e) => Box::new(e),
            #[cfg(feature = "sqlite")]
            DriverError::Sqlite(e) => Box::new(e),
        });
        match kind {
            ErrorKind::Timeout => Error::Timeout { message, source },
            ErrorKind::Unavailable => Error::Unavailable { message, source },
            ErrorKind::Configuration => Error::Configuration { message, source },
            ErrorKind::Conflict => Error::Conflict(message),
            _ => Error::Internal { message, source },
        }
    }

    /// Whether `e` means the connection is gone (so a read may be retried on another).
    pub(crate) fn is_connection_lost(&self, e: &DriverError) -> bool {
        match e {
            #[cfg(feature = "postgres")]
            DriverError::Postgres(e) => postgres::is_connection_lost(e),
            // A SQLite connection is a file handle: it is not lost that way.
            #[cfg(feature = "sqlite")]
            DriverError::Sqlite(_) => false,
        }
    }

    /// Takes the in-process writer gate (SQLite), waiting at most until `deadline`.
    pub(crate) async fn write_gate(
        &self,
        deadline: Instant,
    ) -> Result<Option<OwnedMutexGuard<()>>> {
        match &self.inner.write_gate {
            None => Ok(None),
            Some(gate) => tokio::time::timeout_at(deadline, gate.clone().lock_owned())
                .await
                .map(Some)
                .map_err(|_| self.deadline_error("queued behind other writers of this store")),
        }
    }

    /// Closes the pool: idle connections close now, every later call fails with
    /// `UNAVAILABLE`, calls in flight end within their deadline and their connections
    /// close as they come back. Never waits on the server.
    pub(crate) fn close(&self) {
        on_pool!(&self.inner.pools, |p| p.close())
    }

    pub(crate) fn is_closed(&self) -> bool {
        on_pool!(&self.inner.pools, |p| p.is_closed())
    }

    /// Connections open now (idle or in use).
    pub(crate) fn size(&self) -> usize {
        on_pool!(&self.inner.pools, |p| p.status().size)
    }
}

enum Conn {
    #[cfg(feature = "postgres")]
    Postgres(Object<postgres::PgManager>),
    #[cfg(feature = "sqlite")]
    Sqlite(Object<sqlite::SqliteManager>),
}

/// A connection taken from the pool. It goes back only if the last statement on it
/// finished ([`keep`](Self::keep)); otherwise it may sit in the middle of a statement or
/// a transaction: a PostgreSQL one is closed (the server rolls back), a SQLite one is
/// rolled back at once and then returned.
pub(crate) struct Lease {
    conn: Option<Conn>,
    keep: bool,
    /// The call's deadline; SQLite enforces it inside each statement.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    deadline: Instant,
}

/// A driver's error, as the engine reported it.
#[derive(Debug)]
pub(crate) enum DriverError {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Error),
    #[cfg(feature = "sqlite")]
    Sqlite(rusqlite::Error),
}

#[cfg(feature = "postgres")]
impl From<sqlx::Error> for DriverError {
    fn from(e: sqlx::Error) -> Self {
        DriverError::Postgres(e)
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for DriverError {
    fn from(e: rusqlite::Error) -> Self {
        DriverError::Sqlite(e)
    }
}

/// The rows of a statement in the shape of the method `$method`.
macro_rules! shape {
    (fetch_all, $rows:expr, $none:expr) => {
        Ok($rows)
    };
    (fetch_optional, $rows:expr, $none:expr) => {
        Ok($rows.into_iter().next())
    };
    (fetch_one, $rows:expr, $none:expr) => {
        $rows.into_iter().next().ok_or($none)
    };
}

/// Runs one statement on a lease's connection and shapes its rows as `$method`.
macro_rules! run {
    ($lease:expr, $q:expr, $method:ident, $T:ty, $db:expr) => {{
        let q: &Sql = $q;
        match $lease.conn.as_mut().expect("lease holds a connection") {
            // Custom plans in one round trip: the simple-query protocol with literals.
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) if q.plan == Plan::Custom || $db.limits().pgbouncer => {
                let sql = postgres::inline(q).map_err(Fault::Encode)?;
                match sqlx::raw_sql(AssertSqlSafe(sql)).fetch_all(&mut **c).await {
                    Ok(rows) => rows
                        .iter()
                        .map(|r| <$T as sqlx::FromRow<'_, sqlx::postgres::PgRow>>::from_row(r))
                        .collect::<std::result::Result<Vec<$T>, sqlx::Error>>()
                        .and_then(|v| shape!($method, v, sqlx::Error::RowNotFound))
                        .map_err(|e| Fault::Driver(e.into())),
                    Err(e) => Err(Fault::Driver(e.into())),
                }
            }
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => {
                let args = postgres::args(q).map_err(Fault::Encode)?;
                sqlx::query_as_with::<sqlx::Postgres, $T, _>(AssertSqlSafe(q.text.clone()), args)
                    .$method(&mut **c)
                    .await
                    .map_err(|e| Fault::Driver(e.into()))
            }
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => {
                sqlite::fetch::<$T>(&mut **c, q, $lease.deadline, $db.limits().lock_timeout)
                    .await
                    .and_then(|v| shape!($method, v, rusqlite::Error::QueryReturnedNoRows))
                    .map_err(|e| Fault::Driver(e.into()))
            }
        }
    }};
}

/// Why a statement failed: before it was sent, or in the driver.
pub(crate) enum Fault {
    /// Only PostgreSQL arguments can fail to encode (a SQLite value binds as it is).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Encode(Error),
    Driver(DriverError),
}

impl Lease {
    /// Marks the connection fit to go back to the pool.
    pub(crate) fn keep(mut self) {
        self.keep = true;
    }

    pub(crate) async fn fetch_all<T: Rowable>(
        &mut self,
        db: &Db,
        q: &Sql,
    ) -> std::result::Result<Vec<T>, Fault> {
        self.keep = false;
        let r = async { run!(self, q, fetch_all, T, db) }.await;
        self.settle(db, &r);
        r
    }

    pub(crate) async fn fetch_optional<T: Rowable>(
        &mut self,
        db: &Db,
        q: &Sql,
    ) -> std::result::Result<Option<T>, Fault> {
        self.keep = false;
        let r = async { run!(self, q, fetch_optional, T, db) }.await;
        self.settle(db, &r);
        r
    }

    pub(crate) async fn fetch_one<T: Rowable>(
        &mut self,
        db: &Db,
        q: &Sql,
    ) -> std::result::Result<T, Fault> {
        self.keep = false;
        let r = async { run!(self, q, fetch_one, T, db) }.await;
        self.settle(db, &r);
        r
    }

    pub(crate) async fn execute(&mut self, db: &Db, q: &Sql) -> std::result::Result<u64, Fault> {
        self.keep = false;
        let r = async {
            match self.conn.as_mut().expect("lease holds a connection") {
                #[cfg(feature = "postgres")]
                Conn::Postgres(c) if db.limits().pgbouncer => {
                    let sql = postgres::inline(q).map_err(Fault::Encode)?;
                    sqlx::raw_sql(AssertSqlSafe(sql))
                        .execute(&mut **c)
                        .await
                        .map(|r| r.rows_affected())
                        .map_err(|e| Fault::Driver(e.into()))
                }
                #[cfg(feature = "postgres")]
                Conn::Postgres(c) => {
                    let args = postgres::args(q).map_err(Fault::Encode)?;
                    sqlx::query_with::<sqlx::Postgres, _>(AssertSqlSafe(q.text.clone()), args)
                        .execute(&mut **c)
                        .await
                        .map(|r| r.rows_affected())
                        .map_err(|e| Fault::Driver(e.into()))
                }
                #[cfg(feature = "sqlite")]
                Conn::Sqlite(c) => sqlite::execute(c, q, self.deadline, db.limits().lock_timeout)
                    .await
                    .map_err(|e| Fault::Driver(e.into())),
            }
        }
        .await;
        self.settle(db, &r);
        r
    }

    /// Runs a script without arguments (transaction control, migrations).
    pub(crate) async fn script(&mut self, db: &Db, sql: &str) -> std::result::Result<(), Fault> {
        self.keep = false;
        let r = match self.conn.as_mut().expect("lease holds a connection") {
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(&mut **c)
                .await
                .map(|_| ())
                .map_err(DriverError::from),
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => sqlite::script(c, sql, self.deadline, db.limits().lock_timeout)
                .await
                .map_err(DriverError::from),
        }
        .map_err(Fault::Driver);
        self.settle(db, &r);
        r
    }

    fn settle<T>(&mut self, db: &Db, r: &std::result::Result<T, Fault>) {
        self.keep = match r {
            Ok(_) | Err(Fault::Encode(_)) => true,
            Err(Fault::Driver(e)) => !db.is_connection_lost(e),
        };
    }

    /// The plan of `q`, one node per line.
    pub(crate) async fn explain(&mut self, db: &Db, q: &Sql) -> std::result::Result<String, Fault> {
        let e = q.prefixed(q.dialect().explain_prefix());
        let lines: Vec<String> = match q.backend() {
            Backend::Postgres => self
                .fetch_all::<(String,)>(db, &e)
                .await?
                .into_iter()
                .map(|r| r.0)
                .collect(),
            Backend::Sqlite => self
                .fetch_all::<(i64, i64, i64, String)>(db, &e)
                .await?
                .into_iter()
                .map(|r| r.3)
                .collect(),
        };
        Ok(lines.join("\n"))
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        match self.conn.take() {
            #[cfg(feature = "postgres")]
            Some(Conn::Postgres(obj)) => {
                // Its socket may be mid-statement or dead: close it; the server rolls
                // back whatever it was doing.
                drop(Object::take(obj));
            }
            // A SQLite statement never stops half-way (it runs within one poll); the
            // connection only needs to leave its transaction before it is reused.
            #[cfg(feature = "sqlite")]
            Some(Conn::Sqlite(obj)) if !obj.reset() => drop(Object::take(obj)),
            // Rolled back (or never in a transaction): back to the pool.
            #[cfg(feature = "sqlite")]
            Some(Conn::Sqlite(_)) => {}
            None => {}
        }
    }
}

/// An open write transaction on a lease. Dropping it without [`commit`](Self::commit)
/// rolls back (see [`Lease`]).
pub(crate) struct Tx {
    lease: Lease,
    db: Db,
}

impl Tx {
    /// Opens a transaction on `lease` (the engine's [`begin`](dialect::Dialect::begin)).
    pub(crate) async fn begin(
        db: &Db,
        mut lease: Lease,
    ) -> std::result::Result<Tx, (Lease, Fault)> {
        match lease.script(db, db.backend().dialect().begin()).await {
            Ok(()) => Ok(Tx {
                lease: {
                    lease.keep = false;
                    lease
                },
                db: db.clone(),
            }),
            Err(f) => Err((lease, f)),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// The current time of the store's clock.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.db.limits().clock.now()
    }

    /// The PostgreSQL schema of the store (`StoreOptions::schema`), if one is configured.
    pub(crate) fn schema(&self) -> Option<&str> {
        self.db.limits().schema.as_deref()
    }

    /// After each statement: the connection is inside a transaction, so it must not go
    /// back to the pool as it is until [`commit`](Self::commit) or
    /// [`rollback`](Self::rollback).
    fn fail(&mut self, f: Fault) -> Error {
        self.lease.keep = false;
        match f {
            Fault::Encode(e) => e,
            Fault::Driver(e) => {
                if self.db.is_connection_lost(&e) {
                    // A restart or failover closed them all, or the server was demoted:
                    // the next call must open fresh ones (and find the new primary).
                    self.db.drop_idle();
                }
                self.db.classify(e)
            }
        }
    }

    pub(crate) async fn fetch_all<T: Rowable>(&mut self, q: &Sql) -> Result<Vec<T>> {
        let db = self.db.clone();
        let r = self.lease.fetch_all(&db, q).await;
        self.lease.keep = false;
        r.map_err(|f| self.fail(f))
    }

    pub(crate) async fn fetch_optional<T: Rowable>(&mut self, q: &Sql) -> Result<Option<T>> {
        let db = self.db.clone();
        let r = self.lease.fetch_optional(&db, q).await;
        self.lease.keep = false;
        r.map_err(|f| self.fail(f))
    }

    pub(crate) async fn fetch_one<T: Rowable>(&mut self, q: &Sql) -> Result<T> {
        let db = self.db.clone();
        let r = self.lease.fetch_one(&db, q).await;
        self.lease.keep = false;
        r.map_err(|f| self.fail(f))
    }

    /// Runs a statement and returns the number of affected rows.
    pub(crate) async fn execute(&mut self, q: &Sql) -> Result<u64> {
        let db = self.db.clone();
        let r = self.lease.execute(&db, q).await;
        self.lease.keep = false;
        r.map_err(|f| self.fail(f))
    }

    /// Runs a multi-statement script (a migration).
    pub(crate) async fn execute_script(&mut self, sql: &str) -> Result<()> {
        let db = self.db.clone();
        let r = self.lease.script(&db, sql).await;
        self.lease.keep = false;
        r.map_err(|f| self.fail(f))
    }

    /// Commits; the connection goes back to the pool.
    pub(crate) async fn commit(mut self) -> Result<()> {
        let db = self.db.clone();
        self.lease
            .script(&db, "COMMIT")
            .await
            .map_err(|f| self.fail(f))?;
        let Tx { lease, .. } = self;
        lease.keep();
        Ok(())
    }

    /// Rolls back; the connection goes back to the pool if that worked.
    pub(crate) async fn rollback(mut self) {
        let db = self.db.clone();
        if self.lease.script(&db, "ROLLBACK").await.is_ok() {
            let Tx { lease, .. } = self;
            lease.keep();
        }
    }
}
