//! SQLite: its dialect, how its connections are opened and recycled, and what its result
//! codes mean.

use std::str::FromStr;

use deadpool::managed::{Manager, Metrics, RecycleResult};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous,
};
use sqlx::{Arguments, Connection};

use super::dialect::Dialect;
use super::sql::{Arg, Sql};
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

    fn ranked_from(&self, q: &mut Sql, text: &str) -> Result<bool> {
        // One FTS cursor ranks every match once and is joined to the rows; a per-row bm25
        // subquery re-reads the term's doclist per candidate (20 s at 100k rows). bm25 is
        // lower-is-better; weights title 10, description 4, notes 1.
        q.push(
            "m.rank AS rank FROM (SELECT rowid AS id, \
             -bm25(interactions_fts, 10.0, 4.0, 1.0) AS rank FROM interactions_fts \
             WHERE interactions_fts MATCH ",
        )
        .bind(parse_websearch(text)?)
        .push(") m JOIN interactions ON interactions.interaction_id = m.id");
        Ok(true)
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

    fn migration_lock(&self) -> Option<&'static str> {
        None
    }
}

/// Encodes a statement's arguments. Instants are integer microseconds.
pub(crate) fn args(q: &Sql) -> Result<SqliteArguments> {
    let mut a = SqliteArguments::default();
    for arg in &q.args {
        let r = match arg {
            Arg::I32(v) => a.add(*v),
            Arg::OptI32(v) => a.add(*v),
            Arg::I64(v) => a.add(*v),
            Arg::OptI64(v) => a.add(*v),
            Arg::F64(v) => a.add(*v),
            Arg::Bool(v) => a.add(*v),
            Arg::Text(v) => a.add(v.clone()),
            Arg::OptText(v) => a.add(v.clone()),
            Arg::Bytes(v) => a.add(v.clone()),
            Arg::Ts(v) => a.add(v.timestamp_micros()),
            Arg::OptTs(v) => a.add(v.map(|t| t.timestamp_micros())),
        };
        r.map_err(|e| Error::Internal {
            message: "cannot encode an argument".into(),
            source: Some(e),
        })?;
    }
    Ok(a)
}

/// Whether `url` names an in-memory database (one connection holds all of it).
pub(crate) fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Parses `url`. A lock wait (`busy_timeout`) is bounded by `lock_timeout`, as on
/// PostgreSQL.
pub(crate) fn connect_options(
    url: &str,
    limits: &Limits,
) -> Result<(SqliteConnectOptions, Target)> {
    let memory = is_memory(url);
    let opts = SqliteConnectOptions::from_str(url)
        .map_err(|e| Error::Validation {
            field: "url".into(),
            message: e.to_string(),
        })?
        .create_if_missing(true)
        .foreign_keys(true)
        .journal_mode(if memory {
            SqliteJournalMode::Memory
        } else {
            SqliteJournalMode::Wal
        })
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(limits.lock_timeout);
    let target = Target {
        place: opts.get_filename().display().to_string(),
        database: String::new(),
        user: String::new(),
    };
    Ok((opts, target))
}

/// Opens and recycles SQLite connections for the pool.
pub(crate) struct SqliteManager {
    pub(crate) opts: SqliteConnectOptions,
    pub(crate) limits: Limits,
    pub(crate) memory: bool,
}

impl Manager for SqliteManager {
    type Type = SqliteConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> std::result::Result<SqliteConnection, sqlx::Error> {
        let deadline = tokio::time::Instant::now() + self.limits.connect_timeout;
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            match SqliteConnection::connect_with(&self.opts).await {
                // Switching a new file to WAL needs an exclusive lock that SQLite's busy
                // handler does not wait for: several processes opening a new file at
                // once see SQLITE_BUSY. It clears in milliseconds: retry.
                Err(e) if is_busy(&e) && tokio::time::Instant::now() + pause < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_millis(200));
                }
                r => return r,
            }
        }
    }

    async fn recycle(
        &self,
        _conn: &mut SqliteConnection,
        m: &Metrics,
    ) -> RecycleResult<sqlx::Error> {
        if self.memory {
            // The one connection is the database: never replace it.
            return Ok(());
        }
        recycle(&self.limits, m)
    }
}

fn primary_code(e: &sqlx::Error) -> Option<i64> {
    match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .map(|c| c & 0xff),
        _ => None,
    }
}

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6), with any extended code.
pub(crate) fn is_busy(e: &sqlx::Error) -> bool {
    matches!(primary_code(e), Some(5 | 6))
}

/// Classifies a database error by result code.
pub(crate) fn classify_database(
    e: &sqlx::Error,
    limits: &Limits,
    target: &Target,
) -> Option<(crate::ErrorKind, String)> {
    use crate::ErrorKind as K;
    let code = primary_code(e)?;
    let message = match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        _ => String::new(),
    };
    Some(match code {
        5 | 6 => (
            K::Timeout,
            format!(
                "{} stayed locked by another writer for longer than lock_timeout ({} ms)",
                target.place,
                limits.lock_timeout.as_millis()
            ),
        ),
        8 | 14 | 23 | 26 => (
            K::Configuration,
            format!("cannot use {} as a database: {message}", target.place),
        ),
        10 | 13 => (
            K::Unavailable,
            format!("{} cannot be written: {message}", target.place),
        ),
        _ => return None,
    })
}
