//! The criterion side: one benchmark group per backend, each operation twice (library
//! and hand-written), then the table of ratios of the medians.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use tokio::runtime::Runtime;

use crate::fixture::{self, Result};
use crate::ops::{Op, Suite};
use crate::report;

/// Which database a bench binary measures.
#[derive(Debug, Clone)]
pub enum Target {
    /// The PostgreSQL server of this URL.
    Postgres(String),
    /// The SQLite file under `target/bench-data`.
    Sqlite,
}

/// The runtime the benches run on: multi-threaded (the library spawns its writes), one
/// worker per core.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Builds (or reuses) the database of `BENCH_ROWS` rows and prepares the suite.
pub async fn suite(target: &Target) -> Result<Suite> {
    let rows = crate::data::rows_from_env();
    let fx = match target {
        Target::Postgres(url) => fixture::postgres(url, rows).await?,
        Target::Sqlite => fixture::sqlite(rows).await?,
    };
    Suite::new(fx).await
}

/// Criterion settings of these benches: 30 samples, 3 s of measurement, 1 s of warm-up
/// (command-line options still override them).
pub fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args()
}

/// Operations whose library call takes longer than `BENCH_SLOW_LIMIT_MS` (default 1000)
/// once warm: criterion would need minutes for them, so the criterion groups skip them
/// (the `compare` binary still times them, with fewer rounds).
pub async fn too_slow(suite: &Suite) -> Result<Vec<(Op, Duration)>> {
    let limit = std::env::var("BENCH_SLOW_LIMIT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut slow = Vec::new();
    for op in Op::all() {
        suite.run_lib(op).await?;
        let t = std::time::Instant::now();
        suite.run_lib(op).await?;
        let d = t.elapsed();
        if d > Duration::from_millis(limit) {
            slow.push((op, d));
        }
    }
    Ok(slow)
}

/// Benchmarks every [`Op`] but `skip` on both sides in the group `group`.
pub fn bench_suite(c: &mut Criterion, rt: &Runtime, suite: &Suite, group: &str, skip: &[Op]) {
    let mut g = c.benchmark_group(group);
    for op in Op::all().into_iter().filter(|o| !skip.contains(o)) {
        g.bench_function(BenchmarkId::new(op.name(), "library"), |b| {
            b.to_async(rt)
                .iter(|| async { suite.run_lib(op).await.expect("library call") })
        });
        g.bench_function(BenchmarkId::new(op.name(), "hand"), |b| {
            b.to_async(rt)
                .iter(|| async { suite.run_hand(op).await.expect("hand-written call") })
        });
    }
    g.finish();
}

/// The whole bench binary: setup, checks, criterion groups, then the ratio table (and
/// the plans when `BENCH_EXPLAIN=1`).
pub fn main(target: Target) {
    let group = match target {
        Target::Postgres(_) => "postgres",
        Target::Sqlite => "sqlite",
    };
    let rt = runtime();
    let suite = rt
        .block_on(suite(&target))
        .unwrap_or_else(|e| panic!("bench setup ({group}) failed: {e}"));
    let ok = rt
        .block_on(report::print_checks(&suite, group))
        .expect("checks");
    assert!(ok, "the hand-written SQL no longer matches the library's");
    let slow = rt.block_on(too_slow(&suite)).expect("probe");
    for (op, d) in &slow {
        eprintln!(
            "{group}/{}: skipped by criterion, one library call took {d:.2?} \
             (BENCH_SLOW_LIMIT_MS); the compare binary times it",
            op.name()
        );
    }
    let skip: Vec<Op> = slow.iter().map(|s| s.0).collect();
    let mut c = criterion();
    bench_suite(&mut c, &rt, &suite, group, &skip);
    c.final_summary();
    report::print_criterion_ratios(group);
    if std::env::var("BENCH_EXPLAIN").is_ok_and(|v| v == "1") {
        rt.block_on(report::print_plans(&suite, group))
            .expect("plans");
    }
}
