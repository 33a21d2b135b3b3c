//! What differs in the SQL the two engines speak. Domain modules ask the [`Dialect`] of
//! a statement ([`Sql::dialect`]) instead of branching on the engine; each engine's
//! answers live in its own file (`postgres.rs`, `sqlite.rs`).

use super::sql::{db_row, Sql};
use crate::error::Result;

db_row! {
    /// A column of a table as the content checksum reads it (`InteractionStore::verify`),
    /// from [`Dialect::digest_columns`]: its name (or the engine's row key, e.g. SQLite's
    /// `rowid`), its type as the catalog names it, its position (from 1) in the key the
    /// rows are paged by (0: not part of it), and whether its values are content (not a
    /// generated column, nor a row key the engine may renumber).
    #[derive(Debug, Clone)]
    pub(crate) struct DigestColumn {
        name: String,
        ty: String,
        key: i32,
        hashed: bool,
    }
}

impl DigestColumn {
    /// The columns of the paging key, in key order.
    pub(crate) fn key_of(columns: &[DigestColumn]) -> Vec<&DigestColumn> {
        let mut key: Vec<&DigestColumn> = columns.iter().filter(|c| c.key > 0).collect();
        key.sort_by_key(|c| c.key);
        key
    }

    /// The content columns, in table order.
    pub(crate) fn hashed_of(columns: &[DigestColumn]) -> impl Iterator<Item = &DigestColumn> {
        columns.iter().filter(|c| c.hashed)
    }

    /// The column's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The column's type as the catalog names it.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn ty(&self) -> &str {
        &self.ty
    }
}

/// `name` as a quoted identifier (both engines quote with `"`).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQL dialect of one engine.
pub(crate) trait Dialect: Send + Sync {
    /// Case-insensitive `LIKE` operator.
    fn ilike(&self) -> &'static str;

    /// Row-lock suffix for a read-modify-write inside a transaction (empty where the
    /// writer already holds the database write lock).
    fn for_update(&self) -> &'static str;

    /// Expression reading a JSON column back as text.
    fn json_text(&self, column: &str) -> String;

    /// Appends a placeholder for a JSON document given as text.
    fn bind_json(&self, q: &mut Sql, json: String);

    /// Whether a data-modifying statement can sit in a CTE, so that a change and its
    /// audit row are one statement.
    fn writes_in_cte(&self) -> bool;

    /// Appends ` AND <interactions row matches the web-search query>`.
    fn text_match(&self, q: &mut Sql, text: &str) -> Result<()>;

    /// Appends `<rank> AS rank FROM …` for relevance order: the ranked source of the
    /// Finder's candidates. Returns whether the text match is already part of that source
    /// (then [`text_match`](Self::text_match) must not be added again).
    /// `source`: the `FROM` item of the interactions searched (aliased `interactions`).
    fn ranked_from(&self, q: &mut Sql, text: &str, source: &str) -> Result<bool>;

    /// Columns beyond the data columns that full-text search reads from an interactions
    /// table (with a leading comma), for sources that union the live and archive tables.
    fn search_columns(&self) -> &'static str;

    /// Row-lock suffix that skips rows another transaction holds (batch jobs that must
    /// not wait for, or block, interactive edits); empty where the writer holds the
    /// database lock.
    fn for_update_skip_locked(&self) -> &'static str;

    /// The prefix that turns a query into its plan.
    fn explain_prefix(&self) -> &'static str;

    /// A query returning one row when table `name` exists in the store's own schema
    /// (PostgreSQL: `current_schema()`, never a table of the same name further along the
    /// `search_path`, such as a host application's `public.schema_migrations`).
    fn table_exists(&self, name: &str) -> Sql;

    /// A query returning the connection's `search_path` as one text column (to check a
    /// role's setting behind pgBouncer); `None` where the engine has no schemas.
    fn search_path(&self) -> Option<Sql>;

    /// The statement that opens a write transaction.
    fn begin(&self) -> &'static str;

    /// A statement, run first in the migration transaction, that serialises concurrent
    /// migrators of one schema (`schema`: the store's configured one, `None` for the
    /// connection's default); `None` where `begin` already does.
    fn migration_lock(&self, schema: Option<&str>) -> Option<Sql>;

    /// A script run in the migration transaction right after the lock, for a store with
    /// a configured `schema`: creates the schema when missing and makes what the
    /// migrations need from elsewhere (extensions) visible to them for this transaction
    /// only. `None` where the engine has no schemas.
    fn prepare_schema(&self, schema: &str) -> Option<String>;

    /// A script run in the migration transaction after migrations were applied, for a
    /// store with a configured `schema`: the reporting role's access to that schema.
    /// `None` where there is nothing to grant.
    fn after_migrations(&self, schema: &str) -> Option<String>;

    /// A statement run inside a transaction that rewrote interaction text to erase
    /// personal data, so that the full-text index keeps no trace of the old words
    /// (SQLite: FTS5 `optimize` merges away the deleted entries); `None` where the
    /// index is rewritten with the row (PostgreSQL's generated `tsvector`).
    fn purge_text_index(&self) -> Option<&'static str>;

    /// Statements run after such a transaction commits, outside any transaction, so
    /// that the database's files no longer hold the old text in free space (SQLite:
    /// `VACUUM`, then a truncating WAL checkpoint). Empty where that is left to the
    /// server's own vacuuming (PostgreSQL; see the README, "Privacy").
    fn compact_after_erasure(&self) -> &'static [&'static str];

    /// A query listing the tables of the schema, one row `(name)` each: every base table
    /// of the database's schema (the library's and any other), never the engine's own
    /// catalog nor the internal tables of a full-text index.
    fn list_tables(&self) -> Sql;

    /// A query describing `table` for its content checksum: one [`DigestColumn`] row per
    /// column, plus the engine's row key when the rows are paged by it. No rows when the
    /// table does not exist.
    fn digest_columns(&self, table: &str) -> Sql;

    /// A page of `table`'s rows for its content checksum: `(cursor, row)` text pairs in
    /// paging-key order, at most `limit`, after the row whose cursor is `after` (the last
    /// of the previous page). `row` encodes the content columns' values of one row
    /// unambiguously (NULL apart from any text) and independently of session settings
    /// (time zone, date style, byte-array output), or is a digest of that encoding.
    fn digest_page(
        &self,
        table: &str,
        columns: &[DigestColumn],
        after: Option<&str>,
        limit: i64,
    ) -> Sql;
}
