//! Examples live in `quickstart.rs`; run `cargo run --example quickstart`.
