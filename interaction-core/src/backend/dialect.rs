//! What differs in the SQL the two engines speak. Domain modules ask the [`Dialect`] of
//! a statement ([`Sql::dialect`]) instead of branching on the engine; each engine's
//! answers live in its own file (`postgres.rs`, `sqlite.rs`).

use super::sql::Sql;
use crate::error::Result;

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

    /// A query returning one row when table `name` exists.
    fn table_exists(&self, name: &str) -> Sql;

    /// The statement that opens a write transaction.
    fn begin(&self) -> &'static str;

    /// A statement, run first in the migration transaction, that serialises concurrent
    /// migrators; `None` where `begin` already does.
    fn migration_lock(&self) -> Option<&'static str>;

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
}
