//! Interaction CRUD with validation, optimistic concurrency and audit (spec §2.2.4).

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use crate::audit::{self, AuditRecord};
use sha2::{Digest, Sha256};

use crate::backend::{db_row, Arg, Sql, Ts, Tx};
use crate::cache::Gen;
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::model::{Interaction, InteractionPatch, NewInteraction, Role};
use crate::session::SiteSession;
use crate::validate;

/// How long a soft-deleted interaction can be restored by default (spec §4.3): the
/// default [`RetentionPolicy::deleted_interactions`](crate::RetentionPolicy), after which
/// [`purge`](crate::InteractionStore::purge) deletes it.
pub const RESTORE_WINDOW: Duration = Duration::days(30);

/// The most interactions one [`SiteSession::create_interactions`] call takes.
pub const MAX_CREATE_BATCH: usize = 1000;

/// How long an idempotency key of [`NewInteraction::idempotency_key`] is remembered.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);

pub(crate) const COLUMNS: &str = "interactions.interaction_id, interactions.site_id, interactions.title, \
    interactions.type, interactions.lead, interactions.start_datetime, interactions.end_datetime, \
    interactions.timezone, interactions.location, interactions.description, interactions.notes, \
    interactions.created_by, interactions.created_at, interactions.updated_by, interactions.updated_at, \
    interactions.deleted_at, interactions.deleted_by, interactions.version, interactions.archived_at";

db_row! {
    pub(crate) struct Row {
        interaction_id: i32,
        site_id: i32,
        title: String,
        #[sqlx(rename = "type")]
        interaction_type: String,
        lead: String,
        start_datetime: Ts,
        end_datetime: Ts,
        timezone: String,
        location: Option<String>,
        description: Option<String>,
        notes: Option<String>,
        created_by: i32,
        created_at: Ts,
        updated_by: Option<i32>,
        updated_at: Option<Ts>,
        deleted_at: Option<Ts>,
        deleted_by: Option<i32>,
        version: i32,
        archived_at: Option<Ts>,
    }
}

impl Row {
    pub(crate) fn id(&self) -> i64 {
        self.interaction_id.into()
    }

    pub(crate) fn start_micros(&self) -> i64 {
        self.start_datetime.0.timestamp_micros()
    }

    pub(crate) fn created_micros(&self) -> i64 {
        self.created_at.0.timestamp_micros()
    }
}

impl From<Row> for Interaction {
    fn from(r: Row) -> Self {
        Interaction {
            id: r.interaction_id.into(),
            site_id: r.site_id.into(),
            title: r.title,
            interaction_type: r.interaction_type,
            lead: r.lead,
            start_datetime: r.start_datetime.0,
            end_datetime: r.end_datetime.0,
            timezone: r.timezone,
            location: r.location,
            description: r.description,
            notes: r.notes,
            created_by: r.created_by.into(),
            created_at: r.created_at.0,
            updated_by: r.updated_by.map(i64::from),
            updated_at: r.updated_at.map(|t| t.0),
            deleted_at: r.deleted_at.map(|t| t.0),
            deleted_by: r.deleted_by.map(i64::from),
            version: r.version.into(),
            archived_at: r.archived_at.map(|t| t.0),
        }
    }
}

fn check_fields(
    title: Option<&str>,
    interaction_type: Option<&str>,
    lead: Option<&str>,
    location: Option<&str>,
    description: Option<&str>,
    notes: Option<&str>,
) -> Result<()> {
    if let Some(v) = title {
        validate::required("title", v, 255)?;
    }
    if let Some(v) = interaction_type {
        validate::required("type", v, 50)?;
    }
    if let Some(v) = lead {
        validate::required("lead", v, 100)?;
    }
    validate::optional("location", location, 255)?;
    validate::long_text("description", description)?;
    validate::long_text("notes", notes)
}

fn ts_json(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

impl SiteSession {
    /// Creates an interaction in this site (editor or admin). The library sets
    /// `created_by`, `created_at` and `version = 1`; the change and its audit row commit
    /// together.
    pub async fn create_interaction(&self, new: NewInteraction) -> Result<Interaction> {
        self.authorize(Role::Editor, "creating interactions")
            .await?;
        let now = self.store.now();
        let (mut q, rec, key) = self.insert_statement(new, now)?;
        let op = self
            .write_op("create_interaction")
            .invalidates(Gen::Rows(self.site_id));
        match key {
            None if q.dialect().writes_in_cte() => {
                // One statement: atomic without BEGIN/COMMIT, one round trip.
                audit::close_inline(&mut q, now, &rec, "interaction_id", None);
                Ok(self.store.write_one::<Row>(op, q).await?.into())
            }
            key => {
                let this = self.clone();
                self.store
                    .write(op, move |tx| {
                        Box::pin(async move { this.create_in(tx, q, rec, key, now).await })
                    })
                    .await
            }
        }
    }

    /// Validates `new` and builds its insert (to be closed by `audit::close_inline`), its
    /// audit record and its idempotency key. Writes nothing.
    fn insert_statement(
        &self,
        new: NewInteraction,
        now: DateTime<Utc>,
    ) -> Result<(Sql, AuditRecord<'static>, Option<String>)> {
        check_fields(
            Some(&new.title),
            Some(&new.interaction_type),
            Some(&new.lead),
            new.location.as_deref(),
            new.description.as_deref(),
            new.notes.as_deref(),
        )?;
        if let Some(key) = &new.idempotency_key {
            validate::required("idempotency_key", key, 255)?;
        }
        let tz = validate::timezone(&new.timezone)?;
        let start = validate::instant("start_datetime", &new.start, tz)?;
        let end = validate::instant("end_datetime", &new.end, tz)?;
        validate::range(start, end)?;
        let changes = json!({
            "title": new.title, "type": new.interaction_type, "lead": new.lead,
            "start_datetime": ts_json(start), "end_datetime": ts_json(end),
            "timezone": new.timezone, "location": new.location,
            "description": new.description, "notes": new.notes,
        });
        let mut q = self.store.sql("");
        audit::open_inline(&mut q);
        q.push(
            "INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, \
             timezone, location, description, notes, created_by, created_at, version)",
        )
        .push(" VALUES (");
        let args: [Arg; 12] = [
            Arg::I32(self.site_id),
            new.title.into(),
            new.interaction_type.into(),
            new.lead.into(),
            start.into(),
            end.into(),
            new.timezone.into(),
            new.location.into(),
            new.description.into(),
            new.notes.into(),
            Arg::I32(self.user_id),
            now.into(),
        ];
        for (i, a) in args.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(a);
        }
        q.push(", 1) RETURNING ").push(COLUMNS);
        Ok((q, self.record("create", changes), new.idempotency_key))
    }

    /// The transactional create: claims the idempotency key first (a concurrent create
    /// with the same key waits on it, then sees it taken), then writes the row, its audit
    /// row and the key's target.
    async fn create_in(
        &self,
        tx: &mut Tx,
        mut q: Sql,
        mut rec: AuditRecord<'static>,
        key: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Interaction> {
        let hash = Sha256::digest(rec.changes.to_string().as_bytes()).to_vec();
        if let Some(key) = &key {
            if let Some(first) = self.claim_key(tx, key, &hash, now).await? {
                return Ok(first);
            }
        }
        let keyed = key.as_deref().map(|k| (self.site_id, k));
        let inline = audit::close_inline(&mut q, now, &rec, "interaction_id", keyed);
        let created: Interaction = tx.fetch_one::<Row>(&q).await?.into();
        if !inline {
            rec.entity_id = Some(created.id);
            audit::record(tx, rec).await?;
            if let Some(key) = &key {
                tx.execute(&Sql::fixed(
                    tx.backend(),
                    "UPDATE idempotency_keys SET interaction_id = $1 \
                     WHERE site_id = $2 AND idempotency_key = $3",
                    vec![
                        Arg::I32(created.id as i32),
                        Arg::I32(self.site_id),
                        key.as_str().into(),
                    ],
                ))
                .await?;
            }
        }
        Ok(created)
    }

    /// Claims `key` for a new create. `None`: claimed, go on. `Some`: the key was used
    /// within [`IDEMPOTENCY_WINDOW`] with the same content: the interaction it created.
    /// The same key with other content is [`Error::Conflict`].
    async fn claim_key(
        &self,
        tx: &mut Tx,
        key: &str,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Interaction>> {
        let b = tx.backend();
        let claim = Sql::fixed(
            b,
            "INSERT INTO idempotency_keys (site_id, idempotency_key, request_hash, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (site_id, idempotency_key) DO NOTHING",
            vec![
                Arg::I32(self.site_id),
                key.into(),
                Arg::Bytes(hash.to_vec()),
                Arg::Ts(now),
            ],
        );
        for _ in 0..2 {
            if tx.execute(&claim).await? == 1 {
                return Ok(None);
            }
            let (first_hash, id, at): (Vec<u8>, Option<i32>, Ts) = tx
                .fetch_one(&Sql::fixed(
                    b,
                    "SELECT request_hash, interaction_id, created_at FROM idempotency_keys \
                     WHERE site_id = $1 AND idempotency_key = $2",
                    vec![Arg::I32(self.site_id), key.into()],
                ))
                .await?;
            if now - at.0 >= IDEMPOTENCY_WINDOW {
                // Expired: the key is free again.
                tx.execute(&Sql::fixed(
                    b,
                    "DELETE FROM idempotency_keys WHERE site_id = $1 AND idempotency_key = $2",
                    vec![Arg::I32(self.site_id), key.into()],
                ))
                .await?;
                continue;
            }
            if first_hash != hash {
                return Err(Error::Conflict(format!(
                    "idempotency key {key:?} was used in this site for a create with other content"
                )));
            }
            let id =
                id.ok_or_else(|| Error::internal("idempotency key without its interaction"))?;
            let q = self.scoped_row(id, |q| {
                q.push("SELECT ").push(COLUMNS).push(" FROM interactions");
            });
            let row = tx.fetch_optional::<Row>(&q).await?;
            return row
                .map(|r| Some(Interaction::from(r)))
                .ok_or_else(|| Error::not_found("interaction", id));
        }
        Err(Error::internal("could not claim the idempotency key"))
    }

    /// Reads an interaction of this site that is not deleted: a live one, or an archived
    /// one (read-only, [`archived_at`](Interaction::archived_at) set). Another site's
    /// interaction is [`Error::NotFound`], exactly like a missing one.
    pub async fn get_interaction(&self, id: i64) -> Result<Interaction> {
        let r = self.read_interaction(id).await;
        self.log_read("read", || format!("interaction:{id}"), r)
            .await
    }

    async fn read_interaction(&self, id: i64) -> Result<Interaction> {
        let iid = validate::id("id", id)?;
        self.authorize(Role::Viewer, "reading interactions").await?;
        let mut q = self.scoped_row(iid, |q| {
            q.push("SELECT ").push(COLUMNS).push(" FROM interactions");
        });
        q.push(" AND interactions.deleted_at IS NULL");
        let live = self
            .store
            .read_opt::<Row>(
                Op::site("get_interaction", self.site_id),
                Fresh::Recent(self.seen()),
                q,
            )
            .await?;
        match live {
            Some(r) => Ok(r.into()),
            // Archived interactions stay readable by id (read-only).
            None => self
                .archived_row(iid)
                .await?
                .ok_or_else(|| Error::not_found("interaction", id)),
        }
    }

    /// Applies a partial update (editor or admin). With `expected_version`, a record whose
    /// version differs fails with [`Error::Conflict`] and nothing changes. A patch that
    /// changes nothing returns the record as it is.
    pub async fn update_interaction(
        &self,
        id: i64,
        patch: InteractionPatch,
        expected_version: Option<i64>,
    ) -> Result<Interaction> {
        self.authorize(Role::Editor, "updating interactions")
            .await?;
        let iid = validate::id("id", id)?;
        check_fields(
            patch.title.as_deref(),
            patch.interaction_type.as_deref(),
            patch.lead.as_deref(),
            patch.location.as_ref().and_then(|v| v.as_deref()),
            patch.description.as_ref().and_then(|v| v.as_deref()),
            patch.notes.as_ref().and_then(|v| v.as_deref()),
        )?;
        if let Some(tz) = &patch.timezone {
            validate::timezone(tz)?;
        }
        let this = self.clone();
        self.store
            .write(
                self.write_op("update_interaction")
                    .invalidates(Gen::Rows(self.site_id)),
                move |tx| {
                    Box::pin(async move {
                        let current = this.lock_row(tx, iid, false, expected_version).await?;
                        let Some((mut q, changes)) = this.patch_sql(&current, patch)? else {
                            return Ok(current);
                        };
                        let updated = this
                            .write_audited(tx, &mut q, "update", Value::Object(changes))
                            .await?;
                        Ok(updated)
                    })
                },
            )
            .await
    }

    /// Soft-deletes an interaction (editor or admin). It disappears from reads and the
    /// Finder; an admin can restore it until the retention policy's `deleted_interactions`
    /// period ([`RESTORE_WINDOW`] by default) has passed.
    pub async fn delete_interaction(&self, id: i64, expected_version: Option<i64>) -> Result<()> {
        self.authorize(Role::Editor, "deleting interactions")
            .await?;
        let iid = validate::id("id", id)?;
        let this = self.clone();
        self.store
            .write(
                self.write_op("delete_interaction")
                    .invalidates(Gen::Rows(self.site_id)),
                move |tx| {
                    Box::pin(async move {
                        this.lock_row(tx, iid, false, expected_version).await?;
                        let now = tx.now();
                        let mut q = this.scoped_row(iid, |q| {
                            audit::open_inline(q);
                            q.push("UPDATE interactions SET deleted_at = ")
                                .bind(now)
                                .push(", deleted_by = ")
                                .bind(this.user_id)
                                .push(", version = version + 1");
                        });
                        q.push(" RETURNING ").push(COLUMNS);
                        this.write_audited(
                            tx,
                            &mut q,
                            "delete",
                            json!({"deleted_at": ts_json(now)}),
                        )
                        .await?;
                        Ok(())
                    })
                },
            )
            .await
    }

    /// Restores a soft-deleted interaction (admin only) deleted less than the retention policy's `deleted_interactions` period ago
    /// ([`RESTORE_WINDOW`] by default); older ones fail with [`Error::Conflict`].
    pub async fn restore_interaction(&self, id: i64) -> Result<Interaction> {
        self.authorize(Role::Admin, "restoring interactions")
            .await?;
        let iid = validate::id("id", id)?;
        let this = self.clone();
        self.store.write(self.write_op("restore_interaction").invalidates(Gen::Rows(self.site_id)), move |tx| Box::pin(async move {
            let current = this.lock_row(tx, iid, true, None).await?;
            let deleted_at = current.deleted_at.expect("locked a deleted row");
            let now = tx.now();
            // Restorable until the purge may delete it (the retention policy's period).
            let window = Duration::from_std(this.store.inner.retention.deleted_interactions)
                .unwrap_or(RESTORE_WINDOW);
            if now - deleted_at > window {
                return Err(Error::Conflict(format!(
                    "interaction {id} was deleted more than {} days ago and can no longer be restored",
                    window.num_days()
                )));
            }
            let mut q = this.scoped_row(iid, |q| {
                audit::open_inline(q);
                q.push("UPDATE interactions SET deleted_at = NULL, deleted_by = NULL, updated_at = ")
                    .bind(now)
                    .push(", updated_by = ")
                    .bind(this.user_id)
                    .push(", version = version + 1");
            });
            q.push(" RETURNING ").push(COLUMNS);
            let changes = json!({"deleted_at": {"old": ts_json(deleted_at), "new": null}});
            let restored = this.write_audited(tx, &mut q, "restore", changes).await?;
            Ok(restored)
        }))
        .await
    }

    /// Reads and locks the row for a read-modify-write, checking `expected_version`.
    async fn lock_row(
        &self,
        tx: &mut Tx,
        iid: i32,
        deleted: bool,
        expected_version: Option<i64>,
    ) -> Result<Interaction> {
        let b = tx.backend();
        let mut q = self.scoped_row(iid, |q| {
            q.push("SELECT ").push(COLUMNS).push(" FROM interactions");
        });
        q.push(if deleted {
            " AND deleted_at IS NOT NULL"
        } else {
            " AND deleted_at IS NULL"
        });
        q.push(b.dialect().for_update());
        let Some(row) = tx.fetch_optional::<Row>(&q).await? else {
            // Archived interactions are read-only: say so rather than "not found".
            return Err(if self.archived_in(tx, iid).await? {
                Error::Archived { id: iid.into() }
            } else {
                Error::not_found("interaction", iid)
            });
        };
        let row = Interaction::from(row);
        if let Some(v) = expected_version {
            if v != row.version {
                return Err(Error::Conflict(format!(
                    "interaction {iid} is at version {}, not {v}; reload and retry",
                    row.version
                )));
            }
        }
        Ok(row)
    }

    /// The UPDATE for `patch` over `current` and the audit diff, or `None` if nothing
    /// changes.
    fn patch_sql(
        &self,
        current: &Interaction,
        patch: InteractionPatch,
    ) -> Result<Option<(Sql, Map<String, Value>)>> {
        let tz_name = patch
            .timezone
            .clone()
            .unwrap_or_else(|| current.timezone.clone());
        let tz = validate::timezone(&tz_name)?;
        let start = match &patch.start {
            Some(w) => validate::instant("start_datetime", w, tz)?,
            None => current.start_datetime,
        };
        let end = match &patch.end {
            Some(w) => validate::instant("end_datetime", w, tz)?,
            None => current.end_datetime,
        };
        validate::range(start, end)?;

        let mut sets: Vec<(&str, Arg)> = Vec::new();
        let mut diff = Map::new();
        let mut text = |col: &'static str, old: &str, new: Option<String>| {
            if let Some(new) = new.filter(|n| n != old) {
                diff.insert(col.into(), json!({"old": old, "new": new}));
                sets.push((col, new.into()));
            }
        };
        text("title", &current.title, patch.title);
        text("type", &current.interaction_type, patch.interaction_type);
        text("lead", &current.lead, patch.lead);
        text("timezone", &current.timezone, patch.timezone);
        let mut opt = |col: &'static str, old: &Option<String>, new: Option<Option<String>>| {
            if let Some(new) = new.filter(|n| n != old) {
                diff.insert(col.into(), json!({"old": old, "new": new}));
                sets.push((col, new.into()));
            }
        };
        opt("location", &current.location, patch.location);
        opt("description", &current.description, patch.description);
        opt("notes", &current.notes, patch.notes);
        for (col, old, new) in [
            ("start_datetime", current.start_datetime, start),
            ("end_datetime", current.end_datetime, end),
        ] {
            if old != new {
                diff.insert(
                    col.into(),
                    json!({"old": ts_json(old), "new": ts_json(new)}),
                );
                sets.push((col, new.into()));
            }
        }
        if sets.is_empty() {
            return Ok(None);
        }
        let now = self.store.now();
        let mut q = self.scoped_row(current.id as i32, |q| {
            audit::open_inline(q);
            q.push("UPDATE interactions SET ");
            for (col, arg) in sets {
                q.push(col).push(" = ").bind(arg).push(", ");
            }
            q.push("updated_at = ")
                .bind(now)
                .push(", updated_by = ")
                .bind(self.user_id)
                .push(", version = version + 1");
        });
        q.push(" RETURNING ").push(COLUMNS);
        Ok(Some((q, diff)))
    }

    fn record(&self, action: &'static str, changes: Value) -> AuditRecord<'static> {
        AuditRecord {
            actor: Some(self.user_id),
            site: Some(self.site_id),
            action,
            entity: "interaction",
            entity_id: None,
            changes,
        }
    }

    /// Runs a write opened with [`audit::open_inline`] that returns the row, together
    /// with its audit row: one statement on PostgreSQL, two in the transaction on SQLite.
    pub(crate) async fn write_audited(
        &self,
        tx: &mut Tx,
        q: &mut Sql,
        action: &'static str,
        changes: Value,
    ) -> Result<Interaction> {
        let mut rec = self.record(action, changes);
        let inline = audit::close_inline(q, tx.now(), &rec, "interaction_id", None);
        let row: Interaction = tx.fetch_one::<Row>(q).await?.into();
        if !inline {
            rec.entity_id = Some(row.id);
            audit::record(tx, rec).await?;
        }
        Ok(row)
    }

    /// Creates up to [`MAX_CREATE_BATCH`] interactions in this site in one transaction
    /// (editor or admin): bulk loads and imports, where one transaction per row would
    /// cost a commit each. Every input is validated before anything is written; the
    /// first invalid one fails the call with an [`Error::Validation`] whose field names
    /// its index (`interactions[3].title`). Each row gets its audit row as with
    /// [`create_interaction`](Self::create_interaction), all with the same `created_at`,
    /// and idempotency keys work the same; all rows commit together or none does.
    /// Returns the interactions in input order. More than [`MAX_CREATE_BATCH`] inputs is
    /// a validation error of `interactions`; none returns an empty list.
    pub async fn create_interactions(&self, news: Vec<NewInteraction>) -> Result<Vec<Interaction>> {
        if news.len() > MAX_CREATE_BATCH {
            return Err(Error::validation(
                "interactions",
                format!("at most {MAX_CREATE_BATCH} per call, got {}", news.len()),
            ));
        }
        self.authorize(Role::Editor, "creating interactions")
            .await?;
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.store.now();
        let rows = news
            .into_iter()
            .enumerate()
            .map(|(i, new)| {
                self.insert_statement(new, now).map_err(|e| match e {
                    Error::Validation { field, message } => Error::Validation {
                        field: format!("interactions[{i}].{field}"),
                        message,
                    },
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let op = self
            .write_op("create_interactions")
            .invalidates(Gen::Rows(self.site_id));
        let this = self.clone();
        self.store
            .write(op, move |tx| {
                Box::pin(async move {
                    let mut created = Vec::with_capacity(rows.len());
                    for (q, rec, key) in rows {
                        created.push(this.create_in(tx, q, rec, key, now).await?);
                    }
                    Ok(created)
                })
            })
            .await
    }
}
