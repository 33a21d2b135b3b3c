//! Criterion benches on PostgreSQL (`DATABASE_URL`, required): the library beside the
//! same SQL hand-written. See `benches/README.md`.

fn main() {
    let url = interaction_benches::fixture::database_url();
    interaction_benches::crit::main(interaction_benches::crit::Target::Postgres(url));
}
