//! Idempotency keys (`commandId`): a retried command returns its first result and
//! appends nothing, also when the copies race.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(
    a_retried_submission_returns_the_same_complaint_and_appends_nothing,
    a_retried_command_returns_its_first_result_even_after_later_changes,
    sixteen_racing_copies_of_one_submission_create_one_complaint,
    a_replayed_command_id_does_not_lend_its_permissions,
    another_citizen_reusing_a_submission_key_gets_no_one_elses_complaint,
);

fn field(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["field"]
}

async fn a_retried_submission_returns_the_same_complaint_and_appends_nothing(backend: Backend) {
    let env = Env::start(backend).await;
    let mut report = report();
    report["commandId"] = json!("phone-retry-1");
    let first = env
        .citizen
        .ok(SUBMIT, json!({"input": report.clone()}))
        .await;
    let again = env
        .citizen
        .ok(SUBMIT, json!({"input": report.clone()}))
        .await;
    assert_eq!(first, again, "same id, version and position");
    assert_eq!(returned(&first)["version"], 1);
    let id = id_of(&first);
    let history = env.history(&id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["commandId"], "phone-retry-1");

    // The same key with another report is a client bug, not a retry.
    report["title"] = json!("Judul lain");
    let body = env.citizen.query(SUBMIT, json!({"input": report})).await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    assert_eq!(*field(&body), "commandId");
    assert_eq!(env.history(&id).await, history);
    env.finish().await;
}

async fn a_retried_command_returns_its_first_result_even_after_later_changes(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.submit().await;
    let verify = input(&id, json!({"commandId": "verify-1", "note": "ok"}));
    let first = env.agent.ok(MUTATE_VERIFY, verify.clone()).await;
    assert_eq!(returned(&first)["version"], 2);
    assert_eq!(env.agent.ok(MUTATE_VERIFY, verify.clone()).await, first);
    let history = env.history(&id).await;
    let types: Vec<_> = history
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Submitted", "Verified"]);
    assert_eq!(history[1]["commandId"], "verify-1");

    // Later changes do not alter what the retry answers, and it appends nothing.
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    let history = env.history(&id).await;
    assert_eq!(env.agent.ok(MUTATE_VERIFY, verify).await, first);
    assert_eq!(env.history(&id).await, history);

    // The same key with another command, here or on another complaint, is refused.
    let other = env.submit().await;
    for variables in [
        input(&id, json!({"commandId": "verify-1", "note": "different"})),
        input(&other, json!({"commandId": "verify-1", "note": "ok"})),
    ] {
        let body = env.agent.query(MUTATE_VERIFY, variables).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(*field(&body), "commandId");
    }
    assert_eq!(env.history(&id).await, history);
    assert_eq!(env.event_types(&other).await, ["Submitted"]);
    env.finish().await;
}

async fn sixteen_racing_copies_of_one_submission_create_one_complaint(backend: Backend) {
    let env = Env::start(backend).await;
    let mut report = report();
    report["commandId"] = json!("racing-submit");
    let variables = json!({"input": report});
    let bodies = race(&env.citizen, SUBMIT, vec![variables; 16]).await;
    for body in &bodies {
        assert!(body.get("errors").is_none(), "a copy failed: {body}");
    }
    let results: HashSet<_> = bodies
        .iter()
        .map(|b| returned(&b["data"]).to_string())
        .collect();
    assert_eq!(results.len(), 1, "all copies answer the same: {results:?}");
    let complaint = returned(&bodies[0]["data"]);
    assert_eq!(complaint["version"], 1);
    let id = complaint["id"].as_str().unwrap();
    assert_eq!(env.event_types(id).await, ["Submitted"]);
    env.finish().await;
}

/// A replayed key answers with the first result only to a caller who may send the
/// command: someone else reusing it must not get the result without the checks.
async fn a_replayed_command_id_does_not_lend_its_permissions(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.submit().await;
    let verify = input(&id, json!({"commandId": "agent-verify-1"}));
    env.agent.ok(MUTATE_VERIFY, verify.clone()).await;
    // Citizens may not verify, whatever key they send.
    env.refused(&id, &env.citizen, MUTATE_VERIFY, verify, "FORBIDDEN")
        .await;
    env.finish().await;
}

async fn another_citizen_reusing_a_submission_key_gets_no_one_elses_complaint(backend: Backend) {
    let env = Env::start(backend).await;
    let mut report = report();
    report["commandId"] = json!("warga-1-report");
    let variables = json!({"input": report});
    let id = id_of(&env.citizen.ok(SUBMIT, variables.clone()).await);
    let stranger = env.client("CITIZEN", None, "warga-2").await;
    assert_eq!(
        stranger.error_code(COMPLAINT, json!({"id": id})).await,
        "FORBIDDEN",
        "warga-2 may not read warga-1's complaint"
    );
    let body = stranger.query(SUBMIT, variables).await;
    assert_ne!(
        body["data"]["submitComplaint"]["id"], id,
        "warga-2 was handed warga-1's complaint: {body}"
    );
    assert_eq!(env.event_types(&id).await, ["Submitted"]);
    env.finish().await;
}
