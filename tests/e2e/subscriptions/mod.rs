//! GraphQL subscriptions end to end: a real WebSocket client
//! (`aduan_testkit::WsClient`) against the real server, on both stores.
//! The access cells of the subscriptions are walked by `access.rs` with the rest
//! of the table.

pub mod access;
mod alerts;
mod fanout;
mod ordering;
mod protocol;
mod resume;
mod slow;
mod transfer;

use std::collections::HashMap;

use serde_json::json;

pub use aduan_testkit::{GraphqlClient, Reply, WsClient};
pub use serde_json::Value;

pub use crate::support::*;

pub const EVENTS: &str = "subscription($filter: ComplaintEventFilter, $after: Int) { \
    complaintEvents(filter: $filter, afterPosition: $after) { position sequence type complaintId \
    occurredAt actor role complaint { id status opd version position } } }";

pub const UPDATED: &str = "subscription($id: ID!, $after: Int) { \
    complaintUpdated(id: $id, afterPosition: $after) { id status opd version position } }";

/// The next `complaintEvents` notice on subscription `id`.
pub async fn notice(ws: &mut WsClient, id: &str) -> Value {
    ws.next_data(id).await["complaintEvents"].clone()
}

pub fn position(notice: &Value) -> i64 {
    notice["position"].as_i64().expect("a position")
}

/// The position of the log's last event (0 when empty).
pub async fn log_head(env: &Env) -> i64 {
    env.store
        .scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .await
}

/// Every event position of `ids`' histories, as the auditor reads them, with
/// its complaint and type.
pub async fn histories(env: &Env, ids: &[String]) -> HashMap<i64, (String, String)> {
    let mut out = HashMap::new();
    for id in ids {
        for e in env.history(id).await {
            out.insert(
                e["position"].as_i64().unwrap(),
                (id.clone(), e["type"].as_str().unwrap().to_string()),
            );
        }
    }
    out
}

/// Adds a note to `id` as `client`; returns the event's position.
pub async fn note(client: &GraphqlClient, id: &str, text: &str, visibility: &str) -> i64 {
    let data = client
        .ok(
            MUTATE_ADD_NOTE,
            input(id, json!({"text": text, "visibility": visibility})),
        )
        .await;
    returned(&data)["position"].as_i64().unwrap()
}

/// Submits `n` reports in one request (aliased mutations, run in order); their
/// ids.
pub async fn submit_many(client: &GraphqlClient, n: usize, report: &Value) -> Vec<String> {
    let fields: String = (0..n)
        .map(|i| format!("s{i}: submitComplaint(input: $input) {{ id }} "))
        .collect();
    let document = format!("mutation($input: SubmitComplaintInput!) {{ {fields}}}");
    let data = client.ok(&document, json!({"input": report})).await;
    (0..n)
        .map(|i| data[format!("s{i}")]["id"].as_str().unwrap().to_string())
        .collect()
}

/// The first error's `extensions.code` in an `error` message's payload.
pub use aduan_testkit::ws::error_code as error_code_of;
