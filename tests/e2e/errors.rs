//! Every error code of the API (docs/api.md) comes from some request, and no
//! refused request appends anything.

use serde_json::json;

use crate::support::*;

on_both_stores!(
    strangers_outsiders_and_unknown_ids_are_refused,
    invalid_input_names_the_field_and_stores_nothing,
    commands_out_of_turn_and_on_stale_versions_are_refused,
);

async fn strangers_outsiders_and_unknown_ids_are_refused(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.submit().await;
    let verify = input(&id, json!({}));

    // UNAUTHENTICATED: no token, garbage, a token signed with another key.
    let anonymous = env.server.client("");
    let garbage = env.server.client("not-a-token");
    let forged = env
        .server
        .client("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
    for client in [&anonymous, &garbage, &forged] {
        env.refused(
            &id,
            client,
            MUTATE_VERIFY,
            verify.clone(),
            "UNAUTHENTICATED",
        )
        .await;
        assert_eq!(
            client.error_code("{ me { id } }", json!({})).await,
            "UNAUTHENTICATED"
        );
    }

    // FORBIDDEN: a citizen verifies; another citizen reads someone else's case;
    // another OPD's officer replies to DPU's case.
    env.refused(
        &id,
        &env.citizen,
        MUTATE_VERIFY,
        verify.clone(),
        "FORBIDDEN",
    )
    .await;
    let stranger = env.client("CITIZEN", None, "warga-2").await;
    for document in [COMPLAINT, HISTORY] {
        assert_eq!(
            stranger.error_code(document, json!({"id": id})).await,
            "FORBIDDEN"
        );
    }
    let assigned = env.assigned().await;
    env.refused(
        &assigned,
        &env.dlh_officer,
        MUTATE_RESPOND,
        input(&assigned, json!({"message": "Halo"})),
        "FORBIDDEN",
    )
    .await;

    // NOT_FOUND: reading or acting on a complaint that does not exist creates nothing.
    let unknown = json!({"id": "no-such-case"});
    assert_eq!(
        env.agent.error_code(COMPLAINT, unknown.clone()).await,
        "NOT_FOUND"
    );
    assert_eq!(
        env.agent
            .error_code(MUTATE_VERIFY, input("no-such-case", json!({})))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(env.auditor.error_code(HISTORY, unknown).await, "NOT_FOUND");
    env.finish().await;
}

async fn invalid_input_names_the_field_and_stores_nothing(backend: Backend) {
    let env = Env::start(backend).await;
    // One idempotency key for every bad attempt: had any of them been stored, the
    // next would clash with it on `commandId` instead of naming its own field.
    let key = json!("bad-report-1");
    for (change, field) in [
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (
            json!({"location": {"latitude": 200.0, "longitude": 119.4}}),
            "location.latitude",
        ),
        (json!({"category": "NO_SUCH_CATEGORY"}), "category"),
        (json!({"description": "x".repeat(5001)}), "description"),
    ] {
        let mut report = report_with(change);
        report["commandId"] = key.clone();
        let body = env.citizen.query(SUBMIT, json!({"input": report})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let mut fixed = report();
    fixed["commandId"] = key;
    let created = env.citizen.ok(SUBMIT, json!({"input": fixed})).await;
    assert_eq!(returned(&created)["version"], 1);
    let id = id_of(&created);
    assert_eq!(env.event_types(&id).await, ["Submitted"]);

    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    let body = env
        .refused(
            &id,
            &env.agent,
            MUTATE_ASSIGN,
            input(&id, json!({"opd": "DINAS_X"})),
            "INVALID_INPUT",
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "opd");

    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    env.dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(&id, json!({"resolution": "RESOLVED", "summary": "Selesai"})),
        )
        .await;
    for score in [9, 0] {
        let body = env
            .refused(
                &id,
                &env.citizen,
                MUTATE_RATE,
                input(&id, json!({"score": score})),
                "INVALID_INPUT",
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "score");
    }
    env.finish().await;
}

async fn commands_out_of_turn_and_on_stale_versions_are_refused(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.verified().await;

    // INVALID_TRANSITION: reply before dispatch, rate an open case.
    env.refused(
        &id,
        &env.dpu_officer,
        MUTATE_RESPOND,
        input(&id, json!({"message": "Halo"})),
        "INVALID_TRANSITION",
    )
    .await;
    env.refused(
        &id,
        &env.citizen,
        MUTATE_RATE,
        input(&id, json!({"score": 5})),
        "INVALID_TRANSITION",
    )
    .await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;

    // CONFLICT: the complaint is at version 3; acting on version 2 is refused,
    // acting on version 3 is not.
    let version = env.current(&id).await["version"].as_i64().unwrap();
    assert_eq!(version, 3);
    let escalate = |expected: i64| {
        input(
            &id,
            json!({"reason": "Warga mengeluh", "expectedVersion": expected}),
        )
    };
    env.refused(
        &id,
        &env.supervisor,
        MUTATE_ESCALATE,
        escalate(version - 1),
        "CONFLICT",
    )
    .await;
    let escalated = env.supervisor.ok(MUTATE_ESCALATE, escalate(version)).await;
    assert_eq!(returned(&escalated)["version"], version + 1);

    // INVALID_TRANSITION: close twice.
    let close = input(&id, json!({"resolution": "RESOLVED", "summary": "Selesai"}));
    env.dpu_officer.ok(MUTATE_CLOSE, close.clone()).await;
    env.refused(
        &id,
        &env.dpu_officer,
        MUTATE_CLOSE,
        close,
        "INVALID_TRANSITION",
    )
    .await;
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn probes_graphiql_and_a_server_cut_off_from_its_database() {
    // PostgreSQL only: an embedded SQLite file cannot be taken away from a running
    // server the same way (the SQLite side of UNAVAILABLE is tested in the store).
    let env = Env::start_with(
        Backend::Postgres,
        &[("ADUAN_DB_ACQUIRE_TIMEOUT_MS", "1500")],
    )
    .await;
    assert_eq!(env.server.get("/healthz").await.status(), 200);
    assert_eq!(env.server.get("/readyz").await.status(), 200);
    let page = env.server.get("/graphql").await;
    assert_eq!(page.status(), 200);
    let content_type = page.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = page.text().await.unwrap();
    assert!(page.to_lowercase().contains("graphiql"), "{page}");

    let id = env.submit().await;
    let db = env.store.pg.as_ref().unwrap();
    let name = db.name.clone();
    db.admin_exec(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await;
    db.admin_exec(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    let verify = input(&id, json!({"commandId": "verify-after-outage"}));
    assert_eq!(
        env.agent.error_code(MUTATE_VERIFY, verify.clone()).await,
        "UNAVAILABLE"
    );
    assert_eq!(
        env.agent.error_code(COMPLAINT, json!({"id": id})).await,
        "UNAVAILABLE"
    );
    assert_eq!(env.server.get("/readyz").await.status(), 503);
    assert_eq!(
        env.server.get("/healthz").await.status(),
        200,
        "the process itself is fine"
    );

    db.admin_exec(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await;
    assert_eq!(env.server.get("/readyz").await.status(), 200);
    assert_eq!(
        env.event_types(&id).await,
        ["Submitted"],
        "the refused command appended nothing"
    );
    // The client retries with the same commandId, as the docs advise.
    let verified = env.agent.ok(MUTATE_VERIFY, verify).await;
    assert_eq!(returned(&verified)["status"], "VERIFIED");
    assert_eq!(env.event_types(&id).await, ["Submitted", "Verified"]);
    env.finish().await;
}
