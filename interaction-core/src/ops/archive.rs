//! Archival (spec §4.1, §4.3): interactions inactive past a threshold move to
//! `interactions_archive`, a table with the same columns, in checked batches.
//!
//! Each batch is one transaction that locks its rows (skipping any an edit holds), copies
//! them, reads the copies back and compares their count and a SHA-256 checksum of their
//! content with the originals, deletes the originals, writes one audit row per site, and
//! only then commits. A run killed at any point leaves every interaction in exactly one
//! of the two tables; rerunning it carries on. An edit that commits before a row's batch
//! makes the row active again (it stays live); one that waits for a batch's lock finds
//! the row archived and gets [`Error::Archived`].

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditRecord};
use crate::backend::{Arg, Sql, Ts, Tx};
use crate::cache::Gen;
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::interactions::{Row, COLUMNS};
use crate::model::{Interaction, Role};
use crate::session::SiteSession;
use crate::store::InteractionStore;
use crate::validate;

/// The default archival threshold: two years since an interaction last changed (spec
/// §4.3).
pub const ARCHIVE_AFTER: Duration = Duration::from_secs(2 * 365 * 24 * 3600);

/// Interactions moved per transaction.
const BATCH: usize = 500;

/// The data columns of both interactions tables, unqualified, without `archived_at`.
static DATA_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    COLUMNS
        .replace("interactions.", "")
        .replace(", archived_at", "")
});

/// What an archival run did (or, in a dry run, would do): see
/// [`InteractionStore::archive`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use interaction_core::{Clock, NewInteraction, Role, StoreOptions, ARCHIVE_AFTER};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> interaction_core::Result<()> {
/// let clock = Clock::manual("2020-01-01T00:00:00Z".parse().unwrap());
/// let store = StoreOptions::new("sqlite::memory:").migrate(true).clock(clock.clone()).connect().await?;
/// # let site = store.create_site("Head office", None).await?;
/// # let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// # store.grant_role(alice.id, site.id, Role::Admin).await?;
/// # let session = store.session_for_user(alice.id, site.id).await?;
/// let t = clock.now();
/// session.create_interaction(NewInteraction::new("Old", "call", "Alice", t, t, "UTC")).await?;
/// clock.advance(Duration::from_secs(3 * 365 * 86_400))?; // three years later
/// let plan = store.archive(None, true).await?;           // dry run: nothing moves
/// assert_eq!((plan.dry_run, plan.moved), (true, 1));
/// let done = store.archive(Some(ARCHIVE_AFTER), false).await?;
/// assert_eq!(done.moved, 1);
/// assert_eq!(done.sites[&site.id], 1);
/// assert_eq!(store.counts().await?.archived, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveReport {
    /// Nothing was moved: the counts say what a real run would move now.
    pub dry_run: bool,
    /// Interactions whose last change (update, else creation) is older than this moved.
    pub cutoff: DateTime<Utc>,
    /// Interactions moved (would move, in a dry run).
    pub moved: u64,
    /// Moved per site id.
    pub sites: BTreeMap<i64, u64>,
    /// Transactions committed (would commit).
    pub batches: u64,
    /// Candidates left live: an edit held them or made them active again during the run.
    pub skipped: u64,
    /// SHA-256 over the content of every moved interaction, in the order moved (hex; empty
    /// when nothing moved or in a dry run). Each batch compared it with the archived
    /// copies before it committed.
    pub checksum: String,
}

/// Progress of a run, after each batch: see [`InteractionStore::archive_with_progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveProgress {
    /// Interactions moved so far.
    pub moved: u64,
    /// Candidates when the run started.
    pub total: u64,
}

/// A candidate: id, site and last change (the run's keyset position).
type Candidate = (i32, i32, Ts);

impl InteractionStore {
    /// Moves interactions that have not changed for `older_than` (default
    /// [`ARCHIVE_AFTER`], two years) and are not soft-deleted to the archive, in batches
    /// of 500, each checked by count and checksum before it commits. Archived
    /// interactions are read-only, found by the Finder only with
    /// [`include_archived`](crate::Finder::include_archived) /
    /// [`archived_only`](crate::Finder::archived_only), and deleted by
    /// [`purge`](Self::purge) after the retention period. `dry_run`: count what would
    /// move, change nothing. Safe to interrupt and rerun, and to run while the
    /// application writes.
    pub async fn archive(
        &self,
        older_than: Option<Duration>,
        dry_run: bool,
    ) -> Result<ArchiveReport> {
        self.archive_with_progress(older_than, dry_run, |_| {})
            .await
    }

    /// [`archive`](Self::archive), calling `progress` after each committed batch (the
    /// CLI's progress bar).
    pub async fn archive_with_progress(
        &self,
        older_than: Option<Duration>,
        dry_run: bool,
        mut progress: impl FnMut(ArchiveProgress) + Send,
    ) -> Result<ArchiveReport> {
        let age = older_than.unwrap_or(ARCHIVE_AFTER);
        let cutoff = cutoff("older_than", self.now(), age)?;
        let planned = self.archive_plan(cutoff).await?;
        let total: u64 = planned.values().sum();
        let mut report = ArchiveReport {
            dry_run,
            cutoff,
            moved: 0,
            sites: BTreeMap::new(),
            batches: 0,
            skipped: 0,
            checksum: String::new(),
        };
        if dry_run {
            report.moved = total;
            report.sites = planned;
            report.batches = total.div_ceil(BATCH as u64);
            return Ok(report);
        }
        let mut run_hash = Sha256::new();
        let mut after: Option<(Ts, i32)> = None;
        loop {
            let batch = self.candidates(cutoff, after.as_ref()).await?;
            let Some(last) = batch.last() else { break };
            after = Some((last.2, last.0));
            let moved = self.archive_batch(cutoff, &batch).await?;
            report.skipped += (batch.len() - moved.len()) as u64;
            if moved.is_empty() {
                continue;
            }
            report.batches += 1;
            report.moved += moved.len() as u64;
            for i in &moved {
                *report.sites.entry(i.site_id).or_default() += 1;
            }
            run_hash.update(content_hash(&moved));
            progress(ArchiveProgress {
                moved: report.moved,
                total,
            });
        }
        if report.moved > 0 {
            report.checksum = hex(&run_hash.finalize());
        }
        Ok(report)
    }

    /// Candidates per site now (the dry run, and the progress total).
    async fn archive_plan(&self, cutoff: DateTime<Utc>) -> Result<BTreeMap<i64, u64>> {
        let mut q = self.sql(
            "SELECT site_id, count(*) FROM interactions \
             WHERE deleted_at IS NULL AND coalesce(updated_at, created_at) < ",
        );
        q.bind(cutoff).push(" GROUP BY site_id");
        let rows: Vec<(i32, i64)> = self
            .read_all(Op::new("archive_plan"), Fresh::Latest, q)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(s, n)| (i64::from(s), n.max(0) as u64))
            .collect())
    }

    /// The next batch of candidates after `after`, oldest change first.
    async fn candidates(
        &self,
        cutoff: DateTime<Utc>,
        after: Option<&(Ts, i32)>,
    ) -> Result<Vec<Candidate>> {
        let mut q = self.sql(
            "SELECT interaction_id, site_id, coalesce(updated_at, created_at) FROM interactions \
             WHERE deleted_at IS NULL AND coalesce(updated_at, created_at) < ",
        );
        q.bind(cutoff);
        if let Some((t, id)) = after {
            q.push(" AND (coalesce(updated_at, created_at), interaction_id) > (")
                .bind(t.0)
                .push(", ")
                .bind(*id)
                .push(")");
        }
        q.push(" ORDER BY coalesce(updated_at, created_at), interaction_id LIMIT ")
            .bind(BATCH as i64);
        self.read_all(Op::new("archive_candidates"), Fresh::Latest, q)
            .await
    }

    /// Moves what is still a candidate among `batch` in one checked transaction; returns
    /// the interactions moved (as they were live).
    async fn archive_batch(
        &self,
        cutoff: DateTime<Utc>,
        batch: &[Candidate],
    ) -> Result<Vec<Interaction>> {
        let mut op = Op::new("archive");
        let mut sites: Vec<i32> = batch.iter().map(|c| c.1).collect();
        sites.sort_unstable();
        sites.dedup();
        for s in sites {
            op = op.invalidates(Gen::Rows(s));
        }
        let ids: Vec<i32> = batch.iter().map(|c| c.0).collect();
        self.write(op, move |tx| {
            Box::pin(async move { move_batch(tx, cutoff, ids).await })
        })
        .await
    }
}

/// The body of one archival transaction.
async fn move_batch(tx: &mut Tx, cutoff: DateTime<Utc>, ids: Vec<i32>) -> Result<Vec<Interaction>> {
    let b = tx.backend();
    let d = b.dialect();
    // Lock the rows that still qualify; an edit in progress keeps its row live.
    let mut q = Sql::new(b, "SELECT ");
    q.push(COLUMNS)
        .push(" FROM interactions WHERE interaction_id");
    in_list(&mut q, &ids);
    q.push(" AND deleted_at IS NULL AND coalesce(updated_at, created_at) < ")
        .bind(cutoff)
        .push(" ORDER BY interaction_id")
        .push(d.for_update_skip_locked());
    let live: Vec<Interaction> = tx
        .fetch_all::<Row>(&q)
        .await?
        .into_iter()
        .map(Interaction::from)
        .collect();
    if live.is_empty() {
        return Ok(live);
    }
    let moving: Vec<i32> = live.iter().map(|i| i.id as i32).collect();
    let now = tx.now();
    // Delete first, then insert the locked values: an interaction is never in both
    // tables, not even inside the transaction (SQLite's full-text index, shared by the
    // two tables, is keyed by id).
    let mut del = Sql::new(b, "DELETE FROM interactions WHERE interaction_id");
    in_list(&mut del, &moving);
    let deleted = tx.execute(&del).await?;
    let copied = insert_rows(tx, "interactions_archive", &live, Some(now)).await?;
    // Read the copies back and compare them with what was locked.
    let mut back = Sql::new(b, "SELECT ");
    back.push(COLUMNS)
        .push(" FROM interactions_archive interactions WHERE interaction_id");
    in_list(&mut back, &moving);
    back.push(" ORDER BY interaction_id");
    let archived: Vec<Interaction> = tx
        .fetch_all::<Row>(&back)
        .await?
        .into_iter()
        .map(Interaction::from)
        .collect();
    let expected = content_hash(&live);
    if copied != live.len() as u64
        || deleted != live.len() as u64
        || archived.len() != live.len()
        || archived.iter().any(|a| a.archived_at != Some(now))
        || content_hash(&archived) != expected
    {
        return Err(Error::internal(format!(
            "archival batch check failed ({} rows locked, {deleted} deleted, {copied} copied, \
             {} read back, checksums differ or archived_at unset): rolled back, nothing moved",
            live.len(),
            archived.len()
        )));
    }
    let mut per_site: BTreeMap<i64, Vec<&Interaction>> = BTreeMap::new();
    for i in &live {
        per_site.entry(i.site_id).or_default().push(i);
    }
    for (site, rows) in per_site {
        let owned: Vec<Interaction> = rows.iter().map(|i| (*i).clone()).collect();
        audit::record(
            tx,
            AuditRecord {
                actor: None,
                site: Some(site as i32),
                action: "archive",
                entity: "interaction",
                entity_id: None,
                changes: json!({
                    "ids": owned.iter().map(|i| i.id).collect::<Vec<_>>(),
                    "count": owned.len(),
                    "checksum": hex(&content_hash(&owned)),
                    "cutoff": cutoff.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                }),
            },
        )
        .await?;
    }
    Ok(live)
}

/// Inserts `rows` as they are into `table` (`archived_at` set to `archived_at`), a
/// hundred per statement; returns the rows inserted.
async fn insert_rows(
    tx: &mut Tx,
    table: &str,
    rows: &[Interaction],
    archived_at: Option<DateTime<Utc>>,
) -> Result<u64> {
    let mut n = 0;
    for chunk in rows.chunks(100) {
        let mut q = Sql::new(tx.backend(), "INSERT INTO ");
        q.push(table)
            .push(" (")
            .push(&DATA_COLUMNS)
            .push(", archived_at) VALUES ");
        for (k, r) in chunk.iter().enumerate() {
            if k > 0 {
                q.push(", ");
            }
            let args: [Arg; 19] = [
                Arg::I32(r.id as i32),
                Arg::I32(r.site_id as i32),
                r.title.clone().into(),
                r.interaction_type.clone().into(),
                r.lead.clone().into(),
                Arg::Ts(r.start_datetime),
                Arg::Ts(r.end_datetime),
                r.timezone.clone().into(),
                r.location.clone().into(),
                r.description.clone().into(),
                r.notes.clone().into(),
                Arg::I32(r.created_by as i32),
                Arg::Ts(r.created_at),
                Arg::OptI32(r.updated_by.map(|v| v as i32)),
                Arg::OptTs(r.updated_at),
                Arg::OptTs(r.deleted_at),
                Arg::OptI32(r.deleted_by.map(|v| v as i32)),
                Arg::I32(r.version as i32),
                Arg::OptTs(archived_at),
            ];
            q.push("(");
            for (i, a) in args.into_iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind(a);
            }
            q.push(")");
        }
        n += tx.execute(&q).await?;
    }
    Ok(n)
}

/// Appends ` IN ($1, $2, ...)`.
fn in_list(q: &mut Sql, ids: &[i32]) {
    q.push(" IN (");
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            q.push(", ");
        }
        q.bind(*id);
    }
    q.push(")");
}

/// SHA-256 over the content of `rows` (every column but `archived_at`), in order.
fn content_hash(rows: &[Interaction]) -> [u8; 32] {
    let mut h = Sha256::new();
    for r in rows {
        let mut r = r.clone();
        r.archived_at = None;
        h.update(serde_json::to_vec(&r).expect("an interaction serialises"));
        h.update(b"\n");
    }
    h.finalize().into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `now - age`, validated: `field` must be between one hour and 100 years.
pub(crate) fn cutoff(field: &str, now: DateTime<Utc>, age: Duration) -> Result<DateTime<Utc>> {
    if age < Duration::from_secs(3600) || age > Duration::from_secs(100 * 365 * 24 * 3600) {
        return Err(Error::validation(
            field,
            "must be between one hour and 100 years",
        ));
    }
    let age =
        chrono::Duration::from_std(age).map_err(|_| Error::validation(field, "is out of range"))?;
    let t = now
        .checked_sub_signed(age)
        .ok_or_else(|| Error::validation(field, "reaches before the supported range"))?;
    validate::in_range(field, t)
}

impl SiteSession {
    /// Brings an archived interaction back to the live table (site admin): it becomes
    /// editable again, its version goes up by one and its last change is now (so the
    /// next archival run leaves it alone). The change and its audit row commit together.
    pub async fn unarchive_interaction(&self, id: i64) -> Result<Interaction> {
        let iid = validate::id("id", id)?;
        self.authorize(Role::Admin, "unarchiving interactions")
            .await?;
        let this = self.clone();
        let op = self
            .write_op("unarchive_interaction")
            .invalidates(Gen::Rows(self.site_id));
        self.store
            .write(op, move |tx| {
                Box::pin(async move {
                    let b = tx.backend();
                    let mut q = this.scoped_row(iid, |q| {
                        q.push("SELECT ")
                            .push(COLUMNS)
                            .push(" FROM interactions_archive interactions");
                    });
                    q.push(b.dialect().for_update());
                    let archived: Interaction = tx
                        .fetch_optional::<Row>(&q)
                        .await?
                        .ok_or_else(|| Error::not_found("interaction", id))?
                        .into();
                    // Delete, then insert (never in both tables: see `move_batch`).
                    let mut del = Sql::new(
                        b,
                        "DELETE FROM interactions_archive WHERE interaction_id = ",
                    );
                    del.bind(iid);
                    tx.execute(&del).await?;
                    insert_rows(tx, "interactions", std::slice::from_ref(&archived), None).await?;
                    let now = tx.now();
                    let mut q = this.scoped_row(iid, |q| {
                        audit::open_inline(q);
                        q.push("UPDATE interactions SET updated_at = ")
                            .bind(now)
                            .push(", updated_by = ")
                            .bind(this.user_id)
                            .push(", version = version + 1");
                    });
                    q.push(" RETURNING ").push(COLUMNS);
                    let was = archived
                        .archived_at
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
                    this.write_audited(
                        tx,
                        &mut q,
                        "unarchive",
                        json!({"archived_at": {"old": was, "new": null}}),
                    )
                    .await
                })
            })
            .await
    }

    /// Whether interaction `iid` of this site is archived (inside a write: the error a
    /// change to it gets).
    pub(crate) async fn archived_in(&self, tx: &mut Tx, iid: i32) -> Result<bool> {
        let q = self.scoped_row(iid, |q| {
            q.push("SELECT interactions.interaction_id FROM interactions_archive interactions");
        });
        Ok(tx.fetch_optional::<(i32,)>(&q).await?.is_some())
    }

    /// An archived interaction of this site, for reads that missed the live table.
    pub(crate) async fn archived_row(&self, iid: i32) -> Result<Option<Interaction>> {
        let q = self.scoped_row(iid, |q| {
            q.push("SELECT ")
                .push(COLUMNS)
                .push(" FROM interactions_archive interactions");
        });
        Ok(self
            .store
            .read_opt::<Row>(
                Op::site("get_interaction", self.site_id),
                Fresh::Recent(self.seen()),
                q,
            )
            .await?
            .map(Interaction::from))
    }
}
