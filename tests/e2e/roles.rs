//! Process roles on PostgreSQL: an `api` process answers commands and
//! subscriptions but runs no follower (its lists never catch up alone); a
//! `worker` process runs them and answers only the probes and `/metrics`; a
//! second worker takes the followers over when the first is killed. On SQLite
//! the split is refused at start.

use serde_json::json;

use aduan_testkit::{TestServer, TestStore};

use crate::subscriptions::{notice, EVENTS};
use crate::support::*;

const LIST: &str = "query($min: Int) { complaints(first: 50, minPosition: $min) { totalCount } }";

fn position(data: &serde_json::Value) -> i64 {
    returned(data)["position"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn api_processes_answer_and_workers_follow_the_log() {
    let env = Env::start_with(Backend::Postgres, &[("ADUAN_ROLE", "api")]).await;
    let mut ws = env.server.ws(Some(&env.supervisor.token)).await;
    ws.subscribe("e", EVENTS, json!({})).await;
    let submitted = env.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let first = position(&submitted);
    // The api process's own live feed: subscribers see the command at once.
    assert_eq!(
        notice(&mut ws, "e").await["complaintId"],
        json!(id_of(&submitted))
    );
    // No projector runs here: read-your-writes waits and gives up.
    let body = env.supervisor.query(LIST, json!({"min": first})).await;
    assert_eq!(error_code(&body), Some("UNAVAILABLE"), "{body}");

    let worker = TestServer::start(BIN, &env.store.url, &[("ADUAN_ROLE", "worker")]).await;
    let listed = env.supervisor.ok(LIST, json!({"min": first})).await;
    assert_eq!(listed["complaints"]["totalCount"], 1);
    assert_eq!(
        worker.get("/graphql").await.status(),
        404,
        "a worker answers no API"
    );
    assert_eq!(worker.get("/readyz").await.status(), 200);
    let metrics = worker.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("aduan_projector_lag_events"), "{metrics}");

    // A second worker takes over the followers of one that dies.
    let standby = TestServer::start(BIN, &env.store.url, &[("ADUAN_ROLE", "worker")]).await;
    worker.kill().await;
    let again = env.citizen.ok(SUBMIT, json!({"input": report()})).await;
    let listed = env
        .supervisor
        .ok(LIST, json!({"min": position(&again)}))
        .await;
    assert_eq!(listed["complaints"]["totalCount"], 2);
    stop_cleanly(standby).await;
    env.finish().await;
}

#[tokio::test]
async fn on_sqlite_the_roles_are_refused_at_start() {
    let store = TestStore::create(Backend::Sqlite).await;
    for role in ["api", "worker"] {
        let args = ["serve", "--addr", "127.0.0.1:0", "--role", role];
        let (ok, _, err) = try_cli(&args, &store.url).await;
        assert!(!ok && err.contains("needs PostgreSQL"), "{err}");
    }
    store.drop_store().await;
}
