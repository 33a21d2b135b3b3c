//! `interactions create-admin --username U --email E --site S [--password-stdin]`.

use std::io::BufRead;
use std::process::ExitCode;

use interaction_core::Role;

use super::Target;
use crate::output::Failure;

/// The environment variable that may hold the admin's password.
pub const PASSWORD_ENV: &str = "INTERACTIONS_ADMIN_PASSWORD";

/// Options of `create-admin`. The password is never taken from the command line (it
/// would show in `ps` and shell history): `--password-stdin`, else
/// `INTERACTIONS_ADMIN_PASSWORD`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The admin's login name
    #[arg(long)]
    username: String,
    /// The admin's email address
    #[arg(long)]
    email: String,
    /// The name of the first site (reused if a site of that name exists)
    #[arg(long)]
    site: String,
    /// A description of the site
    #[arg(long)]
    site_description: Option<String>,
    /// Read the password from the first line of stdin (else from the
    /// INTERACTIONS_ADMIN_PASSWORD environment variable)
    #[arg(long)]
    password_stdin: bool,
}

fn password(args: &Args) -> Result<String, Failure> {
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::Failed(format!("cannot read the password from stdin: {e}")))?;
        let pw = line.trim_end_matches(['\n', '\r']).to_string();
        if pw.is_empty() {
            return Err(Failure::Usage(
                "--password-stdin: stdin held no password (give it on the first line)".into(),
            ));
        }
        return Ok(pw);
    }
    match std::env::var(PASSWORD_ENV) {
        Ok(pw) if !pw.is_empty() => Ok(pw),
        _ => Err(Failure::Usage(format!(
            "no password: pass --password-stdin and the password on stdin, or set {PASSWORD_ENV}"
        ))),
    }
}

/// Creates the first user, the first site (or takes the existing one of that name) and
/// makes the user its admin. Refused when the database already has users: it is for a
/// fresh deployment.
pub async fn run(target: &Target, args: Args) -> Result<ExitCode, Failure> {
    let password = password(&args)?;
    let store = target.open().await?;
    let users = store.counts().await?.users;
    if users > 0 {
        store.close().await;
        return Err(Failure::Failed(format!(
            "the database already has {users} user{}: create-admin sets up a fresh deployment \
             (add further admins through the API: create_user, grant_role)",
            super::migrate::plural(users as usize)
        )));
    }
    let user = store
        .create_user(&args.username, &args.email, &password)
        .await?;
    let existing = store
        .list_sites()
        .await?
        .into_iter()
        .find(|s| s.name == args.site);
    let site = match existing {
        Some(s) => s,
        None => match store
            .create_site(&args.site, args.site_description.as_deref())
            .await
        {
            Ok(s) => s,
            Err(e) => {
                return Err(Failure::Failed(format!(
                    "user {} (id {}) was created, but not the site: {}",
                    user.username,
                    user.id,
                    crate::output::one_line(&e)
                )))
            }
        },
    };
    store.grant_role(user.id, site.id, Role::Admin).await?;
    store.close().await;
    println!(
        "create-admin: user {} (id {}) is admin of site {:?} (id {})",
        user.username, user.id, site.name, site.id
    );
    Ok(ExitCode::SUCCESS)
}
