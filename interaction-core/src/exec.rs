//! The one path from the domain modules to the database.
//!
//! Every statement goes through [`InteractionStore::read_all`] / [`read_opt`] (a read that
//! states how fresh it must be), [`write`] (a closure run in a transaction on its own task)
//! or [`write_one`] (one self-contained statement). Here, and only here:
//! - each call gets a deadline (`call_timeout`) that covers waiting for the writer gate,
//!   acquiring a connection and running the statements; nothing outlives it;
//! - a read that finds its connection closed by the server (a restart, a failover, a
//!   terminated backend) drops the idle connections and is retried once on a fresh one;
//!   a write is retried only if it failed before anything was sent but `BEGIN`;
//! - driver errors are classified (`backend::Db::classify`);
//! - each call is traced: a span with the operation, site and backend, and one event
//!   with rows, duration and error kind (never parameter values); calls slower than
//!   `slow_statement_threshold` are warnings.
//!
//! Reads that may be served by a replica ([`Fresh::Recent`], [`Fresh::Reporting`]) go to
//! one the cluster (`backend/cluster.rs`) vouches for; a replica that fails a read is
//! taken out of the rotation and the read runs on the primary. After a write commits,
//! the cache generations it touched are bumped and, with replicas, its commit LSN is
//! recorded as the session's consistency token.
//!
//! [`read_opt`]: InteractionStore::read_opt
//! [`write`]: InteractionStore::write
//! [`write_one`]: InteractionStore::write_one

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use crate::backend::{Db, Fault, Lease, Rowable, Sql, Tx};
use crate::cache::{Cached, Gen, Key, Kind, Lookup};
use crate::error::{Error, Result};
use crate::store::InteractionStore;

/// How fresh a read must be, which decides where it runs (spec §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fresh {
    /// Must see every write committed before the call: authentication, permission
    /// checks, reads inside read-modify-write logic. Always the primary.
    Latest,
    /// May lag behind the latest commit, but must include every commit up to this LSN
    /// (the session's consistency token; 0: none): Finder pages, loading a record for a
    /// form. A healthy replica that has replayed it, else the primary.
    Recent(u64),
    /// Like `Recent`, preferring the reporting replica: counts, exports, audit reads.
    Reporting(u64),
}

/// A public call, as traced: its name and the site it concerns; for a write, the cache
/// generations its commit invalidates.
#[derive(Debug, Clone)]
pub(crate) struct Op {
    pub name: &'static str,
    pub site: Option<i32>,
    pub invalidates: Vec<Gen>,
    /// Where a write records its commit LSN (a session's consistency token).
    pub seen: Option<Arc<AtomicU64>>,
}

impl Op {
    pub(crate) fn new(name: &'static str) -> Op {
        Op {
            name,
            site: None,
            invalidates: Vec::new(),
            seen: None,
        }
    }

    pub(crate) fn site(name: &'static str, site: i32) -> Op {
        Op {
            name,
            site: Some(site),
            invalidates: Vec::new(),
            seen: None,
        }
    }

    /// A write that changes what `gen` stamps: cached entries that depend on it die when
    /// the write commits.
    pub(crate) fn invalidates(mut self, gen: Gen) -> Op {
        self.invalidates.push(gen);
        self
    }

    /// A write whose commit LSN raises `seen` (with replicas).
    pub(crate) fn records(mut self, seen: &Arc<AtomicU64>) -> Op {
        self.seen = Some(seen.clone());
        self
    }

    fn span(&self, db: &Db) -> tracing::Span {
        tracing::debug_span!(
            "interaction_store",
            op = self.name,
            site = self.site,
            backend = db.backend().as_str()
        )
    }
}

/// The future of a write transaction's body, borrowing the transaction.
pub(crate) type TxFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 't>>;

/// Records how a call ended.
fn finish<T>(op: &Op, db: &Db, started: Instant, rows: Option<usize>, r: &Result<T>) {
    let elapsed = started.elapsed();
    let us = elapsed.as_micros() as u64;
    let error = r.as_ref().err().map(|e| e.kind().code());
    let slow = db.limits().slow_threshold.is_some_and(|t| elapsed >= t);
    if slow {
        tracing::warn!(
            op = op.name,
            site = op.site,
            backend = db.backend().as_str(),
            rows,
            duration_us = us,
            error,
            "slow call: {} took {} ms",
            op.name,
            elapsed.as_millis()
        );
    } else {
        tracing::debug!(
            op = op.name,
            site = op.site,
            rows,
            duration_us = us,
            error,
            "call finished"
        );
    }
}

/// Runs a read: on a replica when `$fresh` allows and one qualifies (any failure there
/// takes it out of the rotation and falls back to the primary), else on the primary with
/// one retry on a lost connection; all under the call's deadline.
macro_rules! read {
    ($store:expr, $op:expr, $fresh:expr, $q:expr, $method:ident, $rows:expr) => {{
        let db = $store.db();
        let q: &Sql = &$q;
        let started = Instant::now();
        let deadline = started + db.limits().call_timeout;
        #[cfg(not(feature = "postgres"))]
        let _ = $fresh;
        let r = async {
            #[cfg(feature = "postgres")]
            if let Some(replica) = $store.replica_for($fresh) {
                let rdb = &replica.db;
                // A dead replica must not eat the call's deadline: short acquire.
                let acquire_by = deadline.min(Instant::now() + REPLICA_ACQUIRE);
                let attempt = async {
                    let mut lease = rdb.acquire(acquire_by).await.map_err(|e| e.to_string())?;
                    match tokio::time::timeout_at(deadline, lease.$method(rdb, q)).await {
                        Ok(Ok(v)) => Ok(v),
                        Ok(Err(Fault::Driver(e))) => Err(rdb.classify(e).to_string()),
                        Ok(Err(Fault::Encode(e))) => Err(e.to_string()),
                        Err(_) => Err("no answer before the call's deadline".to_string()),
                    }
                };
                match attempt.await {
                    Ok(v) => return Ok(v),
                    Err(why) => {
                        replica.down(&why);
                        rdb.drop_idle();
                    }
                }
            }
            let mut retried = false;
            loop {
                let mut lease: Lease = db.acquire(deadline).await?;
                match tokio::time::timeout_at(deadline, lease.$method(db, q)).await {
                    Err(_) => return Err(db.deadline_error("running a query")),
                    Ok(Ok(v)) => return Ok(v),
                    Ok(Err(Fault::Driver(e))) if !retried && db.is_connection_lost(&e) => {
                        drop(lease);
                        db.drop_idle();
                        retried = true;
                        tracing::debug!(op = $op.name, "connection lost; retrying the read once");
                    }
                    Ok(Err(Fault::Driver(e))) => return Err(db.classify(e)),
                    Ok(Err(Fault::Encode(e))) => return Err(e),
                }
            }
        }
        .instrument($op.span(db))
        .await;
        finish(&$op, db, started, r.as_ref().ok().map($rows), &r);
        r
    }};
}

/// How long a read waits for a replica's connection before it runs on the primary.
#[cfg(feature = "postgres")]
const REPLICA_ACQUIRE: Duration = Duration::from_secs(1);

impl InteractionStore {
    /// All rows of a query.
    pub(crate) async fn read_all<T: Rowable>(
        &self,
        op: Op,
        fresh: Fresh,
        q: Sql,
    ) -> Result<Vec<T>> {
        read!(self, op, fresh, q, fetch_all, |v: &Vec<T>| v.len())
    }

    /// At most one row of a query.
    pub(crate) async fn read_opt<T: Rowable>(
        &self,
        op: Op,
        fresh: Fresh,
        q: Sql,
    ) -> Result<Option<T>> {
        read!(self, op, fresh, q, fetch_optional, |v: &Option<T>| {
            usize::from(v.is_some())
        })
    }

    /// The replica a read of this freshness may use, if any.
    #[cfg(feature = "postgres")]
    fn replica_for(&self, fresh: Fresh) -> Option<&crate::backend::cluster::Replica> {
        let cluster = self.inner.cluster.as_ref()?;
        match fresh {
            Fresh::Latest => None,
            Fresh::Recent(lsn) => cluster.pick(false, lsn),
            Fresh::Reporting(lsn) => cluster.pick(true, lsn),
        }
    }

    /// A value through the cache: on a miss `load` reads it (given the newest commit LSN
    /// the value must include, for the replica router) and returns it with how long it
    /// may be kept (`None`: the cache's TTL; zero: not at all).
    /// The lookup is traced in `op`'s span (`cache` and `outcome`: hit, miss or bypass).
    pub(crate) async fn cached<T, F, Fut>(
        &self,
        op: &Op,
        kind: Kind,
        key: Key,
        load: F,
    ) -> Result<T>
    where
        T: Cached,
        F: FnOnce(u64) -> Fut,
        Fut: Future<Output = Result<(T, Option<Duration>)>>,
    {
        // A closed store answers nothing, not even from its cache.
        if self.is_closed() {
            return Err(Error::unavailable("the store is closed"));
        }
        let found = self
            .cache()
            .get::<T>(kind, key)
            .instrument(op.span(self.db()))
            .await;
        match found {
            Lookup::Hit(v) => Ok(v),
            Lookup::Miss(ticket) => {
                let (v, ttl) = load(ticket.min_lsn).await?;
                self.cache().put(ticket, &v, ttl).await;
                Ok(v)
            }
            Lookup::Bypass => Ok(load(0).await?.0),
        }
    }

    /// The plan of a query (`EXPLAIN`), one node per line.
    pub(crate) async fn explain(&self, op: Op, q: Sql) -> Result<String> {
        read!(self, op, Fresh::Latest, q, explain, |_: &String| 0)
    }

    /// Runs `body` in a write transaction (`BEGIN IMMEDIATE` behind the in-process writer
    /// gate on SQLite) and commits it, or rolls back if it fails.
    ///
    /// The transaction runs on its own task: a caller that gives up (drops the future,
    /// asyncio cancellation, Ctrl-C) never leaves it half-done; it commits or rolls back
    /// whole, within the call's deadline. A write that reaches its deadline after sending
    /// `COMMIT` may have committed: the caller sees [`Error::Timeout`].
    pub(crate) async fn write<T, F>(&self, op: Op, body: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> TxFuture<'t, T> + Send + 'static,
    {
        self.on_own_task(op, None, move |db, deadline| async move {
            let _gate = db.write_gate(deadline).await?;
            let mut tx = begin(&db, deadline).await?;
            match body(&mut tx).await {
                Ok(v) => {
                    tx.commit().await?;
                    Ok(v)
                }
                Err(e) => {
                    tx.rollback().await;
                    Err(e)
                }
            }
        })
        .await
    }

    /// Runs one self-contained write statement in autocommit (a change and its audit row
    /// in one data-modifying CTE): atomic without `BEGIN`/`COMMIT`, one round trip. On its
    /// own task and under the call's deadline, like [`write`](Self::write).
    pub(crate) async fn write_one<T: Rowable>(&self, op: Op, q: Sql) -> Result<T> {
        self.on_own_task(op, Some(1), move |db, deadline| async move {
            let mut lease = db.acquire(deadline).await?;
            lease.fetch_one::<T>(&db, &q).await.map_err(|f| match f {
                Fault::Encode(e) => e,
                Fault::Driver(e) => {
                    if db.is_connection_lost(&e) {
                        db.drop_idle();
                    }
                    db.classify(e)
                }
            })
        })
        .await
    }

    /// Runs maintenance statements (`VACUUM`, a WAL checkpoint) one after the other,
    /// outside any transaction, behind the writer gate; on its own task and under the
    /// call's deadline, like [`write`](Self::write).
    pub(crate) async fn maintain(&self, op: Op, statements: &'static [&'static str]) -> Result<()> {
        if statements.is_empty() {
            return Ok(());
        }
        self.on_own_task(op, None, move |db, deadline| async move {
            let _gate = db.write_gate(deadline).await?;
            let mut lease = db.acquire(deadline).await?;
            for s in statements {
                lease.script(&db, s).await.map_err(|f| match f {
                    Fault::Encode(e) => e,
                    Fault::Driver(e) => db.classify(e),
                })?;
            }
            Ok(())
        })
        .await
    }

    /// Runs a write on its own task under the call's deadline, traced as `op`: the task
    /// goes on if the caller drops the returned future, and never past the deadline.
    async fn on_own_task<T, F, Fut>(&self, op: Op, rows: Option<usize>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(Db, Instant) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let db = self.db().clone();
        let started = Instant::now();
        let deadline = started + db.limits().call_timeout;
        let task = {
            let db = db.clone();
            let span = op.span(&db);
            let cache = self.inner.cache.clone();
            let gens = op.invalidates.clone();
            let seen = op.seen.clone();
            #[cfg(feature = "postgres")]
            let cluster = self.inner.cluster.clone();
            async move {
                let r = tokio::time::timeout_at(deadline, work(db.clone(), deadline))
                    .await
                    .unwrap_or_else(|_| Err(db.deadline_error("writing")));
                // The commit LSN (with replicas): the position after it, read from the
                // primary once the transaction is over. If the primary cannot tell (it
                // just died), the session reads from the primary from now on.
                #[allow(unused_mut)]
                let mut lsn = 0;
                #[cfg(feature = "postgres")]
                if let Some(c) = &cluster {
                    lsn = c.commit_lsn().await.unwrap_or(u64::MAX);
                }
                // Also after a failure: one past its deadline may have committed, and a
                // token too new only sends reads to the primary a little longer.
                if let Some(seen) = &seen {
                    seen.fetch_max(lsn, Ordering::AcqRel);
                }
                // After the commit, never before: a lookup between the two would cache
                // what the commit is about to change. Also after a failure, likewise. (An
                // unknown LSN is not carried into the stamp, where it would pin the site's
                // searches to the primary for the stamp's lifetime.)
                let stamp_lsn = if lsn == u64::MAX { 0 } else { lsn };
                cache.bump(&gens, stamp_lsn).await;
                r
            }
            .instrument(span)
        };
        let r = tokio::spawn(task)
            .await
            .map_err(|e| Error::internal(format!("write task failed: {e}")))
            .and_then(|r| r);
        finish(&op, &db, started, rows, &r);
        r
    }
}

/// Acquires a connection and opens a transaction on it. If the connection turns out to
/// be dead, nothing has been written yet: drop it (and the other idle ones) and try once
/// more on a fresh one.
async fn begin(db: &Db, deadline: Instant) -> Result<Tx> {
    let mut retried = false;
    loop {
        let lease = db.acquire(deadline).await?;
        match Tx::begin(db, lease).await {
            Ok(tx) => return Ok(tx),
            Err((lease, Fault::Driver(e))) if !retried && db.is_connection_lost(&e) => {
                drop(lease);
                db.drop_idle();
                retried = true;
            }
            Err((_, Fault::Driver(e))) => return Err(db.classify(e)),
            Err((_, Fault::Encode(e))) => return Err(e),
        }
    }
}

/// The default deadline of a call (see `StoreOptions::call_timeout`).
pub(crate) const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
