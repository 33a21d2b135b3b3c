//! Statements as domain modules build them: text with `$n` placeholders (PostgreSQL's
//! own, and SQLite reads them as named parameters, so one text serves both engines), owned typed arguments, and how the
//! statement wants to be planned.

use chrono::{DateTime, Utc};
#[cfg(feature = "postgres")]
use sqlx::{postgres::PgRow, FromRow, Postgres};

use super::dialect::Dialect;
#[cfg(feature = "sqlite")]
pub(crate) use super::sqlite::LiteRow;
use super::Backend;

/// A bind value. Owned so that a statement can be retried and moved into a spawned task.
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

/// How the server should plan a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Prepared once per connection and cached: point reads and writes, whose best plan
    /// does not depend on the values.
    Cached,
    /// Planned for its actual values every time (PostgreSQL: sent through the simple-query
    /// protocol with literals, `postgres::inline`): Finder statements, whose generic plan
    /// can be ~17x slower (PERFORMANCE.md, "Generic plans").
    Custom,
}

/// SQL text with `$n` placeholders and its arguments, built once for either backend.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub(super) backend: Backend,
    pub(super) text: String,
    pub(super) args: Vec<Arg>,
    pub(super) plan: Plan,
}

impl Sql {
    /// Starts a statement with literal text.
    pub(crate) fn new(backend: Backend, text: &str) -> Self {
        Sql {
            backend,
            text: text.to_string(),
            args: Vec::new(),
            plan: Plan::Cached,
        }
    }

    /// A complete statement whose placeholders `$1..$n` are numbered by hand.
    pub(crate) fn fixed(backend: Backend, text: &str, args: Vec<Arg>) -> Self {
        Sql {
            backend,
            text: text.to_string(),
            args,
            plan: Plan::Cached,
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQL dialect of this statement's engine.
    pub(crate) fn dialect(&self) -> &'static dyn Dialect {
        self.backend.dialect()
    }

    /// Plans this statement for its values on every execution (see [`Plan::Custom`]).
    pub(crate) fn custom_plan(&mut self) -> &mut Self {
        self.plan = Plan::Custom;
        self
    }

    /// A digest of the exact statement (engine, text, argument values): the cache key of
    /// its result.
    pub(crate) fn digest(&self) -> [u8; 16] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.backend.as_str());
        h.update([0]);
        h.update(&self.text);
        h.update([0]);
        h.update(format!("{:?}", self.args));
        let d = h.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }

    /// The same statement behind a prefix (`EXPLAIN `).
    pub(crate) fn prefixed(&self, prefix: &str) -> Sql {
        let mut q = self.clone();
        q.text = format!("{prefix}{}", self.text);
        q
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
        self.dialect().bind_json(self, json);
        self
    }
}

/// A row type decodable from a PostgreSQL row (nothing to decode without that backend).
#[cfg(feature = "postgres")]
pub(crate) trait PgDecode: for<'r> FromRow<'r, PgRow> {}
#[cfg(feature = "postgres")]
impl<T: for<'r> FromRow<'r, PgRow>> PgDecode for T {}
#[cfg(not(feature = "postgres"))]
pub(crate) trait PgDecode {}
#[cfg(not(feature = "postgres"))]
impl<T> PgDecode for T {}

/// A row type decodable from a SQLite row (nothing to decode without that backend).
#[cfg(not(feature = "sqlite"))]
pub(crate) trait LiteRow {}
#[cfg(not(feature = "sqlite"))]
impl<T> LiteRow for T {}

/// A row type decodable from every backend of this build.
pub(crate) trait Rowable: PgDecode + LiteRow + Send + Unpin + 'static {}
impl<T> Rowable for T where T: PgDecode + LiteRow + Send + Unpin + 'static {}

/// Declares a row struct decodable from both backends, by column name (the field's, or
/// the one given by `#[sqlx(rename = "..")]`).
macro_rules! db_row {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[sqlx(rename = $col:literal)])? $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[cfg_attr(feature = "postgres", derive(sqlx::FromRow))]
        $vis struct $name {
            $( $(#[cfg_attr(feature = "postgres", sqlx(rename = $col))])? $field : $ty ),*
        }

        #[cfg(feature = "sqlite")]
        impl $crate::backend::LiteRow for $name {
            fn from_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok($name {
                    $( $field: row.get($crate::backend::db_row!(@col $field $(, $col)?))? ),*
                })
            }
        }
    };
    (@col $field:ident) => { stringify!($field) };
    (@col $field:ident, $col:literal) => { $col };
}
pub(crate) use db_row;

/// An instant as stored: `timestamptz` on PostgreSQL, integer microseconds on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ts(pub DateTime<Utc>);

#[cfg(feature = "postgres")]
impl sqlx::Type<Postgres> for Ts {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <DateTime<Utc> as sqlx::Type<Postgres>>::type_info()
    }
}

#[cfg(feature = "postgres")]
impl<'r> sqlx::Decode<'r, Postgres> for Ts {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Ts(<DateTime<Utc> as sqlx::Decode<Postgres>>::decode(
            value,
        )?))
    }
}
