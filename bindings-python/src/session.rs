//! `SiteSession` / `AsyncSiteSession`: a user's view of one site.

use interaction_core as core;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert;
use crate::errors::unavailable;
use crate::finder::{AsyncFinder, Finder};
use crate::runtime::InProcess;
use crate::values::{AuditPage, Interaction, Member};

fn open_handle(session: &InProcess<core::SiteSession>) -> PyResult<core::SiteSession> {
    let session = session.get()?;
    if session.store().is_closed() {
        return Err(unavailable("the store is closed"));
    }
    Ok(session.clone())
}

/// Converts `update_interaction(**fields)`: a key present sets the field (`None` clears
/// the nullable `location`, `description` and `notes`); a key absent leaves it.
fn patch(fields: Option<&Bound<'_, PyDict>>) -> PyResult<core::InteractionPatch> {
    let mut p = core::InteractionPatch::default();
    let Some(fields) = fields else {
        return Ok(p);
    };
    for (k, v) in fields.iter() {
        let key: String = k.extract()?;
        match key.as_str() {
            "title" => p.title = Some(convert::string(&key, &v)?),
            "interaction_type" => p.interaction_type = Some(convert::string(&key, &v)?),
            "lead" => p.lead = Some(convert::string(&key, &v)?),
            "timezone" => p.timezone = Some(convert::string(&key, &v)?),
            "start" => p.start = Some(convert::when("start_datetime", &v)?),
            "end" => p.end = Some(convert::when("end_datetime", &v)?),
            "location" => p.location = Some(convert::opt_string(&key, &v)?),
            "description" => p.description = Some(convert::opt_string(&key, &v)?),
            "notes" => p.notes = Some(convert::opt_string(&key, &v)?),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "update_interaction() got an unexpected keyword argument '{other}'"
                )))
            }
        }
    }
    Ok(p)
}

/// The keys of one `create_interactions()` item: `create_interaction()`'s keyword
/// arguments.
const NEW_KEYS: &[&str] = &[
    "title",
    "interaction_type",
    "lead",
    "start",
    "end",
    "timezone",
    "location",
    "description",
    "notes",
    "idempotency_key",
];

/// Converts item `i` of `create_interactions()`: a dict with `create_interaction()`'s
/// keyword arguments. Errors name the item as the core does (`interactions[2].title`).
fn new_interaction(i: usize, item: &Bound<'_, PyAny>) -> PyResult<core::NewInteraction> {
    let at = format!("interactions[{i}]");
    let Ok(d) = item.cast::<PyDict>() else {
        return Err(convert::type_error(&at, "a dict", item));
    };
    for k in d.keys() {
        let key = convert::string(&format!("{at} key"), &k)?;
        if !NEW_KEYS.contains(&key.as_str()) {
            return Err(PyTypeError::new_err(format!(
                "create_interactions() got an unexpected key '{key}' in {at}"
            )));
        }
    }
    let field = |name: &str| format!("{at}.{name}");
    let required = |name: &str| -> PyResult<Bound<'_, PyAny>> {
        d.get_item(name)?.ok_or_else(|| {
            PyTypeError::new_err(format!(
                "create_interactions() missing required key '{name}' in {at}"
            ))
        })
    };
    let optional = |name: &str| -> PyResult<Option<String>> {
        match d.get_item(name)? {
            Some(v) => convert::opt_string(&field(name), &v),
            None => Ok(None),
        }
    };
    let mut new = core::NewInteraction::new(
        convert::string(&field("title"), &required("title")?)?,
        convert::string(&field("interaction_type"), &required("interaction_type")?)?,
        convert::string(&field("lead"), &required("lead")?)?,
        convert::when(&field("start_datetime"), &required("start")?)?,
        convert::when(&field("end_datetime"), &required("end")?)?,
        convert::string(&field("timezone"), &required("timezone")?)?,
    );
    new.location = optional("location")?;
    new.description = optional("description")?;
    new.notes = optional("notes")?;
    new.idempotency_key = optional("idempotency_key")?;
    Ok(new)
}

fn session_repr(class: &str, s: &core::SiteSession) -> String {
    format!(
        "{class}(user_id={}, site_id={}, role='{}')",
        s.user_id(),
        s.site_id(),
        s.role()
    )
}

/// A user's view of one site with that user's role there (blocking API). Open one per
/// request with `InteractionStore.session()` or `session_for_user()`.
#[pyclass(frozen, module = "interaction_store")]
pub struct SiteSession {
    inner: InProcess<core::SiteSession>,
}

/// A user's view of one site (asyncio API).
#[pyclass(frozen, module = "interaction_store")]
pub struct AsyncSiteSession {
    inner: InProcess<core::SiteSession>,
}

impl SiteSession {
    pub(crate) fn new(inner: core::SiteSession) -> Self {
        SiteSession {
            inner: InProcess::new(inner),
        }
    }

    fn handle(&self) -> PyResult<core::SiteSession> {
        open_handle(&self.inner)
    }
}

impl AsyncSiteSession {
    pub(crate) fn new(inner: core::SiteSession) -> Self {
        AsyncSiteSession {
            inner: InProcess::new(inner),
        }
    }

    fn handle(&self) -> PyResult<core::SiteSession> {
        open_handle(&self.inner)
    }
}

dual! {
    SiteSession / AsyncSiteSession, |py, session|;
    sync {
        /// Starts a Finder over this site's interactions (no I/O until `fetch()`).
        fn finder(&self) -> Finder {
            Finder::new(self.inner.map(|s| (s.finder(), s.store().clone())))
        }

        /// The session's user.
        #[getter]
        fn user_id(&self) -> i64 {
            self.inner.peek().user_id()
        }

        /// The session's site.
        #[getter]
        fn site_id(&self) -> i64 {
            self.inner.peek().site_id()
        }

        /// The user's role at the site when the session opened: `"viewer"`, `"editor"`
        /// or `"admin"` (every call re-checks it).
        #[getter]
        fn role(&self) -> &'static str {
            self.inner.peek().role().as_str()
        }

        /// The commit position of the newest write this session made or was given
        /// (`"0/16B3748"`), `None` before any (and always without replicas).
        #[getter]
        fn consistency_token(&self) -> Option<String> {
            self.inner.peek().consistency_token()
        }

        fn __repr__(&self) -> String {
            session_repr("SiteSession", self.inner.peek())
        }
    }
    async {
        /// Starts a Finder over this site's interactions (no I/O until `fetch()`).
        fn finder(&self) -> AsyncFinder {
            AsyncFinder::new(self.inner.map(|s| (s.finder(), s.store().clone())))
        }

        /// The session's user.
        #[getter]
        fn user_id(&self) -> i64 {
            self.inner.peek().user_id()
        }

        /// The session's site.
        #[getter]
        fn site_id(&self) -> i64 {
            self.inner.peek().site_id()
        }

        /// The user's role at the site when the session opened: `"viewer"`, `"editor"`
        /// or `"admin"` (every call re-checks it).
        #[getter]
        fn role(&self) -> &'static str {
            self.inner.peek().role().as_str()
        }

        /// The commit position of the newest write this session made or was given
        /// (`"0/16B3748"`), `None` before any (and always without replicas).
        #[getter]
        fn consistency_token(&self) -> Option<String> {
            self.inner.peek().consistency_token()
        }

        fn __repr__(&self) -> String {
            session_repr("AsyncSiteSession", self.inner.peek())
        }
    }

    /// Creates an interaction (editor or admin). `start`/`end` are aware datetimes
    /// (instants) or `LocalTime`s (wall-clock times in `timezone`). A create that timed
    /// out or was cancelled may still have committed: with an `idempotency_key`, retrying
    /// is safe (the same key in this site within 24 h returns the first interaction; the
    /// same key with other content is a `ConflictError`).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (*, title, interaction_type, lead, start, end, timezone, location=None, description=None, notes=None, idempotency_key=None))]
    fn create_interaction(
        title: String,
        interaction_type: String,
        lead: String,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
        timezone: String,
        location: Option<String>,
        description: Option<String>,
        notes: Option<String>,
        idempotency_key: Option<String>,
    ) -> Interaction {
        let mut new = core::NewInteraction::new(
            title,
            interaction_type,
            lead,
            convert::when("start_datetime", start)?,
            convert::when("end_datetime", end)?,
            timezone,
        );
        new.location = location;
        new.description = description;
        new.notes = notes;
        new.idempotency_key = idempotency_key;
    } => async move { session.create_interaction(new).await.map(Interaction::from) };

    /// Creates up to 1000 interactions in one transaction (editor or admin): each item a
    /// dict of `create_interaction()`'s keyword arguments. Every item is validated before
    /// anything is written; the first invalid one fails the call and names its index
    /// (`ValidationError` with field `interactions[2].title`). All commit together or
    /// none does; returns the interactions in input order.
    fn create_interactions(interactions: &Bound<'_, PyAny>) -> Vec<Interaction> {
        if !(interactions.is_instance_of::<pyo3::types::PyList>()
            || interactions.is_instance_of::<pyo3::types::PyTuple>())
        {
            return Err(convert::type_error("interactions", "a list of dicts", interactions));
        }
        let news = interactions
            .try_iter()?
            .enumerate()
            .map(|(i, item)| new_interaction(i, &item?))
            .collect::<PyResult<Vec<_>>>()?;
    } => async move {
        Ok(session
            .create_interactions(news)
            .await?
            .into_iter()
            .map(Interaction::from)
            .collect())
    };

    /// Reads one interaction of this site.
    fn get_interaction(id: &Bound<'_, PyAny>) -> Interaction {
        let id = convert::int("id", id)?;
    } => async move { session.get_interaction(id).await.map(Interaction::from) };

    /// Partial update (editor or admin): pass only the fields to change. `location=None`
    /// (or `description`, `notes`) clears the field; omitting it leaves it. With
    /// `expected_version`, a concurrent change makes this a `ConflictError`.
    #[pyo3(signature = (id, *, expected_version=None, **fields))]
    fn update_interaction(
        id: &Bound<'_, PyAny>,
        expected_version: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> Interaction {
        let id = convert::int("id", id)?;
        let expected = convert::opt_int("expected_version", expected_version)?;
        let patch = patch(fields)?;
    } => async move {
        session
            .update_interaction(id, patch, expected)
            .await
            .map(Interaction::from)
    };

    /// Soft-deletes an interaction (editor or admin).
    #[pyo3(signature = (id, *, expected_version=None))]
    fn delete_interaction(id: &Bound<'_, PyAny>, expected_version: Option<&Bound<'_, PyAny>>) -> () {
        let id = convert::int("id", id)?;
        let expected = convert::opt_int("expected_version", expected_version)?;
    } => async move { session.delete_interaction(id, expected).await };

    /// Restores a soft-deleted interaction (admin, within the restore window).
    fn restore_interaction(id: &Bound<'_, PyAny>) -> Interaction {
        let id = convert::int("id", id)?;
    } => async move { session.restore_interaction(id).await.map(Interaction::from) };

    /// Brings an archived interaction back to the live table (admin): it becomes
    /// editable again, its version goes up by one and its last change is now (so the next
    /// archival run leaves it alone).
    fn unarchive_interaction(id: &Bound<'_, PyAny>) -> Interaction {
        let id = convert::int("id", id)?;
    } => async move { session.unarchive_interaction(id).await.map(Interaction::from) };

    /// Gives a user a role at this site (admin).
    fn set_member_role(user_id: &Bound<'_, PyAny>, role: &Bound<'_, PyAny>) -> () {
        let user = convert::int("user_id", user_id)?;
        let role = convert::role(role)?;
    } => async move { session.set_member_role(user, role).await };

    /// Removes a user from this site (admin).
    fn remove_member(user_id: &Bound<'_, PyAny>) -> () {
        let user = convert::int("user_id", user_id)?;
    } => async move { session.remove_member(user).await };

    /// Re-checks the session now, as every call does, and returns the current role.
    fn verify() -> String {} => async move {
        Ok(session.verify().await?.as_str().to_string())
    };

    /// The site's members (admin).
    fn members() -> Vec<Member> {} => async move {
        Ok(session.members().await?.into_iter().map(Member::from).collect())
    };

    /// The site's audit trail, newest first (admin). `limit` 1-500; pass the previous
    /// page's `next_cursor` as `after` to continue.
    #[pyo3(signature = (limit=None, after=None), text_signature = "($self, limit=50, after=None)")]
    fn audit_trail(limit: Option<&Bound<'_, PyAny>>, after: Option<String>) -> AuditPage {
        let limit = convert::limit_or("limit", limit, 50)?;
    } => async move {
        session
            .audit_trail(limit, after.as_deref())
            .await
            .map(AuditPage::from)
    };
}
