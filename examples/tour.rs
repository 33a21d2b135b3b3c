//! The README's "API tour (Rust)", compiled and run by the test command. The README shows
//! the part between the `README:begin` / `README:end` markers verbatim (a test in
//! `examples/tests/readme.rs` keeps the two the same).
//!
//! ```text
//! cargo run --example tour                              # sqlite::memory:, no server
//! cargo run --example tour -- postgres://app@db/interactions
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run --example tour  # also the Redis cache part
//! ```

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use futures_util::StreamExt;
use interaction_core::{
    Clock, ErrorKind, InteractionPatch, NewInteraction, RangeMode, RetentionPolicy, Role, Sort,
    StoreOptions, ARCHIVE_AFTER,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite::memory:".into());
    let redis_url = std::env::var("REDIS_URL").ok();
    let run = Utc::now().timestamp_micros(); // unique names: the tour can run again on one database
    let (site_name, alice_name) = (format!("Head office {run}"), format!("alice{run}"));
    let alice_email = format!("{alice_name}@example.com");
    let (start, end) = (Utc::now(), Utc::now() + Span::hours(1));
    let (from, to) = (start - Span::days(1), end + Span::days(1));
    // README:begin
    // Open (pool defaults from spec §5.3: min 5, max 20, acquire 30 s, idle 10 min, lifetime 30 min).
    let store = StoreOptions::new(&url) // e.g. "postgres://app@db/interactions", "sqlite://app.db"
        .max_connections(40)
        .migrate(true) // apply pending migrations; without it a database behind is refused
        .connect()
        .await?;

    // Host-level administration.
    let site = store.create_site(&site_name, Some("HQ")).await?;
    let alice = store
        .create_user(&alice_name, &alice_email, "correct horse battery")
        .await?;
    store.grant_role(alice.id, site.id, Role::Admin).await?;

    // Log in, then open a session on one site: everything it does is scoped to that site.
    let login = store.login(&alice_name, "correct horse battery").await?; // 24 h token
    let s = store.session(&login.token, site.id).await?; // or session_for_user(id, site)

    let i = s
        .create_interaction(
            NewInteraction::new("Kickoff", "meeting", "Alice", start, end, "Europe/Berlin")
                .location("Room 4")
                .notes("budget for next year"),
        )
        .await?;
    let patch = InteractionPatch {
        title: Some("Kickoff v2".into()),
        ..Default::default()
    };
    let i = s.update_interaction(i.id, patch, Some(i.version)).await?; // stale version => Conflict
    s.delete_interaction(i.id, None).await?; // soft delete
    s.restore_interaction(i.id).await?; // admin, within 30 days

    let search = || {
        s.finder()
            .text("budget -draft") // web-search syntax: "phrase", or, -exclude
            .types(["meeting", "call"])
            .date_range(from, to, RangeMode::Overlap)
            .sort(Sort::StartDesc) // default; also StartAsc, CreatedDesc, Relevance
            .limit(50)
    };
    let page = search().await?; // Page { items, next_cursor }
    if let Some(cursor) = page.next_cursor {
        // None on the last page
        let next = search().after(cursor).await?;
        println!("next page: {} items", next.items.len());
    }
    // Or let a stream follow the cursors: every match, one page query at a time.
    let mut rows = search().iterate(); // search().pages() yields whole pages
    while let Some(row) = rows.next().await {
        let row = row?;
        println!("#{} {}", row.id, row.title);
    }
    let total = s.finder().text("budget").count().await?; // separate, on demand

    let trail = s.audit_trail(100, None).await?; // admin only
    store.logout(&login.token).await?; // s's next call: AuthenticationFailed
    assert_eq!(
        s.get_interaction(i.id).await.unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    store.close().await;

    // Caching (on by default, in process memory): a Redis shared by every process makes a
    // logout or a change in one of them seen by the next call in all of them.
    if let Some(redis_url) = &redis_url {
        let store = StoreOptions::new(&url)
            .migrate(true)
            .redis_url(redis_url) // e.g. "redis://cache:6379/0"; bad scheme => Validation
            .redis_timeout(Duration::from_millis(100)) // slower: calls go to the database
            .connect() // .cache(false) turns caching off
            .await?;
        let stats = store.cache_stats(); // CacheStats { backend: "redis", available, finder: { hits, misses }, .. }
        println!("cache: {} available={}", stats.backend, stats.available);
        store.close().await;
    }

    // Data lifecycle: time is injectable; archival and retention purges have a dry run.
    let clock = Clock::manual("2020-01-01T00:00:00Z".parse()?);
    let store = StoreOptions::new("sqlite::memory:") // or a file: "sqlite://lifecycle.db"
        .migrate(true)
        .clock(clock.clone()) // every timestamp comes from it
        .retention(RetentionPolicy {
            deleted_interactions: Duration::from_secs(30 * 86_400),
            ..Default::default()
        }) // spec §6.1 defaults, each configurable
        .connect()
        .await?;
    let site = store.create_site("Archive demo", None).await?;
    let bob = store
        .create_user("bob", "bob@example.com", "correct horse battery")
        .await?;
    store.grant_role(bob.id, site.id, Role::Admin).await?;
    let s = store.session_for_user(bob.id, site.id).await?;
    let t = clock.now();
    let old = s
        .create_interaction(NewInteraction::new("Old call", "call", "Bob", t, t, "UTC"))
        .await?;
    clock.advance(Duration::from_secs(3 * 365 * 86_400))?; // three years later
    let plan = store.archive(None, true).await?; // dry run: ArchiveReport { moved, sites, .. }
    let done = store.archive(Some(ARCHIVE_AFTER), false).await?; // checked batches, checksum
    let page = s.finder().archived_only(true).await?; // or include_archived(true); read-only rows
    s.unarchive_interaction(old.id).await?; // admin; a change to an archived one: Error::Archived
    let report = store.purge(false).await?; // PurgeReport { outcomes: [PurgeOutcome { policy, rows, .. }] }
    let counts = store.counts().await?; // Counts { users, sites, live, deleted, archived }

    // README:end
    assert_eq!((plan.moved, done.moved, page.items.len()), (1, 1, 1));
    assert_eq!((counts.live, counts.archived), (1, 0));
    println!(
        "tour done on {url}: {total} match(es), {} audit entries, purged {} rows",
        trail.entries.len(),
        report.total()
    );
    store.close().await;
    Ok(())
}
