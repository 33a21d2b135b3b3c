//! Faults: lock waits, unreachable and restarting servers, wrong settings, lost replies.
//! Each test asserts the typed error, that the call returned within a generous bound of
//! its deadline (an upper bound on a failing call, not a benchmark), that nothing was
//! half-written (audit rows == versions) and that the store heals.

use std::time::{Duration, Instant};

use interaction_core::{ErrorKind, InteractionPatch, StoreOptions};

use crate::harness::{meeting, Harness};

/// Scheduling slack on top of a deadline (a loaded 2-core CI machine).
const SLACK: Duration = Duration::from_secs(3);

/// Audit rows of the site's interactions equal the sum of their versions: every change
/// that committed has its audit row and no other does.
async fn assert_audit_matches_versions(h: &Harness, site: i64) {
    let versions = h
        .count(&format!(
            "SELECT coalesce(sum(version), 0) FROM interactions WHERE site_id = {site}"
        ))
        .await;
    let audits = h
        .count(&format!(
            "SELECT count(*) FROM audit_log WHERE site_id = {site} AND entity = 'interaction'"
        ))
        .await;
    assert_eq!(audits, versions, "audit rows vs versions");
}

/// Same key: one row, one audit row, the first result. Other content: conflict. Another
/// site: its own row. A caller that gave up on the first call (its reply lost) retries
/// safely.
async fn idempotent_creates(h: Harness) {
    let w = h.world().await;
    let new = meeting("Keyed", 1).idempotency_key("form-42");
    // The first call's reply is lost: the caller gives up at once, the write goes on.
    let _ = tokio::time::timeout(
        Duration::from_micros(1),
        w.a_editor.create_interaction(new.clone()),
    )
    .await;
    let first = w.a_editor.create_interaction(new.clone()).await.unwrap();
    let again = w.a_admin.create_interaction(new.clone()).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        h.count(&format!(
            "SELECT count(*) FROM interactions WHERE site_id = {}",
            w.a.id
        ))
        .await,
        1
    );
    assert_audit_matches_versions(&h, w.a.id).await;
    let e = w
        .a_editor
        .create_interaction(meeting("Other content", 1).idempotency_key("form-42"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    let other_site = w.b_editor.create_interaction(new).await.unwrap();
    assert_ne!(other_site.id, first.id);
    for bad in [String::new(), "k".repeat(256), "a\0b".into()] {
        let e = w
            .a_editor
            .create_interaction(meeting("Bad key", 1).idempotency_key(bad))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("idempotency_key"), "{e}");
    }
    // Without a key, the same content is a second row.
    w.a_editor
        .create_interaction(meeting("Plain", 3))
        .await
        .unwrap();
    w.a_editor
        .create_interaction(meeting("Plain", 3))
        .await
        .unwrap();
}

/// Writers blocked by a lock another connection holds give up at their deadline
/// (SQLite: measured from each call's start, not one after the other), write nothing,
/// and leave the store working.
async fn blocked_writers_give_up_at_their_deadline(h: Harness) {
    let w = h.world().await;
    let row = w
        .a_editor
        .create_interaction(meeting("Held", 1))
        .await
        .unwrap();
    let store = StoreOptions::new(&h.url)
        .max_connections(3)
        .lock_timeout(Duration::from_millis(500))
        .call_timeout(Duration::from_millis(1500))
        .connect()
        .await
        .unwrap();
    let s = store
        .session_for_user(w.a_editor.user_id(), w.a.id)
        .await
        .unwrap();
    // Another connection holds the row (PostgreSQL) or the write lock (SQLite).
    let holder = crate::harness::LockHolder::hold(&h, row.id).await;
    let started = Instant::now();
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let t = Instant::now();
                let r = if i % 2 == 0 {
                    let patch = InteractionPatch {
                        title: Some(format!("blocked {i}")),
                        ..Default::default()
                    };
                    s.update_interaction(row.id, patch, None).await.map(|_| ())
                } else {
                    s.create_interaction(meeting("blocked", 2))
                        .await
                        .map(|_| ())
                };
                (r, t.elapsed())
            })
        })
        .collect();
    for c in calls {
        let (r, took) = c.await.unwrap();
        let e = r.expect_err("a blocked write must fail");
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(e.is_retryable());
        assert!(took < Duration::from_millis(1500) + SLACK, "took {took:?}");
    }
    assert!(started.elapsed() < Duration::from_millis(1500) + SLACK);
    // A read is not starved by the blocked writers.
    assert_eq!(s.get_interaction(row.id).await.unwrap().version, 1);
    holder.release().await;
    // Nothing of the timed-out writes applied, later or now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.get_interaction(row.id).await.unwrap().version, 1);
    assert_audit_matches_versions(&h, w.a.id).await;
    // The pool healed.
    let patch = InteractionPatch {
        title: Some("after".into()),
        ..Default::default()
    };
    assert_eq!(
        s.update_interaction(row.id, patch, Some(1))
            .await
            .unwrap()
            .version,
        2
    );
    assert_audit_matches_versions(&h, w.a.id).await;
    store.close().await;
}

crate::contract!(
    idempotent_creates,
    blocked_writers_give_up_at_their_deadline
);

/// Several openers of one new SQLite file at once (as processes starting together): none
/// fails with "database is locked".
#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_opens_of_a_new_file_never_fail() {
    for round in 0..10 {
        let (url, _dir) = Harness::fresh_sqlite_url();
        let opens: Vec<_> = (0..6)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move {
                    StoreOptions::new(url)
                        .min_connections(1)
                        .migrate(true)
                        .connect()
                        .await
                })
            })
            .collect();
        for o in opens {
            o.await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
}

#[cfg(feature = "postgres-tests")]
mod pg {
    use std::time::{Duration, Instant};

    use interaction_core::{ErrorKind, InteractionStore, Role, StoreOptions};
    use sqlx::{AssertSqlSafe, Connection};

    use super::{assert_audit_matches_versions, SLACK};
    use crate::cluster::EphemeralPg;
    use crate::harness::{meeting, Harness};
    use crate::proxy::Proxy;

    fn upstream(url: &str) -> std::net::SocketAddr {
        let rest = url.split("://").nth(1).unwrap();
        let host_port = rest.split(['/', '?']).next().unwrap();
        let host_port = host_port.rsplit('@').next().unwrap();
        use std::net::ToSocketAddrs;
        host_port.to_socket_addrs().unwrap().next().unwrap()
    }

    /// `url` with its host:port replaced by `addr`.
    fn via(url: &str, addr: std::net::SocketAddr) -> String {
        let (scheme, rest) = url.split_once("://").unwrap();
        let (auth, hostpath) = match rest.rsplit_once('@') {
            Some((a, h)) => (format!("{a}@"), h),
            None => (String::new(), rest),
        };
        let path = hostpath.find(['/', '?']).map_or("", |i| &hostpath[i..]);
        format!("{scheme}://{auth}{addr}{path}")
    }

    /// A server that stops answering (a blackholing proxy) cannot hang a read, a write or
    /// `close()`; a new store works once the network is back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_server_cannot_hang_a_call() {
        let h = Harness::postgres().await;
        let w = h.world().await;
        let row = w
            .a_editor
            .create_interaction(meeting("x", 1))
            .await
            .unwrap();
        let proxy = Proxy::start(upstream(&h.url)).await;
        let url = via(&h.url, proxy.addr());
        let deadline = Duration::from_millis(1500);
        let store = StoreOptions::new(&url)
            .min_connections(1)
            .max_connections(2)
            .call_timeout(deadline)
            .connect()
            .await
            .unwrap();
        let s = store
            .session_for_user(w.a_editor.user_id(), w.a.id)
            .await
            .unwrap();
        s.get_interaction(row.id).await.unwrap();
        proxy.blackhole().await;
        for _ in 0..3 {
            let t = Instant::now();
            let e = s.get_interaction(row.id).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
            assert!(t.elapsed() < deadline + SLACK, "get took {:?}", t.elapsed());
        }
        let t = Instant::now();
        let e = s.create_interaction(meeting("lost", 2)).await.unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert!(
            t.elapsed() < deadline + SLACK,
            "create took {:?}",
            t.elapsed()
        );
        let t = Instant::now();
        store.close().await;
        assert!(
            t.elapsed() < deadline + SLACK,
            "close took {:?}",
            t.elapsed()
        );
        proxy.pass().await;
        let again = StoreOptions::new(&url).connect().await.unwrap();
        let s = again
            .session_for_user(w.a_editor.user_id(), w.a.id)
            .await
            .unwrap();
        s.get_interaction(row.id).await.unwrap();
        assert_audit_matches_versions(&h, w.a.id).await;
    }

    /// Cut connections (a proxy that drops them, as a failover does) are replaced: reads
    /// do not fail.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cut_connections_heal_without_a_failed_read() {
        let h = Harness::postgres().await;
        let w = h.world().await;
        let row = w
            .a_editor
            .create_interaction(meeting("x", 1))
            .await
            .unwrap();
        let proxy = Proxy::start(upstream(&h.url)).await;
        let store = StoreOptions::new(via(&h.url, proxy.addr()))
            .min_connections(5)
            .connect()
            .await
            .unwrap();
        let s = store
            .session_for_user(w.a_viewer.user_id(), w.a.id)
            .await
            .unwrap();
        let warm: Vec<_> = (0..5)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.get_interaction(row.id).await })
            })
            .collect();
        for t in warm {
            t.await.unwrap().unwrap();
        }
        proxy.cut().await;
        for _ in 0..10 {
            s.get_interaction(row.id).await.expect("read after cut");
        }
    }

    /// A refused port fails at once, saying so; unknown database and role are
    /// configuration errors (not retryable), also at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_addresses_and_settings_fail_fast_and_typed() {
        let admin = std::env::var("DATABASE_URL").unwrap();
        let proxy = Proxy::start(upstream(&admin)).await;
        proxy.refuse().await;
        let t = Instant::now();
        let e = StoreOptions::new(via(&admin, proxy.addr()))
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        assert!(e.to_string().contains("refused"), "{e}");
        assert!(t.elapsed() < SLACK, "refused took {:?}", t.elapsed());
        assert!(std::error::Error::source(&e).is_some(), "keeps the cause");

        let url = crate::harness::with_database(&admin, "no_such_database_xyz");
        let t = Instant::now();
        let e = InteractionStore::connect(&url).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("no_such_database_xyz"), "{e}");
        assert!(t.elapsed() < SLACK);

        let (scheme, rest) = admin.split_once("://").unwrap();
        let host = rest.rsplit('@').next().unwrap();
        let url = format!("{scheme}://no_such_role_xyz@{host}");
        let e = InteractionStore::connect(&url).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
        assert!(e.to_string().contains("no_such_role_xyz"), "{e}");
    }

    /// A wrong password is a configuration error (not retryable); the right one opens.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_password_is_a_configuration_error() {
        let pg = EphemeralPg::new();
        let mut admin = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
        sqlx::raw_sql("CREATE ROLE pw_user LOGIN PASSWORD 'right-password'")
            .execute(&mut admin)
            .await
            .unwrap();
        // Password authentication for that role only (the cluster trusts everyone else).
        let hba = pg.data_dir().join("pg_hba.conf");
        let rules = std::fs::read_to_string(&hba).unwrap();
        std::fs::write(
            &hba,
            format!("host all pw_user 127.0.0.1/32 scram-sha-256\n{rules}"),
        )
        .unwrap();
        sqlx::raw_sql("SELECT pg_reload_conf()")
            .execute(&mut admin)
            .await
            .unwrap();
        let url = |password: &str| format!("postgres://pw_user:{password}@{}/postgres", pg.addr());
        let t = Instant::now();
        let e = StoreOptions::new(url("wrong-password"))
            .check_schema(false)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Configuration, "{e}");
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("pw_user"), "{e}");
        assert!(!e.to_string().contains("wrong-password"), "{e}");
        assert!(t.elapsed() < SLACK);
        let store = StoreOptions::new(url("right-password"))
            .check_schema(false)
            .connect()
            .await
            .unwrap();
        assert_eq!(store.schema_version().await.unwrap(), None);
        store.close().await;
    }

    /// A statement that runs past `statement_timeout` (here: waiting on a table lock
    /// with a longer `lock_timeout`) is cancelled by the server: `TIMEOUT`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn statement_timeout_cancels_a_statement() {
        let h = Harness::postgres().await;
        let w = h.world().await;
        let row = w
            .a_editor
            .create_interaction(meeting("x", 1))
            .await
            .unwrap();
        let store = StoreOptions::new(&h.url)
            .statement_timeout(Duration::from_millis(400))
            .lock_timeout(Duration::from_secs(20))
            .connect()
            .await
            .unwrap();
        let s = store
            .session_for_user(w.a_viewer.user_id(), w.a.id)
            .await
            .unwrap();
        let mut raw = sqlx::PgConnection::connect(&h.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE interactions IN ACCESS EXCLUSIVE MODE")
            .execute(&mut raw)
            .await
            .unwrap();
        let t = Instant::now();
        let e = s.get_interaction(row.id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(e.to_string().contains("statement_timeout"), "{e}");
        assert!(t.elapsed() < Duration::from_millis(400) + SLACK);
        sqlx::raw_sql("ROLLBACK").execute(&mut raw).await.unwrap();
        s.get_interaction(row.id).await.unwrap();
    }

    /// The store's backends terminated by an administrator, idle or busy: the next reads
    /// succeed (retried once on a fresh connection).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn terminated_backends_do_not_fail_reads() {
        let h = Harness::postgres().await;
        let w = h.world().await;
        let row = w
            .a_editor
            .create_interaction(meeting("x", 1))
            .await
            .unwrap();
        let store = StoreOptions::new(&h.url)
            .min_connections(3)
            .connect()
            .await
            .unwrap();
        let s = store
            .session_for_user(w.a_viewer.user_id(), w.a.id)
            .await
            .unwrap();
        for _ in 0..3 {
            s.get_interaction(row.id).await.unwrap();
        }
        let db = h.url.rsplit('/').next().unwrap().split('?').next().unwrap();
        let kill = format!(
            "SELECT count(pg_terminate_backend(pid))::int8 FROM pg_stat_activity \
             WHERE datname = '{db}' AND application_name = 'interaction-store'"
        );
        assert!(h.count(&kill).await >= 1);
        for _ in 0..6 {
            s.get_interaction(row.id)
                .await
                .expect("read after terminate");
        }
        // A busy one: terminated while a statement waits on a lock.
        let mut raw = sqlx::PgConnection::connect(&h.url).await.unwrap();
        sqlx::raw_sql("BEGIN; LOCK TABLE interactions IN ACCESS EXCLUSIVE MODE")
            .execute(&mut raw)
            .await
            .unwrap();
        let reader = {
            let s = s.clone();
            tokio::spawn(async move { s.get_interaction(row.id).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let kill_waiting = format!(
            "SELECT count(pg_terminate_backend(pid))::int8 FROM pg_stat_activity \
             WHERE datname = '{db}' AND application_name = 'interaction-store' \
             AND wait_event_type = 'Lock'"
        );
        assert_eq!(h.count(&kill_waiting).await, 1);
        sqlx::raw_sql("ROLLBACK").execute(&mut raw).await.unwrap();
        reader.await.unwrap().expect("busy read retried");
    }

    /// `pg_ctl restart -m fast` with an idle pool: no failed call afterwards. Then
    /// `-m immediate` under a mixed load: only retryable errors while the server is down,
    /// every call succeeds after, nothing half-written.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_restarting_server_costs_no_call_once_it_is_back() {
        let pg = EphemeralPg::new();
        let url = pg.create_database("restart_test").await;
        let store = StoreOptions::new(&url)
            .min_connections(5)
            .max_connections(5)
            .call_timeout(Duration::from_secs(10))
            .migrate(true)
            .connect()
            .await
            .unwrap();
        let site = store.create_site("S", None).await.unwrap();
        let user = store
            .create_user("u", "u@example.com", crate::harness::PASSWORD)
            .await
            .unwrap();
        store
            .grant_role(user.id, site.id, Role::Editor)
            .await
            .unwrap();
        let s = store.session_for_user(user.id, site.id).await.unwrap();
        let row = s.create_interaction(meeting("r", 1)).await.unwrap();
        let warm: Vec<_> = (0..5)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.get_interaction(row.id).await })
            })
            .collect();
        for t in warm {
            t.await.unwrap().unwrap();
        }
        tokio::task::block_in_place(|| pg.restart("fast"));
        for i in 0..10 {
            s.get_interaction(row.id)
                .await
                .unwrap_or_else(|e| panic!("read {i} after restart: {e}"));
        }

        // Under load.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let load: Vec<_> = (0..4)
            .map(|t| {
                let s = s.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    let mut unexpected = Vec::new();
                    let mut n = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let r = if t == 0 {
                            s.create_interaction(meeting("load", n)).await.map(|_| ())
                        } else {
                            s.get_interaction(row.id).await.map(|_| ())
                        };
                        if let Err(e) = r {
                            if !e.is_retryable() {
                                unexpected.push(e.to_string());
                            }
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        n += 1;
                    }
                    unexpected
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        tokio::task::block_in_place(|| pg.restart("immediate"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for l in load {
            let unexpected = l.await.unwrap();
            assert!(unexpected.is_empty(), "{unexpected:?}");
        }
        for i in 0..10 {
            s.get_interaction(row.id)
                .await
                .unwrap_or_else(|e| panic!("read {i} after immediate restart: {e}"));
        }
        s.create_interaction(meeting("after", 9)).await.unwrap();
        // Every committed create has its audit row and none more.
        let mut raw = sqlx::PgConnection::connect(&url).await.unwrap();
        let (versions, audits): (i64, i64) = sqlx::query_as(AssertSqlSafe(
            "SELECT (SELECT coalesce(sum(version), 0)::int8 FROM interactions), \
             (SELECT count(*) FROM audit_log WHERE entity = 'interaction')",
        ))
        .fetch_one(&mut raw)
        .await
        .unwrap();
        assert_eq!(versions, audits);
        store.close().await;
    }
}
