//! `interactions archive [--older-than 2y] [--dry-run] [--json]` (spec §4.3).

use std::process::ExitCode;
use std::time::Duration;

use super::Target;
use crate::duration::parse_age;
use crate::output::{Failure, Progress};

/// Options of `archive`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Move interactions unchanged for longer than this (2y, 18mo, 90d, 12h; the
    /// library's default is two years)
    #[arg(long, value_parser = parse_age)]
    older_than: Option<Duration>,
    /// Count what would move; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON (the summary line goes to stderr)
    #[arg(long)]
    json: bool,
}

/// Moves inactive interactions to the archive in checked batches, with progress.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let store = target.open().await?;
    let mut bar: Option<Progress> = None;
    let mut shown = 0;
    let report = store
        .archive_with_progress(args.older_than, args.dry_run, |p| {
            let bar = bar.get_or_insert_with(|| Progress::new("archive", p.total));
            bar.inc(p.moved - shown);
            shown = p.moved;
        })
        .await;
    if let Some(bar) = bar {
        bar.finish();
    }
    store.close().await;
    let r = report?;
    let verb = if r.dry_run { "would move" } else { "moved" };
    let summary =
        format!(
        "archive: {verb} {} interaction{} changed before {} ({} site{}, {} batch{}, {} skipped){}",
        r.moved,
        super::migrate::plural(r.moved as usize),
        r.cutoff.to_rfc3339(),
        r.sites.len(),
        super::migrate::plural(r.sites.len()),
        r.batches,
        if r.batches == 1 { "" } else { "es" },
        r.skipped,
        if r.dry_run { "; dry run, nothing changed" } else { "" }
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).expect("JSON of plain values")
        );
        eprintln!("{summary}");
    } else {
        for (site, n) in &r.sites {
            println!("  site {site:>6}: {n}");
        }
        if !r.checksum.is_empty() {
            println!("  checksum of what moved: {}", r.checksum);
        }
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}
