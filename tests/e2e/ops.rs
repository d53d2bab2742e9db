//! Running the server: SIGTERM and restarts, correlation ids, the CLI beside it.

use serde_json::{json, Value};

use crate::support::*;

on_both_stores!(
    a_restarted_server_serves_the_same_complaint_and_history,
    a_clients_correlation_id_comes_back_and_is_recorded,
    aduan_migrate_prepares_an_empty_database_and_is_repeatable,
    projections_rebuild_runs_beside_the_live_server,
    seeded_cases_look_like_real_ones_and_feed_the_read_side,
);

async fn a_restarted_server_serves_the_same_complaint_and_history(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    env.dpu_officer
        .ok(MUTATE_RESPOND, input(&id, json!({"message": "Segera"})))
        .await;
    let (complaint, history) = (env.current(&id).await, env.history(&id).await);
    assert_eq!(history.len(), 4);

    // The old server must exit successfully on SIGTERM before the new one starts.
    let env = env.restart().await;
    assert_eq!(env.current(&id).await, complaint);
    assert_eq!(env.history(&id).await, history);
    // And the story goes on where it stopped.
    let closed = env
        .dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(&id, json!({"resolution": "RESOLVED", "summary": "Selesai"})),
        )
        .await;
    assert_eq!(returned(&closed)["version"], 5);
    assert_eq!(env.history(&id).await[..4], history[..]);
    env.finish().await;
}

/// Posts a submission with an optional `x-correlation-id`; returns the header the
/// server answered with and the new complaint's id.
async fn submit_correlated(env: &Env, correlation: Option<&str>) -> (String, String) {
    let mut request = reqwest::Client::new()
        .post(&env.citizen.url)
        .bearer_auth(&env.citizen.token)
        .json(&json!({"query": SUBMIT, "variables": {"input": report()}}));
    if let Some(correlation) = correlation {
        request = request.header("x-correlation-id", correlation);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = response
        .headers()
        .get("x-correlation-id")
        .expect("the response carries x-correlation-id")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().await.unwrap();
    (header, id_of(&body["data"]))
}

async fn a_clients_correlation_id_comes_back_and_is_recorded(backend: Backend) {
    let env = Env::start(backend).await;
    let (header, id) = submit_correlated(&env, Some("call-2026-0042")).await;
    assert_eq!(header, "call-2026-0042");
    assert_eq!(env.history(&id).await[0]["correlationId"], "call-2026-0042");

    // Without one, the server makes one up, answers with it and records it.
    let (generated, other) = submit_correlated(&env, None).await;
    assert!(!generated.is_empty() && generated != "call-2026-0042");
    assert_eq!(env.history(&other).await[0]["correlationId"], generated);
    env.finish().await;
}

async fn aduan_migrate_prepares_an_empty_database_and_is_repeatable(backend: Backend) {
    let store = aduan_testkit::TestStore::create(backend).await;
    for _ in 0..2 {
        run_cli(&["migrate"], &store.url).await;
    }
    let catalogue = match backend {
        Backend::Postgres => "information_schema.tables WHERE table_name",
        Backend::Sqlite => "sqlite_master WHERE type = 'table' AND name",
    };
    let tables = store
        .scalar(&format!(
            "SELECT count(*) FROM {catalogue} \
             IN ('events', 'complaint_summary', 'sla_timers', 'projection_checkpoints')"
        ))
        .await;
    assert_eq!(tables, 4);
    store.drop_store().await;
}

async fn projections_rebuild_runs_beside_the_live_server(backend: Backend) {
    let env = Env::start(backend).await;
    let ids = [env.assigned().await, env.submit().await];
    env.store.settle().await;
    let said = run_cli(
        &["projections", "rebuild", "complaint_summary"],
        &env.store.url,
    )
    .await;
    assert!(
        said.contains("rebuilt complaint_summary from 4 events"),
        "{said}"
    );
    let rows = env
        .store
        .texts("SELECT complaint_id || ' ' || status FROM complaint_summary ORDER BY status")
        .await;
    assert_eq!(
        rows,
        [
            format!("{} ASSIGNED", ids[0]),
            format!("{} SUBMITTED", ids[1])
        ]
    );
    // The server keeps working and its projector follows the rebuilt table.
    env.agent.ok(MUTATE_VERIFY, input(&ids[1], json!({}))).await;
    let mut status = String::new();
    for _ in 0..100 {
        status = env
            .store
            .text(&format!(
                "SELECT status FROM complaint_summary WHERE complaint_id = '{}'",
                ids[1]
            ))
            .await;
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

async fn seeded_cases_look_like_real_ones_and_feed_the_read_side(backend: Backend) {
    let env = Env::start(backend).await;
    let real = env.assigned().await;
    let said = run_cli(&["seed", "--cases", "40", "--days", "30"], &env.store.url).await;
    assert!(said.contains("seeded 40 complaints"), "{said}");

    // Same shapes: metadata keys, and the fields of each event type, as the API writes them.
    let shapes_sql = match backend {
        Backend::Postgres => {
            "SELECT DISTINCT event_type || ' ' || \
               (SELECT string_agg(k, ',' ORDER BY k) FROM json_object_keys(metadata) k) || ' ' || \
               (SELECT string_agg(k, ',' ORDER BY k) FROM json_object_keys(payload -> event_type) k) \
             FROM events WHERE event_type IN ('Submitted', 'Verified', 'Assigned') \
             AND (metadata ->> 'channel') IN ('seed', 'graphql')"
        }
        Backend::Sqlite => {
            "SELECT DISTINCT event_type || ' ' || \
               (SELECT group_concat(key, ',') FROM (SELECT key FROM json_each(metadata) ORDER BY key)) \
               || ' ' || \
               (SELECT group_concat(key, ',') FROM \
                  (SELECT key FROM json_each(json_extract(payload, '$.' || event_type)) ORDER BY key)) \
             FROM events WHERE event_type IN ('Submitted', 'Verified', 'Assigned') \
             AND json_extract(metadata, '$.channel') IN ('seed', 'graphql')"
        }
    };
    let shapes = env.store.texts(shapes_sql).await;
    let per_type = |t: &str| {
        shapes
            .iter()
            .filter(|s| s.starts_with(&format!("{t} ")))
            .count()
    };
    for t in ["Submitted", "Verified", "Assigned"] {
        assert_eq!(
            per_type(t),
            1,
            "{t} has one shape whether seeded or real: {shapes:?}"
        );
    }

    // The running server's projectors take the seeded history in.
    env.store.settle().await;
    let list = "query { complaints(first: 1) { totalCount } }";
    let mut total = 0;
    for _ in 0..100 {
        total = env.agent.ok(list, json!({})).await["complaints"]["totalCount"]
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
