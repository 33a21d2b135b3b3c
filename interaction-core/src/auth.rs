//! Users, passwords and login tokens (spec §2.2.1, §6.4).
//!
//! Passwords are hashed with argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1) on
//! tokio's blocking pool behind a concurrency cap. Login tokens carry 256 random bits and
//! are stored only as SHA-256 hashes. Unknown users, wrong passwords and inactive users
//! fail identically and take the same time (a dummy hash is verified), so accounts
//! cannot be enumerated.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::audit::{self, AuditRecord};
use crate::backend::{db_row, Arg, Sql, Ts};
use crate::cache::Gen;
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::model::User;
use crate::store::InteractionStore;
use crate::validate;

/// How long a login token stays valid.
pub const TOKEN_LIFETIME: Duration = Duration::hours(24);

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in characters (bounds the hashing work).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// The result of a successful [`InteractionStore::login`].
#[derive(Clone, PartialEq, Eq)]
pub struct LoginToken {
    /// The opaque bearer token: give it to [`InteractionStore::session`] and
    /// [`InteractionStore::logout`]. Only its hash is stored.
    pub token: String,
    /// The user who logged in.
    pub user_id: i64,
    /// When the token stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for LoginToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a credential: keep it out of logs.
        f.debug_struct("LoginToken")
            .field("token", &"<redacted>")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

fn argon() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn check_password(password: &str) -> Result<()> {
    validate::no_nul("password", password)?;
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(Error::validation(
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

fn check_username(username: &str) -> Result<()> {
    validate::required("username", username, 50)?;
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::validation(
            "username",
            "must not contain spaces or control characters",
        ));
    }
    if username.starts_with("deleted-user-") {
        return Err(Error::validation(
            "username",
            "deleted-user-… is reserved for anonymised users",
        ));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<()> {
    validate::required("email", email, 100)?;
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(Error::validation("email", "is not an email address"));
    }
    if email.to_ascii_lowercase().ends_with("@invalid") {
        return Err(Error::validation(
            "email",
            "the domain invalid is reserved for anonymised users",
        ));
    }
    Ok(())
}

db_row! {
    pub(crate) struct UserRow {
        user_id: i32,
        username: String,
        email: String,
        is_active: bool,
        last_login: Option<Ts>,
    }
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.user_id.into(),
            username: r.username,
            email: r.email,
            is_active: r.is_active,
            last_login: r.last_login.map(|t| t.0),
        }
    }
}

pub(crate) const USER_COLUMNS: &str = "user_id, username, email, is_active, last_login";

impl InteractionStore {
    /// Creates an active user. Username and email must be unique (email
    /// case-insensitively): a duplicate is [`Error::Conflict`].
    pub async fn create_user(&self, username: &str, email: &str, password: &str) -> Result<User> {
        check_username(username)?;
        check_email(email)?;
        check_password(password)?;
        let hash = self.hash(password.to_string()).await?;
        let mut q =
            self.sql("INSERT INTO users (username, email, password_hash, is_active) VALUES (");
        q.bind(username)
            .push(", ")
            .bind(email)
            .push(", ")
            .bind(hash)
            .push(", ")
            .bind(true)
            .push(") RETURNING ")
            .push(USER_COLUMNS);
        self.write(Op::new("create_user"), move |tx| {
            Box::pin(async move {
                let user: User = tx.fetch_one::<UserRow>(&q).await?.into();
                audit::record(
                tx,
                AuditRecord {
                    actor: None,
                    site: None,
                    action: "create",
                    entity: "user",
                    entity_id: Some(user.id),
                    changes: serde_json::json!({"username": user.username, "email": user.email}),
                },
            )
            .await?;
                Ok(user)
            })
        })
        .await
    }

    /// Reads a user.
    pub async fn get_user(&self, user_id: i64) -> Result<User> {
        let id = validate::id("user_id", user_id)?;
        let mut q = self.sql("SELECT ");
        q.push(USER_COLUMNS)
            .push(" FROM users WHERE user_id = ")
            .bind(id);
        self.read_opt::<UserRow>(Op::new("get_user"), Fresh::Latest, q)
            .await?
            .map(User::from)
            .ok_or_else(|| Error::not_found("user", user_id))
    }

    /// Reads a user by username.
    pub async fn get_user_by_username(&self, username: &str) -> Result<User> {
        validate::no_nul("username", username)?;
        let mut q = self.sql("SELECT ");
        q.push(USER_COLUMNS)
            .push(" FROM users WHERE username = ")
            .bind(username);
        self.read_opt::<UserRow>(Op::new("get_user_by_username"), Fresh::Latest, q)
            .await?
            .map(User::from)
            .ok_or_else(|| Error::not_found("user", username))
    }

    /// Every user, active or not, by id (oldest first): for administrators and the
    /// `interactions list-users` command. Password hashes never leave the library.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let mut q = self.sql("SELECT ");
        q.push(USER_COLUMNS).push(" FROM users ORDER BY user_id");
        let rows = self
            .read_all::<UserRow>(Op::new("list_users"), Fresh::Latest, q)
            .await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// Sets a new password and revokes every login token of the user.
    pub async fn set_password(&self, user_id: i64, password: &str) -> Result<()> {
        let id = validate::id("user_id", user_id)?;
        check_password(password)?;
        let hash = self.hash(password.to_string()).await?;
        self.write(
            Op::new("set_password").invalidates(Gen::User(id)),
            move |tx| {
                Box::pin(async move {
                    let b = tx.backend();
                    let n = tx
                        .execute(&Sql::fixed(
                            b,
                            "UPDATE users SET password_hash = $1 WHERE user_id = $2",
                            vec![hash.into(), Arg::I32(id)],
                        ))
                        .await?;
                    if n == 0 {
                        return Err(Error::not_found("user", user_id));
                    }
                    let revoked = revoke_all(tx, id).await?;
                    audit::record(
                        tx,
                        AuditRecord {
                            actor: None,
                            site: None,
                            action: "set_password",
                            entity: "user",
                            entity_id: Some(user_id),
                            changes: serde_json::json!({"tokens_revoked": revoked}),
                        },
                    )
                    .await?;
                    Ok(())
                })
            },
        )
        .await
    }

    /// Activates or deactivates a user. Deactivation revokes every login token.
    pub async fn set_user_active(&self, user_id: i64, active: bool) -> Result<User> {
        let id = validate::id("user_id", user_id)?;
        self.write(
            Op::new("set_user_active").invalidates(Gen::User(id)),
            move |tx| {
                Box::pin(async move {
                    let b = tx.backend();
                    let before: Option<(bool,)> = tx
                        .fetch_optional(&Sql::fixed(
                            b,
                            &format!(
                                "SELECT is_active FROM users WHERE user_id = $1{}",
                                b.dialect().for_update()
                            ),
                            vec![Arg::I32(id)],
                        ))
                        .await?;
                    let Some((was,)) = before else {
                        return Err(Error::not_found("user", user_id));
                    };
                    let mut q = Sql::new(b, "UPDATE users SET is_active = ");
                    q.bind(active)
                        .push(" WHERE user_id = ")
                        .bind(id)
                        .push(" RETURNING ")
                        .push(USER_COLUMNS);
                    let user: User = tx.fetch_one::<UserRow>(&q).await?.into();
                    if !active {
                        revoke_all(tx, id).await?;
                    }
                    audit::record(
                        tx,
                        AuditRecord {
                            actor: None,
                            site: None,
                            action: if active { "activate" } else { "deactivate" },
                            entity: "user",
                            entity_id: Some(user_id),
                            changes: serde_json::json!({"is_active": {"old": was, "new": active}}),
                        },
                    )
                    .await?;
                    Ok(user)
                })
            },
        )
        .await
    }

    /// Checks a username and password and returns a new login token valid for
    /// [`TOKEN_LIFETIME`]. Every attempt is written to the access log. Unknown user, wrong
    /// password and inactive user all fail with [`Error::AuthenticationFailed`].
    pub async fn login(&self, username: &str, password: &str) -> Result<LoginToken> {
        validate::no_nul("username", username)?;
        validate::no_nul("password", password)?;
        if username.chars().count() > 255 || password.chars().count() > MAX_PASSWORD_CHARS {
            // Still logged, still slow: no shortcut that tells accounts apart.
            self.check_password(password.to_string(), None).await?;
            self.log_access(username, None, "login", false, "input too long")
                .await?;
            return Err(Error::AuthenticationFailed);
        }
        let q = Sql::fixed(
            self.backend(),
            "SELECT user_id, password_hash, is_active FROM users WHERE username = $1",
            vec![username.into()],
        );
        let row: Option<(i32, String, bool)> =
            self.read_opt(Op::new("login"), Fresh::Latest, q).await?;
        let (user_id, hash, active) = match row {
            Some((id, hash, active)) => (Some(id), Some(hash), active),
            None => (None, None, false),
        };
        let ok = self.check_password(password.to_string(), hash).await?;
        if !(ok && active) {
            let why = match (user_id, ok) {
                (None, _) => "unknown user",
                (Some(_), false) => "wrong password",
                (Some(_), true) => "inactive user",
            };
            self.log_access(username, user_id, "login", false, why)
                .await?;
            return Err(Error::AuthenticationFailed);
        }
        let user_id = user_id.expect("verified user has an id");
        let token = new_token();
        let now = self.now();
        let expires_at = now + TOKEN_LIFETIME;
        let hash = token_hash(&token);
        let username = username.to_string();
        self.write(Op::new("login"), move |tx| Box::pin(async move {
            let b = tx.backend();
            tx.execute(&Sql::fixed(
                b,
                "INSERT INTO auth_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                vec![Arg::Bytes(hash), Arg::I32(user_id), Arg::Ts(now), Arg::Ts(expires_at)],
            ))
            .await?;
            tx.execute(&Sql::fixed(
                b,
                "UPDATE users SET last_login = $1 WHERE user_id = $2",
                vec![Arg::Ts(now), Arg::I32(user_id)],
            ))
            .await?;
            tx.execute(&access_sql(b, tx.now(), &username, Some(user_id), "login", true, "ok"))
                .await?;
            Ok(())
        }))
        .await?;
        Ok(LoginToken {
            token,
            user_id: user_id.into(),
            expires_at,
        })
    }

    /// Revokes a login token. An unknown or already revoked token is
    /// [`Error::AuthenticationFailed`].
    pub async fn logout(&self, token: &str) -> Result<()> {
        validate::no_nul("token", token)?;
        let hash = token_hash(token);
        let gen = Gen::Token(
            hash.as_slice()
                .try_into()
                .map_err(|_| Error::internal("a token hash is 32 bytes"))?,
        );
        self.write(Op::new("logout").invalidates(gen), move |tx| Box::pin(async move {
            let b = tx.backend();
            let row: Option<(i32,)> = tx
                .fetch_optional(&Sql::fixed(
                    b,
                    "UPDATE auth_sessions SET revoked_at = $1 \
                     WHERE token_hash = $2 AND revoked_at IS NULL AND expires_at > $1 RETURNING user_id",
                    vec![Arg::Ts(tx.now()), Arg::Bytes(hash)],
                ))
                .await?;
            let Some((user_id,)) = row else {
                return Err(Error::AuthenticationFailed);
            };
            tx.execute(&access_sql(b, tx.now(), "", Some(user_id), "logout", true, "ok"))
                .await?;
            Ok(())
        }))
        .await
    }

    async fn hash(&self, password: String) -> Result<String> {
        let _permit = self
            .inner
            .login_gate
            .acquire()
            .await
            .map_err(|_| Error::unavailable("the store is closed"))?;
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| Error::internal(format!("password hashing task failed: {e}")))?
    }

    /// Verifies `password` against `hash`, or against a dummy hash when there is none so
    /// that the call costs the same either way.
    async fn check_password(&self, password: String, hash: Option<String>) -> Result<bool> {
        let dummy = self
            .inner
            .dummy_hash
            .get_or_try_init(|| self.hash(new_token()))
            .await?
            .clone();
        let real = hash.is_some();
        let phc = hash.unwrap_or(dummy);
        let _permit = self
            .inner
            .login_gate
            .acquire()
            .await
            .map_err(|_| Error::unavailable("the store is closed"))?;
        let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
            .await
            .map_err(|e| Error::internal(format!("password hashing task failed: {e}")))?;
        Ok(ok && real)
    }

    async fn log_access(
        &self,
        username: &str,
        user_id: Option<i32>,
        action: &str,
        success: bool,
        detail: &str,
    ) -> Result<()> {
        let q = access_sql(
            self.backend(),
            self.now(),
            username,
            user_id,
            action,
            success,
            detail,
        );
        self.write(Op::new("log_access"), move |tx| {
            Box::pin(async move {
                tx.execute(&q).await?;
                Ok(())
            })
        })
        .await
    }
}

fn access_sql(
    b: crate::Backend,
    at: DateTime<Utc>,
    username: &str,
    user_id: Option<i32>,
    action: &str,
    success: bool,
    detail: &str,
) -> Sql {
    // Keep the log row bounded whatever the caller sent.
    let username: String = username.chars().take(255).collect();
    Sql::fixed(
        b,
        "INSERT INTO access_log (occurred_at, username, user_id, action, success, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            Arg::Ts(at),
            username.into(),
            Arg::OptI32(user_id),
            action.into(),
            Arg::Bool(success),
            detail.into(),
        ],
    )
}

pub(crate) async fn revoke_all(tx: &mut crate::backend::Tx, user_id: i32) -> Result<u64> {
    let b = tx.backend();
    tx.execute(&Sql::fixed(
        b,
        "UPDATE auth_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        vec![Arg::Ts(tx.now()), Arg::I32(user_id)],
    ))
    .await
}

/// An entry of the access log (spec §6.4).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessLogEntry {
    /// When the attempt happened.
    pub occurred_at: DateTime<Utc>,
    /// The username given.
    pub username: String,
    /// The user, when known.
    pub user_id: Option<i64>,
    /// `login`, `logout`, or for reads (with `StoreOptions::access_logging`) `read`,
    /// `search` or `count`.
    pub action: String,
    /// Whether it succeeded.
    pub success: bool,
    /// The outcome: `ok`, or why not (`wrong password`, `not_found`, `denied`, ...).
    pub detail: Option<String>,
    /// The site of a read.
    pub site_id: Option<i64>,
    /// What was read: `interaction:<id>` or `finder`.
    pub resource: Option<String>,
}

db_row! {
    struct AccessRow {
        occurred_at: Ts,
        username: String,
        user_id: Option<i32>,
        action: String,
        success: bool,
        detail: Option<String>,
        site_id: Option<i32>,
        resource: Option<String>,
    }
}

impl InteractionStore {
    /// The most recent access-log entries, newest first (at most `limit`, 1–500).
    pub async fn access_log(&self, limit: u32) -> Result<Vec<AccessLogEntry>> {
        if !(1..=500).contains(&limit) {
            return Err(Error::validation("limit", "must be between 1 and 500"));
        }
        let q = Sql::fixed(
            self.backend(),
            "SELECT occurred_at, username, user_id, action, success, detail, site_id, resource FROM access_log \
             ORDER BY access_id DESC LIMIT $1",
            vec![Arg::I64(limit.into())],
        );
        Ok(self
            .read_all::<AccessRow>(Op::new("access_log"), Fresh::Reporting(0), q)
            .await?
            .into_iter()
            .map(|r| AccessLogEntry {
                occurred_at: r.occurred_at.0,
                username: r.username,
                user_id: r.user_id.map(i64::from),
                action: r.action,
                success: r.success,
                detail: r.detail,
                site_id: r.site_id.map(i64::from),
                resource: r.resource,
            })
            .collect())
    }
}
