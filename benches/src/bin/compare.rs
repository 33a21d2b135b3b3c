//! Interleaved library-vs-hand-written comparison on PostgreSQL (`DATABASE_URL`) and
//! SQLite: checks that both sides run the same SQL, prints a table of medians, p99s and
//! ratios, then the EXPLAIN (ANALYZE, BUFFERS) of every Finder shape.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p interaction-benches --bin compare
//! ```
//!
//! Environment: `BENCH_ROWS` (default 100000), `BENCH_ITERS` (interleaved pairs per
//! operation, default 200), `BENCH_BACKENDS` (`postgres,sqlite` by default),
//! `BENCH_EXPLAIN=0` to skip the plans.

use interaction_benches::crit::{runtime, suite, Target};
use interaction_benches::ops::Op;
use interaction_benches::report;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be an integer"))
        })
        .unwrap_or(default)
}

fn main() {
    let iters = env_usize("BENCH_ITERS", 200);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "postgres,sqlite".into());
    let explain = std::env::var("BENCH_EXPLAIN").map_or(true, |v| v != "0");
    let rt = runtime();
    let mut table = Vec::new();
    let mut suites = Vec::new();
    for b in backends.split(',').map(str::trim).filter(|b| !b.is_empty()) {
        let target = match b {
            "postgres" => Target::Postgres(interaction_benches::fixture::database_url()),
            "sqlite" => Target::Sqlite,
            other => panic!("unknown backend {other:?} in BENCH_BACKENDS"),
        };
        let s = rt
            .block_on(suite(&target))
            .unwrap_or_else(|e| panic!("setup of {b} failed: {e}"));
        println!(
            "{b}: {} rows over {} sites; deep keyset page after {} rows",
            s.fx.rows,
            s.fx.site_ids.len(),
            s.deep_depth
        );
        let ok = rt.block_on(report::print_checks(&s, b)).expect("checks");
        assert!(
            ok,
            "the hand-written SQL no longer matches the library's ({b})"
        );
        for op in Op::all() {
            let c = rt
                .block_on(report::interleaved(&s, b, op, 10, iters))
                .unwrap_or_else(|e| panic!("{b} {}: {e}", op.name()));
            eprintln!("  {b} {:<24} {:.2}x", op.name(), c.ratio());
            table.push(c);
        }
        suites.push((b.to_string(), s));
    }
    println!("\nInterleaved, {iters} pairs per operation (after 10 warm-up pairs):\n");
    report::print_table(&table);
    if explain {
        for (b, s) in &suites {
            rt.block_on(report::print_plans(s, b)).expect("plans");
        }
    }
}
