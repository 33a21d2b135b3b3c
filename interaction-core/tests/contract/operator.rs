//! What operator tools (the `interactions` CLI) need from the library: pending
//! migrations, the user list, bulk creates, and errors that say what to run.

use interaction_core::migrate::{self, PendingMigration};
use interaction_core::{Backend, ErrorKind, InteractionStore, StoreOptions, MAX_CREATE_BATCH};

use crate::harness::{meeting, Harness};

async fn scratch(h: &Harness) -> String {
    if h.is_postgres() {
        h.scratch_pg_url().await
    } else {
        h.url.replace("/test.db", "/scratch.db")
    }
}

fn ids(p: &[PendingMigration]) -> Vec<i32> {
    p.iter().map(|m| m.id).collect()
}

async fn pending_migrations_list_what_migrate_applies(h: Harness) {
    let backend = h.store.backend();
    let url = scratch(&h).await;
    let store = StoreOptions::new(&url)
        .check_schema(false)
        .connect()
        .await
        .unwrap();
    // An empty database: every migration, with this backend's SQL.
    let all = store.pending_migrations().await.unwrap();
    assert_eq!(all, migrate::migrations(backend));
    assert_eq!(ids(&all), vec![1, 2, 3, 4]);
    assert_eq!(all.last().unwrap().version, migrate::required());
    assert!(all[0].sql.contains("CREATE TABLE"), "{}", all[0].sql);
    let other = match backend {
        Backend::Postgres => Backend::Sqlite,
        Backend::Sqlite => Backend::Postgres,
    };
    assert_ne!(all[0].sql, migrate::migrations(other)[0].sql);
    // Listing changes nothing.
    assert_eq!(store.schema_version().await.unwrap(), None);
    // Half way: the rest.
    let v110 = "1.1.0".parse().unwrap();
    store.migrate_to(v110).await.unwrap();
    let rest = store.pending_migrations().await.unwrap();
    assert_eq!(ids(&rest), vec![3, 4]);
    assert_eq!(rest, all[2..].to_vec());
    // What migrate applies is what was pending.
    let applied = store.migrate().await.unwrap();
    assert_eq!(applied, rest.iter().map(|m| m.version).collect::<Vec<_>>());
    assert!(store.pending_migrations().await.unwrap().is_empty());
    assert!(h.store.pending_migrations().await.unwrap().is_empty());
}

async fn the_schema_error_says_what_to_run(h: Harness) {
    let url = scratch(&h).await;
    let e = InteractionStore::connect(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    let msg = e.to_string();
    for needle in [
        "database is at none",
        "`interactions migrate`",
        "migrate=True",
        "StoreOptions::migrate(true)",
        "{ migrate: true }",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    }
}

async fn list_users_returns_everyone_by_id(h: Harness) {
    assert!(h.store.list_users().await.unwrap().is_empty());
    let c = h.user("carla").await;
    let a = h.user("anders").await;
    let b = h.user("björn").await;
    h.store.set_user_active(a.id, false).await.unwrap();
    let users = h.store.list_users().await.unwrap();
    assert_eq!(
        users.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![c.id, a.id, b.id]
    );
    assert_eq!(users[1].username, "anders");
    assert!(!users[1].is_active, "inactive users are listed too");
    assert_eq!(users[2], h.store.get_user(b.id).await.unwrap());
}

async fn bulk_creates_commit_together_with_their_audit(h: Harness) {
    let w = h.world().await;
    let audit = "SELECT count(*) FROM audit_log WHERE entity = 'interaction' AND action = 'create'";
    let created = w
        .a_editor
        .create_interactions(vec![
            meeting("First", 0).notes("ü"),
            meeting("Second", 1).location("Room 2"),
            meeting("Third", 2),
        ])
        .await
        .unwrap();
    assert_eq!(
        created.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(),
        vec!["First", "Second", "Third"]
    );
    assert!(created.windows(2).all(|p| p[0].id < p[1].id));
    for i in &created {
        assert_eq!(
            (i.site_id, i.created_by, i.version),
            (w.a.id, w.a_editor.user_id(), 1)
        );
        assert_eq!(i.created_at, created[0].created_at);
        assert_eq!(&w.a_editor.get_interaction(i.id).await.unwrap(), i);
    }
    assert_eq!(created[1].location.as_deref(), Some("Room 2"));
    assert_eq!(h.count(audit).await, 3);
    assert_eq!(w.a_editor.finder().await.unwrap().items.len(), 3);
    assert!(w.b_editor.finder().await.unwrap().items.is_empty());

    // One bad input: nothing written, the error names its index and field.
    let e = w
        .a_editor
        .create_interactions(vec![
            meeting("Fine", 3),
            meeting("Also fine", 4),
            meeting("", 5),
        ])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.field(), Some("interactions[2].title"));
    let mut late = meeting("Backwards", 6);
    late.end = meeting("x", 5).start;
    let e = w
        .a_editor
        .create_interactions(vec![meeting("Fine", 3), late])
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("interactions[1].end_datetime"), "{e}");
    // Too many: refused before anything else.
    let e = w
        .a_editor
        .create_interactions(vec![meeting("Many", 0); MAX_CREATE_BATCH + 1])
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (ErrorKind::Validation, Some("interactions"))
    );
    // A viewer may not.
    let e = w
        .a_viewer
        .create_interactions(vec![meeting("Nope", 0)])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // A failure in the database half way rolls back the rows before it: the same
    // idempotency key with other content is a conflict at the third row.
    let e = w
        .a_editor
        .create_interactions(vec![
            meeting("Keyed", 0).idempotency_key("k"),
            meeting("Unkeyed", 0),
            meeting("Keyed, other content", 0).idempotency_key("k"),
        ])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(h.count(audit).await, 3);
    assert_eq!(
        h.count("SELECT count(*) FROM interactions").await,
        3,
        "nothing of a failed batch stays"
    );
    // The same key with the same content, twice in a batch: one row.
    let twice = w
        .a_editor
        .create_interactions(vec![
            meeting("Keyed", 0).idempotency_key("k"),
            meeting("Keyed", 0).idempotency_key("k"),
        ])
        .await
        .unwrap();
    assert_eq!(twice[0], twice[1]);
    assert_eq!(h.count("SELECT count(*) FROM interactions").await, 4);
    assert!(w
        .a_editor
        .create_interactions(Vec::new())
        .await
        .unwrap()
        .is_empty());
    // A full batch goes through.
    let full = w
        .b_editor
        .create_interactions(
            (0..MAX_CREATE_BATCH)
                .map(|n| meeting(&format!("Row {n}"), (n % 40) as i64))
                .collect(),
        )
        .await
        .unwrap();
    assert_eq!(full.len(), MAX_CREATE_BATCH);
    assert_eq!(
        w.b_editor.finder().count().await.unwrap(),
        MAX_CREATE_BATCH as u64
    );
}

crate::contract!(
    pending_migrations_list_what_migrate_applies,
    the_schema_error_says_what_to_run,
    list_users_returns_everyone_by_id,
    bulk_creates_commit_together_with_their_audit,
);
