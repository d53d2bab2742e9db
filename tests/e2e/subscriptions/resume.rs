//! Resuming with `afterPosition`: after a server restart, from the start of the
//! log, and not from a position no event has.

use std::collections::HashSet;

use serde_json::json;

use super::*;

on_both_stores!(resuming_after_a_restart_misses_nothing_and_repeats_nothing);

/// Reads notices on `id` until one for `complaint`'s event of `sequence`.
async fn until(ws: &mut WsClient, id: &str, complaint: &str, sequence: i64) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let n = notice(ws, id).await;
        let done = n["complaintId"] == json!(complaint) && n["sequence"] == json!(sequence);
        out.push(n);
        if done {
            return out;
        }
    }
}

fn positions(notices: &[Value]) -> Vec<i64> {
    notices.iter().map(position).collect()
}

async fn resuming_after_a_restart_misses_nothing_and_repeats_nothing(backend: Backend) {
    let env = Env::start(backend).await;
    let a = env.verified().await;
    let b = env.assigned().await;
    let mut ws = env.server.ws(Some(&env.auditor.token)).await;
    // From the start of the log: every event so far, then live.
    ws.subscribe("s", EVENTS, json!({"after": 0})).await;
    let mut before = until(&mut ws, "s", &b, 3).await;
    assert_eq!(
        before
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Submitted", "Verified", "Submitted", "Verified", "Assigned"],
    );
    env.agent
        .ok(MUTATE_ASSIGN, input(&a, json!({"opd": "DLH"})))
        .await;
    before.extend(until(&mut ws, "s", &a, 3).await);
    let last = position(before.last().unwrap());

    // The server dies; commands go on after it comes back, before anyone
    // subscribes again.
    let env = env.restart_after(Stop::Kill).await;
    drop(ws);
    note(&env.dpu_officer, &b, "Ditinjau.", "PUBLIC").await;
    let c = env.assigned().await;
    let mut ws = env.server.ws(Some(&env.auditor.token)).await;
    ws.subscribe("s", EVENTS, json!({"after": last})).await;
    let mut after = until(&mut ws, "s", &c, 3).await;
    assert_eq!(
        after
            .iter()
            .map(|n| (
                n["complaintId"].as_str().unwrap(),
                n["type"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        [
            (b.as_str(), "NoteAdded"),
            (c.as_str(), "Submitted"),
            (c.as_str(), "Verified"),
            (c.as_str(), "Assigned")
        ],
        "exactly the missed events"
    );
    // Then live ones.
    env.dlh_officer
        .ok(MUTATE_RESPOND, input(&a, json!({"message": "Segera."})))
        .await;
    after.extend(until(&mut ws, "s", &a, 4).await);
    assert_eq!(after.len(), 5, "{after:?}");

    // Together: complaintHistory's events, each once.
    let all: Vec<i64> = positions(&before)
        .into_iter()
        .chain(positions(&after))
        .collect();
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "duplicates: {all:?}");
    let history: HashSet<i64> = histories(&env, &[a.clone(), b.clone(), c.clone()])
        .await
        .into_keys()
        .collect();
    assert_eq!(unique, history);

    // afterPosition must be a notice's position (or 0).
    for (id, bad) in [("beyond", log_head(&env).await + 1000), ("negative", -1)] {
        ws.subscribe(id, EVENTS, json!({"after": bad})).await;
        let errors = ws.error(id).await;
        assert_eq!(error_code_of(&errors), Some("INVALID_INPUT"), "{errors}");
    }
    // The connection still serves the first subscription.
    note(&env.dpu_officer, &c, "Masih jalan.", "PUBLIC").await;
    let n = notice(&mut ws, "s").await;
    assert_eq!(n["complaintId"], json!(c));
    env.finish().await;
}
