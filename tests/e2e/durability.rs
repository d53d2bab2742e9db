//! Nothing acknowledged is lost: a stream of commands, the server stopped in the
//! middle of it (SIGTERM and SIGKILL), a new server on the same database, and
//! every acknowledged command's events are there, once, with consistent
//! projections.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(
    a_sigkill_mid_stream_loses_no_acknowledged_command,
    a_sigterm_mid_stream_loses_no_acknowledged_command,
);

async fn a_sigkill_mid_stream_loses_no_acknowledged_command(backend: Backend) {
    crash_mid_stream(backend, Stop::Kill).await;
}

async fn a_sigterm_mid_stream_loses_no_acknowledged_command(backend: Backend) {
    crash_mid_stream(backend, Stop::Term).await;
}

/// Posts without panicking: a request cut off by the stop is simply not
/// acknowledged. `Some(data)` only for a complete, error-free answer.
async fn try_send(
    client: &aduan_testkit::GraphqlClient,
    query: &str,
    variables: Value,
) -> Option<Value> {
    let response = reqwest::Client::new()
        .post(&client.url)
        .bearer_auth(&client.token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .ok()?;
    let body: Value = response.json().await.ok()?;
    body.get("errors").is_none().then(|| body["data"].clone())
}

/// Acknowledged commands: (complaint id, events the complaint had by then, command id).
type Acks = Arc<Mutex<Vec<(String, usize, String)>>>;

async fn writer(
    env_citizen: aduan_testkit::GraphqlClient,
    env_agent: aduan_testkit::GraphqlClient,
    n: usize,
    acks: Acks,
) {
    for i in 0.. {
        let key = format!("w{n}-{i}");
        let mut submit = report();
        submit["commandId"] = json!(key);
        let Some(data) = try_send(&env_citizen, SUBMIT, json!({"input": submit})).await else {
            return;
        };
        let id = id_of(&data);
        acks.lock().unwrap().push((id.clone(), 1, key.clone()));
        let verify = input(&id, json!({"commandId": format!("{key}-v")}));
        if try_send(&env_agent, MUTATE_VERIFY, verify).await.is_none() {
            return;
        }
        acks.lock().unwrap().push((id, 2, format!("{key}-v")));
    }
}

async fn crash_mid_stream(backend: Backend, how: Stop) {
    let env = Env::start(backend).await;
    let acks: Acks = Arc::default();
    let writers: Vec<_> = (0..6)
        .map(|n| {
            tokio::spawn(writer(
                env.citizen.clone(),
                env.agent.clone(),
                n,
                acks.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let env = env.restart_after(how).await;
    for w in writers {
        w.await.unwrap();
    }
    let acks = acks.lock().unwrap().clone();
    assert!(
        acks.len() >= 10,
        "the stream was under way: {} acknowledged",
        acks.len()
    );
    eprintln!(
        "{how:?} on {backend:?}: {} commands acknowledged before the stop",
        acks.len()
    );

    // Every acknowledged command's events are there, in order, once.
    for (id, events, _) in &acks {
        let history = env.history(id).await;
        assert!(history.len() >= *events, "{id}: {history:?}");
        let sequences: Vec<i64> = history
            .iter()
            .map(|e| e["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(sequences, (1..=history.len() as i64).collect::<Vec<_>>());
        assert_eq!(history[0]["type"], "Submitted");
    }
    // A client retrying an acknowledged command after the restart gets its result back.
    let (id, _, key) = &acks[0];
    let mut again = report();
    again["commandId"] = json!(key);
    assert_eq!(
        id_of(&env.citizen.ok(SUBMIT, json!({"input": again})).await),
        *id
    );

    // The projections catch up with exactly what the log holds.
    env.store.settle().await;
    let total = env.store.scalar("SELECT count(*) FROM events").await;
    let progress = "{ projections { name eventsApplied } }";
    let mut caught_up = false;
    for _ in 0..200 {
        let data = env.supervisor.ok(progress, json!({})).await;
        if data["projections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["eventsApplied"] == total)
        {
            caught_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        caught_up,
        "projections did not reach the {total} stored events"
    );
    let complaints = env
        .store
        .scalar("SELECT count(DISTINCT aggregate_id) FROM events")
        .await;
    assert_eq!(
        env.store
            .scalar("SELECT count(*) FROM complaint_summary")
            .await,
        complaints
    );
    assert_eq!(
        env.store
            .scalar("SELECT count(*) FROM complaint_summary WHERE events_applied <> version")
            .await,
        0,
        "an event was skipped or applied twice"
    );
    let listed = env
        .agent
        .ok("{ complaints(first: 1) { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["complaints"]["totalCount"], complaints);
    env.finish().await;
}
