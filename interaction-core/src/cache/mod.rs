//! Caches (spec §5.2): login tokens, permissions and Finder results, in Redis when the
//! store has one, else in process memory with the same TTLs and invalidation.
//!
//! Invalidation is by **generation stamps**, never by deleting entries one by one: each
//! entry is stored with the stamps of the generations it depends on (a user, a site, a
//! token, a site's rows) as they were *before* the database was read, and it is served
//! only while every one of them is unchanged. A write bumps its generations after its
//! commit (`exec.rs`), so the very next lookup of every process sharing the cache misses,
//! and an entry read from the database before a concurrent commit can never outlive it.
//! A stamp is random, so one that vanished (Redis flushed or restarted) never comes back
//! equal to an old one.
//!
//! The stamp of a site's rows also carries the commit LSN of the last write to them: a
//! result read from a replica is cached only if that replica had replayed it, so a lagging
//! replica can never put a stale page in the cache (`exec.rs`).
//!
//! Redis is a cache, never a dependency: an error or a reply slower than `redis_timeout`
//! turns it off for this process (one warning), calls go to the database, and a background
//! probe turns it back on (after replaying the invalidations it could not deliver).

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What an entry depends on: bumping one invalidates every entry stamped with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Gen {
    /// A user: activation, password, tokens, roles at any site.
    User(i32),
    /// A site: activation.
    Site(i32),
    /// One login token: logout.
    Token([u8; 32]),
    /// A site's interactions: any committed change to them.
    Rows(i32),
    /// The list of sites (a site created, renamed or (de)activated).
    SiteList,
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
impl Gen {
    fn name(&self) -> String {
        match self {
            Gen::User(u) => format!("g:u:{u}"),
            Gen::Site(s) => format!("g:s:{s}"),
            Gen::Token(t) => format!("g:t:{}", hex(&t[..16])),
            Gen::Rows(s) => format!("g:r:{s}"),
            Gen::SiteList => "g:sl".to_string(),
        }
    }
}

/// The value of a generation: a random tag, and for [`Gen::Rows`] the commit LSN of the
/// newest write (0 elsewhere and on SQLite). `Stamp::default()` is "never bumped".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub tag: u64,
    pub lsn: u64,
}

impl Stamp {
    fn fresh(lsn: u64) -> Stamp {
        Stamp {
            tag: rand::random::<u64>() | 1,
            lsn,
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    /// `tag:lsn`, the LSN as 16 hex digits so that strings compare like numbers.
    fn encode(&self) -> String {
        format!("{:016x}:{:016x}", self.tag, self.lsn)
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn decode(s: &[u8]) -> Stamp {
        let s = std::str::from_utf8(s).unwrap_or("");
        let (tag, lsn) = s.split_once(':').unwrap_or(("0", "0"));
        Stamp {
            tag: u64::from_str_radix(tag, 16).unwrap_or(0),
            lsn: u64::from_str_radix(lsn, 16).unwrap_or(0),
        }
    }
}

/// The caches, for [`CacheStats`] and their TTLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Login token → user (24 h).
    Auth,
    /// A user's role at a site, with the token, user and site all still valid (15 min).
    Permissions,
    /// Finder pages and counts (5 min).
    Finder,
    /// Lookup data: sites (1 h, always in process memory).
    Lookup,
}

impl Kind {
    fn ttl(self) -> Duration {
        match self {
            Kind::Auth => Duration::from_secs(24 * 3600),
            Kind::Permissions => Duration::from_secs(15 * 60),
            Kind::Finder => Duration::from_secs(5 * 60),
            Kind::Lookup => Duration::from_secs(3600),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Auth => "auth",
            Kind::Permissions => "permissions",
            Kind::Finder => "finder",
            Kind::Lookup => "lookup",
        }
    }
}

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// The user of a login token (by its hash).
    TokenUser([u8; 32]),
    /// A user's access to a site, through a login token or (`None`) as the host
    /// application authenticated them.
    Access {
        user: i32,
        site: i32,
        token: Option<[u8; 32]>,
    },
    /// A Finder result: a site and the hash of the exact statement.
    Finder { site: i32, statement: [u8; 16] },
    /// One site.
    Site(i32),
    /// Every site.
    SiteList,
}

impl Key {
    /// The generations an entry depends on.
    pub(crate) fn gens(&self) -> Vec<Gen> {
        match self {
            Key::TokenUser(t) => vec![Gen::Token(*t)],
            Key::Access { user, site, token } => {
                let mut g = vec![Gen::User(*user), Gen::Site(*site)];
                if let Some(t) = token {
                    g.push(Gen::Token(*t));
                }
                g
            }
            Key::Finder { site, .. } => vec![Gen::Rows(*site)],
            Key::Site(s) => vec![Gen::Site(*s)],
            Key::SiteList => vec![Gen::SiteList],
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn name(&self) -> String {
        match self {
            Key::TokenUser(t) => format!("e:tu:{}", hex(&t[..16])),
            Key::Access { user, site, token } => match token {
                Some(t) => format!("e:a:{site}:{user}:{}", hex(&t[..16])),
                None => format!("e:a:{site}:{user}:-"),
            },
            Key::Finder { site, statement } => format!("e:f:{site}:{}", hex(statement)),
            Key::Site(s) => format!("e:s:{s}"),
            Key::SiteList => "e:sl".to_string(),
        }
    }
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A value that can be cached: kept as it is in memory, as JSON in Redis.
pub(crate) trait Cached:
    Clone + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
impl<T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static> Cached for T {}

/// The outcome of a lookup.
pub(crate) enum Lookup<T> {
    Hit(T),
    /// Not cached (or stale): read the database, then [`Cache::put`] the value with this.
    Miss(Ticket),
    /// Caching is off or unreachable: read the database and keep nothing.
    Bypass,
}

/// The right to store one value, stamped with the generations seen before the read.
pub(crate) struct Ticket {
    kind: Kind,
    key: Key,
    stamps: Vec<Stamp>,
    /// The newest commit the value must include (the largest LSN among the stamps).
    pub(crate) min_lsn: u64,
}

/// Hits and misses of one cache since the store opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Lookups answered by the cache.
    pub hits: u64,
    /// Lookups that went to the database (absent, expired or invalidated entry).
    pub misses: u64,
}

/// Cache statistics: see [`InteractionStore::cache_stats`](crate::InteractionStore::cache_stats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStats {
    /// `"redis"`, `"memory"` or `"off"`.
    pub backend: &'static str,
    /// False while Redis is unreachable (calls go to the database meanwhile).
    pub available: bool,
    /// Login tokens.
    pub auth: CacheCounts,
    /// Roles and activation of users and sites, re-checked on every session call.
    pub permissions: CacheCounts,
    /// Finder pages and counts.
    pub finder: CacheCounts,
    /// Lookup data (sites), always in process memory.
    pub lookup: CacheCounts,
    /// Lookups that bypassed an unavailable cache.
    pub bypassed: u64,
    /// Times Redis became unreachable.
    pub outages: u64,
}

#[derive(Default)]
struct Counter {
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Counter {
    fn get(&self) -> CacheCounts {
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}

#[derive(Default)]
struct Stats {
    auth: Counter,
    permissions: Counter,
    finder: Counter,
    lookup: Counter,
    bypassed: AtomicU64,
}

impl Stats {
    fn of(&self, kind: Kind) -> &Counter {
        match kind {
            Kind::Auth => &self.auth,
            Kind::Permissions => &self.permissions,
            Kind::Finder => &self.finder,
            Kind::Lookup => &self.lookup,
        }
    }
}

enum Store {
    Off,
    Memory(memory::Memory),
    #[cfg(feature = "redis")]
    Redis(redis::Redis),
}

/// The store's caches. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Cache {
    inner: Arc<(Store, Stats)>,
    /// Lookup data lives in process memory whatever `inner` is (spec §5.2).
    local: Arc<memory::Memory>,
    /// How long Finder results are kept (zero: not cached).
    finder_ttl: Duration,
}

/// Entries of the in-process lookup cache.
const LOOKUP_ENTRIES: usize = 4096;

/// How a store caches (from `StoreOptions`).
#[derive(Debug, Clone)]
pub(crate) enum CacheConfig {
    Off,
    Memory {
        capacity: usize,
    },
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Redis {
        url: String,
        timeout: Duration,
        /// Keys are prefixed with this: the deployment's identity, so that databases
        /// sharing one Redis never share entries.
        namespace: String,
    },
}

impl Cache {
    pub(crate) fn new(config: CacheConfig, finder_ttl: Duration) -> Result<Cache> {
        let store = match config {
            CacheConfig::Off => Store::Off,
            CacheConfig::Memory { capacity } => Store::Memory(memory::Memory::new(capacity)),
            #[cfg(feature = "redis")]
            CacheConfig::Redis {
                url,
                timeout,
                namespace,
            } => Store::Redis(redis::Redis::new(&url, timeout, namespace)?),
            #[cfg(not(feature = "redis"))]
            CacheConfig::Redis { .. } => {
                return Err(crate::error::Error::Configuration {
                    message: "this build of interaction-core has no Redis support (cargo \
                              feature `redis`)"
                        .into(),
                    source: None,
                })
            }
        };
        Ok(Cache {
            inner: Arc::new((store, Stats::default())),
            local: Arc::new(memory::Memory::new(LOOKUP_ENTRIES)),
            finder_ttl,
        })
    }

    fn stats(&self) -> &Stats {
        &self.inner.1
    }

    /// Looks `key` up; it is served only if every generation it depends on
    /// ([`Key::gens`]) still has the stamp the entry was stored with.
    pub(crate) async fn get<T: Cached>(&self, kind: Kind, key: Key) -> Lookup<T> {
        if kind == Kind::Finder && self.finder_ttl.is_zero() {
            return Lookup::Bypass;
        }
        let found = match &self.inner.0 {
            Store::Off => return Lookup::Bypass,
            _ if kind == Kind::Lookup => Some(self.local.get::<T>(&key)),
            Store::Memory(m) => Some(m.get::<T>(&key)),
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.get::<T>(&key).await,
        };
        let stats = self.stats();
        match found {
            None => {
                stats.bypassed.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(cache = kind.as_str(), outcome = "bypass", "cache lookup");
                Lookup::Bypass
            }
            Some((Some(v), _)) => {
                stats.of(kind).hits.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(cache = kind.as_str(), outcome = "hit", "cache lookup");
                Lookup::Hit(v)
            }
            Some((None, stamps)) => {
                stats.of(kind).misses.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(cache = kind.as_str(), outcome = "miss", "cache lookup");
                let min_lsn = stamps.iter().map(|s| s.lsn).max().unwrap_or(0);
                Lookup::Miss(Ticket {
                    kind,
                    key,
                    stamps,
                    min_lsn,
                })
            }
        }
    }

    /// Stores a value read after the lookup that issued `ticket`, for at most `ttl` (the
    /// cache's own TTL if shorter).
    pub(crate) async fn put<T: Cached>(&self, ticket: Ticket, value: &T, ttl: Option<Duration>) {
        let most = match ticket.kind {
            Kind::Finder => self.finder_ttl,
            k => k.ttl(),
        };
        let ttl = ttl.map_or(most, |t| t.min(most));
        if ttl.is_zero() {
            return;
        }
        match &self.inner.0 {
            Store::Off => {}
            _ if ticket.kind == Kind::Lookup => self.local.put(ticket, value.clone(), ttl),
            Store::Memory(m) => m.put(ticket, value.clone(), ttl),
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.put(ticket, value, ttl).await,
        }
    }

    /// Invalidates every entry that depends on `gens` (after a commit at `lsn`).
    pub(crate) async fn bump(&self, gens: &[Gen], lsn: u64) {
        if gens.is_empty() {
            return;
        }
        self.local.bump(gens, lsn);
        match &self.inner.0 {
            Store::Off => {}
            Store::Memory(m) => m.bump(gens, lsn),
            #[cfg(feature = "redis")]
            Store::Redis(r) => r.bump(gens, lsn).await,
        }
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        let s = self.stats();
        let (backend, available, outages) = match &self.inner.0 {
            Store::Off => ("off", true, 0),
            Store::Memory(_) => ("memory", true, 0),
            #[cfg(feature = "redis")]
            Store::Redis(r) => ("redis", r.available(), r.outages()),
        };
        CacheStats {
            backend,
            available,
            auth: s.auth.get(),
            permissions: s.permissions.get(),
            finder: s.finder.get(),
            lookup: s.lookup.get(),
            bypassed: s.bypassed.load(Ordering::Relaxed),
            outages,
        }
    }

    /// Stops background work (the Redis probe).
    pub(crate) fn close(&self) {
        #[cfg(feature = "redis")]
        if let Store::Redis(r) = &self.inner.0 {
            r.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip_and_compare_as_strings() {
        let a = Stamp { tag: 7, lsn: 0x10 };
        let b = Stamp { tag: 1, lsn: 0x9 };
        assert_eq!(Stamp::decode(a.encode().as_bytes()), a);
        assert!(a.encode()[17..] > b.encode()[17..]);
        assert_eq!(Stamp::decode(b"garbage"), Stamp::default());
    }

    #[tokio::test]
    async fn an_entry_dies_with_any_of_its_generations() {
        let c = Cache::new(CacheConfig::Memory { capacity: 100 }, Kind::Finder.ttl()).unwrap();
        let key = Key::Access {
            user: 1,
            site: 2,
            token: None,
        };
        let Lookup::Miss(t) = c.get::<u8>(Kind::Permissions, key.clone()).await else {
            panic!("expected a miss")
        };
        c.put(t, &5u8, None).await;
        assert!(matches!(
            c.get::<u8>(Kind::Permissions, key.clone()).await,
            Lookup::Hit(5)
        ));
        // Another site's bump leaves it alone; its own site's kills it.
        c.bump(&[Gen::Site(3)], 0).await;
        assert!(matches!(
            c.get::<u8>(Kind::Permissions, key.clone()).await,
            Lookup::Hit(5)
        ));
        c.bump(&[Gen::Site(2)], 0).await;
        assert!(matches!(
            c.get::<u8>(Kind::Permissions, key.clone()).await,
            Lookup::Miss(_)
        ));
    }

    #[tokio::test]
    async fn a_value_read_before_a_bump_is_never_served_after_it() {
        let c = Cache::new(CacheConfig::Memory { capacity: 100 }, Kind::Finder.ttl()).unwrap();
        let key = Key::TokenUser([9; 32]);
        let gens = [Gen::Token([9; 32])];
        let Lookup::Miss(t) = c.get::<u8>(Kind::Auth, key.clone()).await else {
            panic!("expected a miss")
        };
        // A logout commits and bumps while the reader is still reading.
        c.bump(&gens, 0).await;
        c.put(t, &1u8, None).await;
        assert!(matches!(
            c.get::<u8>(Kind::Auth, key).await,
            Lookup::Miss(_)
        ));
    }

    #[tokio::test]
    async fn rows_stamps_keep_the_newest_lsn() {
        let c = Cache::new(CacheConfig::Memory { capacity: 100 }, Kind::Finder.ttl()).unwrap();
        c.bump(&[Gen::Rows(1)], 500).await;
        c.bump(&[Gen::Rows(1)], 300).await;
        let key = Key::Finder {
            site: 1,
            statement: [0; 16],
        };
        let Lookup::Miss(t) = c.get::<u8>(Kind::Finder, key).await else {
            panic!("expected a miss")
        };
        assert_eq!(t.min_lsn, 500);
    }
}
