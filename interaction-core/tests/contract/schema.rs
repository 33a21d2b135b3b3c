//! Migrations and the schema-version check.

use interaction_core::{ErrorKind, InteractionStore, StoreOptions};

use crate::harness::Harness;

async fn migrate_twice_is_a_noop(h: Harness) {
    assert!(h.store.migrate().await.unwrap().is_empty());
    assert!(h.store.migrate().await.unwrap().is_empty());
    assert_eq!(
        h.store.schema_version().await.unwrap().unwrap().to_string(),
        "1.0.0"
    );
    assert_eq!(h.count("SELECT count(*) FROM schema_migrations").await, 1);
    // The migration itself is audited.
    assert_eq!(
        h.count("SELECT count(*) FROM audit_log WHERE action = 'migrate' AND entity = 'schema'")
            .await,
        1
    );
}

async fn opening_checks_the_schema_version(h: Harness) {
    // Behind: refused, naming both versions.
    h.exec("UPDATE schema_metadata SET value = '0.9.0' WHERE key = 'schema_version'")
        .await;
    let e = InteractionStore::connect(&h.url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    let msg = e.to_string();
    assert!(
        msg.contains("0.9.0") && msg.contains("1.0.0") && msg.contains("migrate"),
        "{msg}"
    );
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
        Harness::fresh_pg_url().await
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
        store.schema_version().await.unwrap().unwrap().to_string(),
        "1.0.0"
    );
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
    for url in ["mysql://x", "", "sqlite://\0"] {
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
    a_changed_migration_is_detected,
    bad_urls_and_closed_stores,
);
