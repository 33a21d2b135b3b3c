//! `interactions purge [--dry-run] [--json]` (spec §6.1, §6.4).

use std::process::ExitCode;

use super::Target;
use crate::output::Failure;

/// Options of `purge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Count what each retention rule would delete or anonymise; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON (the summary line goes to stderr)
    #[arg(long)]
    json: bool,
}

/// Applies the retention rules (the library's defaults) and prints what each did.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let store = target.open().await?;
    let report = store.purge(args.dry_run).await;
    store.close().await;
    let r = report?;
    let summary = format!(
        "purge: {} row{} {}{}",
        r.total(),
        super::migrate::plural(r.total() as usize),
        if r.dry_run {
            "would be affected"
        } else {
            "affected"
        },
        if r.dry_run {
            "; dry run, nothing changed"
        } else {
            ""
        }
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).expect("JSON of plain values")
        );
        eprintln!("{summary}");
    } else {
        for o in &r.outcomes {
            println!(
                "  {:<26} {:<9} {:>8} row{:<2} of {:<22} before {}",
                o.policy,
                o.action,
                o.rows,
                super::migrate::plural(o.rows as usize),
                o.table,
                o.cutoff.to_rfc3339()
            );
        }
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}
