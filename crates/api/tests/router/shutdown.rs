//! A shutdown's drain as the routes show it: `/readyz` turns 503 (`draining`)
//! the moment it begins, while everything else is still answered, each answer
//! ending its connection so kept-alive clients move on. The signals, the stop
//! and the WebSocket closes are end to end (tests/e2e/shutdown.rs).

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

use crate::support::*;

#[tokio::test]
async fn draining_turns_readyz_503_and_answers_the_rest_with_connection_close() {
    let app = App::start().await;
    let cast = Cast::of(&app);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert!(ready.headers.get(header::CONNECTION).is_none());

    app.state.shutdown.drain();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.body,
        json!({"status": "draining", "reason": "shutting down"})
    );
    // Alive all the same: a liveness probe must not get it killed mid-drain.
    let health = app.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.headers[header::CONNECTION], "close");
    // Commands and reads are still carried out.
    let id = cast.submitted().await;
    let answer = app
        .graphql(
            cast.agent.token.as_deref(),
            MUTATE_VERIFY,
            input(&id, json!({})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["data"]["verifyComplaint"]["status"], "VERIFIED");
    assert_eq!(answer.headers[header::CONNECTION], "close");
    app.finish().await;
}

#[tokio::test]
async fn a_draining_worker_is_not_ready_either() {
    let app = App::start().await;
    let probes = aduan_api::router::probes(app.state.clone());
    let readyz = || {
        Request::get("/readyz")
            .body(Body::empty())
            .expect("a request")
    };
    let ready = probes.clone().oneshot(readyz()).await.expect("an answer");
    assert_eq!(ready.status(), StatusCode::OK);
    app.state.shutdown.drain();
    let ready = probes.oneshot(readyz()).await.expect("an answer");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.headers()[header::CONNECTION], "close");
    app.finish().await;
}
