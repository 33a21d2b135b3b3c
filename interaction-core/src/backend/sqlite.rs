//! SQLite: its dialect, how its connections are opened and recycled, how a statement
//! runs, and what its result codes mean.
//!
//! Statements run through rusqlite on the thread that polls the call: no worker thread,
//! no row shipped across threads, prepared statements cached per connection. What keeps
//! that safe inside an async runtime:
//! - a statement cannot outlive its call: a progress handler interrupts it at the
//!   call's deadline (`SQLITE_INTERRUPT`, reported as a timeout);
//! - nothing waits for a lock inside SQLite (`busy_timeout` 0): a statement that finds
//!   the database locked by another process is retried after an async sleep, until
//!   `lock_timeout` or the deadline, so a runtime thread is never parked on a lock;
//! - Finder statements (the only ones that may scan) run under `block_in_place` on a
//!   multi-threaded runtime, so other tasks move to another thread meanwhile.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use deadpool::managed::{Manager, Metrics, RecycleResult};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, ToSql};
use tokio::time::Instant;

use super::dialect::{quote_ident, Dialect, DigestColumn};
use super::sql::{Arg, Plan, Sql, Ts};
use super::{recycle, Limits, Target};
use crate::error::{Error, Result};
use crate::finder::parse_websearch;

pub(crate) struct Sqlite;

impl Dialect for Sqlite {
    fn ilike(&self) -> &'static str {
        // SQLite's LIKE is case-insensitive (for ASCII).
        "LIKE"
    }

    fn for_update(&self) -> &'static str {
        // Writers hold the database write lock (`BEGIN IMMEDIATE`).
        ""
    }

    fn json_text(&self, column: &str) -> String {
        column.to_string()
    }

    fn bind_json(&self, q: &mut Sql, json: String) {
        q.bind(json);
    }

    fn writes_in_cte(&self) -> bool {
        false
    }

    fn text_match(&self, q: &mut Sql, text: &str) -> Result<()> {
        q.push(
            " AND interactions.interaction_id IN (SELECT rowid FROM interactions_fts \
             WHERE interactions_fts MATCH ",
        )
        .bind(parse_websearch(text)?)
        .push(")");
        Ok(())
    }

    fn ranked_from(&self, q: &mut Sql, text: &str, source: &str) -> Result<bool> {
        // One FTS cursor ranks every match once and is joined to the rows; a per-row bm25
        // subquery re-reads the term's doclist per candidate (20 s at 100k rows). bm25 is
        // lower-is-better; weights title 10, description 4, notes 1.
        q.push(
            "m.rank AS rank FROM (SELECT rowid AS id, \
             -bm25(interactions_fts, 10.0, 4.0, 1.0) AS rank FROM interactions_fts \
             WHERE interactions_fts MATCH ",
        )
        .bind(parse_websearch(text)?)
        .push(") m JOIN ")
        .push(source)
        .push(" ON interactions.interaction_id = m.id");
        Ok(true)
    }

    fn search_columns(&self) -> &'static str {
        ""
    }

    fn for_update_skip_locked(&self) -> &'static str {
        ""
    }

    fn explain_prefix(&self) -> &'static str {
        "EXPLAIN QUERY PLAN "
    }

    fn table_exists(&self, name: &str) -> Sql {
        let mut q = Sql::new(
            super::Backend::Sqlite,
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ",
        );
        q.bind(name);
        q
    }

    fn begin(&self) -> &'static str {
        // Take the write lock up front: a deferred transaction that later upgrades can
        // fail with SQLITE_BUSY without waiting.
        "BEGIN IMMEDIATE"
    }

    fn search_path(&self) -> Option<Sql> {
        None
    }

    fn migration_lock(&self, _schema: Option<&str>) -> Option<Sql> {
        None
    }

    fn prepare_schema(&self, _schema: &str) -> Option<String> {
        None
    }

    fn after_migrations(&self, _schema: &str) -> Option<String> {
        None
    }

    fn purge_text_index(&self) -> Option<&'static str> {
        Some("INSERT INTO interactions_fts (interactions_fts) VALUES ('optimize')")
    }

    fn compact_after_erasure(&self) -> &'static [&'static str] {
        &["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
    }

    fn list_tables(&self) -> Sql {
        // `type = 'table'` leaves out views, the FTS5 table (`virtual`) and its internal
        // tables (`shadow`); `sqlite_%` are SQLite's own (`sqlite_stat1`, …).
        Sql::new(
            super::Backend::Sqlite,
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )
    }

    fn digest_columns(&self, table: &str) -> Sql {
        // A rowid table is paged by its rowid, which is not content: VACUUM may renumber
        // the rowids of a table without an INTEGER PRIMARY KEY (such a key is the rowid,
        // and is hashed as its own column). A WITHOUT ROWID table is paged by its primary
        // key. Generated columns (`hidden` 2, 3) are derived, not content.
        let mut q = Sql::new(
            super::Backend::Sqlite,
            "SELECT x.name AS name, x.type AS ty, CASE WHEN l.wr THEN x.pk ELSE 0 END AS key, \
             x.hidden = 0 AS hashed, x.cid AS pos \
             FROM pragma_table_list(",
        );
        q.bind(table).push(
            ") l, pragma_table_xinfo($1) x WHERE l.schema = 'main' \
             UNION ALL SELECT 'rowid', 'INTEGER', 1, 0, -1 FROM pragma_table_list($1) l \
             WHERE l.schema = 'main' AND NOT l.wr ORDER BY pos",
        );
        q
    }

    fn digest_page(
        &self,
        table: &str,
        columns: &[DigestColumn],
        after: Option<&str>,
        limit: i64,
    ) -> Sql {
        // `quote()` writes each value as an SQL literal: NULL apart from 'NULL', text
        // quoted, blobs as X'..', instants are integers already. Rows stay in process:
        // the text itself is returned.
        let key: Vec<String> = DigestColumn::key_of(columns)
            .iter()
            .map(|c| quote_ident(c.name()))
            .collect();
        let key_list = key.join(", ");
        let mut row: Vec<String> = DigestColumn::hashed_of(columns)
            .map(|c| format!("quote({})", quote_ident(c.name())))
            .collect();
        if row.is_empty() {
            row.push("''".to_string());
        }
        let mut q = Sql::new(
            super::Backend::Sqlite,
            &format!(
                "SELECT json_array({key_list}), {} FROM {}",
                row.join(" || ',' || "),
                quote_ident(table)
            ),
        );
        if let Some(after) = after {
            q.push(&format!(" WHERE ({key_list}) > ("));
            for i in 0..key.len() {
                if i > 0 {
                    q.push(", ");
                }
                q.push("json_extract(");
                // One argument, the cursor's JSON array: `$1`, the statement's first.
                if i == 0 {
                    q.bind(after);
                } else {
                    q.push("$1");
                }
                q.push(&format!(", '$[{i}]')"));
            }
            q.push(")");
        }
        q.push(&format!(" ORDER BY {key_list} LIMIT ")).bind(limit);
        q
    }
}

impl ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        // Instants are integer microseconds.
        match self {
            Arg::I32(v) => v.to_sql(),
            Arg::OptI32(v) => v.to_sql(),
            Arg::I64(v) => v.to_sql(),
            Arg::OptI64(v) => v.to_sql(),
            Arg::F64(v) => v.to_sql(),
            Arg::Bool(v) => v.to_sql(),
            Arg::Text(v) => v.to_sql(),
            Arg::OptText(v) => v.to_sql(),
            Arg::Bytes(v) => v.to_sql(),
            Arg::Ts(v) => Ok(ToSqlOutput::from(v.timestamp_micros())),
            Arg::OptTs(v) => Ok(match v {
                Some(t) => ToSqlOutput::from(t.timestamp_micros()),
                None => ToSqlOutput::from(rusqlite::types::Null),
            }),
        }
    }
}

impl FromSql for Ts {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let micros = i64::column_result(value)?;
        chrono::DateTime::from_timestamp_micros(micros)
            .map(Ts)
            .ok_or(FromSqlError::OutOfRange(micros))
    }
}

/// A row type decodable from a SQLite row (by column name, as on PostgreSQL).
pub(crate) trait LiteRow: Sized {
    fn from_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

macro_rules! lite_tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: FromSql),+> LiteRow for ($($t,)+) {
            fn from_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(($(row.get::<_, $t>($i)?,)+))
            }
        }
    };
}
lite_tuple!(A 0);
lite_tuple!(A 0, B 1);
lite_tuple!(A 0, B 1, C 2);
lite_tuple!(A 0, B 1, C 2, D 3);
lite_tuple!(A 0, B 1, C 2, D 3, E 4);

/// How to open a SQLite database, parsed from its URL.
#[derive(Debug, Clone)]
pub(crate) struct LiteOptions {
    path: String,
    flags: OpenFlags,
    memory: bool,
}

impl LiteOptions {
    /// Whether the database lives in memory (in its one connection).
    pub(crate) fn memory(&self) -> bool {
        self.memory
    }
}

/// Parses `sqlite://path`, `sqlite:path` or `sqlite::memory:`, with an optional
/// `?mode=ro|rw|rwc|memory`.
pub(crate) fn connect_options(url: &str) -> Result<(LiteOptions, Target)> {
    let bad = |m: &str| Error::validation("url", m.to_string());
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| bad("a SQLite URL starts with sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.contains('\0') {
        return Err(bad("the path contains a NUL character"));
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut memory = path == ":memory:";
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("mode", "rwc")) => {}
            Some(("mode", "rw")) => flags.remove(OpenFlags::SQLITE_OPEN_CREATE),
            Some(("mode", "ro")) => {
                flags.remove(OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_READ_WRITE);
                flags.insert(OpenFlags::SQLITE_OPEN_READ_ONLY);
            }
            Some(("mode", "memory")) => memory = true,
            _ => {
                return Err(bad(&format!(
                    "unknown option {pair:?} (known: mode=ro, rw, rwc or memory)"
                )))
            }
        }
    }
    if path.is_empty() && !memory {
        return Err(bad(
            "the URL names no file (sqlite://path or sqlite::memory:)",
        ));
    }
    let target = Target {
        place: if memory {
            ":memory:".to_string()
        } else {
            path.to_string()
        },
        database: String::new(),
        user: String::new(),
    };
    Ok((
        LiteOptions {
            path: path.to_string(),
            flags,
            memory,
        },
        target,
    ))
}

/// A database file that an open is about to create: what a refused open removes again,
/// so that opening `sqlite://new.db` without `migrate` leaves nothing behind.
#[derive(Debug)]
pub(crate) struct NewFile {
    path: std::path::PathBuf,
    /// The companion files (`-wal`, `-shm`, `-journal`) absent before the open: only
    /// those are removed.
    companions: Vec<std::path::PathBuf>,
}

impl NewFile {
    /// `Some` when `url` names a SQLite file that does not exist and may be created
    /// (not in memory, not `mode=rw`/`ro`).
    pub(crate) fn before_open(url: &str) -> Option<NewFile> {
        let (o, _) = connect_options(url).ok()?;
        if o.memory || !o.flags.contains(OpenFlags::SQLITE_OPEN_CREATE) {
            return None;
        }
        let path = std::path::PathBuf::from(&o.path);
        if path.exists() {
            return None;
        }
        let companions = ["-wal", "-shm", "-journal"]
            .iter()
            .map(|suffix| {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                std::path::PathBuf::from(p)
            })
            .filter(|p| !p.exists())
            .collect();
        Some(NewFile { path, companions })
    }

    /// Removes the file (and the companions it got) if it still holds no schema object:
    /// another process that created and filled the same file meanwhile keeps it. Call
    /// once every connection of the failed open is closed.
    pub(crate) fn remove_if_empty(&self) {
        let empty = match Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        {
            Ok(c) => c
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                    r.get::<_, i64>(0)
                })
                .is_ok_and(|n| n == 0),
            // Not there (never created) or not a database we can read: leave it.
            Err(_) => false,
        };
        if !empty {
            return;
        }
        for p in std::iter::once(&self.path).chain(&self.companions) {
            match std::fs::remove_file(p) {
                Ok(()) => {
                    tracing::debug!(file = %p.display(), "removed the file of a refused open")
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(
                    file = %p.display(),
                    error = %e,
                    "could not remove the file of a refused open"
                ),
            }
        }
    }
}

/// Monotonic nanoseconds since the first use, for deadlines shared with the progress
/// handler through an atomic.
fn now_ns() -> u64 {
    static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
    EPOCH
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_nanos() as u64
}

fn to_ns(deadline: Instant) -> u64 {
    let left = deadline.saturating_duration_since(Instant::now());
    now_ns().saturating_add(left.as_nanos() as u64)
}

/// A SQLite connection and the deadline its progress handler enforces.
pub(crate) struct LiteConn {
    conn: Connection,
    deadline_ns: Arc<AtomicU64>,
}

/// VM instructions between two deadline checks (a check is one clock read).
const PROGRESS_OPS: i32 = 1000;

/// Prepared statements cached per connection (every distinct statement text).
const STATEMENT_CACHE: usize = 128;

impl LiteConn {
    fn open(o: &LiteOptions) -> rusqlite::Result<LiteConn> {
        let conn = if o.memory {
            Connection::open_in_memory()?
        } else {
            Connection::open_with_flags(&o.path, o.flags)?
        };
        conn.busy_timeout(Duration::ZERO)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let journal = if o.memory { "MEMORY" } else { "WAL" };
        if !o.flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY) {
            conn.query_row(&format!("PRAGMA journal_mode = {journal}"), [], |_| Ok(()))?;
        }
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
        let deadline_ns = Arc::new(AtomicU64::new(u64::MAX));
        let d = deadline_ns.clone();
        conn.progress_handler(
            PROGRESS_OPS,
            Some(move || now_ns() >= d.load(Ordering::Relaxed)),
        )?;
        Ok(LiteConn { conn, deadline_ns })
    }

    /// Runs `f` with the progress handler armed for `deadline`.
    fn within<R>(&mut self, deadline: Instant, f: impl FnOnce(&Connection) -> R) -> R {
        self.deadline_ns.store(to_ns(deadline), Ordering::Relaxed);
        let r = f(&self.conn);
        self.deadline_ns.store(u64::MAX, Ordering::Relaxed);
        r
    }

    /// Whether a transaction is open on this connection.
    pub(crate) fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// Leaves any open transaction; false if the connection is unusable.
    pub(crate) fn reset(&self) -> bool {
        self.conn.is_autocommit() || self.conn.execute_batch("ROLLBACK").is_ok()
    }
}

/// Binds `q`'s arguments to its `$n` placeholders (SQLite numbers named parameters in
/// order of appearance, so each is looked up by name).
fn bind(stmt: &mut rusqlite::Statement<'_>, q: &Sql) -> rusqlite::Result<()> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| (1..=q.args.len()).contains(n))
            .ok_or(rusqlite::Error::InvalidParameterCount(i, q.args.len()))?;
        stmt.raw_bind_parameter(i, &q.args[n - 1])?;
    }
    Ok(())
}

fn rows<T: LiteRow>(conn: &Connection, q: &Sql) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(&q.text)?;
    bind(&mut stmt, q)?;
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(T::from_lite(row)?);
    }
    Ok(out)
}

fn changes(conn: &Connection, q: &Sql) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare_cached(&q.text)?;
    bind(&mut stmt, q)?;
    let mut rows = stmt.raw_query();
    while rows.next()?.is_some() {}
    drop(rows);
    Ok(conn.changes())
}

/// Runs one attempt of `f`; a scan runs under `block_in_place` on a multi-threaded
/// runtime so that the runtime's other tasks are not held up.
fn attempt<R>(
    c: &mut LiteConn,
    deadline: Instant,
    plan: Plan,
    f: impl FnOnce(&Connection) -> R,
) -> R {
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if plan == Plan::Custom && multi {
        tokio::task::block_in_place(|| c.within(deadline, f))
    } else {
        c.within(deadline, f)
    }
}

/// Runs `f` until it does not find the database locked, waiting between attempts
/// (asynchronously) until `lock_timeout` or the deadline.
async fn retry_busy<R>(
    c: &mut LiteConn,
    deadline: Instant,
    lock_timeout: Duration,
    plan: Plan,
    f: impl Fn(&Connection) -> rusqlite::Result<R>,
) -> rusqlite::Result<R> {
    let give_up = deadline.min(Instant::now() + lock_timeout);
    let mut pause = Duration::from_millis(1);
    loop {
        let in_tx = c.in_transaction();
        match attempt(c, deadline, plan, &f) {
            // Retried only if it cannot have half-run: a single statement (SQLite undoes
            // it whole) or a script that left the connection as it found it.
            Err(e) if is_busy(&e) && in_tx == c.in_transaction() => {
                if Instant::now() + pause >= give_up {
                    return Err(e);
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(25));
            }
            r => return r,
        }
    }
}

/// All rows of `q`.
pub(crate) async fn fetch<T: LiteRow>(
    c: &mut LiteConn,
    q: &Sql,
    deadline: Instant,
    lock_timeout: Duration,
) -> rusqlite::Result<Vec<T>> {
    retry_busy(c, deadline, lock_timeout, q.plan, |conn| rows::<T>(conn, q)).await
}

/// Runs `q`; the number of rows it changed.
pub(crate) async fn execute(
    c: &mut LiteConn,
    q: &Sql,
    deadline: Instant,
    lock_timeout: Duration,
) -> rusqlite::Result<u64> {
    retry_busy(c, deadline, lock_timeout, q.plan, |conn| changes(conn, q)).await
}

/// Runs a script without arguments (transaction control, migrations).
pub(crate) async fn script(
    c: &mut LiteConn,
    sql: &str,
    deadline: Instant,
    lock_timeout: Duration,
) -> rusqlite::Result<()> {
    retry_busy(c, deadline, lock_timeout, Plan::Cached, |conn| {
        conn.execute_batch(sql)
    })
    .await
}

/// Opens and recycles SQLite connections for the pool.
pub(crate) struct SqliteManager {
    pub(crate) opts: LiteOptions,
    pub(crate) limits: Limits,
}

impl Manager for SqliteManager {
    type Type = LiteConn;
    type Error = rusqlite::Error;

    async fn create(&self) -> std::result::Result<LiteConn, rusqlite::Error> {
        let deadline = Instant::now() + self.limits.connect_timeout;
        let mut pause = Duration::from_millis(5);
        loop {
            match LiteConn::open(&self.opts) {
                // Switching a new file to WAL needs an exclusive lock: several processes
                // opening a new file at once see SQLITE_BUSY. It clears in milliseconds.
                Err(e) if is_busy(&e) && Instant::now() + pause < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
                r => return r,
            }
        }
    }

    async fn recycle(&self, _conn: &mut LiteConn, m: &Metrics) -> RecycleResult<rusqlite::Error> {
        if self.opts.memory {
            // The one connection is the database: never replace it.
            return Ok(());
        }
        recycle(&self.limits, m)
    }
}

fn code(e: &rusqlite::Error) -> Option<(ErrorCode, i32)> {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => Some((f.code, f.extended_code)),
        _ => None,
    }
}

/// SQLITE_BUSY or SQLITE_LOCKED, with any extended code.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        code(e),
        Some((ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked, _))
    )
}

/// Classifies an error by result code (and rusqlite's own error types): a kind and
/// message, or at once the error for a constraint violation.
pub(crate) fn classify(
    e: &rusqlite::Error,
    limits: &Limits,
    target: &Target,
) -> std::result::Result<(crate::ErrorKind, String), Error> {
    use crate::ErrorKind as K;
    use rusqlite::ffi;
    let message = match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    };
    let Some((code, extended)) = code(e) else {
        return Ok((K::Internal, format!("unexpected database error: {message}")));
    };
    Ok(match code {
        ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => (
            K::Timeout,
            format!(
                "{} stayed locked by another writer for longer than lock_timeout ({} ms)",
                target.place,
                limits.lock_timeout.as_millis()
            ),
        ),
        ErrorCode::OperationInterrupted => (
            K::Timeout,
            format!(
                "the call reached its deadline (call_timeout {} ms) while running a query",
                limits.call_timeout.as_millis()
            ),
        ),
        ErrorCode::ConstraintViolation => {
            return Err(match extended {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    Error::Conflict(format!(
                        "a record with the same unique value exists ({message})"
                    ))
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Error::validation(
                    "reference",
                    format!("unknown referenced record ({message})"),
                ),
                _ => Error::validation("record", message),
            })
        }
        ErrorCode::ReadOnly
        | ErrorCode::CannotOpen
        | ErrorCode::NotADatabase
        | ErrorCode::AuthorizationForStatementDenied => (
            K::Configuration,
            format!("cannot use {} as a database: {message}", target.place),
        ),
        ErrorCode::SystemIoFailure | ErrorCode::DiskFull => (
            K::Unavailable,
            format!("{} cannot be written: {message}", target.place),
        ),
        _ => (K::Internal, format!("unexpected database error: {message}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> LiteConn {
        let (o, _) = connect_options("sqlite::memory:").unwrap();
        LiteConn::open(&o).unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_statement_stops_at_its_deadline() {
        let mut c = memory();
        let mut q = Sql::new(
            super::super::Backend::Sqlite,
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) \
             SELECT count(*) FROM n",
        );
        q.custom_plan();
        let started = Instant::now();
        let deadline = started + Duration::from_millis(100);
        let e = fetch::<(i64,)>(&mut c, &q, deadline, Duration::from_secs(10))
            .await
            .unwrap_err();
        assert_eq!(code(&e).map(|c| c.0), Some(ErrorCode::OperationInterrupted));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // The connection is usable afterwards, with no deadline left armed.
        let one = Sql::new(super::super::Backend::Sqlite, "SELECT 1");
        let far = Instant::now() + Duration::from_secs(10);
        let rows = fetch::<(i64,)>(&mut c, &one, far, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(rows, vec![(1,)]);
    }

    #[tokio::test]
    async fn placeholders_bind_by_number_in_any_order() {
        let mut c = memory();
        let q = Sql::fixed(
            super::super::Backend::Sqlite,
            "SELECT $2, $1, $2",
            vec![Arg::I64(1), Arg::Text("two".into())],
        );
        let far = Instant::now() + Duration::from_secs(10);
        let rows = fetch::<(String, i64, String)>(&mut c, &q, far, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(rows, vec![("two".to_string(), 1, "two".to_string())]);
    }

    #[test]
    fn urls_parse_or_say_why_not() {
        assert!(connect_options("sqlite::memory:").unwrap().0.memory());
        assert!(connect_options("sqlite://a.db?mode=memory")
            .unwrap()
            .0
            .memory());
        let (o, t) = connect_options("sqlite:///tmp/x.db?mode=ro").unwrap();
        assert_eq!(t.place, "/tmp/x.db");
        assert!(o.flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY));
        for bad in ["sqlite://", "sqlite://a.db?cache=shared", "sqlite://a\0.db"] {
            let e = connect_options(bad).unwrap_err();
            assert_eq!(e.field(), Some("url"), "{bad}");
        }
    }
}
