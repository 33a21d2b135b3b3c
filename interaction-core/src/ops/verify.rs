//! The integrity report (spec §4.1 "row count and checksum validation", §6.2 "backup
//! verification"): what an operator runs after restoring a backup, after a data move, or
//! on a schedule. See [`InteractionStore::verify`].
//!
//! Reads go to the primary (`Fresh::Latest`): the report describes the database the
//! store writes to, and two reports of the same database never differ by a replica's
//! lag. To check a replica or a restored copy, open a store on its URL and compare the
//! two reports. The statements run one after another, not in one snapshot: on a database
//! taking writes, the checksums of different tables (and the pages of one table) may
//! describe slightly different moments. Compare reports of quiescent databases (a backup
//! and its restored copy, a replica with its primary paused) for equality.

use std::collections::BTreeSet;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::backend::dialect::{quote_ident, DigestColumn};
use crate::error::Result;
use crate::exec::{Fresh, Op};
use crate::migrate::{self, SchemaVersion};
use crate::ops::status::Counts;
use crate::store::InteractionStore;

/// The tables of the schema this library requires (at [`migrate::required`]). Other
/// tables found in the database are checksummed too, without being required.
pub const TABLES: &[&str] = &[
    "users",
    "sites",
    "user_site_mapping",
    "interactions",
    "interactions_archive",
    "auth_sessions",
    "access_log",
    "audit_log",
    "idempotency_keys",
    "schema_metadata",
    "schema_migrations",
    "store_secrets",
];

/// Rows read per statement while a table's checksum is computed: a table of any size is
/// read in pages of this many rows, never held in memory at once.
const PAGE_ROWS: i64 = 1000;

/// The result of [`InteractionStore::verify`]. Two reports are equal when the databases
/// hold the same schema, migrations and content: compare the report of a restored backup
/// with the original's. Serializes to JSON (the CLI's `verify --json`).
///
/// # Examples
///
/// ```
/// # use chrono::{Duration, Utc};
/// # use interaction_core::{NewInteraction, Role, StoreOptions};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> interaction_core::Result<()> {
/// # let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
/// # let site = store.create_site("Head office", None).await?;
/// # let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// # store.grant_role(alice.id, site.id, Role::Admin).await?;
/// # let session = store.session_for_user(alice.id, site.id).await?;
/// let report = store.verify().await?;
/// assert!(report.ok(), "{:?}", report.problems);
/// assert_eq!(report.schema_version.as_deref(), Some(report.required_version.to_string().as_str()));
/// assert_eq!(report.counts.users, 1);
/// let json = serde_json::to_string(&report).unwrap(); // the CLI's `verify --json`
/// # let _ = json;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntegrityReport {
    /// The schema version recorded in `schema_metadata`, as written there; `None` when the
    /// database has no schema (never migrated).
    pub schema_version: Option<String>,
    /// The schema version this library requires.
    pub required_version: SchemaVersion,
    /// One entry per migration, this library's and any recorded one it does not know,
    /// by id.
    pub migrations: Vec<MigrationCheck>,
    /// Users, sites and live, soft-deleted and archived interactions.
    pub counts: Counts,
    /// The referential and placement checks, each with the number of rows that fail it.
    pub checks: Vec<Check>,
    /// A content checksum of every table of the schema present in the database (the
    /// library's and any other base table; not the engine's internal tables such as
    /// SQLite's full-text index storage), by name.
    pub tables: Vec<TableChecksum>,
    /// Tables of [`TABLES`] the database lacks (a schema older than required, or damage).
    pub missing_tables: Vec<String>,
    /// Every problem found, one sentence each; empty when the database is sound.
    pub problems: Vec<String>,
}

impl IntegrityReport {
    /// Whether no problem was found: the schema is at a version this library can use,
    /// every migration it requires is recorded with an unchanged checksum, no table is
    /// missing and every check passed.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The checksum of `table`, if it is present.
    pub fn table(&self, table: &str) -> Option<&TableChecksum> {
        self.tables.iter().find(|t| t.table == table)
    }

    /// The check named `name`, if this report has it.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// One migration as the database records it, against this library's copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationCheck {
    /// Its id (`schema_migrations.migration_id`), in order of application.
    pub id: i32,
    /// Its name (this library's, else the recorded one).
    pub name: String,
    /// The schema version it leads to (this library's, else the recorded one).
    pub version: String,
    /// How the record compares with this library's migration.
    pub state: MigrationState,
}

/// How a migration's record compares with the library's migration of the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationState {
    /// Recorded, with the checksum of this library's SQL.
    Applied,
    /// Recorded with another checksum: the migration was changed after it was applied,
    /// or the record was altered. A problem.
    Modified,
    /// Recorded but unknown to this library: applied by a newer one. Not a problem by
    /// itself (the schema version decides whether this library can use the database).
    Unknown,
    /// Not recorded: the database is behind this library. A problem (run `migrate`).
    Pending,
}

/// One named check over the rows of the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier, e.g. `interactions_without_site`.
    pub name: String,
    /// What a failing row is, in words.
    pub description: String,
    /// How many rows fail it (0: sound); `None` when it could not run because a table
    /// it reads is missing (reported in [`IntegrityReport::missing_tables`]).
    pub failing: Option<u64>,
}

/// The content checksum of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableChecksum {
    /// The table's name.
    pub table: String,
    /// Its number of rows.
    pub rows: u64,
    /// SHA-256, in hex, over the table's name, its content columns' names and the
    /// multiset of its rows' values: equal for equal content whatever the rows' physical
    /// order, different when any value of any row changes, a row is added or removed.
    /// Values are encoded independently of session settings (PostgreSQL instants in
    /// UTC), so a dump restored elsewhere checksums the same; generated columns (derived
    /// from the others) are left out. Comparable between databases of the same engine
    /// only (the engines store instants differently).
    pub digest: String,
}

/// A check: name, what fails it, the tables it reads, and the query counting failures.
struct CheckDef {
    name: &'static str,
    description: &'static str,
    tables: &'static [&'static str],
    sql: &'static str,
}

/// Foreign keys the engine enforces, and placement rules the library keeps, checked
/// again: a restore with triggers or foreign keys disabled (`pg_restore
/// --disable-triggers`, a SQLite copy edited with `foreign_keys` off), a hand-made fix,
/// or an interrupted data move can break them.
///
/// Deliberately not checked, because they are not problems:
/// - `access_log` and `audit_log` rows naming a user, site or entity that no longer
///   exists: log rows have no foreign keys on purpose and outlive what they describe
///   (purges, anonymisation keep them);
/// - `idempotency_keys` naming an interaction that exists nowhere: a purge deletes the
///   interaction and the key expires on its own (a retried create then finds nothing).
const CHECKS: &[CheckDef] = &[
    CheckDef {
        name: "interactions_without_site",
        description: "interactions whose site does not exist",
        tables: &["interactions", "sites"],
        sql: "SELECT count(*) FROM interactions t \
              WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.site_id = t.site_id)",
    },
    CheckDef {
        name: "interactions_without_creator",
        description: "interactions whose creator does not exist",
        tables: &["interactions", "users"],
        sql: "SELECT count(*) FROM interactions t \
              WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.created_by)",
    },
    CheckDef {
        name: "interactions_without_updater",
        description: "interactions whose last updater does not exist",
        tables: &["interactions", "users"],
        sql: "SELECT count(*) FROM interactions t WHERE t.updated_by IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.updated_by)",
    },
    CheckDef {
        name: "interactions_without_deleter",
        description: "interactions whose deleter does not exist",
        tables: &["interactions", "users"],
        sql: "SELECT count(*) FROM interactions t WHERE t.deleted_by IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.deleted_by)",
    },
    CheckDef {
        name: "archived_without_site",
        description: "archived interactions whose site does not exist",
        tables: &["interactions_archive", "sites"],
        sql: "SELECT count(*) FROM interactions_archive t \
              WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.site_id = t.site_id)",
    },
    CheckDef {
        name: "archived_without_creator",
        description: "archived interactions whose creator does not exist",
        tables: &["interactions_archive", "users"],
        sql: "SELECT count(*) FROM interactions_archive t \
              WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.created_by)",
    },
    CheckDef {
        name: "archived_without_updater",
        description: "archived interactions whose last updater does not exist",
        tables: &["interactions_archive", "users"],
        sql: "SELECT count(*) FROM interactions_archive t WHERE t.updated_by IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.updated_by)",
    },
    CheckDef {
        name: "archived_without_deleter",
        description: "archived interactions whose deleter does not exist",
        tables: &["interactions_archive", "users"],
        sql: "SELECT count(*) FROM interactions_archive t WHERE t.deleted_by IS NOT NULL \
              AND NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.deleted_by)",
    },
    CheckDef {
        name: "memberships_without_user",
        description: "site memberships whose user does not exist",
        tables: &["user_site_mapping", "users"],
        sql: "SELECT count(*) FROM user_site_mapping t \
              WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.user_id)",
    },
    CheckDef {
        name: "memberships_without_site",
        description: "site memberships whose site does not exist",
        tables: &["user_site_mapping", "sites"],
        sql: "SELECT count(*) FROM user_site_mapping t \
              WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.site_id = t.site_id)",
    },
    CheckDef {
        name: "interactions_live_and_archived",
        description: "interaction ids present both live and in the archive \
                      (an interaction is in exactly one of the two)",
        tables: &["interactions", "interactions_archive"],
        sql: "SELECT count(*) FROM interactions t \
              JOIN interactions_archive a ON a.interaction_id = t.interaction_id",
    },
    CheckDef {
        name: "live_rows_with_archived_at",
        description: "live interactions carrying an archival time (only archived rows have one)",
        tables: &["interactions", "interactions_archive"],
        sql: "SELECT count(*) FROM interactions WHERE archived_at IS NOT NULL",
    },
    CheckDef {
        name: "archived_rows_without_archived_at",
        description: "archived interactions without an archival time",
        tables: &["interactions_archive"],
        sql: "SELECT count(*) FROM interactions_archive WHERE archived_at IS NULL",
    },
    CheckDef {
        name: "auth_sessions_without_user",
        description: "login tokens whose user does not exist",
        tables: &["auth_sessions", "users"],
        sql: "SELECT count(*) FROM auth_sessions t \
              WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = t.user_id)",
    },
];

impl InteractionStore {
    /// Checks the database's integrity and returns an [`IntegrityReport`] (spec §4.1,
    /// §6.2): the recorded schema version against the required one; every migration's
    /// recorded checksum against this library's SQL; the counts of users, sites and live,
    /// deleted and archived interactions; the [checks](Check) (rows whose site, creator,
    /// updater or deleter does not exist, live or archived; memberships and login tokens
    /// without their user or site; an interaction both live and archived; archival times
    /// where they do not belong); and a content checksum of every table.
    ///
    /// Never changes anything. Works on a database at any schema version, even an empty
    /// one: what is missing is reported, not an error (open such a database with
    /// [`StoreOptions::check_schema(false)`](crate::StoreOptions::check_schema)).
    /// Reads the primary, table by table and page by page (not one snapshot: see
    /// the module notes); its cost is a full read of every table.
    ///
    /// Errors: only when the database cannot be read ([`Error::Unavailable`],
    /// [`Error::Timeout`]); problems found are in the report, see
    /// [`IntegrityReport::ok`].
    ///
    /// ```no_run
    /// # async fn run() -> interaction_core::Result<()> {
    /// use interaction_core::StoreOptions;
    ///
    /// let original = StoreOptions::new("sqlite://interactions.db").connect().await?;
    /// let restored = StoreOptions::new("sqlite://restored.db").connect().await?;
    /// let (a, b) = (original.verify().await?, restored.verify().await?);
    /// assert!(a.ok(), "{:?}", a.problems);
    /// assert_eq!(a, b, "the restored copy differs");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`Error::Unavailable`]: crate::Error::Unavailable
    /// [`Error::Timeout`]: crate::Error::Timeout
    pub async fn verify(&self) -> Result<IntegrityReport> {
        let op = Op::new("verify");
        let d = self.backend().dialect();
        let present: BTreeSet<String> = self
            .read_all::<(String,)>(op.clone(), Fresh::Latest, d.list_tables())
            .await?
            .into_iter()
            .map(|(t,)| t)
            .collect();
        let has = |t: &str| present.contains(t);
        let mut problems = Vec::new();

        // Schema version and migrations.
        let required = migrate::required();
        let schema_version = if has("schema_metadata") {
            let q = self.sql("SELECT value FROM schema_metadata WHERE key = 'schema_version'");
            self.read_opt::<(String,)>(op.clone(), Fresh::Latest, q)
                .await?
                .map(|(v,)| v)
        } else {
            None
        };
        match schema_version.as_deref().map(str::parse::<SchemaVersion>) {
            None => problems.push(
                "no schema version is recorded: the database was never migrated \
                 (run `interactions migrate`, or open it with migrate)"
                    .to_string(),
            ),
            Some(Err(_)) => problems.push(format!(
                "the recorded schema version {:?} is not MAJOR.MINOR.PATCH",
                schema_version.as_deref().unwrap_or_default()
            )),
            Some(Ok(v)) if !migrate::compatible(v, required) => problems.push(format!(
                "schema version {v} cannot be used by this library, which requires {required}{}",
                if v < required {
                    " (run `interactions migrate`, or open it with migrate)"
                } else {
                    ""
                }
            )),
            Some(Ok(_)) => {}
        }
        let recorded: Vec<(i32, String, String, Vec<u8>)> = if has("schema_migrations") {
            let q = self.sql(
                "SELECT migration_id, name, schema_version, checksum FROM schema_migrations \
                 ORDER BY migration_id",
            );
            self.read_all(op.clone(), Fresh::Latest, q).await?
        } else {
            Vec::new()
        };
        let mut migrations = Vec::new();
        for (id, name, version, sum) in migrate::embedded(self.backend()) {
            let state = match recorded.iter().find(|r| r.0 == id) {
                Some(r) if r.3 == sum => MigrationState::Applied,
                Some(_) => {
                    problems.push(format!(
                        "migration {id} ({name}) is recorded with another checksum than this \
                         library's: it was changed after it was applied, or its record was"
                    ));
                    MigrationState::Modified
                }
                None => {
                    problems.push(format!(
                        "migration {id} ({name}, schema {version}) is not applied"
                    ));
                    MigrationState::Pending
                }
            };
            migrations.push(MigrationCheck {
                id,
                name: name.to_string(),
                version: version.to_string(),
                state,
            });
        }
        for (id, name, version, _) in &recorded {
            if !migrations.iter().any(|m| m.id == *id) {
                migrations.push(MigrationCheck {
                    id: *id,
                    name: name.clone(),
                    version: version.clone(),
                    state: MigrationState::Unknown,
                });
            }
        }
        migrations.sort_by_key(|m| m.id);
        // The version recorded must be the one the newest applied migration led to.
        if let (Some(v), Some(newest)) = (&schema_version, recorded.iter().max_by_key(|r| r.0)) {
            if *v != newest.2 {
                problems.push(format!(
                    "the recorded schema version {v} is not {} (that of the newest applied \
                     migration, {} {})",
                    newest.2, newest.0, newest.1
                ));
            }
        }

        // Tables.
        let missing_tables: Vec<String> = TABLES
            .iter()
            .filter(|t| !has(t))
            .map(|t| t.to_string())
            .collect();
        for t in &missing_tables {
            problems.push(format!("table {t} is missing"));
        }

        // Counts and checks.
        let counts = self.counts_read(op.clone(), Fresh::Latest).await?;
        let mut checks = Vec::new();
        for c in CHECKS {
            let failing = if c.tables.iter().all(|t| has(t)) {
                let (n,): (i64,) = self
                    .read_opt(op.clone(), Fresh::Latest, self.sql(c.sql))
                    .await?
                    .unwrap_or_default();
                let n = u64::try_from(n).unwrap_or(0);
                if n > 0 {
                    problems.push(format!("{n} {} ({})", c.description, c.name));
                }
                Some(n)
            } else {
                None
            };
            checks.push(Check {
                name: c.name.to_string(),
                description: c.description.to_string(),
                failing,
            });
        }

        // Content checksums.
        let mut tables = Vec::new();
        for t in &present {
            if let Some(sum) = self.table_checksum(&op, t).await? {
                tables.push(sum);
            }
        }

        Ok(IntegrityReport {
            schema_version,
            required_version: required,
            migrations,
            counts,
            checks,
            tables,
            missing_tables,
            problems,
        })
    }

    /// The content checksum of `table`, read in pages of [`PAGE_ROWS`] by its paging key;
    /// `None` if it vanished meanwhile.
    async fn table_checksum(&self, op: &Op, table: &str) -> Result<Option<TableChecksum>> {
        let d = self.backend().dialect();
        let columns: Vec<DigestColumn> = self
            .read_all(op.clone(), Fresh::Latest, d.digest_columns(table))
            .await?;
        if columns.is_empty() {
            return Ok(None);
        }
        // Order-independent: the rows' SHA-256 digests added up modulo 2^256, so the
        // physical order of rows (which a restore or VACUUM changes) does not matter, and
        // a row counted twice does not cancel out as it would with XOR.
        let mut sum = [0u8; 32];
        let mut rows: u64 = 0;
        let mut after: Option<String> = None;
        loop {
            let q = d.digest_page(table, &columns, after.as_deref(), PAGE_ROWS);
            let page: Vec<(String, String)> = self.read_all(op.clone(), Fresh::Latest, q).await?;
            let full = page.len() as i64 == PAGE_ROWS;
            for (_, row) in &page {
                add(&mut sum, &Sha256::digest(row.as_bytes()));
            }
            rows += page.len() as u64;
            match page.into_iter().last() {
                Some((cursor, _)) if full => after = Some(cursor),
                _ => break,
            }
        }
        let mut h = Sha256::new();
        for part in [table.as_bytes(), b"\0"] {
            h.update(part);
        }
        for c in DigestColumn::hashed_of(&columns) {
            h.update(quote_ident(c.name()).as_bytes());
            h.update(b",");
        }
        h.update(b"\0");
        h.update(rows.to_be_bytes());
        h.update(sum);
        Ok(Some(TableChecksum {
            table: table.to_string(),
            rows,
            digest: hex(&h.finalize()),
        }))
    }
}

/// `acc += x` modulo 2^256, both big-endian.
fn add(acc: &mut [u8; 32], x: &[u8]) {
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let s = u16::from(acc[i]) + u16::from(x[i]) + carry;
        acc[i] = s as u8;
        carry = s >> 8;
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addition_wraps_and_carries() {
        let mut acc = [0u8; 32];
        acc[31] = 0xff;
        acc[30] = 0xff;
        let mut one = [0u8; 32];
        one[31] = 1;
        add(&mut acc, &one);
        assert_eq!((acc[29], acc[30], acc[31]), (1, 0, 0));
        let mut max = [0xffu8; 32];
        add(&mut max, &one);
        assert_eq!(max, [0u8; 32], "modulo 2^256");
    }

    #[test]
    fn checks_are_named_once() {
        let names: BTreeSet<_> = CHECKS.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), CHECKS.len());
        for c in CHECKS {
            assert!(c.tables.iter().all(|t| TABLES.contains(t)), "{}", c.name);
        }
    }
}
