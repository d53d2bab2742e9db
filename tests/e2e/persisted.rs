//! Automatic persisted queries as Apollo Client's link sends them: the hash
//! first, the text only when the server does not know it. A cached query is
//! checked like any other on every use, and the cache stays bounded.
//!
//! One store (SQLite): the cache is in the server process, before any store.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use aduan_testkit::GraphqlClient;

use crate::support::*;

fn sha256(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({"persistedQuery": {"version": 1, "sha256Hash": hash}})
}

/// POSTs the hash alone (`query: None`) or with the text, as `client`.
async fn send(client: &GraphqlClient, query: Option<&str>, hash: &str, variables: Value) -> Value {
    let mut body = json!({"extensions": persisted(hash), "variables": variables});
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    let mut request = reqwest::Client::new().post(&client.url).json(&body);
    if !client.token.is_empty() {
        request = request.bearer_auth(&client.token);
    }
    let response = request.send().await.expect("POST /graphql");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON")
}

fn assert_not_found(body: &Value) {
    // Apollo Client resends with the text on either of these.
    assert_eq!(
        body["errors"][0]["message"], "PersistedQueryNotFound",
        "{body}"
    );
    assert_eq!(
        error_code(body),
        Some("PERSISTED_QUERY_NOT_FOUND"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn persisted_queries_register_run_by_hash_and_stay_checked() {
    let env = Env::start(Backend::Sqlite).await;
    let id = env.submit().await;
    let query = "query Own($id: ID!) { complaint(id: $id) { id status } }";
    let hash = sha256(query);
    let vars = json!({"id": id});

    assert_not_found(&send(&env.citizen, None, &hash, vars.clone()).await);
    let registered = send(&env.citizen, Some(query), &hash, vars.clone()).await;
    assert!(registered.get("errors").is_none(), "{registered}");
    assert_eq!(registered["data"]["complaint"]["id"], json!(id));
    let by_hash = send(&env.citizen, None, &hash, vars.clone()).await;
    assert_eq!(by_hash, registered);

    // A hash that is not the text's: refused, and nothing is kept under it.
    let other = "{ me { id } }";
    let wrong = send(&env.citizen, Some(other), &hash, json!({})).await;
    assert_eq!(error_code(&wrong), Some("BAD_REQUEST"), "{wrong}");
    assert!(wrong.get("data").is_none_or(Value::is_null), "{wrong}");
    let forged = sha256("{ opds { code } }");
    let wrong = send(&env.citizen, Some(other), &forged, json!({})).await;
    assert_eq!(error_code(&wrong), Some("BAD_REQUEST"), "{wrong}");
    assert_not_found(&send(&env.citizen, None, &forged, json!({})).await);
    // The registered query still answers the same.
    assert_eq!(
        send(&env.citizen, None, &hash, vars.clone()).await,
        registered
    );

    // A cached query is the caller's to run under their own rights.
    let public = env.server.client("");
    let refused = send(&public, None, &hash, vars.clone()).await;
    assert_eq!(error_code(&refused), Some("UNAUTHENTICATED"), "{refused}");
    let stranger = env.client("CITIZEN", None, "warga-2").await;
    let refused = send(&stranger, None, &hash, vars).await;
    assert_eq!(error_code(&refused), Some("FORBIDDEN"), "{refused}");

    // A hostile query registered is refused on every use, not only the first.
    let deep = format!("{{ {}id{} }}", "complaints { ".repeat(13), " }".repeat(13));
    let deep_hash = sha256(&deep);
    for query in [Some(deep.as_str()), None] {
        let body = send(&env.citizen, query, &deep_hash, json!({})).await;
        assert_eq!(error_code(&body), Some("QUERY_TOO_DEEP"), "{body}");
    }

    // Too large to keep: it runs, but is not cached.
    let large = format!("{{ me {{ id }} }}\n# {}\n", "x".repeat(17 * 1024));
    let large_hash = sha256(&large);
    let body = send(&env.citizen, Some(&large), &large_hash, json!({})).await;
    assert_eq!(body["data"]["me"]["id"], "warga-1", "{body}");
    assert_not_found(&send(&env.citizen, None, &large_hash, json!({})).await);

    // Bounded: 256 queries registered after it push the first one out.
    let first = "{ opds { code } }";
    let first_hash = sha256(first);
    send(&env.citizen, Some(first), &first_hash, json!({})).await;
    for n in 0..256 {
        let query = format!("query Q{n} {{ me {{ id }} }}");
        let body = send(&env.citizen, Some(&query), &sha256(&query), json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    assert_not_found(&send(&env.citizen, None, &first_hash, json!({})).await);
    env.finish().await;
}
