//! Forward-only migrations embedded from `migrations/{postgres,sqlite}/` and the schema
//! version recorded in the `schema_metadata` table (spec §4.1, §4.2).

use std::fmt;
use std::str::FromStr;

use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditRecord};
use crate::backend::{Arg, Backend, Db, Sql, Tx};
use crate::error::{Error, Result};

/// A schema version, `MAJOR.MINOR.PATCH` (spec §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaVersion {
    /// Breaking schema changes.
    pub major: u32,
    /// Backward-compatible additions.
    pub minor: u32,
    /// Non-structural changes.
    pub patch: u32,
}

impl fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for SchemaVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::SchemaVersion {
            found: s.to_string(),
            required: required().to_string(),
        };
        let mut parts = s.trim().split('.').map(|p| p.parse::<u32>());
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(major)), Some(Ok(minor)), Some(Ok(patch)), None) => Ok(SchemaVersion {
                major,
                minor,
                patch,
            }),
            _ => Err(bad()),
        }
    }
}

struct Migration {
    id: i32,
    name: &'static str,
    version: SchemaVersion,
    postgres: &'static str,
    sqlite: &'static str,
}

impl Migration {
    fn sql(&self, backend: Backend) -> &'static str {
        match backend {
            Backend::Postgres => self.postgres,
            Backend::Sqlite => self.sqlite,
        }
    }
}

const MIGRATIONS: &[Migration] = &[Migration {
    id: 1,
    name: "initial",
    version: SchemaVersion {
        major: 1,
        minor: 0,
        patch: 0,
    },
    postgres: include_str!("../../migrations/postgres/0001_initial.sql"),
    sqlite: include_str!("../../migrations/sqlite/0001_initial.sql"),
}];

/// The schema version this library requires: that of its newest migration.
pub fn required() -> SchemaVersion {
    MIGRATIONS.last().expect("at least one migration").version
}

fn checksum(sql: &str) -> Vec<u8> {
    Sha256::digest(sql.as_bytes()).to_vec()
}

/// The recorded version, `None` when the database has no schema yet.
pub(crate) async fn current_version(db: &Db) -> Result<Option<SchemaVersion>> {
    let exists = Sql::new(db.backend(), table_exists_sql(db.backend()));
    if db.fetch_optional::<(i32,)>(&exists).await?.is_none() {
        return Ok(None);
    }
    let q = Sql::new(
        db.backend(),
        "SELECT value FROM schema_metadata WHERE key = 'schema_version'",
    );
    match db.fetch_optional::<(String,)>(&q).await? {
        Some((v,)) => Ok(Some(v.parse()?)),
        None => Ok(None),
    }
}

fn table_exists_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => "SELECT 1 WHERE to_regclass('schema_migrations') IS NOT NULL",
        Backend::Sqlite => {
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        }
    }
}

/// Applies pending migrations in one transaction. PostgreSQL: a transaction-scoped
/// advisory lock serialises concurrent migrators (released by COMMIT/ROLLBACK, so it
/// can never leak on a pooled connection). SQLite: `BEGIN IMMEDIATE` does the same.
pub(crate) async fn run(db: &Db) -> Result<Vec<SchemaVersion>> {
    let backend = db.backend();
    let mut tx = db.begin().await?;
    if backend == Backend::Postgres {
        // Arbitrary constant: "interaction-store migrate".
        let lock = Sql::new(backend, "SELECT pg_advisory_xact_lock(7283054911)");
        tx.execute(&lock).await?;
    }
    let applied: Vec<(i32, Vec<u8>)> = if tx
        .fetch_optional::<(i32,)>(&Sql::new(backend, table_exists_sql(backend)))
        .await?
        .is_some()
    {
        tx.fetch_all(&Sql::new(
            backend,
            "SELECT migration_id, checksum FROM schema_migrations ORDER BY migration_id",
        ))
        .await?
    } else {
        Vec::new()
    };
    for (id, sum) in &applied {
        let Some(m) = MIGRATIONS.iter().find(|m| m.id == *id) else {
            // A newer library migrated this database; the version check decides.
            continue;
        };
        if *sum != checksum(m.sql(backend)) {
            return Err(Error::Internal(format!(
                "migration {id} ({}) was changed after it was applied; migrations are forward-only",
                m.name
            )));
        }
    }
    let mut done = Vec::new();
    for m in MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|(id, _)| *id == m.id))
    {
        apply(&mut tx, m).await?;
        done.push(m.version);
    }
    tx.commit().await?;
    Ok(done)
}

async fn apply(tx: &mut Tx, m: &Migration) -> Result<()> {
    let backend = tx.backend();
    let sql = m.sql(backend);
    tx.execute_script(sql).await?;
    let now = Utc::now();
    tx.execute(&Sql::fixed(
        backend,
        "INSERT INTO schema_migrations (migration_id, name, schema_version, checksum, applied_at) \
         VALUES ($1, $2, $3, $4, $5)",
        vec![
            Arg::I32(m.id),
            m.name.into(),
            m.version.to_string().into(),
            Arg::Bytes(checksum(sql)),
            Arg::Ts(now),
        ],
    ))
    .await?;
    tx.execute(&Sql::fixed(
        backend,
        "INSERT INTO schema_metadata (key, value) VALUES ('schema_version', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        vec![m.version.to_string().into()],
    ))
    .await?;
    audit::record(
        tx,
        AuditRecord {
            actor: None,
            site: None,
            action: "migrate",
            entity: "schema",
            entity_id: Some(i64::from(m.id)),
            changes: serde_json::json!({
                "name": m.name,
                "schema_version": m.version.to_string(),
            }),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let v: SchemaVersion = "1.2.3".parse().unwrap();
        assert_eq!(v.to_string(), "1.2.3");
        assert!(v > "1.2.0".parse().unwrap());
        assert!("1.x.0".parse::<SchemaVersion>().is_err());
        assert!("1.2".parse::<SchemaVersion>().is_err());
    }

    #[test]
    fn migrations_are_ordered_and_versioned() {
        for w in MIGRATIONS.windows(2) {
            assert!(w[0].id < w[1].id && w[0].version < w[1].version);
        }
        for m in MIGRATIONS {
            let header = format!("-- schema-version: {}", m.version);
            assert!(m.postgres.starts_with(&header) && m.sqlite.starts_with(&header));
        }
    }
}
