//! Running the server: health, GraphiQL, correlation ids, restarts, SIGTERM.

use serde_json::json;

use aduan_testkit::TestServer;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_readiness_and_graphiql_answer() {
    let env = Env::start().await;
    assert_eq!(env.server.get("/healthz").await.status(), 200);
    assert_eq!(env.server.get("/readyz").await.status(), 200);
    let page = env.server.get("/graphql").await.text().await.unwrap();
    assert!(
        page.to_lowercase().contains("graphiql"),
        "GET /graphql serves GraphiQL"
    );
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clients_correlation_id_comes_back_and_is_recorded() {
    let env = Env::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", env.server.base_url))
        .bearer_auth(&env.citizen.token)
        .header("x-correlation-id", "call-2026-0042")
        .json(&json!({"query": SUBMIT, "variables": {"input": report()}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-correlation-id"], "call-2026-0042");
    let body: serde_json::Value = response.json().await.unwrap();
    let id = body["data"]["submitComplaint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(env.history(&id).await[0]["correlationId"], "call-2026-0042");
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restarted_server_serves_the_same_history() {
    let mut env = Env::start().await;
    let id = env.assigned().await;
    let before = env.history(&id).await;
    let url = env.server.database_url.clone();
    let old = std::mem::replace(&mut env.server, TestServer::start(BIN, &url, &[]).await);
    assert!(old.stop().await.success(), "clean exit on SIGTERM");
    // Tokens are signed with the shared test secret, so the old clients still work.
    let auditor = env.server.client(&env.auditor.token);
    let after = auditor.ok(HISTORY, json!({"id": id})).await["complaintHistory"].clone();
    assert_eq!(serde_json::Value::Array(before), after);
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aduan_migrate_prepares_an_empty_database_and_is_repeatable() {
    let db = aduan_testkit::TestDatabase::create().await;
    for _ in 0..2 {
        run_cli(&["migrate"], &db.url).await;
    }
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables \
         WHERE table_name IN ('events', 'complaint_summary', 'projection_checkpoints')",
    )
    .fetch_one(&mut db.connect().await)
    .await
    .unwrap();
    assert_eq!(tables, 3);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projections_rebuild_runs_beside_the_live_server() {
    let env = Env::start().await;
    let ids = [env.assigned().await, env.submit().await];
    env.db.settle().await;
    let said = run_cli(
        &["projections", "rebuild", "complaint_summary"],
        &env.db.url,
    )
    .await;
    assert!(
        said.contains("rebuilt complaint_summary from 4 events"),
        "{said}"
    );
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT complaint_id, status FROM complaint_summary ORDER BY status")
            .fetch_all(&mut env.db.connect().await)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            (ids[0].clone(), "ASSIGNED".into()),
            (ids[1].clone(), "SUBMITTED".into())
        ]
    );
    // The server keeps working and its projector follows the rebuilt table.
    env.agent
        .ok(
            MUTATE_VERIFY,
            serde_json::json!({"input": {"complaintId": ids[1]}}),
        )
        .await;
    let mut status = String::new();
    for _ in 0..100 {
        status = sqlx::query_scalar("SELECT status FROM complaint_summary WHERE complaint_id = $1")
            .bind(&ids[1])
            .fetch_one(&mut env.db.connect().await)
            .await
            .unwrap();
        if status == "VERIFIED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        status, "VERIFIED",
        "the live projector follows the rebuilt table"
    );
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn seeded_cases_look_like_real_ones_and_feed_the_read_side() {
    let env = Env::start().await;
    let real = env.assigned().await;
    let said = run_cli(&["seed", "--cases", "40", "--days", "30"], &env.db.url).await;
    assert!(said.contains("seeded 40 complaints"), "{said}");

    // Same shapes: metadata keys, and the fields of each event type, as the API writes them.
    let shapes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT event_type, \
           (SELECT string_agg(k, ',' ORDER BY k) FROM json_object_keys(metadata) k), \
           (SELECT string_agg(k, ',' ORDER BY k) FROM json_object_keys(payload -> event_type) k) \
         FROM events WHERE event_type IN ('Submitted', 'Verified', 'Assigned') \
         AND (metadata ->> 'channel') IN ('seed', 'graphql') ORDER BY 1, 2, 3",
    )
    .fetch_all(&mut env.db.connect().await)
    .await
    .unwrap();
    let per_type = |t: &str| shapes.iter().filter(|s| s.0 == t).count();
    for t in ["Submitted", "Verified", "Assigned"] {
        assert_eq!(
            per_type(t),
            1,
            "{t} has one shape whether seeded or real: {shapes:?}"
        );
    }

    // The running server's projectors take the seeded history in.
    env.db.settle().await;
    let list = "query { complaints(first: 1) { totalCount } }";
    let mut total = 0;
    for _ in 0..100 {
        total = env.agent.ok(list, serde_json::json!({})).await["complaints"]["totalCount"]
            .as_i64()
            .unwrap();
        if total == 41 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(total, 41);
    assert_eq!(env.event_types(&real).await.len(), 3);
    env.finish().await;
}
