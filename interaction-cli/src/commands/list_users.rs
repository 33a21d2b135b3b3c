//! `interactions list-users [--json]`.

use std::process::ExitCode;

use super::Target;
use crate::output::Failure;

/// Options of `list-users`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print a JSON array instead of a table (the summary line goes to stderr)
    #[arg(long)]
    json: bool,
}

/// Prints every user, active or not, by id, with the sites they belong to.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let store = target.open().await?;
    let users = store.list_users().await?;
    let mut rows = Vec::with_capacity(users.len());
    for u in users {
        let sites = store.user_sites(u.id).await?;
        rows.push((u, sites));
    }
    store.close().await;
    let active = rows.iter().filter(|(u, _)| u.is_active).count();
    let summary = format!(
        "list-users: {} user{} ({active} active)",
        rows.len(),
        super::migrate::plural(rows.len())
    );
    if args.json {
        let doc: Vec<_> = rows
            .iter()
            .map(|(u, sites)| {
                let mut v = serde_json::to_value(u).expect("JSON of a user");
                v["sites"] = sites
                    .iter()
                    .map(|(s, r)| serde_json::json!({"id": s.id, "name": s.name, "role": r.as_str()}))
                    .collect();
                v
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&doc).expect("JSON of plain values")
        );
        eprintln!("{summary}");
    } else {
        println!(
            "{:>6}  {:<24} {:<32} {:<6} sites",
            "id", "username", "email", "active"
        );
        for (u, sites) in &rows {
            let sites: Vec<String> = sites
                .iter()
                .map(|(s, r)| format!("{} ({})", s.name, r.as_str()))
                .collect();
            println!(
                "{:>6}  {:<24} {:<32} {:<6} {}",
                u.id,
                u.username,
                u.email,
                if u.is_active { "yes" } else { "no" },
                sites.join(", ")
            );
        }
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}
