//! PostgreSQL-only checks: index use of the Finder's main shapes, unreachable servers.

use chrono::{DateTime, Duration, Utc};
use interaction_core::{
    ErrorKind, InteractionStore, NewInteraction, RangeMode, Role, Sort, StoreOptions,
};

use crate::harness::Harness;

/// The main Finder shapes over a few thousand rows in several sites must not scan the
/// interactions table sequentially. Prints the plans for the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finder_plans_use_indexes() {
    let h = Harness::postgres().await;
    let mut sessions = Vec::new();
    for s in 0..5 {
        let site = h.site(&format!("site {s}")).await;
        sessions.push(h.member(&format!("user{s}"), &site, Role::Admin).await);
    }
    let site_ids: Vec<i64> = sessions.iter().map(|s| s.site_id()).collect();
    // Bulk-load behind the library (the library path is exercised elsewhere): 4000 rows.
    let words = [
        "budget", "review", "hiring", "supplier", "visit", "call", "roadmap", "audit",
    ];
    let types = ["meeting", "call", "email", "visit"];
    let sql = format!(
        "INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, timezone, \
         description, notes, created_by, created_at) \
         SELECT (ARRAY{site_ids:?})[1 + g % 5], \
                (ARRAY{words:?})[1 + g % 8] || ' ' || (ARRAY{words:?})[1 + (g / 8) % 8] || ' #' || g, \
                (ARRAY{types:?})[1 + g % 4], 'Lead ' || (g % 50), \
                timestamptz '2024-01-01' + g * interval '37 minutes', \
                timestamptz '2024-01-01' + g * interval '37 minutes' + interval '1 hour', 'UTC', \
                'description ' || (ARRAY{words:?})[1 + (g / 3) % 8], 'notes ' || g, \
                {uid}, now() FROM generate_series(1, 4000) g",
        uid = sessions[0].user_id()
    )
    .replace('"', "'");
    h.exec(&sql).await;
    h.exec("ANALYZE interactions").await;
    let s = &sessions[2];
    let from: DateTime<Utc> = "2024-02-01T00:00:00Z".parse().unwrap();
    let shapes = [
        ("default listing", s.finder()),
        ("listing, page 2", {
            let c = s.finder().limit(50).await.unwrap().next_cursor.unwrap();
            s.finder().limit(50).after(c)
        }),
        ("free text, recency", s.finder().text("budget")),
        (
            "free text, relevance",
            s.finder().text("budget review").sort(Sort::Relevance),
        ),
        ("title contains", s.finder().title_contains("roadmap")),
        ("lead contains", s.finder().lead_contains("Lead 1")),
        ("type in set", s.finder().types(["call", "visit"])),
        (
            "date range",
            s.finder()
                .date_range(from, from + Duration::days(7), RangeMode::Overlap),
        ),
        ("created, newest first", s.finder().sort(Sort::CreatedDesc)),
        ("oldest first", s.finder().sort(Sort::StartAsc)),
    ];
    let mut failures = Vec::new();
    for (name, f) in shapes {
        let plan = f.explain().await.unwrap();
        println!("--- {name}\n{plan}");
        if plan.contains("Seq Scan on interactions") {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "sequential scans in: {failures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_unavailable() {
    let e = StoreOptions::new("postgres://postgres@127.0.0.1:1/none")
        .acquire_timeout(std::time::Duration::from_secs(2))
        .min_connections(0)
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
}

/// A interaction written with a local time keeps its zone and instant across backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_are_timestamptz() {
    let h = Harness::postgres().await;
    let site = h.site("tz").await;
    let s = h.member("tz", &site, Role::Editor).await;
    let start: DateTime<Utc> = "2026-05-05T05:05:05.123456Z".parse().unwrap();
    let i = s
        .create_interaction(NewInteraction::new(
            "t",
            "m",
            "l",
            start,
            start,
            "Asia/Kolkata",
        ))
        .await
        .unwrap();
    assert_eq!(i.start_datetime, start);
    let ty = h
        .count("SELECT count(*) FROM information_schema.columns WHERE table_name = 'interactions' AND data_type = 'timestamp with time zone'")
        .await;
    assert_eq!(ty, 6, "five instants and archived_at");
    let _ = InteractionStore::connect(&h.url).await.unwrap();
}
