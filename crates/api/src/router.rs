//! The routes: GraphQL (GraphiQL and WebSocket on GET), health, readiness,
//! metrics and the other HTTP endpoints, under one body limit, with every
//! refusal given a code.

use std::net::SocketAddr;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};

use crate::body_limit::{self, MAX_BODY_BYTES};
use crate::error_code::ClientCode;
use crate::graphql::{self, ClientKey, Correlation, RequestAuth};
use crate::metrics;
use crate::shutdown::{Phase, Shutdown};
use crate::state::AppState;
use crate::ws;

/// How long `/readyz` waits for the database: an orchestrator's probe gives up
/// after about a second, so the answer (503 included) must come before that.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

pub fn router(state: AppState) -> Router {
    let upload_limit = state.attachments.limits.body_bytes();
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route(
            "/notifications/opt-out",
            get(crate::opt_out::confirm).post(crate::opt_out::opt_out),
        )
        .route(
            "/attachments/{complaint}/{sequence}/{variant}",
            get(crate::attachments::download),
        )
        .route(
            "/graphiql/assets/{version}/{name}",
            get(crate::graphiql::asset),
        )
        .route(
            "/.well-known/aduan-audit-key",
            get(crate::audit::well_known_key),
        )
        .route("/geo/hotspots.geojson", get(crate::geojson::hotspots))
        .route("/exports/complaints.csv", get(crate::export::csv))
        .route("/exports/complaints.xlsx", get(crate::export::xlsx))
        .merge(crate::open311::routes())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next| {
                // Uploads (GraphQL multipart requests) may carry files.
                let max = if is_multipart(request.headers()) {
                    upload_limit
                } else {
                    MAX_BODY_BYTES
                };
                body_limit::limit(max, request, next)
            },
        ))
        .layer(axum::middleware::map_response(coded_rejections))
        .layer(axum::middleware::map_response_with_state(
            state.shutdown.clone(),
            close_when_draining,
        ))
        .with_state(state)
}

/// A worker's routes (`--role worker`): the probes and the metrics, so an
/// orchestrator and Prometheus see it as they see an API process.
pub fn probes(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .layer(axum::middleware::map_response(coded_rejections))
        .layer(axum::middleware::map_response_with_state(
            state.shutdown.clone(),
            close_when_draining,
        ))
        .with_state(state)
}

/// While draining, answers end their connection (HTTP/1.1 `Connection:
/// close`): a client or proxy that keeps connections alive opens its next one
/// elsewhere instead of sending it into a process about to stop accepting.
/// Not on a WebSocket upgrade, whose connection lives on as the socket.
async fn close_when_draining(State(shutdown): State<Shutdown>, mut response: Response) -> Response {
    if shutdown.phase() != Phase::Serving && response.status() != StatusCode::SWITCHING_PROTOCOLS {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
    }
    response
}

/// A WebSocket upgrade speaks GraphQL (`ws.rs`); any other GET gets GraphiQL.
async fn graphql_get(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) if headers.contains_key(axum::http::header::UPGRADE) => {
            return rejection.into_response()
        }
        Err(_) => return crate::graphiql::page(),
    };
    let header_token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr);
    upgrade
        .protocols(ws::PROTOCOLS)
        .max_message_size(MAX_BODY_BYTES)
        .on_upgrade(move |socket| {
            let protocol = ws::Protocol::of(socket.protocol().and_then(|p| p.to_str().ok()));
            ws::serve(state, socket, protocol, peer, header_token)
        })
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// The GraphQL request in a POST: JSON, or a GraphQL multipart request
/// (uploads), whose files may be at most the configured size and number.
async fn graphql_request(
    state: &AppState,
    headers: &HeaderMap,
    request: axum::extract::Request,
) -> Result<async_graphql::Request, Response> {
    use axum::extract::FromRequest;
    use futures::TryStreamExt;
    if !is_multipart(headers) {
        return async_graphql_axum::GraphQLRequest::<async_graphql_axum::rejection::GraphQLRejection>::from_request(request, state)
            .await
            .map(|r| r.into_inner())
            .map_err(IntoResponse::into_response);
    }
    let limits = state.attachments.limits;
    let options = async_graphql::http::MultipartOptions::default()
        .max_file_size(limits.max_bytes)
        .max_num_files(limits.max_files);
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other)
        .into_async_read();
    async_graphql::http::receive_body(content_type, body, options)
        .await
        .map_err(upload_refusal)
}

/// Why a multipart request was refused, as a GraphQL error.
fn upload_refusal(e: async_graphql::ParseRequestError) -> Response {
    use async_graphql::ParseRequestError as E;
    let (code, message) = match &e {
        E::PayloadTooLarge => (
            ClientCode::InvalidInput,
            "a file is larger than the limit, or the files together are".to_string(),
        ),
        other => (
            ClientCode::BadRequest,
            format!("not a GraphQL multipart request: {other}"),
        ),
    };
    let body = code.body(&message, Some("file"));
    (code.http_status(), Json(body)).into_response()
}

async fn graphql_post(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let request = match graphql_request(&state, &headers, request).await {
        Ok(request) => request,
        Err(refused) => return refused,
    };
    let auth = state
        .keys
        .actor_from_header(
            headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok()),
        )
        .await;
    let correlation = headers
        .get("x-correlation-id")
        .and_then(|h| h.to_str().ok())
        .filter(|c| !c.is_empty() && c.len() <= 100 && c.chars().all(|ch| ch.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
    let mut request = request;
    // Parsed once here for the metrics label; the engine reuses the document.
    let name = request.operation_name.take();
    let operation = metrics::operation_label(request.parsed_query().ok(), name.as_deref());
    request.operation_name = name;
    let request = request
        .data(RequestAuth(auth))
        .data(client_key(&state, peer, &headers))
        .data(Correlation(correlation.clone()))
        .data(crate::graphql::replicas::ReadChoice::default());
    let mut executed = state.schema.execute(request).await;
    graphql::limits::code_engine_errors(&mut executed);
    metrics::record_request(&operation, metrics::result_code(&executed));
    let retry_after = retry_after(&executed);
    let response: async_graphql_axum::GraphQLResponse = executed.into();
    let mut response = response.into_response();
    if let Some(seconds) = retry_after {
        *response.status_mut() = ClientCode::RateLimited.http_status();
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Ok(value) = HeaderValue::from_str(&correlation) {
        response.headers_mut().insert("x-correlation-id", value);
    }
    response
}

/// Who a request without a token counts against: the last address in the
/// trusted proxy's header (the one the proxy itself saw), else the peer.
fn client_key(
    state: &AppState,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> ClientKey {
    let forwarded = state
        .client_ip_header
        .as_ref()
        .and_then(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let key = match (forwarded, peer) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(Extension(ConnectInfo(addr)))) => addr.ip().to_string(),
        (None, None) => "unknown".to_string(),
    };
    ClientKey(key)
}

/// A request refused before GraphQL saw it (too large, not JSON, not UTF-8) gets
/// a GraphQL-shaped error with a code, like every other refusal.
async fn coded_rejections(response: Response) -> Response {
    let status = response.status();
    // JSON bodies are GraphQL's or already coded; XML ones are Open311's errors.
    let coded = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json") || v.contains("xml"));
    let (code, message) = match status {
        _ if coded || !status.is_client_error() => return response,
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED => return response,
        StatusCode::PAYLOAD_TOO_LARGE => (
            ClientCode::BodyTooLarge,
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
        ),
        _ => (
            ClientCode::BadRequest,
            "the request is not a GraphQL request in JSON (UTF-8)".to_string(),
        ),
    };
    let body = code.body(&message, None);
    (status, Json(body)).into_response()
}

/// The wait a RATE_LIMITED error asks for, if the response carries one.
fn retry_after(response: &async_graphql::Response) -> Option<u64> {
    response.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref();
        match (ClientCode::of(ext), ext?.get("retryAfterSeconds")) {
            (Some(ClientCode::RateLimited), Some(async_graphql::Value::Number(seconds))) => {
                seconds.as_u64()
            }
            _ => None,
        }
    })
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    crate::calendar::set_gauges(&state.sla, state.bus.services().clock.now());
    let text = metrics::render(
        &state.metrics,
        state.bus.log().as_ref(),
        &state.followers,
        &state.webhooks,
    )
    .await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Ready when the database answers a ping within `READY_TIMEOUT` (not the pool's
/// longer acquire timeout, which is for requests that may wait), and not once a
/// shutdown began: the load balancer then sends new requests elsewhere while
/// this process finishes what it has.
async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutdown.phase() != Phase::Serving {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "draining", "reason": "shutting down"})),
        )
            .into_response();
    }
    let pinged = match tokio::time::timeout(READY_TIMEOUT, state.bus.log().ping()).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {} ms", READY_TIMEOUT.as_millis())),
    };
    match pinged {
        Ok(()) => {
            // Ready whatever the calendar says; its coverage rides along, so a
            // probe's log shows a calendar running out.
            let calendar = crate::calendar::detail(&state.sla, state.bus.services().clock.now());
            (
                StatusCode::OK,
                Json(serde_json::json!({"status": "ready", "calendar": calendar})),
            )
                .into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(
                    serde_json::json!({"status": "unavailable", "reason": "database unreachable"}),
                ),
            )
                .into_response()
        }
    }
}
