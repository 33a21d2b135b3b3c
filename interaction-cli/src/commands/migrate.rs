//! `interactions migrate [--dry-run]`.

use std::process::ExitCode;
use std::time::Instant;

use interaction_core::migrate::{self, PendingMigration};
use interaction_core::Backend;

use super::Target;
use crate::output::Failure;

/// Options of `migrate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the pending migrations' SQL (a valid SQL script, for review) and change
    /// nothing; a SQLite file that does not exist is not created
    #[arg(long)]
    dry_run: bool,
}

fn label(m: &PendingMigration) -> String {
    format!("{:04}_{} (schema {})", m.id, m.name, m.version)
}

/// Lists the pending migrations, applies them (one transaction) and prints what it
/// applied; with `--dry-run` prints their SQL instead.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    if args.dry_run {
        let (pending, found) = match target.missing_sqlite_file() {
            Some(_) => (migrate::migrations(Backend::Sqlite), None),
            None => {
                let store = target.open_unchecked().await?;
                let r = (
                    store.pending_migrations().await?,
                    store.schema_version().await?,
                );
                store.close().await;
                r
            }
        };
        let found = found.map_or_else(|| "none".to_string(), |v| v.to_string());
        println!(
            "-- interactions migrate --dry-run: {} (schema {found}, this library requires {})",
            target.shown(),
            migrate::required()
        );
        for m in &pending {
            println!("\n-- migration {}\n{}", label(m), m.sql.trim_end());
        }
        println!(
            "\n-- migrate --dry-run: {} pending migration{}, nothing applied",
            pending.len(),
            plural(pending.len())
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = target.open_unchecked().await?;
    let before = store.schema_version().await?;
    let pending = store.pending_migrations().await?;
    println!(
        "database: {} (schema {})",
        target.shown(),
        before.map_or_else(|| "none".to_string(), |v| v.to_string())
    );
    if pending.is_empty() {
        store.check_schema().await?;
        println!(
            "migrate: nothing to apply, schema {} is up to date",
            migrate::required()
        );
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "pending: {} migration{}",
        pending.len(),
        plural(pending.len())
    );
    for m in &pending {
        println!("  {}", label(m));
    }
    let applied = store.migrate().await?;
    for v in &applied {
        if let Some(m) = pending.iter().find(|m| m.version == *v) {
            println!("applied {}", label(m));
        }
    }
    let now = store.schema_version().await?;
    // A database of another MAJOR (or otherwise unusable) is reported as a failure.
    store.check_schema().await?;
    store.close().await;
    println!(
        "migrate: applied {} migration{} in {:.1} s, schema {}",
        applied.len(),
        plural(applied.len()),
        started.elapsed().as_secs_f64(),
        now.map_or_else(|| "none".to_string(), |v| v.to_string())
    );
    Ok(ExitCode::SUCCESS)
}

/// `s` unless `n` is 1.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
