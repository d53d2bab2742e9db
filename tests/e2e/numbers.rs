//! Case numbers people can say (`MKS-2026-004512`): given at submission, on the
//! case, its list item and the reporter's tracking view, and found by
//! `complaint(number:)` however a caller reads it out, within the access rules.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_case_is_found_by_the_number_a_caller_quotes);

const BY_NUMBER: &str =
    "query($number: String!) { complaint(number: $number) { id number status } }";
const NUMBERED: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id number trackingCode } }";
const LISTED: &str = "query { complaints(first: 10) { edges { node { id number } } } }";
const TRACKED: &str = "query($code: String!) { trackedComplaint(trackingCode: $code) { number } }";

fn count(number: &str) -> i64 {
    number.rsplit('-').next().unwrap().parse().unwrap()
}

async fn a_case_is_found_by_the_number_a_caller_quotes(backend: Backend) {
    let env = Env::start(backend).await;
    let first = env.citizen.ok(NUMBERED, json!({"input": report()})).await;
    let second = env.citizen.ok(NUMBERED, json!({"input": report()})).await;
    let (first, second) = (&first["submitComplaint"], &second["submitComplaint"]);
    let number = first["number"].as_str().unwrap().to_string();
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(number.starts_with(&format!("MKS-{year}-")), "{number}");
    assert_eq!(number.len(), "MKS-2026-000001".len());
    let next = second["number"].as_str().unwrap();
    assert_eq!(count(next), count(&number) + 1, "one count, rising");
    let id = first["id"].as_str().unwrap().to_string();
    env.current(&id).await;

    // Read out over the phone: any case, with or without the zeros.
    let spoken = format!("{} ", number.to_lowercase().replace("-00", "-"));
    for asked in [number.as_str(), spoken.as_str()] {
        let found = env.agent.ok(BY_NUMBER, json!({"number": asked})).await;
        assert_eq!(found["complaint"]["id"], id.as_str(), "{asked:?}");
        assert_eq!(found["complaint"]["number"], number.as_str());
    }
    let listed = env.agent.ok(LISTED, json!({})).await;
    let items = listed["complaints"]["edges"].as_array().unwrap();
    assert!(items
        .iter()
        .any(|e| e["node"]["id"] == id.as_str() && e["node"]["number"] == number.as_str()));
    let code = first["trackingCode"].as_str().unwrap();
    let public = env.server.client("");
    let tracked = public.ok(TRACKED, json!({"code": code})).await;
    assert_eq!(tracked["trackedComplaint"]["number"], number.as_str());

    // Refusals: not a number, both handles or none, a number no case has, and
    // a case the caller may not read (the number is no key to it).
    let refused = |body: Value, code: &str| assert_eq!(error_code(&body), Some(code), "{body}");
    for garbage in ["", "MKS-2026", "jalan rusak", "MKS-2026-000000"] {
        let body = env.agent.query(BY_NUMBER, json!({"number": garbage})).await;
        refused(body.clone(), "INVALID_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "number", "{body}");
    }
    let both = "query($id: ID!, $n: String!) { complaint(id: $id, number: $n) { id } }";
    let body = env.agent.query(both, json!({"id": id, "n": number})).await;
    refused(body, "INVALID_INPUT");
    let body = env
        .agent
        .query("query { complaint { id } }", json!({}))
        .await;
    refused(body, "INVALID_INPUT");
    let unknown = format!("MKS-{year}-999999");
    let body = env.agent.query(BY_NUMBER, json!({"number": unknown})).await;
    refused(body, "NOT_FOUND");
    let stranger = env.client("CITIZEN", None, "warga-2").await;
    let body = stranger.query(BY_NUMBER, json!({"number": number})).await;
    refused(body.clone(), "FORBIDDEN");
    assert!(body["data"]["complaint"].is_null(), "{body}");
    env.finish().await;
}
