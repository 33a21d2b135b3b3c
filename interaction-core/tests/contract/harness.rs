//! One store per test on a fresh database: a temp SQLite file, or a new PostgreSQL
//! database created from the admin `DATABASE_URL`.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Duration, Utc};
use interaction_core::{
    InteractionStore, NewInteraction, Role, Site, SiteSession, StoreOptions, User,
};
use sqlx::{AssertSqlSafe, Connection};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub enum Raw {
    Pg(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

pub struct Harness {
    pub url: String,
    pub store: InteractionStore,
    pub raw: Raw,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL databases this test created (its own and scratch ones), with the admin
    /// URL of their server: dropped with the harness, so a test run against a given
    /// server leaves none behind.
    databases: std::sync::Mutex<Vec<(String, String)>>,
}

pub const PASSWORD: &str = "correct horse battery";

impl Harness {
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub async fn sqlite() -> Harness {
        let (url, dir) = Self::fresh_sqlite_url();
        Self::open(url, dir).await
    }

    pub fn fresh_sqlite_url() -> (String, Option<tempfile::TempDir>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        (url, Some(dir))
    }

    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    pub async fn postgres() -> Harness {
        let url = Self::fresh_pg_url().await;
        Self::open(url, None).await
    }

    /// Creates an empty database and returns its URL. Fails (never skips) without
    /// `DATABASE_URL`: the postgres-tests feature means PostgreSQL is required.
    pub async fn fresh_pg_url() -> String {
        let admin = std::env::var("DATABASE_URL").expect(
            "DATABASE_URL must point at a PostgreSQL server for the postgres-tests feature \
             (the README test command starts one)",
        );
        Self::fresh_db_on(&admin).await
    }

    /// The contract through pgBouncer in transaction mode: the store's URL leads to
    /// `TOPOLOGY_PGBOUNCER_URL` (with `behind_pgbouncer`); `url` and `raw` go straight to
    /// the primary behind it, so extra stores a test opens and its checks bypass it.
    #[cfg_attr(not(feature = "postgres-tests"), allow(dead_code))]
    pub async fn pgbouncer() -> Harness {
        let var = |n: &str| {
            std::env::var(n).unwrap_or_else(|_| {
                panic!("{n} must be set for the pgBouncer contract run (the README test command sets it)")
            })
        };
        let admin = var("TOPOLOGY_PRIMARY_URL");
        let direct = Self::fresh_db_on(&admin).await;
        let name = database_name(&direct);
        let bouncer = with_database(&var("TOPOLOGY_PGBOUNCER_URL"), &name);
        let store = StoreOptions::new(&bouncer)
            .behind_pgbouncer(true)
            .min_connections(1)
            .max_connections(8)
            .migrate(true)
            .connect()
            .await
            .expect("open store through pgBouncer");
        let raw = Raw::Pg(sqlx::PgPool::connect(&direct).await.expect("raw pg"));
        Harness {
            url: direct,
            store,
            raw,
            _dir: None,
            databases: std::sync::Mutex::new(vec![(admin, name)]),
        }
    }

    async fn fresh_db_on(admin: &str) -> String {
        let name = format!(
            "istest_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            Utc::now().timestamp_micros() % 1_000_000
        );
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .expect("connect to the admin URL");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        with_database(admin, &name)
    }

    async fn open(url: String, dir: Option<tempfile::TempDir>) -> Harness {
        let store = StoreOptions::new(&url)
            .min_connections(1)
            .max_connections(8)
            .migrate(true)
            .connect()
            .await
            .expect("open store");
        let raw = if url.starts_with("postgres") {
            Raw::Pg(sqlx::PgPool::connect(&url).await.expect("raw pg"))
        } else {
            // A raw pool beside the store in this process is safe here, unlike Python's
            // `sqlite3` beside the wheel: sqlx-sqlite and rusqlite link the one
            // libsqlite3-sys of the build (cargo allows a single `links = "sqlite3"`
            // package; both use 0.37), so it is the same SQLite copy and the same locks.
            Raw::Sqlite(
                sqlx::SqlitePool::connect_with(
                    sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                        .unwrap()
                        .busy_timeout(std::time::Duration::from_secs(30)),
                )
                .await
                .expect("raw sqlite"),
            )
        };
        let databases = match &raw {
            Raw::Pg(_) => vec![(admin_url(), database_name(&url))],
            Raw::Sqlite(_) => Vec::new(),
        };
        Harness {
            url,
            store,
            raw,
            _dir: dir,
            databases: std::sync::Mutex::new(databases),
        }
    }

    /// Another empty PostgreSQL database for this test, dropped with the harness.
    pub async fn scratch_pg_url(&self) -> String {
        let url = Self::fresh_pg_url().await;
        self.databases
            .lock()
            .unwrap()
            .push((admin_url(), database_name(&url)));
        url
    }

    /// Another empty database of the same backend for this test (a PostgreSQL database
    /// dropped with the harness, or a second file in the harness's temp dir).
    #[cfg_attr(
        not(all(feature = "postgres-tests", feature = "redis")),
        allow(dead_code)
    )]
    pub async fn scratch_pg_or_sqlite(&self) -> String {
        if self.is_postgres() {
            self.scratch_pg_url().await
        } else {
            self.url.replace("/test.db", "/scratch.db")
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.raw, Raw::Pg(_))
    }

    /// Runs SQL behind the library's back (to tamper with clocks and versions).
    pub async fn exec(&self, sql: &str) {
        match &self.raw {
            Raw::Pg(p) => sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(p)
                .await
                .map(|_| ()),
            Raw::Sqlite(p) => sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(p)
                .await
                .map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// Runs SQL on another database of the same backend (`url`), behind the library's back.
    pub async fn exec_on(url: &str, sql: &str) {
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.expect("raw pg");
            sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = c.close().await;
        } else {
            let mut c = sqlx::SqliteConnection::connect(url)
                .await
                .expect("raw sqlite");
            sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                .execute(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = c.close().await;
        }
    }

    /// A single integer read behind the library's back, on its own connection.
    pub async fn count(&self, sql: &str) -> i64 {
        match &self.raw {
            Raw::Pg(p) => {
                sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_string()))
                    .fetch_one(p)
                    .await
            }
            Raw::Sqlite(p) => {
                sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql.to_string()))
                    .fetch_one(p)
                    .await
            }
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn user(&self, name: &str) -> User {
        self.store
            .create_user(name, &format!("{name}@example.com"), PASSWORD)
            .await
            .expect("create user")
    }

    pub async fn site(&self, name: &str) -> Site {
        self.store
            .create_site(name, None)
            .await
            .expect("create site")
    }

    /// A session of a new user with `role` at `site`.
    pub async fn member(&self, name: &str, site: &Site, role: Role) -> SiteSession {
        let u = self.user(name).await;
        self.store.grant_role(u.id, site.id, role).await.unwrap();
        self.store.session_for_user(u.id, site.id).await.unwrap()
    }

    /// Two sites, each with an admin, an editor and a viewer.
    pub async fn world(&self) -> World {
        let a = self.site("Site A").await;
        let b = self.site("Site B").await;
        World {
            a_admin: self.member("a_admin", &a, Role::Admin).await,
            a_editor: self.member("a_editor", &a, Role::Editor).await,
            a_viewer: self.member("a_viewer", &a, Role::Viewer).await,
            b_admin: self.member("b_admin", &b, Role::Admin).await,
            b_editor: self.member("b_editor", &b, Role::Editor).await,
            b_viewer: self.member("b_viewer", &b, Role::Viewer).await,
            a,
            b,
        }
    }
}

pub struct World {
    pub a: Site,
    pub b: Site,
    pub a_admin: SiteSession,
    pub a_editor: SiteSession,
    pub a_viewer: SiteSession,
    pub b_admin: SiteSession,
    pub b_editor: SiteSession,
    pub b_viewer: SiteSession,
}

/// A valid interaction starting `days` from a fixed base.
pub fn meeting(title: &str, days: i64) -> NewInteraction {
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-05T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
        + Duration::days(days);
    NewInteraction::new(
        title,
        "meeting",
        "Alice",
        start,
        start + Duration::hours(1),
        "UTC",
    )
}

/// `admin` with its path (database name) replaced by `db`.
pub fn with_database(admin: &str, db: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// Another connection holding locks that block the library's writes to `interactions`
/// (PostgreSQL: the row `FOR UPDATE` and the table in SHARE mode, so inserts wait too,
/// reads do not; SQLite: the database write lock) until [`release`](Self::release).
pub enum LockHolder {
    Pg(sqlx::PgConnection),
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
}

impl LockHolder {
    pub async fn hold(h: &Harness, row: i64) -> LockHolder {
        match &h.raw {
            Raw::Pg(_) => {
                let mut c = sqlx::PgConnection::connect(&h.url).await.unwrap();
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "BEGIN; SELECT 1 FROM interactions WHERE interaction_id = {row} FOR UPDATE; \
                     LOCK TABLE interactions IN SHARE MODE"
                )))
                .execute(&mut c)
                .await
                .unwrap();
                LockHolder::Pg(c)
            }
            Raw::Sqlite(p) => {
                let mut c = p.acquire().await.unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE")
                    .execute(&mut *c)
                    .await
                    .unwrap();
                LockHolder::Sqlite(c)
            }
        }
    }

    pub async fn release(self) {
        match self {
            LockHolder::Pg(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut c).await.unwrap();
            }
            LockHolder::Sqlite(mut c) => {
                sqlx::raw_sql("ROLLBACK").execute(&mut *c).await.unwrap();
            }
        }
    }
}

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_default()
}

fn database_name(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or_default().to_string()
}

impl Drop for Harness {
    fn drop(&mut self) {
        let names = std::mem::take(&mut *self.databases.lock().unwrap());
        if names.is_empty() {
            return;
        }
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                for (admin, name) in names {
                    let Ok(mut c) = sqlx::PgConnection::connect(&admin).await else {
                        continue;
                    };
                    // FORCE: the test's pools may still hold connections.
                    let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}
