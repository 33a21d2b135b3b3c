//! Populated bench databases, built once and reused.
//!
//! PostgreSQL: a database `interaction_bench_<rows>` on the server of `DATABASE_URL`.
//! SQLite: `target/bench-data/interaction_bench_<rows>.db`. Both are built through the
//! library for the schema, user, sites and roles, then bulk-loaded behind the library
//! (multi-row `INSERT ... SELECT FROM unnest(...)` on PostgreSQL, multi-row INSERTs in one
//! transaction on SQLite) and analysed. A `bench_meta` table records what was loaded; a
//! database whose record does not match the generator and row count is rebuilt.
//!
//! Benchmarked writes go to a separate site ([`WRITE_SITE`]) so they never change what
//! the read benches see.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use chrono::{DateTime, Utc};
use interaction_core::{
    Backend, InteractionStore, NewInteraction, Role, SiteSession, StoreOptions,
};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::data::{GenRow, Generator, GENERATOR_VERSION, SEED, SITES};

/// Boxed error of the bench helpers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Result of the bench helpers.
pub type Result<T> = std::result::Result<T, BoxError>;

/// Username of the bench user (admin at every bench site).
pub const USER: &str = "bench";
/// Name of the site that benchmarked writes go to.
pub const WRITE_SITE: &str = "bench-writes";

/// `DATABASE_URL`, the PostgreSQL server to benchmark.
///
/// # Panics
/// With instructions when `DATABASE_URL` is not set.
pub fn database_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => u,
        _ => panic!(
            "DATABASE_URL is required for the PostgreSQL benches, e.g.\n  \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p interaction-benches\n\
             (a database interaction_bench_<rows> is created on that server and reused)"
        ),
    }
}

/// The workspace's target directory (`CARGO_TARGET_DIR` or `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// Where the SQLite bench database of `rows` rows lives.
pub fn sqlite_path(rows: usize) -> PathBuf {
    target_dir()
        .join("bench-data")
        .join(format!("interaction_bench_{rows}.db"))
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    format!("{}/{db}{query}", &base[..host_end])
}

/// A dedicated PostgreSQL connection (the floor): point statements are prepared and
/// cached by sqlx, Finder statements are sent unnamed (`persistent(false)`) so they get
/// custom plans, as the library sends them.
pub async fn pg_connection(url: &str) -> Result<PgConnection> {
    let opts = PgConnectOptions::from_str(url)?.application_name("interaction-bench-raw");
    Ok(PgConnection::connect_with(&opts).await?)
}

/// A dedicated SQLite connection with the library's settings (WAL, `synchronous =
/// NORMAL`, foreign keys on).
pub async fn sqlite_connection(path: &Path) -> Result<SqliteConnection> {
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(std::time::Duration::from_secs(30));
    Ok(SqliteConnection::connect_with(&opts).await?)
}

/// A dedicated rusqlite connection to the bench file, set up as the library sets up its
/// own (WAL, synchronous NORMAL, foreign keys), for the hand-written side.
pub fn lite_connection(path: &Path) -> Result<rusqlite::Connection> {
    let c = rusqlite::Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    c.set_prepared_statement_cache_capacity(128);
    c.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    c.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    Ok(c)
}

/// A populated database opened through the library.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Which backend.
    pub backend: Backend,
    /// Generated rows in the data sites.
    pub rows: usize,
    /// The URL the library opened.
    pub url: String,
    /// SQLite file (SQLite only).
    pub path: Option<PathBuf>,
    /// The store: default [`StoreOptions`] but no Finder result cache.
    pub store: InteractionStore,
    /// The bench user.
    pub user_id: i64,
    /// The data sites, in generator order.
    pub site_ids: Vec<i64>,
    /// The site benchmarked writes go to.
    pub write_site_id: i64,
    /// A session on the first data site (reads).
    pub session: SiteSession,
    /// A session on the write site.
    pub write_session: SiteSession,
}

fn fingerprint(rows: usize) -> String {
    format!("generator={GENERATOR_VERSION} seed={SEED} rows={rows} sites={SITES}")
}

fn site_name(i: usize) -> String {
    format!("bench-site-{:02}", i + 1)
}

/// Creates the user, sites and roles through the library. Returns the data site ids.
async fn setup_entities(store: &InteractionStore) -> Result<(i64, Vec<i64>)> {
    let user = store
        .create_user(USER, "bench@example.com", "bench-password-not-secret")
        .await?;
    let mut sites = Vec::new();
    for i in 0..SITES {
        let s = store.create_site(&site_name(i), None).await?;
        store.grant_role(user.id, s.id, Role::Admin).await?;
        sites.push(s.id);
    }
    let w = store
        .create_site(WRITE_SITE, Some("benchmarked writes"))
        .await?;
    store.grant_role(user.id, w.id, Role::Admin).await?;
    Ok((user.id, sites))
}

async fn open(
    backend: Backend,
    url: String,
    path: Option<PathBuf>,
    rows: usize,
) -> Result<Fixture> {
    // A database built by an older library is brought up to this library's schema.
    // Finder results are not cached: the comparison runs the same SQL on both sides
    // (logins and permissions are, as in production; the `cache` bin measures the rest).
    let store = StoreOptions::new(&url)
        .migrate(true)
        .finder_cache_ttl(std::time::Duration::ZERO)
        .connect()
        .await?;
    let user_id = store.get_user_by_username(USER).await?.id;
    let sites = store.list_sites().await?;
    let id_of = |name: &str| {
        sites
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .ok_or_else(|| format!("site {name} missing"))
    };
    let site_ids = (0..SITES)
        .map(|i| id_of(&site_name(i)))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let write_site_id = id_of(WRITE_SITE)?;
    let session = store.session_for_user(user_id, site_ids[0]).await?;
    let write_session = store.session_for_user(user_id, write_site_id).await?;
    Ok(Fixture {
        backend,
        rows,
        url,
        path,
        store,
        user_id,
        site_ids,
        write_site_id,
        session,
        write_session,
    })
}

/// Opens (building it first if needed) the PostgreSQL bench database of `rows` rows on
/// the server of `server_url`.
pub async fn postgres(server_url: &str, rows: usize) -> Result<Fixture> {
    let name = format!("interaction_bench_{rows}");
    let url = with_database(server_url, &name);
    let mut admin = pg_connection(server_url).await?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await?;
    let mut ready = false;
    if exists.is_some() {
        let mut c = pg_connection(&url).await?;
        let meta: Option<(String,)> =
            sqlx::query_as("SELECT value FROM bench_meta WHERE key = 'fingerprint'")
                .fetch_optional(&mut c)
                .await
                .unwrap_or(None);
        ready = meta.is_some_and(|(v,)| v == fingerprint(rows));
        c.close().await?;
        if !ready {
            eprintln!("bench: {name} is stale or incomplete; rebuilding");
            let drop = format!("DROP DATABASE \"{name}\" WITH (FORCE)");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut admin)
                .await?;
        }
    }
    if !ready {
        let create = format!("CREATE DATABASE \"{name}\"");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut admin)
            .await?;
        let t0 = Instant::now();
        let store = StoreOptions::new(&url).migrate(true).connect().await?;
        let (user, sites) = setup_entities(&store).await?;
        store.close().await;
        let mut c = pg_connection(&url).await?;
        load_postgres(&mut c, rows, user, &sites).await?;
        sqlx::raw_sql("VACUUM (ANALYZE) interactions")
            .execute(&mut c)
            .await?;
        sqlx::raw_sql("CREATE TABLE bench_meta (key text PRIMARY KEY, value text NOT NULL)")
            .execute(&mut c)
            .await?;
        sqlx::query("INSERT INTO bench_meta VALUES ('fingerprint', $1)")
            .bind(fingerprint(rows))
            .execute(&mut c)
            .await?;
        c.close().await?;
        eprintln!("bench: built {name} ({rows} rows) in {:.1?}", t0.elapsed());
    }
    admin.close().await?;
    open(Backend::Postgres, url, None, rows).await
}

/// Rows per statement of the generator's PostgreSQL load.
const UNNEST_BATCH: usize = 5000;

/// Bulk load through `unnest` arrays: one statement per [`UNNEST_BATCH`] rows.
async fn load_postgres(c: &mut PgConnection, rows: usize, user: i64, sites: &[i64]) -> Result<()> {
    let mut gen = Generator::new(rows).peekable();
    while gen.peek().is_some() {
        let batch: Vec<_> = gen.by_ref().take(UNNEST_BATCH).collect();
        insert_unnest(c, "interactions", &batch, user, sites).await?;
    }
    Ok(())
}

/// One `INSERT ... SELECT FROM unnest(...)` of `batch` into `table`.
async fn insert_unnest(
    c: &mut PgConnection,
    table: &str,
    batch: &[GenRow],
    user: i64,
    sites: &[i64],
) -> Result<()> {
    let col = |f: &dyn Fn(&GenRow) -> String| -> Vec<String> { batch.iter().map(f).collect() };
    let opt = |f: &dyn Fn(&GenRow) -> Option<String>| -> Vec<Option<String>> {
        batch.iter().map(f).collect()
    };
    let ts = |f: &dyn Fn(&GenRow) -> DateTime<Utc>| -> Vec<DateTime<Utc>> {
        batch.iter().map(f).collect()
    };
    let site: Vec<i32> = batch.iter().map(|r| sites[r.site_index] as i32).collect();
    let sql = format!(
        "INSERT INTO {table} (site_id, title, type, lead, start_datetime, end_datetime, \
         timezone, location, description, notes, created_by, created_at, version) \
         SELECT s, ti, ty, le, st, en, tz, lo, de, no, $11, ca, 1 FROM unnest($1::int4[], \
         $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], \
         $7::text[], $8::text[], $9::text[], $10::text[], $12::timestamptz[]) \
         AS t(s, ti, ty, le, st, en, tz, lo, de, no, ca)"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(site)
        .bind(col(&|r| r.title.clone()))
        .bind(col(&|r| r.interaction_type.to_string()))
        .bind(col(&|r| r.lead.clone()))
        .bind(ts(&|r| r.start))
        .bind(ts(&|r| r.end))
        .bind(col(&|r| r.timezone.to_string()))
        .bind(opt(&|r| r.location.map(str::to_string)))
        .bind(opt(&|r| r.description.clone()))
        .bind(opt(&|r| r.notes.clone()))
        .bind(user as i32)
        .bind(ts(&|r| r.created_at))
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The scratch table of [`load_rates`].
const SCRATCH: &str = "bench_load_scratch";

/// Bulk-load rates of the same generated rows into a scratch copy of `interactions`.
#[derive(Debug, Clone, Copy)]
pub struct LoadRates {
    /// Rows loaded by each method.
    pub rows: usize,
    /// The generator's load (`INSERT ... SELECT FROM unnest(...)`, 5000 rows per
    /// statement, autocommit), rows per second.
    pub generator: f64,
    /// `COPY ... FROM STDIN` (text format, one statement), rows per second.
    pub copy: f64,
    /// The library's bulk path (`SiteSession::create_interactions`, 1000 validated rows
    /// per transaction, each with its audit row) into the write site of `interactions`,
    /// rows per second. The rows and their audit rows are deleted afterwards.
    pub library: f64,
}

/// Appends `v` as a field of PostgreSQL's COPY text format.
fn copy_field(out: &mut String, v: Option<&str>) {
    let Some(v) = v else {
        out.push_str("\\N");
        return;
    };
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// (Re)creates [`SCRATCH`] as a copy of `interactions`: columns, defaults, identity,
/// generated `search_vector`, CHECK constraints, every index and the foreign keys.
async fn fresh_scratch(c: &mut PgConnection) -> Result<()> {
    let sql = format!(
        "DROP TABLE IF EXISTS {SCRATCH}; \
         CREATE TABLE {SCRATCH} (LIKE interactions INCLUDING ALL); \
         ALTER TABLE {SCRATCH} ADD FOREIGN KEY (site_id) REFERENCES sites (site_id), \
         ADD FOREIGN KEY (created_by) REFERENCES users (user_id), \
         ADD FOREIGN KEY (updated_by) REFERENCES users (user_id), \
         ADD FOREIGN KEY (deleted_by) REFERENCES users (user_id)"
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// PostgreSQL only: loads the first `rows` generated rows of the data sites into a
/// scratch copy of `interactions` twice, once the way the generator loads the bench
/// database and once with `COPY ... FROM STDIN`, and returns both rates. The rows are
/// generated before timing; each timing covers encoding and sending the rows and the
/// server's work (indexes, the generated `search_vector`, foreign keys). The scratch
/// table is dropped afterwards.
pub async fn load_rates(fx: &Fixture, rows: usize) -> Result<LoadRates> {
    let mut c = pg_connection(&fx.url).await?;
    let data: Vec<GenRow> = Generator::new(rows).collect();
    let (user, sites) = (fx.user_id, fx.site_ids.as_slice());
    let count = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {SCRATCH}");

    fresh_scratch(&mut c).await?;
    let t = Instant::now();
    for batch in data.chunks(UNNEST_BATCH) {
        insert_unnest(&mut c, SCRATCH, batch, user, sites).await?;
    }
    let unnest = t.elapsed();
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(count.clone()))
        .fetch_one(&mut c)
        .await?;
    if n as usize != data.len() {
        return Err(format!("generator load: {n} rows, expected {}", data.len()).into());
    }

    fresh_scratch(&mut c).await?;
    let t = Instant::now();
    let stmt = format!(
        "COPY {SCRATCH} (site_id, title, type, lead, start_datetime, end_datetime, timezone, \
         location, description, notes, created_by, created_at, version) FROM STDIN"
    );
    let mut copy = c.copy_in_raw(&stmt).await?;
    let mut buf = String::with_capacity(1 << 20);
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for r in &data {
        let site = sites[r.site_index].to_string();
        let user = user.to_string();
        let (start, end, created) = (ts(r.start), ts(r.end), ts(r.created_at));
        let fields: [Option<&str>; 13] = [
            Some(&site),
            Some(&r.title),
            Some(r.interaction_type),
            Some(&r.lead),
            Some(&start),
            Some(&end),
            Some(r.timezone),
            r.location,
            r.description.as_deref(),
            r.notes.as_deref(),
            Some(&user),
            Some(&created),
            Some("1"),
        ];
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            copy_field(&mut buf, f);
        }
        buf.push('\n');
        if buf.len() >= 1 << 20 {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    let copied = copy.finish().await?;
    let copy_time = t.elapsed();
    if copied as usize != data.len() {
        return Err(format!("COPY: {copied} rows, expected {}", data.len()).into());
    }
    let library = library_load(fx, &mut c, &data).await?;
    let drop = format!("DROP TABLE {SCRATCH}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
        .execute(&mut c)
        .await?;
    c.close().await?;
    let rate = |d: std::time::Duration| data.len() as f64 / d.as_secs_f64();
    Ok(LoadRates {
        rows: data.len(),
        generator: rate(unnest),
        copy: rate(copy_time),
        library: rate(library),
    })
}

/// Loads `data` through `create_interactions` into the write site, times it, checks the
/// rows and their audit rows arrived, then deletes them (the read benches' table stays
/// as generated).
async fn library_load(
    fx: &Fixture,
    c: &mut PgConnection,
    data: &[GenRow],
) -> Result<std::time::Duration> {
    let site = fx.write_site_id;
    let marks = "SELECT CAST(COALESCE(MAX(interaction_id), 0) AS BIGINT), \
                 (SELECT CAST(COALESCE(MAX(audit_id), 0) AS BIGINT) FROM audit_log) FROM interactions";
    let (last_row, last_audit): (i64, i64) = sqlx::query_as(marks).fetch_one(&mut *c).await?;
    let news: Vec<NewInteraction> = data
        .iter()
        .map(|r| {
            let mut n = NewInteraction::new(
                r.title.clone(),
                r.interaction_type,
                r.lead.clone(),
                r.start,
                r.end,
                r.timezone,
            );
            if let Some(l) = r.location {
                n = n.location(l);
            }
            if let Some(d) = &r.description {
                n = n.description(d.clone());
            }
            if let Some(t) = &r.notes {
                n = n.notes(t.clone());
            }
            n
        })
        .collect();
    let t = Instant::now();
    for chunk in news.chunks(interaction_core::MAX_CREATE_BATCH) {
        fx.write_session.create_interactions(chunk.to_vec()).await?;
    }
    let took = t.elapsed();
    let (rows, audits): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM interactions WHERE interaction_id > $1 AND site_id = $3), \
                (SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE audit_id > $2 AND site_id = $3)",
    )
    .bind(last_row)
    .bind(last_audit)
    .bind(site as i32)
    .fetch_one(&mut *c)
    .await?;
    if rows as usize != data.len() || audits as usize != data.len() {
        return Err(format!(
            "library load: {rows} rows and {audits} audit rows, expected {} of each",
            data.len()
        )
        .into());
    }
    sqlx::query("DELETE FROM interactions WHERE interaction_id > $1 AND site_id = $2")
        .bind(last_row)
        .bind(site as i32)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM audit_log WHERE audit_id > $1 AND site_id = $2")
        .bind(last_audit)
        .bind(site as i32)
        .execute(&mut *c)
        .await?;
    Ok(took)
}

/// Opens (building it first if needed) the SQLite bench database of `rows` rows.
pub async fn sqlite(rows: usize) -> Result<Fixture> {
    let path = sqlite_path(rows);
    let url = format!("sqlite://{}", path.display());
    let mut ready = false;
    if path.exists() {
        let mut c = sqlite_connection(&path).await?;
        let meta: Option<(String,)> =
            sqlx::query_as("SELECT value FROM bench_meta WHERE key = 'fingerprint'")
                .fetch_optional(&mut c)
                .await
                .unwrap_or(None);
        ready = meta.is_some_and(|(v,)| v == fingerprint(rows));
        c.close().await?;
        if !ready {
            eprintln!(
                "bench: {} is stale or incomplete; rebuilding",
                path.display()
            );
            for ext in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(ext);
                let _ = std::fs::remove_file(p);
            }
        }
    }
    if !ready {
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        let t0 = Instant::now();
        let store = StoreOptions::new(&url).migrate(true).connect().await?;
        let (user, sites) = setup_entities(&store).await?;
        store.close().await;
        let mut c = sqlite_connection(&path).await?;
        load_sqlite(&mut c, rows, user, &sites).await?;
        sqlx::raw_sql(
            "INSERT INTO interactions_fts (interactions_fts) VALUES ('optimize'); ANALYZE; \
             CREATE TABLE bench_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )
        .execute(&mut c)
        .await?;
        sqlx::query("INSERT INTO bench_meta VALUES ('fingerprint', $1)")
            .bind(fingerprint(rows))
            .execute(&mut c)
            .await?;
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await?;
        c.close().await?;
        eprintln!(
            "bench: built {} ({rows} rows) in {:.1?}",
            path.display(),
            t0.elapsed()
        );
    }
    open(Backend::Sqlite, url, Some(path), rows).await
}

/// Multi-row INSERTs of 500 rows in one transaction (the FTS triggers fire per row).
async fn load_sqlite(
    c: &mut SqliteConnection,
    rows: usize,
    user: i64,
    sites: &[i64],
) -> Result<()> {
    const BATCH: usize = 500;
    const HEAD: &str = "INSERT INTO interactions (site_id, title, type, lead, start_datetime, \
        end_datetime, timezone, location, description, notes, created_by, created_at, version) \
        VALUES ";
    let values = |n: usize| {
        let one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)";
        format!("{HEAD}{}", vec![one; n].join(", "))
    };
    let full = values(BATCH);
    let mut tx = c.begin().await?;
    let mut gen = Generator::new(rows).peekable();
    while gen.peek().is_some() {
        let batch: Vec<_> = gen.by_ref().take(BATCH).collect();
        let sql = if batch.len() == BATCH {
            full.clone()
        } else {
            values(batch.len())
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in batch {
            q = q
                .bind(sites[r.site_index])
                .bind(r.title)
                .bind(r.interaction_type)
                .bind(r.lead)
                .bind(r.start.timestamp_micros())
                .bind(r.end.timestamp_micros())
                .bind(r.timezone)
                .bind(r.location)
                .bind(r.description)
                .bind(r.notes)
                .bind(user)
                .bind(r.created_at.timestamp_micros());
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "b"),
            "postgres://postgres@127.0.0.1:5432/b"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "b"),
            "postgres://u:p@h/b?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "b"),
            "postgres://h:5432/b"
        );
    }
}
