//! The Redis cache: entries as JSON stamped with their generations, generation stamps as
//! plain keys, every command bounded by `redis_timeout`. One multiplexed connection per
//! store.
//!
//! On an error or a timeout Redis is switched off for this process (one warning per
//! outage) and lookups bypass it; a background probe reconnects every 500 ms, first
//! delivers the invalidations that could not be delivered meanwhile, then switches it
//! back on. While any invalidation is undelivered this process never reads Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

use super::{Cached, Gen, Key, Stamp, Ticket};
use crate::error::{Error, Result};

/// Bumps a generation, keeping the larger LSN (16 hex digits compare as strings).
const BUMP: &str = r"
local cur = redis.call('GET', KEYS[1])
local lsn = ARGV[2]
if cur then
  local c = string.sub(cur, 18)
  if c > lsn then lsn = c end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. lsn, 'PX', ARGV[3])
return 1
";

/// Generations outlive every entry stamped with them (the longest TTL is 24 h).
const GEN_TTL_MS: u64 = 25 * 3600 * 1000;
const PROBE_EVERY: Duration = Duration::from_millis(500);

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored<T> {
    s: Vec<Stamp>,
    v: T,
}

struct Shared {
    client: redis::Client,
    config: AsyncConnectionConfig,
    timeout: Duration,
    namespace: String,
    conn: Mutex<Option<MultiplexedConnection>>,
    up: AtomicBool,
    outages: AtomicU64,
    probing: AtomicBool,
    closed: AtomicBool,
    /// Invalidations not delivered yet, with the newest LSN of each.
    pending: Mutex<HashMap<Gen, u64>>,
    bump: redis::Script,
}

pub(super) struct Redis {
    shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Redis {
    pub(super) fn new(url: &str, timeout: Duration, namespace: String) -> Result<Redis> {
        let client = redis::Client::open(url).map_err(|e| Error::Validation {
            field: "redis_url".into(),
            message: format!("not a Redis URL: {e}"),
        })?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        Ok(Redis {
            shared: Arc::new(Shared {
                client,
                config,
                timeout,
                namespace,
                conn: Mutex::new(None),
                up: AtomicBool::new(true),
                outages: AtomicU64::new(0),
                probing: AtomicBool::new(false),
                closed: AtomicBool::new(false),
                pending: Mutex::new(HashMap::new()),
                bump: redis::Script::new(BUMP),
            }),
        })
    }

    pub(super) fn available(&self) -> bool {
        self.shared.up.load(Ordering::Acquire)
    }

    pub(super) fn outages(&self) -> u64 {
        self.shared.outages.load(Ordering::Relaxed)
    }

    pub(super) fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        lock(&self.shared.conn).take();
    }

    /// The value if its stamps are current, and the current stamps of its generations;
    /// `None` when Redis is off.
    pub(super) async fn get<T: Cached>(&self, key: &Key) -> Option<(Option<T>, Vec<Stamp>)> {
        let s = &self.shared;
        let gens = key.gens();
        let mut cmd = redis::cmd("MGET");
        for g in &gens {
            cmd.arg(s.name(&g.name()));
        }
        cmd.arg(s.name(&key.name()));
        let values: Vec<Option<Vec<u8>>> = s
            .run(false, |mut c| async move { cmd.query_async(&mut c).await })
            .await?;
        let (entry, gen_values) = values.split_last()?;
        let stamps: Vec<Stamp> = gen_values
            .iter()
            .map(|v| v.as_deref().map(Stamp::decode).unwrap_or_default())
            .collect();
        let value = entry
            .as_deref()
            .and_then(|b| serde_json::from_slice::<Stored<T>>(b).ok())
            .filter(|e| e.s == stamps)
            .map(|e| e.v);
        Some((value, stamps))
    }

    pub(super) async fn put<T: Cached>(&self, ticket: Ticket, value: &T, ttl: Duration) {
        let s = &self.shared;
        let Ok(json) = serde_json::to_vec(&Stored {
            s: ticket.stamps,
            v: value,
        }) else {
            return;
        };
        let mut cmd = redis::cmd("SET");
        cmd.arg(s.name(&ticket.key.name()))
            .arg(json)
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        let _: Option<()> = s
            .run(false, |mut c| async move { cmd.query_async(&mut c).await })
            .await;
    }

    pub(super) async fn bump(&self, gens: &[Gen], lsn: u64) {
        let s = &self.shared;
        let undelivered = !lock(&s.pending).is_empty();
        if s.up.load(Ordering::Acquire) && !undelivered {
            let all = gens.iter().map(|g| (*g, lsn)).collect::<Vec<_>>();
            if s.deliver(&all, false).await.is_some() {
                return;
            }
        }
        // Keep it for the probe, which delivers it before Redis is read again.
        let mut pending = lock(&s.pending);
        for g in gens {
            let e = pending.entry(*g).or_insert(0);
            *e = (*e).max(lsn);
        }
        drop(pending);
        s.down("an invalidation could not be delivered");
    }
}

impl Shared {
    fn name(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    /// Runs one command on the connection (opening it first if needed) within the
    /// timeout; on any failure switches Redis off and returns `None`. Only while Redis is
    /// on, unless `probing` (the probe delivering invalidations before switching it on).
    async fn run<T, F, Fut>(self: &Arc<Self>, probing: bool, f: F) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        if !(probing || self.up.load(Ordering::Acquire)) || self.closed.load(Ordering::Acquire) {
            return None;
        }
        let existing = lock(&self.conn).clone();
        let conn = match existing {
            Some(c) => c,
            None => match self.connect().await {
                Ok(c) => {
                    *lock(&self.conn) = Some(c.clone());
                    c
                }
                Err(e) => {
                    self.down(&e);
                    return None;
                }
            },
        };
        match tokio::time::timeout(self.timeout, f(conn)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                self.down(&e.to_string());
                None
            }
            Err(_) => {
                self.down(&format!(
                    "no reply within redis_timeout ({} ms)",
                    self.timeout.as_millis()
                ));
                None
            }
        }
    }

    async fn connect(&self) -> std::result::Result<MultiplexedConnection, String> {
        let c = tokio::time::timeout(
            self.timeout,
            self.client
                .get_multiplexed_async_connection_with_config(&self.config),
        )
        .await;
        match c {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no connection within redis_timeout ({} ms)",
                self.timeout.as_millis()
            )),
        }
    }

    /// Bumps each generation; `None` if any failed.
    async fn deliver(self: &Arc<Self>, gens: &[(Gen, u64)], probing: bool) -> Option<()> {
        for (g, lsn) in gens {
            let stamp = Stamp::fresh(*lsn).encode();
            let (tag, lsn) = stamp.split_once(':').unwrap_or_default();
            let mut inv = self.bump.key(self.name(&g.name()));
            inv.arg(tag).arg(lsn).arg(GEN_TTL_MS);
            self.run(probing, |mut c| async move {
                inv.invoke_async::<i64>(&mut c).await
            })
            .await?;
        }
        Some(())
    }

    /// Switches Redis off for this process and starts the probe that brings it back.
    fn down(self: &Arc<Self>, why: &str) {
        lock(&self.conn).take();
        if self.up.swap(false, Ordering::AcqRel) {
            self.outages.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "Redis cache unavailable ({why}); calls go to the database until it answers again"
            );
        }
        if self.closed.load(Ordering::Acquire) || self.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            self.probing.store(false, Ordering::Release);
            return;
        };
        rt.spawn(probe(Arc::downgrade(self)));
    }
}

/// Reconnects, delivers the pending invalidations, then switches Redis back on.
async fn probe(weak: Weak<Shared>) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let Some(s) = weak.upgrade() else { return };
        if s.closed.load(Ordering::Acquire) {
            s.probing.store(false, Ordering::Release);
            return;
        }
        let Ok(conn) = s.connect().await else {
            continue;
        };
        *lock(&s.conn) = Some(conn);
        // Redis stays off for lookups until every pending invalidation is in.
        let pending: Vec<(Gen, u64)> = lock(&s.pending).iter().map(|(g, l)| (*g, *l)).collect();
        if s.deliver(&pending, true).await.is_none() {
            continue;
        }
        let mut p = lock(&s.pending);
        for (g, l) in &pending {
            if p.get(g) == Some(l) {
                p.remove(g);
            }
        }
        if p.is_empty() {
            s.probing.store(false, Ordering::Release);
            s.up.store(true, Ordering::Release);
            drop(p);
            tracing::info!("Redis cache available again");
            return;
        }
    }
}
