//! schema.graphql is the committed contract; it must match what the code serves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

#[test]
fn committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema.graphql");
    let generated = aduan_api::graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, &generated).expect("write schema.graphql");
    }
    let committed = std::fs::read_to_string(path).expect("read schema.graphql");
    assert!(
        committed == generated,
        "schema.graphql is out of date; regenerate it with \
         `cargo run -p aduan-api -- schema > schema.graphql` (or UPDATE_SCHEMA=1 cargo test)"
    );
}

/// docs/security.md prints the access policy between two markers; it must be
/// the table the code enforces.
#[test]
fn security_docs_print_the_access_policy_the_code_enforces() {
    const START: &str = "<!-- access-policy: generated from aduan_domain::access -->\n";
    const END: &str = "<!-- /access-policy -->";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/security.md");
    let doc = std::fs::read_to_string(path).expect("read docs/security.md");
    let (before, rest) = doc.split_once(START).expect("the start marker");
    let (printed, after) = rest.split_once(END).expect("the end marker");
    let table = aduan_api::graphql::access_table::markdown();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(path, format!("{before}{START}{table}{END}{after}")).expect("write");
        return;
    }
    assert!(
        printed == table,
        "docs/security.md's access table is out of date; regenerate it with \
         UPDATE_SCHEMA=1 cargo test -p aduan-api --test schema"
    );
}
