//! Retention (spec §6.1, §6.4): how long each kind of data is kept, and the purge that
//! applies it.

use std::time::Duration;

const DAY: u64 = 24 * 3600;
const YEAR: u64 = 365 * DAY;

/// How long each kind of data is kept before [`InteractionStore::purge`] deletes (or
/// anonymises) it. The defaults are those of spec §6.1 and §6.4.
///
/// [`InteractionStore::purge`]: crate::InteractionStore::purge
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Soft-deleted interactions are deleted for good this long after their deletion
    /// (and can be restored until then). Default 30 days.
    pub deleted_interactions: Duration,
    /// Archived interactions are deleted this long after their archival. Default 5 years.
    pub archived_interactions: Duration,
    /// Access-log rows of reads and refused calls (access attempts) are deleted after this
    /// long. Default 1 year.
    pub access_attempts: Duration,
    /// Login and logout records are anonymised (username, user and detail removed; the
    /// row kept for counts) after this long. Default 1 year.
    pub user_activity: Duration,
    /// Login and logout records are deleted after this long. Default 2 years.
    pub authentication_logs: Duration,
    /// Audit rows of changes to interactions are deleted after this long. Default 2 years.
    pub data_modifications: Duration,
    /// Audit rows of administration (users, sites, roles, archival, purges,
    /// anonymisation) are deleted after this long. Default 3 years.
    pub admin_actions: Duration,
    /// Audit rows of schema migrations are deleted after this long. Default 5 years.
    pub schema_changes: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            deleted_interactions: Duration::from_secs(30 * DAY),
            archived_interactions: Duration::from_secs(5 * YEAR),
            access_attempts: Duration::from_secs(YEAR),
            user_activity: Duration::from_secs(YEAR),
            authentication_logs: Duration::from_secs(2 * YEAR),
            data_modifications: Duration::from_secs(2 * YEAR),
            admin_actions: Duration::from_secs(3 * YEAR),
            schema_changes: Duration::from_secs(5 * YEAR),
        }
    }
}
