//! Operations on the whole database, for operators and their tools (the `interactions`
//! CLI): migrations, archival, retention purges, anonymisation and integrity checks.

pub mod migrate;
pub mod retention;
pub mod status;
pub mod verify;
