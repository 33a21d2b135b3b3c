//! SQLite-only behaviour: file persistence and in-process write concurrency.

use std::time::{Duration, Instant};

use interaction_core::{ErrorKind, InteractionPatch, InteractionStore, Role, StoreOptions};

use crate::harness::{meeting, Harness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_store_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.db");
    let store = InteractionStore::open_file(&path).await.unwrap();
    let site = store.create_site("Persisted", None).await.unwrap();
    let u = store
        .create_user("keeper", "keeper@example.com", "long enough pw")
        .await
        .unwrap();
    store.grant_role(u.id, site.id, Role::Editor).await.unwrap();
    let s = store.session_for_user(u.id, site.id).await.unwrap();
    let i = s.create_interaction(meeting("Kept", 1)).await.unwrap();
    store.close().await;

    let again = InteractionStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let s = again.session_for_user(u.id, site.id).await.unwrap();
    assert_eq!(s.get_interaction(i.id).await.unwrap(), i);
    assert_eq!(s.finder().text("kept").await.unwrap().items.len(), 1);
    again.login("keeper", "long enough pw").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_from_an_older_schema_is_refused() {
    let h = Harness::sqlite().await;
    h.exec("UPDATE schema_metadata SET value = '0.1.0' WHERE key = 'schema_version'")
        .await;
    h.store.close().await;
    let e = InteractionStore::connect(&h.url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
}

/// Opening a file that does not exist without `migrate` is refused, and leaves no file
/// (nor -wal/-shm) behind; files that existed before a refused open are never removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_open_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let listing = || {
        let mut v: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let url = format!("sqlite://{}", dir.path().join("new.db").display());
    let e = InteractionStore::connect(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    assert_eq!(
        listing(),
        Vec::<String>::new(),
        "the refused open left files"
    );
    // The same with a pool kept warm (min_connections) and a refused `mode=rw`.
    let e = StoreOptions::new(&url)
        .min_connections(4)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    assert!(InteractionStore::connect(&format!("{url}?mode=rw"))
        .await
        .is_err());
    assert_eq!(listing(), Vec::<String>::new());
    // check_schema(false) opens it (operator tools), migrate creates it for good.
    let store = StoreOptions::new(&url)
        .check_schema(false)
        .connect()
        .await
        .unwrap();
    store.close().await;
    assert!(listing().contains(&"new.db".to_string()));
    // Now it exists (empty): a refused open keeps it.
    let e = InteractionStore::connect(&url).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    assert!(
        listing().contains(&"new.db".to_string()),
        "an existing file was removed"
    );
    // An existing empty (0-byte) file is kept too.
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let e = InteractionStore::connect(&format!("sqlite://{}", empty.display()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SchemaVersion);
    assert!(empty.exists());
    // An open that succeeds on a new file keeps it.
    let kept = dir.path().join("kept.db");
    let store = StoreOptions::new(format!("sqlite://{}", kept.display()))
        .migrate(true)
        .connect()
        .await
        .unwrap();
    store.close().await;
    assert!(kept.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_databases_work() {
    let store = StoreOptions::new("sqlite::memory:")
        .migrate(true)
        .connect()
        .await
        .unwrap();
    let site = store.create_site("Memory", None).await.unwrap();
    assert_eq!(store.get_site(site.id).await.unwrap(), site);
}

/// 8 tasks writing and reading one file for a few seconds: no error ("database is
/// locked" included), no lost write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_writers_on_one_file() {
    let h = Harness::sqlite().await;
    let site = h.site("Busy").await;
    let s = h.member("writer", &site, Role::Editor).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut created = Vec::new();
                let mut updates = 0;
                while Instant::now() < deadline {
                    let i = s
                        .create_interaction(meeting(&format!("task {t}"), t))
                        .await
                        .unwrap();
                    let patch = InteractionPatch {
                        notes: Some(Some(format!("updated by {t}"))),
                        ..Default::default()
                    };
                    let u = s
                        .update_interaction(i.id, patch, Some(i.version))
                        .await
                        .unwrap();
                    assert_eq!(u.version, 2);
                    updates += 1;
                    assert_eq!(s.get_interaction(i.id).await.unwrap().version, 2);
                    s.finder().limit(5).await.unwrap();
                    created.push(i.id);
                }
                (created, updates)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        let (created, updates) = t.await.unwrap();
        assert_eq!(created.len(), updates);
        total += created.len() as i64;
    }
    assert!(total > 8, "too little work done: {total}");
    assert_eq!(h.count("SELECT count(*) FROM interactions").await, total);
    assert_eq!(
        h.count("SELECT count(*) FROM interactions WHERE version = 2")
            .await,
        total
    );
    assert_eq!(
        h.count("SELECT count(*) FROM audit_log WHERE entity = 'interaction'")
            .await,
        2 * total
    );
}
