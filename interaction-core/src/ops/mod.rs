//! Operations on the whole database, for operators and their tools (the `interactions`
//! CLI): migrations, archival, retention purges, anonymisation and integrity checks.

mod access;
pub mod anonymise;
pub mod archive;
pub mod masking;
pub mod migrate;
pub mod retention;
pub mod status;
pub mod verify;
