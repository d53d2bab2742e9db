//! schema.graphql is the committed contract; it must match what the code serves.

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
