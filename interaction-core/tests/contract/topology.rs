//! The production topology (spec §5.3, §5.4, §7.1) on the servers the test command
//! starts: a primary with two streaming replicas (`TOPOLOGY_*`), pgBouncer in transaction
//! mode, and a pg_auto_failover pair (`FAILOVER_*`). Where a read ran is shown by the
//! servers themselves (`pg_stat_statements` on each node), not by the library.
//!
//! These tests pause, stop and kill shared servers: they run one at a time (a nextest
//! test group, and a lock for plain `cargo test`).

use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use interaction_core::{ErrorKind, InteractionStore, Role, SiteSession, StoreOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::time::Instant;

use crate::harness::{meeting, with_database};

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the README test command starts the topology and sets it")
    })
}

fn replica_admin_urls() -> Vec<String> {
    env("TOPOLOGY_REPLICA_URLS")
        .split(',')
        .map(str::to_string)
        .collect()
}

async fn sql(url: &str, q: &str) {
    let mut c = PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    sqlx::raw_sql(AssertSqlSafe(q.to_string()))
        .execute(&mut c)
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"));
}

async fn scalar(url: &str, q: &str) -> i64 {
    let mut c = PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    sqlx::query_scalar::<_, i64>(AssertSqlSafe(q.to_string()))
        .fetch_one(&mut c)
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

/// A fresh database on the topology primary, migrated, with pg_stat_statements, present
/// on every replica. Dropped on drop (best effort, after the test).
struct TopoDb {
    name: String,
    primary: String,
    replicas: Vec<String>,
}

impl TopoDb {
    async fn new() -> TopoDb {
        let admin = env("TOPOLOGY_PRIMARY_URL");
        let name = format!(
            "istopo_{}_{}",
            std::process::id(),
            Utc::now().timestamp_micros() % 1_000_000_000
        );
        sql(&admin, &format!("CREATE DATABASE {name}")).await;
        let primary = with_database(&admin, &name);
        sql(
            &primary,
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
        )
        .await;
        StoreOptions::new(&primary)
            .migrate(true)
            .connect()
            .await
            .expect("migrate the topology database")
            .close()
            .await;
        let replicas: Vec<String> = replica_admin_urls()
            .iter()
            .map(|u| with_database(u, &name))
            .collect();
        // The database, its schema and the extension reach the replicas by WAL.
        for r in &replicas {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(mut c) = PgConnection::connect(r).await {
                    let ok: Result<i64, _> = sqlx::query_scalar(
                        "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements' \
                         AND to_regclass('interactions') IS NOT NULL",
                    )
                    .fetch_one(&mut c)
                    .await;
                    if ok.is_ok_and(|n| n == 1) {
                        break;
                    }
                }
                assert!(Instant::now() < deadline, "{r} never got the database");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        TopoDb {
            name,
            primary,
            replicas,
        }
    }

    fn options(&self) -> StoreOptions {
        StoreOptions::new(&self.primary)
            .min_connections(1)
            .cache(false)
            .replicas(self.replicas.clone())
    }

    /// Calls of statements matching `like` in this database on the server at `url`.
    async fn calls(&self, url: &str, like: &str) -> i64 {
        scalar(
            url,
            &format!(
                "SELECT COALESCE(sum(s.calls), 0)::int8 FROM pg_stat_statements s \
                 JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{}' AND s.query LIKE '{like}'",
                self.name
            ),
        )
        .await
    }

    /// Calls of statements matching `like` on each node: primary first.
    async fn reads(&self, like: &str) -> Vec<i64> {
        let mut v = vec![self.calls(&self.primary, like).await];
        for r in &self.replicas {
            v.push(self.calls(r, like).await);
        }
        v
    }

    /// Finder page reads (`… FROM interactions … ORDER BY …`) on each node.
    async fn page_reads(&self) -> Vec<i64> {
        self.reads("%FROM interactions%ORDER BY%").await
    }

    /// Finder counts on each node.
    async fn count_reads(&self) -> Vec<i64> {
        self.reads("SELECT count(*) FROM interactions%").await
    }

    async fn drop_db(self) {
        let admin = env("TOPOLOGY_PRIMARY_URL");
        let mut c = PgConnection::connect(&admin).await.unwrap();
        let _ = sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut c)
        .await;
    }
}

async fn editor(store: &InteractionStore, name: &str) -> SiteSession {
    let site = store.create_site(name, None).await.unwrap();
    let u = store
        .create_user(
            name,
            &format!("{name}@example.com"),
            crate::harness::PASSWORD,
        )
        .await
        .unwrap();
    store.grant_role(u.id, site.id, Role::Admin).await.unwrap();
    store.session_for_user(u.id, site.id).await.unwrap()
}

async fn wait_healthy(store: &InteractionStore, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let st = store.replica_status();
        if st.iter().filter(|r| r.healthy).count() >= want {
            return;
        }
        assert!(Instant::now() < deadline, "replicas never healthy: {st:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_spread_over_the_replicas_and_writes_stay_on_the_primary() {
    let _one = SERIAL.lock().await;
    let db = TopoDb::new().await;
    let store = db.options().connect().await.unwrap();
    wait_healthy(&store, 2).await;
    let s = editor(&store, "spread").await;
    for i in 0..10 {
        s.create_interaction(meeting("spread", i)).await.unwrap();
    }
    // A session that wrote nothing carries no token: any healthy replica will do.
    let reader = store
        .session_for_user(s.user_id(), s.site_id())
        .await
        .unwrap();
    let before = db.page_reads().await;
    let n = 200;
    for _ in 0..n {
        reader.finder().limit(5).fetch().await.unwrap();
    }
    let after = db.page_reads().await;
    let d: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(d[0], 0, "no search reached the primary: {d:?}");
    assert_eq!(d[1] + d[2], n, "every search ran on a replica: {d:?}");
    let (hi, lo) = (d[1].max(d[2]) as f64, d[1].min(d[2]) as f64);
    assert!(hi / lo <= 1.1, "within 10% of each other: {d:?}");
    // Writes went to the primary: the rows are there, and the replicas refuse writes.
    assert_eq!(
        scalar(&db.primary, "SELECT count(*) FROM interactions").await,
        10
    );
    store.close().await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_your_writes_by_lsn_under_real_lag() {
    let _one = SERIAL.lock().await;
    let db = TopoDb::new().await;
    // A long max lag: the paused replicas stay in the rotation, so only the token keeps
    // the session's reads off them.
    let opts = || db.options().replica_max_lag(Duration::from_secs(60));
    let store = opts().connect().await.unwrap();
    let other = opts().connect().await.unwrap();
    wait_healthy(&store, 2).await;
    wait_healthy(&other, 2).await;
    let s = editor(&store, "ryw").await;
    assert_eq!(s.consistency_token(), None);
    for r in replica_admin_urls() {
        sql(&r, "SELECT pg_wal_replay_pause()").await;
    }
    let resume = || async {
        for r in replica_admin_urls() {
            sql(&r, "SELECT pg_wal_replay_resume()").await;
        }
    };
    let made = s.create_interaction(meeting("fresh", 0)).await;
    let token = s.consistency_token();
    let before = db.count_reads().await;
    let seen_here = s.finder().count().await;
    let there = other
        .session_for_user(s.user_id(), s.site_id())
        .await
        .unwrap();
    let stale = there.finder().count().await;
    let there = match &token {
        Some(t) => there.with_consistency_token(t),
        None => Err(interaction_core::Error::internal("no token")),
    };
    let seen_there = match &there {
        Ok(t) => t.finder().count().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let after = db.count_reads().await;
    resume().await;
    made.unwrap();
    let token = token.expect("a write through a session with replicas sets a token");
    assert_eq!(seen_here.unwrap(), 1, "the writer sees its write");
    assert_eq!(
        seen_there.unwrap(),
        1,
        "a second store given the token sees it"
    );
    assert_eq!(
        stale.unwrap(),
        0,
        "a replica really lagged (a session without token)"
    );
    let d: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!(d[0], 2, "both token reads ran on the primary: {d:?}");
    assert_eq!(d[1] + d[2], 1, "the tokenless read ran on a replica: {d:?}");
    // Replay resumed: once a replica has replayed the token, the session reads there.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lsn = |t: &str| {
        let (a, b) = t.split_once('/').unwrap();
        (u64::from_str_radix(a, 16).unwrap() << 32) | u64::from_str_radix(b, 16).unwrap()
    };
    while !store
        .replica_status()
        .iter()
        .all(|r| lsn(&r.replayed) >= lsn(&token))
    {
        assert!(Instant::now() < deadline, "{:?}", store.replica_status());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = db.count_reads().await;
    assert_eq!(s.finder().count().await.unwrap(), 1);
    let after = db.count_reads().await;
    let d: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert_eq!((d[0], d[1] + d[2]), (0, 1), "back on a replica: {d:?}");
    // A malformed token is refused, typed.
    let e = s.clone().with_consistency_token("not-a-token").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.field(), Some("consistency_token"));
    store.close().await;
    other.close().await;
    db.drop_db().await;
}

fn pg_ctl(dir: &str, args: &[&str]) {
    let bindir = env("PG_BINDIR");
    let user = std::env::var("PG_OS_USER").unwrap_or_default();
    let log = format!(
        "{}/postgres.log",
        std::path::Path::new(dir).parent().unwrap().display()
    );
    let mut cmd = if user.is_empty() {
        Command::new(format!("{bindir}/pg_ctl"))
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", &user, "--", &format!("{bindir}/pg_ctl")]);
        c
    };
    cmd.args(["-D", dir, "-w", "-t", "120", "-l", &log])
        .args(args);
    let out = cmd.output().expect("pg_ctl");
    assert!(out.status.success(), "pg_ctl {args:?}: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_dies_fails_no_read_and_comes_back() {
    let _one = SERIAL.lock().await;
    let db = TopoDb::new().await;
    let store = db
        .options()
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap();
    wait_healthy(&store, 2).await;
    let s = editor(&store, "dies").await;
    s.create_interaction(meeting("one", 0)).await.unwrap();
    // The writer's token keeps its reads off a replica until it has the row.
    let reader = s.clone();
    let dirs: Vec<String> = env("TOPOLOGY_REPLICA_DATADIRS")
        .split(',')
        .map(str::to_string)
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (reader, stop) = (reader.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let page = reader
                    .finder()
                    .fetch()
                    .await
                    .expect("a read while a replica dies");
                assert_eq!(page.items.len(), 1);
                n += 1;
            }
            n
        })
    };
    // A restartpoint first: a standby otherwise replays everything since its last one
    // when it comes back (a whole test run's WAL: a minute), which is not what this tests.
    sql(&replica_admin_urls()[0], "CHECKPOINT").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t0 = Instant::now();
    let dir = dirs[0].clone();
    tokio::task::spawn_blocking(move || pg_ctl(&dir, &["-m", "immediate", "stop"]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let st = store.replica_status();
    assert!(!st[0].healthy && st[1].healthy, "{st:?}");
    let dir = dirs[0].clone();
    eprintln!("stopped and seen unhealthy after {:?}", t0.elapsed());
    tokio::task::spawn_blocking(move || pg_ctl(&dir, &["start"]))
        .await
        .unwrap();
    eprintln!("restarted after {:?}", t0.elapsed());
    wait_healthy(&store, 2).await;
    eprintln!("healthy after {:?}", t0.elapsed());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let n = load.await.expect("no read failed");
    assert!(n > 20, "the load ran: {n} reads");
    store.close().await;
    db.drop_db().await;
}

/// The primary of the pg_auto_failover pair is killed (keeper and postgres, SIGKILL)
/// under a write load: writes fail only with retryable errors while the monitor promotes
/// the secondary, then resume on it; every acknowledged write is there exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_resume_on_the_promoted_node_after_the_primary_is_killed() {
    let _one = SERIAL.lock().await;
    let admin = env("FAILOVER_URL");
    let name = format!("isfail_{}", std::process::id());
    // CREATE DATABASE on whichever node is the primary now (the multi-host URL finds it).
    let store = StoreOptions::new(&admin)
        .check_schema(false)
        .min_connections(0)
        .connect()
        .await
        .expect("the failover pair has a primary");
    store.close().await;
    let primary_admin = writable_admin(&admin).await;
    sql(&primary_admin, &format!("CREATE DATABASE {name}")).await;
    let url = with_database(&admin, &name);
    let store = StoreOptions::new(&url)
        .migrate(true)
        .min_connections(2)
        .connect_timeout(Duration::from_secs(20))
        .call_timeout(Duration::from_secs(25))
        .connect()
        .await
        .unwrap();
    let s = editor(&store, "failover").await;

    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let killed_at = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    let resumed_at = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    let writer = {
        let (s, acked, errors) = (s.clone(), acked.clone(), errors.clone());
        let (killed_at, resumed_at) = (killed_at.clone(), resumed_at.clone());
        tokio::spawn(async move {
            let mut after_kill = 0;
            let mut i = 0;
            while after_kill < 20 {
                let title = format!("write {i}");
                // Retry the same write with the same idempotency key until it lands.
                loop {
                    let new = meeting(&title, i).idempotency_key(format!("k{i}"));
                    match s.create_interaction(new).await {
                        Ok(made) => {
                            assert_eq!(made.title, title);
                            acked.lock().unwrap().push(title.clone());
                            if killed_at.lock().unwrap().is_some() {
                                after_kill += 1;
                                resumed_at.lock().unwrap().get_or_insert(Instant::now());
                            }
                            break;
                        }
                        Err(e) => {
                            assert!(
                                matches!(e.kind(), ErrorKind::Unavailable | ErrorKind::Timeout),
                                "only retryable errors during a failover: {e}"
                            );
                            errors.lock().unwrap().push(e.to_string());
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
                i += 1;
            }
        })
    };
    while acked.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kill = env("FAILOVER_KILL_PRIMARY");
    let out = tokio::task::spawn_blocking(move || Command::new(kill).output().unwrap())
        .await
        .unwrap();
    *killed_at.lock().unwrap() = Some(Instant::now());
    assert!(out.status.success(), "kill the primary: {out:?}");
    let killed_dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    tokio::time::timeout(Duration::from_secs(90), writer)
        .await
        .expect("writes resumed")
        .expect("the writer saw only retryable errors");
    let downtime = resumed_at.lock().unwrap().unwrap() - killed_at.lock().unwrap().unwrap();
    eprintln!(
        "failover: writes resumed {} ms after the kill; {} failed attempts (retried)",
        downtime.as_millis(),
        errors.lock().unwrap().len()
    );
    assert!(downtime < Duration::from_secs(30), "{downtime:?}");
    // Every acknowledged write is there exactly once, on the promoted node.
    let acked = acked.lock().unwrap().clone();
    let reader = store
        .session_for_user(s.user_id(), s.site_id())
        .await
        .unwrap();
    let mut stored = Vec::new();
    let mut page = reader.finder().limit(500).fetch().await.unwrap();
    loop {
        stored.extend(page.items.iter().map(|i| i.title.clone()));
        match page.next_cursor {
            Some(c) => page = reader.finder().limit(500).after(c).fetch().await.unwrap(),
            None => break,
        }
    }
    let (mut want, mut got) = (acked.clone(), stored.clone());
    want.sort();
    got.sort();
    assert_eq!(
        got, want,
        "acknowledged writes == stored rows, no loss, no duplicate"
    );
    store.close().await;
    sql(
        &writable_admin(&admin).await,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    )
    .await;
    // Best effort: bring the killed node back as a secondary for a later run.
    if let Ok(restart) = std::env::var("FAILOVER_RESTART_NODE") {
        let _ = Command::new(restart).arg(&killed_dir).output();
    }
}

/// The admin URL of the one writable host of a multi-host URL.
async fn writable_admin(multi: &str) -> String {
    let hosts = multi.split_once("://").unwrap().1;
    let hosts = hosts.split('/').next().unwrap();
    let hosts = hosts.rsplit_once('@').map_or(hosts, |(_, h)| h);
    for host in hosts.split(',') {
        let url = format!("postgres://postgres@{host}/postgres");
        if let Ok(mut c) = PgConnection::connect(&url).await {
            let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(&mut c)
                .await
                .unwrap();
            if !standby {
                return url;
            }
        }
    }
    panic!("no writable host in {multi}")
}
