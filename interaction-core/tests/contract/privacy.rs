//! Privacy (spec §6.3): the right to be forgotten, masked reads, access logging of reads.

use interaction_core::{ErrorKind, InteractionPatch, Role, StoreOptions};
use sqlx::{AssertSqlSafe, Row};

use crate::harness::{meeting, Harness, Raw, PASSWORD};

const NAME: &str = "Zyquorrav";
const EMAIL: &str = "Zyquorrav.Mailbox@Example.ORG";

/// Moves an interaction into `interactions_archive` behind the library's back (archival
/// is written elsewhere; this is the row as it would land there).
async fn archive_by_hand(h: &Harness, id: i64) {
    let cols =
        "interaction_id, site_id, title, type, lead, start_datetime, end_datetime, timezone, \
                location, description, notes, created_by, created_at, updated_by, updated_at, \
                deleted_at, deleted_by, version";
    let now = if h.is_postgres() {
        "now()".to_string()
    } else {
        chrono::Utc::now().timestamp_micros().to_string()
    };
    h.exec(&format!(
        "INSERT INTO interactions_archive ({cols}, archived_at) SELECT {cols}, {now} FROM interactions \
         WHERE interaction_id = {id}"
    ))
    .await;
    h.exec(&format!(
        "DELETE FROM interactions WHERE interaction_id = {id}"
    ))
    .await;
}

/// Every table of the database (the SQLite full-text index's own tables aside: their
/// rows are its segments, which an `optimize` merges).
async fn tables(h: &Harness) -> Vec<String> {
    let sql = if h.is_postgres() {
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1"
    };
    match &h.raw {
        Raw::Pg(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        Raw::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

async fn row_counts(h: &Harness) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in tables(h).await {
        if t.starts_with("interactions_fts") {
            continue;
        }
        let n = h.count(&format!("SELECT count(*) FROM {t}")).await;
        out.push((t, n));
    }
    out
}

/// Everything the database holds, as bytes: PostgreSQL: `pg_dump` of the whole
/// database; SQLite: every column of every row of every table (blobs as they are,
/// full-text segments included), then the database file and its WAL.
async fn everything(h: &Harness) -> Vec<u8> {
    match &h.raw {
        Raw::Pg(_) => {
            let bin = std::env::var("PG_BINDIR")
                .map(|d| format!("{d}/pg_dump"))
                .ok()
                .filter(|p| std::path::Path::new(p).exists())
                .unwrap_or_else(|| "/usr/lib/postgresql/15/bin/pg_dump".into());
            let out = std::process::Command::new(bin)
                .args(["--no-owner", "-d", &h.url])
                .output()
                .expect("run pg_dump");
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
        Raw::Sqlite(p) => {
            let mut all = Vec::new();
            for t in tables(h).await {
                let cols: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{t}')"
                )))
                .fetch_all(p)
                .await
                .unwrap();
                for c in cols {
                    let vals: Vec<Option<Vec<u8>>> = sqlx::query_scalar(AssertSqlSafe(format!(
                        "SELECT CAST(\"{c}\" AS BLOB) FROM \"{t}\""
                    )))
                    .fetch_all(p)
                    .await
                    .unwrap();
                    for v in vals.into_iter().flatten() {
                        all.extend_from_slice(&v);
                        all.push(b'\n');
                    }
                }
            }
            let path = h.url.trim_start_matches("sqlite://").to_string();
            all.extend(std::fs::read(&path).unwrap());
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                all.extend(wal);
            }
            all
        }
    }
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    let h = haystack.to_ascii_lowercase();
    let n = needle.to_ascii_lowercase().into_bytes();
    h.windows(n.len()).any(|w| w == n.as_slice())
}

async fn anonymize_user_leaves_no_trace(h: Harness) {
    let site = h.site("Site A").await;
    let admin = h.member("site_admin", &site, Role::Admin).await;
    let victim = h.store.create_user(NAME, EMAIL, PASSWORD).await.unwrap();
    h.store
        .grant_role(victim.id, site.id, Role::Editor)
        .await
        .unwrap();
    // A failed attempt (logged with the username), one in another case, then a login.
    for (who, pw) in [(NAME, "wrong password!"), ("ZYQUORRAV", PASSWORD)] {
        assert_eq!(
            h.store.login(who, pw).await.unwrap_err().kind(),
            ErrorKind::AuthenticationFailed
        );
    }
    let token = h.store.login(NAME, PASSWORD).await.unwrap();
    let s = h.store.session(&token.token, site.id).await.unwrap();

    let mut n = meeting(&format!("Review with {NAME}"), 0).notes(format!(
        "Contact {} or {} ({}).",
        EMAIL.to_uppercase(),
        NAME.to_lowercase(),
        EMAIL
    ));
    n.lead = NAME.to_lowercase();
    let live = s.create_interaction(n.clone()).await.unwrap();
    s.update_interaction(
        live.id,
        InteractionPatch {
            description: Some(Some(format!("Follow-up by {NAME}: mail {EMAIL}"))),
            ..InteractionPatch::default()
        },
        None,
    )
    .await
    .unwrap();
    let deleted = s.create_interaction(n.clone()).await.unwrap();
    s.delete_interaction(deleted.id, None).await.unwrap();
    let archived = s.create_interaction(n.clone()).await.unwrap();
    archive_by_hand(&h, archived.id).await;
    let other = admin
        .create_interaction(
            meeting("Unrelated", 1).description(format!("cc {}", EMAIL.to_lowercase())),
        )
        .await
        .unwrap();
    // Warm the Finder cache with a page holding the name.
    assert!(admin.finder().await.unwrap().items[0]
        .description
        .as_deref()
        .is_some_and(|d| d.contains(&EMAIL.to_lowercase())));

    let before = row_counts(&h).await;
    let dump = everything(&h).await;
    assert!(
        holds(&dump, NAME) && holds(&dump, EMAIL),
        "the test data is in the dump"
    );

    let user = h.store.anonymize_user(victim.id).await.unwrap();
    let tomb = format!("deleted-user-{}", victim.id);
    assert_eq!(user.username, tomb);
    assert_eq!(user.email, format!("{tomb}@invalid"));
    assert!(!user.is_active);
    assert_eq!(h.store.get_user(victim.id).await.unwrap(), user);

    let dump = everything(&h).await;
    assert!(!holds(&dump, NAME), "the username is still in the database");
    assert!(!holds(&dump, EMAIL), "the email is still in the database");
    assert!(holds(&dump, &tomb));

    // Nothing deleted: the same rows everywhere, one more audit row.
    let after = row_counts(&h).await;
    let expected: Vec<(String, i64)> = before
        .into_iter()
        .map(|(t, n)| if t == "audit_log" { (t, n + 1) } else { (t, n) })
        .collect();
    assert_eq!(after, expected);
    if !h.is_postgres() {
        assert_eq!(
            h.count("SELECT count(*) FROM pragma_foreign_key_check")
                .await,
            0
        );
    }

    // The session and the token are dead; neither name logs in.
    assert_eq!(
        s.get_interaction(live.id).await.unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(
        h.store
            .session(&token.token, site.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AuthenticationFailed
    );
    for who in [NAME, tomb.as_str()] {
        assert_eq!(
            h.store.login(who, PASSWORD).await.unwrap_err().kind(),
            ErrorKind::AuthenticationFailed
        );
    }

    // The rows are still there, rewritten (the cached page is gone), versions bumped.
    let l = admin.get_interaction(live.id).await.unwrap();
    assert_eq!(l.title, format!("Review with {tomb}"));
    assert_eq!(l.lead, tomb);
    assert_eq!(
        l.notes.as_deref().unwrap(),
        format!("Contact {tomb}@invalid or {tomb} ({tomb}@invalid).")
    );
    assert_eq!(l.version, 3);
    assert_eq!(l.created_by, victim.id);
    let page = admin.finder().await.unwrap();
    let o = page.items.iter().find(|i| i.id == other.id).unwrap();
    assert_eq!(
        o.description.as_deref(),
        Some(format!("cc {tomb}@invalid").as_str())
    );
    // Free text finds the rewritten rows by the tombstone, not by the name.
    assert_eq!(admin.finder().text(NAME).count().await.unwrap(), 0);

    // One audit row, without personal data; audit JSON still parses.
    let trail = admin.audit_trail(50, None).await.unwrap();
    assert!(trail.entries.iter().all(|e| !e.changes.is_null()));
    let created = trail
        .entries
        .iter()
        .find(|e| e.entity == "interaction" && e.entity_id == Some(live.id) && e.action == "create")
        .unwrap();
    assert_eq!(created.changes["lead"], serde_json::json!(tomb));
    assert_eq!(
        h.count(&format!(
            "SELECT count(*) FROM audit_log WHERE action = 'anonymize' AND entity = 'user' AND entity_id = {}",
            victim.id
        ))
        .await,
        1
    );
    // The access log keeps the user's rows (counts intact) under the tombstone.
    let log = h.store.access_log(20).await.unwrap();
    assert!(log.iter().filter(|e| e.user_id == Some(victim.id)).count() >= 2);
    assert!(log
        .iter()
        .filter(|e| e.user_id == Some(victim.id))
        .all(|e| e.username == tomb));

    // Anonymising again changes nothing more.
    assert_eq!(h.store.anonymize_user(victim.id).await.unwrap(), user);
}

async fn anonymize_checks_its_input(h: Harness) {
    for (id, kind) in [
        (0, ErrorKind::Validation),
        (-3, ErrorKind::Validation),
        (i64::from(i32::MAX) + 1, ErrorKind::Validation),
        (424_242, ErrorKind::NotFound),
    ] {
        assert_eq!(
            h.store.anonymize_user(id).await.unwrap_err().kind(),
            kind,
            "{id}"
        );
    }
    // The tombstone names are reserved.
    let e = h
        .store
        .create_user("deleted-user-9", "x@example.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("username"));
    let e = h
        .store
        .create_user("someone", "deleted-user-9@INVALID", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("email"));
}

/// `(id, lead, description, notes)` of every row of `interactions_masked`.
async fn masked_rows(h: &Harness) -> Vec<(i64, String, Option<String>, Option<String>)> {
    let sql = "SELECT interaction_id, lead, description, notes FROM interactions_masked ORDER BY interaction_id";
    match &h.raw {
        Raw::Pg(p) => sqlx::query(sql)
            .fetch_all(p)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (i64::from(r.get::<i32, _>(0)), r.get(1), r.get(2), r.get(3)))
            .collect(),
        Raw::Sqlite(p) => sqlx::query(sql)
            .fetch_all(p)
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect(),
    }
}

const TRICKY_LEADS: &[&str] = &[
    "Ana María López",
    "  Émile    Zola  ",
    "X",
    "李 小龍",
    "a  b  c",
    "Dr.\tNo",
    " ñ",
    "O'Brien-Smith Jr.",
    "🙂 smile",
];

async fn masked_reads_match_the_views(h: Harness) {
    let w = h.world().await;
    let mut ids = Vec::new();
    for (i, lead) in TRICKY_LEADS.iter().enumerate() {
        let mut n = meeting(&format!("masked {i}"), i as i64)
            .notes("secret notes")
            .description("secret description")
            .location("Room 4");
        n.lead = (*lead).to_string();
        ids.push(w.a_editor.create_interaction(n).await.unwrap());
    }
    // One archived row: the view covers both tables.
    archive_by_hand(&h, ids[0].id).await;
    let api: Vec<_> = ids.iter().map(|i| i.masked()).collect();
    let view = masked_rows(&h).await;
    assert_eq!(view.len(), ids.len());
    for (a, (id, lead, description, notes)) in api.iter().zip(&view) {
        assert_eq!(a.id, *id);
        assert_eq!(&a.lead, lead, "lead of {id}");
        assert_eq!((description, notes), (&None, &None));
        assert_eq!((a.description.as_ref(), a.notes.as_ref()), (None, None));
        assert_eq!(a.location.as_deref(), Some("Room 4"));
    }
    assert_eq!(api[0].lead, "A. M.");
    assert_eq!(api[1].lead, "É. Z.");
    assert_eq!(api[2].lead, "X.");

    // The Finder applies the same rule to every item (live rows here).
    let page = w.a_viewer.finder().masked(true).limit(100).await.unwrap();
    assert_eq!(page.items.len(), ids.len() - 1);
    for item in &page.items {
        let (_, lead, ..) = view.iter().find(|v| v.0 == item.id).unwrap();
        assert_eq!(&item.lead, lead);
        assert_eq!(
            (item.description.as_ref(), item.notes.as_ref()),
            (None, None)
        );
        assert_eq!(
            item.title,
            ids.iter().find(|i| i.id == item.id).unwrap().title
        );
    }
    let plain = w.a_viewer.finder().limit(100).await.unwrap();
    assert!(plain
        .items
        .iter()
        .all(|i| i.notes.as_deref() == Some("secret notes")));

    // users_masked and User::masked agree.
    let u = h
        .store
        .create_user("Ünal_k", "Ünal.K@example.com", PASSWORD)
        .await
        .unwrap();
    let sql = format!(
        "SELECT username, email FROM users_masked WHERE user_id = {}",
        u.id
    );
    let (name, email): (String, String) = match &h.raw {
        Raw::Pg(p) => sqlx::query_as(AssertSqlSafe(sql))
            .fetch_one(p)
            .await
            .unwrap(),
        Raw::Sqlite(p) => sqlx::query_as(AssertSqlSafe(sql))
            .fetch_one(p)
            .await
            .unwrap(),
    };
    let m = u.masked();
    assert_eq!(
        (m.username.as_str(), m.email.as_str()),
        ("Ü***", "Ü***@example.com")
    );
    assert_eq!((name, email), (m.username, m.email));
}

async fn reads_are_logged_when_asked(h: Harness) {
    let w = h.world().await;
    let i = w
        .a_editor
        .create_interaction(meeting("logged", 0))
        .await
        .unwrap();
    let elsewhere = w
        .b_editor
        .create_interaction(meeting("other site", 0))
        .await
        .unwrap();
    // Off by default: reads write nothing.
    let rows = || h.count("SELECT count(*) FROM access_log");
    let n0 = rows().await;
    w.a_viewer.get_interaction(i.id).await.unwrap();
    w.a_viewer.finder().await.unwrap();
    w.a_viewer.finder().count().await.unwrap();
    assert_eq!(rows().await, n0);

    let store = StoreOptions::new(&h.url)
        .access_logging(true)
        .max_connections(4)
        .connect()
        .await
        .unwrap();
    let viewer = store
        .session_for_user(w.a_viewer.user_id(), w.a.id)
        .await
        .unwrap();
    viewer.get_interaction(i.id).await.unwrap();
    assert_eq!(
        viewer
            .get_interaction(elsewhere.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(viewer.finder().limit(5).await.unwrap().items.len(), 1);
    assert_eq!(
        viewer
            .finder()
            .include_deleted(true)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(viewer.finder().count().await.unwrap(), 1);
    let log = store.access_log(5).await.unwrap();
    let got: Vec<_> = log
        .iter()
        .rev()
        .map(|e| {
            (
                e.action.as_str(),
                e.resource.as_deref().unwrap(),
                e.success,
                e.detail.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("read", format!("interaction:{}", i.id).as_str(), true, "ok"),
            (
                "read",
                format!("interaction:{}", elsewhere.id).as_str(),
                false,
                "not_found"
            ),
            ("search", "finder", true, "ok"),
            ("search", "finder", false, "denied"),
            ("count", "finder", true, "ok"),
        ]
    );
    for e in &log {
        assert_eq!(e.user_id, Some(w.a_viewer.user_id()));
        assert_eq!(e.username, "a_viewer");
        assert_eq!(e.site_id, Some(w.a.id));
    }
    assert_eq!(rows().await, n0 + 5);
    store.close().await;
}

crate::contract!(
    anonymize_user_leaves_no_trace,
    anonymize_checks_its_input,
    masked_reads_match_the_views,
    reads_are_logged_when_asked,
);

/// PostgreSQL: a login role that is a member of `interaction_reporting` reads the masked
/// views and nothing else.
#[cfg(feature = "postgres-tests")]
mod reporting_role {
    use super::*;
    use interaction_core::NewInteraction;
    use sqlx::Connection;

    /// A login role of this test, dropped when the guard goes (also on a panic).
    struct TempRole {
        admin: String,
        name: String,
    }

    impl Drop for TempRole {
        fn drop(&mut self) {
            let (admin, name) = (self.admin.clone(), self.name.clone());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::raw_sql(AssertSqlSafe(format!("DROP ROLE IF EXISTS {name}")))
                            .execute(&mut c)
                            .await;
                    }
                });
            })
            .join();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reporting_role_reads_only_the_masked_views() {
        let h = Harness::postgres().await;
        let w = h.world().await;
        w.a_editor
            .create_interaction(
                NewInteraction {
                    lead: "Ana María López".into(),
                    ..meeting("report me", 0)
                }
                .notes("private"),
            )
            .await
            .unwrap();
        assert_eq!(
            h.count("SELECT count(*) FROM pg_roles WHERE rolname = 'interaction_reporting' AND NOT rolcanlogin")
                .await,
            1,
            "the migration creates the NOLOGIN reporting role (the test server's URL is a superuser)"
        );
        let role = TempRole {
            admin: std::env::var("DATABASE_URL").unwrap(),
            name: format!(
                "istest_reporter_{}_{}",
                std::process::id(),
                chrono::Utc::now().timestamp_micros() % 1_000_000_000
            ),
        };
        h.exec(&format!(
            "CREATE ROLE {} LOGIN PASSWORD 'reporter-pw' IN ROLE interaction_reporting",
            role.name
        ))
        .await;
        let url = h.url.replacen(
            "postgres://postgres@",
            &format!("postgres://{}:reporter-pw@", role.name),
            1,
        );
        assert_ne!(url, h.url, "the test URL has the expected shape");
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let (lead, notes): (String, Option<String>) =
            sqlx::query_as("SELECT lead, notes FROM interactions_masked")
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!((lead.as_str(), notes), ("A. M.", None));
        let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users_masked")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(users, 6);
        for view in ["audit_log_masked", "access_log_masked"] {
            sqlx::query(AssertSqlSafe(format!("SELECT * FROM {view}")))
                .fetch_all(&mut c)
                .await
                .unwrap();
        }
        for table in [
            "interactions",
            "interactions_archive",
            "users",
            "audit_log",
            "access_log",
            "auth_sessions",
        ] {
            let e = sqlx::query(AssertSqlSafe(format!("SELECT 1 FROM {table} LIMIT 1")))
                .fetch_all(&mut c)
                .await
                .unwrap_err();
            let code = e
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.to_string());
            assert_eq!(code.as_deref(), Some("42501"), "{table}: {e}");
        }
        let _ = c.close().await;
        drop(role);
    }
}
