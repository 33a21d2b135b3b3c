//! The thin backend layer: the only module that knows PostgreSQL from SQLite.
//!
//! Domain modules build one [`Sql`] (text with `$n` placeholders plus typed [`Arg`]s) and
//! run it through [`Db`] or [`Tx`]; both backends accept `$n` placeholders, so one query
//! text serves both. The few dialect differences (case-insensitive LIKE, row locks, JSON,
//! full text) are methods on [`Backend`]. Instants are `timestamptz` on PostgreSQL and
//! integer microseconds on SQLite; [`Ts`] and [`Arg::Ts`] hide that.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::sqlite::{SqliteArguments, SqlitePool, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, FromRow, Postgres, Sqlite, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Error, Result};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// PostgreSQL 15+: the production backend.
    Postgres,
    /// Embedded SQLite: the zero-setup default.
    Sqlite,
}

impl Backend {
    /// Case-insensitive LIKE operator. SQLite's LIKE is case-insensitive for ASCII.
    pub(crate) fn ilike(self) -> &'static str {
        match self {
            Backend::Postgres => "ILIKE",
            Backend::Sqlite => "LIKE",
        }
    }

    /// Row lock suffix for read-modify-write inside a transaction. SQLite writers already
    /// hold the database write lock (`BEGIN IMMEDIATE`).
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// Expression reading a JSON column back as text.
    pub(crate) fn json_text(self, column: &str) -> String {
        match self {
            Backend::Postgres => format!("{column}::text"),
            Backend::Sqlite => column.to_string(),
        }
    }
}

/// A bind value. Owned so that a query can be retried and moved into a spawned task.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I32(i32),
    OptI32(Option<i32>),
    I64(i64),
    OptI64(Option<i64>),
    F64(f64),
    Bool(bool),
    Text(String),
    OptText(Option<String>),
    Bytes(Vec<u8>),
    Ts(DateTime<Utc>),
    OptTs(Option<DateTime<Utc>>),
}

macro_rules! arg_from {
    ($($t:ty => $v:ident),* $(,)?) => {
        $(impl From<$t> for Arg {
            fn from(v: $t) -> Self {
                Arg::$v(v)
            }
        })*
    };
}
arg_from!(
    i32 => I32, Option<i32> => OptI32, i64 => I64, Option<i64> => OptI64, f64 => F64, bool => Bool,
    String => Text, Option<String> => OptText, Vec<u8> => Bytes,
    DateTime<Utc> => Ts, Option<DateTime<Utc>> => OptTs,
);

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_string))
    }
}

/// SQL text with `$n` placeholders and its arguments, built once for either backend.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    backend: Backend,
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    /// Starts a query with literal text.
    pub(crate) fn new(backend: Backend, text: &str) -> Self {
        Sql {
            backend,
            text: text.to_string(),
            args: Vec::new(),
        }
    }

    /// A complete query whose placeholders `$1..$n` are numbered by hand.
    pub(crate) fn fixed(backend: Backend, text: &str, args: Vec<Arg>) -> Self {
        Sql {
            backend,
            text: text.to_string(),
            args,
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Appends literal SQL. Never pass user input here: bind it.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder for `arg`.
    pub(crate) fn bind(&mut self, arg: impl Into<Arg>) -> &mut Self {
        self.args.push(arg.into());
        self.text.push('$');
        self.text.push_str(&self.args.len().to_string());
        self
    }

    /// Appends a placeholder for a JSON document given as text.
    pub(crate) fn bind_json(&mut self, json: String) -> &mut Self {
        match self.backend {
            Backend::Postgres => {
                self.push("CAST(");
                self.bind(json);
                self.push(" AS jsonb)")
            }
            Backend::Sqlite => self.bind(json),
        }
    }

    fn pg(&self) -> Result<PgArguments> {
        let mut a = PgArguments::default();
        for arg in &self.args {
            let r = match arg {
                Arg::I32(v) => a.add(*v),
                Arg::OptI32(v) => a.add(*v),
                Arg::I64(v) => a.add(*v),
                Arg::OptI64(v) => a.add(*v),
                Arg::F64(v) => a.add(*v),
                Arg::Bool(v) => a.add(*v),
                Arg::Text(v) => a.add(v.as_str()),
                Arg::OptText(v) => a.add(v.as_deref()),
                Arg::Bytes(v) => a.add(v.as_slice()),
                Arg::Ts(v) => a.add(*v),
                Arg::OptTs(v) => a.add(*v),
            };
            r.map_err(|e| Error::Internal(format!("cannot encode argument: {e}")))?;
        }
        Ok(a)
    }

    fn sqlite(&self) -> Result<SqliteArguments> {
        let mut a = SqliteArguments::default();
        for arg in &self.args {
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
            r.map_err(|e| Error::Internal(format!("cannot encode argument: {e}")))?;
        }
        Ok(a)
    }
}

/// A row type decodable from both backends.
pub(crate) trait Rowable:
    for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin + 'static
{
}
impl<T> Rowable for T where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin + 'static
{
}

/// An instant as stored: `timestamptz` on PostgreSQL, integer microseconds on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ts(pub DateTime<Utc>);

impl sqlx::Type<Postgres> for Ts {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <DateTime<Utc> as sqlx::Type<Postgres>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for Ts {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Ts(<DateTime<Utc> as sqlx::Decode<Postgres>>::decode(
            value,
        )?))
    }
}

impl sqlx::Type<Sqlite> for Ts {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <i64 as sqlx::Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        <i64 as sqlx::Type<Sqlite>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Sqlite> for Ts {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let micros = <i64 as sqlx::Decode<Sqlite>>::decode(value)?;
        DateTime::from_timestamp_micros(micros)
            .map(Ts)
            .ok_or_else(|| format!("instant out of range: {micros}").into())
    }
}

/// The connection pool of a store.
#[derive(Clone, Debug)]
pub(crate) enum Db {
    Postgres(PgPool),
    /// SQLite allows one writer at a time; the in-process gate queues writers in FIFO
    /// order instead of letting them spin in SQLite's busy handler.
    Sqlite(SqlitePool, Arc<Mutex<()>>),
}

/// Runs one statement on either backend. `$exec` is a pool or a connection.
macro_rules! run {
    ($backend_arm:ident, $exec:expr, $q:expr, $method:ident, $T:ty) => {{
        let q: &Sql = $q;
        match $backend_arm {
            Arm::Pg => {
                let args = q.pg()?;
                sqlx::query_as_with::<Postgres, $T, _>(AssertSqlSafe(q.text.clone()), args)
                    .$method($exec.pg())
                    .await
            }
            Arm::Sqlite => {
                let args = q.sqlite()?;
                sqlx::query_as_with::<Sqlite, $T, _>(AssertSqlSafe(q.text.clone()), args)
                    .$method($exec.sqlite())
                    .await
            }
        }
    }};
}

/// Which arm of the `run!` macro applies; keeps the pool/transaction plumbing in one place.
enum Arm {
    Pg,
    Sqlite,
}

impl Db {
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite(..) => Backend::Sqlite,
        }
    }

    fn arm(&self) -> Arm {
        match self {
            Db::Postgres(_) => Arm::Pg,
            Db::Sqlite(..) => Arm::Sqlite,
        }
    }

    fn pg(&self) -> &PgPool {
        match self {
            Db::Postgres(p) => p,
            Db::Sqlite(..) => unreachable!("dispatched by arm()"),
        }
    }

    fn sqlite(&self) -> &SqlitePool {
        match self {
            Db::Sqlite(p, _) => p,
            Db::Postgres(_) => unreachable!("dispatched by arm()"),
        }
    }

    /// All rows. Retried once on a broken connection: reads are idempotent.
    pub(crate) async fn fetch_all<T: Rowable>(&self, q: &Sql) -> Result<Vec<T>> {
        let arm = self.arm();
        match run!(arm, self, q, fetch_all, T) {
            Err(e) if Error::from_broken_connection(&e) => {
                let arm = self.arm();
                Ok(run!(arm, self, q, fetch_all, T)?)
            }
            r => Ok(r?),
        }
    }

    /// At most one row. Retried once on a broken connection.
    pub(crate) async fn fetch_optional<T: Rowable>(&self, q: &Sql) -> Result<Option<T>> {
        let arm = self.arm();
        match run!(arm, self, q, fetch_optional, T) {
            Err(e) if Error::from_broken_connection(&e) => {
                let arm = self.arm();
                Ok(run!(arm, self, q, fetch_optional, T)?)
            }
            r => Ok(r?),
        }
    }

    /// One write statement in autocommit, never retried (a write may have applied).
    pub(crate) async fn write_one<T: Rowable>(&self, q: &Sql) -> Result<T> {
        let arm = self.arm();
        Ok(run!(arm, self, q, fetch_one, T)?)
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin(&self) -> Result<Tx> {
        match self {
            Db::Postgres(p) => Ok(Tx::Postgres(p.begin().await?)),
            Db::Sqlite(p, gate) => {
                let guard = gate.clone().lock_owned().await;
                let tx = p.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx::Sqlite(tx, guard))
            }
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Db::Postgres(p) => p.close().await,
            Db::Sqlite(p, _) => p.close().await,
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Db::Postgres(p) => p.is_closed(),
            Db::Sqlite(p, _) => p.is_closed(),
        }
    }
}

/// An open write transaction. Dropping it rolls back.
pub(crate) enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>, OwnedMutexGuard<()>),
}

impl Tx {
    fn arm(&self) -> Arm {
        match self {
            Tx::Postgres(_) => Arm::Pg,
            Tx::Sqlite(..) => Arm::Sqlite,
        }
    }

    fn pg(&mut self) -> &mut sqlx::PgConnection {
        match self {
            Tx::Postgres(t) => t,
            Tx::Sqlite(..) => unreachable!("dispatched by arm()"),
        }
    }

    fn sqlite(&mut self) -> &mut sqlx::SqliteConnection {
        match self {
            Tx::Sqlite(t, _) => t,
            Tx::Postgres(_) => unreachable!("dispatched by arm()"),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            Tx::Postgres(_) => Backend::Postgres,
            Tx::Sqlite(..) => Backend::Sqlite,
        }
    }

    pub(crate) async fn fetch_all<T: Rowable>(&mut self, q: &Sql) -> Result<Vec<T>> {
        let arm = self.arm();
        Ok(run!(arm, self, q, fetch_all, T)?)
    }

    pub(crate) async fn fetch_optional<T: Rowable>(&mut self, q: &Sql) -> Result<Option<T>> {
        let arm = self.arm();
        Ok(run!(arm, self, q, fetch_optional, T)?)
    }

    pub(crate) async fn fetch_one<T: Rowable>(&mut self, q: &Sql) -> Result<T> {
        let arm = self.arm();
        Ok(run!(arm, self, q, fetch_one, T)?)
    }

    /// Runs a statement and returns the number of affected rows.
    pub(crate) async fn execute(&mut self, q: &Sql) -> Result<u64> {
        match self {
            Tx::Postgres(t) => {
                let args = q.pg()?;
                Ok(
                    sqlx::query_with::<Postgres, _>(AssertSqlSafe(q.text.clone()), args)
                        .execute(&mut **t)
                        .await?
                        .rows_affected(),
                )
            }
            Tx::Sqlite(t, _) => {
                let args = q.sqlite()?;
                Ok(
                    sqlx::query_with::<Sqlite, _>(AssertSqlSafe(q.text.clone()), args)
                        .execute(&mut **t)
                        .await?
                        .rows_affected(),
                )
            }
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Postgres(t) => Ok(t.commit().await?),
            Tx::Sqlite(t, _guard) => Ok(t.commit().await?),
        }
    }
}

impl Tx {
    /// Runs a multi-statement script (a migration) on the transaction's connection.
    pub(crate) async fn execute_script(&mut self, sql: &'static str) -> Result<()> {
        match self {
            Tx::Postgres(t) => {
                sqlx::raw_sql(sql).execute(&mut **t).await?;
            }
            Tx::Sqlite(t, _) => {
                sqlx::raw_sql(sql).execute(&mut **t).await?;
            }
        }
        Ok(())
    }
}

impl Db {
    /// Runs `prefix` + the query (an EXPLAIN) and returns the plan, one node per line.
    pub(crate) async fn explain(&self, prefix: &str, q: &Sql) -> Result<String> {
        let mut e = q.clone();
        e.text = format!("{prefix}{}", q.text);
        let lines: Vec<String> = match self {
            Db::Postgres(_) => self
                .fetch_all::<(String,)>(&e)
                .await?
                .into_iter()
                .map(|r| r.0)
                .collect(),
            Db::Sqlite(..) => self
                .fetch_all::<(i64, i64, i64, String)>(&e)
                .await?
                .into_iter()
                .map(|r| r.3)
                .collect(),
        };
        Ok(lines.join("\n"))
    }
}
