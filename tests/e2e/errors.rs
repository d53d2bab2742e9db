//! Every error code of DESIGN.md comes from some request, and no rejected request
//! appends anything.

use serde_json::json;

use aduan_testkit::GraphqlClient;

use crate::support::*;

/// Sends a request that must fail with `code` and checks the complaint's history
/// did not grow.
async fn refused(
    env: &Env,
    id: &str,
    client: &GraphqlClient,
    document: &str,
    input: serde_json::Value,
    code: &str,
) {
    let before = env.history(id).await.len();
    let body = client.query(document, json!({"input": input})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
    assert_eq!(
        env.history(id).await.len(),
        before,
        "a refused request appended events"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_error_code_is_produced_and_refusals_change_nothing() {
    let env = Env::start().await;
    let id = env.submit().await;
    let on = |extra: serde_json::Value| {
        let mut input = extra;
        input["complaintId"] = json!(id);
        input
    };

    // UNAUTHENTICATED: no token, a forged one.
    let anonymous = env.server.client("");
    let forged = env
        .server
        .client("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
    refused(
        &env,
        &id,
        &anonymous,
        MUTATE_VERIFY,
        on(json!({})),
        "UNAUTHENTICATED",
    )
    .await;
    refused(
        &env,
        &id,
        &forged,
        MUTATE_VERIFY,
        on(json!({})),
        "UNAUTHENTICATED",
    )
    .await;
    assert_eq!(
        anonymous.error_code("{ opds { code } }", json!({})).await,
        "UNAUTHENTICATED"
    );

    // FORBIDDEN: a citizen verifies; another citizen reads someone else's case.
    refused(
        &env,
        &id,
        &env.citizen,
        MUTATE_VERIFY,
        on(json!({})),
        "FORBIDDEN",
    )
    .await;
    let stranger = env
        .server
        .client(&env.server.token("CITIZEN", None, "warga-2").await);
    assert_eq!(
        stranger.error_code(COMPLAINT, json!({"id": id})).await,
        "FORBIDDEN"
    );

    // NOT_FOUND.
    assert_eq!(
        env.agent
            .error_code(COMPLAINT, json!({"id": "no-such-case"}))
            .await,
        "NOT_FOUND"
    );
    let body = env
        .agent
        .query(
            MUTATE_VERIFY,
            json!({"input": {"complaintId": "no-such-case"}}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");

    // INVALID_INPUT, naming the field.
    for (change, field) in [
        (json!({"title": "   "}), "title"),
        (json!({"category": "NOPE"}), "category"),
        (
            json!({"location": {"latitude": 200.0, "longitude": 119.4}}),
            "location.latitude",
        ),
        (json!({"description": "x".repeat(5001)}), "description"),
    ] {
        let mut input = report();
        input
            .as_object_mut()
            .unwrap()
            .extend(change.as_object().unwrap().clone());
        let body = env.citizen.query(SUBMIT, json!({"input": input})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
    env.agent
        .ok(MUTATE_VERIFY, json!({"input": on(json!({}))}))
        .await;
    refused(
        &env,
        &id,
        &env.agent,
        MUTATE_ASSIGN,
        on(json!({"opd": "DINAS_X"})),
        "INVALID_INPUT",
    )
    .await;

    // INVALID_TRANSITION: respond before assignment, rate an open case, close twice.
    refused(
        &env,
        &id,
        &env.dpu_officer,
        MUTATE_RESPOND,
        on(json!({"message": "Halo"})),
        "INVALID_TRANSITION",
    )
    .await;
    refused(
        &env,
        &id,
        &env.citizen,
        MUTATE_RATE,
        on(json!({"score": 5})),
        "INVALID_TRANSITION",
    )
    .await;
    env.agent
        .ok(MUTATE_ASSIGN, json!({"input": on(json!({"opd": "DPU"}))}))
        .await;
    // FORBIDDEN: another OPD's officer acts on DPU's case.
    refused(
        &env,
        &id,
        &env.dlh_officer,
        MUTATE_RESPOND,
        on(json!({"message": "Halo"})),
        "FORBIDDEN",
    )
    .await;
    let close = on(json!({"resolution": "RESOLVED", "summary": "Selesai"}));
    env.dpu_officer
        .ok(MUTATE_CLOSE, json!({"input": close.clone()}))
        .await;
    refused(
        &env,
        &id,
        &env.dpu_officer,
        MUTATE_CLOSE,
        close,
        "INVALID_TRANSITION",
    )
    .await;
    refused(
        &env,
        &id,
        &env.citizen,
        MUTATE_RATE,
        on(json!({"score": 9})),
        "INVALID_INPUT",
    )
    .await;

    // CONFLICT: acting on a version that is no longer current.
    refused(
        &env,
        &id,
        &env.supervisor,
        MUTATE_ESCALATE,
        on(json!({"reason": "x", "expectedVersion": 2})),
        "CONFLICT",
    )
    .await;
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_cut_off_from_its_database_says_unavailable_and_recovers() {
    let env = Env::start_with(&[("ADUAN_DB_ACQUIRE_TIMEOUT_MS", "1500")]).await;
    let id = env.submit().await;
    let name = env.db.name.clone();
    env.db
        .admin_exec(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await;
    env.db
        .admin_exec(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await;
    let verify = json!({"input": {"complaintId": id}});
    assert_eq!(
        env.agent.error_code(MUTATE_VERIFY, verify.clone()).await,
        "UNAVAILABLE"
    );
    assert_eq!(env.server.get("/readyz").await.status(), 503);
    assert_eq!(
        env.server.get("/healthz").await.status(),
        200,
        "the process itself is fine"
    );

    env.db
        .admin_exec(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await;
    assert_eq!(env.server.get("/readyz").await.status(), 200);
    assert_eq!(
        env.agent.ok(MUTATE_VERIFY, verify).await["verifyComplaint"]["status"],
        "VERIFIED"
    );
    assert_eq!(env.event_types(&id).await, ["Submitted", "Verified"]);
    env.finish().await;
}
