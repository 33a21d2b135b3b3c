//! The right to be forgotten (spec §6.3): [`InteractionStore::anonymize_user`].
//!
//! One transaction replaces the user's username and email with tombstones
//! (`deleted-user-<id>`, `deleted-user-<id>@invalid`), clears the password hash, deactivates
//! the account, revokes its login tokens, and rewrites every place the database holds
//! free text: the access log, the audit trail's JSON, the text columns of live, deleted and
//! archived interactions, and sites. No row is deleted and no key changes, so every foreign
//! key stays valid and every count stays the same.
//!
//! Matching: the username and the email are found case-insensitively (Unicode, character
//! by character) and as whole words: an occurrence next to a letter, digit or `_` is part
//! of another word and is left alone (a user called `ana` does not rewrite "banana").
//! Candidate rows are found in SQL with the engine's case-insensitive `LIKE` (ASCII case on
//! SQLite) on the name as given, all lower case and all upper case; the rewrite itself is
//! done here, identically for both engines. Audit JSON is parsed and every string in it
//! rewritten, so it stays valid JSON.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::audit::{self, AuditRecord};
use crate::auth::{revoke_all, UserRow};
use crate::backend::{Arg, Sql, Tx};
use crate::cache::Gen;
use crate::error::{Error, Result};
use crate::exec::{Fresh, Op};
use crate::finder::like_pattern;
use crate::model::User;
use crate::store::InteractionStore;
use crate::validate;

/// Stored as the password hash of an anonymised user: not a PHC string, so it can never
/// verify.
const NO_PASSWORD: &str = "!anonymised";

/// The username an anonymised user gets.
pub(crate) fn tombstone_username(user_id: i64) -> String {
    format!("deleted-user-{user_id}")
}

/// The email an anonymised user gets (`.invalid` is reserved, RFC 2606).
pub(crate) fn tombstone_email(user_id: i64) -> String {
    format!("deleted-user-{user_id}@invalid")
}

/// Text columns of a table, each with its length limit in characters (`None`: unbounded).
type Columns = &'static [(&'static str, Option<usize>)];

/// Free-text columns rewritten by the erasure: table, key column, columns.
const TEXT_COLUMNS: &[(&str, &str, Columns)] = &[
    ("interactions", "interaction_id", INTERACTION_TEXT),
    ("interactions_archive", "interaction_id", INTERACTION_TEXT),
    (
        "access_log",
        "access_id",
        &[
            ("username", Some(255)),
            ("detail", None),
            ("resource", Some(255)),
        ],
    ),
    (
        "sites",
        "site_id",
        &[("name", Some(100)), ("description", None)],
    ),
];

const INTERACTION_TEXT: Columns = &[
    ("title", Some(255)),
    ("type", Some(50)),
    ("lead", Some(100)),
    ("location", Some(255)),
    ("description", None),
    ("notes", None),
];

/// Rewrites whole-word, case-insensitive occurrences of some needles.
#[derive(Debug, Clone)]
pub(crate) struct Scrubber {
    /// Needle (its characters) and replacement, longest needle first.
    needles: Vec<(Vec<char>, String)>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn same_letter(a: char, b: char) -> bool {
    a == b || a.to_lowercase().eq(b.to_lowercase())
}

impl Scrubber {
    /// Replaces each `(needle, replacement)`; empty needles are ignored.
    pub(crate) fn new(pairs: &[(&str, &str)]) -> Scrubber {
        let mut needles: Vec<(Vec<char>, String)> = pairs
            .iter()
            .filter(|(n, _)| !n.is_empty())
            .map(|(n, r)| (n.chars().collect(), r.to_string()))
            .collect();
        needles.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
        Scrubber { needles }
    }

    /// `text` with every occurrence replaced, or `None` if it holds none.
    pub(crate) fn scrub(&self, text: &str) -> Option<String> {
        let h: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut i = 0;
        'outer: while i < h.len() {
            for (n, r) in &self.needles {
                let end = i + n.len();
                if end > h.len() || !h[i..end].iter().zip(n).all(|(a, b)| same_letter(*a, *b)) {
                    continue;
                }
                let left_ok = !is_word(n[0]) || i == 0 || !is_word(h[i - 1]);
                let right_ok = !is_word(n[n.len() - 1]) || end == h.len() || !is_word(h[end]);
                if left_ok && right_ok {
                    out.push_str(r);
                    changed = true;
                    i = end;
                    continue 'outer;
                }
            }
            out.push(h[i]);
            i += 1;
        }
        changed.then_some(out)
    }

    /// `text` rewritten and cut to `max` characters, or `None` if it holds no needle.
    fn scrub_bounded(&self, text: &str, max: Option<usize>) -> Option<String> {
        let s = self.scrub(text)?;
        Some(match max {
            Some(m) if s.chars().count() > m => s.chars().take(m).collect(),
            _ => s,
        })
    }

    /// Rewrites every string (and key) inside a JSON value; whether anything changed.
    pub(crate) fn scrub_json(&self, v: &mut Value) -> bool {
        match v {
            Value::String(s) => match self.scrub(s) {
                Some(new) => {
                    *s = new;
                    true
                }
                None => false,
            },
            Value::Array(items) => {
                let mut changed = false;
                for x in items {
                    // Every item, not only up to the first change.
                    changed |= self.scrub_json(x);
                }
                changed
            }
            Value::Object(map) => {
                let old = std::mem::take(map);
                let mut changed = false;
                for (k, mut x) in old {
                    changed |= self.scrub_json(&mut x);
                    let k = match self.scrub(&k) {
                        Some(nk) => {
                            changed = true;
                            nk
                        }
                        None => k,
                    };
                    map.insert(k, x);
                }
                changed
            }
            _ => false,
        }
    }

    /// The `LIKE` patterns that find candidate rows: each needle as given, in lower and
    /// in upper case (`json`: as it appears inside JSON text).
    fn patterns(&self, json: bool) -> Vec<String> {
        let mut set = BTreeSet::new();
        for (n, _) in &self.needles {
            let s: String = n.iter().collect();
            for v in [s.clone(), s.to_lowercase(), s.to_uppercase()] {
                let v = if json {
                    let quoted = Value::String(v).to_string();
                    quoted[1..quoted.len() - 1].to_string()
                } else {
                    v
                };
                set.insert(like_pattern(&v));
            }
        }
        set.into_iter().collect()
    }
}

/// Appends `(expr LIKE p1 ESCAPE '\' OR expr LIKE p2 …)`, case-insensitively.
fn push_matches(q: &mut Sql, expr: &str, patterns: &[String]) {
    let ilike = q.dialect().ilike();
    q.push("(");
    for (i, p) in patterns.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        q.push(expr)
            .push(" ")
            .push(ilike)
            .push(" ")
            .bind(p.as_str())
            .push(" ESCAPE '\\'");
    }
    q.push(")");
}

/// What the erasure rewrote (the audit row's content: counts, no personal data).
#[derive(Debug, Default)]
struct Rewritten {
    tokens_revoked: u64,
    interactions: BTreeSet<i64>,
    archived: BTreeSet<i64>,
    access_rows: BTreeSet<i64>,
    sites: BTreeSet<i64>,
    audit_rows: u64,
}

/// Rewrites the text columns of `table` that hold a needle; the keys of the rows changed.
async fn scrub_table(
    tx: &mut Tx,
    s: &Scrubber,
    table: &str,
    key: &str,
    columns: &[(&str, Option<usize>)],
) -> Result<BTreeSet<i64>> {
    let b = tx.backend();
    let patterns = s.patterns(false);
    let mut changed = BTreeSet::new();
    for (col, max) in columns {
        let mut q = Sql::new(
            b,
            &format!("SELECT CAST({key} AS BIGINT), {col} FROM {table} WHERE "),
        );
        push_matches(&mut q, col, &patterns);
        let rows: Vec<(i64, Option<String>)> = tx.fetch_all(&q).await?;
        for (id, text) in rows {
            let Some(new) = text.and_then(|t| s.scrub_bounded(&t, *max)) else {
                continue;
            };
            let mut u = Sql::new(b, &format!("UPDATE {table} SET {col} = "));
            u.bind(new).push(&format!(" WHERE {key} = ")).bind(id);
            tx.execute(&u).await?;
            changed.insert(id);
        }
    }
    Ok(changed)
}

/// Rewrites the audit trail's JSON; how many rows changed.
async fn scrub_audit(tx: &mut Tx, s: &Scrubber) -> Result<u64> {
    let b = tx.backend();
    let text = b.dialect().json_text("changes");
    let mut q = Sql::new(b, &format!("SELECT audit_id, {text} FROM audit_log WHERE "));
    push_matches(&mut q, &text, &s.patterns(true));
    let rows: Vec<(i64, String)> = tx.fetch_all(&q).await?;
    let mut n = 0;
    for (id, changes) in rows {
        let Ok(mut v) = serde_json::from_str::<Value>(&changes) else {
            // Not JSON (never written by this library): rewrite it as text.
            let Some(new) = s.scrub(&changes) else {
                continue;
            };
            let mut u = Sql::new(b, "UPDATE audit_log SET changes = ");
            u.bind_json(Value::String(new).to_string())
                .push(" WHERE audit_id = ")
                .bind(id);
            tx.execute(&u).await?;
            n += 1;
            continue;
        };
        if !s.scrub_json(&mut v) {
            continue;
        }
        let mut u = Sql::new(b, "UPDATE audit_log SET changes = ");
        u.bind_json(v.to_string())
            .push(" WHERE audit_id = ")
            .bind(id);
        tx.execute(&u).await?;
        n += 1;
    }
    Ok(n)
}

/// Adds one to the version of rewritten interactions, so that an edit based on the text
/// as it was (holding the personal data) is a conflict instead of writing it back.
async fn bump_versions(tx: &mut Tx, table: &str, ids: &BTreeSet<i64>) -> Result<()> {
    let ids: Vec<i64> = ids.iter().copied().collect();
    for chunk in ids.chunks(500) {
        let mut q = Sql::new(
            tx.backend(),
            &format!("UPDATE {table} SET version = version + 1 WHERE interaction_id IN ("),
        );
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind(*id);
        }
        q.push(")");
        tx.execute(&q).await?;
    }
    Ok(())
}

async fn erase(tx: &mut Tx, user_id: i64, id: i32) -> Result<User> {
    let b = tx.backend();
    let found: Option<(String, String)> = tx
        .fetch_optional(&Sql::fixed(
            b,
            &format!(
                "SELECT username, email FROM users WHERE user_id = $1{}",
                b.dialect().for_update()
            ),
            vec![Arg::I32(id)],
        ))
        .await?;
    let Some((username, email)) = found else {
        return Err(Error::not_found("user", user_id));
    };
    let (new_name, new_email) = (tombstone_username(user_id), tombstone_email(user_id));
    let s = Scrubber::new(&[(&email, &new_email), (&username, &new_name)]);
    let mut q = Sql::new(b, "UPDATE users SET username = ");
    q.bind(new_name.as_str())
        .push(", email = ")
        .bind(new_email.as_str())
        .push(", password_hash = ")
        .bind(NO_PASSWORD)
        .push(", is_active = ")
        .bind(false)
        .push(" WHERE user_id = ")
        .bind(id)
        .push(" RETURNING ")
        .push(crate::auth::USER_COLUMNS);
    let user: User = tx.fetch_one::<UserRow>(&q).await?.into();
    let mut done = Rewritten {
        tokens_revoked: revoke_all(tx, id).await?,
        ..Rewritten::default()
    };
    // The user's own access rows carry the tombstone (logout rows have no username).
    tx.execute(&Sql::fixed(
        b,
        "UPDATE access_log SET username = $1 WHERE user_id = $2 AND username <> ''",
        vec![new_name.as_str().into(), Arg::I32(id)],
    ))
    .await?;
    for (table, key, columns) in TEXT_COLUMNS {
        let ids = scrub_table(tx, &s, table, key, columns).await?;
        match *table {
            "interactions" => done.interactions = ids,
            "interactions_archive" => done.archived = ids,
            "access_log" => done.access_rows = ids,
            _ => done.sites = ids,
        }
    }
    bump_versions(tx, "interactions", &done.interactions).await?;
    bump_versions(tx, "interactions_archive", &done.archived).await?;
    if !(done.interactions.is_empty() && done.archived.is_empty()) {
        if let Some(stmt) = b.dialect().purge_text_index() {
            tx.execute_script(stmt).await?;
        }
    }
    done.audit_rows = scrub_audit(tx, &s).await?;
    audit::record(
        tx,
        AuditRecord {
            actor: None,
            site: None,
            action: "anonymize",
            entity: "user",
            entity_id: Some(user_id),
            changes: json!({
                "tokens_revoked": done.tokens_revoked,
                "interactions": done.interactions.len(),
                "archived_interactions": done.archived.len(),
                "access_log_rows": done.access_rows.len(),
                "audit_rows": done.audit_rows,
                "sites": done.sites.len(),
            }),
        },
    )
    .await?;
    Ok(user)
}

impl InteractionStore {
    /// Erases a user's personal data (the right to be forgotten, spec §6.3), in one
    /// transaction:
    /// - username and email become `deleted-user-<id>` and `deleted-user-<id>@invalid`;
    ///   the password hash is replaced by a value that never verifies; the account is
    ///   deactivated and every login token revoked (open sessions fail at their next
    ///   call, in every process sharing the cache);
    /// - every whole-word, case-insensitive occurrence of the old username or email is
    ///   replaced by the matching tombstone in the access log (username, detail,
    ///   resource), in the audit trail's JSON, in the text columns (title, type, lead,
    ///   location, description, notes) of live, soft-deleted and archived interactions
    ///   (their version goes up by one) and in sites' names and descriptions;
    /// - one audit row (`anonymize`, entity `user`) records how many rows were
    ///   rewritten, and nothing else.
    ///
    /// No row is deleted and no key changes: counts and foreign keys stay intact. On
    /// SQLite the database file is then compacted (`VACUUM` and a truncating WAL
    /// checkpoint) so that free pages keep no copy of the old text; if that step fails
    /// the erasure has committed and the call returns the error: call again (anonymising
    /// an anonymised user changes nothing but writes another audit row).
    ///
    /// An unknown user is [`Error::NotFound`]; a non-positive id is
    /// [`Error::Validation`].
    pub async fn anonymize_user(&self, user_id: i64) -> Result<User> {
        let id = validate::id("user_id", user_id)?;
        // Caches to invalidate when it commits: the user, its live tokens, every site's
        // rows (Finder pages hold the old text) and the sites themselves.
        let tokens: Vec<(Vec<u8>,)> = self
            .read_all(
                Op::new("anonymize_user"),
                Fresh::Latest,
                Sql::fixed(
                    self.backend(),
                    "SELECT token_hash FROM auth_sessions WHERE user_id = $1 AND revoked_at IS NULL",
                    vec![Arg::I32(id)],
                ),
            )
            .await?;
        let sites: Vec<(i32,)> = self
            .read_all(
                Op::new("anonymize_user"),
                Fresh::Latest,
                self.sql("SELECT site_id FROM sites"),
            )
            .await?;
        let mut op = Op::new("anonymize_user")
            .invalidates(Gen::User(id))
            .invalidates(Gen::SiteList);
        for (t,) in tokens {
            if let Ok(t) = <[u8; 32]>::try_from(t.as_slice()) {
                op = op.invalidates(Gen::Token(t));
            }
        }
        for (s,) in sites {
            op = op.invalidates(Gen::Rows(s)).invalidates(Gen::Site(s));
        }
        let user = self
            .write(op, move |tx| Box::pin(erase(tx, user_id, id)))
            .await?;
        self.maintain(
            Op::new("anonymize_user_compact"),
            self.backend().dialect().compact_after_erasure(),
        )
        .await?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> Scrubber {
        Scrubber::new(&[
            ("Zoë.Q@Example.org", "deleted-user-7@invalid"),
            ("zoë", "deleted-user-7"),
        ])
    }

    #[test]
    fn whole_words_any_case() {
        let s = s();
        assert_eq!(
            s.scrub("met ZOË today").unwrap(),
            "met deleted-user-7 today"
        );
        assert_eq!(
            s.scrub("Zoë, zoë; zOË").unwrap(),
            "deleted-user-7, deleted-user-7; deleted-user-7"
        );
        assert_eq!(s.scrub("zoëlle and bzoë and zoë_x"), None);
        assert_eq!(
            s.scrub("mail zoë.q@EXAMPLE.ORG now").unwrap(),
            "mail deleted-user-7@invalid now"
        );
        // The email is matched before the username inside it.
        assert_eq!(
            s.scrub("<zoë.q@example.org>").unwrap(),
            "<deleted-user-7@invalid>"
        );
        assert_eq!(s.scrub(""), None);
    }

    #[test]
    fn a_needle_starting_with_punctuation_needs_no_boundary_there() {
        let s = Scrubber::new(&[("-x-", "T")]);
        assert_eq!(s.scrub("a-x-b").unwrap(), "aTb");
        assert_eq!(s.scrub("a-x-").unwrap(), "aT");
    }

    #[test]
    fn json_stays_valid_and_is_rewritten_everywhere() {
        let s = s();
        let mut v = json!({"username": "zoë", "notes": {"old": "ask \"Zoë\"", "new": null},
                           "list": ["ZOË", 3], "zoë": true});
        assert!(s.scrub_json(&mut v));
        let text = v.to_string();
        assert!(!text.to_lowercase().contains("zoë"), "{text}");
        assert_eq!(v["notes"]["old"], "ask \"deleted-user-7\"");
        assert_eq!(v["deleted-user-7"], true);
        let mut clean = json!({"a": "b"});
        assert!(!s.scrub_json(&mut clean));
    }

    #[test]
    fn bounded_columns_are_cut() {
        let s = Scrubber::new(&[("a", "deleted-user-123456")]);
        let out = s.scrub_bounded("a a a a a a", Some(20)).unwrap();
        assert_eq!(out.chars().count(), 20);
    }

    #[test]
    fn patterns_cover_cases_and_json_escapes() {
        let s = Scrubber::new(&[("Ab\"c", "x")]);
        let p = s.patterns(false);
        assert!(p.contains(&"%Ab\"c%".to_string()) && p.contains(&"%AB\"C%".to_string()));
        assert!(s.patterns(true).contains(&"%ab\\\\\"c%".to_string()));
    }
}
