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
///
/// With serde, an instant is an RFC 3339 string with a UTC offset (written in UTC with as
/// many fractional digits as it has, microseconds included) and a local time is
/// `{"local": "2026-12-01T09:30:00"}`, the forms the Node package accepts. A string
/// without an offset is refused: it would be ambiguous.
///
/// # Examples
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use interaction_core::When;
///
/// let at: When = Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0).unwrap().into();
/// assert_eq!(serde_json::to_string(&at).unwrap(), r#""2026-12-01T08:30:00Z""#);
///
/// let local: When = serde_json::from_str(r#"{"local": "2026-12-01T09:30:00"}"#).unwrap();
/// let wall = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap().and_hms_opt(9, 30, 0).unwrap();
/// assert_eq!(local, When::Local(wall));
///
/// // An offset other than Z is converted to the same instant.
/// let same: When = serde_json::from_str(r#""2026-12-01T09:30:00+01:00""#).unwrap();
/// assert_eq!(same, at);
/// assert!(serde_json::from_str::<When>(r#""2026-12-01T09:30:00""#).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "WhenRepr", into = "WhenRepr")]
pub enum When {
    /// An exact instant.
    Instant(DateTime<Utc>),
    /// A local wall-clock time in the interaction's `timezone`.
    Local(NaiveDateTime),
}

/// The serde form of [`When`].
#[derive(Clone, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "an RFC 3339 date-time with a UTC offset, or {\"local\": \"YYYY-MM-DDTHH:MM:SS\"}"
)]
enum WhenRepr {
    Instant(DateTime<Utc>),
    Local { local: NaiveDateTime },
}

impl From<WhenRepr> for When {
    fn from(r: WhenRepr) -> Self {
        match r {
            WhenRepr::Instant(t) => When::Instant(t),
            WhenRepr::Local { local } => When::Local(local),
        }
    }
}

impl From<When> for WhenRepr {
    fn from(w: When) -> Self {
        match w {
            When::Instant(t) => WhenRepr::Instant(t),
            When::Local(local) => WhenRepr::Local { local },
        }
    }
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
/// let start: chrono::DateTime<Utc> = "2026-12-01T08:30:00.123456Z".parse().unwrap();
/// let i = session
///     .create_interaction(NewInteraction::new("Kickoff", "meeting", "Alice", start, start, "Europe/Berlin"))
///     .await?;
/// assert_eq!((i.site_id, i.version, i.created_by), (site.id, 1, alice.id));
/// assert_eq!(i.start_datetime, start);      // stored to the microsecond
/// assert!(i.deleted_at.is_none() && i.archived_at.is_none());
/// // Serde: instants as RFC 3339 strings in UTC.
/// let json = serde_json::to_value(&i).unwrap();
/// assert_eq!(json["start_datetime"], "2026-12-01T08:30:00.123456Z");
/// # Ok(())
/// # }
/// ```
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
///
/// With serde, the fields keep their names; `start` and `end` take the [`When`] forms, the
/// optional fields may be left out, and an unknown field is an error (a typo is not
/// silently dropped).
///
/// # Examples
///
/// ```
/// use chrono::{Duration, Utc};
/// use interaction_core::{NewInteraction, Role, StoreOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
/// let site = store.create_site("Head office", None).await?;
/// let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// store.grant_role(alice.id, site.id, Role::Editor).await?;
/// let session = store.session_for_user(alice.id, site.id).await?;
///
/// let start = Utc::now();
/// let new = NewInteraction::new("Kickoff", "meeting", "Alice", start, start + Duration::hours(1), "Europe/Berlin")
///     .location("Room 4")
///     .idempotency_key("form-1");
/// let created = session.create_interaction(new).await?;
/// assert_eq!(created.location.as_deref(), Some("Room 4"));
///
/// // The same input from JSON (e.g. a request body).
/// let json = r#"{"title": "Call", "interaction_type": "call", "lead": "Bob",
///               "start": {"local": "2026-12-01T09:30:00"}, "end": "2026-12-01T09:00:00.000001Z",
///               "timezone": "Europe/Berlin"}"#;
/// let call = session.create_interaction(serde_json::from_str(json)?).await?;
/// assert_eq!(call.end_datetime.to_rfc3339(), "2026-12-01T09:00:00.000001+00:00");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Optional description (at most 1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Optional notes (at most 1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Makes retrying this create safe (1–255 characters, chosen by the caller, e.g. a
    /// UUID per form submission). A create that failed with a timeout or lost connection
    /// may have committed; retried with the same key in the same site within 24 hours
    /// ([`IDEMPOTENCY_WINDOW`](crate::interactions::IDEMPOTENCY_WINDOW)), it returns the
    /// interaction the first call created, with no second row and no second audit row.
    /// The same key with other content is [`Error::Conflict`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
///
/// With serde (e.g. a JSON `PATCH` body), a field left out is `None` (unchanged) and, for
/// `location`, `description` and `notes`, `null` is `Some(None)` (cleared); serializing
/// writes only the fields the patch changes. An unknown field is an error.
///
/// # Examples
///
/// ```
/// use chrono::{Duration, Utc};
/// use interaction_core::{InteractionPatch, NewInteraction, Role, StoreOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = StoreOptions::new("sqlite::memory:").migrate(true).connect().await?;
/// let site = store.create_site("Head office", None).await?;
/// let alice = store.create_user("alice", "alice@example.com", "correct horse battery").await?;
/// store.grant_role(alice.id, site.id, Role::Editor).await?;
/// let session = store.session_for_user(alice.id, site.id).await?;
/// let start = Utc::now();
/// let i = session
///     .create_interaction(NewInteraction::new("Kickoff", "meeting", "Alice", start, start, "UTC").location("Room 4"))
///     .await?;
///
/// let patch = InteractionPatch { title: Some("Kickoff v2".into()), ..Default::default() };
/// let i = session.update_interaction(i.id, patch, Some(i.version)).await?;
/// assert_eq!((i.title.as_str(), i.version), ("Kickoff v2", 2));
///
/// // From JSON: `null` clears a nullable field, a missing field stays as it is.
/// let patch: InteractionPatch = serde_json::from_str(r#"{"location": null}"#)?;
/// assert_eq!(patch.location, Some(None));
/// let i = session.update_interaction(i.id, patch, None).await?;
/// assert_eq!((i.title.as_str(), i.location), ("Kickoff v2", None));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionPatch {
    /// New title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_type: Option<String>,
    /// New lead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<String>,
    /// New start (a local time is read in the new `timezone` if one is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<When>,
    /// New end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<When>,
    /// New IANA zone. Changing it alone does not move the stored instants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// New location, or `Some(None)` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub location: Option<Option<String>>,
    /// New description, or `Some(None)` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub description: Option<Option<String>>,
    /// New notes, or `Some(None)` to clear it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub notes: Option<Option<String>>,
}

impl InteractionPatch {
    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == InteractionPatch::default()
    }
}

/// Deserializes a present field (`null` included) as `Some`, so that a missing field
/// (`#[serde(default)]`: `None`) and `null` (`Some(None)`) differ.
fn nullable<'de, D>(d: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use serde_json::json;

    use super::*;
    use crate::{RangeMode, SchemaVersion, Sort};

    fn round_trip<T>(v: &T) -> serde_json::Value
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        let j = serde_json::to_value(v).unwrap();
        let back: T = serde_json::from_value(j.clone()).unwrap();
        assert_eq!(&back, v, "{j}");
        j
    }

    fn micros() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0).unwrap()
            + chrono::Duration::microseconds(123_456)
    }

    fn wall() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_micro_opt(9, 30, 0, 7)
            .unwrap()
    }

    #[test]
    fn when_round_trips_with_microseconds() {
        assert_eq!(
            round_trip(&When::Instant(micros())),
            json!("2026-12-01T08:30:00.123456Z")
        );
        assert_eq!(
            round_trip(&When::Local(wall())),
            json!({"local": "2026-12-01T09:30:00.000007"})
        );
        let offset: When =
            serde_json::from_value(json!("2026-12-01T09:30:00.123456+01:00")).unwrap();
        assert_eq!(offset, When::Instant(micros()));
        for bad in [
            json!("2026-12-01T09:30:00"),
            json!("tomorrow"),
            json!(12),
            json!({"local": "2026-12-01T09:30:00Z"}),
        ] {
            let e = serde_json::from_value::<When>(bad.clone()).unwrap_err();
            assert!(e.to_string().contains("RFC 3339"), "{bad}: {e}");
        }
    }

    #[test]
    fn new_interaction_round_trips() {
        let minimal = NewInteraction::new(
            "Kickoff",
            "meeting",
            "Alice",
            micros(),
            wall(),
            "Europe/Berlin",
        );
        assert_eq!(
            round_trip(&minimal),
            json!({
                "title": "Kickoff", "interaction_type": "meeting", "lead": "Alice",
                "start": "2026-12-01T08:30:00.123456Z",
                "end": {"local": "2026-12-01T09:30:00.000007"},
                "timezone": "Europe/Berlin",
            })
        );
        let full = minimal
            .location("Room 4")
            .description("d")
            .notes("n")
            .idempotency_key("k");
        let j = round_trip(&full);
        assert_eq!(j["idempotency_key"], "k");
        // A typo is an error, not a dropped field.
        let mut typo = j.clone();
        typo["locaton"] = json!("Room 5");
        let e = serde_json::from_value::<NewInteraction>(typo).unwrap_err();
        assert!(e.to_string().contains("locaton"), "{e}");
        let mut missing = j;
        missing.as_object_mut().unwrap().remove("title");
        assert!(serde_json::from_value::<NewInteraction>(missing).is_err());
    }

    #[test]
    fn patch_round_trips_and_tells_missing_from_null() {
        assert_eq!(round_trip(&InteractionPatch::default()), json!({}));
        let p = InteractionPatch {
            title: Some("T".into()),
            start: Some(When::Instant(micros())),
            end: Some(When::Local(wall())),
            timezone: Some("UTC".into()),
            location: Some(None),
            description: Some(Some("d".into())),
            ..Default::default()
        };
        assert_eq!(
            round_trip(&p),
            json!({
                "title": "T", "start": "2026-12-01T08:30:00.123456Z",
                "end": {"local": "2026-12-01T09:30:00.000007"}, "timezone": "UTC",
                "location": null, "description": "d",
            })
        );
        let p: InteractionPatch = serde_json::from_value(json!({"notes": null})).unwrap();
        assert_eq!(p.notes, Some(None));
        assert_eq!(p.location, None);
        assert!(serde_json::from_value::<InteractionPatch>(json!({"version": 2})).is_err());
    }

    #[test]
    fn enums_and_versions_use_the_binding_names() {
        for r in [Role::Viewer, Role::Editor, Role::Admin] {
            assert_eq!(round_trip(&r), json!(r.as_str()));
        }
        for s in [
            Sort::StartDesc,
            Sort::StartAsc,
            Sort::CreatedDesc,
            Sort::Relevance,
        ] {
            assert_eq!(round_trip(&s), json!(s.as_str()));
        }
        for m in [RangeMode::Overlap, RangeMode::Contained] {
            assert_eq!(round_trip(&m), json!(m.as_str()));
        }
        let v: SchemaVersion = "1.3.0".parse().unwrap();
        assert_eq!(round_trip(&v), json!("1.3.0"));
        assert_eq!(round_trip(&Some(v)), json!("1.3.0"));
        for bad in [json!("1.3"), json!("1.3.0.1"), json!("x"), json!(130)] {
            assert!(
                serde_json::from_value::<SchemaVersion>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        assert!(serde_json::from_value::<Sort>(json!("sideways")).is_err());
    }
}
