//! Site-scoped sessions and permissions (spec §2.3).
//!
//! A [`SiteSession`] is bound to one user, one site and that user's role there. Every
//! interaction query it runs is built by [`SiteSession::scoped`], which appends the site
//! predicate itself: there is no other way in this crate to build a query over
//! `interactions` from a session, so a new query cannot forget the site.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditPage, AuditRow};
use crate::auth::token_hash;
use crate::backend::{Arg, Sql, Ts};
use crate::cache::{Gen, Key as CacheKey, Kind};
use crate::cursor::{self, Key};
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::model::{Member, Role};
use crate::store::InteractionStore;
use crate::{sites, validate};

/// A user's view of one site, with that user's role there. Cheap to clone.
///
/// Every call re-checks the session before it runs (fail closed): the login token still
/// valid, the user still active, still a member of the site with a role that allows the
/// call, the site still active. The check is served by the permission cache, which every
/// logout, password change, deactivation, role change and removal invalidates when it
/// commits, in every process sharing the cache (see `StoreOptions::redis_url`).
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
/// let token = store.login("alice", "correct horse battery").await?.token;
/// let session = store.session(&token, site.id).await?; // or session_for_user(user_id, site_id)
/// let start = Utc::now();
/// let i = session
///     .create_interaction(NewInteraction::new("Kickoff", "meeting", "Alice", start, start, "UTC"))
///     .await?;
/// assert_eq!(session.get_interaction(i.id).await?.site_id, site.id);
/// session.delete_interaction(i.id, Some(i.version)).await?;
/// session.restore_interaction(i.id).await?; // admins, within the retention period
/// let trail = session.audit_trail(10, None).await?; // admins; newest first
/// let actions: Vec<&str> = trail.entries.iter().take(3).map(|e| e.action.as_str()).collect();
/// assert_eq!(actions, ["restore", "delete", "create"]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SiteSession {
    pub(crate) store: InteractionStore,
    pub(crate) user_id: i32,
    pub(crate) site_id: i32,
    /// The role when the session was opened (each call uses the current one).
    pub(crate) role: Role,
    /// The hash of the login token the session was opened with, if any.
    pub(crate) token: Option<[u8; 32]>,
    /// The newest commit LSN this session wrote or was given (0: none); shared by clones.
    pub(crate) seen: Arc<AtomicU64>,
}

impl std::fmt::Debug for SiteSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteSession")
            .field("user_id", &self.user_id)
            .field("site_id", &self.site_id)
            .field("role", &self.role)
            .finish()
    }
}

/// What the database says of a user's access to a site, as cached.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Access {
    /// Allowed with `role`, until the login token expires (if there is one).
    Granted {
        role: Role,
        until: Option<DateTime<Utc>>,
    },
    /// The token is unknown, revoked or expired, or its user inactive.
    Unauthenticated,
    /// No such user (a session opened by user id).
    NoUser,
    /// Known and authenticated, but not allowed: why.
    Denied(String),
}

impl Access {
    fn role(self, user: i32, now: DateTime<Utc>) -> Result<Role> {
        match self {
            Access::Granted { until, .. } if until.is_some_and(|t| t <= now) => {
                Err(Error::AuthenticationFailed)
            }
            Access::Granted { role, .. } => Ok(role),
            Access::Unauthenticated => Err(Error::AuthenticationFailed),
            Access::NoUser => Err(Error::not_found("user", user)),
            Access::Denied(why) => Err(Error::denied(why)),
        }
    }

    /// How long it may be cached: not past the token's expiry.
    fn ttl(&self, now: DateTime<Utc>) -> Option<Duration> {
        match self {
            Access::Granted { until: Some(t), .. } => {
                Some((*t - now).to_std().unwrap_or(Duration::ZERO))
            }
            _ => None,
        }
    }
}

/// User active, role at the site, site active, token expiry.
type AccessRow = (bool, Option<String>, Option<bool>, Option<Ts>);

impl InteractionStore {
    /// Opens a session on `site_id` for the user holding login `token`.
    ///
    /// An unknown, expired or revoked token is [`Error::AuthenticationFailed`]; a user
    /// without a role at the site, or an inactive site, is [`Error::PermissionDenied`].
    pub async fn session(&self, token: &str, site_id: i64) -> Result<SiteSession> {
        validate::no_nul("token", token)?;
        let site = validate::id("site_id", site_id)?;
        let hash: [u8; 32] = token_hash(token)
            .try_into()
            .map_err(|_| Error::internal("a token hash is 32 bytes"))?;
        let user = self
            .token_user(hash, site)
            .await?
            .ok_or(Error::AuthenticationFailed)?;
        self.open(user, site, Some(hash)).await
    }

    /// Opens a session for a user the host application authenticated itself.
    ///
    /// An unknown user is [`Error::NotFound`]; an inactive user, no role at the site or
    /// an inactive site is [`Error::PermissionDenied`].
    pub async fn session_for_user(&self, user_id: i64, site_id: i64) -> Result<SiteSession> {
        let user = validate::id("user_id", user_id)?;
        let site = validate::id("site_id", site_id)?;
        self.open(user, site, None).await
    }

    async fn open(&self, user: i32, site: i32, token: Option<[u8; 32]>) -> Result<SiteSession> {
        let role = self.access(user, site, token).await?;
        Ok(SiteSession {
            store: self.clone(),
            user_id: user,
            site_id: site,
            role,
            token,
            seen: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The user a live login token belongs to (auth cache; unknown tokens are not cached).
    async fn token_user(&self, hash: [u8; 32], site: i32) -> Result<Option<i32>> {
        let op = Op::site("session", site);
        self.cached(&op, Kind::Auth, CacheKey::TokenUser(hash), |_| async move {
            let q = Sql::fixed(
                self.backend(),
                "SELECT user_id, expires_at FROM auth_sessions \
                 WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
                vec![Arg::Bytes(hash.to_vec()), Arg::Ts(self.now())],
            );
            let row: Option<(i32, Ts)> = self
                .read_opt(Op::site("session", site), Fresh::Latest, q)
                .await?;
            Ok(match row {
                Some((user, until)) => {
                    let ttl = (until.0 - self.now()).to_std().unwrap_or(Duration::ZERO);
                    (Some(user), Some(ttl))
                }
                None => (None, Some(Duration::ZERO)),
            })
        })
        .await
    }

    /// `user`'s current role at `site` (through login `token` if given), or why not
    /// (permission cache).
    pub(crate) async fn access(
        &self,
        user: i32,
        site: i32,
        token: Option<[u8; 32]>,
    ) -> Result<Role> {
        let key = CacheKey::Access { user, site, token };
        let access = self
            .cached(
                &Op::site("session_check", site),
                Kind::Permissions,
                key,
                |_| async move {
                    let a = self.load_access(user, site, token).await?;
                    let ttl = a.ttl(self.now());
                    Ok((a, ttl))
                },
            )
            .await?;
        access.role(user, self.now())
    }

    async fn load_access(&self, user: i32, site: i32, token: Option<[u8; 32]>) -> Result<Access> {
        let b = self.backend();
        let mut q = Sql::new(b, "SELECT u.is_active, m.role, s.is_active, ");
        match token {
            Some(t) => {
                q.push("(SELECT a.expires_at FROM auth_sessions a WHERE a.token_hash = ")
                    .bind(t.to_vec())
                    .push(" AND a.user_id = u.user_id AND a.revoked_at IS NULL)");
            }
            None => {
                q.push("NULL");
            }
        }
        q.push(
            " FROM users u LEFT JOIN user_site_mapping m ON m.user_id = u.user_id AND m.site_id = ",
        )
        .bind(site)
        .push(" LEFT JOIN sites s ON s.site_id = m.site_id WHERE u.user_id = ")
        .bind(user);
        let row: Option<AccessRow> = self
            .read_opt(Op::site("session_check", site), Fresh::Latest, q)
            .await?;
        let now = self.now();
        Ok(match (row, token) {
            (None, Some(_)) => Access::Unauthenticated,
            (None, None) => Access::NoUser,
            (Some((_, _, _, until)), Some(_)) if until.as_ref().is_none_or(|t| t.0 <= now) => {
                Access::Unauthenticated
            }
            (Some((false, ..)), Some(_)) => Access::Unauthenticated,
            (Some((false, ..)), None) => Access::Denied("the user is inactive".into()),
            (Some((true, None, ..)), _) => {
                Access::Denied("the user has no role at this site".into())
            }
            (Some((true, Some(_), site_active, _)), _) if site_active != Some(true) => {
                Access::Denied("the site is inactive".into())
            }
            (Some((true, Some(role), _, until)), _) => Access::Granted {
                role: role.parse()?,
                until: until.map(|t| t.0),
            },
        })
    }
}

impl SiteSession {
    /// The session's user.
    pub fn user_id(&self) -> i64 {
        self.user_id.into()
    }

    /// The session's site.
    pub fn site_id(&self) -> i64 {
        self.site_id.into()
    }

    /// The user's role at the site when the session was opened. Each call checks the
    /// current one.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Re-checks the session now, as every call does (token valid, user active, still a
    /// member, site active; served by the permission cache), and returns the user's
    /// current role there. For a host application that wants to know before it renders.
    pub async fn verify(&self) -> Result<Role> {
        self.authorize(Role::Viewer, "using the site").await
    }

    /// The store this session runs on.
    pub fn store(&self) -> &InteractionStore {
        &self.store
    }

    /// The session's consistency token: the commit position (PostgreSQL LSN, e.g.
    /// `0/16B3748`) of the newest write it made or was given, `None` before any (and
    /// always on a store without replicas, where every read is consistent).
    ///
    /// Reads of this session that replicas may serve go to a replica only once it has
    /// replayed this position (read your writes, spec §5.4). It is a plain string: hand it
    /// to the next request (an HTTP header, a cookie) and open that request's session
    /// with [`with_consistency_token`](Self::with_consistency_token), in any process or
    /// language, to see the writes too.
    pub fn consistency_token(&self) -> Option<String> {
        match self.seen.load(Ordering::Acquire) {
            0 => None,
            lsn => Some(crate::backend::format_lsn(lsn)),
        }
    }

    /// Raises the session's consistency token to `token` (from
    /// [`consistency_token`](Self::consistency_token), maybe of another process): its
    /// reads then see every write up to it. Clones share the token. A malformed token is
    /// [`Error::Validation`] on `consistency_token`.
    pub fn with_consistency_token(self, token: &str) -> Result<SiteSession> {
        let lsn = crate::backend::parse_lsn(token).ok_or_else(|| {
            Error::validation(
                "consistency_token",
                "expected a token from consistency_token(), e.g. 0/16B3748",
            )
        })?;
        self.seen.fetch_max(lsn, Ordering::AcqRel);
        Ok(self)
    }

    /// The session's consistency token as an LSN (0: none).
    pub(crate) fn seen(&self) -> u64 {
        self.seen.load(Ordering::Acquire)
    }

    /// A write of this session: traced with its site, recording its commit LSN.
    pub(crate) fn write_op(&self, name: &'static str) -> Op {
        Op::site(name, self.site_id).records(&self.seen)
    }

    /// Re-checks the session (see [`SiteSession`]) and fails with
    /// [`Error::PermissionDenied`] unless the current role is at least `min`; a revoked or
    /// expired token is [`Error::AuthenticationFailed`].
    pub(crate) async fn authorize(&self, min: Role, action: &str) -> Result<Role> {
        let role = self
            .store
            .access(self.user_id, self.site_id, self.token)
            .await?;
        if role >= min {
            Ok(role)
        } else {
            Err(Error::denied(format!(
                "{action} needs the {min} role; this session is {role}"
            )))
        }
    }

    /// The one way to query `interactions` from a session: `head` writes the statement up
    /// to its WHERE clause, then the site predicate is appended. Callers add `AND ...`.
    pub(crate) fn scoped(&self, head: impl FnOnce(&mut Sql)) -> Sql {
        let mut q = self.store.sql("");
        head(&mut q);
        q.push(" WHERE interactions.site_id = ").bind(self.site_id);
        q
    }

    /// [`scoped`](Self::scoped) for one row by primary key. The site predicate is written
    /// `site_id + 0` so that no planner prefers a site index over the primary key: with
    /// stale statistics (a new site that grew since the last ANALYZE) PostgreSQL otherwise
    /// scanned the whole site for a single-row update (8.9 ms instead of a key lookup).
    pub(crate) fn scoped_row(&self, id: i32, head: impl FnOnce(&mut Sql)) -> Sql {
        let mut q = self.store.sql("");
        head(&mut q);
        q.push(" WHERE interactions.interaction_id = ")
            .bind(id)
            .push(" AND interactions.site_id + 0 = ")
            .bind(self.site_id);
        q
    }

    /// Gives `user_id` a role at this site (admin only).
    pub async fn set_member_role(&self, user_id: i64, role: Role) -> Result<()> {
        let user = validate::id("user_id", user_id)?;
        self.authorize(Role::Admin, "managing members").await?;
        let (actor, site) = (self.user_id, self.site_id);
        let op = self
            .write_op("set_member_role")
            .invalidates(Gen::User(user));
        self.store
            .write(op, move |tx| {
                Box::pin(async move {
                    sites::set_role(tx, Some(actor), site, user, role).await?;
                    Ok(())
                })
            })
            .await
    }

    /// Removes `user_id` from this site (admin only).
    pub async fn remove_member(&self, user_id: i64) -> Result<()> {
        let user = validate::id("user_id", user_id)?;
        self.authorize(Role::Admin, "managing members").await?;
        let (actor, site) = (self.user_id, self.site_id);
        let op = self.write_op("remove_member").invalidates(Gen::User(user));
        self.store
            .write(op, move |tx| {
                Box::pin(async move {
                    sites::remove_member(tx, Some(actor), site, user).await?;
                    Ok(())
                })
            })
            .await
    }

    /// The site's members (admin only).
    pub async fn members(&self) -> Result<Vec<Member>> {
        self.authorize(Role::Admin, "listing members").await?;
        sites::members(&self.store, self.site_id).await
    }

    /// The site's audit trail, newest first (admin only). `limit` is 1–500; pass the
    /// previous page's `next_cursor` as `after` to continue.
    pub async fn audit_trail(&self, limit: u32, after: Option<&str>) -> Result<AuditPage> {
        if !(1..=500).contains(&limit) {
            return Err(Error::validation("limit", "must be between 1 and 500"));
        }
        self.authorize(Role::Admin, "reading the audit trail")
            .await?;
        let fp = cursor::fingerprint(&serde_json::json!({"audit": self.site_id}));
        let key = self.store.cursor_key().await?;
        let b = self.store.backend();
        let mut q = Sql::new(
            b,
            "SELECT audit_id, occurred_at, actor_id, site_id, action, entity, entity_id, ",
        );
        q.push(&b.dialect().json_text("changes"))
            .push(" AS changes FROM audit_log WHERE site_id = ")
            .bind(self.site_id);
        if let Some(c) = after {
            let c = cursor::decode(&key, c, &fp)?;
            q.push(" AND audit_id < ").bind(c.id);
        }
        q.push(" ORDER BY audit_id DESC LIMIT ")
            .bind(i64::from(limit) + 1);
        let mut rows: Vec<AuditRow> = self
            .store
            .read_all(
                Op::site("audit_trail", self.site_id),
                Fresh::Reporting(self.seen()),
                q,
            )
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let entries: Vec<_> = rows.into_iter().map(AuditRow::into_entry).collect();
        let next_cursor = match (more, entries.last()) {
            (true, Some(last)) => Some(cursor::encode(&key, &fp, Key::Micros(0), last.id)),
            _ => None,
        };
        Ok(AuditPage {
            entries,
            next_cursor,
        })
    }
}
