// `sqlx::migrate!` embeds the migration files at compile time, and cargo does not
// know it read them: without this, a checkout that adds a migration keeps
// running a binary built with the old set (projectors then fail on a missing
// table) until something else in this crate changes.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
