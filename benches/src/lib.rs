//! Benchmarks of interaction-store against hand-written SQL, on PostgreSQL and SQLite.
//!
//! - [`data`]: a deterministic generator of realistic interactions (seeded; 100k rows
//!   by default, `BENCH_ROWS` to change);
//! - [`fixture`]: builds the bench databases once (bulk load behind the library, then
//!   ANALYZE) and reuses them while they hold the expected rows; times that bulk load
//!   against `COPY` ([`fixture::load_rates`]);
//! - [`ops`]: every benchmarked operation through the library and hand-written with the
//!   same SQL on a dedicated connection;
//! - [`report`]: interleaved timing, ratio tables, plan checks and EXPLAIN ANALYZE;
//! - [`crit`]: the criterion groups of the `postgres` and `sqlite` bench targets.
//!
//! See `benches/README.md` for how to run them.

pub mod crit;
pub mod data;
pub mod fixture;
pub mod ops;
pub mod report;
