//! `complaints(filter: {text})` over HTTP: a response's words find the case,
//! an INTERNAL note's never; a search's cursor continues its ranking, and a
//! cursor that is not one is refused by its field.

use serde_json::{json, Value};

use crate::support::*;

const RESPOND: &str = "mutation($input: RespondToComplaintInput!) { \
    respondToComplaint(input: $input) { position } }";
const NOTE: &str = "mutation($input: AddNoteInput!) { addNote(input: $input) { position } }";
const LIST: &str = "query($text: String, $after: String, $min: Int) { \
    complaints(first: 1, filter: {text: $text}, after: $after, minPosition: $min) { \
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }";

fn ids(data: &Value) -> Vec<String> {
    data["complaints"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_search_finds_responses_not_internal_notes_and_pages_by_rank() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let (first, second) = (cast.assigned().await, cast.assigned().await);
    let respond = input(&second, json!({"message": "Drainase akan dibersihkan"}));
    cast.dpu_officer.ok(RESPOND, respond).await;
    let note = input(
        &second,
        json!({"text": "Kontraktor lalai", "visibility": "INTERNAL"}),
    );
    let min = cast.agent.ok(NOTE, note).await["addNote"]["position"].clone();
    let search = |text: &str, after: Value| json!({"text": text, "after": after, "min": min});

    let data = cast.agent.ok(LIST, search("drainase", Value::Null)).await;
    assert_eq!(ids(&data), std::slice::from_ref(&second), "{data}");
    let data = cast.agent.ok(LIST, search("kontraktor", Value::Null)).await;
    assert_eq!(data["complaints"]["totalCount"], 0, "{data}");

    // Both cases have `jalan` in the title: two pages of one, by rank then id.
    let page = cast.agent.ok(LIST, search("jalanan", Value::Null)).await;
    assert_eq!(page["complaints"]["totalCount"], 2, "{page}");
    assert_eq!(page["complaints"]["pageInfo"]["hasNextPage"], true);
    let after = page["complaints"]["pageInfo"]["endCursor"].clone();
    let next = cast.agent.ok(LIST, search("jalanan", after)).await;
    assert_eq!(next["complaints"]["pageInfo"]["hasNextPage"], false);
    let mut both = [ids(&page), ids(&next)].concat();
    both.sort();
    let mut want = vec![first, second];
    want.sort();
    assert_eq!(both, want);

    let bad = hex::encode("~not a rank|2026-01-01T00:00:00Z|x");
    let body = cast.agent.query(LIST, search("jalan", json!(bad))).await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
    app.finish().await;
}
