//! `StoreOptions::schema` (PostgreSQL): the store in a schema of its own, beside a host
//! application's `users` and Rails-style `schema_migrations` in `public`.

use std::time::Duration;

use chrono::Utc;
use interaction_core::{Clock, ErrorKind, InteractionStore, Role, StoreOptions};

use crate::harness::{meeting, Harness, PASSWORD};

/// What a host application already keeps in `public`.
const HOST_TABLES: &str = "\
    CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
    INSERT INTO users (email) VALUES ('host@example.com');
    CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
    INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240202000000');
    CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint REFERENCES users (id));";

/// The host's tables, columns and rows, as text: must not change.
const HOST_STATE: &str = "\
    SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ', ' \
                      ORDER BY table_name, ordinal_position) \
    FROM information_schema.columns WHERE table_schema = 'public'";

async fn host_state(url: &str) -> (String, i64, String) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let columns: String = sqlx::query_scalar(HOST_STATE)
        .fetch_one(&pool)
        .await
        .unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM public.users")
        .fetch_one(&pool)
        .await
        .unwrap();
    let versions: String = sqlx::query_scalar(
        "SELECT string_agg(version, ',' ORDER BY version) FROM public.schema_migrations",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    (columns, users, versions)
}

/// One integer read on the database at `url`, behind the library's back.
async fn count(url: &str, sql: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let n = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
    n
}

fn opts(url: &str, schema: &str) -> StoreOptions {
    StoreOptions::new(url)
        .schema(schema)
        .min_connections(1)
        .max_connections(4)
        .migrate(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_of_its_own_beside_host_tables() {
    let h = Harness::postgres().await;
    let url = h.scratch_pg_url().await;
    Harness::exec_on(&url, HOST_TABLES).await;
    let host = host_state(&url).await;

    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let clock = Clock::manual(start);
    let store = opts(&url, "interactions")
        .clock(clock.clone())
        .connect()
        .await
        .expect("migrates beside the host's users and schema_migrations");
    assert_eq!(store.schema(), Some("interactions"));
    assert!(store.pending_migrations().await.unwrap().is_empty());
    assert!(store.schema_version().await.unwrap().is_some());

    // Users, login, sites, roles, CRUD, Finder.
    let alice = store
        .create_user("alice", "alice@example.com", PASSWORD)
        .await
        .unwrap();
    let token = store.login("alice", PASSWORD).await.unwrap();
    let site = store.create_site("Site A", None).await.unwrap();
    store
        .grant_role(alice.id, site.id, Role::Admin)
        .await
        .unwrap();
    let s = store.session(&token.token, site.id).await.unwrap();
    let created = s
        .create_interaction(meeting("budget review", 0))
        .await
        .unwrap();
    let other = s.create_interaction(meeting("hiring", 1)).await.unwrap();
    let found = s.finder().title_contains("budget").await.unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, created.id);
    assert_eq!(s.finder().text("hiring").await.unwrap().items.len(), 1);
    s.delete_interaction(other.id, None).await.unwrap();
    let c = store.counts().await.unwrap();
    assert_eq!((c.users, c.sites, c.live, c.deleted), (1, 1, 1, 1));

    // Archive (three years on), then the integrity report.
    clock
        .advance(Duration::from_secs(3 * 366 * 86_400))
        .unwrap();
    let archived = store.archive(None, false).await.unwrap();
    assert_eq!(archived.moved, 1);
    assert_eq!(store.counts().await.unwrap().archived, 1);
    let bob = store
        .create_user("bob", "bob@example.com", PASSWORD)
        .await
        .unwrap();
    store.anonymize_user(bob.id).await.unwrap();
    let report = store.verify().await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let tables: Vec<&str> = report.tables.iter().map(|t| t.table.as_str()).collect();
    assert!(tables.contains(&"interactions_archive"), "{tables:?}");
    assert!(
        !tables.contains(&"orders"),
        "the host's tables are not the store's: {tables:?}"
    );

    // Every table and view of the store is in its schema; the host's are untouched.
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' \
             AND tablename NOT IN ('users', 'schema_migrations', 'orders')"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_views WHERE schemaname = 'interactions' \
             AND viewname = 'interactions_masked'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&url, "SELECT count(*) FROM interactions.schema_migrations").await,
        4
    );
    assert_eq!(host_state(&url).await, host);
    // The reporting role (0004) may reach the masked views in this schema.
    if count(
        &url,
        "SELECT count(*) FROM pg_roles WHERE rolname = 'interaction_reporting'",
    )
    .await
        == 1
    {
        assert_eq!(
            count(
                &url,
                "SELECT (has_schema_privilege('interaction_reporting', 'interactions', 'USAGE') \
                 AND has_table_privilege('interaction_reporting', \
                 'interactions.interactions_masked', 'SELECT'))::int::int8"
            )
            .await,
            1
        );
    }
    store.close().await;

    // Reopened without migrate: the version check reads this schema, not the host's.
    let again = StoreOptions::new(&url)
        .schema("interactions")
        .min_connections(1)
        .connect()
        .await
        .unwrap();
    assert_eq!(again.get_user(alice.id).await.unwrap().username, "alice");
    again.close().await;
    // The default schema (public) holds the host's tables only: not a store.
    let e = StoreOptions::new(&url)
        .min_connections(1)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion, "{e}");
    assert_eq!(host_state(&url).await, host);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schemas_of_one_database_are_isolated() {
    let h = Harness::postgres().await;
    let url = h.scratch_pg_url().await;
    // Migrated at the same time: neither waits for nor breaks the other (extensions are
    // installed once).
    let (a, b) = tokio::join!(
        opts(&url, "tenant_a").connect(),
        opts(&url, "tenant_b").connect()
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        count(
            &url,
            "SELECT count(*) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace \
             WHERE e.extname IN ('pg_trgm', 'btree_gin') AND n.nspname = 'public'"
        )
        .await,
        2,
        "extensions go to public, shared by every schema"
    );
    for (store, titles) in [(&a, ["a1", "a2"]), (&b, ["b1", "b2"])] {
        // The same names in both: separate tables.
        let u = store
            .create_user("alice", "alice@example.com", PASSWORD)
            .await
            .unwrap();
        let site = store.create_site("Main", None).await.unwrap();
        store.grant_role(u.id, site.id, Role::Admin).await.unwrap();
        let s = store.session_for_user(u.id, site.id).await.unwrap();
        for t in titles {
            s.create_interaction(meeting(t, 0)).await.unwrap();
        }
    }
    let b_admin = b.session_for_user(1, 1).await.unwrap();
    b_admin.create_interaction(meeting("b3", 0)).await.unwrap();
    assert_eq!(a.counts().await.unwrap().live, 2);
    assert_eq!(b.counts().await.unwrap().live, 3);
    let a_admin = a.session_for_user(1, 1).await.unwrap();
    let titles: Vec<String> = a_admin
        .finder()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert_eq!(titles.len(), 2);
    assert!(titles.iter().all(|t| t.starts_with('a')), "{titles:?}");
    assert_eq!(
        count(&url, "SELECT count(*) FROM tenant_b.interactions").await,
        3
    );
    // Dropping one tenant's schema leaves the other whole (trigram search included).
    a.close().await;
    Harness::exec_on(&url, "DROP SCHEMA tenant_a CASCADE").await;
    assert_eq!(
        b_admin
            .finder()
            .title_contains("b3")
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert!(b.verify().await.unwrap().ok());
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schema_names_are_refused() {
    let long = "s".repeat(64);
    for bad in [
        "",
        "Interactions",
        "a-b",
        "a\"b",
        "a b",
        "1abc",
        "pg_mine",
        "a\0b",
        "public; DROP TABLE users",
        "é",
        long.as_str(),
    ] {
        let e = StoreOptions::new("postgres://nobody@127.0.0.1:1/x")
            .schema(bad)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{bad:?}: {e}");
        assert_eq!(e.field(), Some("schema"), "{bad:?}");
    }
    // 63 bytes is PostgreSQL's limit, and fine.
    let h = Harness::postgres().await;
    let url = h.scratch_pg_url().await;
    let name = "s".repeat(63);
    let store = opts(&url, &name).connect().await.unwrap();
    assert_eq!(store.schema(), Some(name.as_str()));
    store.close().await;
    // SQLite has only `main` (in builds with SQLite).
    #[cfg(feature = "sqlite")]
    {
        let (sqlite, _dir) = Harness::fresh_sqlite_url();
        let e = StoreOptions::new(&sqlite)
            .schema("interactions")
            .migrate(true)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.field()),
            (ErrorKind::Validation, Some("schema"))
        );
        let main = StoreOptions::new(&sqlite)
            .schema("main")
            .migrate(true)
            .connect()
            .await
            .unwrap();
        assert_eq!(main.schema(), None);
        main.close().await;
    }
}

/// Behind pgBouncer no setting travels with the connection: the role's `search_path`
/// must name the schema, and opening checks it.
mod pgbouncer {
    use super::*;
    use crate::harness::with_database;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_role_search_path_must_name_the_schema() {
        let h = Harness::pgbouncer().await;
        let direct = h.url.clone();
        let name = direct.rsplit('/').next().unwrap().to_string();
        let bouncer = with_database(&std::env::var("TOPOLOGY_PGBOUNCER_URL").unwrap(), &name);
        // The harness's own store is in `public`: this test wants it empty but for the
        // host application's tables.
        h.store.close().await;
        h.exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            .await;
        h.exec(HOST_TABLES).await;
        let host = host_state(&direct).await;
        let open = || {
            opts(&bouncer, "interactions")
                .behind_pgbouncer(true)
                .connect()
        };
        let e = open().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
        assert!(e.to_string().contains("ALTER ROLE"), "{e}");
        let role: String = match &h.raw {
            crate::harness::Raw::Pg(p) => sqlx::query_scalar("SELECT current_user::text")
                .fetch_one(p)
                .await
                .unwrap(),
            _ => unreachable!(),
        };
        h.exec(&format!(
            "ALTER ROLE \"{role}\" IN DATABASE \"{name}\" SET search_path = interactions"
        ))
        .await;
        // pgBouncer's server connections opened before the change keep the old path:
        // end them (pgBouncer opens new ones).
        h.exec(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let store: InteractionStore = open().await.expect("opens once the role sets it");
        let u = store
            .create_user("alice", "alice@example.com", PASSWORD)
            .await
            .unwrap();
        let site = store.create_site("Main", None).await.unwrap();
        store.grant_role(u.id, site.id, Role::Admin).await.unwrap();
        let token = store.login("alice", PASSWORD).await.unwrap();
        let s = store.session(&token.token, site.id).await.unwrap();
        s.create_interaction(meeting("through the bouncer", 0))
            .await
            .unwrap();
        assert_eq!(s.finder().await.unwrap().items.len(), 1);
        assert!(store.verify().await.unwrap().ok());
        assert_eq!(
            h.count("SELECT count(*) FROM interactions.interactions")
                .await,
            1
        );
        assert_eq!(host_state(&direct).await, host);
        store.close().await;
    }
}
