//! `interactions verify [--json]`: the integrity report (spec §4.1, §6.2).

use std::process::ExitCode;

use super::Target;
use crate::output::Failure;

/// Options of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the report as JSON (the summary line goes to stderr)
    #[arg(long)]
    json: bool,
}

/// Prints the report; exit 1 when it finds a problem.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let store = target.open_unchecked().await?;
    let report = store.verify().await;
    store.close().await;
    let report = report?;
    let summary = if report.ok() {
        "verify: ok".to_string()
    } else {
        format!(
            "verify: {} problem{}",
            report.problems.len(),
            super::migrate::plural(report.problems.len())
        )
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("JSON of plain values")
        );
        eprintln!("{summary}");
    } else {
        println!(
            "schema version: {} (this library requires {})",
            report.schema_version.as_deref().unwrap_or("none"),
            report.required_version
        );
        for m in &report.migrations {
            println!(
                "  migration {:>4} {:<24} {:<8} {:?}",
                m.id, m.name, m.version, m.state
            );
        }
        let c = &report.counts;
        println!(
            "interactions: {} live, {} deleted, {} archived; {} users, {} sites",
            c.live, c.deleted, c.archived, c.users, c.sites
        );
        for t in &report.tables {
            println!("  {:<20} {:>10} rows  {}", t.table, t.rows, t.digest);
        }
        for p in &report.problems {
            println!("problem: {p}");
        }
        println!("{summary}");
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
