//! Reversible duplicate links through the real server: a link and its undoing
//! give back the case's status and its clocks to the second; chains, cycles,
//! closed primaries and direct closings of a linked report are refused and
//! change nothing; the one-way DUPLICATE closing still works.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_link_and_its_undoing_give_back_status_and_clocks);
on_both_stores!(chains_cycles_and_closings_of_linked_reports_are_refused);

const TIMERS: &str = "query($id: ID!, $min: Int) { \
    slaTimers(filter: {complaintId: $id}, minPosition: $min) { leg paused stoppedAt usedSeconds state } }";

const MEMBERS: &str = "query($ids: [String!], $min: Int) { \
    complaints(filter: {duplicateOf: $ids}, minPosition: $min) { edges { node { id status } } } }";

async fn timers(env: &Env, id: &str, min: &Value) -> Vec<Value> {
    let data = env.auditor.ok(TIMERS, json!({"id": id, "min": min})).await;
    let mut rows = data["slaTimers"].as_array().unwrap().clone();
    rows.sort_by_key(|t| t["leg"].as_str().unwrap().to_string());
    rows
}

fn link(id: &str, primary: &str) -> Value {
    input(
        id,
        json!({"primaryId": primary, "reason": "Saluran yang sama tersumbat."}),
    )
}

/// An emergency (calendar-time clocks, so the test means the same at any
/// hour), verified and dispatched to DPU.
async fn emergency(env: &Env) -> String {
    let report = report_with(json!({"priority": "EMERGENCY"}));
    let id = id_of(&env.agent.ok(SUBMIT, json!({"input": report})).await);
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    id
}

async fn a_link_and_its_undoing_give_back_status_and_clocks(backend: Backend) {
    let env = Env::start(backend).await;
    let primary = env.assigned().await;
    let report = emergency(&env).await;

    let linked = env.agent.ok(MUTATE_LINK, link(&report, &primary)).await;
    assert_eq!(returned(&linked)["status"], "DUPLICATE");
    let at_link = timers(&env, &report, &returned(&linked)["position"]).await;
    let running: Vec<&Value> = at_link
        .iter()
        .filter(|t| t["stoppedAt"].is_null())
        .collect();
    assert_eq!(running.len(), 2, "respond and resolve run: {at_link:?}");
    assert!(running.iter().all(|t| t["paused"] == true), "{at_link:?}");
    let event = env.history(&report).await.last().unwrap().clone();
    assert_eq!(event["type"], "DuplicateLinked");
    assert_eq!(event["payload"]["primary_id"], json!(primary));
    assert_eq!(event["payload"]["prior_status"], "ASSIGNED");
    assert_eq!(event["payload"]["rule"], "SAME_CATEGORY_NEARBY");
    assert_eq!(event["payload"]["distance_meters"], 0.0);
    let members = env
        .agent
        .ok(
            MEMBERS,
            json!({"ids": [primary], "min": returned(&linked)["position"]}),
        )
        .await;
    assert_eq!(
        members["complaints"]["edges"][0]["node"]["id"],
        json!(report)
    );

    // Linked for a while: none of it may count.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let back = env
        .supervisor
        .ok(
            MUTATE_UNLINK,
            input(&report, json!({"reason": "Ternyata lain."})),
        )
        .await;
    assert_eq!(returned(&back)["status"], "ASSIGNED");
    let after = timers(&env, &report, &returned(&back)["position"]).await;
    // Used time stands where the link left it: the linked span never counted.
    for (a, b) in at_link.iter().zip(&after) {
        assert_eq!(a["leg"], b["leg"]);
        assert_eq!(a["usedSeconds"], b["usedSeconds"], "{a} / {b}");
        assert_eq!(b["paused"], false, "{b}");
    }
    let empty = env
        .agent
        .ok(
            MEMBERS,
            json!({"ids": [primary], "min": returned(&back)["position"]}),
        )
        .await;
    assert_eq!(empty["complaints"]["edges"], json!([]));
    env.finish().await;
}

async fn chains_cycles_and_closings_of_linked_reports_are_refused(backend: Backend) {
    let env = Env::start(backend).await;
    let primary = env.assigned().await;
    let report = env.assigned().await;
    let third = env.assigned().await;
    env.agent.ok(MUTATE_LINK, link(&report, &primary)).await;

    // A chain (to a duplicate), a merge without moving members (the primary
    // linked elsewhere), a case linked to itself, to nothing, or by another OPD.
    let refusals = [
        (
            &third,
            link(&third, &report),
            &env.agent,
            "INVALID_TRANSITION",
        ),
        (
            &primary,
            link(&primary, &third),
            &env.agent,
            "INVALID_TRANSITION",
        ),
        (&third, link(&third, &third), &env.agent, "INVALID_INPUT"),
        (
            &third,
            link(&third, "ADU-NOPE"),
            &env.agent,
            "INVALID_INPUT",
        ),
        (
            &third,
            link(&third, &primary),
            &env.dlh_officer,
            "FORBIDDEN",
        ),
        (&third, link(&third, &primary), &env.citizen, "FORBIDDEN"),
    ];
    for (id, variables, client, code) in refusals {
        env.refused(id, client, MUTATE_LINK, variables, code).await;
    }
    // A linked report is closed with its primary, not on its own.
    let close = input(
        &report,
        json!({"resolution": "RESOLVED", "summary": "Selesai."}),
    );
    env.refused(
        &report,
        &env.agent,
        MUTATE_CLOSE,
        close,
        "INVALID_TRANSITION",
    )
    .await;
    // The OPD links between its own cases.
    let linked = env
        .dpu_officer
        .ok(MUTATE_LINK, link(&third, &primary))
        .await;
    assert_eq!(returned(&linked)["status"], "DUPLICATE");
    // The one-way form still closes a report as a DUPLICATE of another.
    let other = env.assigned().await;
    let one_way =
        json!({"resolution": "DUPLICATE", "summary": "Sudah dilaporkan.", "duplicateOf": primary});
    let closed = env.agent.ok(MUTATE_CLOSE, input(&other, one_way)).await;
    assert_eq!(returned(&closed)["status"], "CLOSED");
    assert_eq!(returned(&closed)["resolution"], "DUPLICATE");
    env.finish().await;
}
