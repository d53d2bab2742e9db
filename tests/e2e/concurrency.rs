//! Idempotency and optimistic concurrency with real parallel HTTP requests.

use std::collections::HashSet;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::support::*;

const OPDS: [&str; 12] = [
    "DPU",
    "DLH",
    "DISHUB",
    "DINKES",
    "PDAM",
    "DISDUKCAPIL",
    "SATPOLPP",
    "DAMKAR",
    "DINSOS",
    "DISDIK",
    "BPBD",
    "DISKOMINFO",
];

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_retried_command_returns_the_first_result_and_appends_nothing() {
    let env = Env::start().await;
    let mut input = report();
    input["commandId"] = json!("phone-retry-1");
    let first = env
        .citizen
        .ok(SUBMIT, json!({"input": input.clone()}))
        .await;
    let again = env
        .citizen
        .ok(SUBMIT, json!({"input": input.clone()}))
        .await;
    assert_eq!(first, again);
    let id = first["submitComplaint"]["id"].as_str().unwrap().to_string();

    let verify = json!({"input": {"complaintId": id, "commandId": "verify-1", "note": "ok"}});
    let v1 = env.agent.ok(MUTATE_VERIFY, verify.clone()).await;
    let v2 = env.agent.ok(MUTATE_VERIFY, verify).await;
    assert_eq!(v1, v2);
    assert_eq!(env.event_types(&id).await, ["Submitted", "Verified"]);
    assert_eq!(env.history(&id).await[1]["commandId"], "verify-1");

    // The same key with another command is a client bug, not a retry.
    let other = json!({"input": {"complaintId": id, "commandId": "verify-1", "note": "different"}});
    assert_eq!(
        env.agent.error_code(MUTATE_VERIFY, other).await,
        "INVALID_INPUT"
    );
    input["title"] = json!("Another title");
    assert_eq!(
        env.citizen
            .error_code(SUBMIT, json!({"input": input}))
            .await,
        "INVALID_INPUT"
    );
    assert_eq!(env.history(&id).await.len(), 2);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_racing_retries_of_one_submission_create_one_complaint() {
    let env = Env::start().await;
    let mut input = report();
    input["commandId"] = json!("racing-submit");
    let variables = json!({"input": input});
    let bodies = join_all((0..16).map(|_| env.citizen.ok(SUBMIT, variables.clone()))).await;
    let ids: HashSet<_> = bodies
        .iter()
        .map(|b| b["submitComplaint"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "all retries name the same complaint");
    let id = ids.into_iter().next().unwrap();
    assert_eq!(env.event_types(id).await, ["Submitted"]);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_racing_dispatches_leave_exactly_one_assignment() {
    let env = Env::start().await;
    let id = env.submit().await;
    env.agent
        .ok(MUTATE_VERIFY, json!({"input": {"complaintId": id}}))
        .await;
    let requests = (0..32).map(|i| {
        let variables = json!({"input": {"complaintId": id, "opd": OPDS[i % OPDS.len()]}});
        let agent = env.agent.clone();
        async move { agent.query(MUTATE_ASSIGN, variables).await }
    });
    let bodies = join_all(requests).await;
    let winners: Vec<_> = bodies
        .iter()
        .filter(|b| b.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one dispatch wins");
    for loser in bodies.iter().filter(|b| b.get("errors").is_some()) {
        assert!(
            matches!(code(loser), Some("CONFLICT" | "INVALID_TRANSITION")),
            "{loser}"
        );
    }
    let history = env.history(&id).await;
    let types: Vec<_> = history
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Submitted", "Verified", "Assigned"]);
    assert_eq!(
        history[2]["payload"]["opd"],
        winners[0]["data"]["assignComplaint"]["opd"]
    );
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_racing_replies_are_all_kept_once_in_order() {
    let env = Env::start().await;
    let id = env.assigned().await;
    let requests = (0..32).map(|i| {
        let variables = json!({"input": {"complaintId": id, "message": format!("balasan {i}")}});
        let officer = env.dpu_officer.clone();
        async move { officer.query(MUTATE_RESPOND, variables).await }
    });
    for body in join_all(requests).await {
        assert!(
            body.get("errors").is_none(),
            "a racing reply was lost: {body}"
        );
    }
    let history = env.history(&id).await;
    assert_eq!(history.len(), 3 + 32);
    let messages: HashSet<_> = history[3..]
        .iter()
        .map(|e| e["payload"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 32, "each reply exactly once");
    let sequences: Vec<_> = history
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        (1..=35).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    let positions: HashSet<_> = history
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions.len(), 35);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_expected_version_only_one_of_thirty_two_racers_wins() {
    let env = Env::start().await;
    let id = env.submit().await;
    let requests = (0..32).map(|i| {
        let variables = json!({"input": {"complaintId": id, "reason": format!("alasan {i}"), "expectedVersion": 1}});
        let supervisor = env.supervisor.clone();
        async move { supervisor.query(MUTATE_ESCALATE, variables).await }
    });
    let bodies = join_all(requests).await;
    assert_eq!(
        bodies.iter().filter(|b| b.get("errors").is_none()).count(),
        1
    );
    assert!(bodies
        .iter()
        .filter(|b| b.get("errors").is_some())
        .all(|b| code(b) == Some("CONFLICT")));
    assert_eq!(env.event_types(&id).await, ["Submitted", "Escalated"]);
    env.finish().await;
}
