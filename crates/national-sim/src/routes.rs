//! The simulator's HTTP face: the contract's two routes (`/v1/...`), with
//! the bearer token and the fault dice, and the test hooks (`/dev/...`).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use aduan_integration::national::contract::{Followup, Report};

use crate::config::SimulatorConfig;
use crate::feed::{refusal, Inner};
use crate::seed::Dice;

struct Sim {
    config: SimulatorConfig,
    inner: Mutex<Inner>,
}

type Shared = Arc<Sim>;

/// What a request draws from the fault dice.
enum Fault {
    None,
    Error,
    Hang,
}

impl Sim {
    fn new(config: SimulatorConfig) -> Sim {
        let inner = Inner::new(&config);
        Sim {
            config,
            inner: Mutex::new(inner),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fault(&self) -> Fault {
        let mut inner = self.lock();
        let (fail_rate, timeout_rate) = (inner.fail_rate, inner.timeout_rate);
        if inner.rng.chance(fail_rate) {
            inner.counters.errors_injected += 1;
            Fault::Error
        } else if inner.rng.chance(timeout_rate) {
            inner.counters.timeouts_injected += 1;
            Fault::Hang
        } else {
            Fault::None
        }
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.config.token else {
            return true;
        };
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|t| t == token)
    }
}

#[derive(Deserialize)]
struct ReportsQuery {
    agency: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": "bearer token required"})),
    )
        .into_response()
}

fn injected() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": "injected failure"})),
    )
        .into_response()
}

async fn reports(
    State(sim): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<ReportsQuery>,
) -> Response {
    sim.lock().counters.feed_requests += 1;
    if !sim.authorized(&headers) {
        return unauthorized();
    }
    let fault = sim.fault();
    if matches!(fault, Fault::Error) {
        return injected();
    }
    let after = match q.after.as_deref().map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "bad cursor"})),
            )
                .into_response()
        }
    };
    let agency = q.agency.unwrap_or_else(|| sim.config.agency.clone());
    let page = sim.lock().page(
        &sim.config,
        &agency,
        after,
        q.limit.unwrap_or(100).clamp(1, 500),
    );
    if matches!(fault, Fault::Hang) {
        tokio::time::sleep(sim.config.hang).await;
    }
    Json(page).into_response()
}

async fn followups(
    State(sim): State<Shared>,
    Path(tracking_id): Path<String>,
    headers: HeaderMap,
    Json(followup): Json<Followup>,
) -> Response {
    if !sim.authorized(&headers) {
        return unauthorized();
    }
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
    else {
        let (status, body) = refusal(StatusCode::BAD_REQUEST, "Idempotency-Key required");
        return (status, Json(body)).into_response();
    };
    let fault = sim.fault();
    if matches!(fault, Fault::Error) {
        return injected();
    }
    let (status, body) = sim.lock().follow_up(&tracking_id, key, followup);
    if matches!(fault, Fault::Hang) {
        tokio::time::sleep(sim.config.hang).await;
    }
    (status, Json(body)).into_response()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NewReports {
    Many { items: Vec<Report> },
    One(Box<Report>),
}

#[derive(Deserialize)]
struct AgencyQuery {
    agency: Option<String>,
}

async fn add_reports(
    State(sim): State<Shared>,
    Query(q): Query<AgencyQuery>,
    Json(body): Json<NewReports>,
) -> Response {
    let items = match body {
        NewReports::Many { items } => items,
        NewReports::One(report) => vec![*report],
    };
    let agency = q.agency.unwrap_or_else(|| sim.config.agency.clone());
    let mut inner = sim.lock();
    let added = items.len();
    for item in items {
        inner.add(&agency, item);
    }
    (StatusCode::CREATED, Json(json!({"added": added}))).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Faults {
    fail_rate: Option<f64>,
    timeout_rate: Option<f64>,
}

async fn set_faults(State(sim): State<Shared>, Json(faults): Json<Faults>) -> Json<Value> {
    let mut inner = sim.lock();
    if let Some(rate) = faults.fail_rate {
        inner.fail_rate = rate.clamp(0.0, 1.0);
    }
    if let Some(rate) = faults.timeout_rate {
        inner.timeout_rate = rate.clamp(0.0, 1.0);
    }
    Json(json!({"failRate": inner.fail_rate, "timeoutRate": inner.timeout_rate}))
}

async fn dev_state(State(sim): State<Shared>) -> Json<Value> {
    let inner = sim.lock();
    Json(json!({
        "agency": sim.config.agency,
        "reports": inner.latest(),
        "followups": inner.followups,
        "counters": inner.counters,
    }))
}

/// The simulator's routes.
pub fn router(config: SimulatorConfig) -> Router {
    Router::new()
        .route("/v1/reports", get(reports))
        .route("/v1/reports/{tracking_id}/followups", post(followups))
        .route("/dev/reports", post(add_reports))
        .route("/dev/state", get(dev_state))
        .route("/dev/faults", post(set_faults))
        .with_state(Arc::new(Sim::new(config)))
}
