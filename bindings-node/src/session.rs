//! `SiteSession`: one user's view of one site. The Finder's one native entry point is
//! `find`/`count`/`explain` with a [`FindOptions`]; `index.js` adds the chainable
//! `session.finder()` over it.

use interaction_core::Finder;
use napi::bindgen_prelude::{Array, PromiseRaw, Undefined};
use napi::Env;
use napi_derive::napi;

use crate::convert::{instant, int, range_mode, role, sort, uint, when};
use crate::errors::IntoJs;
use crate::types::{
    AuditOptions, AuditPage, FindOptions, Interaction, InteractionPatch, Member, NewInteraction,
    Page,
};

/// A user's view of one site, with that user's role there. Open one per request.
#[napi]
pub struct SiteSession {
    pub(crate) inner: interaction_core::SiteSession,
}

/// The core's input from a `NewInteraction`; conversion errors name fields with `at`
/// before them (`interactions[2].` for an item of `createInteractions`, as the core names
/// its own errors there).
fn new_interaction(
    input: NewInteraction,
    at: &str,
) -> napi::Result<interaction_core::NewInteraction> {
    let mut new = interaction_core::NewInteraction::new(
        input.title,
        input.interaction_type,
        input.lead,
        when(&format!("{at}start_datetime"), input.start)?,
        when(&format!("{at}end_datetime"), input.end)?,
        input.timezone,
    );
    new.location = input.location.flatten();
    new.description = input.description.flatten();
    new.notes = input.notes.flatten();
    new.idempotency_key = input.idempotency_key.flatten();
    Ok(new)
}

fn opt_int(field: &str, v: Option<f64>) -> napi::Result<Option<i64>> {
    v.map(|v| int(field, v)).transpose()
}

impl SiteSession {
    fn finder(&self, o: FindOptions) -> napi::Result<Finder> {
        let mut f = self.inner.finder();
        if let Some(t) = o.text.flatten() {
            f = f.text(t);
        }
        if let Some(t) = o.title_contains.flatten() {
            f = f.title_contains(t);
        }
        if let Some(t) = o.types.flatten() {
            f = f.types(t);
        }
        if let Some(t) = o.lead_contains.flatten() {
            f = f.lead_contains(t);
        }
        if let Some(r) = o.date_range.flatten() {
            let from = instant("date_range", r.from)?;
            let to = instant("date_range", r.to)?;
            let mode = r
                .mode
                .flatten()
                .as_deref()
                .map(range_mode)
                .transpose()?
                .unwrap_or_default();
            f = f.date_range(from, to, mode);
        }
        if let Some(u) = o.created_by.flatten() {
            f = f.created_by(int("created_by", u)?);
        }
        if let Some(d) = o.include_deleted.flatten() {
            f = f.include_deleted(d);
        }
        if let Some(a) = o.include_archived.flatten() {
            f = f.include_archived(a);
        }
        if let Some(a) = o.archived_only.flatten() {
            f = f.archived_only(a);
        }
        if let Some(m) = o.masked.flatten() {
            f = f.masked(m);
        }
        if let Some(s) = o.sort.flatten() {
            f = f.sort(sort(&s)?);
        }
        if let Some(l) = o.limit.flatten() {
            f = f.limit(uint("limit", l)?);
        }
        if let Some(a) = o.after.flatten() {
            f = f.after(a);
        }
        Ok(f)
    }
}

#[napi]
impl SiteSession {
    /// The session's user.
    #[napi(getter)]
    pub fn user_id(&self) -> i64 {
        self.inner.user_id()
    }

    /// The session's site.
    #[napi(getter)]
    pub fn site_id(&self) -> i64 {
        self.inner.site_id()
    }

    /// The user's role at the site when the session was opened. Every call re-checks the
    /// session: a logout, a role change, a removal or a deactivation is seen by the next
    /// call.
    #[napi(getter, ts_return_type = "Role")]
    pub fn role(&self) -> &'static str {
        self.inner.role().as_str()
    }

    /// The commit position (PostgreSQL LSN, e.g. `0/16B3748`) of the newest write this
    /// session made or was given; `null` before any, and always on a store without
    /// replicas. Hand it to the next request and pass it to `store.session(token, siteId,
    /// consistencyToken)` there to read your writes.
    #[napi(getter)]
    pub fn consistency_token(&self) -> Option<String> {
        self.inner.consistency_token()
    }

    /// Creates an interaction (editor or admin). `createdBy`, `createdAt` and
    /// `version = 1` are set by the library. A create that rejected with `TIMEOUT` or
    /// `UNAVAILABLE` may have committed: give `idempotencyKey` to make the retry safe.
    #[napi]
    pub async fn create_interaction(&self, input: NewInteraction) -> napi::Result<Interaction> {
        let new = new_interaction(input, "")?;
        Ok(self.inner.create_interaction(new).await.js()?.into())
    }

    /// Creates up to 1000 interactions in one transaction (editor or admin). Every item is
    /// validated before anything is written; the first invalid one rejects with
    /// `VALIDATION` and a field naming its index (`interactions[2].title`). All commit
    /// together or none does; resolves to the interactions in input order. Each item may
    /// carry its own `idempotencyKey`.
    // Not an `async fn`: the items are converted one by one here (so that an error names
    // its index), then only owned values go into the future.
    #[napi(ts_return_type = "Promise<Array<Interaction>>")]
    pub fn create_interactions<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "Array<NewInteraction>")] interactions: Array<'_>,
    ) -> napi::Result<PromiseRaw<'env, Vec<Interaction>>> {
        let mut news = Vec::with_capacity(interactions.len() as usize);
        for i in 0..interactions.len() {
            let at = format!("interactions[{i}]");
            // napi's own conversion error (a wrong type, a missing key) keeps its status;
            // the index goes in front for `index.js`, which names the field from it.
            let input = interactions
                .get::<NewInteraction>(i)
                .map_err(|e| napi::Error::new(e.status, format!("{at}: {}", e.reason)))?
                .ok_or_else(|| crate::errors::invalid(&at, "is missing"))?;
            news.push(new_interaction(input, &format!("{at}."))?);
        }
        let session = self.inner.clone();
        env.spawn_future(async move {
            let created = session.create_interactions(news).await.js()?;
            Ok(created.into_iter().map(Into::into).collect())
        })
    }

    /// A live interaction of this site; `NOT_FOUND` for a missing, deleted or other
    /// site's one.
    #[napi]
    pub async fn get_interaction(&self, id: f64) -> napi::Result<Interaction> {
        let id = int("id", id)?;
        Ok(self.inner.get_interaction(id).await.js()?.into())
    }

    /// Applies a partial update (editor or admin). With `expectedVersion`, a record whose
    /// version differs rejects with `CONFLICT` and nothing changes.
    #[napi]
    pub async fn update_interaction(
        &self,
        id: f64,
        patch: InteractionPatch,
        expected_version: Option<f64>,
    ) -> napi::Result<Interaction> {
        let id = int("id", id)?;
        let expected = opt_int("expected_version", expected_version)?;
        let patch = interaction_core::InteractionPatch {
            title: patch.title,
            interaction_type: patch.interaction_type,
            lead: patch.lead,
            start: patch.start.map(|w| when("start_datetime", w)).transpose()?,
            end: patch.end.map(|w| when("end_datetime", w)).transpose()?,
            timezone: patch.timezone,
            location: patch.location,
            description: patch.description,
            notes: patch.notes,
        };
        let updated = self
            .inner
            .update_interaction(id, patch, expected)
            .await
            .js()?;
        Ok(updated.into())
    }

    /// Soft-deletes an interaction (editor or admin); an admin can restore it for 30 days.
    #[napi]
    pub async fn delete_interaction(
        &self,
        id: f64,
        expected_version: Option<f64>,
    ) -> napi::Result<Undefined> {
        let id = int("id", id)?;
        let expected = opt_int("expected_version", expected_version)?;
        self.inner.delete_interaction(id, expected).await.js()
    }

    /// Restores a soft-deleted interaction (admin only).
    #[napi]
    pub async fn restore_interaction(&self, id: f64) -> napi::Result<Interaction> {
        let id = int("id", id)?;
        Ok(self.inner.restore_interaction(id).await.js()?.into())
    }

    /// Brings an archived interaction back to the live table (admin only): it becomes
    /// editable again, its version goes up by one and its last change is now (so the next
    /// archival run leaves it alone).
    #[napi]
    pub async fn unarchive_interaction(&self, id: f64) -> napi::Result<Interaction> {
        let id = int("id", id)?;
        Ok(self.inner.unarchive_interaction(id).await.js()?.into())
    }

    /// Gives a user a role at this site (admin only).
    #[napi]
    pub async fn set_member_role(
        &self,
        user_id: f64,
        #[napi(ts_arg_type = "Role")] role_name: String,
    ) -> napi::Result<Undefined> {
        let user = int("user_id", user_id)?;
        let r = role(&role_name)?;
        self.inner.set_member_role(user, r).await.js()
    }

    /// Removes a user from this site (admin only).
    #[napi]
    pub async fn remove_member(&self, user_id: f64) -> napi::Result<Undefined> {
        let user = int("user_id", user_id)?;
        self.inner.remove_member(user).await.js()
    }

    /// Re-checks the session now, as every call does, and resolves to the current role.
    #[napi(ts_return_type = "Promise<Role>")]
    pub async fn verify(&self) -> napi::Result<String> {
        Ok(self.inner.verify().await.js()?.as_str().to_string())
    }

    /// The site's members (admin only).
    #[napi]
    pub async fn members(&self) -> napi::Result<Vec<Member>> {
        let members = self.inner.members().await.js()?;
        Ok(members.into_iter().map(Into::into).collect())
    }

    /// A page of the site's audit trail, newest first (admin only).
    #[napi]
    pub async fn audit_trail(&self, options: Option<AuditOptions>) -> napi::Result<AuditPage> {
        let o = options.unwrap_or_default();
        let limit = uint("limit", o.limit.flatten().unwrap_or(50.0))?;
        let page = self
            .inner
            .audit_trail(limit, o.after.flatten().as_deref())
            .await
            .js()?;
        Ok(AuditPage {
            entries: page.entries.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// One page of a Finder query. Prefer the chainable `session.finder()`.
    #[napi]
    pub async fn find(&self, options: Option<FindOptions>) -> napi::Result<Page> {
        let f = self.finder(options.unwrap_or_default())?;
        let page = f.fetch().await.js()?;
        Ok(Page {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Counts every match of a Finder query's filters (ignores sort, limit and cursor).
    #[napi]
    pub async fn count(&self, options: Option<FindOptions>) -> napi::Result<i64> {
        let f = self.finder(options.unwrap_or_default())?;
        let n = f.count().await.js()?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// The database's plan for a Finder query's page, one line per plan node.
    #[napi]
    pub async fn explain(&self, options: Option<FindOptions>) -> napi::Result<String> {
        let f = self.finder(options.unwrap_or_default())?;
        f.explain().await.js()
    }
}
