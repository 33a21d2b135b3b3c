//! The benchmarked operations, each through the library and hand-written.
//!
//! The hand-written side runs the SAME SQL text the library builds (copied here from
//! `interactions.rs`, `session.rs`, `finder.rs` and `audit.rs`; [`Suite::check_same_sql`]
//! checks it against what the library sent on PostgreSQL) with the same binds in the same
//! order, on one dedicated connection (the floor): sqlx's `PgConnection` on PostgreSQL,
//! rusqlite with its statement cache on SQLite. Point reads and writes are prepared and
//! cached on both sides; PostgreSQL Finder statements are sent with inlined literals on
//! both sides (simple-query protocol), so they are planned for their values. Rows are decoded into
//! [`Interaction`] on both sides, and writes send the same statements in the same shape:
//!
//! - create, PostgreSQL: ONE statement in autocommit, a data-modifying CTE
//!   `WITH w AS (INSERT ... RETURNING ...), a AS (INSERT INTO audit_log ... FROM w)
//!   SELECT * FROM w`; SQLite: `BEGIN IMMEDIATE`, INSERT ... RETURNING, audit INSERT,
//!   `COMMIT`;
//! - update, PostgreSQL: `BEGIN`, `SELECT ... FOR UPDATE`, the version check, the UPDATE
//!   and its audit row as one CTE statement, `COMMIT`; SQLite: `BEGIN IMMEDIATE`, SELECT,
//!   UPDATE ... RETURNING, audit INSERT, `COMMIT`.
//!
//! What remains is the library's own cost: pool acquire, argument building, validation,
//! cursor encoding, tracing and, for writes, the spawned task.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use interaction_core::{
    Backend, Finder, Interaction, InteractionPatch, NewInteraction, RangeMode, Sort,
};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use tokio::sync::Mutex;

use crate::data::{epoch, COMMON_TERM, FILTER_TYPE, RARE_TERM, TITLE_TERM};
use crate::fixture::{self, Fixture, Result};

/// A Finder query shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// The default listing: newest start first, page of 50.
    Recent,
    /// The keyset page after the first row of the listing.
    Keyset1,
    /// The keyset page after 1000 rows of the listing.
    Keyset1k,
    /// The keyset page after 50,000 rows of the listing, or as deep as one site goes
    /// (its last full page: ~9,500 rows at 100k rows over 10 sites).
    KeysetDeep,
    /// Free text, the very common term, recency order.
    TextCommon,
    /// Free text, a rare term, recency order.
    TextRare,
    /// Free text, the very common term, relevance order (bounded candidate set).
    RelevanceCommon,
    /// Free text, a rare term, relevance order.
    RelevanceRare,
    /// Title contains a word of ~2.5% of titles.
    TitleContains,
    /// One type (~8% of rows).
    TypeFilter,
    /// Overlapping a one-week window (~90 matches per site at 100k).
    DateRangeWeek,
    /// Overlapping a one-day window (~14 matches per site at 100k: fewer than a page).
    DateRangeDay,
}

/// Rows skipped before the keyset pages of [`Shape::Keyset1`], [`Shape::Keyset1k`] and
/// [`Shape::KeysetDeep`] (the last is capped by the rows of one site).
pub const KEYSET_DEPTHS: [usize; 3] = [1, 1_000, 50_000];

impl Shape {
    /// Every shape, in report order.
    pub const ALL: [Shape; 12] = [
        Shape::Recent,
        Shape::Keyset1,
        Shape::Keyset1k,
        Shape::KeysetDeep,
        Shape::TextCommon,
        Shape::TextRare,
        Shape::RelevanceCommon,
        Shape::RelevanceRare,
        Shape::TitleContains,
        Shape::TypeFilter,
        Shape::DateRangeWeek,
        Shape::DateRangeDay,
    ];

    /// A short identifier (used in bench ids).
    pub fn name(self) -> &'static str {
        match self {
            Shape::Recent => "find_recent",
            Shape::Keyset1 => "find_keyset_1",
            Shape::Keyset1k => "find_keyset_1k",
            Shape::KeysetDeep => "find_keyset_deep",
            Shape::TextCommon => "find_text_common",
            Shape::TextRare => "find_text_rare",
            Shape::RelevanceCommon => "find_relevance_common",
            Shape::RelevanceRare => "find_relevance_rare",
            Shape::TitleContains => "find_title_contains",
            Shape::TypeFilter => "find_type",
            Shape::DateRangeWeek => "find_range_week",
            Shape::DateRangeDay => "find_range_day",
        }
    }

    /// Which of [`KEYSET_DEPTHS`] a keyset shape pages at.
    fn keyset(self) -> Option<usize> {
        match self {
            Shape::Keyset1 => Some(0),
            Shape::Keyset1k => Some(1),
            Shape::KeysetDeep => Some(2),
            _ => None,
        }
    }
}

/// A benchmarked operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// Read one interaction by id.
    Get,
    /// Create one interaction (with its audit row).
    Create,
    /// Update one field with `expected_version` (lock, update, audit).
    Update,
    /// One Finder page of 50.
    Find(Shape),
}

impl Op {
    /// Every operation, in report order.
    pub fn all() -> Vec<Op> {
        let mut v = vec![Op::Get, Op::Create, Op::Update];
        v.extend(Shape::ALL.map(Op::Find));
        v
    }

    /// A short identifier (used in bench ids).
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get_by_id",
            Op::Create => "create",
            Op::Update => "update",
            Op::Find(s) => s.name(),
        }
    }
}

/// The library's column list (`interactions::COLUMNS`).
macro_rules! columns {
    () => {
        "interactions.interaction_id, interactions.site_id, interactions.title, \
         interactions.type, interactions.lead, interactions.start_datetime, \
         interactions.end_datetime, interactions.timezone, interactions.location, \
         interactions.description, interactions.notes, interactions.created_by, \
         interactions.created_at, interactions.updated_by, interactions.updated_at, \
         interactions.deleted_at, interactions.deleted_by, interactions.version"
    };
}

/// `SELECT ... WHERE site AND live` of every recency-ordered Finder page.
macro_rules! find_head {
    () => {
        concat!(
            "SELECT ",
            columns!(),
            " FROM interactions WHERE interactions.site_id = $1 AND interactions.deleted_at IS NULL"
        )
    };
}

macro_rules! recency {
    () => {
        " ORDER BY interactions.start_datetime DESC, interactions.interaction_id DESC LIMIT "
    };
}

macro_rules! relevance {
    ($rank:literal, $filter:literal) => {
        concat!(
            "SELECT * FROM (SELECT ",
            columns!(),
            ", ",
            $rank,
            " AS rank FROM interactions WHERE interactions.site_id = $2 \
             AND interactions.deleted_at IS NULL",
            $filter,
            recency!(),
            "$4) ranked ORDER BY rank DESC, interaction_id DESC LIMIT $5"
        )
    };
}

/// `interactions.rs::get_interaction` (`session.rs::scoped_row`: id first, then site).
const GET_SQL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM interactions WHERE interactions.interaction_id = $1 AND interactions.site_id + 0 = $2 \
     AND interactions.deleted_at IS NULL"
);

/// `interactions.rs::create_interaction`'s INSERT.
macro_rules! insert {
    () => {
        concat!(
            "INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, \
             timezone, location, description, notes, created_by, created_at, version) VALUES ($1, \
             $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1) RETURNING ",
            columns!()
        )
    };
}

/// `interactions.rs::patch_sql` for a title change (`session.rs::scoped_row`).
macro_rules! update_title {
    () => {
        concat!(
            "UPDATE interactions SET title = $1, updated_at = $2, updated_by = $3, version = \
             version + 1 WHERE interactions.interaction_id = $4 AND interactions.site_id + 0 = $5 \
             RETURNING ",
            columns!()
        )
    };
}

/// `audit.rs::close_inline`: the audit row of the write `w` in the same statement; the
/// placeholders of occurred_at, actor, site, action, entity and changes.
macro_rules! audit_cte {
    ($t:literal, $a:literal, $s:literal, $ac:literal, $e:literal, $c:literal) => {
        concat!(
            "), a AS (INSERT INTO audit_log (occurred_at, actor_id, site_id, action, entity, \
             entity_id, changes) SELECT $",
            $t,
            ", $",
            $a,
            ", $",
            $s,
            ", $",
            $ac,
            ", $",
            $e,
            ", w.interaction_id, CAST($",
            $c,
            " AS jsonb) FROM w) SELECT * FROM w"
        )
    };
}

/// PostgreSQL create without idempotency key: one data-modifying CTE in autocommit.
const CREATE_PG: &str = concat!("WITH w AS (", insert!(), audit_cte!(13, 14, 15, 16, 17, 18));
/// SQLite create: the INSERT, then [`AUDIT_SQLITE`], inside `BEGIN IMMEDIATE`.
const CREATE_SQLITE: &str = insert!();
/// `audit.rs::record` (SQLite: no writes in CTEs).
const AUDIT_SQLITE: &str = "INSERT INTO audit_log (occurred_at, actor_id, site_id, action, \
    entity, entity_id, changes) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// `interactions.rs::lock_row` (PostgreSQL: `FOR UPDATE`).
const LOCK_PG: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM interactions WHERE interactions.interaction_id = $1 AND interactions.site_id + 0 = $2 \
     AND deleted_at IS NULL FOR UPDATE"
);
/// `interactions.rs::lock_row` (SQLite: `BEGIN IMMEDIATE` holds the write lock already).
const LOCK_SQLITE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM interactions WHERE interactions.interaction_id = $1 AND interactions.site_id + 0 = $2 \
     AND deleted_at IS NULL"
);
/// PostgreSQL update: the UPDATE and its audit row in one statement (`write_audited`).
const UPDATE_PG: &str = concat!(
    "WITH w AS (",
    update_title!(),
    audit_cte!(6, 7, 8, 9, 10, 11)
);
/// SQLite update: the UPDATE, then [`AUDIT_SQLITE`].
const UPDATE_SQLITE: &str = update_title!();

const RECENT: &str = concat!(find_head!(), recency!(), "$2");
const KEYSET: &str = concat!(
    find_head!(),
    " AND (interactions.start_datetime, interactions.interaction_id) < ($2, $3)",
    recency!(),
    "$4"
);
const TEXT_PG: &str = concat!(
    find_head!(),
    " AND interactions.search_vector @@ websearch_to_tsquery('english', $2)",
    recency!(),
    "$3"
);
const TEXT_SQLITE: &str = concat!(
    find_head!(),
    " AND interactions.interaction_id IN (SELECT rowid FROM interactions_fts WHERE \
     interactions_fts MATCH $2)",
    recency!(),
    "$3"
);
const RELEVANCE_PG: &str = relevance!(
    "ts_rank(interactions.search_vector, websearch_to_tsquery('english', $1))::float8",
    " AND interactions.search_vector @@ websearch_to_tsquery('english', $3)"
);
const RELEVANCE_SQLITE: &str = concat!(
    "SELECT * FROM (SELECT ",
    columns!(),
    ", m.rank AS rank FROM (SELECT rowid AS id, -bm25(interactions_fts, 10.0, 4.0, 1.0) AS rank \
     FROM interactions_fts WHERE interactions_fts MATCH $1) m JOIN interactions ON \
     interactions.interaction_id = m.id WHERE interactions.site_id = $2 \
     AND interactions.deleted_at IS NULL",
    recency!(),
    "$3) ranked ORDER BY rank DESC, interaction_id DESC LIMIT $4"
);
const TITLE_PG: &str = concat!(
    find_head!(),
    " AND interactions.title ILIKE $2 ESCAPE '\\'",
    recency!(),
    "$3"
);
const TITLE_SQLITE: &str = concat!(
    find_head!(),
    " AND interactions.title LIKE $2 ESCAPE '\\'",
    recency!(),
    "$3"
);
const TYPE_SQL: &str = concat!(
    find_head!(),
    " AND interactions.type IN ($2)",
    recency!(),
    "$3"
);
const RANGE_SQL: &str = concat!(
    find_head!(),
    " AND interactions.start_datetime <= $2 AND interactions.end_datetime >= $3",
    recency!(),
    "$4"
);

/// Page size of every Finder shape (the library's default).
pub const PAGE: usize = 50;
/// The library's relevance candidate bound.
const CANDIDATES: i64 = 1000;

/// A bind value of a hand-written query.
#[derive(Debug, Clone)]
enum Bind {
    I32(i32),
    I64(i64),
    Text(String),
    Ts(DateTime<Utc>),
}

/// `sql` with `$n` replaced by typed literals, exactly as the library sends Finder
/// statements on PostgreSQL (the simple-query protocol: one round trip, a custom plan;
/// `interaction-core/src/backend/postgres.rs::inline`).
fn inline_pg(sql: &str, binds: &[Bind]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut rest = sql;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let digits = rest[i + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - i - 1);
        let n: usize = rest[i + 1..i + 1 + digits].parse().expect("placeholder");
        match &binds[n - 1] {
            Bind::I32(v) => write!(out, "'{v}'::int4").unwrap(),
            Bind::I64(v) => write!(out, "'{v}'::int8").unwrap(),
            Bind::Text(v) => write!(out, "'{}'::text", v.replace('\'', "''")).unwrap(),
            Bind::Ts(v) => write!(
                out,
                "'{}'::timestamptz",
                v.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            )
            .unwrap(),
        }
        rest = &rest[i + 1 + digits..];
    }
    out.push_str(rest);
    out
}

macro_rules! hand_row {
    ($name:ident, $ts:ty, $conv:expr) => {
        #[derive(sqlx::FromRow)]
        struct $name {
            interaction_id: i32,
            site_id: i32,
            title: String,
            #[sqlx(rename = "type")]
            interaction_type: String,
            lead: String,
            start_datetime: $ts,
            end_datetime: $ts,
            timezone: String,
            location: Option<String>,
            description: Option<String>,
            notes: Option<String>,
            created_by: i32,
            created_at: $ts,
            updated_by: Option<i32>,
            updated_at: Option<$ts>,
            deleted_at: Option<$ts>,
            deleted_by: Option<i32>,
            version: i32,
            #[sqlx(default)]
            rank: Option<f64>,
        }

        impl $name {
            fn into_interaction(self) -> (Interaction, Option<f64>) {
                let conv = $conv;
                (
                    Interaction {
                        id: self.interaction_id.into(),
                        site_id: self.site_id.into(),
                        title: self.title,
                        interaction_type: self.interaction_type,
                        lead: self.lead,
                        start_datetime: conv(self.start_datetime),
                        end_datetime: conv(self.end_datetime),
                        timezone: self.timezone,
                        location: self.location,
                        description: self.description,
                        notes: self.notes,
                        created_by: self.created_by.into(),
                        created_at: conv(self.created_at),
                        updated_by: self.updated_by.map(i64::from),
                        updated_at: self.updated_at.map(conv),
                        deleted_at: self.deleted_at.map(conv),
                        deleted_by: self.deleted_by.map(i64::from),
                        version: self.version.into(),
                        archived_at: None,
                    },
                    self.rank,
                )
            }
        }
    };
}

hand_row!(PgRow, DateTime<Utc>, |t: DateTime<Utc>| t);

fn pg_query<'q, O>(
    sql: impl sqlx::SqlSafeStr,
    binds: &'q [Bind],
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let mut q = sqlx::query_as(sql);
    for b in binds {
        q = match b {
            Bind::I32(v) => q.bind(*v),
            Bind::I64(v) => q.bind(*v),
            Bind::Text(v) => q.bind(v.as_str()),
            Bind::Ts(v) => q.bind(*v),
        };
    }
    q
}

impl rusqlite::ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Bind::I32(v) => v.to_sql(),
            Bind::I64(v) => v.to_sql(),
            Bind::Text(v) => v.to_sql(),
            Bind::Ts(v) => Ok(v.timestamp_micros().into()),
        }
    }
}

/// Runs `sql` (with `$n` placeholders, as the library writes them) on a rusqlite
/// connection through its statement cache, binding `binds[n - 1]` to `$n`; `row` decodes
/// each row.
fn lite_query<T>(
    c: &rusqlite::Connection,
    sql: &str,
    binds: &[&dyn rusqlite::ToSql],
    row: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    for i in 1..=stmt.parameter_count() {
        let n: usize = stmt
            .parameter_name(i)
            .and_then(|p| p.strip_prefix('$'))
            .and_then(|p| p.parse().ok())
            .expect("$n placeholder");
        stmt.raw_bind_parameter(i, binds[n - 1])?;
    }
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(row(r)?);
    }
    Ok(out)
}

/// The audit row of a SQLite write, as the library writes it (`audit.rs`).
fn lite_audit(
    tx: &rusqlite::Connection,
    user: i32,
    site: i32,
    action: &str,
    id: i64,
    changes: &serde_json::Value,
) -> rusqlite::Result<()> {
    lite_query(
        tx,
        AUDIT_SQLITE,
        &[
            &Utc::now().timestamp_micros(),
            &Some(user),
            &Some(site),
            &action,
            &"interaction",
            &Some(id),
            &changes.to_string(),
        ],
        |_| Ok(()),
    )
    .map(drop)
}

fn lite_binds(binds: &[Bind]) -> Vec<&dyn rusqlite::ToSql> {
    binds.iter().map(|b| b as &dyn rusqlite::ToSql).collect()
}

/// An interaction row read by rusqlite, by column name as the library reads it.
fn lite_interaction(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Interaction, Option<f64>)> {
    let ts = |col: &str| -> rusqlite::Result<DateTime<Utc>> {
        Ok(DateTime::from_timestamp_micros(r.get(col)?).expect("instant in range"))
    };
    let opt_ts = |col: &str| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<i64>>(col)?
            .map(|m| DateTime::from_timestamp_micros(m).expect("instant in range")))
    };
    let rank = match r.as_ref().column_index("rank") {
        Ok(_) => r.get("rank")?,
        Err(_) => None,
    };
    Ok((
        Interaction {
            id: r.get("interaction_id")?,
            site_id: r.get("site_id")?,
            title: r.get("title")?,
            interaction_type: r.get("type")?,
            lead: r.get("lead")?,
            start_datetime: ts("start_datetime")?,
            end_datetime: ts("end_datetime")?,
            timezone: r.get("timezone")?,
            location: r.get("location")?,
            description: r.get("description")?,
            notes: r.get("notes")?,
            created_by: r.get("created_by")?,
            created_at: ts("created_at")?,
            updated_by: r.get("updated_by")?,
            updated_at: opt_ts("updated_at")?,
            deleted_at: opt_ts("deleted_at")?,
            deleted_by: r.get("deleted_by")?,
            version: r.get("version")?,
            archived_at: None,
        },
        rank,
    ))
}

/// The dedicated connection of the hand-written side.
enum Raw {
    Pg(PgConnection),
    Sqlite(rusqlite::Connection),
}

/// A row updated by one side of the update bench, with its current version.
struct UpdateTarget {
    id: i64,
    version: AtomicI64,
    flips: AtomicUsize,
}

impl UpdateTarget {
    fn next_title(&self) -> &'static str {
        if self.flips.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
            "Bench update A"
        } else {
            "Bench update B"
        }
    }
}

/// A keyset position in the default listing.
#[derive(Debug, Clone)]
struct Keyset {
    depth: usize,
    cursor: String,
    key: (DateTime<Utc>, i64),
}

/// Walks the default listing of the read site `depth` rows deep (pages of up to 500).
async fn keyset_at(fx: &Fixture, depth: usize) -> Result<Keyset> {
    let mut cursor = None;
    let mut last = None;
    let mut seen = 0;
    while seen < depth {
        let limit = (depth - seen).min(interaction_core::finder::MAX_LIMIT as usize) as u32;
        let mut f = fx.session.finder().limit(limit);
        if let Some(c) = cursor.take() {
            f = f.after(c);
        }
        let page = f.await?;
        seen += page.items.len();
        last = page.items.last().map(|i| (i.start_datetime, i.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    Ok(Keyset {
        depth: seen,
        cursor: cursor
            .ok_or_else(|| format!("the site has too few rows for a page after {depth}"))?,
        key: last.ok_or("depth 0")?,
    })
}

/// Everything the benches run, on one backend: the library fixture, the hand-written
/// side's connection and the parameters of every shape.
pub struct Suite {
    /// The populated database, opened through the library.
    pub fx: Fixture,
    raw: Mutex<Raw>,
    read_ids: Vec<i64>,
    lib_reads: AtomicUsize,
    hand_reads: AtomicUsize,
    creates: AtomicUsize,
    /// Per keyset shape: the rows skipped, the library's cursor and the (start, id) key
    /// of the last skipped row, in [`KEYSET_DEPTHS`] order.
    keysets: Vec<Keyset>,
    week: (DateTime<Utc>, DateTime<Utc>),
    day: (DateTime<Utc>, DateTime<Utc>),
    lib_target: UpdateTarget,
    hand_target: UpdateTarget,
    /// Hand-written SQL and binds per shape, in [`Shape::ALL`] order.
    hand: Vec<(&'static str, Vec<Bind>)>,
}

impl std::fmt::Debug for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suite")
            .field("fx", &self.fx)
            .finish_non_exhaustive()
    }
}

fn new_interaction(n: usize) -> NewInteraction {
    let start = epoch() + Duration::days(SPAN_FOR_WRITES) + Duration::minutes(n as i64);
    NewInteraction::new(
        format!("Weekly pricing sync {n}"),
        "meeting",
        "Alice Martin",
        start,
        start + Duration::hours(1),
        "Europe/Berlin",
    )
    .location("Room 101")
    .description(
        "Customer asked about the renewal timeline; the team agreed next steps, the \
         discount options and a follow-up with the vendor before the quarter closes.",
    )
    .notes("Send the revised quote and schedule the pilot review.")
}

/// Days after the epoch where benchmarked creations start (outside the data's span).
const SPAN_FOR_WRITES: i64 = 800;

fn instant(w: interaction_core::When) -> DateTime<Utc> {
    match w {
        interaction_core::When::Instant(t) => t,
        interaction_core::When::Local(_) => unreachable!("benches pass instants"),
    }
}

fn ts_json(t: DateTime<Utc>) -> serde_json::Value {
    serde_json::Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

impl Suite {
    /// Prepares every operation on `fx`: opens the dedicated connection, picks ids to read,
    /// walks the listing to the deep keyset position and creates the update targets.
    pub async fn new(fx: Fixture) -> Result<Suite> {
        let mut raw = match fx.backend {
            Backend::Postgres => Raw::Pg(fixture::pg_connection(&fx.url).await?),
            Backend::Sqlite => Raw::Sqlite(fixture::lite_connection(
                fx.path.as_deref().expect("sqlite path"),
            )?),
        };
        let site = fx.site_ids[0];
        let ids_sql = "SELECT CAST(interaction_id AS BIGINT) FROM interactions WHERE site_id = $1 \
             ORDER BY interaction_id LIMIT 1000";
        let read_ids: Vec<(i64,)> = match &mut raw {
            Raw::Pg(c) => {
                sqlx::query_as(ids_sql)
                    .bind(site as i32)
                    .fetch_all(c)
                    .await?
            }
            Raw::Sqlite(c) => lite_query(c, ids_sql, &[&site], |r| Ok((r.get(0)?,)))?,
        };
        let read_ids: Vec<i64> = read_ids.into_iter().map(|r| r.0).collect();
        // Keyset positions; the deepest is capped by the rows of the site (its last full
        // page, in hundreds).
        let live_sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM interactions WHERE site_id = $1 \
             AND deleted_at IS NULL";
        let (live,): (i64,) = match &mut raw {
            Raw::Pg(c) => {
                sqlx::query_as(live_sql)
                    .bind(site as i32)
                    .fetch_one(c)
                    .await?
            }
            Raw::Sqlite(c) => lite_query(c, live_sql, &[&site], |r| Ok((r.get(0)?,)))?
                .pop()
                .ok_or("no count")?,
        };
        let room = (live as usize).saturating_sub(PAGE) / 100 * 100;
        let mut keysets = Vec::new();
        for want in KEYSET_DEPTHS {
            keysets.push(keyset_at(&fx, want.min(room.max(1))).await?);
        }
        let week_from = epoch() + Duration::days(365);
        let week = (week_from, week_from + Duration::days(7));
        let day_from = epoch() + Duration::days(400);
        let day = (day_from, day_from + Duration::days(1));
        let mut targets = Vec::new();
        for _ in 0..2 {
            let i = fx
                .write_session
                .create_interaction(new_interaction(0))
                .await?;
            targets.push(UpdateTarget {
                id: i.id,
                version: AtomicI64::new(i.version),
                flips: AtomicUsize::new(0),
            });
        }
        // The write site grows with every bench run; without fresh statistics the planner
        // takes it for empty and reads its rows by the site index instead of the primary
        // key (see the README). Refresh them so writes are measured on a sane plan.
        if let Raw::Pg(c) = &mut raw {
            sqlx::raw_sql("ANALYZE interactions").execute(c).await?;
        }
        let hand_target = targets.pop().expect("two");
        let lib_target = targets.pop().expect("two");

        let pg = fx.backend == Backend::Postgres;
        let site = Bind::I32(site as i32);
        let limit = Bind::I64(PAGE as i64 + 1);
        let text = |t: &str| {
            Bind::Text(if pg {
                t.to_string()
            } else {
                format!("((\"{t}\"))")
            })
        };
        let hand = Shape::ALL
            .iter()
            .map(|s| match s {
                Shape::Recent => (RECENT, vec![site.clone(), limit.clone()]),
                Shape::Keyset1 | Shape::Keyset1k | Shape::KeysetDeep => {
                    let k = &keysets[s.keyset().expect("a keyset shape")];
                    (
                        KEYSET,
                        vec![
                            site.clone(),
                            Bind::Ts(k.key.0),
                            Bind::I32(k.key.1 as i32),
                            limit.clone(),
                        ],
                    )
                }
                Shape::TextCommon | Shape::TextRare => {
                    let term = if *s == Shape::TextCommon {
                        COMMON_TERM
                    } else {
                        RARE_TERM
                    };
                    (
                        if pg { TEXT_PG } else { TEXT_SQLITE },
                        vec![site.clone(), text(term), limit.clone()],
                    )
                }
                Shape::RelevanceCommon | Shape::RelevanceRare => {
                    let term = if *s == Shape::RelevanceCommon {
                        COMMON_TERM
                    } else {
                        RARE_TERM
                    };
                    if pg {
                        (
                            RELEVANCE_PG,
                            vec![
                                text(term),
                                site.clone(),
                                text(term),
                                Bind::I64(CANDIDATES),
                                limit.clone(),
                            ],
                        )
                    } else {
                        // SQLite joins one FTS cursor instead of matching twice.
                        (
                            RELEVANCE_SQLITE,
                            vec![
                                text(term),
                                site.clone(),
                                Bind::I64(CANDIDATES),
                                limit.clone(),
                            ],
                        )
                    }
                }
                Shape::TitleContains => (
                    if pg { TITLE_PG } else { TITLE_SQLITE },
                    vec![
                        site.clone(),
                        Bind::Text(format!("%{TITLE_TERM}%")),
                        limit.clone(),
                    ],
                ),
                Shape::TypeFilter => (
                    TYPE_SQL,
                    vec![site.clone(), Bind::Text(FILTER_TYPE.into()), limit.clone()],
                ),
                Shape::DateRangeWeek | Shape::DateRangeDay => {
                    let (from, to) = if *s == Shape::DateRangeWeek {
                        week
                    } else {
                        day
                    };
                    (
                        RANGE_SQL,
                        vec![site.clone(), Bind::Ts(to), Bind::Ts(from), limit.clone()],
                    )
                }
            })
            .collect();
        Ok(Suite {
            fx,
            raw: Mutex::new(raw),
            read_ids,
            lib_reads: AtomicUsize::new(0),
            hand_reads: AtomicUsize::new(0),
            creates: AtomicUsize::new(1),
            keysets,
            week,
            day,
            lib_target,
            hand_target,
            hand,
        })
    }

    /// The library Finder of `shape`.
    pub fn finder(&self, shape: Shape) -> Finder {
        let f = self.fx.session.finder();
        match shape {
            Shape::Recent => f,
            Shape::Keyset1 | Shape::Keyset1k | Shape::KeysetDeep => {
                f.after(self.keysets[shape.keyset().expect("keyset")].cursor.clone())
            }
            Shape::TextCommon => f.text(COMMON_TERM),
            Shape::TextRare => f.text(RARE_TERM),
            Shape::RelevanceCommon => f.text(COMMON_TERM).sort(Sort::Relevance),
            Shape::RelevanceRare => f.text(RARE_TERM).sort(Sort::Relevance),
            Shape::TitleContains => f.title_contains(TITLE_TERM),
            Shape::TypeFilter => f.types([FILTER_TYPE]),
            Shape::DateRangeWeek => f.date_range(self.week.0, self.week.1, RangeMode::Overlap),
            Shape::DateRangeDay => f.date_range(self.day.0, self.day.1, RangeMode::Overlap),
        }
    }

    /// The hand-written SQL of `shape` on this backend.
    pub fn hand_sql(&self, shape: Shape) -> &'static str {
        self.hand[shape_index(shape)].0
    }

    /// Rows skipped before each keyset page, in [`KEYSET_DEPTHS`] order (the deepest is
    /// capped by the rows of one site).
    pub fn keyset_depths(&self) -> Vec<usize> {
        self.keysets.iter().map(|k| k.depth).collect()
    }

    /// Runs `op` through the library; returns the ids it read or wrote.
    pub async fn run_lib(&self, op: Op) -> Result<Vec<i64>> {
        match op {
            Op::Get => {
                let n = self.lib_reads.fetch_add(1, Ordering::Relaxed);
                let id = self.read_ids[n % self.read_ids.len()];
                Ok(vec![self.fx.session.get_interaction(id).await?.id])
            }
            Op::Create => {
                let n = self.creates.fetch_add(1, Ordering::Relaxed);
                let i = self
                    .fx
                    .write_session
                    .create_interaction(new_interaction(n))
                    .await?;
                Ok(vec![i.id])
            }
            Op::Update => {
                let t = &self.lib_target;
                let patch = InteractionPatch {
                    title: Some(t.next_title().to_string()),
                    ..Default::default()
                };
                let v = t.version.load(Ordering::Relaxed);
                let i = self
                    .fx
                    .write_session
                    .update_interaction(t.id, patch, Some(v))
                    .await?;
                t.version.store(i.version, Ordering::Relaxed);
                Ok(vec![i.id])
            }
            Op::Find(s) => {
                let page = self.finder(s).await?;
                Ok(page.items.iter().map(|i| i.id).collect())
            }
        }
    }

    /// Runs `op` hand-written on the dedicated connection; returns the ids it read or
    /// wrote.
    pub async fn run_hand(&self, op: Op) -> Result<Vec<i64>> {
        let mut raw = self.raw.lock().await;
        let site = self.fx.site_ids[0];
        let wsite = self.fx.write_site_id as i32;
        let user = self.fx.user_id as i32;
        match (op, &mut *raw) {
            (Op::Get, raw) => {
                let n = self.hand_reads.fetch_add(1, Ordering::Relaxed);
                let id = self.read_ids[n % self.read_ids.len()];
                let binds = [Bind::I32(id as i32), Bind::I32(site as i32)];
                let row = match raw {
                    Raw::Pg(c) => pg_query::<PgRow>(GET_SQL, &binds)
                        .fetch_optional(c)
                        .await?
                        .map(|r| r.into_interaction().0),
                    Raw::Sqlite(c) => {
                        lite_query(c, GET_SQL, &lite_binds(&binds), lite_interaction)?
                            .pop()
                            .map(|r| r.0)
                    }
                };
                Ok(vec![row.ok_or("not found")?.id])
            }
            (Op::Create, raw) => {
                let n = self.creates.fetch_add(1, Ordering::Relaxed);
                let new = new_interaction(n);
                let (start, end) = (instant(new.start), instant(new.end));
                let now = Utc::now().trunc_subsecs(6);
                let changes = json!({
                    "title": new.title, "type": new.interaction_type, "lead": new.lead,
                    "start_datetime": ts_json(start), "end_datetime": ts_json(end),
                    "timezone": new.timezone, "location": new.location,
                    "description": new.description, "notes": new.notes,
                });
                let created = match raw {
                    // One statement in autocommit: the row and its audit row.
                    Raw::Pg(c) => {
                        sqlx::query_as::<_, PgRow>(CREATE_PG)
                            .bind(wsite)
                            .bind(new.title)
                            .bind(new.interaction_type)
                            .bind(new.lead)
                            .bind(start)
                            .bind(end)
                            .bind(new.timezone)
                            .bind(new.location)
                            .bind(new.description)
                            .bind(new.notes)
                            .bind(user)
                            .bind(now)
                            .bind(Utc::now())
                            .bind(Some(user))
                            .bind(Some(wsite))
                            .bind("create")
                            .bind("interaction")
                            .bind(changes.to_string())
                            .fetch_one(c)
                            .await?
                            .into_interaction()
                            .0
                    }
                    Raw::Sqlite(c) => {
                        let tx = rusqlite::Transaction::new_unchecked(
                            c,
                            rusqlite::TransactionBehavior::Immediate,
                        )?;
                        let created = lite_query(
                            &tx,
                            CREATE_SQLITE,
                            &[
                                &wsite,
                                &new.title,
                                &new.interaction_type,
                                &new.lead,
                                &start.timestamp_micros(),
                                &end.timestamp_micros(),
                                &new.timezone,
                                &new.location,
                                &new.description,
                                &new.notes,
                                &user,
                                &now.timestamp_micros(),
                            ],
                            lite_interaction,
                        )?
                        .pop()
                        .ok_or("no row")?
                        .0;
                        lite_audit(&tx, user, wsite, "create", created.id, &changes)?;
                        tx.commit()?;
                        created
                    }
                };
                Ok(vec![created.id])
            }
            (Op::Update, raw) => {
                let t = &self.hand_target;
                let title = t.next_title();
                let expected = t.version.load(Ordering::Relaxed);
                let conflict = |v: i64| format!("version {v}, expected {expected}");
                let id = t.id as i32;
                let updated = match raw {
                    // BEGIN, lock, then the UPDATE and its audit row in one statement.
                    Raw::Pg(c) => {
                        let mut tx = c.begin().await?;
                        let cur = sqlx::query_as::<_, PgRow>(LOCK_PG)
                            .bind(id)
                            .bind(wsite)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or("not found")?
                            .into_interaction()
                            .0;
                        if cur.version != expected {
                            return Err(conflict(cur.version).into());
                        }
                        let now = Utc::now().trunc_subsecs(6);
                        let changes = json!({"title": {"old": cur.title, "new": title}});
                        let updated = sqlx::query_as::<_, PgRow>(UPDATE_PG)
                            .bind(title)
                            .bind(now)
                            .bind(user)
                            .bind(id)
                            .bind(wsite)
                            .bind(Utc::now())
                            .bind(Some(user))
                            .bind(Some(wsite))
                            .bind("update")
                            .bind("interaction")
                            .bind(changes.to_string())
                            .fetch_one(&mut *tx)
                            .await?
                            .into_interaction()
                            .0;
                        tx.commit().await?;
                        updated
                    }
                    Raw::Sqlite(c) => {
                        let tx = rusqlite::Transaction::new_unchecked(
                            c,
                            rusqlite::TransactionBehavior::Immediate,
                        )?;
                        let cur = lite_query(&tx, LOCK_SQLITE, &[&id, &wsite], lite_interaction)?
                            .pop()
                            .ok_or("not found")?
                            .0;
                        if cur.version != expected {
                            return Err(conflict(cur.version).into());
                        }
                        let now = Utc::now().trunc_subsecs(6);
                        let updated = lite_query(
                            &tx,
                            UPDATE_SQLITE,
                            &[&title, &now.timestamp_micros(), &user, &id, &wsite],
                            lite_interaction,
                        )?
                        .pop()
                        .ok_or("not found")?
                        .0;
                        let changes = json!({"title": {"old": cur.title, "new": title}});
                        lite_audit(&tx, user, wsite, "update", updated.id, &changes)?;
                        tx.commit()?;
                        updated
                    }
                };
                t.version.store(updated.version, Ordering::Relaxed);
                Ok(vec![updated.id])
            }
            (Op::Find(s), raw) => {
                let (sql, binds) = &self.hand[shape_index(s)];
                let mut rows: Vec<(Interaction, Option<f64>)> = match raw {
                    Raw::Pg(c) => sqlx::raw_sql(sqlx::AssertSqlSafe(inline_pg(sql, binds)))
                        .fetch_all(c)
                        .await?
                        .iter()
                        .map(|r| {
                            <PgRow as sqlx::FromRow<_>>::from_row(r).map(PgRow::into_interaction)
                        })
                        .collect::<std::result::Result<_, _>>()?,
                    Raw::Sqlite(c) => lite_query(c, sql, &lite_binds(binds), lite_interaction)?,
                };
                rows.truncate(PAGE);
                Ok(rows.iter().map(|r| r.0.id).collect())
            }
        }
    }

    /// The plan of `shape` with actual times: `EXPLAIN (ANALYZE, BUFFERS)` of the
    /// library's SQL and binds on PostgreSQL, `EXPLAIN QUERY PLAN` on SQLite.
    pub async fn explain_analyze(&self, shape: Shape) -> Result<String> {
        let (sql, binds) = &self.hand[shape_index(shape)];
        let mut raw = self.raw.lock().await;
        let lines: Vec<String> = match &mut *raw {
            Raw::Pg(c) => {
                let e = format!("EXPLAIN (ANALYZE, BUFFERS) {sql}");
                pg_query::<(String,)>(sqlx::AssertSqlSafe(e), binds)
                    .fetch_all(c)
                    .await?
                    .into_iter()
                    .map(|r| r.0)
                    .collect()
            }
            Raw::Sqlite(c) => {
                let e = format!("EXPLAIN QUERY PLAN {sql}");
                let rows = lite_query(c, &e, &lite_binds(binds), |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        0,
                        r.get::<_, String>(3)?,
                    ))
                })?;
                // Indent children under their parents.
                let mut depth = std::collections::HashMap::new();
                rows.into_iter()
                    .map(|(id, parent, _, detail)| {
                        let d = depth.get(&parent).map_or(0, |d| d + 1);
                        depth.insert(id, d);
                        format!("{}{detail}", "  ".repeat(d))
                    })
                    .collect()
            }
        };
        Ok(lines.join("\n"))
    }

    /// Compares the library's plan of `shape` (`Finder::explain`) with the plan of the
    /// hand-written SQL, node by node without costs. Differences point at different SQL.
    pub async fn same_plan(&self, shape: Shape) -> Result<bool> {
        let lib = self.finder(shape).explain().await?;
        let (sql, binds) = &self.hand[shape_index(shape)];
        let mut raw = self.raw.lock().await;
        let hand: Vec<String> = match &mut *raw {
            Raw::Pg(c) => {
                let e = format!("EXPLAIN {sql}");
                pg_query::<(String,)>(sqlx::AssertSqlSafe(e), binds)
                    .fetch_all(c)
                    .await?
                    .into_iter()
                    .map(|r| r.0)
                    .collect()
            }
            Raw::Sqlite(c) => {
                let e = format!("EXPLAIN QUERY PLAN {sql}");
                lite_query(c, &e, &lite_binds(binds), |r| r.get::<_, String>(3))?
            }
        };
        let strip = |l: &str| l.split("  (cost=").next().unwrap_or("").to_string();
        let a: Vec<String> = lib.lines().map(strip).collect();
        let b: Vec<String> = hand.iter().map(|l| strip(l)).collect();
        Ok(a == b)
    }

    /// The text of the statement a library connection ran last, read back from
    /// `pg_stat_activity` (connections that never ran one are skipped), and whether the
    /// view truncated it (`track_activity_query_size`). `None` on SQLite.
    async fn last_library_sql(&self) -> Result<Option<(String, bool)>> {
        let mut raw = self.raw.lock().await;
        let Raw::Pg(c) = &mut *raw else {
            return Ok(None);
        };
        let q: Option<(String, bool)> = sqlx::query_as(
            "SELECT query, octet_length(query) >= (SELECT setting::int FROM pg_settings \
             WHERE name = 'track_activity_query_size') - 1 FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'interaction-store' \
             AND pid <> pg_backend_pid() AND query_start IS NOT NULL AND query <> '' \
             ORDER BY query_start DESC LIMIT 1",
        )
        .fetch_optional(c)
        .await?;
        Ok(q.map(|(q, cut)| (q.trim_end_matches('\0').to_string(), cut)))
    }

    /// PostgreSQL only: runs `op` through the library, reads back the statement its
    /// connection ran last (`pg_stat_activity`, see `last_library_sql`) and checks that the
    /// hand-written SQL is the same text (a prefix of it if the view truncated it).
    /// `None` on SQLite, and for update, whose last statement is `COMMIT`.
    pub async fn check_same_sql(&self, op: Op) -> Result<Option<bool>> {
        let mine = match (self.fx.backend, op) {
            (Backend::Sqlite, _) | (_, Op::Update) => return Ok(None),
            (_, Op::Get) => GET_SQL.to_string(),
            (_, Op::Create) => CREATE_PG.to_string(),
            (_, Op::Find(s)) => {
                let (sql, binds) = &self.hand[shape_index(s)];
                inline_pg(sql, binds)
            }
        };
        self.run_lib(op).await?;
        Ok(Some(self.last_library_sql().await?.is_some_and(
            |(q, cut)| !q.is_empty() && (q == mine || (cut && mine.starts_with(q.as_str()))),
        )))
    }

    /// Audit rows of `action` on interaction `id` of the write site.
    pub async fn audit_rows(&self, id: i64, action: &str) -> Result<i64> {
        let sql = "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE site_id = $1 \
             AND entity = 'interaction' AND entity_id = $2 AND action = $3";
        let site = self.fx.write_site_id as i32;
        let mut raw = self.raw.lock().await;
        let (n,): (i64,) = match &mut *raw {
            Raw::Pg(c) => {
                sqlx::query_as(sql)
                    .bind(site)
                    .bind(id)
                    .bind(action)
                    .fetch_one(c)
                    .await?
            }
            Raw::Sqlite(c) => lite_query(c, sql, &[&site, &id, &action], |r| Ok((r.get(0)?,)))?
                .pop()
                .ok_or("no count")?,
        };
        Ok(n)
    }

    /// The interactions the update bench writes: (library's, hand-written side's).
    pub fn update_targets(&self) -> (i64, i64) {
        (self.lib_target.id, self.hand_target.id)
    }
}

fn shape_index(s: Shape) -> usize {
    Shape::ALL
        .iter()
        .position(|x| *x == s)
        .expect("every shape is in ALL")
}
