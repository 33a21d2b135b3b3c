//! Immutable value classes: attributes, `__repr__` (no I/O), equality and `to_dict()`.
//! Instants are timezone-aware `datetime`s in UTC.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use interaction_core as core;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict, PyList, PyTuple, PyType, PyTzInfoAccess};

/// Defines a frozen value class with `get_all` attributes, `to_dict()` and a `__repr__`
/// showing the listed fields.
macro_rules! value_class {
    (
        $(#[$m:meta])*
        $name:ident repr($($rf:ident),*) {
            $( $(#[$fm:meta])* $field:ident : $ty:ty ),* $(,)?
        }
        $( methods { $($extra:tt)* } )?
    ) => {
        $(#[$m])*
        #[pyclass(frozen, eq, hash, get_all, from_py_object, module = "interaction_store")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name {
            $( $(#[$fm])* pub $field: $ty ),*
        }

        #[pymethods]
        impl $name {
            /// Every attribute in a new dict.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
                let d = PyDict::new(py);
                $( d.set_item(stringify!($field), self.$field.clone().into_pyobject(py)?)?; )*
                Ok(d)
            }

            /// `to_dict()` as a JSON string; instants in ISO 8601 (`isoformat()`).
            fn to_json(&self, py: Python<'_>) -> PyResult<String> {
                to_json(py, self.to_dict(py)?.as_any())
            }

            /// Pickles as its attributes.
            fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyTuple>,))> {
                let fields = PyTuple::new(py, [$( pyo3::IntoPyObjectExt::into_py_any(self.$field.clone(), py)? ),*])?;
                Ok((py.get_type::<Self>().getattr("_restore")?, (fields,)))
            }

            /// Rebuilds a value from `__reduce__`'s attributes (for pickle).
            #[classmethod]
            fn _restore(_cls: &Bound<'_, PyType>, fields: &Bound<'_, PyTuple>) -> PyResult<Self> {
                let mut it = fields.iter();
                let mut next = || it.next().ok_or_else(|| {
                    pyo3::exceptions::PyTypeError::new_err(concat!("too few fields for ", stringify!($name)))
                });
                Ok(Self { $( $field: next()?.extract()? ),* })
            }

            /// Immutable: the copy is the value itself.
            fn __copy__(slf: Py<Self>) -> Py<Self> {
                slf
            }

            /// Immutable: the copy is the value itself.
            fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
                slf
            }

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                let parts: Vec<String> = vec![$(
                    format!(
                        "{}={}",
                        stringify!($rf),
                        self.$rf.clone().into_pyobject(py)?.repr()?
                    )
                ),*];
                Ok(format!("{}({})", stringify!($name), parts.join(", ")))
            }

            $($($extra)*)?
        }
    };
}

value_class! {
    /// A user account (the password hash never leaves the library).
    User repr(id, username, email, is_active) {
        /// Primary key.
        id: i64,
        /// Unique login name.
        username: String,
        /// Unique email address.
        email: String,
        /// Inactive users cannot log in or open sessions.
        is_active: bool,
        /// The last successful login.
        last_login: Option<DateTime<Utc>>,
    }
    methods {
        /// This user as the `users_masked` view shows it (the core's rule): username and
        /// email masked (`a***`, `a***@example.com`), everything else kept.
        fn masked(&self) -> User {
            User::from(core::User::from(self).masked())
        }
    }
}

impl From<&User> for core::User {
    fn from(u: &User) -> Self {
        core::User {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            is_active: u.is_active,
            last_login: u.last_login,
        }
    }
}

impl From<core::User> for User {
    fn from(u: core::User) -> Self {
        User {
            id: u.id,
            username: u.username,
            email: u.email,
            is_active: u.is_active,
            last_login: u.last_login,
        }
    }
}

value_class! {
    /// A site: one tenant's set of interactions.
    Site repr(id, name, is_active) {
        /// Primary key.
        id: i64,
        /// Unique name.
        name: String,
        /// Free text.
        description: Option<String>,
        /// Inactive sites cannot be opened in a session.
        is_active: bool,
    }
}

impl From<core::Site> for Site {
    fn from(s: core::Site) -> Self {
        Site {
            id: s.id,
            name: s.name,
            description: s.description,
            is_active: s.is_active,
        }
    }
}

value_class! {
    /// A user's membership of a site.
    Member repr(user_id, username, role) {
        /// The member.
        user_id: i64,
        /// The member's username.
        username: String,
        /// `"viewer"`, `"editor"` or `"admin"`.
        role: String,
        /// When the role was assigned.
        assigned_at: DateTime<Utc>,
    }
}

impl From<core::Member> for Member {
    fn from(m: core::Member) -> Self {
        Member {
            user_id: m.user_id,
            username: m.username,
            role: m.role.as_str().to_string(),
            assigned_at: m.assigned_at,
        }
    }
}

value_class! {
    /// A stored interaction.
    Interaction repr(id, site_id, title, interaction_type, start_datetime, version) {
        /// Primary key.
        id: i64,
        /// The site it belongs to.
        site_id: i64,
        /// Title.
        title: String,
        /// Type, e.g. `meeting`.
        interaction_type: String,
        /// Person leading it.
        lead: String,
        /// Start instant (UTC).
        start_datetime: DateTime<Utc>,
        /// End instant (UTC).
        end_datetime: DateTime<Utc>,
        /// IANA zone it was entered in.
        timezone: String,
        /// Location.
        location: Option<String>,
        /// Description.
        description: Option<String>,
        /// Notes.
        notes: Option<String>,
        /// Creator.
        created_by: i64,
        /// Creation instant.
        created_at: DateTime<Utc>,
        /// Last updater.
        updated_by: Option<i64>,
        /// Last update instant.
        updated_at: Option<DateTime<Utc>>,
        /// Set when soft-deleted.
        deleted_at: Option<DateTime<Utc>>,
        /// Who soft-deleted it.
        deleted_by: Option<i64>,
        /// Optimistic-concurrency version.
        version: i64,
        /// When it was archived; `None` for a live interaction. Archived interactions are
        /// read-only (a change raises `ArchivedError`) and found only with
        /// `Finder.include_archived()` / `archived_only()`.
        archived_at: Option<DateTime<Utc>>,
    }
    methods {
        /// This interaction as the `interactions_masked` view shows it (the core's rule):
        /// description and notes hidden (`None`), lead reduced to initials
        /// (`"Ana María López"` → `"A. M."`), everything else kept.
        fn masked(&self) -> Interaction {
            Interaction::from(core::Interaction::from(self).masked())
        }
    }
}

impl From<&Interaction> for core::Interaction {
    fn from(i: &Interaction) -> Self {
        core::Interaction {
            id: i.id,
            site_id: i.site_id,
            title: i.title.clone(),
            interaction_type: i.interaction_type.clone(),
            lead: i.lead.clone(),
            start_datetime: i.start_datetime,
            end_datetime: i.end_datetime,
            timezone: i.timezone.clone(),
            location: i.location.clone(),
            description: i.description.clone(),
            notes: i.notes.clone(),
            created_by: i.created_by,
            created_at: i.created_at,
            updated_by: i.updated_by,
            updated_at: i.updated_at,
            deleted_at: i.deleted_at,
            deleted_by: i.deleted_by,
            version: i.version,
            archived_at: i.archived_at,
        }
    }
}

impl From<core::Interaction> for Interaction {
    fn from(i: core::Interaction) -> Self {
        Interaction {
            id: i.id,
            site_id: i.site_id,
            title: i.title,
            interaction_type: i.interaction_type,
            lead: i.lead,
            start_datetime: i.start_datetime,
            end_datetime: i.end_datetime,
            timezone: i.timezone,
            location: i.location,
            description: i.description,
            notes: i.notes,
            created_by: i.created_by,
            created_at: i.created_at,
            updated_by: i.updated_by,
            updated_at: i.updated_at,
            deleted_at: i.deleted_at,
            deleted_by: i.deleted_by,
            version: i.version,
            archived_at: i.archived_at,
        }
    }
}

value_class! {
    /// A row of the audit trail.
    AuditEntry repr(id, action, entity, entity_id, actor_id) {
        /// Sequence number; later entries have larger ids.
        id: i64,
        /// When the change committed.
        occurred_at: DateTime<Utc>,
        /// Who did it; `None` for the host application or the migrator.
        actor_id: Option<i64>,
        /// The site concerned.
        site_id: Option<i64>,
        /// `create`, `update`, `delete`, `restore`, ...
        action: String,
        /// `interaction`, `user`, `site`, `membership`, `schema`.
        entity: String,
        /// Id of the entity concerned.
        entity_id: Option<i64>,
        /// Changed fields, as JSON values (dicts, lists, str, int, float, bool, None).
        changes: Json,
    }
}

impl From<core::AuditEntry> for AuditEntry {
    fn from(e: core::AuditEntry) -> Self {
        AuditEntry {
            id: e.id,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id,
            site_id: e.site_id,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            changes: Json(e.changes),
        }
    }
}

value_class! {
    /// An entry of the access log.
    AccessLogEntry repr(occurred_at, username, action, success, resource) {
        /// When the attempt happened.
        occurred_at: DateTime<Utc>,
        /// The username given.
        username: String,
        /// The user, when known.
        user_id: Option<i64>,
        /// `login`, `logout`, or for reads (with `access_logging=True`) `read`, `search`
        /// or `count`.
        action: String,
        /// Whether it succeeded.
        success: bool,
        /// The outcome: `ok`, or why not (`wrong password`, `not_found`, `denied`, ...).
        detail: Option<String>,
        /// The site of a read.
        site_id: Option<i64>,
        /// What was read: `interaction:<id>` or `finder`.
        resource: Option<String>,
    }
}

impl From<core::AccessLogEntry> for AccessLogEntry {
    fn from(e: core::AccessLogEntry) -> Self {
        AccessLogEntry {
            occurred_at: e.occurred_at,
            username: e.username,
            user_id: e.user_id,
            action: e.action,
            success: e.success,
            detail: e.detail,
            site_id: e.site_id,
            resource: e.resource,
        }
    }
}

value_class! {
    /// The result of a successful login. The token is a credential: `repr()` hides it.
    LoginToken repr(user_id, expires_at) {
        /// The opaque bearer token, for `session()` and `logout()`.
        token: String,
        /// The user who logged in.
        user_id: i64,
        /// When the token stops being accepted.
        expires_at: DateTime<Utc>,
    }
}

impl From<core::LoginToken> for LoginToken {
    fn from(t: core::LoginToken) -> Self {
        LoginToken {
            token: t.token,
            user_id: t.user_id,
            expires_at: t.expires_at,
        }
    }
}

value_class! {
    /// Hits and misses of one cache since the store opened.
    CacheCounts repr(hits, misses) {
        /// Lookups answered by the cache.
        hits: u64,
        /// Lookups that went to the database (absent, expired or invalidated entry).
        misses: u64,
    }
}

impl From<core::CacheCounts> for CacheCounts {
    fn from(c: core::CacheCounts) -> Self {
        CacheCounts {
            hits: c.hits,
            misses: c.misses,
        }
    }
}

value_class! {
    /// A configured replica as the health probe last saw it
    /// (`InteractionStore.replica_status()`).
    ReplicaStatus repr(place, reporting, healthy, replayed) {
        /// `host:port`.
        place: String,
        /// The reporting replica (`reporting_replica=`).
        reporting: bool,
        /// In the rotation: answering, a standby, and within `replica_max_lag`.
        healthy: bool,
        /// The WAL position it had replayed at the last probe (`0/0` before any).
        replayed: String,
    }
}

impl From<core::ReplicaStatus> for ReplicaStatus {
    fn from(r: core::ReplicaStatus) -> Self {
        ReplicaStatus {
            place: r.place,
            reporting: r.reporting,
            healthy: r.healthy,
            replayed: r.replayed,
        }
    }
}

value_class! {
    /// What an archival run did (or, in a dry run, would do): `InteractionStore.archive()`.
    ArchiveReport repr(dry_run, cutoff, moved, batches, skipped) {
        /// Nothing was moved: the counts say what a real run would move now.
        dry_run: bool,
        /// Interactions whose last change (update, else creation) is older than this moved.
        cutoff: DateTime<Utc>,
        /// Interactions moved (would move, in a dry run).
        moved: u64,
        /// Moved per site id: `{site_id: count}`.
        sites: BTreeMap<i64, u64>,
        /// Transactions committed (would commit).
        batches: u64,
        /// Candidates left live: an edit held them or made them active again during the run.
        skipped: u64,
        /// SHA-256 over the content of every moved interaction, in the order moved (hex;
        /// empty when nothing moved or in a dry run). Each batch compared it with the
        /// archived copies before it committed.
        checksum: String,
    }
}

impl From<core::ArchiveReport> for ArchiveReport {
    fn from(r: core::ArchiveReport) -> Self {
        ArchiveReport {
            dry_run: r.dry_run,
            cutoff: r.cutoff,
            moved: r.moved,
            sites: r.sites,
            batches: r.batches,
            skipped: r.skipped,
            checksum: r.checksum,
        }
    }
}

value_class! {
    /// What one retention rule did (or would do) in a `PurgeReport`.
    PurgeOutcome repr(policy, table, action, rows) {
        /// The rule: a `RetentionPolicy` attribute name, `expired_tokens` or
        /// `expired_idempotency_keys`.
        policy: String,
        /// The table it applies to.
        table: String,
        /// `"delete"`, or `"anonymise"` (personal fields removed, the row kept).
        action: String,
        /// Rows older than this were affected.
        cutoff: DateTime<Utc>,
        /// Rows affected (would be, in a dry run).
        rows: u64,
    }
}

impl From<core::PurgeOutcome> for PurgeOutcome {
    fn from(o: core::PurgeOutcome) -> Self {
        PurgeOutcome {
            policy: o.policy,
            table: o.table,
            action: o.action,
            cutoff: o.cutoff,
            rows: o.rows,
        }
    }
}

/// What a purge did (or would do): `InteractionStore.purge()`.
#[pyclass(
    frozen,
    eq,
    hash,
    get_all,
    from_py_object,
    module = "interaction_store"
)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PurgeReport {
    /// Nothing was changed: the counts say what a real purge would do now.
    pub dry_run: bool,
    /// The store clock's time the cut-offs were computed from.
    pub now: DateTime<Utc>,
    /// One entry per rule, in the order applied.
    pub outcomes: Vec<PurgeOutcome>,
    /// Rows affected by every rule together.
    pub total: u64,
}

impl From<core::PurgeReport> for PurgeReport {
    fn from(r: core::PurgeReport) -> Self {
        let total = r.total();
        PurgeReport {
            dry_run: r.dry_run,
            now: r.now,
            outcomes: r.outcomes.into_iter().map(PurgeOutcome::from).collect(),
            total,
        }
    }
}

#[pymethods]
impl PurgeReport {
    /// `to_dict()` as a JSON string; instants in ISO 8601 (`isoformat()`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, self.to_dict(py)?.as_any())
    }

    /// Pickles as its attributes.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyTuple>,))> {
        let fields = PyTuple::new(
            py,
            [
                pyo3::IntoPyObjectExt::into_py_any(self.dry_run, py)?,
                pyo3::IntoPyObjectExt::into_py_any(self.now, py)?,
                pyo3::IntoPyObjectExt::into_py_any(self.outcomes.clone(), py)?,
                pyo3::IntoPyObjectExt::into_py_any(self.total, py)?,
            ],
        )?;
        Ok((py.get_type::<Self>().getattr("_restore")?, (fields,)))
    }

    /// Rebuilds a value from `__reduce__`'s attributes (for pickle).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, fields: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let mut it = fields.iter();
        let mut next = || {
            it.next().ok_or_else(|| {
                pyo3::exceptions::PyTypeError::new_err("too few fields for PurgeReport")
            })
        };
        Ok(Self {
            dry_run: next()?.extract()?,
            now: next()?.extract()?,
            outcomes: next()?.extract()?,
            total: next()?.extract()?,
        })
    }

    /// Immutable: the copy is the value itself.
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Immutable: the copy is the value itself.
    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    /// Every attribute in a new dict; the outcomes as dicts.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let outcomes = PyList::empty(py);
        for o in &self.outcomes {
            outcomes.append(o.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("dry_run", self.dry_run)?;
        d.set_item("now", self.now)?;
        d.set_item("outcomes", outcomes)?;
        d.set_item("total", self.total)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "PurgeReport(dry_run={}, now={}, outcomes=<{} rules>, total={})",
            if self.dry_run { "True" } else { "False" },
            self.now.into_pyobject(py)?.repr()?,
            self.outcomes.len(),
            self.total
        ))
    }
}

value_class! {
    /// How many users, sites and live, deleted and archived interactions the database
    /// holds: `InteractionStore.counts()`.
    Counts repr(users, sites, live, deleted, archived) {
        /// Users, active or not.
        users: u64,
        /// Sites, active or not.
        sites: u64,
        /// Interactions neither deleted nor archived.
        live: u64,
        /// Soft-deleted interactions (not yet purged).
        deleted: u64,
        /// Archived interactions.
        archived: u64,
    }
}

impl From<core::Counts> for Counts {
    fn from(c: core::Counts) -> Self {
        Counts {
            users: c.users,
            sites: c.sites,
            live: c.live,
            deleted: c.deleted,
            archived: c.archived,
        }
    }
}

/// Cache statistics of a store (`InteractionStore.cache_stats()`).
#[pyclass(frozen, eq, get_all, module = "interaction_store")]
#[derive(Debug, Clone, PartialEq)]
pub struct CacheStats {
    /// `"redis"`, `"memory"` or `"off"`.
    pub backend: &'static str,
    /// False while Redis is unreachable (calls go to the database meanwhile).
    pub available: bool,
    /// Login tokens.
    pub auth: CacheCounts,
    /// Roles and activation of users and sites, re-checked on every session call.
    pub permissions: CacheCounts,
    /// Finder pages and counts.
    pub finder: CacheCounts,
    /// Lookup data (sites), always in process memory.
    pub lookup: CacheCounts,
    /// Lookups that bypassed an unavailable cache.
    pub bypassed: u64,
    /// Times Redis became unreachable.
    pub outages: u64,
}

impl From<core::CacheStats> for CacheStats {
    fn from(s: core::CacheStats) -> Self {
        CacheStats {
            backend: s.backend,
            available: s.available,
            auth: s.auth.into(),
            permissions: s.permissions.into(),
            finder: s.finder.into(),
            lookup: s.lookup.into(),
            bypassed: s.bypassed,
            outages: s.outages,
        }
    }
}

#[pymethods]
impl CacheStats {
    /// Every attribute in a new dict; the counts as `{"hits": .., "misses": ..}` dicts.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("backend", self.backend)?;
        d.set_item("available", self.available)?;
        d.set_item("auth", self.auth.to_dict(py)?)?;
        d.set_item("permissions", self.permissions.to_dict(py)?)?;
        d.set_item("finder", self.finder.to_dict(py)?)?;
        d.set_item("lookup", self.lookup.to_dict(py)?)?;
        d.set_item("bypassed", self.bypassed)?;
        d.set_item("outages", self.outages)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let counts = |c: &CacheCounts| format!("CacheCounts(hits={}, misses={})", c.hits, c.misses);
        format!(
            "CacheStats(backend='{}', available={}, auth={}, permissions={}, finder={}, \
             lookup={}, bypassed={}, outages={})",
            self.backend,
            if self.available { "True" } else { "False" },
            counts(&self.auth),
            counts(&self.permissions),
            counts(&self.finder),
            counts(&self.lookup),
            self.bypassed,
            self.outages
        )
    }
}

/// A schema version `MAJOR.MINOR.PATCH`; ordered, hashable, `str()` gives `"1.0.0"`.
#[pyclass(
    frozen,
    eq,
    ord,
    hash,
    get_all,
    from_py_object,
    module = "interaction_store"
)]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaVersion {
    /// Breaking schema changes.
    pub major: u32,
    /// Backward-compatible additions.
    pub minor: u32,
    /// Non-structural changes.
    pub patch: u32,
}

impl From<core::SchemaVersion> for SchemaVersion {
    fn from(v: core::SchemaVersion) -> Self {
        SchemaVersion {
            major: v.major,
            minor: v.minor,
            patch: v.patch,
        }
    }
}

#[pymethods]
impl SchemaVersion {
    /// `to_dict()` as a JSON string; instants in ISO 8601 (`isoformat()`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, self.to_dict(py)?.as_any())
    }

    /// Pickles as its attributes.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyTuple>,))> {
        let fields = PyTuple::new(
            py,
            [
                pyo3::IntoPyObjectExt::into_py_any(self.major, py)?,
                pyo3::IntoPyObjectExt::into_py_any(self.minor, py)?,
                pyo3::IntoPyObjectExt::into_py_any(self.patch, py)?,
            ],
        )?;
        Ok((py.get_type::<Self>().getattr("_restore")?, (fields,)))
    }

    /// Rebuilds a value from `__reduce__`'s attributes (for pickle).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, fields: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let mut it = fields.iter();
        let mut next = || {
            it.next().ok_or_else(|| {
                pyo3::exceptions::PyTypeError::new_err("too few fields for SchemaVersion")
            })
        };
        Ok(Self {
            major: next()?.extract()?,
            minor: next()?.extract()?,
            patch: next()?.extract()?,
        })
    }

    /// Immutable: the copy is the value itself.
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Immutable: the copy is the value itself.
    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    /// `{"major": .., "minor": .., "patch": ..}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("major", self.major)?;
        d.set_item("minor", self.minor)?;
        d.set_item("patch", self.patch)?;
        Ok(d)
    }

    fn __str__(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }

    fn __repr__(&self) -> String {
        format!(
            "SchemaVersion(major={}, minor={}, patch={})",
            self.major, self.minor, self.patch
        )
    }
}

/// One page of Finder results.
#[pyclass(
    frozen,
    eq,
    hash,
    get_all,
    from_py_object,
    module = "interaction_store"
)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    /// The interactions of this page, in the requested order.
    pub items: Vec<Interaction>,
    /// Give to `Finder.after()` to fetch the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl From<core::Page> for Page {
    fn from(p: core::Page) -> Self {
        Page {
            items: p.items.into_iter().map(Interaction::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

#[pymethods]
impl Page {
    /// `to_dict()` as a JSON string; instants in ISO 8601 (`isoformat()`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, self.to_dict(py)?.as_any())
    }

    /// Pickles as its attributes.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyTuple>,))> {
        let fields = PyTuple::new(
            py,
            [
                pyo3::IntoPyObjectExt::into_py_any(self.items.clone(), py)?,
                pyo3::IntoPyObjectExt::into_py_any(self.next_cursor.clone(), py)?,
            ],
        )?;
        Ok((py.get_type::<Self>().getattr("_restore")?, (fields,)))
    }

    /// Rebuilds a value from `__reduce__`'s attributes (for pickle).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, fields: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let mut it = fields.iter();
        let mut next = || {
            it.next()
                .ok_or_else(|| pyo3::exceptions::PyTypeError::new_err("too few fields for Page"))
        };
        Ok(Self {
            items: next()?.extract()?,
            next_cursor: next()?.extract()?,
        })
    }

    /// Immutable: the copy is the value itself.
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Immutable: the copy is the value itself.
    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    /// Iterates over `items`.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyIterator>> {
        PyList::new(py, self.items.clone())?.try_iter()
    }

    /// `{"items": [interaction dicts], "next_cursor": ..}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let items = PyList::empty(py);
        for i in &self.items {
            items.append(i.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("items", items)?;
        d.set_item("next_cursor", &self.next_cursor)?;
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.items.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Page(items=<{} interactions>, next_cursor={})",
            self.items.len(),
            match &self.next_cursor {
                Some(c) => format!("'{c}'"),
                None => "None".to_string(),
            }
        )
    }
}

/// A page of the audit trail, newest first.
#[pyclass(
    frozen,
    eq,
    hash,
    get_all,
    from_py_object,
    module = "interaction_store"
)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// Pass as `after` to continue; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl From<core::AuditPage> for AuditPage {
    fn from(p: core::AuditPage) -> Self {
        AuditPage {
            entries: p.entries.into_iter().map(AuditEntry::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

#[pymethods]
impl AuditPage {
    /// `to_dict()` as a JSON string; instants in ISO 8601 (`isoformat()`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        to_json(py, self.to_dict(py)?.as_any())
    }

    /// Pickles as its attributes.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyTuple>,))> {
        let fields = PyTuple::new(
            py,
            [
                pyo3::IntoPyObjectExt::into_py_any(self.entries.clone(), py)?,
                pyo3::IntoPyObjectExt::into_py_any(self.next_cursor.clone(), py)?,
            ],
        )?;
        Ok((py.get_type::<Self>().getattr("_restore")?, (fields,)))
    }

    /// Rebuilds a value from `__reduce__`'s attributes (for pickle).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, fields: &Bound<'_, PyTuple>) -> PyResult<Self> {
        let mut it = fields.iter();
        let mut next = || {
            it.next().ok_or_else(|| {
                pyo3::exceptions::PyTypeError::new_err("too few fields for AuditPage")
            })
        };
        Ok(Self {
            entries: next()?.extract()?,
            next_cursor: next()?.extract()?,
        })
    }

    /// Immutable: the copy is the value itself.
    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Immutable: the copy is the value itself.
    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    /// Iterates over `entries`.
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyIterator>> {
        PyList::new(py, self.entries.clone())?.try_iter()
    }

    /// `{"entries": [entry dicts], "next_cursor": ..}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let entries = PyList::empty(py);
        for e in &self.entries {
            entries.append(e.to_dict(py)?)?;
        }
        let d = PyDict::new(py);
        d.set_item("entries", entries)?;
        d.set_item("next_cursor", &self.next_cursor)?;
        Ok(d)
    }

    fn __len__(&self) -> usize {
        self.entries.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditPage(entries=<{} entries>, next_cursor={})",
            self.entries.len(),
            match &self.next_cursor {
                Some(c) => format!("'{c}'"),
                None => "None".to_string(),
            }
        )
    }
}

/// A wall-clock time in an interaction's time zone: wrap a naive `datetime` in it to
/// say "09:30 in the interaction's `timezone`". Bare naive datetimes are refused.
#[pyclass(frozen, eq, hash, module = "interaction_store")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalTime {
    pub(crate) value: NaiveDateTime,
}

#[pymethods]
impl LocalTime {
    #[new]
    fn new(value: &Bound<'_, PyDateTime>) -> PyResult<Self> {
        if value.get_tzinfo().is_some() {
            return Err(crate::errors::invalid(
                "local_time",
                "LocalTime takes a naive datetime (no tzinfo); pass an aware datetime \
                 directly for an exact instant",
            ));
        }
        Ok(LocalTime {
            value: value.extract()?,
        })
    }

    /// The naive wall-clock time.
    #[getter]
    fn value(&self) -> NaiveDateTime {
        self.value
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "LocalTime({})",
            self.value.into_pyobject(py)?.repr()?
        ))
    }
}

/// A JSON value, converted to plain Python objects on access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json(pub serde_json::Value);

impl std::hash::Hash for Json {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_string().hash(state);
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Json {
    type Error = PyErr;

    /// Plain JSON-able Python objects (through `json.dumps`).
    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let text: String = py
            .import("json")?
            .call_method1("dumps", (obj,))?
            .extract()?;
        serde_json::from_str(&text)
            .map(Json)
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }
}

/// `json.dumps(value)` with instants as ISO 8601 strings and values as their dicts.
pub(crate) fn to_json(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("default", wrap_pyfunction!(json_default, py)?)?;
    py.import("json")?
        .call_method("dumps", (value,), Some(&kwargs))?
        .extract()
}

/// `json.dumps`' `default`: `isoformat()` for dates and times, `to_dict()` for values.
#[pyfunction]
fn json_default<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    for method in ["isoformat", "to_dict"] {
        if obj.hasattr(method)? {
            return obj.call_method0(method);
        }
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{} is not JSON serializable",
        obj.get_type().name()?
    )))
}

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_to_py(py, &self.0)
    }
}

fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(json_to_py(py, x)?)?;
            }
            l.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

value_class! {
    /// One of this library's migrations not yet applied to the database:
    /// `InteractionStore.pending_migrations()`.
    PendingMigration repr(id, name, version) {
        /// Its number (`0004_lifecycle.sql` is 4), recorded in `schema_migrations`.
        id: i32,
        /// Its name (`"lifecycle"`).
        name: String,
        /// The schema version the database is at once it is applied.
        version: SchemaVersion,
        /// The SQL script it runs, for this store's backend.
        sql: String,
    }
}

impl From<core::PendingMigration> for PendingMigration {
    fn from(m: core::PendingMigration) -> Self {
        PendingMigration {
            id: m.id,
            name: m.name,
            version: m.version.into(),
            sql: m.sql,
        }
    }
}

value_class! {
    /// One migration as the database records it, against this library's copy (an
    /// `IntegrityReport`'s `migrations`).
    MigrationCheck repr(id, name, version, state) {
        /// Its id (`schema_migrations.migration_id`), in order of application.
        id: i32,
        /// Its name (this library's, else the recorded one).
        name: String,
        /// The schema version it leads to (this library's, else the recorded one).
        version: String,
        /// `"applied"` (recorded with this library's checksum), `"modified"` (recorded with
        /// another checksum: a problem), `"unknown"` (recorded by a newer library) or
        /// `"pending"` (not recorded: a problem).
        state: String,
    }
}

impl From<core::MigrationCheck> for MigrationCheck {
    fn from(m: core::MigrationCheck) -> Self {
        MigrationCheck {
            id: m.id,
            name: m.name,
            version: m.version,
            // The core's own name of the state (its serialized form, as `verify --json`).
            state: serde_json::to_value(m.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    }
}

value_class! {
    /// One named check over the rows of the database (an `IntegrityReport`'s `checks`).
    Check repr(name, failing) {
        /// Stable identifier, e.g. `"interactions_without_site"`.
        name: String,
        /// What a failing row is, in words.
        description: String,
        /// How many rows fail it (0: sound); `None` when a table it reads is missing.
        failing: Option<u64>,
    }
}

impl From<core::Check> for Check {
    fn from(c: core::Check) -> Self {
        Check {
            name: c.name,
            description: c.description,
            failing: c.failing,
        }
    }
}

value_class! {
    /// The content checksum of one table (an `IntegrityReport`'s `tables`).
    TableChecksum repr(table, rows, digest) {
        /// The table's name.
        table: String,
        /// Its number of rows.
        rows: u64,
        /// SHA-256 (hex) over the table's name, its columns' names and the multiset of its
        /// rows: equal for equal content whatever the rows' order. Comparable between
        /// databases of the same engine only.
        digest: String,
    }
}

impl From<core::TableChecksum> for TableChecksum {
    fn from(t: core::TableChecksum) -> Self {
        TableChecksum {
            table: t.table,
            rows: t.rows,
            digest: t.digest,
        }
    }
}

/// The integrity report of `InteractionStore.verify()`: schema version, migration
/// checksums, counts, referential checks and a content checksum per table. Two reports
/// are equal when the databases hold the same schema, migrations and content: compare a
/// restored backup's with the original's.
#[pyclass(frozen, eq, module = "interaction_store")]
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrityReport {
    inner: core::IntegrityReport,
}

impl From<core::IntegrityReport> for IntegrityReport {
    fn from(inner: core::IntegrityReport) -> Self {
        IntegrityReport { inner }
    }
}

#[pymethods]
impl IntegrityReport {
    /// The schema version recorded in the database, as written there; `None` when it was
    /// never migrated.
    #[getter]
    fn schema_version(&self) -> Option<String> {
        self.inner.schema_version.clone()
    }

    /// The schema version this library requires.
    #[getter]
    fn required_version(&self) -> SchemaVersion {
        self.inner.required_version.into()
    }

    /// One entry per migration, this library's and any recorded one it does not know.
    #[getter]
    fn migrations(&self) -> Vec<MigrationCheck> {
        self.inner
            .migrations
            .iter()
            .cloned()
            .map(Into::into)
            .collect()
    }

    /// Users, sites and live, soft-deleted and archived interactions.
    #[getter]
    fn counts(&self) -> Counts {
        self.inner.counts.into()
    }

    /// The referential and placement checks, each with its number of failing rows.
    #[getter]
    fn checks(&self) -> Vec<Check> {
        self.inner.checks.iter().cloned().map(Into::into).collect()
    }

    /// A content checksum of every table of the schema present, by name.
    #[getter]
    fn tables(&self) -> Vec<TableChecksum> {
        self.inner.tables.iter().cloned().map(Into::into).collect()
    }

    /// Tables the library requires that the database lacks.
    #[getter]
    fn missing_tables(&self) -> Vec<String> {
        self.inner.missing_tables.clone()
    }

    /// Every problem found, one sentence each; empty when the database is sound.
    #[getter]
    fn problems(&self) -> Vec<String> {
        self.inner.problems.clone()
    }

    /// Whether no problem was found (the core's `IntegrityReport::ok`).
    #[getter]
    fn ok(&self) -> bool {
        self.inner.ok()
    }

    /// The checksum of `table`, `None` if the database lacks it.
    fn table(&self, table: &str) -> Option<TableChecksum> {
        self.inner.table(table).cloned().map(Into::into)
    }

    /// The check named `name`, `None` if the report has none of that name.
    fn check(&self, name: &str) -> Option<Check> {
        self.inner.check(name).cloned().map(Into::into)
    }

    /// Every attribute in a new dict (with `ok`); nested values as dicts.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let list = |items: Vec<Bound<'py, PyDict>>| -> PyResult<Bound<'py, PyList>> {
            PyList::new(py, items)
        };
        let d = PyDict::new(py);
        d.set_item("schema_version", self.schema_version())?;
        d.set_item("required_version", self.required_version().to_dict(py)?)?;
        d.set_item(
            "migrations",
            list(
                self.migrations()
                    .iter()
                    .map(|m| m.to_dict(py))
                    .collect::<PyResult<_>>()?,
            )?,
        )?;
        d.set_item("counts", self.counts().to_dict(py)?)?;
        d.set_item(
            "checks",
            list(
                self.checks()
                    .iter()
                    .map(|c| c.to_dict(py))
                    .collect::<PyResult<_>>()?,
            )?,
        )?;
        d.set_item(
            "tables",
            list(
                self.tables()
                    .iter()
                    .map(|t| t.to_dict(py))
                    .collect::<PyResult<_>>()?,
            )?,
        )?;
        d.set_item("missing_tables", self.missing_tables())?;
        d.set_item("problems", self.problems())?;
        d.set_item("ok", self.ok())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "IntegrityReport(ok={}, schema_version={}, tables=<{} tables>, problems=<{} problems>)",
            if self.inner.ok() { "True" } else { "False" },
            match &self.inner.schema_version {
                Some(v) => format!("'{v}'"),
                None => "None".to_string(),
            },
            self.inner.tables.len(),
            self.inner.problems.len()
        )
    }
}
