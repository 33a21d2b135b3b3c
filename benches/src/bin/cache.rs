//! The caches and the permission re-check (issue 9 goals), interleaved like `compare`:
//!
//! - a Finder page served from the cache (in process memory, then Redis) against the same
//!   page read from the database (goal: a hit <= 0.3x);
//! - a cached call (session re-check + Finder cache lookup, all in memory) against a get
//!   by id: an upper bound on what the per-call re-check adds to a get (goal <= 5 %);
//! - gets with Redis unreachable against gets with no cache at all (both read the
//!   database for every re-check): p99 ratio (goal <= 1.1x) and errors (goal 0).
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/ \
//!     cargo run --release -p interaction-benches --bin cache
//! ```
//!
//! Environment: `BENCH_ROWS` (default 100000), `BENCH_ITERS` (pairs, default 300),
//! `BENCH_BACKENDS` (`postgres,sqlite`), `REDIS_URL` (default redis://127.0.0.1:6379/).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use interaction_benches::crit::runtime;
use interaction_benches::fixture::{self, Fixture};
use interaction_benches::report::quantile;
use interaction_core::{InteractionStore, SiteSession, StoreOptions};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;
type Call<'a> = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = Result<()>> + 'a>> + 'a>;

struct Row {
    backend: String,
    name: String,
    a: Vec<Duration>,
    b: Vec<Duration>,
    errors: usize,
}

/// `iters` interleaved pairs after 20 warm-up pairs; errors are counted, not fatal.
async fn pair(backend: &str, name: &str, iters: usize, mut a: Call<'_>, mut b: Call<'_>) -> Row {
    let mut errors = 0;
    for _ in 0..20 {
        errors += usize::from(a().await.is_err()) + usize::from(b().await.is_err());
    }
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for i in 0..iters {
        for first in [i % 2 == 0, i % 2 != 0] {
            let t = Instant::now();
            let r = if first { a().await } else { b().await };
            let d = t.elapsed();
            errors += usize::from(r.is_err());
            if first {
                ta.push(d)
            } else {
                tb.push(d)
            }
        }
    }
    Row {
        backend: backend.into(),
        name: name.into(),
        a: ta,
        b: tb,
        errors,
    }
}

fn fetch(s: &SiteSession) -> Call<'_> {
    Box::new(move || {
        Box::pin(async move {
            s.finder().types(["meeting"]).limit(20).fetch().await?;
            Ok(())
        })
    })
}

fn get(s: &SiteSession, id: i64) -> Call<'_> {
    Box::new(move || {
        Box::pin(async move {
            s.get_interaction(id).await?;
            Ok(())
        })
    })
}

async fn store(
    fx: &Fixture,
    opts: impl FnOnce(StoreOptions) -> StoreOptions,
) -> Result<(InteractionStore, SiteSession)> {
    let store = opts(StoreOptions::new(&fx.url)).connect().await?;
    let s = store.session_for_user(fx.user_id, fx.site_ids[0]).await?;
    Ok((store, s))
}

async fn run(backend: &str, fx: &Fixture, iters: usize, redis: &str) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let (_m, memory) = store(fx, |o| o).await?;
    let (_u, uncached) = store(fx, |o| o.finder_cache_ttl(Duration::ZERO)).await?;
    let (_r, via_redis) = store(fx, |o| o.redis_url(redis)).await?;
    let (_o, off) = store(fx, |o| o.cache(false)).await?;
    let (_d, redis_down) = store(fx, |o| o.redis_url("redis://127.0.0.1:1/")).await?;
    let id = memory
        .finder()
        .limit(1)
        .fetch()
        .await?
        .items
        .first()
        .map(|i| i.id)
        .ok_or("no rows")?;
    rows.push(
        pair(
            backend,
            "finder page: memory hit vs database",
            iters,
            fetch(&memory),
            fetch(&uncached),
        )
        .await,
    );
    rows.push(
        pair(
            backend,
            "finder page: Redis hit vs database",
            iters,
            fetch(&via_redis),
            fetch(&uncached),
        )
        .await,
    );
    rows.push(
        pair(
            backend,
            "cached call (re-check + hit) vs get",
            iters,
            fetch(&memory),
            get(&memory, id),
        )
        .await,
    );
    rows.push(
        pair(
            backend,
            "get: Redis down vs no cache",
            iters,
            get(&redis_down, id),
            get(&off, id),
        )
        .await,
    );
    rows.push(
        pair(
            backend,
            "finder: Redis down vs no cache",
            iters,
            fetch(&redis_down),
            fetch(&off),
        )
        .await,
    );
    Ok(rows)
}

fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn main() {
    let iters: usize = std::env::var("BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "postgres,sqlite".into());
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let rows_n = interaction_benches::data::rows_from_env();
    let rt = runtime();
    let mut table = Vec::new();
    for b in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let fx = rt
            .block_on(async {
                match b {
                    "postgres" => fixture::postgres(&fixture::database_url(), rows_n).await,
                    "sqlite" => fixture::sqlite(rows_n).await,
                    other => panic!("unknown backend {other:?}"),
                }
            })
            .unwrap_or_else(|e| panic!("{b} fixture: {e}"));
        table.extend(
            rt.block_on(run(b, &fx, iters, &redis))
                .unwrap_or_else(|e| panic!("{b}: {e}")),
        );
    }
    println!("Interleaved, {iters} pairs each (after 20 warm-up pairs); A vs B:\n");
    println!("| backend | comparison | A median µs | B median µs | median A/B | A p99 µs | B p99 µs | p99 A/B | errors |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &table {
        let (am, bm) = (quantile(&r.a, 0.5), quantile(&r.b, 0.5));
        let (ap, bp) = (quantile(&r.a, 0.99), quantile(&r.b, 0.99));
        println!(
            "| {} | {} | {} | {} | {:.2}x | {} | {} | {:.2}x | {} |",
            r.backend,
            r.name,
            us(am),
            us(bm),
            am.as_secs_f64() / bm.as_secs_f64(),
            us(ap),
            us(bp),
            ap.as_secs_f64() / bp.as_secs_f64(),
            r.errors
        );
    }
}
