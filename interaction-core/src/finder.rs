//! The Finder (spec §3, §5.1): a builder over one site's interactions with free text,
//! substring, type, date-range and creator filters, four sort orders and keyset
//! pagination through opaque cursors.
//!
//! Performance rules it follows:
//! - recency (start, newest first) is the default order and uses the site-first
//!   `(site_id, start_datetime, interaction_id)` index at any depth;
//! - relevance ranks a bounded candidate set: the [`RELEVANCE_CANDIDATES`] most recent
//!   matches, so the most common term costs the same as a rare one;
//! - listing never counts; [`Finder::count`] is a separate call;
//! - substring filters escape LIKE metacharacters. Patterns of 3+ characters are served by
//!   trigram indexes on PostgreSQL; shorter ones cannot be, and are applied as a filter
//!   while walking the site's recency index, stopping at the page limit.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::backend::Sql;
use crate::cache::{Key as CacheKey, Kind};
use crate::cursor::{self, CursorKey, Key};
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::interactions::{Row, COLUMNS};
use crate::model::{Interaction, Role};
use crate::session::SiteSession;
use crate::validate;

mod stream;

pub use stream::{Pages, Rows};

/// Relevance ranking looks at most at this many matches (the most recent ones).
pub const RELEVANCE_CANDIDATES: i64 = 1000;
/// Largest page.
pub const MAX_LIMIT: u32 = 500;
/// Page size when none is given.
pub const DEFAULT_LIMIT: u32 = 50;
/// Most types accepted by [`Finder::types`].
pub const MAX_TYPES: usize = 50;
/// Longest free-text query, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// Sort order of a Finder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest start first (the default).
    #[default]
    StartDesc,
    /// Oldest start first.
    StartAsc,
    /// Most recently created first.
    CreatedDesc,
    /// Best free-text match first (needs [`Finder::text`]); ties broken by id.
    Relevance,
}

/// How [`Finder::date_range`] matches an interaction's `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeMode {
    /// The interaction overlaps the range (the default).
    #[default]
    Overlap,
    /// The interaction lies entirely within the range.
    Contained,
}

impl Sort {
    /// The name used by the bindings: `start_desc`, `start_asc`, `created_desc`, `relevance`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::StartDesc => "start_desc",
            Sort::StartAsc => "start_asc",
            Sort::CreatedDesc => "created_desc",
            Sort::Relevance => "relevance",
        }
    }
}

impl std::str::FromStr for Sort {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [Sort::StartDesc, Sort::StartAsc, Sort::CreatedDesc, Sort::Relevance]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::validation(
                    "sort",
                    format!("unknown sort {s:?} (expected start_desc, start_asc, created_desc or relevance)"),
                )
            })
    }
}

impl RangeMode {
    /// The name used by the bindings: `overlap` or `contained`.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeMode::Overlap => "overlap",
            RangeMode::Contained => "contained",
        }
    }
}

impl std::str::FromStr for RangeMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [RangeMode::Overlap, RangeMode::Contained]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::validation(
                    "date_range",
                    format!("unknown range mode {s:?} (expected overlap or contained)"),
                )
            })
    }
}

/// One page of Finder results.
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
/// # let t = Utc::now();
/// # for n in 0..3 { session.create_interaction(NewInteraction::new(format!("Call {n}"), "call", "Alice", t, t, "UTC")).await?; }
/// let mut all = Vec::new();
/// let mut page = session.finder().limit(2).await?;
/// loop {
///     all.extend(page.items);
///     match page.next_cursor {
///         Some(c) => page = session.finder().limit(2).after(c).await?,
///         None => break, // the last page
///     }
/// }
/// assert_eq!(all.len(), 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The interactions of this page, in the requested order.
    pub items: Vec<Interaction>,
    /// Give to [`Finder::after`] to fetch the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// A search over one site's interactions. Build it with [`SiteSession::finder`], then
/// `.await` it (or call [`fetch`](Self::fetch)) for a [`Page`].
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
/// use interaction_core::{RangeMode, Sort};
/// let start = Utc::now();
/// # for (title, ty) in [("Budget review", "meeting"), ("Budget call", "call"), ("Lunch", "meeting")] {
/// #     session.create_interaction(NewInteraction::new(title, ty, "Alice", start, start + Duration::hours(1), "UTC")).await?;
/// # }
/// let page = session
///     .finder()
///     .text("budget")                          // web-search syntax: "phrase", or, -word
///     .types(["meeting", "call"])
///     .date_range(start - Duration::days(1), start + Duration::days(1), RangeMode::Overlap)
///     .sort(Sort::StartDesc)
///     .limit(1)
///     .await?;                                 // or .fetch(), .count(), .pages(), .iterate()
/// assert_eq!(page.items.len(), 1);
/// // The next page: the same Finder, after the cursor (None on the last page).
/// if let Some(cursor) = page.next_cursor {
///     let next = session.finder().text("budget").types(["meeting", "call"])
///         .date_range(start - Duration::days(1), start + Duration::days(1), RangeMode::Overlap)
///         .limit(1).after(cursor).await?;
///     assert_eq!(next.items.len(), 1);
/// }
/// assert_eq!(session.finder().text("budget").count().await?, 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Finder does nothing until awaited"]
pub struct Finder {
    session: SiteSession,
    text: Option<String>,
    title: Option<String>,
    types: Vec<String>,
    lead: Option<String>,
    range: Option<(DateTime<Utc>, DateTime<Utc>, RangeMode)>,
    created_by: Option<i64>,
    include_deleted: bool,
    source: Source,
    masked: bool,
    sort: Sort,
    limit: u32,
    after: Option<String>,
}

/// Which interactions a Finder reads: live ones (the default), live and archived, or
/// archived only (spec §4.3: archived interactions are read through the Finder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Source {
    Live,
    WithArchived,
    ArchivedOnly,
}

impl Source {
    /// The `FROM` item, aliased `interactions` so that every filter reads the same.
    fn sql_item(self, q: &Sql) -> String {
        match self {
            Source::Live => "interactions".to_string(),
            Source::ArchivedOnly => "interactions_archive interactions".to_string(),
            Source::WithArchived => {
                let cols = format!(
                    "{}{}",
                    COLUMNS.replace("interactions.", ""),
                    q.dialect().search_columns()
                );
                format!(
                    "(SELECT {cols} FROM interactions UNION ALL \
                     SELECT {cols} FROM interactions_archive) interactions"
                )
            }
        }
    }
}

impl SiteSession {
    /// Starts a Finder over this site's interactions.
    pub fn finder(&self) -> Finder {
        Finder {
            session: self.clone(),
            text: None,
            title: None,
            types: Vec::new(),
            lead: None,
            range: None,
            created_by: None,
            include_deleted: false,
            source: Source::Live,
            masked: false,
            sort: Sort::default(),
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl Finder {
    /// Free text over title, description and notes, web-search syntax: `"exact phrase"`,
    /// `or`, `-excluded`.
    pub fn text(mut self, query: impl Into<String>) -> Self {
        self.text = Some(query.into());
        self
    }

    /// Title contains `s`, case-insensitively.
    pub fn title_contains(mut self, s: impl Into<String>) -> Self {
        self.title = Some(s.into());
        self
    }

    /// Type is one of `types`.
    pub fn types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Lead contains `s`, case-insensitively.
    pub fn lead_contains(mut self, s: impl Into<String>) -> Self {
        self.lead = Some(s.into());
        self
    }

    /// Interactions overlapping (or contained in) `[from, to]`.
    pub fn date_range(mut self, from: DateTime<Utc>, to: DateTime<Utc>, mode: RangeMode) -> Self {
        self.range = Some((from, to, mode));
        self
    }

    /// Created by `user_id`.
    pub fn created_by(mut self, user_id: i64) -> Self {
        self.created_by = Some(user_id);
        self
    }

    /// Include soft-deleted interactions (admin only).
    pub fn include_deleted(mut self, yes: bool) -> Self {
        self.include_deleted = yes;
        self
    }

    /// Also return archived interactions (read-only, with
    /// [`archived_at`](crate::Interaction::archived_at) set), in the same pages and order
    /// as live ones. Default `false`.
    pub fn include_archived(mut self, yes: bool) -> Self {
        self.source = match (yes, self.source) {
            (true, Source::Live) => Source::WithArchived,
            (false, Source::WithArchived) => Source::Live,
            (_, s) => s,
        };
        self
    }

    /// Return archived interactions only. Default `false`.
    pub fn archived_only(mut self, yes: bool) -> Self {
        self.source = match (yes, self.source) {
            (true, _) => Source::ArchivedOnly,
            (false, Source::ArchivedOnly) => Source::Live,
            (false, s) => s,
        };
        self
    }

    /// Return every item masked as the `interactions_masked` view shows it
    /// ([`Interaction::masked`]: description and notes hidden, lead reduced to initials).
    pub fn masked(mut self, yes: bool) -> Self {
        self.masked = yes;
        self
    }

    /// Sort order; default [`Sort::StartDesc`].
    pub fn sort(mut self, sort: Sort) -> Self {
        self.sort = sort;
        self
    }

    /// Page size, 1–500; default 50.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Continue after the page that returned `cursor`.
    pub fn after(mut self, cursor: impl Into<String>) -> Self {
        self.after = Some(cursor.into());
        self
    }

    /// Validates the inputs, then re-checks the session (admin for deleted rows).
    async fn validate(&self) -> Result<()> {
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        self.validate_filters()?;
        if self.include_deleted {
            self.session
                .authorize(Role::Admin, "searching deleted interactions")
                .await?;
        } else {
            self.session
                .authorize(Role::Viewer, "searching interactions")
                .await?;
        }
        Ok(())
    }

    fn validate_filters(&self) -> Result<()> {
        if let Some(t) = &self.text {
            validate::required("text", t, MAX_TEXT_CHARS)?;
            parse_websearch(t)?;
        } else if self.sort == Sort::Relevance {
            return Err(Error::validation(
                "sort",
                "relevance needs a free-text query",
            ));
        }
        validate::optional("title_contains", self.title.as_deref(), 255)?;
        validate::optional("lead_contains", self.lead.as_deref(), 100)?;
        if self.types.len() > MAX_TYPES {
            return Err(Error::validation(
                "types",
                format!("at most {MAX_TYPES} types"),
            ));
        }
        for t in &self.types {
            validate::required("types", t, 50)?;
        }
        if let Some((from, to, _)) = self.range {
            validate::in_range("date_range", from)?;
            validate::in_range("date_range", to)?;
            if to < from {
                return Err(Error::validation(
                    "date_range",
                    "end must not be before start",
                ));
            }
        }
        if let Some(u) = self.created_by {
            validate::id("created_by", u)?;
        }
        Ok(())
    }

    /// The query's identity for cursors: everything but the page size and position.
    fn fingerprint(&self) -> String {
        cursor::fingerprint(&json!({
            "site": self.session.site_id, "text": self.text, "title": self.title,
            "types": self.types, "lead": self.lead,
            "range": self.range.map(|(f, t, m)| (f.timestamp_micros(), t.timestamp_micros(), m)),
            "created_by": self.created_by, "deleted": self.include_deleted, "sort": self.sort,
            "source": self.source,
        }))
    }

    /// Appends every filter to a scoped query.
    /// `text_joined`: the free-text match is already a join of the query.
    fn push_filters(&self, q: &mut Sql, text_joined: bool) -> Result<()> {
        let ilike = q.dialect().ilike();
        if !self.include_deleted {
            q.push(" AND interactions.deleted_at IS NULL");
        }
        if let Some(t) = self.text.as_ref().filter(|_| !text_joined) {
            q.dialect().text_match(q, t)?;
        }
        if let Some(s) = &self.title {
            q.push(" AND interactions.title ")
                .push(ilike)
                .push(" ")
                .bind(like_pattern(s))
                .push(" ESCAPE '\\'");
        }
        if let Some(s) = &self.lead {
            q.push(" AND interactions.lead ")
                .push(ilike)
                .push(" ")
                .bind(like_pattern(s))
                .push(" ESCAPE '\\'");
        }
        if !self.types.is_empty() {
            q.push(" AND interactions.type IN (");
            for (i, t) in self.types.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.bind(t.as_str());
            }
            q.push(")");
        }
        if let Some((from, to, mode)) = self.range {
            match mode {
                RangeMode::Overlap => q
                    .push(" AND interactions.start_datetime <= ")
                    .bind(to)
                    .push(" AND interactions.end_datetime >= ")
                    .bind(from),
                RangeMode::Contained => q
                    .push(" AND interactions.start_datetime >= ")
                    .bind(from)
                    .push(" AND interactions.end_datetime <= ")
                    .bind(to),
            };
        }
        if let Some(u) = self.created_by {
            q.push(" AND interactions.created_by = ").bind(u as i32);
        }
        Ok(())
    }

    /// Builds the page query (fetching `limit + 1` rows to know whether more follow).
    fn page_sql(&self, key: &CursorKey) -> Result<(Sql, String)> {
        self.validate_filters()?;
        let fp = self.fingerprint();
        let after = self
            .after
            .as_deref()
            .map(|c| cursor::decode(key, c, &fp))
            .transpose()?;
        let fetch = i64::from(self.limit) + 1;
        if self.sort == Sort::Relevance {
            let text = self.text.as_deref().expect("validated");
            let mut text_joined = Ok(false);
            let mut q = self.session.scoped(|q| {
                q.push("SELECT * FROM (SELECT ").push(COLUMNS).push(", ");
                let from = self.source.sql_item(q);
                text_joined = q.dialect().ranked_from(q, text, &from);
            });
            self.push_filters(&mut q, text_joined?)?;
            q.push(" ORDER BY interactions.start_datetime DESC, interactions.interaction_id DESC LIMIT ")
                .bind(RELEVANCE_CANDIDATES)
                .push(") ranked");
            if let Some(c) = after {
                let Key::Rank(r) = c.k else {
                    return Err(Error::validation("cursor", "belongs to a different query"));
                };
                if !r.is_finite() {
                    return Err(Error::validation("cursor", "is malformed"));
                }
                q.push(" WHERE (rank < ")
                    .bind(r)
                    .push(" OR (rank = ")
                    .bind(r)
                    .push(" AND interaction_id < ")
                    .bind(c.id)
                    .push("))");
            }
            q.push(" ORDER BY rank DESC, interaction_id DESC LIMIT ")
                .bind(fetch)
                .custom_plan();
            return Ok((q, fp));
        }
        let (col, dir, op) = match self.sort {
            Sort::StartDesc => ("start_datetime", "DESC", "<"),
            Sort::StartAsc => ("start_datetime", "ASC", ">"),
            Sort::CreatedDesc => ("created_at", "DESC", "<"),
            Sort::Relevance => unreachable!("handled above"),
        };
        let mut q = self.session.scoped(|q| {
            let from = self.source.sql_item(q);
            q.push("SELECT ").push(COLUMNS).push(" FROM ").push(&from);
        });
        self.push_filters(&mut q, false)?;
        if let Some(c) = after {
            let Key::Micros(m) = c.k else {
                return Err(Error::validation("cursor", "belongs to a different query"));
            };
            let t = DateTime::from_timestamp_micros(m)
                .and_then(|t| validate::in_range("cursor", t).ok())
                .ok_or_else(|| Error::validation("cursor", "is malformed"))?;
            q.push(&format!(
                " AND (interactions.{col}, interactions.interaction_id) {op} ("
            ))
            .bind(t)
            .push(", ")
            .bind(c.id as i32)
            .push(")");
        }
        q.push(&format!(
            " ORDER BY interactions.{col} {dir}, interactions.interaction_id {dir} LIMIT "
        ))
        .bind(fetch)
        .custom_plan();
        Ok((q, fp))
    }

    /// Runs the query and returns one page.
    pub async fn fetch(self) -> Result<Page> {
        let (session, masked) = (self.session.clone(), self.masked);
        let r = self.fetch_page().await.map(|mut p| {
            if masked {
                p.items = p.items.iter().map(Interaction::masked).collect();
            }
            p
        });
        session.log_read("search", || "finder".into(), r).await
    }

    async fn fetch_page(self) -> Result<Page> {
        self.validate().await?;
        let key = self.session.store.cursor_key().await?;
        let (q, fp) = self.page_sql(&key)?;
        let entry = CacheKey::Finder {
            site: self.session.site_id,
            statement: q.digest(),
        };
        let this = &self;
        let op = Op::site("finder", self.session.site_id);
        self.session
            .store
            .cached(&op, Kind::Finder, entry, |min_lsn| async move {
                Ok((this.page(&key, &fp, q, min_lsn).await?, None))
            })
            .await
    }

    /// Runs the page query and builds the page and its cursor.
    /// `min_lsn`: the newest commit to the site's rows the cache has seen (a result from a
    /// replica that lacks it must not be cached).
    async fn page(&self, key: &CursorKey, fp: &str, q: Sql, min_lsn: u64) -> Result<Page> {
        let op = Op::site("finder", self.session.site_id);
        let fresh = Fresh::Recent(self.session.seen().max(min_lsn));
        let mut rows: Vec<RankedRow> = self.session.store.read_all(op, fresh, q).await?;
        let more = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let next_cursor = match rows.last() {
            Some(last) if more => {
                let k = match self.sort {
                    Sort::StartDesc | Sort::StartAsc => Key::Micros(last.row.start_micros()),
                    Sort::CreatedDesc => Key::Micros(last.row.created_micros()),
                    Sort::Relevance => Key::Rank(last.rank.unwrap_or_default()),
                };
                Some(cursor::encode(key, fp, k, last.row.id()))
            }
            _ => None,
        };
        let items = rows.into_iter().map(|r| Interaction::from(r.row)).collect();
        Ok(Page { items, next_cursor })
    }

    /// Counts every match of the filters (ignores sort, limit and cursor). A separate
    /// query: listing never pays for it.
    pub async fn count(self) -> Result<u64> {
        let session = self.session.clone();
        let r = self.count_matches().await;
        session.log_read("count", || "finder".into(), r).await
    }

    async fn count_matches(self) -> Result<u64> {
        self.validate().await?;
        let mut q = self.session.scoped(|q| {
            let from = self.source.sql_item(q);
            q.push("SELECT count(*) FROM ").push(&from);
        });
        self.push_filters(&mut q, false)?;
        q.custom_plan();
        let site = self.session.site_id;
        let seen = self.session.seen();
        let store = &self.session.store;
        let entry = CacheKey::Finder {
            site,
            statement: q.digest(),
        };
        store
            .cached(
                &Op::site("finder_count", site),
                Kind::Finder,
                entry,
                |min_lsn| async move {
                    let op = Op::site("finder_count", site);
                    let fresh = Fresh::Reporting(seen.max(min_lsn));
                    let (n,): (i64,) = store.read_opt(op, fresh, q).await?.unwrap_or((0,));
                    Ok((n as u64, None))
                },
            )
            .await
    }

    /// The database's plan for this page query (`EXPLAIN` on PostgreSQL, `EXPLAIN QUERY
    /// PLAN` on SQLite), one line per plan node. For checking index use.
    pub async fn explain(self) -> Result<String> {
        self.validate().await?;
        let key = self.session.store.cursor_key().await?;
        let (q, _) = self.page_sql(&key)?;
        let op = Op::site("finder_explain", self.session.site_id);
        self.session.store.explain(op, q).await
    }
}

impl IntoFuture for Finder {
    type Output = Result<Page>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Page>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.fetch())
    }
}

/// Escapes LIKE metacharacters and wraps in `%…%`.
pub(crate) fn like_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Parses web-search syntax (`"phrase"`, `or`, `-word`, bare words) into an FTS5 query
/// in which every word is quoted, so user input can never be FTS5 syntax. Words are runs
/// of letters and digits, as PostgreSQL's parser splits them. Each `or` alternative needs
/// at least one word that is not excluded; otherwise the query is a validation error on
/// both backends.
pub(crate) fn parse_websearch(input: &str) -> Result<String> {
    #[derive(Debug)]
    enum Tok {
        Term { words: Vec<String>, negated: bool },
        Or,
    }
    let words_of = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| w.to_lowercase())
            .collect()
    };
    let mut toks = Vec::new();
    let mut rest = input;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let negated = c == '-';
        let body = if negated { &rest[1..] } else { rest };
        if let Some(after_quote) = body.strip_prefix('"') {
            let end = after_quote.find('"').unwrap_or(after_quote.len());
            let words = words_of(&after_quote[..end]);
            if !words.is_empty() {
                toks.push(Tok::Term { words, negated });
            }
            rest = after_quote.get(end + 1..).unwrap_or("");
            continue;
        }
        let end = body.find(char::is_whitespace).unwrap_or(body.len());
        let raw = &body[..end];
        rest = &body[end..];
        if !negated && raw.eq_ignore_ascii_case("or") {
            toks.push(Tok::Or);
            continue;
        }
        // Inside a bare word, punctuation splits words that must follow each other, as
        // in PostgreSQL ("e-mail" is the phrase "e mail").
        let words = words_of(raw);
        if !words.is_empty() {
            toks.push(Tok::Term { words, negated });
        }
    }
    let mut groups: Vec<(Vec<String>, Vec<String>)> = vec![(Vec::new(), Vec::new())];
    for t in toks {
        match t {
            Tok::Or => {
                if groups
                    .last()
                    .is_some_and(|(p, n)| !p.is_empty() || !n.is_empty())
                {
                    groups.push((Vec::new(), Vec::new()));
                }
            }
            Tok::Term { words, negated } => {
                let phrase = format!("\"{}\"", words.join(" "));
                let g = groups.last_mut().expect("one group");
                if negated {
                    g.1.push(phrase);
                } else {
                    g.0.push(phrase);
                }
            }
        }
    }
    groups.retain(|(p, n)| !p.is_empty() || !n.is_empty());
    if groups.is_empty() || groups.iter().any(|(p, _)| p.is_empty()) {
        return Err(Error::validation(
            "text",
            "needs at least one word to search for (excluded words alone cannot be searched)",
        ));
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(pos, neg)| {
            let mut s = format!("({})", pos.join(" AND "));
            for n in neg {
                s.push_str(" NOT ");
                s.push_str(&n);
            }
            format!("({s})")
        })
        .collect();
    Ok(parts.join(" OR "))
}

#[cfg_attr(feature = "postgres", derive(sqlx::FromRow))]
struct RankedRow {
    #[cfg_attr(feature = "postgres", sqlx(flatten))]
    row: Row,
    #[cfg_attr(feature = "postgres", sqlx(default))]
    rank: Option<f64>,
}

#[cfg(feature = "sqlite")]
impl crate::backend::LiteRow for RankedRow {
    fn from_lite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let ranked = row.as_ref().column_index("rank").is_ok();
        Ok(RankedRow {
            row: Row::from_lite(row)?,
            rank: if ranked { row.get("rank")? } else { None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in [
            Sort::StartDesc,
            Sort::StartAsc,
            Sort::CreatedDesc,
            Sort::Relevance,
        ] {
            assert_eq!(s.as_str().parse::<Sort>().unwrap(), s);
        }
        for m in [RangeMode::Overlap, RangeMode::Contained] {
            assert_eq!(m.as_str().parse::<RangeMode>().unwrap(), m);
        }
        assert_eq!(
            "sideways".parse::<Sort>().unwrap_err().field(),
            Some("sort")
        );
    }

    #[test]
    fn like_patterns_escape_metacharacters() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn websearch_translates_to_quoted_fts5() {
        assert_eq!(
            parse_websearch("budget review").unwrap(),
            "((\"budget\" AND \"review\"))"
        );
        assert_eq!(
            parse_websearch("\"annual budget\" -draft").unwrap(),
            "((\"annual budget\") NOT \"draft\")"
        );
        assert_eq!(
            parse_websearch("cat or dog").unwrap(),
            "((\"cat\")) OR ((\"dog\"))"
        );
        assert_eq!(parse_websearch("e-mail").unwrap(), "((\"e mail\"))");
        // FTS5 syntax in user input is quoted away.
        assert_eq!(
            parse_websearch("title:x* NEAR(a b) AND ^c").unwrap(),
            "((\"title x\" AND \"near a\" AND \"b\" AND \"and\" AND \"c\"))"
        );
        for bad in ["-draft", "\"\"", "***", "or", "a or -b"] {
            assert_eq!(
                parse_websearch(bad).unwrap_err().field(),
                Some("text"),
                "{bad}"
            );
        }
    }
}
