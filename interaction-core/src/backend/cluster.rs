//! The PostgreSQL cluster as a store sees it (spec §5.4, §7.1): the primary (one host, or
//! a failover pair listed libpq style, of which the writable one is used) and streaming
//! replicas that serve searches, with an optional reporting replica.
//!
//! A background probe reads the primary's WAL position and each replica's replay
//! position a few times per `replica_max_lag`. A replica leaves the rotation when it does
//! not answer, is no longer a standby, or has not replayed WAL the primary wrote longer
//! ago than `replica_max_lag`; it comes back when it has caught up. A read that carries a
//! consistency token (the commit LSN of a write it must see) goes to a replica only if
//! that replica's replay position has reached the token, else to the primary: read your
//! writes by LSN, never by timer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;

use super::postgres::{COMMIT_LSN_SQL, REPLAY_SQL};
use super::{format_lsn, parse_lsn, Backend, Db, Sql};

/// How long one probe of one server may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// One replica and what the probe last saw of it.
pub(crate) struct Replica {
    pub(crate) db: Db,
    healthy: AtomicBool,
    /// Replay position at the last probe (a lower bound of the current one).
    replay: AtomicU64,
}

impl Replica {
    fn new(db: Db) -> Replica {
        Replica {
            db,
            healthy: AtomicBool::new(false),
            replay: AtomicU64::new(0),
        }
    }

    fn usable(&self, min_lsn: u64) -> bool {
        self.healthy.load(Ordering::Acquire) && self.replay.load(Ordering::Acquire) >= min_lsn
    }

    /// Takes the replica out of the rotation (logged once per departure).
    pub(crate) fn down(&self, why: &str) {
        if self.healthy.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                replica = self.db.place(),
                "replica left the rotation: {why}; its reads go elsewhere until it catches up"
            );
        }
    }

    fn up(&self) {
        if !self.healthy.swap(true, Ordering::AcqRel) {
            tracing::info!(replica = self.db.place(), "replica in the rotation");
        }
    }
}

struct Inner {
    primary: Db,
    replicas: Vec<Replica>,
    reporting: Option<Replica>,
    max_lag: Duration,
    next: AtomicUsize,
    /// The primary's WAL position over the last moments: (when, LSN), oldest first.
    samples: Mutex<VecDeque<(Instant, u64)>>,
}

/// The replicas of a store and their health. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Cluster {
    inner: Arc<Inner>,
}

impl Cluster {
    /// Builds the replica pools (nothing is opened yet), probes every replica once, then
    /// keeps probing in the background while the store lives.
    pub(crate) async fn start(
        primary: Db,
        replicas: Vec<Db>,
        reporting: Option<Db>,
        max_lag: Duration,
    ) -> Cluster {
        let c = Cluster {
            inner: Arc::new(Inner {
                primary,
                replicas: replicas.into_iter().map(Replica::new).collect(),
                reporting: reporting.map(Replica::new),
                max_lag,
                next: AtomicUsize::new(0),
                samples: Mutex::new(VecDeque::new()),
            }),
        };
        c.inner.probe_once().await;
        let every = (max_lag / 4).clamp(Duration::from_millis(50), Duration::from_millis(500));
        tokio::spawn(probe(Arc::downgrade(&c.inner), every));
        c
    }

    /// A replica for a read that must include every commit up to `min_lsn`: the next
    /// healthy one that has replayed it, or `None` (the primary). `reporting` reads try
    /// the reporting replica first.
    pub(crate) fn pick(&self, reporting: bool, min_lsn: u64) -> Option<&Replica> {
        let i = &self.inner;
        if reporting {
            if let Some(r) = i.reporting.as_ref().filter(|r| r.usable(min_lsn)) {
                return Some(r);
            }
        }
        let n = i.replicas.len();
        let start = i.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|k| &i.replicas[(start + k) % n])
            .find(|r| r.usable(min_lsn))
    }

    /// The primary's current WAL position: at or past the end of every commit made
    /// before the call. `None` if the primary cannot tell right now.
    pub(crate) async fn commit_lsn(&self) -> Option<u64> {
        self.inner.primary_lsn().await
    }

    /// Each replica as the probe last saw it.
    pub(crate) fn status(&self) -> Vec<crate::ReplicaStatus> {
        let i = &self.inner;
        let one = |r: &Replica, reporting: bool| crate::ReplicaStatus {
            place: r.db.place().to_string(),
            reporting,
            healthy: r.healthy.load(Ordering::Acquire),
            replayed: format_lsn(r.replay.load(Ordering::Acquire)),
        };
        i.replicas
            .iter()
            .map(|r| one(r, false))
            .chain(i.reporting.iter().map(|r| one(r, true)))
            .collect()
    }

    pub(crate) fn close(&self) {
        for r in self
            .inner
            .replicas
            .iter()
            .chain(self.inner.reporting.iter())
        {
            r.db.close();
        }
    }
}

impl Inner {
    async fn primary_lsn(&self) -> Option<u64> {
        let (text,): (String,) = read_one(&self.primary, COMMIT_LSN_SQL).await?;
        parse_lsn(&text)
    }

    /// One round: the primary's position, then each replica's.
    async fn probe_once(&self) {
        if let Some(lsn) = self.primary_lsn().await {
            let now = Instant::now();
            let mut s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
            if s.back().is_none_or(|(_, l)| *l != lsn) {
                s.push_back((now, lsn));
            }
            let keep = self.max_lag * 2 + Duration::from_secs(1);
            while s.len() > 1 && s.front().is_some_and(|(t, _)| now - *t > keep) {
                s.pop_front();
            }
        }
        // Concurrently: one silent replica must not delay the others' verdicts.
        let all: Vec<&Replica> = self.replicas.iter().chain(self.reporting.iter()).collect();
        let mut set = tokio::task::JoinSet::new();
        for (i, r) in all.iter().enumerate() {
            let db = r.db.clone();
            set.spawn(async move { (i, read_one::<(bool, String)>(&db, REPLAY_SQL).await) });
        }
        let mut states = vec![None; all.len()];
        while let Some(Ok((i, s))) = set.join_next().await {
            states[i] = s;
        }
        for (r, state) in all.into_iter().zip(states) {
            match state {
                None => r.down("it does not answer"),
                Some((false, _)) => r.down("it is not a standby (promoted?)"),
                Some((true, text)) => {
                    let replay = parse_lsn(&text).unwrap_or(0);
                    r.replay.fetch_max(replay, Ordering::AcqRel);
                    let lag = self.lag(replay);
                    if lag > self.max_lag {
                        r.down(&format!(
                            "it lags {} ms behind the primary (replica_max_lag {} ms)",
                            lag.as_millis(),
                            self.max_lag.as_millis()
                        ));
                    } else {
                        r.up();
                    }
                }
            }
        }
    }

    /// How long ago the primary wrote the oldest WAL a replica at `replay` lacks.
    fn lag(&self, replay: u64) -> Duration {
        let s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        s.iter()
            .find(|(_, lsn)| *lsn > replay)
            .map_or(Duration::ZERO, |(t, _)| t.elapsed())
    }
}

/// One row of a probe query, within [`PROBE_TIMEOUT`]; `None` on any failure.
async fn read_one<T: super::Rowable>(db: &Db, sql: &str) -> Option<T> {
    let deadline = Instant::now() + PROBE_TIMEOUT;
    let q = Sql::new(Backend::Postgres, sql);
    let work = async {
        let mut lease = db.acquire(deadline).await.ok()?;
        lease.fetch_one::<T>(db, &q).await.ok()
    };
    tokio::time::timeout_at(deadline, work).await.ok().flatten()
}

async fn probe(weak: Weak<Inner>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = weak.upgrade() else { return };
        if inner.primary.is_closed() {
            return;
        }
        inner.probe_once().await;
    }
}
