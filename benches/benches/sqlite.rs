//! Criterion benches on embedded SQLite (`target/bench-data/`): the library beside the
//! same SQL hand-written. See `benches/README.md`.

fn main() {
    interaction_benches::crit::main(interaction_benches::crit::Target::Sqlite);
}
