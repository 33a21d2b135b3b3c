//! The `interactions` binary driven as an operator drives it: real processes on real
//! databases (temp SQLite files; with the `postgres-tests` feature also a scratch
//! PostgreSQL database, where a missing DATABASE_URL is a failure, never a skip).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use interaction_core::{Counts, Interaction, InteractionStore, Role, Site, User};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_interactions"));
    // Only what each test passes: the test command exports these for other suites.
    for v in [
        "DATABASE_URL",
        "REDIS_URL",
        "INTERACTIONS_ADMIN_PASSWORD",
        "INTERACTIONS_SEED_PASSWORD",
    ] {
        c.env_remove(v);
    }
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_with(mut c: Command, args: &[&str], stdin: Option<&str>) -> Run {
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run the interactions binary");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    let r = Run {
        code: status.code().expect("exited, not killed"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    };
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"),
        "{args:?} panicked: {}",
        r.stderr
    );
    r
}

fn run(url: &str, args: &[&str]) -> Run {
    let mut full = vec!["--database-url", url];
    full.extend_from_slice(args);
    run_with(bin(), &full, None)
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or("")
}

#[test]
fn help_lists_the_commands_and_usage_errors_exit_2() {
    let r = run_with(bin(), &["--help"], None);
    assert_eq!(r.code, 0);
    for cmd in [
        "migrate",
        "status",
        "create-admin",
        "seed",
        "list-users",
        "DATABASE_URL",
    ] {
        assert!(
            r.stdout.contains(cmd),
            "{cmd} missing from --help:\n{}",
            r.stdout
        );
    }
    for (cmd, flag) in [
        ("migrate", "--dry-run"),
        ("status", "--json"),
        ("seed", "--interactions"),
        ("create-admin", "--password-stdin"),
    ] {
        let r = run_with(bin(), &[cmd, "--help"], None);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains(flag), "{cmd} --help: {}", r.stdout);
    }
    for bad in [
        &["frobnicate"][..],
        &["seed", "--sites", "0"],
        &["status", "--nope"],
        &[],
    ] {
        let r = run_with(bin(), bad, None);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("error: ") || r.stderr.contains("Usage: interactions"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn bad_urls_and_refused_connections_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener); // nothing listens there now
    let refused = format!("postgres://postgres@127.0.0.1:{port}/x");
    let missing_dir = format!("sqlite://{}/no/such/dir/x.db", dir.path().display());
    for (url, says) in [
        (refused.as_str(), "connection refused"),
        ("mysql://localhost/x", "invalid url"),
        ("sqlite://", "invalid url"),
        (missing_dir.as_str(), "unable to open"),
    ] {
        for cmd in ["status", "migrate"] {
            if cmd == "status" && url == missing_dir {
                // A file that does not exist is reported, not opened.
                let r = run(url, &[cmd]);
                assert_eq!(r.code, 1);
                assert!(
                    last_line(&r.stdout).contains("no database file"),
                    "{}",
                    r.stdout
                );
                continue;
            }
            let r = run(url, &[cmd]);
            assert_eq!(r.code, 1, "{url} {cmd}: {}", r.stderr);
            assert_eq!(r.stderr.lines().count(), 1, "{url} {cmd}: {:?}", r.stderr);
            assert!(r.stderr.starts_with("error: "), "{:?}", r.stderr);
            assert!(
                r.stderr.to_lowercase().contains(says),
                "{url}: {:?}",
                r.stderr
            );
            assert!(!r.stderr.contains("Error {"), "a Debug dump: {}", r.stderr);
        }
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

/// The operator's first day, on any backend: status, migrate (dry run first),
/// create-admin, seed, list-users.
fn main_flow(url: &str, fresh_sqlite_file: Option<&Path>) {
    let required = interaction_core::migrate::required().to_string();
    // Status of an empty / missing database: no schema, exit 1, nothing created.
    let r = run(url, &["status"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("schema:    none"), "{}", r.stdout);
    assert!(
        last_line(&r.stdout).starts_with("status: no "),
        "{}",
        r.stdout
    );
    let r = run(url, &["status", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("status --json is JSON");
    assert_eq!(doc["schema_version"], serde_json::Value::Null);
    assert_eq!(doc["required_version"], required.as_str());
    assert_eq!(doc["compatible"], false);
    assert_eq!(doc["pending_migrations"].as_array().unwrap().len(), 4);
    // A dry run prints the SQL and changes nothing.
    let r = run(url, &["migrate", "--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("CREATE TABLE"), "{}", r.stdout);
    assert!(
        r.stdout.contains("-- migration 0004_lifecycle"),
        "{}",
        r.stdout
    );
    assert!(last_line(&r.stdout).contains("4 pending migrations, nothing applied"));
    if let Some(file) = fresh_sqlite_file {
        assert!(
            !file.exists(),
            "status / migrate --dry-run created {}",
            file.display()
        );
    }
    let r = run(url, &["status", "--json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["schema_version"],
        serde_json::Value::Null,
        "the dry run migrated"
    );
    // Migrate: lists, applies, says what it applied; again: nothing to do.
    let r = run(url, &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("pending: 4 migrations"), "{}", r.stdout);
    assert!(
        r.stdout.contains("applied 0001_initial (schema 1.0.0)"),
        "{}",
        r.stdout
    );
    assert!(
        last_line(&r.stdout).starts_with("migrate: applied 4 migrations"),
        "{}",
        r.stdout
    );
    let r = run(url, &["migrate"]);
    assert_eq!(r.code, 0);
    assert!(
        last_line(&r.stdout).contains("nothing to apply"),
        "{}",
        r.stdout
    );
    let r = run(url, &["migrate", "--dry-run"]);
    assert!(
        last_line(&r.stdout).contains("0 pending migrations"),
        "{}",
        r.stdout
    );
    // Status after: up to date, counts, summary on stderr with --json.
    let r = run(url, &["status", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["schema_version"], required.as_str());
    assert_eq!(doc["compatible"], true);
    assert_eq!(doc["pending_migrations"], serde_json::json!([]));
    assert_eq!(doc["counts"]["users"], 0);
    assert!(
        last_line(&r.stderr).starts_with("status: schema"),
        "{}",
        r.stderr
    );

    // create-admin: the password never on argv.
    let admin = [
        "create-admin",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--site",
        "Head office",
    ];
    let r = run(url, &admin);
    assert_eq!(r.code, 2, "no password is a usage error: {}", r.stderr);
    assert!(
        r.stderr.contains("INTERACTIONS_ADMIN_PASSWORD"),
        "{}",
        r.stderr
    );
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(&admin);
    args.push("--password-stdin");
    let r = run_with(bin(), &args, Some("short\n"));
    assert_eq!(r.code, 1, "a password the library refuses: {}", r.stderr);
    assert!(
        r.stderr.starts_with("error: invalid password"),
        "{}",
        r.stderr
    );
    let r = run_with(bin(), &args, Some("a long enough password\n"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(last_line(&r.stdout).starts_with("create-admin: user root (id 1) is admin of site"));
    let mut again = bin();
    again.env("INTERACTIONS_ADMIN_PASSWORD", "another long password");
    let mut args = vec!["--database-url", url];
    args.extend_from_slice(&admin);
    let r = run_with(again, &args, None);
    assert_eq!(r.code, 1, "a second create-admin is refused");
    assert!(r.stderr.contains("already has 1 user"), "{}", r.stderr);

    // Seed.
    let r = run(
        url,
        &[
            "seed",
            "--sites",
            "3",
            "--interactions",
            "500",
            "--seed",
            "7",
            "--until",
            "2025-06-01",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary = last_line(&r.stdout);
    assert!(summary.starts_with("seed: 3 sites, "), "{summary}");
    assert!(summary.contains("500 interactions"), "{summary}");
    // Not a terminal: plain progress lines, no bar.
    assert!(
        r.stderr.contains("interactions: 500/500 (100%)"),
        "{}",
        r.stderr
    );
    let r = run(url, &["status", "--json"]);
    let counts = &serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["counts"];
    assert_eq!(counts["sites"], 4);
    let (live, deleted) = (
        counts["live"].as_u64().unwrap(),
        counts["deleted"].as_u64().unwrap(),
    );
    assert_eq!(live + deleted, 500);
    assert!(
        (5..=60).contains(&deleted),
        "about 5% soft-deleted: {deleted}"
    );
    // list-users.
    let r = run(url, &["list-users", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let users: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(users.len() as u64, counts["users"].as_u64().unwrap());
    assert_eq!(users[0]["username"], "root");
    assert_eq!(users[0]["sites"][0]["role"], "admin");
    assert!(users.iter().all(|u| u.get("password_hash").is_none()));
    let r = run(url, &["list-users"]);
    assert!(last_line(&r.stdout).starts_with(&format!("list-users: {} users", users.len())));
    lifecycle_flow(url, users[1]["id"].as_i64().unwrap());
}

/// The counts `status --json` reports.
fn counts_of(url: &str) -> serde_json::Value {
    let r = run(url, &["status", "--json"]);
    serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()["counts"].clone()
}

/// verify, archive, purge and anonymize-user on a seeded database.
fn lifecycle_flow(url: &str, user_id: i64) {
    let json = |r: &Run| -> serde_json::Value {
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    };
    let r = run(url, &["verify"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(last_line(&r.stdout), "verify: ok");
    let r = run(url, &["verify", "--json"]);
    let doc = json(&r);
    assert_eq!(doc["problems"].as_array().unwrap().len(), 0);
    assert!(doc["tables"].as_array().unwrap().len() >= 12);
    // Archive: the dry run counts, changes nothing; the run moves exactly that.
    let before = counts_of(url);
    let r = run(url, &["archive", "--dry-run", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let would = json(&r)["moved"].as_u64().unwrap();
    assert!(
        would > 0,
        "five years of seeded data has rows older than two years"
    );
    assert!(
        r.stderr.contains("dry run, nothing changed"),
        "{}",
        r.stderr
    );
    assert_eq!(counts_of(url)["archived"], 0);
    let r = run(url, &["archive", "--older-than", "2y"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        last_line(&r.stdout).starts_with(&format!("archive: moved {would} interaction")),
        "{}",
        r.stdout
    );
    let after = counts_of(url);
    assert_eq!(after["archived"].as_u64().unwrap(), would);
    assert_eq!(
        after["live"].as_u64().unwrap() + would,
        before["live"].as_u64().unwrap()
    );
    for bad in ["2 years", "0d", "-1y", "y"] {
        let r = run(url, &["archive", "--older-than", bad]);
        assert_ne!(r.code, 0, "{bad}");
        assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
    }
    // Purge: the dry run says what the purge then does.
    let r = run(url, &["purge", "--dry-run", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let total: u64 = json(&r)["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["rows"].as_u64().unwrap())
        .sum();
    let r = run(url, &["purge"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        last_line(&r.stdout).starts_with(&format!("purge: {total} row")),
        "{}",
        r.stdout
    );
    // Anonymise: refused without --yes (usage), then done; an unknown id is one line.
    let id = user_id.to_string();
    let r = run(url, &["anonymize-user", &id]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    let r = run(url, &["anonymize-user", &id, "--yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("deleted-user-{id}")),
        "{}",
        r.stdout
    );
    let r = run(url, &["anonymize-user", "999999", "--yes"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.trim(), "error: user 999999 not found");
    let r = run(url, &["verify"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// An archival run killed (SIGKILL) part-way and rerun: nothing lost, nothing twice.
#[test]
fn an_archive_killed_mid_run_and_rerun_loses_nothing() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path(), "kill.db");
    assert_eq!(run(&url, &["migrate"]).code, 0);
    let r = run(
        &url,
        &[
            "seed",
            "--sites",
            "3",
            "--interactions",
            "4000",
            "--seed",
            "3",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = counts_of(&url);
    let dry = run(&url, &["archive", "--dry-run", "--json"]);
    let would = serde_json::from_str::<serde_json::Value>(&dry.stdout).unwrap()["moved"]
        .as_u64()
        .unwrap();
    assert!(would > 1000, "several batches to interrupt: {would}");
    let mut child = bin()
        .args(["--database-url", &url, "archive"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first progress line comes after the first committed batch: kill there.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("a progress line").unwrap();
    assert!(first.starts_with("archive: "), "{first}");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before it finished");
    let mid = counts_of(&url);
    let archived = mid["archived"].as_u64().unwrap();
    assert!(archived > 0 && archived < would, "{mid}");
    assert_eq!(
        mid["live"].as_u64().unwrap() + archived,
        before["live"].as_u64().unwrap(),
        "every interaction in exactly one table"
    );
    assert_eq!(run(&url, &["verify"]).code, 0);
    let r = run(&url, &["archive"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        last_line(&r.stdout).starts_with(&format!("archive: moved {} ", would - archived)),
        "{}",
        r.stdout
    );
    let end = counts_of(&url);
    assert_eq!(end["archived"].as_u64().unwrap(), would);
    assert_eq!(end["deleted"], before["deleted"]);
    assert_eq!(run(&url, &["verify"]).code, 0);
}

#[test]
fn the_main_flow_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ops.db");
    main_flow(&sqlite_url(dir.path(), "ops.db"), Some(&file));
}

/// Everything a reader sees of a database, through the library.
async fn snapshot(url: &str) -> (Counts, Vec<Site>, Vec<User>, Vec<Interaction>) {
    let store = InteractionStore::connect(url)
        .await
        .expect("open the seeded database");
    let sites = store.list_sites().await.unwrap();
    let users = store.list_users().await.unwrap();
    let mut rows = Vec::new();
    for site in &sites {
        let mut admin = None;
        for u in &users {
            if store
                .user_sites(u.id)
                .await
                .unwrap()
                .iter()
                .any(|(s, r)| s.id == site.id && *r == Role::Admin)
            {
                admin = Some(u.id);
                break;
            }
        }
        let session = store
            .session_for_user(admin.unwrap(), site.id)
            .await
            .unwrap();
        let mut cursor = None;
        loop {
            let mut f = session.finder().include_deleted(true).limit(200);
            if let Some(c) = cursor.take() {
                f = f.after(c);
            }
            let page = f.await.unwrap();
            rows.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    let counts = store.counts().await.unwrap();
    store.close().await;
    (counts, sites, users, rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let seed = |name: &str, s: &str| {
        let url = sqlite_url(dir.path(), name);
        assert_eq!(run(&url, &["migrate"]).code, 0);
        let r = run(
            &url,
            &[
                "seed",
                "--sites",
                "3",
                "--interactions",
                "500",
                "--seed",
                s,
                "--until",
                "2025-06-01",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        url
    };
    let (a, b, c) = (seed("a.db", "7"), seed("b.db", "7"), seed("c.db", "8"));
    let (sa, sb, sc) = (snapshot(&a).await, snapshot(&b).await, snapshot(&c).await);
    assert_eq!(sa.3.len(), 500);
    assert_eq!(sa, sb, "the same seed gave other data");
    assert_ne!(sa.3, sc.3, "another seed gave the same interactions");
    // Realistic spread: five years of creation dates, deletions, edits, several types,
    // zones, languages and multi-paragraph notes.
    let rows = &sa.3;
    let first = rows.iter().map(|i| i.created_at).min().unwrap();
    let last = rows.iter().map(|i| i.created_at).max().unwrap();
    assert!((last - first).num_days() > 4 * 365, "{first} .. {last}");
    assert!(
        last <= "2025-06-01T00:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    let distinct = |f: &dyn Fn(&Interaction) -> String| {
        rows.iter()
            .map(f)
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    assert!(distinct(&|i| i.interaction_type.clone()) >= 6);
    assert!(distinct(&|i| i.timezone.clone()) >= 5);
    assert!(distinct(&|i| i.title.clone()) >= 100);
    assert!(distinct(&|i| i.site_id.to_string()) == 3);
    assert!(rows
        .iter()
        .any(|i| i.deleted_at.is_some_and(|d| d > i.created_at)));
    assert!(rows
        .iter()
        .any(|i| i.updated_at.is_some_and(|u| u > i.created_at)));
    assert!(rows
        .iter()
        .any(|i| i.notes.as_deref().is_some_and(|n| n.contains("\n\n"))));
    assert!(rows.iter().any(|i| !i.lead.is_ascii()));
    let text: String = rows.iter().filter_map(|i| i.description.clone()).collect();
    for word in ["the", "sobre", "données", "Gespräch", "orçamento"] {
        assert!(
            text.to_lowercase().contains(&word.to_lowercase()),
            "no {word:?} in the descriptions"
        );
    }
    // Skewed sizes: the largest site has at least twice the rows of the smallest.
    let mut per_site = std::collections::HashMap::new();
    for i in rows {
        *per_site.entry(i.site_id).or_insert(0) += 1;
    }
    let (max, min) = (
        per_site.values().max().unwrap(),
        per_site.values().min().unwrap(),
    );
    assert!(*max >= 2 * *min, "{per_site:?}");
    // Seeding the same database again is refused (the site names exist).
    let r = run(
        &a,
        &["seed", "--sites", "3", "--interactions", "5", "--seed", "7"],
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
}

#[cfg(feature = "postgres-tests")]
mod postgres {
    use sqlx::{AssertSqlSafe, Connection};

    /// The main flow on a scratch database of DATABASE_URL's server, dropped after.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_main_flow_on_postgres() {
        let admin = std::env::var("DATABASE_URL").expect(
            "DATABASE_URL must point at a PostgreSQL server for the postgres-tests feature \
             (the README test command starts one)",
        );
        let name = format!(
            "iscli_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros() % 1_000_000
        );
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("connect to DATABASE_URL");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        let (base, _) = admin.rsplit_once('/').expect("a database in DATABASE_URL");
        let url = format!("{base}/{name}");
        let flow = std::thread::spawn(move || super::main_flow(&url, None)).join();
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
            .execute(&mut conn)
            .await
            .unwrap();
        if let Err(panic) = flow {
            std::panic::resume_unwind(panic);
        }
    }
}

/// The README's CLI walk-through, as written, in a fresh directory with the binary on
/// PATH (its `export DATABASE_URL=sqlite://demo.db` line included).
#[test]
fn the_readme_walk_through_runs() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("### The `interactions` CLI\n")
        .nth(1)
        .expect("README section \"The `interactions` CLI\"");
    let block = section
        .split("```sh\n")
        .nth(2)
        .and_then(|b| b.split("\n```").next())
        .expect("the second sh block of the section");
    assert!(
        block.starts_with("export DATABASE_URL=sqlite://demo.db"),
        "{block}"
    );
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_interactions"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut sh = Command::new("bash");
    for v in [
        "DATABASE_URL",
        "REDIS_URL",
        "INTERACTIONS_ADMIN_PASSWORD",
        "INTERACTIONS_SEED_PASSWORD",
    ] {
        sh.env_remove(v);
    }
    let out = sh
        .args(["-euo", "pipefail", "-c", block])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("ADMIN_PASSWORD", "a long enough password")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{block}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("migrate: applied 4 migrations"), "{stdout}");
    assert!(stdout.contains("\nlist-users: "), "{stdout}");
    assert!(stdout.contains("\nverify: ok"), "{stdout}");
    assert!(
        last_line(&stdout).starts_with("anonymize-user: user 2 is now deleted-user-2"),
        "{stdout}"
    );
    let review = std::fs::read_to_string(dir.path().join("review.sql")).unwrap();
    assert!(review.contains("CREATE TABLE"));
    assert!(dir.path().join("demo.db").exists());
}
