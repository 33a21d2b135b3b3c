//! Retention (spec §6.1, §6.4): how long each kind of data is kept, and the purge that
//! applies it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::audit::{self, AuditRecord};
use crate::backend::{Backend, Sql};
use crate::cache::Gen;
use crate::error::Result;
use crate::exec::{Fresh, Op};
use crate::ops::archive::cutoff;
use crate::store::InteractionStore;

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

impl RetentionPolicy {
    /// Checks every period (between one hour and 100 years).
    pub(crate) fn validate(&self) -> Result<()> {
        let now = Utc::now();
        for (field, d) in self.periods() {
            cutoff(&format!("retention.{field}"), now, d)?;
        }
        Ok(())
    }

    fn periods(&self) -> [(&'static str, Duration); 8] {
        [
            ("deleted_interactions", self.deleted_interactions),
            ("archived_interactions", self.archived_interactions),
            ("access_attempts", self.access_attempts),
            ("user_activity", self.user_activity),
            ("authentication_logs", self.authentication_logs),
            ("data_modifications", self.data_modifications),
            ("admin_actions", self.admin_actions),
            ("schema_changes", self.schema_changes),
        ]
    }
}

/// What one retention rule did (or would do) in a [`PurgeReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurgeOutcome {
    /// The rule: a [`RetentionPolicy`] field name, `expired_tokens` or
    /// `expired_idempotency_keys`.
    pub policy: String,
    /// The table it applies to.
    pub table: String,
    /// `delete`, or `anonymise` (personal fields removed, the row kept).
    pub action: String,
    /// Rows older than this were affected.
    pub cutoff: DateTime<Utc>,
    /// Rows affected (would be, in a dry run).
    pub rows: u64,
}

/// What a purge did (or would do): see [`InteractionStore::purge`].
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
/// let report = store.purge(true).await?; // dry run: count, change nothing
/// assert!(report.dry_run);
/// assert_eq!(report.total(), 0);
/// for o in &report.outcomes {
///     println!("{} {}: {} rows before {}", o.action, o.table, o.rows, o.cutoff);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Nothing was changed: the counts say what a real purge would do now.
    pub dry_run: bool,
    /// The store clock's time the cut-offs were computed from.
    pub now: DateTime<Utc>,
    /// One entry per rule, in the order applied.
    pub outcomes: Vec<PurgeOutcome>,
}

impl PurgeReport {
    /// Rows affected by every rule together.
    pub fn total(&self) -> u64 {
        self.outcomes.iter().map(|o| o.rows).sum()
    }
}

/// Rows changed per transaction.
const BATCH: i64 = 1000;

/// Login and logout records (authentication logs); every other access-log row is an
/// access attempt (reads, refused calls).
const AUTH_ACTIONS: &str = "('login', 'logout')";
/// Audit actions on interactions that are data modifications (the rest are admin
/// actions, schema changes aside).
const DATA_ACTIONS: &str = "('create', 'update', 'delete', 'restore')";
/// What an anonymised access-log row keeps as its username.
pub(crate) const ANONYMISED: &str = "anonymised";

enum Action {
    Delete,
    /// `SET …` clause of the anonymisation.
    Anonymise(&'static str),
}

/// One rule: rows of `table` (primary key `key`) matching `filter`, in which `$cutoff`
/// stands for the rule's cut-off.
struct Rule {
    policy: &'static str,
    table: &'static str,
    key: &'static str,
    filter: String,
    action: Action,
    cutoff: DateTime<Utc>,
    /// A second bound (`$floor`): rows an earlier rule deletes are not counted again.
    floor: Option<DateTime<Utc>>,
    /// The rows are interactions: a purge changes what sites' searches return.
    rows_of_sites: bool,
}

impl Rule {
    /// `SELECT {what} FROM table WHERE filter`, the cut-off bound.
    fn select(&self, b: Backend, what: &str) -> Sql {
        let mut q = Sql::new(b, "SELECT ");
        q.push(what).push(" FROM ").push(self.table).push(" WHERE ");
        self.push_filter(&mut q);
        q
    }

    fn push_filter(&self, q: &mut Sql) {
        let mut rest = self.filter.as_str();
        while let Some(at) = rest.find('$') {
            q.push(&rest[..at]);
            let tail = &rest[at..];
            if let Some(r) = tail.strip_prefix("$cutoff") {
                q.bind(self.cutoff);
                rest = r;
            } else if let Some(r) = tail.strip_prefix("$floor") {
                q.bind(self.floor.expect("a rule with $floor has a floor"));
                rest = r;
            } else {
                unreachable!("unknown placeholder in a retention rule: {tail}");
            }
        }
        q.push(rest);
    }

    /// One batch of the rule, as a statement.
    fn batch(&self, b: Backend) -> Sql {
        let mut q = Sql::new(b, "");
        match self.action {
            Action::Delete => q.push("DELETE FROM "),
            Action::Anonymise(_) => q.push("UPDATE "),
        };
        q.push(self.table);
        if let Action::Anonymise(set) = self.action {
            q.push(" SET ").push(set);
        }
        // A composite key `(a, b)` compares as a row value with `SELECT a, b`.
        let inner = self.key.trim_start_matches('(').trim_end_matches(')');
        q.push(" WHERE ")
            .push(self.key)
            .push(" IN (SELECT ")
            .push(inner);
        q.push(" FROM ").push(self.table).push(" WHERE ");
        self.push_filter(&mut q);
        q.push(" LIMIT ").bind(BATCH).push(")");
        q
    }
}

impl InteractionStore {
    /// Applies the retention rules of [`StoreOptions::retention`](crate::StoreOptions::retention)
    /// (spec §6.1, §6.4) at the store clock's time: deletes soft-deleted interactions
    /// past `deleted_interactions`, archived ones past `archived_interactions`, access
    /// attempts, authentication logs and audit rows past their periods, anonymises login
    /// records past `user_activity`, and removes expired or revoked login tokens and
    /// expired idempotency keys. Works in batches of 1000 rows, each its own transaction
    /// with an audit tombstone (rule, table, cut-off, rows), so it can be interrupted and
    /// rerun. `dry_run`: count, change nothing.
    pub async fn purge(&self, dry_run: bool) -> Result<PurgeReport> {
        let now = self.now();
        let rules = self.rules(now)?;
        let b = self.backend();
        let mut outcomes = Vec::new();
        for rule in rules {
            let rows = if dry_run {
                let q = rule.select(b, "count(*)");
                let (n,): (i64,) = self
                    .read_opt(Op::new("purge_plan"), Fresh::Latest, q)
                    .await?
                    .unwrap_or((0,));
                n.max(0) as u64
            } else {
                self.apply(&rule).await?
            };
            outcomes.push(PurgeOutcome {
                policy: rule.policy.to_string(),
                table: rule.table.to_string(),
                action: match rule.action {
                    Action::Delete => "delete",
                    Action::Anonymise(_) => "anonymise",
                }
                .to_string(),
                cutoff: rule.cutoff,
                rows,
            });
        }
        Ok(PurgeReport {
            dry_run,
            now,
            outcomes,
        })
    }

    /// Runs `rule` batch by batch until a batch finds fewer rows than it may take.
    async fn apply(&self, rule: &Rule) -> Result<u64> {
        let b = self.backend();
        let mut op = Op::new("purge");
        if rule.rows_of_sites {
            let q = rule.select(b, "DISTINCT site_id");
            let sites: Vec<(i32,)> = self
                .read_all(Op::new("purge_plan"), Fresh::Latest, q)
                .await?;
            if sites.is_empty() {
                return Ok(0);
            }
            for (s,) in sites {
                op = op.invalidates(Gen::Rows(s));
            }
        }
        let mut total = 0u64;
        loop {
            let q = rule.batch(b);
            let (policy, table, cutoff) = (rule.policy, rule.table, rule.cutoff);
            let action = match rule.action {
                Action::Delete => "delete",
                Action::Anonymise(_) => "anonymise",
            };
            let n = self
                .write(op.clone(), move |tx| {
                    Box::pin(async move {
                        let n = tx.execute(&q).await?;
                        if n > 0 {
                            audit::record(
                                tx,
                                AuditRecord {
                                    actor: None,
                                    site: None,
                                    action: "purge",
                                    entity: "retention",
                                    entity_id: None,
                                    changes: json!({
                                        "policy": policy, "table": table, "action": action,
                                        "cutoff": cutoff.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                                        "rows": n,
                                    }),
                                },
                            )
                            .await?;
                        }
                        Ok(n)
                    })
                })
                .await?;
            total += n;
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// The rules at `now`, in the order they run.
    fn rules(&self, now: DateTime<Utc>) -> Result<Vec<Rule>> {
        let p = &self.inner.retention;
        let at = |field: &str, d: Duration| cutoff(&format!("retention.{field}"), now, d);
        let rule = |policy, table, key, filter: String, action, cutoff, rows_of_sites| Rule {
            policy,
            table,
            key,
            filter,
            action,
            cutoff,
            floor: None,
            rows_of_sites,
        };
        let idempotency = now - crate::IDEMPOTENCY_WINDOW;
        Ok(vec![
            rule(
                "deleted_interactions",
                "interactions",
                "interaction_id",
                "deleted_at IS NOT NULL AND deleted_at < $cutoff".into(),
                Action::Delete,
                at("deleted_interactions", p.deleted_interactions)?,
                true,
            ),
            rule(
                "archived_interactions",
                "interactions_archive",
                "interaction_id",
                "archived_at < $cutoff".into(),
                Action::Delete,
                at("archived_interactions", p.archived_interactions)?,
                true,
            ),
            rule(
                "access_attempts",
                "access_log",
                "access_id",
                format!("action NOT IN {AUTH_ACTIONS} AND occurred_at < $cutoff"),
                Action::Delete,
                at("access_attempts", p.access_attempts)?,
                false,
            ),
            rule(
                "authentication_logs",
                "access_log",
                "access_id",
                format!("action IN {AUTH_ACTIONS} AND occurred_at < $cutoff"),
                Action::Delete,
                at("authentication_logs", p.authentication_logs)?,
                false,
            ),
            Rule {
                floor: Some(at("authentication_logs", p.authentication_logs)?),
                ..rule(
                "user_activity",
                "access_log",
                "access_id",
                format!(
                    "action IN {AUTH_ACTIONS} AND occurred_at < $cutoff AND occurred_at >= $floor \
                     AND (user_id IS NOT NULL OR username <> '{ANONYMISED}' OR detail IS NOT NULL)"
                ),
                Action::Anonymise("username = 'anonymised', user_id = NULL, detail = NULL"),
                at("user_activity", p.user_activity)?,
                false,
            )},
            rule(
                "data_modifications",
                "audit_log",
                "audit_id",
                format!(
                    "entity = 'interaction' AND action IN {DATA_ACTIONS} AND occurred_at < $cutoff"
                ),
                Action::Delete,
                at("data_modifications", p.data_modifications)?,
                false,
            ),
            rule(
                "admin_actions",
                "audit_log",
                "audit_id",
                format!(
                    "entity <> 'schema' AND NOT (entity = 'interaction' AND action IN {DATA_ACTIONS}) \
                     AND occurred_at < $cutoff"
                ),
                Action::Delete,
                at("admin_actions", p.admin_actions)?,
                false,
            ),
            rule(
                "schema_changes",
                "audit_log",
                "audit_id",
                "entity = 'schema' AND occurred_at < $cutoff".into(),
                Action::Delete,
                at("schema_changes", p.schema_changes)?,
                false,
            ),
            rule(
                "expired_tokens",
                "auth_sessions",
                "token_hash",
                "(expires_at < $cutoff OR revoked_at IS NOT NULL)".into(),
                Action::Delete,
                now,
                false,
            ),
            rule(
                "expired_idempotency_keys",
                "idempotency_keys",
                "(site_id, idempotency_key)",
                "created_at < $cutoff".into(),
                Action::Delete,
                idempotency,
                false,
            ),
        ])
    }
}
