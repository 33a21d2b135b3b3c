//! `interactions status [--json]`.

use std::process::ExitCode;

use interaction_core::migrate::{self, PendingMigration};
use interaction_core::{Backend, Counts, SchemaVersion};
use serde_json::json;

use super::migrate::plural;
use super::Target;
use crate::output::Failure;

/// Options of `status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object instead of text (the summary line goes to stderr)
    #[arg(long)]
    json: bool,
}

struct Status {
    backend: Backend,
    /// `false` for a SQLite file that does not exist (nothing was opened or created).
    exists: bool,
    found: Option<SchemaVersion>,
    pending: Vec<PendingMigration>,
    counts: Option<Counts>,
}

impl Status {
    fn compatible(&self) -> bool {
        self.found
            .is_some_and(|v| migrate::compatible(v, migrate::required()))
    }

    fn summary(&self) -> String {
        let required = migrate::required();
        let schema = match (self.exists, self.found) {
            (false, _) => "no database file (run `interactions migrate` to create it)".to_string(),
            (true, None) => "no schema (run `interactions migrate`)".to_string(),
            (true, Some(v)) if self.compatible() && self.pending.is_empty() => {
                format!("schema {v}, up to date")
            }
            (true, Some(v)) if self.compatible() => format!(
                "schema {v}, usable; {} newer migration{} pending",
                self.pending.len(),
                plural(self.pending.len())
            ),
            (true, Some(v)) => {
                format!("schema {v}, this library requires {required} (run `interactions migrate`)")
            }
        };
        match self.counts {
            Some(c) => format!(
                "status: {schema}; {} users, {} sites, {} live, {} deleted, {} archived interactions",
                c.users, c.sites, c.live, c.deleted, c.archived
            ),
            None => format!("status: {schema}"),
        }
    }
}

/// Prints the schema version, the required version, pending migrations and counts.
/// Never migrates, and never creates a missing SQLite file. Exit 1 when this library
/// cannot use the database as it is (no schema, behind, another MAJOR).
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let status = match target.missing_sqlite_file() {
        Some(_) => Status {
            backend: Backend::Sqlite,
            exists: false,
            found: None,
            pending: migrate::migrations(Backend::Sqlite),
            counts: None,
        },
        None => {
            let store = target.open_unchecked().await?;
            let s = Status {
                backend: store.backend(),
                exists: true,
                found: store.schema_version().await?,
                pending: store.pending_migrations().await?,
                counts: Some(store.counts().await?),
            };
            store.close().await;
            s
        }
    };
    let required = migrate::required();
    if args.json {
        let pending: Vec<_> = status
            .pending
            .iter()
            .map(|m| json!({"id": m.id, "name": m.name, "version": m.version.to_string()}))
            .collect();
        let doc = json!({
            "database": target.shown(),
            "backend": status.backend.as_str(),
            "exists": status.exists,
            "schema_version": status.found.map(|v| v.to_string()),
            "required_version": required.to_string(),
            "compatible": status.compatible(),
            "pending_migrations": pending,
            "counts": status.counts,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("JSON of plain values")
        );
        eprintln!("{}", status.summary());
    } else {
        println!(
            "database:  {} ({})",
            target.shown(),
            status.backend.as_str()
        );
        println!(
            "schema:    {} (this library requires {required})",
            status
                .found
                .map_or_else(|| "none".to_string(), |v| v.to_string())
        );
        if status.pending.is_empty() {
            println!("pending:   none");
        } else {
            println!(
                "pending:   {} migration{}",
                status.pending.len(),
                plural(status.pending.len())
            );
            for m in &status.pending {
                println!("  {:04}_{} (schema {})", m.id, m.name, m.version);
            }
        }
        if let Some(c) = status.counts {
            println!("users:     {}", c.users);
            println!("sites:     {}", c.sites);
            println!(
                "interactions: {} live, {} deleted, {} archived",
                c.live, c.deleted, c.archived
            );
        }
        println!("{}", status.summary());
    }
    Ok(if status.compatible() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
