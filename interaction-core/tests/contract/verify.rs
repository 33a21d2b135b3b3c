//! `verify()`: the integrity report on a sound database, tampering behind the library's
//! back, and a backup restored elsewhere (PostgreSQL: pg_dump + psql; SQLite: VACUUM INTO)
//! that reports the same as its original.

use interaction_core::migrate::{self, SchemaVersion};
use interaction_core::{IntegrityReport, Interaction, MigrationState, StoreOptions};

use crate::contract;
use crate::harness::{meeting, Harness, PASSWORD};

contract!(
    a_sound_database_verifies,
    tampering_is_reported,
    a_restored_backup_reports_the_same,
    an_older_or_empty_schema_is_reported_not_an_error,
);

/// Rows in every table: two sites with members, live, edited, soft-deleted and archived
/// interactions (audit rows with them), a login token, an idempotency key and 2500
/// access-log rows (several checksum pages). Returns an archived and a live interaction.
async fn populate(h: &Harness) -> (i64, Interaction) {
    let w = h.world().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let new = meeting(&format!("Meeting {i}"), i)
            .description(format!("Agenda {i}\nsecond line, 'quoted'"))
            .notes("Notes: ünïcødé, \"quotes\", NULL");
        let s = if i % 2 == 0 { &w.a_editor } else { &w.b_editor };
        ids.push(s.create_interaction(new).await.unwrap().id);
    }
    w.a_editor
        .create_interaction(meeting("Keyed", 20).idempotency_key("key-1"))
        .await
        .unwrap();
    w.a_editor.delete_interaction(ids[0], None).await.unwrap();
    let edited = w
        .a_editor
        .update_interaction(
            ids[2],
            interaction_core::InteractionPatch {
                title: Some("Edited".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    h.store.login("a_admin", PASSWORD).await.unwrap();
    // Archive one interaction as the library will: the same row, moved, with its time.
    let archived_at = if h.is_postgres() {
        "now()".to_string()
    } else {
        chrono::Utc::now().timestamp_micros().to_string()
    };
    let cols = "interaction_id, site_id, title, type, lead, start_datetime, timezone, \
                end_datetime, location, description, notes, created_by, created_at, updated_by, \
                updated_at, deleted_at, deleted_by, version";
    h.exec(&format!(
        "INSERT INTO interactions_archive ({cols}, archived_at) \
         SELECT {cols}, {archived_at} FROM interactions WHERE interaction_id = {id}; \
         DELETE FROM interactions WHERE interaction_id = {id}",
        id = ids[4]
    ))
    .await;
    let occurred = if h.is_postgres() { "now()" } else { "0" };
    h.exec(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) \
         INSERT INTO access_log (occurred_at, username, action, success, detail) \
         SELECT {occurred}, 'user' || i, 'login', i % 3 = 0, 'attempt ' || i FROM n"
    ))
    .await;
    (ids[4], edited)
}

fn assert_sound(r: &IntegrityReport) {
    assert!(r.ok(), "{:#?}", r.problems);
    assert_eq!(
        r.schema_version.as_deref(),
        Some(migrate::required().to_string().as_str())
    );
    assert!(r.missing_tables.is_empty());
    assert!(r
        .migrations
        .iter()
        .all(|m| m.state == MigrationState::Applied));
    for c in &r.checks {
        assert_eq!(c.failing, Some(0), "{}", c.name);
    }
}

/// Each table's digest, by name.
fn digests(r: &IntegrityReport) -> Vec<(String, String)> {
    r.tables
        .iter()
        .map(|t| (t.table.clone(), t.digest.clone()))
        .collect()
}

async fn a_sound_database_verifies(h: Harness) {
    populate(&h).await;
    let r = h.store.verify().await.unwrap();
    assert_sound(&r);
    assert_eq!(
        (
            r.counts.users,
            r.counts.sites,
            r.counts.live,
            r.counts.deleted,
            r.counts.archived
        ),
        (6, 2, 11, 1, 1)
    );
    assert_eq!(r.migrations.len(), 4);
    // Every table of the schema, and nothing else (not SQLite's full-text storage).
    let names: Vec<&str> = r.tables.iter().map(|t| t.table.as_str()).collect();
    let mut expected = interaction_core::ops::verify::TABLES.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for t in &r.tables {
        let n = h.count(&format!("SELECT count(*) FROM {}", t.table)).await;
        assert_eq!(t.rows, n as u64, "{}", t.table);
        assert_eq!(t.digest.len(), 64);
    }
    assert!(r.table("access_log").unwrap().rows > 2500, "several pages");
    assert!(r.tables.iter().all(|t| t.rows > 0), "{:?}", r.tables);
    // Deterministic; serializable for the CLI.
    assert_eq!(h.store.verify().await.unwrap(), r);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["required_version"], migrate::required().to_string());
    assert_eq!(json["migrations"][0]["state"], "applied");
}

async fn tampering_is_reported(h: Harness) {
    let (archived, live) = populate(&h).await;
    let before = h.store.verify().await.unwrap();
    assert_sound(&before);

    // One title changed behind the library's back: that table's checksum, and only it.
    h.exec(&format!(
        "UPDATE interactions SET title = 'Edited!' WHERE interaction_id = {}",
        live.id
    ))
    .await;
    let r = h.store.verify().await.unwrap();
    assert!(r.ok(), "a changed value is no problem by itself");
    for ((t, a), (_, b)) in digests(&before).iter().zip(digests(&r)) {
        assert_eq!(a != &b, t == "interactions", "{t}");
    }
    // A value on a later page of a table, and a value set back: checksums follow.
    h.exec("UPDATE access_log SET detail = 'changed' WHERE username = 'user2222'")
        .await;
    let r2 = h.store.verify().await.unwrap();
    assert_ne!(
        r2.table("access_log").unwrap().digest,
        r.table("access_log").unwrap().digest
    );
    h.exec("UPDATE access_log SET detail = 'attempt 2222' WHERE username = 'user2222'")
        .await;
    h.exec(&format!(
        "UPDATE interactions SET title = 'Edited' WHERE interaction_id = {}",
        live.id
    ))
    .await;
    assert_eq!(h.store.verify().await.unwrap(), before);

    // An interaction whose site does not exist (foreign keys off for the insert).
    let orphan = format!(
        "INSERT INTO interactions (interaction_id, site_id, title, type, lead, start_datetime, \
         timezone, end_datetime, created_by, created_at, version) \
         SELECT 900001, 4242, title, type, lead, start_datetime, timezone, end_datetime, \
         created_by, created_at, version FROM interactions WHERE interaction_id = {}",
        live.id
    );
    if h.is_postgres() {
        h.exec(&format!(
            "BEGIN; SET LOCAL session_replication_role = replica; {orphan}; COMMIT"
        ))
        .await;
    } else {
        h.exec(&format!(
            "PRAGMA foreign_keys = OFF; {orphan}; PRAGMA foreign_keys = ON"
        ))
        .await;
    }
    let r = h.store.verify().await.unwrap();
    assert!(!r.ok());
    assert_eq!(
        r.check("interactions_without_site").unwrap().failing,
        Some(1)
    );
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(
        r.problems[0].contains("interactions_without_site"),
        "{:?}",
        r.problems
    );
    assert_eq!(r.counts.live, before.counts.live + 1);
    h.exec("DELETE FROM interactions WHERE interaction_id = 900001")
        .await;

    // An id both live and archived.
    let cols = "interaction_id, site_id, title, type, lead, start_datetime, timezone, \
                end_datetime, created_by, created_at, version";
    h.exec(&format!(
        "INSERT INTO interactions ({cols}) SELECT {cols} FROM interactions_archive \
         WHERE interaction_id = {archived}"
    ))
    .await;
    let r = h.store.verify().await.unwrap();
    assert!(!r.ok());
    assert_eq!(
        r.check("interactions_live_and_archived").unwrap().failing,
        Some(1)
    );
    assert!(r.problems.iter().any(|p| p.contains("exactly one")));
    h.exec(&format!(
        "DELETE FROM interactions WHERE interaction_id = {archived}"
    ))
    .await;

    // A live row marked archived.
    h.exec(&format!(
        "UPDATE interactions SET archived_at = created_at WHERE interaction_id = {}",
        live.id
    ))
    .await;
    let r = h.store.verify().await.unwrap();
    assert_eq!(
        r.check("live_rows_with_archived_at").unwrap().failing,
        Some(1)
    );
    assert!(!r.ok());
    h.exec(&format!(
        "UPDATE interactions SET archived_at = NULL WHERE interaction_id = {}",
        live.id
    ))
    .await;
    assert!(h.store.verify().await.unwrap().ok());

    // A recorded migration checksum altered.
    h.exec("UPDATE schema_migrations SET checksum = substr(checksum, 2) WHERE migration_id = 1")
        .await;
    let r = h.store.verify().await.unwrap();
    assert!(!r.ok());
    assert_eq!(r.migrations[0].state, MigrationState::Modified);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("migration 1 (initial)") && p.contains("checksum")),
        "{:?}",
        r.problems
    );
    assert_ne!(
        r.table("schema_migrations").unwrap().digest,
        before.table("schema_migrations").unwrap().digest
    );
}

async fn a_restored_backup_reports_the_same(h: Harness) {
    let (_, live) = populate(&h).await;
    let original = h.store.verify().await.unwrap();
    assert_sound(&original);
    let dir = tempfile::tempdir().unwrap();
    let copy = if h.is_postgres() {
        let copy = h.scratch_pg_url().await;
        let bindir =
            std::env::var("PG_BINDIR").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".to_string());
        let dump = dir.path().join("dump.sql");
        let run = move |program: &str, args: Vec<String>| {
            let out = std::process::Command::new(format!("{bindir}/{program}"))
                .args(&args)
                .output()
                .unwrap_or_else(|e| panic!("{program}: {e}"));
            assert!(
                out.status.success(),
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let dump_s = dump.display().to_string();
        let (src, dst) = (h.url.clone(), copy.clone());
        tokio::task::spawn_blocking(move || {
            run(
                "pg_dump",
                vec![
                    "--no-owner".into(),
                    "-f".into(),
                    dump_s.clone(),
                    "-d".into(),
                    src,
                ],
            );
            run(
                "psql",
                vec![
                    "-X".into(),
                    "-q".into(),
                    "-v".into(),
                    "ON_ERROR_STOP=1".into(),
                    "-f".into(),
                    dump_s,
                    "-d".into(),
                    dst,
                ],
            );
        })
        .await
        .unwrap();
        copy
    } else {
        let path = dir.path().join("copy.db");
        h.exec(&format!("VACUUM INTO '{}'", path.display())).await;
        format!("sqlite://{}", path.display())
    };
    let restored = StoreOptions::new(&copy).connect().await.unwrap();
    let report = restored.verify().await.unwrap();
    assert_eq!(report, original);
    assert_eq!((report.counts.archived, report.counts.deleted), (1, 1));
    // The restored copy is usable: an interaction reads back as it was written.
    let s = restored
        .session_for_user(live.created_by, live.site_id)
        .await
        .unwrap();
    assert_eq!(s.get_interaction(live.id).await.unwrap(), live);
    restored.close().await;
}

async fn an_older_or_empty_schema_is_reported_not_an_error(h: Harness) {
    // Empty: nothing recorded, every table missing, all counts zero.
    let url = h.scratch_pg_or_sqlite().await;
    let store = StoreOptions::new(&url)
        .check_schema(false)
        .connect()
        .await
        .unwrap();
    let r = store.verify().await.unwrap();
    assert!(!r.ok());
    assert_eq!(r.schema_version, None);
    assert_eq!(
        r.missing_tables.len(),
        interaction_core::ops::verify::TABLES.len()
    );
    assert!(r.tables.is_empty());
    assert!(r
        .migrations
        .iter()
        .all(|m| m.state == MigrationState::Pending));
    assert!(r.checks.iter().all(|c| c.failing.is_none()));
    assert_eq!(r.counts, interaction_core::Counts::default());

    // At 1.2.0: migration 4 pending, its table missing, its checks not run.
    let v120: SchemaVersion = "1.2.0".parse().unwrap();
    store.migrate_to(v120).await.unwrap();
    let r = store.verify().await.unwrap();
    assert!(!r.ok());
    assert_eq!(r.schema_version.as_deref(), Some("1.2.0"));
    let states: Vec<_> = r.migrations.iter().map(|m| m.state).collect();
    assert_eq!(
        states,
        [
            MigrationState::Applied,
            MigrationState::Applied,
            MigrationState::Applied,
            MigrationState::Pending
        ]
    );
    assert_eq!(r.missing_tables, ["interactions_archive"]);
    assert_eq!(
        r.check("interactions_without_site").unwrap().failing,
        Some(0)
    );
    assert_eq!(r.check("archived_without_site").unwrap().failing, None);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("interactions migrate")),
        "{:?}",
        r.problems
    );

    // Migrated: sound.
    store.migrate().await.unwrap();
    assert_sound(&store.verify().await.unwrap());
    // A migration this library does not know (a newer one's) is no problem.
    Harness::exec_on(
        &url,
        "INSERT INTO schema_migrations (migration_id, name, schema_version, checksum, applied_at) \
         SELECT 99, 'future', '1.3.0', checksum, applied_at FROM schema_migrations \
         WHERE migration_id = 4",
    )
    .await;
    let r = store.verify().await.unwrap();
    assert!(r.ok(), "{:?}", r.problems);
    assert_eq!(r.migrations.last().unwrap().state, MigrationState::Unknown);
    store.close().await;
}

/// PostgreSQL sessions with another byte-array output format (and time zone and date
/// style, which the driver pins to UTC and ISO at connect; the checksum does not rely on
/// that) checksum the same content the same.
#[cfg(feature = "postgres-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_checksums_do_not_depend_on_session_settings() {
    let h = Harness::postgres().await;
    populate(&h).await;
    let before = h.store.verify().await.unwrap();
    assert!(before.ok(), "{:?}", before.problems);
    let db = h.url.rsplit('/').next().unwrap().to_string();
    h.exec(&format!(
        "ALTER DATABASE {db} SET bytea_output = 'escape'; \
         ALTER DATABASE {db} SET TimeZone = 'Pacific/Chatham'; \
         ALTER DATABASE {db} SET DateStyle = 'SQL, DMY'"
    ))
    .await;
    let other = StoreOptions::new(&h.url).connect().await.unwrap();
    assert_eq!(other.verify().await.unwrap(), before);
    // New sessions do run with that setting.
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&h.url)
        .await
        .unwrap();
    let shown: String = sqlx::query_scalar("SHOW bytea_output")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(shown, "escape");
    other.close().await;
}
