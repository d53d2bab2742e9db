//! The error codes clients see, and the probes.

use axum::http::StatusCode;
use serde_json::json;

use aduan_domain::Role;

use crate::support::*;

#[tokio::test]
async fn invalid_input_names_the_field() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    for (change, field) in [
        (json!({"title": ""}), "title"),
        (
            json!({"location": {"latitude": 200.0, "longitude": 119.4}}),
            "location.latitude",
        ),
        (json!({"category": "NO_SUCH_CATEGORY"}), "category"),
        (json!({"description": "x".repeat(5001)}), "description"),
    ] {
        let report = report_with(change);
        let body = cast.citizen.query(SUBMIT, json!({"input": report})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    // Places outside the city or its kelurahan list (staff: not rate-limited).
    for (change, field) in [
        // Outside the city's box (Jakarta; then east of Makassar).
        (
            json!({"location": {"latitude": -6.2, "longitude": 106.8}}),
            "location.latitude",
        ),
        (
            json!({"location": {"latitude": -5.14, "longitude": 119.7}}),
            "location.longitude",
        ),
        (
            json!({"location": {"latitude": -5.14, "longitude": 119.41, "kelurahan": "Atlantis"}}),
            "location.kelurahan",
        ),
        (
            json!({"location": {"latitude": -5.14, "longitude": 119.41, "kecamatan": "TALLO", "kelurahan": "Maradekaya"}}),
            "location.kelurahan",
        ),
    ] {
        let report = report_with(change);
        let body = cast.agent.query(SUBMIT, json!({"input": report})).await;
        assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let id = cast.submitted().await;
    cast.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    let body = cast
        .agent
        .query(MUTATE_ASSIGN, input(&id, json!({"opd": "DINAS_X"})))
        .await;
    assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "opd");
    app.finish().await;
}

#[tokio::test]
async fn commands_out_of_turn_and_unknown_cases_are_refused() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let id = cast.submitted().await;
    cast.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    // Reply before dispatch, rate an open case.
    let reply = input(&id, json!({"message": "Halo"}));
    assert_eq!(
        cast.dpu_officer.error_code(MUTATE_RESPOND, reply).await,
        "INVALID_TRANSITION"
    );
    let rate = input(&id, json!({"score": 5}));
    assert_eq!(
        cast.citizen.error_code(MUTATE_RATE, rate).await,
        "INVALID_TRANSITION"
    );
    // A case that does not exist, read or acted on.
    assert_eq!(
        cast.agent
            .error_code(COMPLAINT, json!({"id": "no-such-case"}))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        cast.agent
            .error_code(MUTATE_VERIFY, input("no-such-case", json!({})))
            .await,
        "NOT_FOUND"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_a_code() {
    let app = App::start().await;
    let token = app.token(aduan_domain::Role::Agent, None, "agent-1");
    let padding = "x".repeat(aduan_api::body_limit::MAX_BODY_BYTES);
    let body = json!({"query": "{ me { id } }", "padding": padding}).to_string();
    let answer = app.post_graphql(Some(&token), body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        error_code(&answer.body),
        Some("BODY_TOO_LARGE"),
        "{}",
        answer.body
    );
    let answer = app.post_graphql(Some(&token), "not json".into()).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_code(&answer.body),
        Some("BAD_REQUEST"),
        "{}",
        answer.body
    );
    app.finish().await;
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = App::start().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["status"], "ready");
    app.finish().await;
}

/// The domain's advice reaches the client worded with the mutation meant.
#[tokio::test]
async fn an_opd_admin_assigning_elsewhere_is_told_to_transfer() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let admin = Client::new(&app, Role::OpdAdmin, Some("DPU"), "admin-dpu");
    let id = cast.assigned().await;
    let body = admin
        .query(
            MUTATE_ASSIGN,
            input(&id, json!({"opd": "DLH", "officerId": "petugas-7"})),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "forbidden: an OPD admin assigns officers of their own OPD; \
         use transferComplaint to move the case"
    );
    app.finish().await;
}
