//! Interleaved library-vs-hand-written timing, ratio tables and plans.
//!
//! Criterion measures each side in its own block of time; on this machine absolute times
//! drift 2-3x between runs, so the ratios that matter are taken here from interleaved
//! calls (library, hand, hand, library, ...), each side's median and p99.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::fixture::{target_dir, Result};
use crate::ops::{Op, Shape, Suite};

/// Timings of one operation on both sides.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Backend label (`postgres`, `sqlite`).
    pub backend: String,
    /// The operation.
    pub op: Op,
    /// Library call times.
    pub lib: Vec<Duration>,
    /// Hand-written call times.
    pub hand: Vec<Duration>,
}

/// The `q`-quantile (0..=1) of `v` (nearest rank).
pub fn quantile(v: &[Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let mut s = v.to_vec();
    s.sort();
    let i = ((s.len() - 1) as f64 * q).round() as usize;
    s[i]
}

impl Comparison {
    /// Median library / median hand-written.
    pub fn ratio(&self) -> f64 {
        quantile(&self.lib, 0.5).as_secs_f64() / quantile(&self.hand, 0.5).as_secs_f64()
    }
}

/// Time spent per side on an operation that takes more than 100 ms per call.
const SLOW_BUDGET: Duration = Duration::from_secs(5);

/// Times `iters` interleaved pairs of `op` after `warmup` untimed pairs (enough to get
/// past PostgreSQL's switch to generic plans after five executions). Operations slower
/// than 100 ms per call get fewer pairs (about 5 s per side, at least 2).
pub async fn interleaved(
    suite: &Suite,
    backend: &str,
    op: Op,
    warmup: usize,
    iters: usize,
) -> Result<Comparison> {
    // A pathologically slow operation (seconds per call) gets fewer pairs: about
    // SLOW_BUDGET per side, at least two pairs, one warm-up pair.
    let t = Instant::now();
    suite.run_lib(op).await?;
    let once = t.elapsed();
    let (warmup, iters) = if once > Duration::from_millis(100) {
        let n = (SLOW_BUDGET.as_secs_f64() / once.as_secs_f64()) as usize;
        (warmup.min(1), n.clamp(2, iters.max(2)))
    } else {
        (warmup, iters)
    };
    for _ in 0..warmup {
        suite.run_lib(op).await?;
        suite.run_hand(op).await?;
    }
    let mut lib = Vec::with_capacity(iters);
    let mut hand = Vec::with_capacity(iters);
    for i in 0..iters {
        let order = if i % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for is_lib in order {
            let t = Instant::now();
            if is_lib {
                suite.run_lib(op).await?;
                lib.push(t.elapsed());
            } else {
                suite.run_hand(op).await?;
                hand.push(t.elapsed());
            }
        }
    }
    Ok(Comparison {
        backend: backend.to_string(),
        op,
        lib,
        hand,
    })
}

fn us(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

/// Prints a Markdown table of medians, p99s and ratios.
pub fn print_table(rows: &[Comparison]) {
    println!(
        "| backend | operation | library median µs | hand median µs | ratio lib/hand | \
         library p99 µs | hand p99 µs |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    for c in rows {
        println!(
            "| {} | {} | {} | {} | {:.2}x | {} | {} |",
            c.backend,
            c.op.name(),
            us(quantile(&c.lib, 0.5)),
            us(quantile(&c.hand, 0.5)),
            c.ratio(),
            us(quantile(&c.lib, 0.99)),
            us(quantile(&c.hand, 0.99)),
        );
    }
}

fn verdict(same: bool) -> &'static str {
    if same {
        "same"
    } else {
        "DIFFERENT"
    }
}

fn sql_verdict(sql: Option<bool>, na: &'static str) -> &'static str {
    match sql {
        Some(s) => verdict(s),
        None => na,
    }
}

/// Checks that both sides do the same thing: get reads the same row and (PostgreSQL)
/// sends the same SQL text; create and update write one audit row per call on both
/// sides, and create sends the same SQL text; per Finder shape, the same rows, the same
/// plan and (PostgreSQL) the same SQL text. Prints one line per operation; returns false
/// if anything differs.
pub async fn print_checks(suite: &Suite, backend: &str) -> Result<bool> {
    let mut ok = true;
    println!("checks ({backend}): same rows / same plan / same SQL text");
    let na = if backend == "postgres" {
        "n/a (its last statement is COMMIT)"
    } else {
        "n/a"
    };

    let a = suite.run_lib(Op::Get).await?;
    let b = suite.run_hand(Op::Get).await?;
    let rows = a == b && !a.is_empty();
    let sql = suite.check_same_sql(Op::Get).await?;
    ok &= rows && sql != Some(false);
    println!(
        "  {:<24} row {}, sql {}",
        Op::Get.name(),
        verdict(rows),
        sql_verdict(sql, "n/a")
    );

    for op in [Op::Create, Op::Update] {
        let action = if op == Op::Create { "create" } else { "update" };
        let (lt, ht) = suite.update_targets();
        let before = if op == Op::Update {
            (
                suite.audit_rows(lt, action).await?,
                suite.audit_rows(ht, action).await?,
            )
        } else {
            (0, 0)
        };
        let a = suite.run_lib(op).await?;
        let b = suite.run_hand(op).await?;
        let audit = (
            suite.audit_rows(a[0], action).await? - before.0,
            suite.audit_rows(b[0], action).await? - before.1,
        );
        let sql = suite.check_same_sql(op).await?;
        let same = audit == (1, 1);
        ok &= same && sql != Some(false);
        println!(
            "  {:<24} one audit row per call: library {}, hand {} ({}), sql {}",
            op.name(),
            audit.0,
            audit.1,
            verdict(same),
            sql_verdict(sql, if op == Op::Update { na } else { "n/a" })
        );
    }

    for s in Shape::ALL {
        let a = suite.run_lib(Op::Find(s)).await?;
        let b = suite.run_hand(Op::Find(s)).await?;
        let rows = a == b && !a.is_empty();
        let plan = suite.same_plan(s).await?;
        let sql = suite.check_same_sql(Op::Find(s)).await?;
        ok &= rows && plan && sql != Some(false);
        println!(
            "  {:<24} rows {} ({} rows), plan {}, sql {}",
            s.name(),
            verdict(rows),
            a.len(),
            verdict(plan),
            sql_verdict(sql, "n/a")
        );
    }
    Ok(ok)
}

/// Prints the plan with actual times of every Finder shape.
pub async fn print_plans(suite: &Suite, backend: &str) -> Result<()> {
    for s in Shape::ALL {
        println!(
            "\n--- {backend} {} ({} rows) ---\n{}\n",
            s.name(),
            suite.fx.rows,
            suite.hand_sql(s)
        );
        println!("{}", suite.explain_analyze(s).await?);
    }
    Ok(())
}

/// Reads criterion's median estimate (ns) of `group/function/side`.
fn criterion_median(dir: &Path, group: &str, function: &str, side: &str) -> Option<f64> {
    let p = dir
        .join(group)
        .join(function)
        .join(side)
        .join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// Prints the ratio library / hand-written of criterion's medians for `group`, from the
/// estimates criterion saved under `target/criterion`.
pub fn print_criterion_ratios(group: &str) {
    let dir = std::env::var_os("CRITERION_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| target_dir().join("criterion"));
    println!("\ncriterion medians, {group} (library vs hand-written):");
    println!("| operation | library µs | hand µs | ratio lib/hand |");
    println!("|---|---:|---:|---:|");
    for op in Op::all() {
        let lib = criterion_median(&dir, group, op.name(), "library");
        let hand = criterion_median(&dir, group, op.name(), "hand");
        match (lib, hand) {
            (Some(l), Some(h)) => println!(
                "| {} | {:.0} | {:.0} | {:.2}x |",
                op.name(),
                l / 1e3,
                h / 1e3,
                l / h
            ),
            _ => println!("| {} | n/a | n/a | n/a |", op.name()),
        }
    }
}
