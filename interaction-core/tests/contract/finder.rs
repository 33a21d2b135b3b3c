//! The Finder: filters, sorts, keyset pagination and cursors.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use interaction_core::{ErrorKind, NewInteraction, RangeMode, SiteSession, Sort};

use crate::harness::{meeting, Harness};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn seed(s: &SiteSession) {
    let rows = [
        (
            "Quarterly budget review",
            "meeting",
            "Alice Smith",
            "2026-03-01T10:00:00Z",
            2,
            None,
            Some("numbers"),
        ),
        (
            "Budget call",
            "call",
            "Bob Jones",
            "2026-03-02T10:00:00Z",
            1,
            Some("about the budget"),
            None,
        ),
        (
            "Hiring sync",
            "meeting",
            "alice smith",
            "2026-03-03T10:00:00Z",
            1,
            None,
            Some("budget for hiring"),
        ),
        (
            "Site visit",
            "visit",
            "Carol",
            "2026-03-10T08:00:00Z",
            48,
            Some("warehouse tour"),
            None,
        ),
        (
            "Supplier email",
            "email",
            "Dan",
            "2026-02-20T09:00:00Z",
            0,
            Some("the e-mail thread"),
            None,
        ),
    ];
    for (title, ty, lead, start, hours, desc, notes) in rows {
        let start = at(start);
        let mut n = NewInteraction::new(
            title,
            ty,
            lead,
            start,
            start + Duration::hours(hours),
            "UTC",
        );
        n.description = desc.map(Into::into);
        n.notes = notes.map(Into::into);
        s.create_interaction(n).await.unwrap();
    }
}

fn titles(p: &interaction_core::Page) -> Vec<&str> {
    p.items.iter().map(|i| i.title.as_str()).collect()
}

async fn filters_each_work(h: Harness) {
    let w = h.world().await;
    seed(&w.a_editor).await;
    let f = || w.a_viewer.finder();
    // Default order: newest start first.
    assert_eq!(
        titles(&f().await.unwrap()),
        [
            "Site visit",
            "Hiring sync",
            "Budget call",
            "Quarterly budget review",
            "Supplier email"
        ]
    );
    assert_eq!(
        titles(&f().sort(Sort::StartAsc).limit(2).await.unwrap()),
        ["Supplier email", "Quarterly budget review"]
    );
    assert_eq!(
        titles(&f().sort(Sort::CreatedDesc).limit(1).await.unwrap()),
        ["Supplier email"]
    );
    // Free text over title, description and notes, stemmed.
    assert_eq!(f().text("budget").count().await.unwrap(), 3);
    assert_eq!(f().text("budgets").count().await.unwrap(), 3);
    assert_eq!(f().text("budget -hiring").count().await.unwrap(), 2);
    assert_eq!(f().text("\"budget review\"").count().await.unwrap(), 1);
    assert_eq!(f().text("warehouse or supplier").count().await.unwrap(), 2);
    assert_eq!(f().text("e-mail").count().await.unwrap(), 1);
    assert_eq!(f().text("nonexistentword").count().await.unwrap(), 0);
    // Relevance: a title hit outranks description and notes hits.
    let r = f().text("budget").sort(Sort::Relevance).await.unwrap();
    assert_eq!(r.items.len(), 3);
    assert!(
        titles(&r)[..2]
            .iter()
            .all(|t| t.to_lowercase().contains("budget")),
        "{:?}",
        titles(&r)
    );
    assert_eq!(titles(&r)[2], "Hiring sync");
    // Substrings, case-insensitive, including short patterns.
    assert_eq!(
        titles(&f().title_contains("BUDGET").await.unwrap()),
        ["Budget call", "Quarterly budget review"]
    );
    assert_eq!(f().title_contains("it").count().await.unwrap(), 1);
    assert_eq!(f().lead_contains("alice").count().await.unwrap(), 2);
    assert_eq!(f().lead_contains("o").count().await.unwrap(), 2);
    // Types.
    assert_eq!(f().types(["call", "email"]).count().await.unwrap(), 2);
    assert_eq!(f().types(["nope"]).count().await.unwrap(), 0);
    // Date ranges: overlap vs contained. The site visit runs 10th 08:00 to 12th 08:00.
    let (from, to) = (at("2026-03-11T00:00:00Z"), at("2026-03-11T23:59:59Z"));
    assert_eq!(
        titles(&f().date_range(from, to, RangeMode::Overlap).await.unwrap()),
        ["Site visit"]
    );
    assert_eq!(
        f().date_range(from, to, RangeMode::Contained)
            .count()
            .await
            .unwrap(),
        0
    );
    let (from, to) = (at("2026-03-01T00:00:00Z"), at("2026-03-03T23:00:00Z"));
    assert_eq!(
        f().date_range(from, to, RangeMode::Contained)
            .count()
            .await
            .unwrap(),
        3
    );
    // Creator and combinations.
    assert_eq!(
        f().created_by(w.a_editor.user_id()).count().await.unwrap(),
        5
    );
    assert_eq!(
        f().created_by(w.a_admin.user_id()).count().await.unwrap(),
        0
    );
    assert_eq!(
        titles(
            &f().text("budget")
                .types(["meeting"])
                .lead_contains("smith")
                .await
                .unwrap()
        ),
        ["Hiring sync", "Quarterly budget review"]
    );
}

async fn bad_finder_input_is_typed(h: Harness) {
    let w = h.world().await;
    let f = || w.a_viewer.finder();
    let cases = [
        (f().limit(0), "limit"),
        (f().limit(501), "limit"),
        (f().text(""), "text"),
        (f().text("-only -negative"), "text"),
        (f().text("x".repeat(1001)), "text"),
        (f().sort(Sort::Relevance), "sort"),
        (f().title_contains("a\0"), "title_contains"),
        (f().types(vec!["t"; 51]), "types"),
        (f().types([""]), "types"),
        (
            f().date_range(
                at("2026-02-01T00:00:00Z"),
                at("2026-01-01T00:00:00Z"),
                RangeMode::Overlap,
            ),
            "date_range",
        ),
        (f().created_by(0), "created_by"),
        (f().after("not a cursor"), "cursor"),
        (
            f().after("eyJ2IjoxLCJmIjoiMDAwMDAwMDAwMDAwMDAwMCIsImsiOjAsImlkIjoxfQ"),
            "cursor",
        ),
    ];
    for (finder, field) in cases {
        let e = finder.await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{field}: {e}");
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert_eq!(f().limit(500).await.unwrap().items.len(), 0);
}

async fn keyset_pages_are_stable_under_ties(h: Harness) {
    let w = h.world().await;
    // 23 rows, many sharing the same start: the id must break ties.
    for n in 0..23 {
        let mut m = meeting(&format!("row {n} budget"), n % 3);
        if n % 2 == 0 {
            m = m.notes("budget budget");
        }
        w.a_editor.create_interaction(m).await.unwrap();
    }
    for sort in [
        Sort::StartDesc,
        Sort::StartAsc,
        Sort::CreatedDesc,
        Sort::Relevance,
    ] {
        let base = || w.a_viewer.finder().text("budget").sort(sort);
        let all = base().limit(500).await.unwrap().items;
        assert_eq!(all.len(), 23);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut f = base().limit(4);
            if let Some(c) = cursor.take() {
                f = f.after(c);
            }
            let page = f.await.unwrap();
            seen.extend(page.items.iter().map(|i| i.id));
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let want: Vec<_> = all.iter().map(|i| i.id).collect();
        assert_eq!(
            seen, want,
            "{sort:?}: pages must concatenate to the full listing"
        );
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
        // A cursor of this query is refused by another query.
        let c = base().limit(4).await.unwrap().next_cursor.unwrap();
        let e = w
            .a_viewer
            .finder()
            .text("other")
            .sort(sort)
            .after(c)
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("cursor"));
    }
    // The last page has no cursor; an exact multiple ends cleanly too.
    let p = w.a_viewer.finder().limit(23).await.unwrap();
    assert!(p.next_cursor.is_none());
}

/// A cursor re-encoded with its key replaced: base64url JSON followed by a 16-byte MAC,
/// which the forger cannot compute (zeros here).
fn crafted(cursor: &str, key: serde_json::Value) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = engine.decode(cursor).unwrap();
    let mut doc: serde_json::Value = serde_json::from_slice(&bytes[..bytes.len() - 16]).unwrap();
    doc["k"] = key;
    let mut forged = serde_json::to_vec(&doc).unwrap();
    forged.extend_from_slice(&[0; 16]);
    engine.encode(forged)
}

async fn out_of_range_instants_and_keys_are_refused(h: Harness) {
    let w = h.world().await;
    for n in 0..3 {
        w.a_editor
            .create_interaction(meeting(&format!("row {n}"), n))
            .await
            .unwrap();
    }
    let page = w.a_viewer.finder().limit(1).await.unwrap();
    let next = page.next_cursor.expect("more pages");
    for key in [
        serde_json::json!(i64::MAX),
        serde_json::json!(i64::MIN),
        serde_json::json!(-62_135_596_800_000_001_i64), // 1 µs before year 1
        serde_json::json!(253_402_300_800_000_000_i64), // year 10000
    ] {
        let e = w
            .a_viewer
            .finder()
            .limit(1)
            .after(crafted(&next, key.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("cursor"), "{key}: {e}");
    }
    let e = w
        .a_viewer
        .finder()
        .date_range(
            DateTime::<Utc>::MIN_UTC,
            at("2026-01-01T00:00:00Z"),
            RangeMode::Overlap,
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("date_range"), "{e}");
    let mut far = meeting("far", 0);
    far.start = DateTime::<Utc>::MAX_UTC.into();
    far.end = DateTime::<Utc>::MAX_UTC.into();
    let e = w.a_editor.create_interaction(far).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
}

async fn explain_works(h: Harness) {
    let w = h.world().await;
    let plan = w.a_viewer.finder().text("budget").explain().await.unwrap();
    assert!(!plan.is_empty());
}

async fn streams_walk_every_page(h: Harness) {
    use futures_util::StreamExt;
    let w = h.world().await;
    for n in 0..7 {
        w.a_editor
            .create_interaction(meeting(&format!("row {n} budget"), n % 3))
            .await
            .unwrap();
    }
    for sort in [
        Sort::StartDesc,
        Sort::StartAsc,
        Sort::CreatedDesc,
        Sort::Relevance,
    ] {
        let base = || w.a_viewer.finder().text("budget").sort(sort);
        let want: Vec<i64> = base()
            .limit(500)
            .await
            .unwrap()
            .items
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(want.len(), 7);
        // Pages of 3: 3 + 3 + 1, the last without a cursor, then the stream ends (fused).
        let mut pages = base().limit(3).pages();
        let mut sizes = Vec::new();
        let mut ids = Vec::new();
        while let Some(p) = pages.next().await {
            let p = p.unwrap();
            sizes.push((p.items.len(), p.next_cursor.is_some()));
            ids.extend(p.items.iter().map(|i| i.id));
        }
        assert_eq!(sizes, [(3, true), (3, true), (1, false)], "{sort:?}");
        assert_eq!(ids, want, "{sort:?}");
        assert!(futures_util::stream::FusedStream::is_terminated(&pages));
        assert!(pages.next().await.is_none());
        // Rows: the same interactions, whatever the page size (an exact multiple too).
        for limit in [1, 7, 500] {
            let rows: Vec<i64> = base()
                .limit(limit)
                .iterate()
                .map(|r| r.unwrap().id)
                .collect()
                .await;
            assert_eq!(rows, want, "{sort:?} limit {limit}");
        }
        // A Finder's own cursor is where the stream starts.
        let first = base().limit(3).await.unwrap();
        let rest: Vec<i64> = base()
            .limit(3)
            .after(first.next_cursor.unwrap())
            .iterate()
            .map(|r| r.unwrap().id)
            .collect()
            .await;
        assert_eq!(rest, want[3..], "{sort:?}");
    }
    // No match: one empty page, no rows.
    let pages: Vec<_> = w.a_viewer.finder().text("nothing").pages().collect().await;
    assert_eq!(pages.len(), 1);
    assert!(pages[0].as_ref().unwrap().items.is_empty());
    assert_eq!(
        w.a_viewer.finder().text("nothing").iterate().count().await,
        0
    );
    // An error is yielded once, then the stream ends.
    let errs: Vec<_> = w.a_viewer.finder().limit(0).iterate().collect().await;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].as_ref().unwrap_err().field(), Some("limit"));
    let denied: Vec<_> = w
        .a_viewer
        .finder()
        .include_deleted(true)
        .pages()
        .collect()
        .await;
    assert_eq!(denied.len(), 1);
    assert_eq!(
        denied[0].as_ref().unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    // Another site's rows never appear.
    assert_eq!(w.b_viewer.finder().iterate().count().await, 0);
}

crate::contract!(
    streams_walk_every_page,
    filters_each_work,
    bad_finder_input_is_typed,
    keyset_pages_are_stable_under_ties,
    out_of_range_instants_and_keys_are_refused,
    explain_works
);
