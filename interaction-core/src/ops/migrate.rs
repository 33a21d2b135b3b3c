//! Forward-only migrations embedded from the crate's `migrations/{postgres,sqlite}/` and the schema
//! version recorded in the `schema_metadata` table (spec §4.1, §4.2).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::audit::{self, AuditRecord};
use crate::backend::{Arg, Backend, Sql, Tx};
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::store::InteractionStore;

/// A schema version, `MAJOR.MINOR.PATCH` (spec §4.2). Displayed, parsed and serialized
/// (serde) as that string, e.g. `"1.3.0"`; versions order numerically.
///
/// # Examples
///
/// ```
/// use interaction_core::SchemaVersion;
///
/// let v: SchemaVersion = "1.3.0".parse()?;
/// assert_eq!((v.major, v.minor, v.patch), (1, 3, 0));
/// assert!(v < "1.10.0".parse()?);
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#""1.3.0""#);
/// assert_eq!(serde_json::from_str::<SchemaVersion>(r#""1.3.0""#).unwrap(), v);
/// assert_eq!("1.3".parse::<SchemaVersion>().unwrap_err().field(), Some("version"));
/// # Ok::<(), interaction_core::Error>(())
/// ```
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
    /// Parses `MAJOR.MINOR.PATCH`; anything else is a [`Error::Validation`] of `version`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::validation("version", format!("{s:?} is not MAJOR.MINOR.PATCH"));
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

impl serde::Serialize for SchemaVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SchemaVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom(format_args!("{s:?} is not MAJOR.MINOR.PATCH")))
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

const MIGRATIONS: &[Migration] = &[
    Migration {
        id: 1,
        name: "initial",
        version: SchemaVersion {
            major: 1,
            minor: 0,
            patch: 0,
        },
        postgres: include_str!("../../migrations/postgres/0001_initial.sql"),
        sqlite: include_str!("../../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        id: 2,
        name: "idempotency_keys",
        version: SchemaVersion {
            major: 1,
            minor: 1,
            patch: 0,
        },
        postgres: include_str!("../../migrations/postgres/0002_idempotency_keys.sql"),
        sqlite: include_str!("../../migrations/sqlite/0002_idempotency_keys.sql"),
    },
    Migration {
        id: 3,
        name: "store_secrets",
        version: SchemaVersion {
            major: 1,
            minor: 2,
            patch: 0,
        },
        postgres: include_str!("../../migrations/postgres/0003_store_secrets.sql"),
        sqlite: include_str!("../../migrations/sqlite/0003_store_secrets.sql"),
    },
    Migration {
        id: 4,
        name: "lifecycle",
        version: SchemaVersion {
            major: 1,
            minor: 3,
            patch: 0,
        },
        postgres: include_str!("../../migrations/postgres/0004_lifecycle.sql"),
        sqlite: include_str!("../../migrations/sqlite/0004_lifecycle.sql"),
    },
];

/// One of this library's migrations, as [`InteractionStore::pending_migrations`] and
/// [`migrations`] list it: what `interactions migrate --dry-run` prints for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMigration {
    /// Its number (`0004_lifecycle.sql` is 4), recorded in `schema_migrations`.
    pub id: i32,
    /// Its name (`lifecycle`).
    pub name: String,
    /// The schema version the database is at once it is applied.
    pub version: SchemaVersion,
    /// The SQL script it runs, for the backend it was listed for.
    pub sql: String,
}

impl PendingMigration {
    fn of(m: &Migration, backend: Backend) -> Self {
        PendingMigration {
            id: m.id,
            name: m.name.to_string(),
            version: m.version,
            sql: m.sql(backend).to_string(),
        }
    }
}

/// Every migration of this library for `backend`, oldest first: what an empty database
/// of that engine would apply (the [`InteractionStore::pending_migrations`] of a
/// database that does not exist yet).
pub fn migrations(backend: Backend) -> Vec<PendingMigration> {
    MIGRATIONS
        .iter()
        .map(|m| PendingMigration::of(m, backend))
        .collect()
}

/// The schema version this library requires: that of its newest migration.
pub fn required() -> SchemaVersion {
    MIGRATIONS.last().expect("at least one migration").version
}

/// Whether a library requiring `required` can use a database at `found` (spec §4.2):
/// the same MAJOR, and at least the required version. Newer MINOR/PATCH versions only
/// add, so an older library keeps working on them.
pub fn compatible(found: SchemaVersion, required: SchemaVersion) -> bool {
    found.major == required.major && found >= required
}

fn checksum(sql: &str) -> Vec<u8> {
    Sha256::digest(sql.as_bytes()).to_vec()
}

/// The recorded version, `None` when the database has no schema yet.
pub(crate) async fn current_version(store: &InteractionStore) -> Result<Option<SchemaVersion>> {
    let op = Op::new("schema_version");
    let exists = store.backend().dialect().table_exists("schema_metadata");
    if store
        .read_opt::<(i32,)>(op.clone(), Fresh::Latest, exists)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    let q = store.sql("SELECT value FROM schema_metadata WHERE key = 'schema_version'");
    match store.read_opt::<(String,)>(op, Fresh::Latest, q).await? {
        // A recorded version this library cannot read is a version it cannot use.
        Some((v,)) => v.parse().map(Some).map_err(|_| Error::SchemaVersion {
            found: v,
            required: required().to_string(),
        }),
        None => Ok(None),
    }
}

/// The migrations not yet applied to the store's database, oldest first.
pub(crate) async fn pending(store: &InteractionStore) -> Result<Vec<PendingMigration>> {
    let op = Op::new("pending_migrations");
    let backend = store.backend();
    let exists = backend.dialect().table_exists("schema_migrations");
    let applied: Vec<(i32,)> = if store
        .read_opt::<(i32,)>(op.clone(), Fresh::Latest, exists)
        .await?
        .is_some()
    {
        let q = store.sql("SELECT migration_id FROM schema_migrations ORDER BY migration_id");
        store.read_all(op, Fresh::Latest, q).await?
    } else {
        Vec::new()
    };
    Ok(MIGRATIONS
        .iter()
        .filter(|m| !applied.iter().any(|(id,)| *id == m.id))
        .map(|m| PendingMigration::of(m, backend))
        .collect())
}

/// Applies pending migrations up to `target` (all when `None`) in one transaction,
/// serialised against concurrent migrators (PostgreSQL: a transaction-scoped advisory
/// lock; SQLite: `BEGIN IMMEDIATE`).
pub(crate) async fn run(
    store: &InteractionStore,
    target: Option<SchemaVersion>,
) -> Result<Vec<SchemaVersion>> {
    if let Some(t) = target {
        if !MIGRATIONS.iter().any(|m| m.version == t) {
            let known: Vec<String> = MIGRATIONS.iter().map(|m| m.version.to_string()).collect();
            return Err(Error::validation(
                "version",
                format!("no migration leads to {t} (known: {})", known.join(", ")),
            ));
        }
    }
    store
        .write(Op::new("migrate"), move |tx| {
            Box::pin(async move { run_in(tx, target).await })
        })
        .await
}

async fn run_in(tx: &mut Tx, target: Option<SchemaVersion>) -> Result<Vec<SchemaVersion>> {
    let backend = tx.backend();
    let dialect = backend.dialect();
    let schema = tx.schema().map(str::to_string);
    if let Some(lock) = dialect.migration_lock(schema.as_deref()) {
        tx.execute(&lock).await?;
    }
    if let Some(prepare) = schema.as_deref().and_then(|s| dialect.prepare_schema(s)) {
        tx.execute_script(&prepare).await?;
    }
    let applied: Vec<(i32, Vec<u8>)> = if tx
        .fetch_optional::<(i32,)>(&dialect.table_exists("schema_migrations"))
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
            return Err(Error::internal(format!(
                "migration {id} ({}) was changed after it was applied; migrations are forward-only",
                m.name
            )));
        }
    }
    let mut done = Vec::new();
    for m in MIGRATIONS
        .iter()
        .filter(|m| target.is_none_or(|t| m.version <= t))
        .filter(|m| !applied.iter().any(|(id, _)| *id == m.id))
    {
        apply(tx, m).await?;
        done.push(m.version);
    }
    if !done.is_empty() {
        if let Some(after) = schema.as_deref().and_then(|s| dialect.after_migrations(s)) {
            tx.execute_script(&after).await?;
        }
    }
    Ok(done)
}

async fn apply(tx: &mut Tx, m: &Migration) -> Result<()> {
    let backend = tx.backend();
    let sql = m.sql(backend);
    tx.execute_script(sql).await?;
    let now = tx.now();
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

/// The migrations this library embeds, oldest first, for the integrity report
/// (`ops::verify`): id, name, the version it leads to and the checksum of its SQL for
/// `backend`, as `run` records it in `schema_migrations`.
pub(crate) fn embedded(
    backend: Backend,
) -> impl Iterator<Item = (i32, &'static str, SchemaVersion, Vec<u8>)> {
    MIGRATIONS
        .iter()
        .map(move |m| (m.id, m.name, m.version, checksum(m.sql(backend))))
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
    fn newer_minor_and_patch_versions_are_compatible() {
        let v = |s: &str| s.parse::<SchemaVersion>().unwrap();
        assert!(
            compatible(v("1.1.0"), v("1.0.0")),
            "a 1.0 library opens 1.1.0"
        );
        assert!(compatible(v("1.1.3"), v("1.1.0")));
        assert!(!compatible(v("1.0.0"), v("1.1.0")), "behind: migrate first");
        assert!(!compatible(v("2.0.0"), v("1.1.0")), "another MAJOR");
    }

    #[test]
    fn every_backend_lists_every_migration_with_its_own_sql() {
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let all = migrations(backend);
            assert_eq!(all.len(), MIGRATIONS.len());
            assert_eq!(all.last().unwrap().version, required());
            for (p, m) in all.iter().zip(MIGRATIONS) {
                assert_eq!(
                    (p.id, p.name.as_str(), p.version),
                    (m.id, m.name, m.version)
                );
                assert_eq!(p.sql, m.sql(backend));
            }
        }
        assert_ne!(
            migrations(Backend::Postgres)[0].sql,
            migrations(Backend::Sqlite)[0].sql
        );
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
