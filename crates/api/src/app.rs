//! The HTTP server: GraphQL, health and readiness, graceful shutdown.

use std::sync::Arc;

use std::net::SocketAddr;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};

use aduan_domain::{ComplaintServices, SystemClock};
use aduan_integration::{webhooks, Webhooks};
use aduan_projections::sla_alerts::SlaAlertFeed;
use aduan_projections::{LiveFeed, Projector, Reads, Watcher};
use aduan_store::CommandBus;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::attachments::{Attachments, Limits};
use crate::auth::{explicit_secret, ClaimRules, JwtKeys, KeySet, SecretSource};
use crate::body_limit;
use crate::cli::{connect, pg_options, signing_secret, Cli, ServeArgs};
use crate::graphql::{self, AduanSchema, ClientKey, Correlation, RequestAuth, RATE_LIMITED};
use crate::metrics;
use crate::rate_limit::SubmitLimiter;
use crate::settings;
use crate::ws::{self, WsSettings};

/// Requests larger than this are refused before they are parsed, on every
/// route (see `body_limit`).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long `/readyz` waits for the database: an orchestrator's probe gives up
/// after about a second, so the answer (503 included) must come before that.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

#[derive(Clone)]
pub struct AppState {
    pub bus: Arc<CommandBus>,
    pub keys: JwtKeys,
    pub schema: AduanSchema,
    /// Where a trusted proxy names the client (see `ServeArgs::client_ip_header`).
    pub client_ip_header: Option<HeaderName>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    pub ws: WsSettings,
    /// The durable followers whose lag `/metrics` reports.
    pub followers: Vec<&'static str>,
    /// Webhook endpoints, whose state and lag `/metrics` reports.
    pub webhooks: Arc<Webhooks>,
    pub attachments: Arc<Attachments>,
    pub audit: Arc<crate::audit::Audit>,
    /// The SLA settings, whose holiday coverage `/readyz` and `/metrics` report.
    pub sla: Arc<aduan_domain::sla::SlaConfig>,
    /// The Open311 GeoReport v2 endpoints' clients, reads and commands.
    pub open311: Arc<crate::open311::Open311>,
}

pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let metrics = metrics::install();
    metrics::spawn_upkeep(metrics.clone());
    let reference = settings::load_reference(cli.reference.as_deref())?;
    let sla = settings::load_sla_with(cli.sla_config.as_deref(), cli.holidays.as_deref())?;
    crate::calendar::warn(&sla, chrono::Utc::now());
    let log = connect(cli, &pg_options(args))?;
    log.migrate().await?;
    tracing::info!(store = %log.describe(), "event store ready, migrations applied");
    // Before anything seals rows for the audit chain: rows written in plain
    // text before personal data was sealed are sealed in place first.
    let sealed = aduan_store::erasure::seal_legacy_personal_data(log.as_ref()).await?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "sealed the personal data of events written before sealing"
        );
    }
    let audit = audit_trail(cli, args, &log).await?;
    let keys = token_keys(args, log.as_ref()).await?;
    tracing::info!(keys = %keys.describe().await, "verifying bearer tokens");
    let services = ComplaintServices::new(
        Arc::new(SystemClock),
        Arc::new(reference),
        settings::rules(args.reopen_window_days),
    );
    let tracking = settings::tracking_key(log.as_ref()).await?;
    let notifier = notifier(args, &log, &services.reference, tracking.clone())?;
    let attachments = attachments(cli, args, log.as_ref()).await?;
    tracing::info!(objects = %attachments.objects().describe(), "keeping attachments");
    let bus = Arc::new(CommandBus::new(log, services).with_cache(args.case_cache));
    let open311 = crate::open311::Open311::new(bus.clone(), tracking.clone());
    let bridge = crate::national::Bridge::new(&args.national, &bus, &bus.services().reference)?;
    let live = LiveFeed::new(bus.log().clone());
    let mut followers = graphql::freshness::ALL.to_vec();
    if args.nats_url.is_some() {
        followers.push(aduan_integration::relay::NAME);
    }
    if args.national.outbound() {
        followers.push(aduan_integration::national::outbound::NAME);
    }
    if notifier.is_some() {
        followers.push(aduan_integration::notify::NAME);
    }
    let alerts = SlaAlertFeed::new(Reads::new(bus.log().as_ref()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let webhooks = Webhooks::new(
        bus.log().clone(),
        webhook_settings(args),
        bus.services()
            .reference
            .opds
            .iter()
            .map(|o| o.code.clone())
            .collect(),
        stopped.clone(),
    );
    let state = AppState {
        schema: graphql::build(
            bus.clone(),
            sla.clone(),
            SubmitLimiter::new(args.submit_rate_per_minute, args.submit_burst),
            tracking,
            graphql::Live {
                events: live.clone(),
                alerts: alerts.clone(),
                followers: followers.clone(),
                webhooks: webhooks.clone(),
                attachments: attachments.clone(),
                audit: audit.clone(),
                open311_clients: open311.clients.clone(),
            },
        ),
        bus,
        keys,
        client_ip_header: args
            .client_ip_header
            .as_deref()
            .map(HeaderName::try_from)
            .transpose()
            .map_err(|e| anyhow::anyhow!("ADUAN_CLIENT_IP_HEADER: {e}"))?,
        metrics,
        ws: WsSettings {
            ping_every: std::time::Duration::from_secs(args.ws_ping_seconds.max(1)),
        },
        followers,
        webhooks: webhooks.clone(),
        attachments: attachments.clone(),
        audit: audit.clone(),
        sla: Arc::new(sla.clone()),
        open311,
    };
    let (summary, timers) = settings::projections(&sla)?;
    let summary = Projector::new(state.bus.log().clone(), summary);
    let timers = Projector::new(state.bus.log().clone(), timers);
    let survey = Projector::new(state.bus.log().clone(), settings::survey_projection(&sla)?);
    let (calendar, book) = sla.build()?;
    let watcher = Watcher::new(state.bus.clone(), Arc::new(calendar), Arc::new(book));
    let interval = std::time::Duration::from_millis(args.watch_interval_ms);
    let mut projecting = vec![
        tokio::spawn({
            let stopped = stopped.clone();
            async move { summary.run(stopped).await }
        }),
        tokio::spawn({
            let stopped = stopped.clone();
            async move { timers.run(stopped).await }
        }),
        tokio::spawn({
            let stopped = stopped.clone();
            async move { survey.run(stopped).await }
        }),
        tokio::spawn(live.run(stopped.clone())),
        tokio::spawn(alerts.run(stopped.clone())),
        tokio::spawn(webhooks.run()),
        tokio::spawn({
            let stopped = stopped.clone();
            let follow = aduan_store::Checkpoints::for_log(state.bus.log().as_ref());
            async move { follow.run(audit.as_ref(), stopped).await }
        }),
    ];
    if let Some(url) = args.nats_url.clone() {
        projecting.push(tokio::spawn(relay(
            state.bus.log().clone(),
            args.clone(),
            url,
            stopped.clone(),
        )));
    }
    if let Some(notifier) = notifier {
        let stopped = stopped.clone();
        projecting.push(tokio::spawn(async move { notifier.run(stopped).await }));
    }
    projecting.extend(bridge.spawn(&stopped));
    if args.watch {
        projecting.push(tokio::spawn(
            async move { watcher.run(interval, stopped).await },
        ));
    } else {
        tracing::info!("deadline watcher off (ADUAN_WATCH=false)");
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening on http://{addr}/graphql");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    let _ = stop.send(true);
    for task in projecting {
        let _ = task.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Seals events written before the audit chain existed (once, after an
/// upgrade or an import of an old export), then sets up the checkpointer.
async fn audit_trail(
    cli: &Cli,
    args: &ServeArgs,
    log: &Arc<dyn aduan_store::EventLog>,
) -> anyhow::Result<Arc<crate::audit::Audit>> {
    let sealed = aduan_store::audit::seal_unsealed(log.as_ref()).await?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed events written before the audit chain");
    }
    let (signer, source) = crate::audit::signer(&cli.audit, log.as_ref()).await?;
    match &source {
        crate::audit::KeySource::File(path) => {
            tracing::info!(key = %path.display(), "signing audit checkpoints")
        }
        crate::audit::KeySource::Database => tracing::warn!(
            "audit checkpoints are signed with a development key kept in the database, \
             which proves nothing against whoever can rewrite it; set ADUAN_AUDIT_KEY \
             (docs/audit.md)"
        ),
    }
    Ok(Arc::new(crate::audit::Audit::new(
        log.clone(),
        signer,
        source,
        std::time::Duration::from_secs(args.audit_checkpoint_seconds.max(1)),
    )))
}

/// Relays every event to NATS JetStream until shutdown. NATS may be down when
/// the server starts: the relay connects when it can, and catches up from its
/// checkpoint (the server itself does not wait for NATS).
async fn relay(
    log: Arc<dyn aduan_store::EventLog>,
    args: ServeArgs,
    url: String,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    use aduan_integration::nats::Publisher;
    let publisher = loop {
        match Publisher::connect(&url, &args.nats_stream, &args.nats_subject_prefix).await {
            Ok(p) => break p,
            Err(e) => {
                tracing::warn!(error = %e, "relay: NATS not reachable; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                    _ = stopped.changed() => return,
                }
            }
        }
    };
    tracing::info!(stream = %args.nats_stream, "relaying events to NATS JetStream");
    let options = envelope_options(&args, args.nats_personal_data);
    aduan_integration::NatsRelay::new(log, publisher, options, &args.nats_subject_prefix)
        .run(stopped)
        .await
}

async fn attachments(
    cli: &Cli,
    args: &ServeArgs,
    log: &dyn aduan_store::EventLog,
) -> anyhow::Result<Arc<Attachments>> {
    let (key, _) = settings::stored_secret(log, "attachment_link_key").await?;
    let limits = Limits {
        max_bytes: args.attachment_max_bytes,
        max_files: args.attachment_max_files,
    };
    Attachments::new(
        &cli.object_location(),
        key.into_bytes(),
        limits,
        std::time::Duration::from_secs(args.attachment_link_seconds.max(1)),
        args.attachment_presigned_urls,
    )
}

/// The notifier, when e-mail or the message gateway is configured; the
/// templates are checked either way, so a broken file stops the start.
fn notifier(
    args: &ServeArgs,
    log: &Arc<dyn aduan_store::EventLog>,
    reference: &aduan_domain::ReferenceData,
    tracking: aduan_domain::tracking::TrackingKey,
) -> anyhow::Result<Option<aduan_integration::notify::Notifier>> {
    use aduan_integration::notify::{self, Channel};
    use std::time::Duration;
    let templates = settings::load_notification_templates(args.notification_templates.as_deref())?;
    let timeout = Duration::from_millis(args.notify_timeout_ms.max(1));
    let email = args.smtp_url.clone().map(|url| notify::EmailSettings {
        url,
        from: args.notify_from.clone(),
        timeout,
    });
    let gateway = match &args.notify_gateway_url {
        None => None,
        Some(url) => Some(notify::GatewaySettings {
            url: url.clone(),
            authorization: args.notify_gateway_authorization.clone(),
            channel: match Channel::parse(&args.notify_gateway_channel) {
                Some(c @ (Channel::Sms | Channel::WhatsApp)) => c,
                _ => anyhow::bail!(
                    "ADUAN_NOTIFY_GATEWAY_CHANNEL: `sms` or `whatsapp`, not `{}`",
                    args.notify_gateway_channel
                ),
            },
            timeout,
        }),
    };
    if email.is_none() && gateway.is_none() {
        tracing::info!(
            "notifications to reporters off (set ADUAN_SMTP_URL or ADUAN_NOTIFY_GATEWAY_URL)"
        );
        return Ok(None);
    }
    tracing::info!(
        email = email.is_some(),
        gateway = ?gateway.as_ref().map(|g| g.channel.as_str()),
        "notifying reporters"
    );
    let settings = notify::Settings {
        templates,
        public_base_url: args.public_base_url.clone(),
        unsubscribe_url: args.notify_unsubscribe_url.clone(),
        email,
        gateway,
        retry_base: Duration::from_millis(args.notify_retry_base_ms),
        retry_cap: Duration::from_millis(args.notify_retry_cap_ms),
        attempts: args.notify_attempts.max(1),
        max_age: Duration::from_secs(args.notify_max_age_hours.saturating_mul(3600)),
        keep: (args.notify_keep_days > 0)
            .then(|| Duration::from_secs(args.notify_keep_days.saturating_mul(86_400))),
        opd_names: reference
            .opds
            .iter()
            .map(|o| (o.code.clone(), o.name.clone()))
            .collect(),
    };
    Ok(Some(notify::Notifier::new(
        log.clone(),
        settings,
        tracking,
    )?))
}

fn webhook_settings(args: &ServeArgs) -> webhooks::Settings {
    use std::time::Duration;
    webhooks::Settings {
        envelope: envelope_options(args, false),
        timeout: Duration::from_millis(args.webhook_timeout_ms.max(1)),
        retry_base: Duration::from_millis(args.webhook_retry_base_ms),
        retry_cap: Duration::from_millis(args.webhook_retry_cap_ms),
        attempts: args.webhook_attempts.max(1),
    }
}

fn envelope_options(args: &ServeArgs, personal_data: bool) -> aduan_integration::EnvelopeOptions {
    aduan_integration::EnvelopeOptions {
        source: args.event_source.clone(),
        type_prefix: args.event_type_prefix.clone(),
        personal_data,
    }
}

/// The keys tokens are checked with. With a JWKS, the identity provider's keys,
/// plus HS256 only when ADUAN_JWT_SECRET is set explicitly (the city's own
/// bridges); without one, HS256 with that secret or the development secret.
async fn token_keys(args: &ServeArgs, log: &dyn aduan_store::EventLog) -> anyhow::Result<JwtKeys> {
    let rules = ClaimRules {
        leeway_seconds: args.jwt_leeway_seconds,
        issuer: args.jwt_issuer.clone().filter(|s| !s.is_empty()),
        audience: args.jwt_audience.clone().filter(|s| !s.is_empty()),
    };
    if let Some(source) = args.jwks.as_deref().filter(|s| !s.is_empty()) {
        let set = KeySet::load(source).await?;
        let secret = explicit_secret(std::env::var("ADUAN_JWT_SECRET").ok().as_deref())?;
        return Ok(JwtKeys::new(secret.as_deref(), Some(set), rules));
    }
    let (secret, source) = signing_secret(log).await?;
    if source == SecretSource::Generated {
        tracing::warn!("generated a development signing secret (kept in the database); set ADUAN_JWT_SECRET or ADUAN_JWKS in production");
    }
    Ok(JwtKeys::new(Some(&secret), None, rules))
}

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
        .with_state(state)
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
            "INVALID_INPUT",
            "a file is larger than the limit, or the files together are".to_string(),
        ),
        other => (
            "BAD_REQUEST",
            format!("not a GraphQL multipart request: {other}"),
        ),
    };
    let body = serde_json::json!({"errors": [{"message": message, "extensions": {"code": code, "field": "file"}}]});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
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
        .data(Correlation(correlation.clone()));
    let mut executed = state.schema.execute(request).await;
    graphql::limits::code_engine_errors(&mut executed);
    metrics::record_request(&operation, &metrics::result_code(&executed));
    let retry_after = retry_after(&executed);
    let response: async_graphql_axum::GraphQLResponse = executed.into();
    let mut response = response.into_response();
    if let Some(seconds) = retry_after {
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
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
            "BODY_TOO_LARGE",
            format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
        ),
        _ => (
            "BAD_REQUEST",
            "the request is not a GraphQL request in JSON (UTF-8)".to_string(),
        ),
    };
    let body = serde_json::json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    (status, Json(body)).into_response()
}

/// The wait a RATE_LIMITED error asks for, if the response carries one.
fn retry_after(response: &async_graphql::Response) -> Option<u64> {
    response.errors.iter().find_map(|e| {
        let ext = e.extensions.as_ref()?;
        match (ext.get("code"), ext.get("retryAfterSeconds")) {
            (
                Some(async_graphql::Value::String(code)),
                Some(async_graphql::Value::Number(seconds)),
            ) if code == RATE_LIMITED => seconds.as_u64(),
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
/// longer acquire timeout, which is for requests that may wait).
async fn readyz(State(state): State<AppState>) -> Response {
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

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
