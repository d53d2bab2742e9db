//! The automatic acknowledgement: a verified case of a category with a
//! flagged city-wide template is answered with it once, as a PUBLIC note by
//! SYSTEM that leaves the response clock running; once also across a kill;
//! a retired template answers no more.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(a_verified_case_is_acknowledged_once_from_its_categorys_template);

const CREATE: &str = "mutation($input: CreateResponseTemplateInput!) { createResponseTemplate(input: $input) { id } }";
const RETIRE: &str = "mutation($input: RetireResponseTemplateInput!) { retireResponseTemplate(input: $input) { id } }";
const READ: &str = "query($id: ID!) { complaint(id: $id) { firstResponseAt } }";

async fn notes(env: &Env, id: &str) -> Vec<Value> {
    let history = env.history(id).await;
    history
        .into_iter()
        .filter(|e| e["type"] == "NoteAdded")
        .collect()
}

/// Waits until the acknowledger has read every case event in the log.
async fn acknowledger_caught_up(env: &Env) {
    env.store.settle().await;
    for _ in 0..400 {
        let total = env
            .store
            .scalar("SELECT count(*) FROM events WHERE aggregate_type = 'Complaint'")
            .await;
        let seen = env
            .store
            .scalar("SELECT coalesce(max(events_seen), 0) FROM projection_checkpoints WHERE name = 'auto_acknowledger'")
            .await;
        if seen == total {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the acknowledger did not reach the log's end");
}

async fn acknowledged(env: &Env, id: &str) -> Value {
    for _ in 0..200 {
        if let Some(note) = notes(env, id).await.pop() {
            return note;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} was never acknowledged");
}

async fn a_verified_case_is_acknowledged_once_from_its_categorys_template(backend: Backend) {
    let env = Env::start(backend).await;
    let text = "Laporan {number} di {kelurahan} kami terima.";
    let flagged = env
        .supervisor
        .ok(
            CREATE,
            json!({"input": {"name": "Diterima", "category": "ROAD_DAMAGE", "text": text, "autoAcknowledge": true}}),
        )
        .await["createResponseTemplate"]["id"]
        .clone();
    let unflagged =
        json!({"input": {"name": "A lain", "category": "ROAD_DAMAGE", "text": "Tidak dipakai."}});
    env.supervisor.ok(CREATE, unflagged).await;

    let case = env.verified().await;
    let note = acknowledged(&env, &case).await;
    let number = env.number(&case).await;
    assert_eq!(
        note["payload"]["text"],
        format!("Laporan {number} di Maradekaya kami terima.")
    );
    assert_eq!(note["payload"]["visibility"], "PUBLIC", "{note}");
    assert_eq!(
        note["payload"]["template"],
        json!({"id": flagged, "version": 1})
    );
    assert_eq!(
        (note["role"].clone(), note["channel"].clone()),
        (json!("SYSTEM"), json!("auto-ack"))
    );
    let verified = env
        .history(&case)
        .await
        .into_iter()
        .find(|e| e["type"] == "Verified")
        .unwrap();
    assert_eq!(
        note["commandId"],
        format!("auto-ack:{case}:{}", verified["sequence"])
    );
    let read = env.auditor.ok(READ, json!({"id": case})).await;
    assert!(
        read["complaint"]["firstResponseAt"].is_null(),
        "a note is not the OPD's answer: {read}"
    );

    // Killed right after a burst of verifications: each acknowledged once.
    let mut burst = Vec::new();
    for _ in 0..20 {
        burst.push(env.verified().await);
    }
    let env = env.restart_after(Stop::Kill).await;
    for id in &burst {
        acknowledged(&env, id).await;
    }
    acknowledger_caught_up(&env).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in burst.iter().chain([&case]) {
        assert_eq!(
            notes(&env, id).await.len(),
            1,
            "{id} acknowledged more than once"
        );
    }

    // A retired template answers no more.
    env.supervisor
        .ok(RETIRE, json!({"input": {"id": flagged}}))
        .await;
    let later = env.verified().await;
    acknowledger_caught_up(&env).await;
    assert!(
        notes(&env, &later).await.is_empty(),
        "a retired template answered"
    );
    env.finish().await;
}
