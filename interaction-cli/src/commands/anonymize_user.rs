//! `interactions anonymize-user ID --yes` (spec §6.3, the right to be forgotten).

use std::process::ExitCode;

use super::Target;
use crate::output::Failure;

/// Options of `anonymize-user`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user's id (see `interactions list-users`)
    id: i64,
    /// Confirm: the erasure cannot be undone
    #[arg(long)]
    yes: bool,
}

/// Erases a user's name and email everywhere the database holds them.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    if !args.yes {
        return Err(Failure::Usage(format!(
            "anonymize-user cannot be undone: run it again with --yes to erase user {}",
            args.id
        )));
    }
    let store = target.open().await?;
    let user = store.anonymize_user(args.id).await;
    store.close().await;
    let user = user?;
    println!(
        "anonymize-user: user {} is now {} <{}>, deactivated, its tokens revoked and its name \
         and email erased from logs, audit rows and interactions",
        user.id, user.username, user.email
    );
    Ok(ExitCode::SUCCESS)
}
