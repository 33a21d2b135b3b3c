//! The contract suite: every behaviour test runs unchanged against SQLite (with the
//! `sqlite` feature, a default) and, with the `postgres-tests` feature, against
//! PostgreSQL. A build with one backend runs that backend's half.

mod harness;
// Fault-injection support: a TCP proxy and a private, restartable PostgreSQL cluster.
#[cfg(feature = "postgres-tests")]
mod cluster;
mod proxy;
#[cfg(all(feature = "postgres-tests", feature = "redis"))]
mod redis_server;

mod archive;
mod auth;
mod cache;
mod crud;
mod faults;
mod faults_support;
mod finder;
mod isolation;
mod lifecycle;
mod operator;
#[cfg(feature = "postgres-tests")]
mod pg_schema;
#[cfg(feature = "postgres-tests")]
mod postgres_only;
mod privacy;
mod retention;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite_only;
#[cfg(feature = "postgres-tests")]
mod topology;
// Traced on SQLite: the events are the same on both backends.
#[cfg(feature = "sqlite")]
mod tracing;
mod verify;

/// Declares each listed `async fn(Harness)` as a test on every backend.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Harness::sqlite().await).await
                }
            )*
        }
        #[cfg(feature = "postgres-tests")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Harness::postgres().await).await
                }
            )*
        }
        // The same contract through pgBouncer in transaction mode (spec §5.3).
        #[cfg(feature = "postgres-tests")]
        mod pgbouncer {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::harness::Harness::pgbouncer().await).await
                }
            )*
        }
    };
}
