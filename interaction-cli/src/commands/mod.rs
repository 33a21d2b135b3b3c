//! One module per command, each with its clap `Args` and `run`.
//!
//! Each opens the store with [`Target::open`] (schema checked) and ends with a one-line
//! summary, like the commands below.

use interaction_core::{InteractionStore, StoreOptions};

use crate::output::Failure;

pub mod anonymize_user;
pub mod archive;
pub mod create_admin;
pub mod list_users;
pub mod migrate;
pub mod purge;
pub mod seed;
mod seed_data;
pub mod status;
pub mod verify;

/// The database a command works on.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its URL (`--database-url` / `DATABASE_URL`).
    pub url: String,
    /// The deployment's Redis, if given (`--redis-url` / `REDIS_URL`).
    pub redis_url: Option<String>,
    /// The store's PostgreSQL schema, if given (`--schema` / `INTERACTIONS_SCHEMA`).
    pub schema: Option<String>,
}

impl Target {
    /// Store options for a short operator run: a small pool, the deployment's Redis (so
    /// the applications' caches see the changes) or no cache at all.
    pub fn options(&self) -> StoreOptions {
        let mut o = StoreOptions::new(&self.url)
            .min_connections(1)
            .max_connections(4);
        if let Some(schema) = &self.schema {
            o = o.schema(schema);
        }
        match &self.redis_url {
            Some(r) => o.redis_url(r),
            None => o.cache(false),
        }
    }

    /// Opens the store, checking the schema (its error says to run `migrate`).
    pub async fn open(&self) -> Result<InteractionStore, Failure> {
        Ok(self.options().connect().await?)
    }

    /// Opens the store at whatever schema it has, touching nothing.
    pub async fn open_unchecked(&self) -> Result<InteractionStore, Failure> {
        Ok(self.options().check_schema(false).connect().await?)
    }

    /// The URL as printed (password masked).
    pub fn shown(&self) -> String {
        crate::output::mask_url(&self.url)
    }

    /// The file of a SQLite URL that does not exist (yet): commands that only read
    /// report on it without opening it, so that they create nothing.
    pub fn missing_sqlite_file(&self) -> Option<String> {
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
            return None;
        }
        (!std::path::Path::new(path).exists()).then(|| path.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> Target {
        Target {
            url: url.into(),
            redis_url: None,
            schema: None,
        }
    }

    #[test]
    fn missing_sqlite_files_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let there = dir.path().join("there.db");
        std::fs::write(&there, b"").unwrap();
        let gone = dir.path().join("gone.db");
        let gone = gone.display().to_string();
        assert_eq!(
            target(&format!("sqlite://{gone}")).missing_sqlite_file(),
            Some(gone.clone())
        );
        assert_eq!(
            target(&format!("sqlite:{gone}?mode=rwc")).missing_sqlite_file(),
            Some(gone)
        );
        assert_eq!(
            target(&format!("sqlite://{}", there.display())).missing_sqlite_file(),
            None
        );
        for other in [
            "sqlite::memory:",
            "sqlite://x.db?mode=memory",
            "postgres://h/db",
        ] {
            assert_eq!(target(other).missing_sqlite_file(), None, "{other}");
        }
    }
}
