//! PostgreSQL: its dialect, how its connections are opened and recycled, and what its
//! SQLSTATEs mean.

use std::str::FromStr;

use deadpool::managed::{Manager, Metrics, RecycleResult};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgDatabaseError};
use sqlx::{Arguments, Connection};

use super::dialect::{quote_ident, Dialect, DigestColumn};
use super::sql::{Arg, Sql};
use super::{recycle, Limits, Target};
use crate::error::{Error, Result};

pub(crate) struct Postgres;

impl Dialect for Postgres {
    fn ilike(&self) -> &'static str {
        "ILIKE"
    }

    fn for_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn json_text(&self, column: &str) -> String {
        format!("{column}::text")
    }

    fn bind_json(&self, q: &mut Sql, json: String) {
        q.push("CAST(").bind(json).push(" AS jsonb)");
    }

    fn writes_in_cte(&self) -> bool {
        true
    }

    fn text_match(&self, q: &mut Sql, text: &str) -> Result<()> {
        q.push(" AND interactions.search_vector @@ websearch_to_tsquery('english', ")
            .bind(text)
            .push(")");
        Ok(())
    }

    fn ranked_from(&self, q: &mut Sql, text: &str, source: &str) -> Result<bool> {
        q.push("ts_rank(interactions.search_vector, websearch_to_tsquery('english', ")
            .bind(text)
            .push("))::float8 AS rank FROM ")
            .push(source);
        Ok(false)
    }

    fn search_columns(&self) -> &'static str {
        ", search_vector"
    }

    fn for_update_skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn explain_prefix(&self) -> &'static str {
        "EXPLAIN "
    }

    fn table_exists(&self, name: &str) -> Sql {
        // In `current_schema()` only (NULL, so no row, while the store's schema does not
        // exist yet): a host application's table of the same name in `public` is not ours.
        let mut q = Sql::new(
            super::Backend::Postgres,
            "SELECT 1 WHERE to_regclass(quote_ident(current_schema()) || '.' || quote_ident(",
        );
        q.bind(name).push(")) IS NOT NULL");
        q
    }

    fn search_path(&self) -> Option<Sql> {
        Some(Sql::new(
            super::Backend::Postgres,
            "SELECT current_setting('search_path')",
        ))
    }

    fn begin(&self) -> &'static str {
        "BEGIN"
    }

    fn migration_lock(&self, schema: Option<&str>) -> Option<Sql> {
        // Transaction-scoped, so it can never leak on a pooled connection. The constant
        // is arbitrary: "interaction-store migrate". The default schema (and `public`,
        // the same tables) keeps the lock of earlier versions, so that they and this one
        // still exclude each other; another schema has its own key (the two-integer key
        // space), so migrators of different schemas do not wait for each other.
        Some(match schema {
            None | Some("public") => Sql::new(
                super::Backend::Postgres,
                "SELECT pg_advisory_xact_lock(7283054911)",
            ),
            Some(s) => {
                let mut q = Sql::new(
                    super::Backend::Postgres,
                    "SELECT pg_advisory_xact_lock(72830549, hashtext(",
                );
                q.bind(s).push("))");
                q
            }
        })
    }

    fn prepare_schema(&self, schema: &str) -> Option<String> {
        // `schema` is a validated lowercase identifier (`validate::schema_name`): safe as
        // it is in both a literal and an identifier.
        //
        // * The schema: created when missing (checked first, as `CREATE SCHEMA IF NOT
        //   EXISTS` needs the CREATE privilege on the database even when it exists).
        // * `pg_trgm` and `btree_gin` (0001 runs `CREATE EXTENSION IF NOT EXISTS`, which
        //   does nothing when another schema's store or the host installed them): one
        //   install per database, under the database-wide migration lock (the default
        //   schema's key) so that two migrators cannot race to create one. A missing one
        //   goes to `public` when it exists and this role may create there (where the
        //   default store and most applications have them: other schemas' stores find
        //   them there, and dropping this schema never takes them away from others), else
        //   to this schema.
        // * For this transaction only, the `search_path` is this schema and then the
        //   schemas holding those extensions, so that the migrations find their operator
        //   classes; the tables they create go to this schema, the first one.
        Some(format!(
            r#"DO $interaction_store$
DECLARE
    ext text;
    home text;
    extra text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = '{schema}') THEN
        CREATE SCHEMA "{schema}";
    END IF;
    FOREACH ext IN ARRAY ARRAY['pg_trgm', 'btree_gin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = ext) THEN
            PERFORM pg_catalog.pg_advisory_xact_lock(7283054911);
            IF EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'public')
               AND pg_catalog.has_schema_privilege('public', 'CREATE') THEN
                home := 'public';
            ELSE
                home := '{schema}';
            END IF;
            EXECUTE pg_catalog.format('CREATE EXTENSION IF NOT EXISTS %I SCHEMA %I', ext, home);
        END IF;
    END LOOP;
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(n.nspname), ', ')
      INTO extra
      FROM pg_catalog.pg_extension e
      JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname IN ('pg_trgm', 'btree_gin') AND n.nspname <> '{schema}';
    PERFORM pg_catalog.set_config('search_path',
        '"{schema}"' || coalesce(', ' || extra, ''), true);
END
$interaction_store$"#
        ))
    }

    fn after_migrations(&self, schema: &str) -> Option<String> {
        // 0004 grants the reporting role SELECT on the masked views (unqualified: in this
        // schema); it also needs USAGE on the schema (`public` has it for everyone).
        if schema == "public" {
            return None;
        }
        Some(format!(
            r#"DO $interaction_store$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'interaction_reporting') THEN
        GRANT USAGE ON SCHEMA "{schema}" TO interaction_reporting;
    END IF;
END
$interaction_store$"#
        ))
    }

    fn purge_text_index(&self) -> Option<&'static str> {
        None
    }

    fn compact_after_erasure(&self) -> &'static [&'static str] {
        &[]
    }

    fn list_tables(&self) -> Sql {
        Sql::new(
            super::Backend::Postgres,
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
        )
    }

    fn digest_columns(&self, table: &str) -> Sql {
        // Paged by the primary key; a table without one (none of the library's) by its
        // physical row address. Generated columns (`search_vector`) are derived, not
        // content.
        let mut q = Sql::new(super::Backend::Postgres, "");
        q.push(
            "SELECT a.attname::text AS name, format_type(a.atttypid, NULL) AS ty, \
             coalesce((SELECT k.n FROM unnest(i.indkey) WITH ORDINALITY k (att, n) \
             WHERE k.att = a.attnum), 0)::int4 AS key, \
             a.attgenerated = '' AS hashed, a.attnum::int4 AS pos \
             FROM pg_attribute a \
             LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
             WHERE a.attrelid = to_regclass(quote_ident(",
        )
        .bind(table)
        .push(
            ")) AND a.attnum > 0 AND NOT a.attisdropped \
             UNION ALL SELECT 'ctid', 'tid', 1, false, 0 \
             WHERE to_regclass(quote_ident($1)) IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM pg_index WHERE indrelid = to_regclass(quote_ident($1)) AND indisprimary) \
             ORDER BY pos",
        );
        q
    }

    fn digest_page(
        &self,
        table: &str,
        columns: &[DigestColumn],
        after: Option<&str>,
        limit: i64,
    ) -> Sql {
        // Every value as text in a fixed format: instants in UTC with microseconds (not
        // `::text`, which follows the session's TimeZone and DateStyle), bytes as hex
        // (not `bytea_output`); a JSON array keeps NULL apart from any text. The row comes
        // back as the SHA-256 of that array, so a page of wide rows stays small.
        fn value(c: &DigestColumn) -> String {
            let col = quote_ident(c.name());
            match c.ty() {
                "timestamp with time zone" => format!(
                    "to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                ),
                "timestamp without time zone" => {
                    format!("to_char({col}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US')")
                }
                "date" => format!("to_char({col}, 'YYYY-MM-DD')"),
                "bytea" => format!("encode({col}, 'hex')"),
                _ => format!("{col}::text"),
            }
        }
        let key = DigestColumn::key_of(columns);
        let key_list = key
            .iter()
            .map(|c| quote_ident(c.name()))
            .collect::<Vec<_>>()
            .join(", ");
        let cursor = key
            .iter()
            .map(|c| match c.ty() {
                "bytea" => format!("encode({}, 'hex')", quote_ident(c.name())),
                _ => format!("{}::text", quote_ident(c.name())),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let row = DigestColumn::hashed_of(columns)
            .map(value)
            .collect::<Vec<_>>()
            .join(", ");
        let mut q = Sql::new(super::Backend::Postgres, "");
        q.push(&format!(
            "SELECT json_build_array({cursor})::text, \
             encode(sha256(convert_to(json_build_array({row})::text, 'UTF8')), 'hex') \
             FROM {}",
            quote_ident(table)
        ));
        if let Some(after) = after {
            q.push(&format!(" WHERE ({key_list}) > ("));
            for (i, c) in key.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.push(if c.ty() == "bytea" {
                    "decode(("
                } else {
                    "CAST(("
                });
                // One argument, the cursor's JSON array: `$1`, the statement's first.
                if i == 0 {
                    q.bind(after);
                } else {
                    q.push("$1");
                }
                q.push(&format!("::json ->> {i})"));
                q.push(&if c.ty() == "bytea" {
                    ", 'hex')".to_string()
                } else {
                    format!(" AS {})", c.ty())
                });
            }
            q.push(")");
        }
        q.push(&format!(" ORDER BY {key_list} LIMIT ")).bind(limit);
        q
    }
}

/// Encodes a statement's arguments.
pub(crate) fn args(q: &Sql) -> Result<PgArguments> {
    let mut a = PgArguments::default();
    for arg in &q.args {
        let r = match arg {
            Arg::I32(v) => a.add(*v),
            Arg::OptI32(v) => a.add(*v),
            Arg::I64(v) => a.add(*v),
            Arg::OptI64(v) => a.add(*v),
            Arg::F64(v) => a.add(*v),
            Arg::Bool(v) => a.add(*v),
            Arg::Text(v) => a.add(v.as_str()),
            Arg::OptText(v) => a.add(v.as_deref()),
            Arg::Bytes(v) => a.add(v.as_slice()),
            Arg::Ts(v) => a.add(*v),
            Arg::OptTs(v) => a.add(*v),
        };
        r.map_err(|e| Error::Internal {
            message: "cannot encode an argument".into(),
            source: Some(e),
        })?;
    }
    Ok(a)
}

/// The statement with every `$n` replaced by its argument as a typed literal, for the
/// simple-query protocol: one round trip and a plan made for these values (sqlx sends an
/// unnamed extended-protocol statement as two round trips: Parse+Describe, then
/// Bind+Execute). Safe because the text is the library's own (user input only ever sits
/// in arguments), strings are quoted with `standard_conforming_strings = on` (set on every
/// connection) and validated inputs hold no NUL; each literal carries the type its
/// binary argument would have had, so plans do not change.
pub(crate) fn inline(q: &Sql) -> Result<String> {
    fn text(out: &mut String, s: &str) {
        out.push('\'');
        for c in s.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
        out.push('\'');
    }
    fn typed(out: &mut String, v: impl std::fmt::Display, ty: &str) {
        use std::fmt::Write;
        let _ = write!(out, "'{v}'::{ty}");
    }
    let mut out = String::with_capacity(q.text.len() + 16 * q.args.len());
    let mut rest = q.text.as_str();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let digits = rest[i + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len() - i - 1, |n| n);
        let n: usize = rest[i + 1..i + 1 + digits]
            .parse()
            .map_err(|_| Error::internal("a `$` without a placeholder number"))?;
        let arg = q
            .args
            .get(n.wrapping_sub(1))
            .ok_or_else(|| Error::internal(format!("placeholder ${n} has no argument")))?;
        let ts = |t: &chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        };
        match arg {
            Arg::I32(v) => typed(&mut out, v, "int4"),
            Arg::OptI32(Some(v)) => typed(&mut out, v, "int4"),
            Arg::OptI32(None) => out.push_str("NULL::int4"),
            Arg::I64(v) => typed(&mut out, v, "int8"),
            Arg::OptI64(Some(v)) => typed(&mut out, v, "int8"),
            Arg::OptI64(None) => out.push_str("NULL::int8"),
            Arg::F64(v) if v.is_nan() => out.push_str("'NaN'::float8"),
            Arg::F64(v) if v.is_infinite() => typed(
                &mut out,
                if *v > 0.0 { "Infinity" } else { "-Infinity" },
                "float8",
            ),
            Arg::F64(v) => typed(&mut out, v, "float8"),
            Arg::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
            Arg::Text(v) | Arg::OptText(Some(v)) => {
                text(&mut out, v);
                out.push_str("::text");
            }
            Arg::OptText(None) => out.push_str("NULL::text"),
            Arg::Bytes(v) => {
                out.push_str("'\\x");
                for b in v {
                    use std::fmt::Write;
                    let _ = write!(out, "{b:02x}");
                }
                out.push_str("'::bytea");
            }
            Arg::Ts(v) | Arg::OptTs(Some(v)) => typed(&mut out, ts(v), "timestamptz"),
            Arg::OptTs(None) => out.push_str("NULL::timestamptz"),
        }
        rest = &rest[i + 1 + digits..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits a libpq-style multi-host URL (`postgres://u@h1:5432,h2:5433/db?…`) into one URL
/// per host, in order. A single-host URL comes back as it is.
pub(crate) fn split_hosts(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return vec![url.to_string()];
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(i) => (&authority[..=i], &authority[i + 1..]),
        None => ("", authority),
    };
    if !hosts.contains(',') {
        return vec![url.to_string()];
    }
    hosts
        .split(',')
        .map(|h| format!("{scheme}://{userinfo}{h}{tail}"))
        .collect()
}

/// Parses `url` (one host or several) and applies the store's limits as session settings
/// sent with the startup packet: they cost no round trip and hold for every statement of
/// the connection.
pub(crate) fn connect_options(
    url: &str,
    limits: &Limits,
) -> Result<(Vec<PgConnectOptions>, Target)> {
    let mut hosts = Vec::new();
    for one in split_hosts(url) {
        hosts.push(host_options(&one, limits)?);
    }
    let first = &hosts[0];
    let target = Target {
        place: hosts
            .iter()
            .map(|o| format!("{}:{}", o.get_host(), o.get_port()))
            .collect::<Vec<_>>()
            .join(","),
        database: first
            .get_database()
            .unwrap_or(first.get_username())
            .to_string(),
        user: first.get_username().to_string(),
    };
    Ok((hosts, target))
}

fn host_options(url: &str, limits: &Limits) -> Result<PgConnectOptions> {
    let opts = PgConnectOptions::from_str(url).map_err(|e| Error::Validation {
        field: "url".into(),
        message: e.to_string(),
    })?;
    let opts = opts.application_name("interaction-store");
    if limits.pgbouncer {
        // pgBouncer refuses startup settings; they belong to the role or database there
        // (ALTER ROLE … SET statement_timeout …); the call deadline still bounds every call.
        return Ok(opts);
    }
    let ms = |d: std::time::Duration| d.as_millis().max(1).to_string();
    // The store's schema alone (a validated identifier, quoted): no name of the store's
    // resolves to another schema's table. `pg_catalog` is always searched first.
    let opts = match &limits.schema {
        Some(schema) => opts.options([("search_path", format!("\"{schema}\""))]),
        None => opts,
    };
    Ok(opts.options([
        ("statement_timeout", ms(limits.statement_timeout)),
        ("lock_timeout", ms(limits.lock_timeout)),
        // A client that vanished inside a transaction must not hold its locks for
        // longer than any call could have lasted.
        (
            "idle_in_transaction_session_timeout",
            ms(limits.call_timeout),
        ),
        // The server probes idle clients, so connections of a dead client go away.
        ("tcp_keepalives_idle", "60".into()),
        ("tcp_keepalives_interval", "10".into()),
        ("tcp_keepalives_count", "3".into()),
    ]))
}

/// Opens and recycles PostgreSQL connections for the pool.
pub(crate) struct PgManager {
    /// One entry per listed host.
    pub(crate) hosts: Vec<PgConnectOptions>,
    /// The host that last gave a usable connection: tried first.
    pub(crate) preferred: std::sync::atomic::AtomicUsize,
    /// Only a host that is not in recovery will do (`target_session_attrs=read-write`):
    /// the pool of a primary listed with several hosts.
    pub(crate) writable_only: bool,
    pub(crate) limits: Limits,
}

impl PgManager {
    pub(crate) fn new(hosts: Vec<PgConnectOptions>, limits: Limits, primary: bool) -> PgManager {
        PgManager {
            writable_only: primary && hosts.len() > 1,
            hosts,
            preferred: std::sync::atomic::AtomicUsize::new(0),
            limits,
        }
    }

    /// One attempt on one host; a standby is refused when `writable_only`.
    async fn try_host(&self, i: usize) -> std::result::Result<PgConnection, sqlx::Error> {
        let mut c = PgConnection::connect_with(&self.hosts[i]).await?;
        if self.writable_only {
            // The simple protocol: no prepared statement (pgBouncer-safe).
            use sqlx::Row;
            let row = sqlx::raw_sql("SELECT pg_is_in_recovery()")
                .fetch_one(&mut c)
                .await?;
            let standby: bool = row.try_get(0)?;
            if standby {
                let _ = c.close().await;
                return Err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "the server is a standby (read-only); looking for the primary",
                )));
            }
        }
        Ok(c)
    }
}

impl Manager for PgManager {
    type Type = PgConnection;
    type Error = sqlx::Error;

    /// One host: it is refused at once, waited for while it starts. Several hosts (a
    /// failover pair): each is tried in turn, starting with the last good one, in rounds
    /// until the connect timeout, so a write during a promotion waits for the new
    /// primary instead of failing.
    async fn create(&self) -> std::result::Result<PgConnection, sqlx::Error> {
        use std::sync::atomic::Ordering;
        let deadline = tokio::time::Instant::now() + self.limits.connect_timeout;
        let mut pause = std::time::Duration::from_millis(20);
        let n = self.hosts.len();
        loop {
            let first = self.preferred.load(Ordering::Relaxed) % n;
            let mut last = None;
            for k in 0..n {
                let i = (first + k) % n;
                match tokio::time::timeout_at(deadline, self.try_host(i)).await {
                    Ok(Ok(c)) => {
                        self.preferred.store(i, Ordering::Relaxed);
                        return Ok(c);
                    }
                    Ok(Err(e)) => last = Some(e),
                    Err(_) => break,
                }
            }
            let retry = match &last {
                Some(e) => n > 1 || starting_up(e),
                None => false,
            };
            if retry && tokio::time::Instant::now() + pause < deadline {
                // The server is starting (a restart), or no listed host is a primary yet
                // (a failover in progress): wait within the connect timeout.
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_millis(500));
                continue;
            }
            return match last {
                Some(e) if !retry => Err(e),
                _ => Err(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "no connection within the connect timeout ({} ms){}",
                        self.limits.connect_timeout.as_millis(),
                        last.map(|e| format!("; last error: {e}"))
                            .unwrap_or_default()
                    ),
                ))),
            };
        }
    }

    async fn recycle(&self, _conn: &mut PgConnection, m: &Metrics) -> RecycleResult<sqlx::Error> {
        // No ping: a connection that broke while idle is caught by the one retry of
        // reads (`exec.rs`), which costs nothing on the common path.
        recycle(&self.limits, m)
    }
}

/// The WAL position after everything this connection committed: a write's consistency
/// token (the insert position is at or past the end of its commit record).
pub(crate) const COMMIT_LSN_SQL: &str = "SELECT pg_current_wal_insert_lsn()::text";

/// A replica's state: whether it is a standby, and how far it has replayed.
pub(crate) const REPLAY_SQL: &str =
    "SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn(), '0/0')::text";

fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// The server is up but not yet accepting connections (57P03).
fn starting_up(e: &sqlx::Error) -> bool {
    sqlstate(e).as_deref() == Some("57P03")
}

/// Whether the error means the connection is gone: the server ended the session
/// (`57P01` admin shutdown, `57P02` crash shutdown, `57P03` cannot connect now), the
/// connection failed (class `08`) or leads to a server that can no longer write.
pub(crate) fn connection_lost(code: &str) -> bool {
    // 25006: a write reached a read-only server (demoted by a failover): the connection
    // must go so that the next one finds the new primary.
    matches!(code, "57P01" | "57P02" | "57P03" | "25006") || code.starts_with("08")
}

/// Classifies a database error by SQLSTATE.
pub(crate) fn classify_database(
    db: &PgDatabaseError,
    code: &str,
    limits: &Limits,
    target: &Target,
) -> Option<(crate::ErrorKind, String)> {
    use crate::ErrorKind as K;
    let secs = |d: std::time::Duration| format!("{} ms", d.as_millis());
    Some(match code {
        "57014" => (
            K::Timeout,
            format!(
                "the statement ran longer than statement_timeout ({})",
                secs(limits.statement_timeout)
            ),
        ),
        "55P03" => (
            K::Timeout,
            format!(
                "waited longer than lock_timeout ({}) for a lock held by another transaction",
                secs(limits.lock_timeout)
            ),
        ),
        "40001" | "40P01" => (
            K::Conflict,
            format!("a concurrent transaction won ({}); retry", db.message()),
        ),
        "3D000" => (
            K::Configuration,
            format!(
                "database \"{}\" does not exist on {}",
                target.database, target.place
            ),
        ),
        "28000" | "28P01" => (
            K::Configuration,
            format!(
                "{} refused role \"{}\": {}",
                target.place,
                target.user,
                db.message()
            ),
        ),
        "42501" => (
            K::Configuration,
            format!(
                "role \"{}\" lacks a privilege: {}",
                target.user,
                db.message()
            ),
        ),
        "58P01" => (
            K::Configuration,
            format!("the server lacks a feature or extension: {}", db.message()),
        ),
        "25006" => (
            K::Unavailable,
            format!(
                "{} is read-only (a standby, or a primary demoted by a failover): {}",
                target.place,
                db.message()
            ),
        ),
        "53300" => (
            K::Unavailable,
            format!("{} has no connection slots left", target.place),
        ),
        c if connection_lost(c) => (
            K::Unavailable,
            format!("{} ended the connection: {}", target.place, db.message()),
        ),
        c if c.starts_with("53") => (
            K::Unavailable,
            format!("{} is short of resources: {}", target.place, db.message()),
        ),
        _ => return None,
    })
}

/// Classifies a driver error: by SQLSTATE for server errors, by the driver's error type
/// otherwise. A kind and message, or at once the error for a constraint violation.
pub(crate) fn classify(
    e: &sqlx::Error,
    limits: &Limits,
    target: &Target,
) -> std::result::Result<(crate::ErrorKind, String), Error> {
    use crate::ErrorKind as K;
    if let sqlx::Error::Database(db) = e {
        if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
            if let Some(km) = classify_database(pg, pg.code(), limits, target) {
                return Ok(km);
            }
        }
    }
    Ok(match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            return Err(Error::Conflict(format!(
                "a record with the same unique value exists ({})",
                db.message()
            )))
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            return Err(Error::validation(
                "reference",
                format!("unknown referenced record ({})", db.message()),
            ))
        }
        sqlx::Error::Database(db) if db.is_check_violation() => {
            return Err(Error::validation("record", db.message().to_string()))
        }
        sqlx::Error::Io(io) => (
            K::Unavailable,
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    format!("connection refused by {}", target.place)
                }
                std::io::ErrorKind::TimedOut => format!("{} did not answer: {io}", target.place),
                _ => format!("connection to {} failed: {io}", target.place),
            },
        ),
        sqlx::Error::Tls(_) => (
            K::Configuration,
            format!("TLS with {} failed", target.place),
        ),
        sqlx::Error::Configuration(_) => (
            K::Configuration,
            "the connection settings were refused".to_string(),
        ),
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => (
            K::Unavailable,
            format!("the connection to {} broke", target.place),
        ),
        _ => (K::Internal, "unexpected database error".to_string()),
    })
}

/// Whether `e` means the connection is gone (so a read may be retried on another).
pub(crate) fn is_connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| connection_lost(&c)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Backend;

    #[test]
    fn inline_quotes_and_types_every_argument() {
        let mut q = Sql::new(Backend::Postgres, "SELECT ");
        q.bind(7i32)
            .push(", ")
            .bind(-3i64)
            .push(", ")
            .bind("it's \\ $1 '; DROP TABLE x; --")
            .push(", ")
            .bind(f64::NAN)
            .push(", ")
            .bind(0.25f64)
            .push(", ")
            .bind(Option::<String>::None)
            .push(", ")
            .bind(chrono::DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap())
            .push(", ")
            .bind(vec![0u8, 255])
            .push(", ")
            .bind(true);
        for i in 0..2 {
            q.push(", ").bind(i64::from(i));
        }
        assert_eq!(
            inline(&q).unwrap(),
            "SELECT '7'::int4, '-3'::int8, 'it''s \\ $1 ''; DROP TABLE x; --'::text, \
             'NaN'::float8, '0.25'::float8, NULL::text, \
             '2023-11-14T22:13:20.000001Z'::timestamptz, '\\x00ff'::bytea, true, \
             '0'::int8, '1'::int8"
        );
    }

    #[test]
    fn multi_host_urls_split_per_host() {
        assert_eq!(
            split_hosts("postgres://u:p@h1:5432,h2:5433/db?sslmode=disable"),
            vec![
                "postgres://u:p@h1:5432/db?sslmode=disable",
                "postgres://u:p@h2:5433/db?sslmode=disable"
            ]
        );
        assert_eq!(split_hosts("postgres://h/db"), vec!["postgres://h/db"]);
        assert_eq!(
            split_hosts("postgresql://a,b"),
            vec!["postgresql://a", "postgresql://b"]
        );
    }

    #[test]
    fn inline_reads_multi_digit_placeholders() {
        let mut q = Sql::new(Backend::Postgres, "");
        for i in 0..12 {
            q.push(" ").bind(i);
        }
        assert!(inline(&q).unwrap().ends_with(" '10'::int4 '11'::int4"));
    }
}
