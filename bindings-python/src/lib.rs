//! Python bindings of interaction-store: the `interaction_store._native` extension module.
//!
//! Conversion and error mapping only: every rule lives in `interaction-core`. The Python
//! package (`python/interaction_store/`) re-exports these classes and declares the
//! exception hierarchy.

#[macro_use]
mod macros;
mod asyncio;
mod convert;
mod errors;
mod finder;
mod lifecycle;
mod logging;
mod runtime;
mod session;
mod store;
mod values;

use pyo3::prelude::*;

/// The native module: classes only; `interaction_store/__init__.py` is the public face.
#[pymodule(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    logging::init(py)?;
    runtime::note_main_thread(py)?;
    errors::declare_retryable(py)?;
    asyncio::register(py)?;
    runtime::register_exit(m)?;
    m.add_class::<store::InteractionStore>()?;
    m.add_class::<store::AsyncInteractionStore>()?;
    m.add_class::<session::SiteSession>()?;
    m.add_class::<session::AsyncSiteSession>()?;
    m.add_class::<finder::Finder>()?;
    m.add_class::<finder::AsyncFinder>()?;
    m.add_class::<finder::FinderIter>()?;
    m.add_class::<finder::AsyncFinderIter>()?;
    m.add_class::<values::User>()?;
    m.add_class::<values::Site>()?;
    m.add_class::<values::Member>()?;
    m.add_class::<values::Interaction>()?;
    m.add_class::<values::Page>()?;
    m.add_class::<values::AuditEntry>()?;
    m.add_class::<values::AuditPage>()?;
    m.add_class::<values::AccessLogEntry>()?;
    m.add_class::<values::LoginToken>()?;
    m.add_class::<values::SchemaVersion>()?;
    m.add_class::<values::LocalTime>()?;
    m.add_class::<values::CacheStats>()?;
    m.add_class::<values::CacheCounts>()?;
    m.add_class::<values::ReplicaStatus>()?;
    m.add_class::<values::ArchiveReport>()?;
    m.add_class::<values::PurgeOutcome>()?;
    m.add_class::<values::PurgeReport>()?;
    m.add_class::<values::Counts>()?;
    m.add_class::<values::PendingMigration>()?;
    m.add_class::<values::IntegrityReport>()?;
    m.add_class::<values::MigrationCheck>()?;
    m.add_class::<values::Check>()?;
    m.add_class::<values::TableChecksum>()?;
    m.add_class::<lifecycle::Clock>()?;
    m.add_class::<lifecycle::RetentionPolicy>()?;
    m.add("DEFAULT_URL", interaction_core::DEFAULT_URL)?;
    m.add(
        "SCHEMA_VERSION",
        values::SchemaVersion::from(interaction_core::migrate::required()),
    )?;
    Ok(())
}
