//! Public value types: users, sites, roles, interactions and their inputs.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A user's role at one site. Each role includes the rights of the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read and search the site's interactions.
    Viewer,
    /// Also create, update and delete interactions.
    Editor,
    /// Also restore deleted records, manage the site's members, read its audit trail.
    Admin,
}

impl Role {
    /// The stored name: `viewer`, `editor` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(Error::validation(
                "role",
                format!("unknown role {other:?} (expected viewer, editor or admin)"),
            )),
        }
    }
}

/// A user account. The password hash never leaves the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Unique login name (at most 50 characters).
    pub username: String,
    /// Unique (case-insensitively) email address (at most 100 characters).
    pub email: String,
    /// Inactive users cannot log in or open sessions.
    pub is_active: bool,
    /// The last successful login.
    pub last_login: Option<DateTime<Utc>>,
}

/// A site: one tenant's set of interactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Primary key.
    pub id: i64,
    /// Unique name (at most 100 characters).
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Inactive sites cannot be opened in a session.
    pub is_active: bool,
}

/// A user's membership of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The member.
    pub user_id: i64,
    /// The member's username.
    pub username: String,
    /// The member's role at the site.
    pub role: Role,
    /// When the role was assigned.
    pub assigned_at: DateTime<Utc>,
}

/// A point in time given by a caller: either an exact instant, or a wall-clock time in the
/// interaction's time zone. A wall-clock time that does not exist (DST gap) or happens
/// twice (DST overlap) is refused with a validation error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// An exact instant.
    Instant(DateTime<Utc>),
    /// A local wall-clock time in the interaction's `timezone`.
    Local(NaiveDateTime),
}

impl From<DateTime<Utc>> for When {
    fn from(t: DateTime<Utc>) -> Self {
        When::Instant(t)
    }
}

impl From<NaiveDateTime> for When {
    fn from(t: NaiveDateTime) -> Self {
        When::Local(t)
    }
}

/// A stored interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    /// Primary key.
    pub id: i64,
    /// The site it belongs to.
    pub site_id: i64,
    /// Title (1–255 characters).
    pub title: String,
    /// Type of interaction (1–50 characters), e.g. `meeting`.
    pub interaction_type: String,
    /// Person leading it (1–100 characters).
    pub lead: String,
    /// Start instant (UTC).
    pub start_datetime: DateTime<Utc>,
    /// End instant (UTC), never before the start.
    pub end_datetime: DateTime<Utc>,
    /// IANA zone the interaction was entered in, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Location (at most 255 characters).
    pub location: Option<String>,
    /// Description (at most 1 MiB).
    pub description: Option<String>,
    /// Notes (at most 1 MiB).
    pub notes: Option<String>,
    /// Creator.
    pub created_by: i64,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last updater.
    pub updated_by: Option<i64>,
    /// Last update instant.
    pub updated_at: Option<DateTime<Utc>>,
    /// Set when soft-deleted.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Who soft-deleted it.
    pub deleted_by: Option<i64>,
    /// Optimistic-concurrency version, 1 on creation, +1 on every change.
    pub version: i64,
    /// When it was archived (spec §4.3); `None` for a live interaction. Archived
    /// interactions are read-only and returned by the Finder only when asked
    /// ([`Finder::include_archived`](crate::Finder::include_archived)).
    pub archived_at: Option<DateTime<Utc>>,
}

/// Input of [`SiteSession::create_interaction`](crate::SiteSession::create_interaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInteraction {
    /// Title (1–255 characters).
    pub title: String,
    /// Type (1–50 characters).
    pub interaction_type: String,
    /// Lead (1–100 characters).
    pub lead: String,
    /// Start, an instant or a local time in `timezone`.
    pub start: When,
    /// End, an instant or a local time in `timezone`; not before `start`.
    pub end: When,
    /// IANA zone name.
    pub timezone: String,
    /// Optional location (at most 255 characters).
    pub location: Option<String>,
    /// Optional description (at most 1 MiB).
    pub description: Option<String>,
    /// Optional notes (at most 1 MiB).
    pub notes: Option<String>,
    /// Makes retrying this create safe (1–255 characters, chosen by the caller, e.g. a
    /// UUID per form submission). A create that failed with a timeout or lost connection
    /// may have committed; retried with the same key in the same site within 24 hours
    /// ([`IDEMPOTENCY_WINDOW`](crate::interactions::IDEMPOTENCY_WINDOW)), it returns the
    /// interaction the first call created, with no second row and no second audit row.
    /// The same key with other content is [`Error::Conflict`].
    pub idempotency_key: Option<String>,
}

impl NewInteraction {
    /// The required fields; the optional ones start empty.
    pub fn new(
        title: impl Into<String>,
        interaction_type: impl Into<String>,
        lead: impl Into<String>,
        start: impl Into<When>,
        end: impl Into<When>,
        timezone: impl Into<String>,
    ) -> Self {
        NewInteraction {
            title: title.into(),
            interaction_type: interaction_type.into(),
            lead: lead.into(),
            start: start.into(),
            end: end.into(),
            timezone: timezone.into(),
            location: None,
            description: None,
            notes: None,
            idempotency_key: None,
        }
    }

    /// Sets the location.
    pub fn location(mut self, v: impl Into<String>) -> Self {
        self.location = Some(v.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, v: impl Into<String>) -> Self {
        self.description = Some(v.into());
        self
    }

    /// Sets the notes.
    pub fn notes(mut self, v: impl Into<String>) -> Self {
        self.notes = Some(v.into());
        self
    }

    /// Sets the idempotency key (see [`idempotency_key`](Self::idempotency_key)).
    pub fn idempotency_key(mut self, v: impl Into<String>) -> Self {
        self.idempotency_key = Some(v.into());
        self
    }
}

/// A partial update: `None` leaves a field as it is. For the nullable fields,
/// `Some(None)` clears the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InteractionPatch {
    /// New title.
    pub title: Option<String>,
    /// New type.
    pub interaction_type: Option<String>,
    /// New lead.
    pub lead: Option<String>,
    /// New start (a local time is read in the new `timezone` if one is given).
    pub start: Option<When>,
    /// New end.
    pub end: Option<When>,
    /// New IANA zone. Changing it alone does not move the stored instants.
    pub timezone: Option<String>,
    /// New location, or `Some(None)` to clear it.
    pub location: Option<Option<String>>,
    /// New description, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// New notes, or `Some(None)` to clear it.
    pub notes: Option<Option<String>>,
}

impl InteractionPatch {
    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == InteractionPatch::default()
    }
}
