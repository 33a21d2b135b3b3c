//! A private PostgreSQL cluster for one test, for tests that restart or stop the server:
//! the shared `DATABASE_URL` server serves every other test at the same time.
//!
//! Methods block the calling thread while `pg_ctl` runs (seconds at most), so use a
//! multi-threaded runtime when tasks must keep running meanwhile.
//! Started like `scripts/lib/services.sh` does it, as the `postgres` OS user when root.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sqlx::{AssertSqlSafe, Connection};

pub struct EphemeralPg {
    bindir: PathBuf,
    /// The OS user running PostgreSQL when we are root (it refuses to run as root).
    user: Option<&'static str>,
    port: u16,
    dir: tempfile::TempDir,
}

impl EphemeralPg {
    /// `initdb` and start a cluster on a free port of 127.0.0.1. Panics saying what is
    /// missing (binaries, OS user) or with the server log.
    pub fn new() -> EphemeralPg {
        let bindir = bindir();
        let user = is_root().then(|| {
            let found =
                run(Command::new("sh").args(["-c", "command -v runuser && id -u postgres"]));
            assert!(
                found.status.success(),
                "running as root, PostgreSQL must run as the OS user `postgres` via runuser: \
                 needs runuser (util-linux) and that user (e.g. useradd --system --user-group \
                 --no-create-home postgres)"
            );
            "postgres"
        });
        // As root, TMPDIR may be private to root: /tmp is reachable by the postgres user.
        let mut builder = tempfile::Builder::new();
        builder.prefix("interaction-store-pg.");
        let dir = if user.is_some() {
            builder.tempdir_in("/tmp")
        } else {
            builder.tempdir()
        }
        .expect("temp dir for the PostgreSQL cluster");
        if let Some(user) = user {
            let chown = run(Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path()));
            assert!(
                chown.status.success(),
                "chown {user}: {:?}: {chown:?}",
                dir.path()
            );
        }
        let mut pg = EphemeralPg {
            bindir,
            user,
            port: 0,
            dir,
        };
        pg.initdb();
        // A free port can be taken before the server binds it: retry on another.
        for attempt in 1.. {
            pg.port = free_port();
            let out = pg.pg_ctl(["start"]);
            if out.status.success() {
                break;
            }
            assert!(
                attempt < 3,
                "pg_ctl start failed 3 times: {}",
                pg.failure(&out)
            );
        }
        pg
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Admin URL (superuser `postgres`, trust auth, database `postgres`).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Creates an empty database and returns its URL.
    pub async fn create_database(&self, name: &str) -> String {
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "database name {name:?}: use [A-Za-z0-9_] only"
        );
        let mut conn = sqlx::PgConnection::connect(&self.url())
            .await
            .unwrap_or_else(|e| panic!("connect to the ephemeral cluster: {e}"));
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// `pg_ctl restart -m <mode>` (smart, fast or immediate) on the same port; returns once
    /// the server accepts connections again.
    pub fn restart(&self, mode: &str) {
        self.expect_ok("restart", self.pg_ctl(["-m", mode, "restart"]));
    }

    /// `pg_ctl stop -m fast`: sessions are terminated, the port is closed.
    pub fn stop(&self) {
        self.expect_ok("stop", self.pg_ctl(["-m", "fast", "stop"]));
    }

    /// Starts the stopped cluster again on the same port.
    pub fn start(&self) {
        self.expect_ok("start", self.pg_ctl(["start"]));
    }

    fn initdb(&self) {
        let data = self.data_dir();
        let initdb = |locale: &str| {
            run(self
                .command("initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "--auth=trust",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--no-sync",
                ])
                .arg(format!("--locale={locale}")))
        };
        // C.UTF-8 is missing on some systems (older macOS, minimal images).
        let mut out = initdb("C.UTF-8");
        if !out.status.success() {
            run(self.command("rm").arg("-rf").arg(&data));
            out = initdb("C");
        }
        self.expect_ok("initdb", out);
    }

    /// Every `pg_ctl` call passes the settings and waits, so `restart`, `start` and the first
    /// start all end on a ready server listening on `self.port`.
    fn pg_ctl<const N: usize>(&self, action: [&str; N]) -> Output {
        let options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' \
             -c fsync=off -c shared_buffers=16MB -c max_connections=50",
            self.port,
            self.dir.path().display()
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_path())
            .args(["-w", "-t", "60", "-o", &options])
            .args(action))
    }

    /// `program` (in the PostgreSQL bindir unless it is `rm`) as the cluster's OS user, from
    /// `/` (that user may not be allowed into our working directory), with fds 8 and 9 closed:
    /// scripts/test.sh keeps its own stdout/stderr there, and a daemon holding them would
    /// keep the caller's pipe open.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.current_dir("/")
            .args(["-c", r#"exec 8>&- 9>&- "$@""#, "sh"]);
        if let Some(user) = self.user {
            cmd.args(["runuser", "-u", user, "--"]);
        }
        match program {
            "rm" => cmd.arg(program),
            _ => cmd.arg(self.bindir.join(program)),
        };
        cmd
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn expect_ok(&self, what: &str, out: Output) {
        assert!(out.status.success(), "{what}: {}", self.failure(&out));
    }

    fn failure(&self, out: &Output) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        format!(
            "{}\n{}{}\nserver log tail:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }
}

impl Drop for EphemeralPg {
    fn drop(&mut self) {
        let pid_file = self.data_dir().join("postmaster.pid");
        if !pid_file.exists() {
            return;
        }
        let _ = run(self.command("pg_ctl").arg("-D").arg(self.data_dir()).args([
            "-m",
            "immediate",
            "-w",
            "-t",
            "20",
            "stop",
        ]));
        // pg_ctl gave up: do not leave a server behind on a deleted data directory.
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
        {
            let _ = run(Command::new("kill").args(["-9", &pid]));
        }
        // The TempDir field removes the directory after this.
    }
}

/// `PG_BINDIR`, else `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`.
fn bindir() -> PathBuf {
    let usable = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PG_BINDIR") {
        let dir = PathBuf::from(dir);
        assert!(
            usable(&dir),
            "PG_BINDIR={} has no initdb/pg_ctl",
            dir.display()
        );
        return dir;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && usable(&dir) {
            return dir;
        }
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| usable(bin))
        .max();
    newest.map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: set PG_BINDIR, put \
             pg_config on PATH, or install PostgreSQL 15 (Debian/Ubuntu: apt-get install \
             postgresql-15; macOS: brew install postgresql@15)"
        )
    })
}

fn is_root() -> bool {
    let out = run(Command::new("id").arg("-u"));
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("find a free port on 127.0.0.1")
        .port()
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {cmd:?}: {e}"))
}
