//! GraphQL tools learn the schema by the standard introspection queries; those
//! must pass the depth and complexity limits, while hostile nesting, through
//! introspection or not, is still refused.
//!
//! One store (SQLite): introspection reads the schema, never a store.

use serde_json::{json, Value};

use crate::support::*;

/// The queries as the tools send them (see fixtures/introspection/README.md).
const STANDARD: [(&str, &str); 5] = [
    (
        "graphql-js getIntrospectionQuery()",
        include_str!("fixtures/introspection/graphql-js-16.15.0-default.graphql"),
    ),
    (
        "graphql-js getIntrospectionQuery(all options)",
        include_str!("fixtures/introspection/graphql-js-16.15.0-all-options.graphql"),
    ),
    (
        "graphql-core 3.2 get_introspection_query() (gql 3)",
        include_str!("fixtures/introspection/graphql-core-3.2.8-default.graphql"),
    ),
    (
        "graphql-core 3.3 get_introspection_query()",
        include_str!("fixtures/introspection/graphql-core-3.3.2-default.graphql"),
    ),
    (
        "gql 4 fetch_schema",
        include_str!("fixtures/introspection/gql-4.4.0-fetch-schema.graphql"),
    ),
];

fn named<'a>(types: &'a [Value], name: &str) -> &'a Value {
    types
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no type {name}"))
}

/// The answer describes the schema as schema.graphql does, down to the
/// wrapped types the `ofType` chains unwrap.
fn check_schema(what: &str, schema: &Value) {
    assert_eq!(schema["queryType"]["name"], "QueryRoot", "{what}");
    assert_eq!(schema["mutationType"]["name"], "MutationRoot", "{what}");
    let types = schema["types"].as_array().unwrap();
    let complaint = named(types, "Complaint");
    let id = complaint["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "id")
        .unwrap();
    assert_eq!(id["type"]["kind"], "NON_NULL", "{what}");
    assert_eq!(id["type"]["ofType"]["name"], "ID", "{what}");
    assert_eq!(complaint["interfaces"][0]["name"], "Node", "{what}");
    let node = named(types, "Node");
    assert_eq!(node["kind"], "INTERFACE", "{what}");
    assert_eq!(node["possibleTypes"][0]["name"], "Complaint", "{what}");
    // `attachmentLinks: [String!]!`: three wrappers, unwrapped by the `ofType`s.
    let attachments = complaint["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "attachmentLinks")
        .unwrap();
    assert_eq!(attachments["type"]["kind"], "NON_NULL", "{what}");
    assert_eq!(attachments["type"]["ofType"]["kind"], "LIST", "{what}");
    assert_eq!(
        attachments["type"]["ofType"]["ofType"]["kind"], "NON_NULL",
        "{what}"
    );
    assert_eq!(
        attachments["type"]["ofType"]["ofType"]["ofType"]["name"], "String",
        "{what}"
    );
    let query = named(types, "QueryRoot")["fields"].as_array().unwrap();
    assert!(query.iter().any(|f| f["name"] == "node"), "{what}");
    let submit = named(types, "SubmitComplaintInput");
    assert!(
        !submit["inputFields"].as_array().unwrap().is_empty(),
        "{what}"
    );
    assert!(
        schema["directives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == "skip"),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_standard_introspection_queries_pass_and_hostile_nesting_does_not() {
    let env = Env::start(Backend::Sqlite).await;
    let public = env.server.client("");
    for (what, query) in STANDARD {
        for client in [&public, &env.citizen] {
            let body = client.query(query, json!({})).await;
            assert!(body.get("errors").is_none(), "{what}: {body}");
            check_schema(what, &body["data"]["__schema"]);
        }
    }

    // Data nested past 12 fields, directly and through fragments.
    let deep = format!("{{ {}id{} }}", "complaints { ".repeat(13), " }".repeat(13));
    assert_eq!(public.error_code(&deep, json!({})).await, "QUERY_TOO_DEEP");
    let fragments = format!(
        "query {{ ...A }} fragment A on QueryRoot {{ complaints {{ ...B }} }} fragment B on ComplaintConnection {{ {}id{} }}",
        "edges { node { ".repeat(6),
        " } }".repeat(6)
    );
    assert_eq!(
        public.error_code(&fragments, json!({})).await,
        "QUERY_TOO_DEEP"
    );

    // Introspection deeper than any standard query: a 30-long `ofType` chain.
    let of_type = format!(
        "{{ __type(name: \"Complaint\") {{ {}name{} }} }}",
        "ofType { ".repeat(30),
        " }".repeat(30)
    );
    assert_eq!(
        public.error_code(&of_type, json!({})).await,
        "QUERY_TOO_DEEP"
    );
    // Past 32 levels the parser refuses first, with the same code.
    let deeper = format!(
        "{{ __type(name: \"Complaint\") {{ {}name{} }} }}",
        "ofType { ".repeat(40),
        " }".repeat(40)
    );
    assert_eq!(
        public.error_code(&deeper, json!({})).await,
        "QUERY_TOO_DEEP"
    );
    // Introspection lists nested three times, each multiplying the answer by
    // the schema's width; directly and through a fragment.
    let lists =
        "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    assert_eq!(public.error_code(lists, json!({})).await, "QUERY_TOO_DEEP");
    let through_fragment = "{ __schema { types { ...T } } } fragment T on __Type { fields { type { interfaces { possibleTypes { name } } } } }";
    assert_eq!(
        public.error_code(through_fragment, json!({})).await,
        "QUERY_TOO_DEEP"
    );
    // `__schema` below the root is no introspection: counted as data.
    let hidden = format!(
        "{{ me {{ __schema {{ {}name{} }} }} }}",
        "types { ".repeat(11),
        " }".repeat(11)
    );
    assert_eq!(
        public.error_code(&hidden, json!({})).await,
        "QUERY_TOO_DEEP"
    );
    // An introspection as deep as the standard ones but legitimate in shape.
    let two_lists =
        "{ __type(name: \"QueryRoot\") { fields { type { ofType { fields { name } } } } } }";
    public.ok(two_lists, json!({})).await;
    env.finish().await;
}
