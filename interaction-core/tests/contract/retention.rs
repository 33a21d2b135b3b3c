//! Retention purges (spec §6.1, §6.4): every rule at its threshold, with data on both
//! sides of it, time injected through a manual clock.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use interaction_core::{Clock, ErrorKind, RetentionPolicy, Role, StoreOptions};

use crate::archive::clocked;
use crate::harness::{meeting, Harness, PASSWORD};

const DAY: u64 = 24 * 3600;
const YEAR: u64 = 365 * DAY;

fn ago(end: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    end - chrono::Duration::seconds(secs as i64)
}

/// An instant as a SQL literal of the harness's backend.
fn lit(h: &Harness, t: DateTime<Utc>) -> String {
    if h.is_postgres() {
        format!("'{}'", t.to_rfc3339())
    } else {
        t.timestamp_micros().to_string()
    }
}

async fn purge_applies_each_rule_at_its_threshold(h: Harness) {
    // The end is now (migrations were audited at the real time: schema rows stay).
    let end = Utc::now().trunc_subsecs(0) + chrono::Duration::days(1);
    let clock = Clock::manual(ago(end, 8 * YEAR));
    let store = clocked(&h, &clock).await;
    let at = |secs: u64| clock.set(ago(end, secs)).unwrap();

    // 8 years ago: a site, users (admin actions) and interactions (data modifications).
    let site = store.create_site("Retention", None).await.unwrap();
    let owner = store
        .create_user("owner", "owner@example.com", PASSWORD)
        .await
        .unwrap();
    store
        .grant_role(owner.id, site.id, Role::Admin)
        .await
        .unwrap();
    let s = store.session_for_user(owner.id, site.id).await.unwrap();
    let mut old = Vec::new();
    for n in 0..4 {
        old.push(
            s.create_interaction(meeting(&format!("old {n}"), n))
                .await
                .unwrap(),
        );
    }
    // Archived 5 years + 1 day ago (gone after the purge) and 3 years ago (kept); old 1
    // changed 7 years ago, so the first run leaves it.
    at(7 * YEAR);
    s.update_interaction(old[1].id, title("kept in the archive"), None)
        .await
        .unwrap();
    at(5 * YEAR + DAY);
    assert_eq!(store.archive(None, false).await.unwrap().moved, 3);
    at(3 * YEAR);
    assert_eq!(store.archive(None, false).await.unwrap().moved, 1);
    // Logins: 2 years + 1 day ago (deleted), 18 months ago (anonymised), a month ago
    // (kept as it is); a failed one 2 years + 1 day ago (deleted).
    for secs in [2 * YEAR + DAY, YEAR + YEAR / 2, 30 * DAY] {
        at(secs);
        store.login("owner", PASSWORD).await.unwrap();
    }
    at(2 * YEAR + DAY);
    assert_eq!(
        store
            .login("owner", "wrong password!")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::AuthenticationFailed
    );
    // Interactions changed 2 years + 1 day ago and a year ago (data modifications).
    at(2 * YEAR + DAY);
    let mid = s.create_interaction(meeting("mid", 1)).await.unwrap();
    at(YEAR);
    let recent = s.create_interaction(meeting("recent", 2)).await.unwrap();
    // Soft-deleted 31 days ago (purged) and 29 days ago (kept, restorable).
    at(31 * DAY);
    s.delete_interaction(mid.id, None).await.unwrap();
    at(29 * DAY);
    s.delete_interaction(recent.id, None).await.unwrap();
    // Access attempts (reads) a year + a day ago and a year - a day ago, and schema
    // changes 5 years + a day ago and 5 years - a day ago, written behind the library.
    for (secs, action) in [(YEAR + DAY, "read"), (YEAR - DAY, "read")] {
        h.exec(&format!(
            "INSERT INTO access_log (occurred_at, username, user_id, action, success, detail) \
             VALUES ({}, 'owner', {}, '{action}', TRUE, 'ok')",
            lit(&h, ago(end, secs)),
            owner.id
        ))
        .await;
    }
    for secs in [5 * YEAR + DAY, 5 * YEAR - DAY] {
        h.exec(&format!(
            "INSERT INTO audit_log (occurred_at, action, entity, changes) \
             VALUES ({}, 'migrate', 'schema', '{{}}')",
            lit(&h, ago(end, secs))
        ))
        .await;
    }
    // A token used now: kept; the three logins' tokens expired long ago.
    clock.set(end).unwrap();
    let live_token = store.login("owner", PASSWORD).await.unwrap();

    let tables = [
        "interactions",
        "interactions_archive",
        "access_log",
        "audit_log",
        "auth_sessions",
    ];
    let mut counts = Vec::new();
    for t in tables {
        counts.push(h.count(&format!("SELECT count(*) FROM {t}")).await);
    }
    let dry = store.purge(true).await.unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.now, end);
    for (t, n) in tables.iter().zip(&counts) {
        assert_eq!(
            h.count(&format!("SELECT count(*) FROM {t}")).await,
            *n,
            "dry run: {t}"
        );
    }
    let rows = |r: &interaction_core::PurgeReport, p: &str| {
        r.outcomes.iter().find(|o| o.policy == p).unwrap().rows
    };
    assert_eq!(rows(&dry, "deleted_interactions"), 1);
    assert_eq!(rows(&dry, "archived_interactions"), 3);
    let done = store.purge(false).await.unwrap();
    assert_eq!(
        done.outcomes
            .iter()
            .map(|o| (o.policy.clone(), o.rows))
            .collect::<Vec<_>>(),
        dry.outcomes
            .iter()
            .map(|o| (o.policy.clone(), o.rows))
            .collect::<Vec<_>>(),
        "the dry run said what the purge did"
    );

    // Interactions: the one deleted 31 days ago is gone, the one 29 days ago restorable.
    assert_eq!(
        s.restore_interaction(mid.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    s.restore_interaction(recent.id).await.unwrap();
    // Archive: archived 5 years + 1 day ago gone; 3 years ago kept.
    assert_eq!(
        h.count("SELECT count(*) FROM interactions_archive").await,
        1
    );
    assert_eq!(
        s.get_interaction(old[1].id).await.unwrap().title,
        "kept in the archive"
    );
    // Access log: reads older than a year gone; logins older than 2 years gone; the one
    // of 18 months ago anonymised; the recent ones intact.
    assert_eq!(
        h.count("SELECT count(*) FROM access_log WHERE action = 'read'")
            .await,
        1
    );
    assert_eq!(
        h.count("SELECT count(*) FROM access_log WHERE action = 'login'")
            .await,
        3
    );
    assert_eq!(
        h.count(
            "SELECT count(*) FROM access_log WHERE action = 'login' AND username = 'anonymised' \
             AND user_id IS NULL AND detail IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        h.count(&format!(
            "SELECT count(*) FROM access_log WHERE action = 'login' AND user_id = {}",
            owner.id
        ))
        .await,
        2
    );
    // Audit: interaction changes older than 2 years gone, admin actions older than 3
    // years gone, schema changes older than 5 years gone; newer ones kept.
    let audit = |filter: &str| {
        let sql = format!("SELECT count(*) FROM audit_log WHERE {filter}");
        let h = &h;
        async move { h.count(&sql).await }
    };
    assert_eq!(
        audit(&format!(
            "entity = 'interaction' AND action = 'create' AND occurred_at < {}",
            lit(&h, ago(end, 2 * YEAR))
        ))
        .await,
        0
    );
    assert_eq!(
        audit("entity = 'interaction' AND action = 'create'").await,
        1,
        "recent"
    );
    assert_eq!(
        audit("entity IN ('user', 'site', 'membership')").await,
        0,
        "8 years old"
    );
    assert_eq!(
        audit(&format!(
            "entity = 'schema' AND occurred_at < {}",
            lit(&h, ago(end, 5 * YEAR))
        ))
        .await,
        0
    );
    assert_eq!(
        audit(&format!(
            "entity = 'schema' AND occurred_at > {}",
            lit(&h, ago(end, 5 * YEAR))
        ))
        .await,
        1 + 4,
        "5 years - 1 day, and the real migrations"
    );
    // Tokens: only the live one is left, and it still works.
    assert_eq!(h.count("SELECT count(*) FROM auth_sessions").await, 1);
    store.session(&live_token.token, site.id).await.unwrap();
    // Tombstones: one per rule and batch that removed something, without personal data.
    let tombstones = audit("action = 'purge' AND entity = 'retention'").await;
    assert_eq!(
        tombstones as usize,
        done.outcomes.iter().filter(|o| o.rows > 0).count()
    );
    // Nothing left to do.
    let again = store.purge(false).await.unwrap();
    assert_eq!(again.total(), 0, "{again:?}");
    store.close().await;
}

fn title(t: &str) -> interaction_core::InteractionPatch {
    interaction_core::InteractionPatch {
        title: Some(t.into()),
        ..Default::default()
    }
}

async fn purges_are_batched_and_configurable(h: Harness) {
    let end: DateTime<Utc> = "2031-01-01T00:00:00Z".parse().unwrap();
    let clock = Clock::manual(ago(end, 10 * DAY));
    let policy = RetentionPolicy {
        deleted_interactions: Duration::from_secs(7 * DAY),
        ..RetentionPolicy::default()
    };
    let store = StoreOptions::new(&h.url)
        .clock(clock.clone())
        .retention(policy)
        .connect()
        .await
        .unwrap();
    let site = store.create_site("Batches", None).await.unwrap();
    let u = store
        .create_user("batcher", "b@example.com", PASSWORD)
        .await
        .unwrap();
    store.grant_role(u.id, site.id, Role::Admin).await.unwrap();
    let s = store.session_for_user(u.id, site.id).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..2300 {
        ids.push(
            s.create_interaction(meeting(&format!("b {n}"), n % 9))
                .await
                .unwrap()
                .id,
        );
    }
    for id in &ids {
        s.delete_interaction(*id, None).await.unwrap();
    }
    clock.set(end).unwrap();
    // Within the default 30 days but past this store's 7: purged, in three batches.
    let r = store.purge(false).await.unwrap();
    let o = r
        .outcomes
        .iter()
        .find(|o| o.policy == "deleted_interactions")
        .unwrap();
    assert_eq!(
        (o.rows, o.table.as_str(), o.action.as_str()),
        (2300, "interactions", "delete")
    );
    assert_eq!(o.cutoff, end - chrono::Duration::days(7));
    let policy = if h.is_postgres() {
        "changes->>'policy'"
    } else {
        "json_extract(changes, '$.policy')"
    };
    assert_eq!(
        h.count(&format!(
            "SELECT count(*) FROM audit_log WHERE action = 'purge' AND {policy} = 'deleted_interactions'"
        ))
        .await,
        3,
        "one tombstone per batch of 1000"
    );
    assert_eq!(store.counts().await.unwrap().deleted, 0);
    store.close().await;
    // Periods are inputs: one hour to 100 years, named in the error.
    for bad in [Duration::ZERO, Duration::from_secs(101 * YEAR)] {
        let e = StoreOptions::new(&h.url)
            .retention(RetentionPolicy {
                admin_actions: bad,
                ..RetentionPolicy::default()
            })
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert_eq!(e.field(), Some("retention.admin_actions"));
    }
}

async fn expired_tokens_are_refused_by_the_clock(h: Harness) {
    let clock = Clock::manual("2030-01-01T00:00:00Z".parse().unwrap());
    let store = clocked(&h, &clock).await;
    let site = store.create_site("Tokens", None).await.unwrap();
    let u = store
        .create_user("tok", "tok@example.com", PASSWORD)
        .await
        .unwrap();
    store.grant_role(u.id, site.id, Role::Viewer).await.unwrap();
    let t = store.login("tok", PASSWORD).await.unwrap();
    assert_eq!(t.expires_at, clock.now() + interaction_core::TOKEN_LIFETIME);
    let s = store.session(&t.token, site.id).await.unwrap();
    clock.advance(Duration::from_secs(DAY + 1)).unwrap();
    // Expired by the store's clock: refused at once, cached or not.
    assert_eq!(
        s.verify().await.unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    assert_eq!(
        store.session(&t.token, site.id).await.unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
    let r = store.purge(false).await.unwrap();
    assert_eq!(
        r.outcomes
            .iter()
            .find(|o| o.policy == "expired_tokens")
            .unwrap()
            .rows,
        1
    );
    store.close().await;
}

crate::contract!(
    purge_applies_each_rule_at_its_threshold,
    purges_are_batched_and_configurable,
    expired_tokens_are_refused_by_the_clock,
);
