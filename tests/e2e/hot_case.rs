//! A hot case: 16 desks adding notes to one complaint at once, for a few seconds
//! (ADUAN_HOT_CASE_SECONDS, default 5). Commands on one case take turns in the
//! server, on a cached state, so none fails; every acknowledged note is stored
//! exactly once at the version it was acknowledged with, retries with the same
//! commandId return the first result, and the sequence has no gap. The rate it
//! reaches is the `throughput` bench's business, not this test's.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(sixteen_clients_noting_one_complaint_all_succeed_once_each);

const CLIENTS: usize = 16;

fn seconds() -> u64 {
    std::env::var("ADUAN_HOT_CASE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
}

/// What one desk had acknowledged: (note text, version), retries included.
async fn desk(env: &Env, id: &str, desk: usize, until: Instant) -> Vec<(String, i64)> {
    let client = if desk.is_multiple_of(2) {
        &env.dpu_officer
    } else {
        &env.agent
    };
    let mut acknowledged = Vec::new();
    let mut n: u64 = 0;
    while Instant::now() < until {
        let text = format!("desk {desk} note {n}");
        let note = input(
            id,
            json!({"text": text, "visibility": "INTERNAL", "commandId": format!("hot-{desk}-{n}")}),
        );
        let version = |body: &Value| returned(&body["data"])["version"].as_i64().unwrap();
        let body = client.query(MUTATE_ADD_NOTE, note.clone()).await;
        assert!(body.get("errors").is_none(), "a note failed: {body}");
        acknowledged.push((text.clone(), version(&body)));
        if n.is_multiple_of(10) {
            // A client that lost the answer sends the same command again.
            let again = client.query(MUTATE_ADD_NOTE, note).await;
            assert_eq!(
                version(&again),
                version(&body),
                "a retry got another result: {again}"
            );
        }
        n += 1;
    }
    acknowledged
}

async fn sixteen_clients_noting_one_complaint_all_succeed_once_each(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    let until = Instant::now() + Duration::from_secs(seconds());
    let desks = futures::future::join_all((0..CLIENTS).map(|d| desk(&env, &id, d, until))).await;
    let mut acknowledged: Vec<(String, i64)> = desks.into_iter().flatten().collect();
    acknowledged.sort_by_key(|(_, version)| *version);
    acknowledged.dedup();
    assert!(
        acknowledged.len() >= CLIENTS * 5,
        "the desks got only {} notes in",
        acknowledged.len()
    );

    let history = env.history(&id).await;
    let sequences: Vec<i64> = history
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        (1..=history.len() as i64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    let stored: Vec<(String, i64)> = history
        .iter()
        .filter(|e| e["type"] == "NoteAdded")
        .map(|e| {
            (
                e["payload"]["text"].as_str().unwrap().to_string(),
                e["sequence"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stored, acknowledged,
        "each acknowledged note once, at the version it was acknowledged with"
    );
    env.finish().await;
}
