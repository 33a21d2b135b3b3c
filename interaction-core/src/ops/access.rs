//! Access logging of reads (spec §6.3, "Access logging: comprehensive audit trail").
//!
//! With [`StoreOptions::access_logging`](crate::StoreOptions::access_logging) on, every
//! read of interactions through a session (`get_interaction`, each Finder page and
//! count) writes one `access_log` row: the session's user (id and current username),
//! the action (`read`, `search`, `count`), the site, the resource (`interaction:<id>` or
//! `finder`), whether it succeeded and its outcome as `detail` (`ok`, `not_found`,
//! `denied`, `invalid`, or the error code in lower case). Off by default, and then free.
//!
//! A read whose log row cannot be written fails with the logging error (no unlogged
//! read is returned); a read that failed returns its own error whatever the logging did.

use crate::backend::{Arg, Sql};
use crate::error::{ErrorKind, Result};
use crate::exec::Op;
use crate::session::SiteSession;

/// The `detail` recorded for a read's outcome.
fn outcome<T>(r: &Result<T>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => match e.kind() {
            ErrorKind::NotFound => "not_found".into(),
            ErrorKind::PermissionDenied | ErrorKind::AuthenticationFailed => "denied".into(),
            ErrorKind::Validation => "invalid".into(),
            other => other.code().to_ascii_lowercase(),
        },
    }
}

impl SiteSession {
    /// Records a read of `resource` (built only when logging is on) with its outcome
    /// `r`, if the store logs reads, and passes `r` on.
    pub(crate) async fn log_read<T>(
        &self,
        action: &'static str,
        resource: impl FnOnce() -> String,
        r: Result<T>,
    ) -> Result<T> {
        if !self.store.inner.access_logging {
            return r;
        }
        let mut resource: String = resource().chars().take(255).collect();
        resource.shrink_to_fit();
        let q = Sql::fixed(
            self.store.backend(),
            "INSERT INTO access_log (occurred_at, username, user_id, action, success, detail, site_id, resource) \
             SELECT $1, coalesce((SELECT username FROM users WHERE user_id = $2), ''), $2, $3, $4, $5, $6, $7",
            vec![
                Arg::Ts(self.store.now()),
                Arg::I32(self.user_id),
                action.into(),
                Arg::Bool(r.is_ok()),
                outcome(&r).into(),
                Arg::I32(self.site_id),
                resource.into(),
            ],
        );
        let logged = self
            .store
            .write(Op::site("log_read", self.site_id), move |tx| {
                Box::pin(async move {
                    tx.execute(&q).await?;
                    Ok(())
                })
            })
            .await;
        match (r, logged) {
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), _) => Err(e),
        }
    }
}
