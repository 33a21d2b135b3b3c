//! Interleaved library-vs-hand-written comparison on PostgreSQL (`DATABASE_URL`) and
//! SQLite: checks that both sides run the same SQL, prints a table of medians, p99s and
//! ratios, the bulk-load rate of the generator against `COPY` (PostgreSQL), then the
//! EXPLAIN (ANALYZE, BUFFERS) of every Finder shape.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release -p interaction-benches --bin compare
//! ```
//!
//! Environment: `BENCH_ROWS` (default 100000), `BENCH_ITERS` (interleaved pairs per
//! operation, default 200), `BENCH_BACKENDS` (`postgres,sqlite` by default),
//! `BENCH_LOAD_ROWS` (rows of the bulk-load comparison, default `BENCH_ROWS` capped at
//! 100000; `0` skips it), `BENCH_EXPLAIN=0` to skip the plans.

use interaction_benches::crit::{runtime, suite, Target};
use interaction_benches::fixture;
use interaction_benches::ops::{Op, KEYSET_DEPTHS};
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
    let load_rows = env_usize(
        "BENCH_LOAD_ROWS",
        interaction_benches::data::rows_from_env().min(100_000),
    );
    let rt = runtime();
    let mut table = Vec::new();
    let mut load = None;
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
        let depths = s.keyset_depths();
        println!(
            "{b}: {} rows over {} sites; keyset pages after {} rows (wanted {}; the deepest \
             is capped by the rows of one site)",
            s.fx.rows,
            s.fx.site_ids.len(),
            depths
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" / "),
            KEYSET_DEPTHS
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" / "),
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
        if b == "postgres" && load_rows > 0 {
            eprintln!(
                "  {b} bulk load of {load_rows} rows: generator, COPY, the library's bulk path"
            );
            let r = rt
                .block_on(fixture::load_rates(&s.fx, load_rows))
                .unwrap_or_else(|e| panic!("{b} bulk load: {e}"));
            load = Some(r);
        }
        suites.push((b.to_string(), s));
    }
    println!("\nInterleaved, {iters} pairs per operation (after 10 warm-up pairs):\n");
    report::print_table(&table);
    if let Some(r) = load {
        println!(
            "\nBulk load (postgres, {} generated rows into an empty scratch copy of \
             `interactions` with its indexes, generated column and foreign keys):\n",
            r.rows
        );
        println!("| method | rows/s | ratio to COPY |");
        println!("|---|---:|---:|");
        println!(
            "| generator: INSERT ... SELECT FROM unnest, 5000 rows per statement | {:.0} | {:.2}x |",
            r.generator,
            r.generator / r.copy
        );
        println!("| COPY ... FROM STDIN (text) | {:.0} | 1.00x |", r.copy);
        println!(
            "| library: `create_interactions`, 1000 per transaction, with an audit row each \
             (into `interactions`) | {:.0} | {:.2}x |",
            r.library,
            r.library / r.copy
        );
    }
    if explain {
        for (b, s) in &suites {
            rt.block_on(report::print_plans(s, b)).expect("plans");
        }
    }
}
