//! What a database holds, at a glance (the CLI's `status`).

use serde::Serialize;

use crate::error::Result;
use crate::exec::{Fresh, Op};
use crate::store::InteractionStore;

/// Row counts of a database: see [`InteractionStore::counts`].
///
/// # Examples
///
/// ```
/// # use chrono::{Duration, Utc};
/// # use interaction_core::{NewInteraction, Role, StoreOptions};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> interaction_core::Result<()> {
/// # let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
/// # let site = store.create_site("Head office", None).await?;
/// # let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// # store.grant_role(alice.id, site.id, Role::Admin).await?;
/// # let session = store.session_for_user(alice.id, site.id).await?;
/// let t = Utc::now();
/// let i = session.create_interaction(NewInteraction::new("Call", "call", "Alice", t, t, "UTC")).await?;
/// session.delete_interaction(i.id, None).await?;
/// let c = store.counts().await?;
/// assert_eq!((c.users, c.sites, c.live, c.deleted, c.archived), (1, 1, 0, 1, 0));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Users, active or not.
    pub users: u64,
    /// Sites, active or not.
    pub sites: u64,
    /// Interactions neither deleted nor archived.
    pub live: u64,
    /// Soft-deleted interactions (not yet purged).
    pub deleted: u64,
    /// Archived interactions.
    pub archived: u64,
}

impl InteractionStore {
    /// How many users, sites and live, deleted and archived interactions the database
    /// holds. Tables an older schema lacks count as empty (an empty database: all zero),
    /// so operator tools can call it before migrating. Reads the reporting replica when
    /// there is one.
    pub async fn counts(&self) -> Result<Counts> {
        self.counts_read(Op::new("counts"), Fresh::Reporting(0))
            .await
    }

    /// [`counts`](Self::counts), its final read as fresh as `fresh` (the checks whether
    /// tables exist always read the primary).
    pub(crate) async fn counts_read(&self, op: Op, fresh: Fresh) -> Result<Counts> {
        let d = self.backend().dialect();
        let exists = |t: &str| {
            let q = d.table_exists(t);
            let op = op.clone();
            async move {
                Ok::<_, crate::Error>(
                    self.read_opt::<(i32,)>(op, Fresh::Latest, q)
                        .await?
                        .is_some(),
                )
            }
        };
        if !exists("interactions").await? {
            return Ok(Counts::default());
        }
        let archived = if exists("interactions_archive").await? {
            "(SELECT count(*) FROM interactions_archive)"
        } else {
            // A bigint like count(*) (PostgreSQL decodes a bare 0 as int4).
            "CAST(0 AS BIGINT)"
        };
        let q = self.sql(&format!(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sites), \
             (SELECT count(*) FROM interactions WHERE deleted_at IS NULL), \
             (SELECT count(*) FROM interactions WHERE deleted_at IS NOT NULL), {archived}"
        ));
        let (users, sites, live, deleted, archived): (i64, i64, i64, i64, i64) =
            self.read_opt(op, fresh, q).await?.unwrap_or_default();
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Counts {
            users: n(users),
            sites: n(sites),
            live: n(live),
            deleted: n(deleted),
            archived: n(archived),
        })
    }
}
