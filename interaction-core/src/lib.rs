#![doc = include_str!("../README.md")]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod audit;
mod auth;
mod backend;
mod cache;
mod clock;
mod cursor;
pub mod error;
mod exec;
pub mod finder;
pub mod interactions;
pub mod model;
pub mod ops;
mod session;
mod sites;
mod store;
pub mod validate;

pub use ops::migrate;

pub use audit::{AuditEntry, AuditPage};
pub use auth::{
    AccessLogEntry, LoginToken, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, TOKEN_LIFETIME,
};
pub use backend::Backend;
pub use cache::{CacheCounts, CacheStats};
pub use clock::Clock;
pub use error::{Cause, Error, ErrorKind, Result};
pub use finder::{Finder, Page, Pages, RangeMode, Rows, Sort};
pub use interactions::{IDEMPOTENCY_WINDOW, MAX_CREATE_BATCH};
pub use migrate::{PendingMigration, SchemaVersion};
pub use model::{Interaction, InteractionPatch, Member, NewInteraction, Role, Site, User, When};
pub use ops::archive::{ArchiveProgress, ArchiveReport, ARCHIVE_AFTER};
pub use ops::retention::{PurgeOutcome, PurgeReport, RetentionPolicy};
pub use ops::status::Counts;
pub use ops::verify::{Check, IntegrityReport, MigrationCheck, MigrationState, TableChecksum};
pub use session::SiteSession;
pub use store::{InteractionStore, ReplicaStatus, StoreOptions, DEFAULT_URL};

/// The top-level README's Rust blocks, compiled by `cargo test --doc` (every README block
/// runs or is exempt with a reason: `scripts/readme_blocks.py check`).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct RootReadme;
