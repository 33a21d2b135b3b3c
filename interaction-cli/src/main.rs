//! `interactions`: the operator command line of interaction-store.
//!
//! Built only on the public API of `interaction-core` (as sqlx-cli is on sqlx). Each
//! command lives in its own module under `commands/`; this file parses the command line,
//! opens the store and turns the outcome into output and an exit code:
//! 0 ok, 1 a problem found or an operation failed, 2 a usage error.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod duration;
mod output;

use commands::{
    anonymize_user, archive, create_admin, list_users, migrate, purge, seed, status, verify,
};

/// The default database when neither `--database-url` nor `DATABASE_URL` is given.
const DEFAULT_URL: &str = interaction_core::DEFAULT_URL;

/// Operate an interaction-store database: migrate it, read its status, verify it, archive
/// and purge by the retention rules, erase a user, create the first admin, seed demo data.
///
/// The database is `--database-url`, else the `DATABASE_URL` environment variable, else
/// `sqlite://interactions.db`. Exit codes: 0 ok, 1 a problem found or an operation
/// failed, 2 a usage error.
#[derive(Debug, Parser)]
#[command(name = "interactions", version, propagate_version = true)]
struct Cli {
    /// The database: postgres://user@host/db, sqlite://path/to/file.db
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = DEFAULT_URL,
        hide_env_values = true
    )]
    database_url: String,

    /// A Redis shared with the applications, so that what this command changes is seen
    /// by their caches at once (optional)
    #[arg(long, global = true, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,

    /// The PostgreSQL schema of the store's tables, when it lives beside a host
    /// application's own (default: the connection's search_path, normally public)
    #[arg(long, global = true, env = "INTERACTIONS_SCHEMA")]
    schema: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations (lists them, applies them in one transaction, prints what
    /// it applied); --dry-run prints their SQL and changes nothing
    Migrate(migrate::Args),
    /// Schema version, required version, pending migrations and row counts; never
    /// migrates (exit 1 when this library cannot use the database as it is)
    Status(status::Args),
    /// Create the first user, the first site, and make the user its admin (for a fresh
    /// deployment); the password comes from stdin or INTERACTIONS_ADMIN_PASSWORD
    CreateAdmin(create_admin::Args),
    /// Generate a realistic, deterministic data set (sites, users, interactions over
    /// five years) for demos and benchmarks
    Seed(seed::Args),
    /// List every user, active or not, by id
    ListUsers(list_users::Args),
    /// Integrity report: schema version, migration checksums, row counts, orphan checks
    /// and a content checksum per table (exit 1 on a problem)
    Verify(verify::Args),
    /// Move interactions inactive for longer than --older-than (default 2 years) to the
    /// archive, in batches checked by count and checksum
    Archive(archive::Args),
    /// Apply the retention rules: delete or anonymise what is past its period
    Purge(purge::Args),
    /// Erase a user's name and email everywhere (the right to be forgotten); needs --yes
    AnonymizeUser(anonymize_user::Args),
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let target = commands::Target {
        url: cli.database_url.trim().to_string(),
        redis_url: cli.redis_url.filter(|u| !u.trim().is_empty()),
        schema: cli.schema.filter(|s| !s.trim().is_empty()),
    };
    let result = match cli.command {
        Command::Migrate(a) => migrate::run(&target, a).await,
        Command::Status(a) => status::run(&target, a).await,
        Command::CreateAdmin(a) => create_admin::run(&target, a).await,
        Command::Seed(a) => seed::run(&target, a).await,
        Command::ListUsers(a) => list_users::run(&target, a).await,
        Command::Verify(a) => verify::run(&target, a).await,
        Command::Archive(a) => archive::run(&target, a).await,
        Command::Purge(a) => purge::run(&target, a).await,
        Command::AnonymizeUser(a) => anonymize_user::run(&target, a).await,
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("error: {}", f.message());
            f.exit_code()
        }
    }
}
