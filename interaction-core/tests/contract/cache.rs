//! Caches (spec §5.2): every session call re-checks the session through the permission
//! cache (fail closed on revocation), Finder results are cached per site until the next
//! committed change, and a shared Redis carries both across stores; Redis down, paused or
//! flushed never fails a call.

use interaction_core::{ErrorKind, Role, StoreOptions};

use crate::contract;
use crate::harness::{meeting, Harness, PASSWORD};

async fn open_sessions_see_every_revocation_on_their_next_call(h: Harness) {
    let site = h.site("Main").await;
    let admin = h.member("boss", &site, Role::Admin).await;
    let dave = h.user("dave").await;
    h.store
        .grant_role(dave.id, site.id, Role::Editor)
        .await
        .unwrap();
    let login = |h: &Harness| {
        let store = h.store.clone();
        async move {
            let t = store.login("dave", PASSWORD).await.unwrap();
            (
                t.token.clone(),
                store.session(&t.token, site.id).await.unwrap(),
            )
        }
    };
    let denied =
        |e: interaction_core::Error| assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    let unauth =
        |e: interaction_core::Error| assert_eq!(e.kind(), ErrorKind::AuthenticationFailed, "{e}");

    // Logout: the open session fails at its next call (after calls that were cached).
    let (token, s) = login(&h).await;
    s.create_interaction(meeting("one", 0)).await.unwrap();
    s.finder().fetch().await.unwrap();
    let hits = h.store.cache_stats().permissions.hits;
    s.finder().fetch().await.unwrap();
    assert!(
        h.store.cache_stats().permissions.hits > hits,
        "the re-check is served by the cache: {:?}",
        h.store.cache_stats()
    );
    assert_eq!(s.verify().await.unwrap(), Role::Editor);
    h.store.logout(&token).await.unwrap();
    unauth(s.verify().await.unwrap_err());
    unauth(s.finder().fetch().await.unwrap_err());
    unauth(s.create_interaction(meeting("two", 0)).await.unwrap_err());

    // A role change: editor -> viewer, seen by the next write; back to editor works again.
    let (_, s) = login(&h).await;
    s.create_interaction(meeting("three", 0)).await.unwrap();
    admin.set_member_role(dave.id, Role::Viewer).await.unwrap();
    assert_eq!(s.verify().await.unwrap(), Role::Viewer);
    assert_eq!(s.role(), Role::Editor, "role() is the role at opening");
    denied(s.create_interaction(meeting("four", 0)).await.unwrap_err());
    assert!(s.finder().fetch().await.is_ok(), "a viewer still reads");
    h.store
        .grant_role(dave.id, site.id, Role::Editor)
        .await
        .unwrap();
    s.create_interaction(meeting("five", 0)).await.unwrap();

    // Removal from the site.
    admin.remove_member(dave.id).await.unwrap();
    denied(s.finder().fetch().await.unwrap_err());
    denied(s.get_interaction(1).await.unwrap_err());
    h.store
        .grant_role(dave.id, site.id, Role::Editor)
        .await
        .unwrap();

    // The site deactivated, then reactivated.
    s.finder().fetch().await.unwrap();
    h.store.set_site_active(site.id, false).await.unwrap();
    denied(s.finder().fetch().await.unwrap_err());
    h.store.set_site_active(site.id, true).await.unwrap();
    s.finder().fetch().await.unwrap();

    // A password change revokes every token.
    h.store
        .set_password(dave.id, "another long password")
        .await
        .unwrap();
    unauth(s.finder().fetch().await.unwrap_err());

    // A deactivated user: token sessions and host-authenticated sessions both stop.
    let t = h
        .store
        .login("dave", "another long password")
        .await
        .unwrap();
    let by_token = h.store.session(&t.token, site.id).await.unwrap();
    let by_id = h.store.session_for_user(dave.id, site.id).await.unwrap();
    by_token.finder().fetch().await.unwrap();
    by_id.finder().fetch().await.unwrap();
    h.store.set_user_active(dave.id, false).await.unwrap();
    unauth(by_token.finder().fetch().await.unwrap_err());
    denied(by_id.finder().fetch().await.unwrap_err());
    h.store.set_user_active(dave.id, true).await.unwrap();
    by_id.finder().fetch().await.unwrap();
    // The deactivation revoked the token for good.
    unauth(by_token.finder().fetch().await.unwrap_err());
}

async fn finder_results_are_cached_until_a_change_to_their_site(h: Harness) {
    let w = h.world().await;
    w.a_editor
        .create_interaction(meeting("first", 0))
        .await
        .unwrap();
    let finder_hits = |h: &Harness| h.store.cache_stats().finder.hits;
    let page = w.a_viewer.finder().fetch().await.unwrap();
    assert_eq!(page.items.len(), 1);
    let before = finder_hits(&h);
    let again = w.a_viewer.finder().fetch().await.unwrap();
    assert_eq!(again, page);
    assert_eq!(finder_hits(&h), before + 1, "the same page twice: a hit");
    // Another session of the same site shares the entry; a count is cached too.
    assert_eq!(w.a_admin.finder().fetch().await.unwrap(), page);
    assert_eq!(w.a_viewer.finder().count().await.unwrap(), 1);
    assert_eq!(w.a_viewer.finder().count().await.unwrap(), 1);
    let hits = finder_hits(&h);
    // A change to another site leaves this site's entries alone.
    w.b_editor
        .create_interaction(meeting("elsewhere", 0))
        .await
        .unwrap();
    assert_eq!(w.a_viewer.finder().fetch().await.unwrap(), page);
    assert_eq!(finder_hits(&h), hits + 1);
    // Every kind of change to this site is seen by the very next search.
    let made = w
        .a_editor
        .create_interaction(meeting("second", 1))
        .await
        .unwrap();
    assert_eq!(w.a_viewer.finder().fetch().await.unwrap().items.len(), 2);
    assert_eq!(w.a_viewer.finder().count().await.unwrap(), 2);
    w.a_editor
        .update_interaction(
            made.id,
            interaction_core::InteractionPatch {
                title: Some("renamed".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let titles: Vec<String> = w
        .a_viewer
        .finder()
        .fetch()
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert!(titles.contains(&"renamed".to_string()), "{titles:?}");
    w.a_editor.delete_interaction(made.id, None).await.unwrap();
    assert_eq!(w.a_viewer.finder().count().await.unwrap(), 1);
    w.a_admin.restore_interaction(made.id).await.unwrap();
    assert_eq!(w.a_viewer.finder().count().await.unwrap(), 2);
    // A store with caching off answers the same and counts nothing.
    let off = StoreOptions::new(&h.url)
        .cache(false)
        .connect()
        .await
        .unwrap();
    let s = off
        .session_for_user(w.a_viewer.user_id(), w.a.id)
        .await
        .unwrap();
    assert_eq!(s.finder().count().await.unwrap(), 2);
    let stats = off.cache_stats();
    assert_eq!(
        (stats.backend, stats.finder.hits, stats.finder.misses),
        ("off", 0, 0)
    );
}

async fn sites_are_lookup_data_invalidated_by_their_changes(h: Harness) {
    let a = h.site("Alpha").await;
    assert_eq!(h.store.get_site(a.id).await.unwrap(), a);
    let hits = h.store.cache_stats().lookup.hits;
    assert_eq!(h.store.get_site(a.id).await.unwrap(), a);
    assert_eq!(h.store.cache_stats().lookup.hits, hits + 1);
    assert_eq!(h.store.list_sites().await.unwrap().len(), 1);
    let b = h.site("Beta").await;
    assert_eq!(
        h.store.list_sites().await.unwrap().len(),
        2,
        "a new site is listed at once"
    );
    h.store.set_site_active(a.id, false).await.unwrap();
    assert!(!h.store.get_site(a.id).await.unwrap().is_active);
    assert!(!h.store.list_sites().await.unwrap()[0].is_active);
    // Not found is not remembered.
    let e = h.store.get_site(b.id + 1).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let c = h.site("Gamma").await;
    assert_eq!(c.id, b.id + 1);
    assert_eq!(h.store.get_site(c.id).await.unwrap(), c);
    // A closed store answers nothing from its cache either.
    let s = h.member("closer", &c, Role::Viewer).await;
    s.finder().fetch().await.unwrap();
    h.store.close().await;
    for e in [
        h.store.get_site(c.id).await.unwrap_err(),
        h.store.list_sites().await.unwrap_err(),
        s.finder().fetch().await.unwrap_err(),
        s.verify().await.unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    }
}

contract!(
    open_sessions_see_every_revocation_on_their_next_call,
    finder_results_are_cached_until_a_change_to_their_site,
    sites_are_lookup_data_invalidated_by_their_changes,
);

/// With a shared Redis (needs the test command's services, like PostgreSQL).
#[cfg(all(feature = "postgres-tests", feature = "redis"))]
pub mod shared {
    use std::time::Duration;

    use super::*;
    use crate::redis_server::RedisServer;

    fn redis_url() -> String {
        std::env::var("REDIS_URL").expect(
            "REDIS_URL must point at a Redis server for the postgres-tests feature (the README \
             test command starts one)",
        )
    }

    async fn store(h: &Harness, redis: &str) -> interaction_core::InteractionStore {
        StoreOptions::new(&h.url)
            .min_connections(1)
            .redis_url(redis)
            .connect()
            .await
            .unwrap()
    }

    async fn two_stores_share_invalidations_and_revocations(h: Harness) {
        let url = redis_url();
        let (one, two) = (store(&h, &url).await, store(&h, &url).await);
        assert_eq!(one.cache_stats().backend, "redis");
        let site = h.site("Shared").await;
        let u = h.user("erin").await;
        h.store
            .grant_role(u.id, site.id, Role::Editor)
            .await
            .unwrap();
        let token = one.login("erin", PASSWORD).await.unwrap().token;
        let s1 = one.session(&token, site.id).await.unwrap();
        let s2 = two.session(&token, site.id).await.unwrap();
        s1.create_interaction(meeting("a", 0)).await.unwrap();
        // Store two caches the page, then sees store one's write at once.
        assert_eq!(s2.finder().fetch().await.unwrap().items.len(), 1);
        let hits = two.cache_stats().finder.hits;
        assert_eq!(s2.finder().fetch().await.unwrap().items.len(), 1);
        assert_eq!(two.cache_stats().finder.hits, hits + 1);
        // Store one reads the entry store two put there.
        let hits_one = one.cache_stats().finder.hits;
        assert_eq!(s1.finder().fetch().await.unwrap().items.len(), 1);
        assert_eq!(one.cache_stats().finder.hits, hits_one + 1);
        s1.create_interaction(meeting("b", 1)).await.unwrap();
        assert_eq!(s2.finder().fetch().await.unwrap().items.len(), 2);
        // A logout through store one is refused by store two's open session.
        one.logout(&token).await.unwrap();
        let e = s2.finder().fetch().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AuthenticationFailed);
        // A role change through store one is seen by store two's next call.
        let s2 = two.session_for_user(u.id, site.id).await.unwrap();
        s2.finder().fetch().await.unwrap();
        one.grant_role(u.id, site.id, Role::Viewer).await.unwrap();
        let e = s2.create_interaction(meeting("c", 2)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        // Two databases sharing one Redis never share entries.
        let other_url = h.scratch_pg_or_sqlite().await;
        let other = StoreOptions::new(&other_url)
            .migrate(true)
            .redis_url(&url)
            .connect()
            .await
            .unwrap();
        let osite = other.create_site("Other", None).await.unwrap();
        let ou = other
            .create_user("erin", "erin@example.com", PASSWORD)
            .await
            .unwrap();
        other
            .grant_role(ou.id, osite.id, Role::Admin)
            .await
            .unwrap();
        let os = other.session_for_user(ou.id, osite.id).await.unwrap();
        assert_eq!(os.finder().fetch().await.unwrap().items.len(), 0);
    }

    /// Calls never fail while a private Redis is killed, restarted, paused and flushed;
    /// the cache switches itself off and back on, and nothing stale survives a pause.
    async fn redis_faults_never_fail_a_call(h: Harness) {
        let mut redis = RedisServer::start();
        let url = redis.url();
        let one = StoreOptions::new(&h.url)
            .redis_url(&url)
            .redis_timeout(Duration::from_millis(100))
            .connect()
            .await
            .unwrap();
        let two = StoreOptions::new(&h.url)
            .redis_url(&url)
            .redis_timeout(Duration::from_millis(100))
            .connect()
            .await
            .unwrap();
        let site = h.site("Faults").await;
        let u = h.user("fay").await;
        h.store
            .grant_role(u.id, site.id, Role::Editor)
            .await
            .unwrap();
        let s1 = one.session_for_user(u.id, site.id).await.unwrap();
        let s2 = two.session_for_user(u.id, site.id).await.unwrap();
        let created = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));

        // Load: reads through both stores and writes through one, all the time.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for s in [s1.clone(), s2.clone()] {
            let (stop, created) = (stop.clone(), created.clone());
            tasks.push(tokio::spawn(async move {
                let mut calls = 0u32;
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    s.finder()
                        .fetch()
                        .await
                        .expect("a search during a Redis fault");
                    s.finder()
                        .count()
                        .await
                        .expect("a count during a Redis fault");
                    if i % 4 == 0 {
                        s.create_interaction(meeting("load", i))
                            .await
                            .expect("a write during a Redis fault");
                        created.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    i += 1;
                    calls += 3;
                }
                calls
            }));
        }
        let pause = Duration::from_millis(600);
        tokio::time::sleep(pause).await;
        redis.kill();
        tokio::time::sleep(pause).await;
        redis.restart();
        tokio::time::sleep(pause * 2).await;
        redis.pause();
        tokio::time::sleep(pause).await;
        redis.resume();
        tokio::time::sleep(pause * 2).await;
        redis.flushall();
        tokio::time::sleep(pause).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut calls = 0;
        for t in tasks {
            calls += t.await.expect("no call failed");
        }
        assert!(calls > 50, "the load ran: {calls} calls");
        // Both noticed an outage and came back by themselves.
        for s in [&one, &two] {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while !s.cache_stats().available && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let st = s.cache_stats();
            assert!(st.available && st.outages >= 1, "{st:?}");
        }
        // And serve fresh results: every created row is visible through both, cached.
        let n = created.load(std::sync::atomic::Ordering::Relaxed) as u64;
        assert_eq!(s1.finder().count().await.unwrap(), n);
        assert_eq!(s2.finder().count().await.unwrap(), n);
        let hits = two.cache_stats().finder.hits;
        assert_eq!(s2.finder().count().await.unwrap(), n);
        assert_eq!(two.cache_stats().finder.hits, hits + 1, "caching resumed");

        // A change made while Redis is paused is never hidden by an entry from before.
        assert_eq!(s2.finder().count().await.unwrap(), n);
        redis.pause();
        s1.create_interaction(meeting("during pause", 0))
            .await
            .unwrap();
        redis.resume();
        // Store one delivers its pending invalidation on its own; until then store two
        // may still read the old entry, never after.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !one.cache_stats().available && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(one.cache_stats().available);
        assert_eq!(s2.finder().count().await.unwrap(), n + 1);
    }

    contract!(
        two_stores_share_invalidations_and_revocations,
        redis_faults_never_fail_a_call,
    );
}
