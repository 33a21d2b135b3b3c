//! Migrations and the schema-version check.

use interaction_core::{ErrorKind, InteractionStore, Role, StoreOptions};

use crate::harness::Harness;

async fn migrate_twice_is_a_noop(h: Harness) {
    assert!(h.store.migrate().await.unwrap().is_empty());
    assert!(h.store.migrate().await.unwrap().is_empty());
    assert_eq!(
        h.store.schema_version().await.unwrap().unwrap(),
        interaction_core::migrate::required()
    );
    assert_eq!(h.count("SELECT count(*) FROM schema_migrations").await, 4);
    // Each migration is audited.
    assert_eq!(
        h.count("SELECT count(*) FROM audit_log WHERE action = 'migrate' AND entity = 'schema'")
            .await,
        4
    );
}

async fn opening_checks_the_schema_version(h: Harness) {
    // Behind: refused, naming both versions.
    h.exec("UPDATE schema_metadata SET value = '0.9.0' WHERE key = 'schema_version'")
        .await;
    let e = InteractionStore::connect(&h.url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    let msg = e.to_string();
    let required = interaction_core::migrate::required().to_string();
    assert!(
        msg.contains("0.9.0") && msg.contains(&required) && msg.contains("migrate"),
        "{msg}"
    );
    // MINORs behind (this library needs 1.2.0): refused.
    for behind in ["1.0.0", "1.1.0"] {
        h.exec(&format!(
            "UPDATE schema_metadata SET value = '{behind}' WHERE key = 'schema_version'"
        ))
        .await;
        let e = InteractionStore::connect(&h.url).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    }
    // Newer MINOR/PATCH: backward-compatible, accepted.
    h.exec("UPDATE schema_metadata SET value = '1.3.7' WHERE key = 'schema_version'")
        .await;
    InteractionStore::connect(&h.url).await.unwrap();
    // Another MAJOR: refused.
    h.exec("UPDATE schema_metadata SET value = '2.0.0' WHERE key = 'schema_version'")
        .await;
    let e = InteractionStore::connect(&h.url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    // Garbage: refused with the same typed error.
    h.exec("UPDATE schema_metadata SET value = 'banana' WHERE key = 'schema_version'")
        .await;
    let e = InteractionStore::connect(&h.url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
}

async fn an_empty_database_is_refused_until_migrated(h: Harness) {
    let url = if h.is_postgres() {
        h.scratch_pg_url().await
    } else {
        let (u, dir) = Harness::fresh_sqlite_url();
        std::mem::forget(dir); // kept until the process ends
        u
    };
    let e = InteractionStore::connect(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    assert!(e.to_string().contains("none"), "{e}");
    // Many processes migrating at once: one applies, the others wait and find it done.
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                StoreOptions::new(url)
                    .min_connections(0)
                    .migrate(true)
                    .connect()
                    .await
            })
        })
        .collect();
    for o in opens {
        o.await.unwrap().expect("concurrent migrate");
    }
    let store = InteractionStore::connect(&url).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap().unwrap(),
        interaction_core::migrate::required()
    );
}

/// The first MINOR bump (1.1.0: idempotency keys), applied to a database created and used
/// at 1.0.0: refused until migrated, data kept, the new feature works after.
async fn a_1_0_0_database_migrates_step_by_step(h: Harness) {
    let url = if h.is_postgres() {
        h.scratch_pg_url().await
    } else {
        let (u, dir) = Harness::fresh_sqlite_url();
        std::mem::forget(dir);
        u
    };
    let v100 = "1.0.0".parse().unwrap();
    let old = StoreOptions::new(&url)
        .check_schema(false)
        .connect()
        .await
        .unwrap();
    assert_eq!(old.schema_version().await.unwrap(), None);
    assert_eq!(old.migrate_to(v100).await.unwrap(), vec![v100]);
    assert_eq!(old.schema_version().await.unwrap(), Some(v100));
    // Used at 1.0.0: a site, a user, an interaction (no idempotency key), written as the
    // 1.0 library wrote them.
    let site = old.create_site("Old", None).await.unwrap();
    let user = old
        .create_user("olduser", "old@example.com", crate::harness::PASSWORD)
        .await
        .unwrap();
    old.grant_role(user.id, site.id, Role::Editor)
        .await
        .unwrap();
    let old_row = |title: &str, day: i64| {
        // Instants as each backend stores them (microseconds on SQLite).
        let (start, end, now) = if url.starts_with("postgres") {
            (
                format!("'2024-01-{:02}T10:00:00Z'", day + 1),
                format!("'2024-01-{:02}T11:00:00Z'", day + 1),
                "now()".to_string(),
            )
        } else {
            let t = 1_704_103_200_000_000i64 + day * 86_400_000_000;
            (
                t.to_string(),
                (t + 3_600_000_000).to_string(),
                t.to_string(),
            )
        };
        format!(
            "INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, \
             timezone, created_by, created_at, version) VALUES ({}, '{title}', 'Meeting', \
             'Ana', {start}, {end}, 'UTC', {}, {now}, 1)",
            site.id, user.id
        )
    };
    Harness::exec_on(&url, &old_row("Quarterly budget", 0)).await;
    // This library needs a newer schema.
    let e = InteractionStore::connect(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    assert!(e.to_string().contains("1.0.0"), "{e}");
    let e = old.migrate_to("0.5.0".parse().unwrap()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    // Migrate step by step, each version used as its library used it; the data is kept.
    let v110 = "1.1.0".parse().unwrap();
    assert_eq!(old.migrate_to(v110).await.unwrap(), vec![v110]);
    Harness::exec_on(
        &url,
        &format!(
            "{}; INSERT INTO idempotency_keys (site_id, idempotency_key, request_hash, \
             interaction_id, created_at) VALUES ({}, 'old-key', {}, 2, {})",
            old_row("At 1.1.0", 1),
            site.id,
            if url.starts_with("postgres") {
                "'\\x00'::bytea"
            } else {
                "x'00'"
            },
            if url.starts_with("postgres") {
                "now()"
            } else {
                "0"
            },
        ),
    )
    .await;
    let v120 = "1.2.0".parse().unwrap();
    assert_eq!(old.migrate_to(v120).await.unwrap(), vec![v120]);
    Harness::exec_on(&url, &old_row("At 1.2.0", 2)).await;
    // 1.3.0: the lifecycle tables; the live rows stay live, full text still finds them.
    assert_eq!(old.migrate().await.unwrap(), vec!["1.3.0".parse().unwrap()]);
    old.close().await;
    let store = InteractionStore::connect(&url).await.unwrap();
    let s = store.session_for_user(user.id, site.id).await.unwrap();
    let before = s.get_interaction(1).await.unwrap();
    assert_eq!(before.title, "Quarterly budget");
    assert_eq!(before.archived_at, None);
    let found = s.finder().text("quarterly").await.unwrap();
    assert_eq!(found.items.len(), 1, "full text over pre-1.3.0 rows");
    assert_eq!(s.finder().await.unwrap().items.len(), 3);
    let keyed = crate::harness::meeting("After", 2).idempotency_key("k-1");
    let a = s.create_interaction(keyed.clone()).await.unwrap();
    let b = s.create_interaction(keyed).await.unwrap();
    assert_eq!(a.id, b.id);
    // 1.2.0: a cursor issued by one store (process) is accepted by another on the same
    // database; the secret is the deployment's.
    let other = InteractionStore::connect(&url).await.unwrap();
    let s2 = other.session_for_user(user.id, site.id).await.unwrap();
    let p = s.finder().limit(2).await.unwrap();
    let next = s2
        .finder()
        .limit(2)
        .after(p.next_cursor.unwrap())
        .await
        .unwrap();
    assert!(!next.items.is_empty());
}

async fn a_changed_migration_is_detected(h: Harness) {
    let sum = if h.is_postgres() {
        "'\\x00'::bytea"
    } else {
        "x'00'"
    };
    h.exec(&format!("UPDATE schema_migrations SET checksum = {sum}"))
        .await;
    let e = h.store.migrate().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Internal);
    assert!(e.to_string().contains("forward-only"), "{e}");
}

async fn bad_urls_and_closed_stores(h: Harness) {
    let mut urls = vec!["mysql://x", ""];
    if cfg!(feature = "sqlite") {
        urls.push("sqlite://\0");
    }
    for url in urls {
        let e = InteractionStore::connect(url).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{url}");
        assert_eq!(e.field(), Some("url"));
    }
    h.store.close().await;
    assert!(h.store.is_closed());
    let e = h.store.get_user(1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
}

crate::contract!(
    migrate_twice_is_a_noop,
    opening_checks_the_schema_version,
    an_empty_database_is_refused_until_migrated,
    a_1_0_0_database_migrates_step_by_step,
    a_changed_migration_is_detected,
    bad_urls_and_closed_stores,
);

/// A build without one backend says so for that backend's URLs (a configuration
/// problem, not bad input).
#[cfg(not(all(feature = "postgres", feature = "sqlite")))]
#[tokio::test]
async fn a_left_out_backend_is_a_configuration_error() {
    let url = if cfg!(feature = "sqlite") {
        "postgres://nobody@127.0.0.1:1/none"
    } else {
        "sqlite::memory:"
    };
    let e = InteractionStore::connect(url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
    assert!(e.to_string().contains("cargo feature"), "{e}");
}
