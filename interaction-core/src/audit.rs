//! The audit trail (spec §6.4): every modification writes one row in the same
//! transaction as the change. Rows carry no foreign keys so they outlive what they describe.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backend::{db_row, Sql, Ts, Tx};
use crate::error::Result;

/// One audit row as written by the library.
pub(crate) struct AuditRecord<'a> {
    pub actor: Option<i32>,
    pub site: Option<i32>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub changes: serde_json::Value,
}

/// Writes `rec` inside `tx`: it commits together with the change or not at all.
pub(crate) async fn record(tx: &mut Tx, rec: AuditRecord<'_>) -> Result<()> {
    let mut q = Sql::new(
        tx.backend(),
        "INSERT INTO audit_log (occurred_at, actor_id, site_id, action, entity, entity_id, changes) VALUES (",
    );
    q.bind(tx.now())
        .push(", ")
        .bind(rec.actor)
        .push(", ")
        .bind(rec.site)
        .push(", ")
        .bind(rec.action)
        .push(", ")
        .bind(rec.entity)
        .push(", ")
        .bind(rec.entity_id)
        .push(", ")
        .bind_json(rec.changes.to_string())
        .push(")");
    tx.execute(&q).await?;
    Ok(())
}

/// Starts a write whose audit row rides in the same statement. Where the dialect allows
/// writes in CTEs (PostgreSQL) the write becomes a data-modifying CTE, so change and audit
/// are one atomic statement and one round trip; elsewhere (SQLite) the audit row is
/// written separately in the transaction.
pub(crate) fn open_inline(q: &mut Sql) {
    if q.dialect().writes_in_cte() {
        q.push("WITH w AS (");
    }
}

/// Ends a write started by [`open_inline`]; the write must `RETURNING` `id_column`.
/// `keyed`: the (site, idempotency key) whose row must point at the new interaction.
/// Returns whether the audit row (and key update) are part of the statement (else call
/// [`record`] and update the key separately).
pub(crate) fn close_inline(
    q: &mut Sql,
    at: DateTime<Utc>,
    rec: &AuditRecord<'_>,
    id_column: &str,
    keyed: Option<(i32, &str)>,
) -> bool {
    if !q.dialect().writes_in_cte() {
        return false;
    }
    q.push(
        "), a AS (INSERT INTO audit_log (occurred_at, actor_id, site_id, action, entity, entity_id, changes) SELECT ",
    )
    .bind(at)
    .push(", ")
    .bind(rec.actor)
    .push(", ")
    .bind(rec.site)
    .push(", ")
    .bind(rec.action)
    .push(", ")
    .bind(rec.entity)
    .push(", w.")
    .push(id_column)
    .push(", ")
    .bind_json(rec.changes.to_string())
    .push(" FROM w)");
    if let Some((site, key)) = keyed {
        q.push(", k AS (UPDATE idempotency_keys SET interaction_id = w.")
            .push(id_column)
            .push(" FROM w WHERE idempotency_keys.site_id = ")
            .bind(site)
            .push(" AND idempotency_keys.idempotency_key = ")
            .bind(key)
            .push(")");
    }
    q.push(" SELECT * FROM w");
    true
}

/// A row of the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Sequence number; later entries have larger ids.
    pub id: i64,
    /// When the change committed.
    pub occurred_at: DateTime<Utc>,
    /// Who did it; `None` for the host application or the migrator.
    pub actor_id: Option<i64>,
    /// The site concerned, if any.
    pub site_id: Option<i64>,
    /// `create`, `update`, `delete`, `restore`, `set_role`, `remove_member`, `migrate`, ...
    pub action: String,
    /// `interaction`, `user`, `site`, `membership`, `schema`.
    pub entity: String,
    /// Id of the entity concerned.
    pub entity_id: Option<i64>,
    /// Changed fields: `{"field": {"old": .., "new": ..}}` for updates, the values for
    /// creations and the details of other actions.
    pub changes: serde_json::Value,
}

/// A page of the audit trail, newest first.
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
/// session.create_interaction(NewInteraction::new("Call", "call", "Alice", t, t, "UTC")).await?;
/// let page = session.audit_trail(100, None).await?; // site admins only, newest first
/// assert_eq!(page.entries[0].action, "create");
/// assert!(page.next_cursor.is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Pass to the next call to continue; `None` on the last page.
    pub next_cursor: Option<String>,
}

db_row! {
    pub(crate) struct AuditRow {
        audit_id: i64,
        occurred_at: Ts,
        actor_id: Option<i32>,
        site_id: Option<i32>,
        action: String,
        entity: String,
        entity_id: Option<i64>,
        changes: String,
    }
}

impl AuditRow {
    pub(crate) fn into_entry(self) -> AuditEntry {
        AuditEntry {
            id: self.audit_id,
            occurred_at: self.occurred_at.0,
            actor_id: self.actor_id.map(i64::from),
            site_id: self.site_id.map(i64::from),
            action: self.action,
            entity: self.entity,
            entity_id: self.entity_id,
            changes: serde_json::from_str(&self.changes).unwrap_or(serde_json::Value::Null),
        }
    }
}
