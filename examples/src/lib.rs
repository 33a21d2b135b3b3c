//! Examples live in `quickstart.rs` and `tour.rs` (the README's Rust API tour); run
//! `cargo run --example quickstart` or `cargo run --example tour`.
