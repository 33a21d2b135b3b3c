//! Archival (spec §4.3): checked batches, read-only archived rows found when asked,
//! interrupted runs, concurrent edits. Time comes from a manual clock.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use interaction_core::{
    Clock, ErrorKind, Interaction, InteractionPatch, InteractionStore, Role, SiteSession,
    StoreOptions,
};

use crate::harness::{meeting, Harness};

const DAY: u64 = 24 * 3600;
const YEAR: u64 = 365 * DAY;

fn t0() -> DateTime<Utc> {
    "2020-01-01T00:00:00Z".parse().unwrap()
}

/// A second store on the harness's database whose time is `clock`.
pub async fn clocked(h: &Harness, clock: &Clock) -> InteractionStore {
    StoreOptions::new(&h.url)
        .clock(clock.clone())
        .min_connections(1)
        .max_connections(8)
        .connect()
        .await
        .expect("open a clocked store")
}

/// A site with an admin, an editor and a viewer session on `store`.
async fn team(h: &Harness, store: &InteractionStore, name: &str) -> [SiteSession; 3] {
    let site = store.create_site(name, None).await.unwrap();
    let mut out = Vec::new();
    for role in [Role::Admin, Role::Editor, Role::Viewer] {
        let u = h
            .user(&format!(
                "{}_{}",
                name.replace(' ', "_").to_lowercase(),
                role.as_str()
            ))
            .await;
        store.grant_role(u.id, site.id, role).await.unwrap();
        out.push(store.session_for_user(u.id, site.id).await.unwrap());
    }
    out.try_into().unwrap()
}

/// Everything a site holds, live and archived, with `archived_at` cleared: what an
/// archival run must keep exactly.
async fn content(s: &SiteSession) -> Vec<Interaction> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let mut f = s.finder().include_archived(true).limit(500);
        if let Some(c) = after.take() {
            f = f.after(c);
        }
        let page = f.await.unwrap();
        all.extend(page.items.into_iter().map(|mut i| {
            i.archived_at = None;
            i
        }));
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    all.sort_by_key(|i| i.id);
    all
}

async fn archival_moves_inactive_rows_in_checked_batches(h: Harness) {
    let clock = Clock::manual(t0());
    let store = clocked(&h, &clock).await;
    let [admin, editor, _] = team(&h, &store, "Archive A").await;
    let [_, other, _] = team(&h, &store, "Archive B").await;
    let mut ids = Vec::new();
    for n in 0..1050 {
        ids.push(
            editor
                .create_interaction(meeting(&format!("old {n}"), n % 30))
                .await
                .unwrap()
                .id,
        );
    }
    let b_old = other.create_interaction(meeting("b old", 1)).await.unwrap();
    clock.advance(Duration::from_secs(YEAR)).unwrap();
    // Changed a year later: two years later they are 1.x years inactive and stay.
    for id in &ids[..10] {
        let p = InteractionPatch {
            title: Some("touched".into()),
            ..Default::default()
        };
        editor.update_interaction(*id, p, None).await.unwrap();
    }
    // Deleted rows are the purge's, never archived.
    for id in &ids[10..15] {
        editor.delete_interaction(*id, None).await.unwrap();
    }
    clock.advance(Duration::from_secs(YEAR + YEAR / 2)).unwrap();
    let before = content(&admin).await;

    let dry = store.archive(None, true).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.moved, 1035 + 1);
    assert_eq!(dry.sites[&admin.site_id()], 1035);
    assert_eq!(dry.sites[&other.site_id()], 1);
    assert_eq!(dry.cutoff, clock.now() - chrono::Duration::days(730));
    assert_eq!(
        store.counts().await.unwrap().archived,
        0,
        "a dry run moves nothing"
    );

    let mut seen = Vec::new();
    let run = store
        .archive_with_progress(None, false, |p| seen.push(p))
        .await
        .unwrap();
    assert!(!run.dry_run);
    assert_eq!(run.moved, 1036);
    assert_eq!(run.sites, dry.sites);
    assert_eq!(run.batches, 3, "500 per transaction");
    assert_eq!(run.skipped, 0);
    assert_eq!(run.checksum.len(), 64);
    assert_eq!(seen.last().unwrap().moved, 1036);
    assert_eq!(seen.last().unwrap().total, 1036);
    let c = store.counts().await.unwrap();
    assert_eq!((c.live, c.deleted, c.archived), (10, 5, 1036));
    assert_eq!(
        h.count(
            "SELECT count(*) FROM interactions i JOIN interactions_archive a \
             ON a.interaction_id = i.interaction_id"
        )
        .await,
        0,
        "an interaction is in exactly one table"
    );
    // Nothing changed but the table: same content, every archived row stamped.
    assert_eq!(content(&admin).await, before);
    let archived = admin.get_interaction(ids[500]).await.unwrap();
    assert_eq!(archived.archived_at, Some(clock.now()));
    assert_eq!(archived.title, "old 500");
    // One audit row per site and batch, with the ids and checksum of what moved.
    assert_eq!(
        h.count("SELECT count(*) FROM audit_log WHERE action = 'archive'")
            .await,
        4
    );
    let trail = admin.audit_trail(10, None).await.unwrap();
    let rec = trail
        .entries
        .iter()
        .find(|e| e.action == "archive")
        .unwrap();
    assert!(rec.changes["ids"].as_array().unwrap().len() <= 500);
    assert_eq!(rec.changes["checksum"].as_str().unwrap().len(), 64);
    assert_eq!(
        other.get_interaction(b_old.id).await.unwrap().archived_at,
        Some(clock.now())
    );
    // Rerun: nothing left to move.
    let again = store.archive(None, false).await.unwrap();
    assert_eq!((again.moved, again.batches), (0, 0));
    assert!(again.checksum.is_empty());
    // The threshold is an input: one hour to 100 years.
    for bad in [
        Duration::ZERO,
        Duration::from_secs(60),
        Duration::from_secs(101 * YEAR),
    ] {
        let e = store.archive(Some(bad), true).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert_eq!(e.field(), Some("older_than"));
    }
    store.close().await;
}

async fn archived_interactions_are_read_only_and_found_when_asked(h: Harness) {
    let clock = Clock::manual(t0());
    let store = clocked(&h, &clock).await;
    let [admin, editor, viewer] = team(&h, &store, "Read only").await;
    let mut old = Vec::new();
    for n in 0..5 {
        let i = editor
            .create_interaction(meeting(&format!("archived budget {n}"), n))
            .await
            .unwrap();
        old.push(i);
    }
    clock.advance(Duration::from_secs(3 * YEAR)).unwrap();
    let mut live = Vec::new();
    for n in 0..5 {
        let i = editor
            .create_interaction(meeting(&format!("live budget {n}"), n))
            .await
            .unwrap();
        live.push(i);
    }
    assert_eq!(store.archive(None, false).await.unwrap().moved, 5);

    // The Finder: live only by default; both, or archived only, when asked.
    let ids = |p: &interaction_core::Page| p.items.iter().map(|i| i.id).collect::<Vec<_>>();
    let default = viewer.finder().limit(100).await.unwrap();
    assert_eq!(default.items.len(), 5);
    assert!(default.items.iter().all(|i| i.archived_at.is_none()));
    let only = viewer
        .finder()
        .archived_only(true)
        .limit(100)
        .await
        .unwrap();
    assert_eq!(only.items.len(), 5);
    assert!(only.items.iter().all(|i| i.archived_at.is_some()));
    let both = viewer
        .finder()
        .include_archived(true)
        .limit(100)
        .await
        .unwrap();
    assert_eq!(both.items.len(), 10);
    // One order across both tables (start, newest first), paged with the same cursors.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let mut f = viewer.finder().include_archived(true).limit(3);
        if let Some(c) = after.take() {
            f = f.after(c);
        }
        let p = f.await.unwrap();
        paged.extend(ids(&p));
        match p.next_cursor {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, ids(&both));
    // A cursor of one source is not accepted by another.
    let first = viewer
        .finder()
        .include_archived(true)
        .limit(3)
        .await
        .unwrap();
    let e = viewer
        .finder()
        .limit(3)
        .after(first.next_cursor.unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("cursor"));
    // Filters, full text, relevance and counts reach archived rows.
    let text = viewer
        .finder()
        .text("archived")
        .include_archived(true)
        .await
        .unwrap();
    assert_eq!(text.items.len(), 5);
    let ranked = viewer
        .finder()
        .text("budget")
        .sort(interaction_core::Sort::Relevance)
        .archived_only(true)
        .await
        .unwrap();
    assert_eq!(ranked.items.len(), 5);
    assert_eq!(
        viewer
            .finder()
            .title_contains("BUDGET 3")
            .include_archived(true)
            .count()
            .await
            .unwrap(),
        2
    );
    assert_eq!(viewer.finder().text("archived").count().await.unwrap(), 0);

    // Read by id; every change is ARCHIVED; nothing changes.
    let a = viewer.get_interaction(old[0].id).await.unwrap();
    assert!(a.archived_at.is_some());
    let patch = InteractionPatch {
        title: Some("edited".into()),
        ..Default::default()
    };
    let e = editor
        .update_interaction(old[0].id, patch.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Archived);
    assert!(e.to_string().contains("unarchive"), "{e}");
    let e = editor
        .delete_interaction(old[0].id, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Archived);
    let e = admin.restore_interaction(old[0].id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Archived);
    assert_eq!(viewer.get_interaction(old[0].id).await.unwrap(), a);
    // Another site sees nothing of it.
    let [_, stranger, _] = team(&h, &store, "Elsewhere").await;
    assert_eq!(
        stranger
            .get_interaction(old[0].id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        stranger
            .update_interaction(old[0].id, patch.clone(), None)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        stranger
            .unarchive_interaction(old[0].id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );

    // Unarchive: admins only; live again, version + 1, active now, audited.
    assert_eq!(
        editor
            .unarchive_interaction(old[0].id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    let back = admin.unarchive_interaction(old[0].id).await.unwrap();
    assert_eq!(back.archived_at, None);
    assert_eq!(back.version, old[0].version + 1);
    assert_eq!(back.updated_at, Some(clock.now()));
    assert_eq!(back.title, old[0].title);
    assert_eq!(
        admin
            .unarchive_interaction(old[0].id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound,
        "no longer archived"
    );
    assert_eq!(
        admin.unarchive_interaction(0).await.unwrap_err().kind(),
        ErrorKind::Validation
    );
    let edited = editor
        .update_interaction(old[0].id, patch, Some(back.version))
        .await
        .unwrap();
    assert_eq!(edited.title, "edited");
    assert_eq!(
        admin
            .audit_trail(5, None)
            .await
            .unwrap()
            .entries
            .iter()
            .filter(|e| e.action == "unarchive")
            .count(),
        1
    );
    // The next run leaves it alone: it just changed.
    assert_eq!(store.archive(None, false).await.unwrap().moved, 0);
    assert_eq!(viewer.finder().limit(100).await.unwrap().items.len(), 6);
    store.close().await;
}

async fn an_interrupted_run_loses_nothing(h: Harness) {
    let clock = Clock::manual(t0());
    let store = clocked(&h, &clock).await;
    let [admin, editor, _] = team(&h, &store, "Interrupted").await;
    for n in 0..1600 {
        editor
            .create_interaction(meeting(&format!("row {n}"), n % 50))
            .await
            .unwrap();
    }
    clock.advance(Duration::from_secs(3 * YEAR)).unwrap();
    let before = content(&admin).await;
    // Stop the run after its first batch: the task is aborted mid-run.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let run = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .archive_with_progress(None, false, move |p| {
                    let _ = tx.send(p.moved);
                })
                .await
        })
    };
    let first = rx.recv().await.expect("a first batch");
    run.abort();
    let _ = run.await;
    // A batch already sent to the database still commits or rolls back whole (writes
    // run on their own task): wait until the counts settle.
    let mut c = store.counts().await.unwrap();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = store.counts().await.unwrap();
        if again == c {
            break;
        }
        c = again;
    }
    assert!(c.archived >= first && c.archived < 1600, "{c:?}");
    assert_eq!(c.archived % 500, 0, "whole batches only: {c:?}");
    assert_eq!(c.live + c.archived, 1600);
    assert_eq!(
        h.count(
            "SELECT count(*) FROM interactions i JOIN interactions_archive a \
             ON a.interaction_id = i.interaction_id"
        )
        .await,
        0
    );
    // Rerun: the rest moves; the content is exactly what it was.
    let rest = store.archive(None, false).await.unwrap();
    // (A batch the aborted run had already handed to its own task may have committed
    // since: the rerun moves at most what was left.)
    assert!(
        rest.moved > 0 && rest.moved <= 1600 - c.archived,
        "{rest:?}"
    );
    let c = store.counts().await.unwrap();
    assert_eq!((c.live, c.archived), (0, 1600));
    assert_eq!(content(&admin).await, before);
    store.close().await;
}

async fn concurrent_edits_during_archival_are_never_lost(h: Harness) {
    let clock = Clock::manual(t0());
    let store = clocked(&h, &clock).await;
    let [admin, editor, _] = team(&h, &store, "Concurrent").await;
    let mut ids = Vec::new();
    for n in 0..1200 {
        ids.push(
            editor
                .create_interaction(meeting(&format!("c {n}"), n % 20))
                .await
                .unwrap()
                .id,
        );
    }
    clock.advance(Duration::from_secs(3 * YEAR)).unwrap();
    let edits = {
        let editor = editor.clone();
        let ids = ids.clone();
        tokio::spawn(async move {
            let mut outcomes = BTreeMap::new();
            for (k, id) in ids.iter().enumerate().step_by(7) {
                let p = InteractionPatch {
                    notes: Some(Some(format!("edit {k}"))),
                    ..Default::default()
                };
                let r = editor.update_interaction(*id, p, None).await;
                outcomes.insert(*id, r.map(|_| ()).map_err(|e| e.kind()));
            }
            outcomes
        })
    };
    let report = store.archive(None, false).await.unwrap();
    let outcomes = edits.await.unwrap();
    let mut edited = 0;
    for (id, r) in &outcomes {
        let now = admin.get_interaction(*id).await.unwrap();
        match r {
            // A committed edit made the row active again: it is live, with the edit.
            Ok(()) => {
                edited += 1;
                assert_eq!(now.archived_at, None, "{id}");
                assert!(now.notes.as_deref().unwrap().starts_with("edit"), "{id}");
            }
            // Too late: the row was archived first, unchanged; the editor was told.
            Err(kind) => {
                assert_eq!(*kind, ErrorKind::Archived, "{id}");
                assert!(now.archived_at.is_some(), "{id}");
                assert_eq!(now.notes, None, "{id}");
            }
        }
    }
    let c = store.counts().await.unwrap();
    assert_eq!(c.live + c.archived, 1200);
    assert_eq!(report.moved + c.live, 1200, "{report:?}");
    assert_eq!(c.live as usize, edited);
    store.close().await;
}

crate::contract!(
    archival_moves_inactive_rows_in_checked_batches,
    archived_interactions_are_read_only_and_found_when_asked,
    an_interrupted_run_loses_nothing,
    concurrent_edits_during_archival_are_never_lost,
);
