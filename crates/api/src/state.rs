//! What every handler shares, and how it is assembled from the settings.
//!
//! Handlers import this module, never `app.rs`: serving (`app.rs`) depends on
//! the routes and the state, not the other way round.

use std::sync::Arc;

use axum::http::HeaderName;

use aduan_domain::{ComplaintServices, SystemClock};
use aduan_integration::Webhooks;
use aduan_projections::sla_alerts::SlaAlertFeed;
use aduan_projections::{LiveFeed, Reads};
use aduan_store::CommandBus;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::attachments::Attachments;
use crate::auth::JwtKeys;
use crate::cli::{connect_serving, pg_options, Cli, ServeArgs};
use crate::followers::{Followers, Parts};
use crate::graphql::{self, AduanSchema};
use crate::metrics;
use crate::process_role::ProcessRole;
use crate::rate_limit::SubmitLimiter;
use crate::settings;
use crate::ws::WsSettings;

pub(crate) mod parts;

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
    /// Where a graceful shutdown stands (readiness, WebSocket closes).
    pub shutdown: crate::shutdown::Shutdown,
    /// The read replicas list exports read, when configured.
    pub replicas: Option<Arc<aduan_projections::ReadReplicas>>,
}

impl AppState {
    /// Opens (and migrates) the database the settings name and assembles the
    /// state, with the background followers that keep its read side moving:
    /// the caller spawns them (`Followers::spawn`), or not.
    pub async fn build(cli: &Cli, args: &ServeArgs) -> anyhow::Result<(AppState, Followers)> {
        let metrics = metrics::install();
        let reference = settings::load_reference(cli.reference.as_deref())?;
        let sla = settings::load_sla_with(cli.sla_config.as_deref(), cli.holidays.as_deref())?;
        crate::calendar::warn(&sla, chrono::Utc::now());
        let log = open_log(cli, args).await?;
        let replicas = parts::read_replicas(args, log.as_ref())?;
        let audit = parts::audit_trail(cli, args, &log).await?;
        let keys = parts::token_keys(args, &log).await?;
        tracing::info!(keys = %keys.describe().await, "verifying bearer tokens");
        let rules = settings::rules(args.reopen_window_days, &reference, &sla)?;
        let services = ComplaintServices::new(Arc::new(SystemClock), Arc::new(reference), rules);
        let tracking = settings::tracking_key(log.as_ref()).await?;
        let notifier = parts::notifier(args, &log, &services.reference, tracking.clone())?;
        let attachments = parts::attachments(cli, args, &log).await?;
        tracing::info!(objects = %attachments.objects().describe(), "keeping attachments");
        let bus = Arc::new(CommandBus::new(log, services).with_cache(args.case_cache));
        let open311 = crate::open311::Open311::new(bus.clone(), tracking.clone());
        let bridge = crate::national::Bridge::new(&args.national, &bus, &bus.services().reference)?;
        let live = LiveFeed::new(bus.log().clone());
        let followers = follower_names(args, notifier.is_some());
        let alerts = SlaAlertFeed::new(Reads::new(bus.log().as_ref()));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let webhooks = parts::webhooks(args, &bus, stopped.clone());
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
                    token_ring: crate::keys::TokenRing(keys.ring().cloned()),
                    open311_clients: open311.clients.clone(),
                    replicas: replicas
                        .clone()
                        .map(|replicas| graphql::replicas::Replicas {
                            replicas,
                            wait: std::time::Duration::from_millis(args.read_replica_wait_ms),
                        }),
                },
            ),
            bus,
            keys,
            client_ip_header: client_ip_header(args)?,
            metrics,
            ws: WsSettings {
                ping_every: std::time::Duration::from_secs(args.ws_ping_seconds.max(1)),
            },
            followers,
            webhooks,
            attachments,
            audit,
            sla: Arc::new(sla.clone()),
            open311,
            shutdown: crate::shutdown::Shutdown::default(),
            replicas,
        };
        let parts = Parts {
            stop,
            stopped,
            live,
            alerts,
            notifier,
            bridge,
        };
        let followers = Followers::new(&state, args, &sla, parts)?;
        Ok((state, followers))
    }
}

/// The event log, migrated, with rows from before personal data was sealed
/// sealed in place: first, before anything seals rows for the audit chain.
async fn open_log(cli: &Cli, args: &ServeArgs) -> anyhow::Result<Arc<dyn aduan_store::EventLog>> {
    let log = connect_serving(cli, &pg_options(args))?;
    if args.role != ProcessRole::All && !log.shared() {
        anyhow::bail!(
            "--role {} needs PostgreSQL: on SQLite one process answers and works (--role all)",
            args.role.as_str()
        );
    }
    log.migrate().await?;
    tracing::info!(store = %log.describe(), "event store ready, migrations applied");
    let sealed = aduan_store::erasure::seal_legacy_personal_data(log.as_ref()).await?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "sealed the personal data of events written before sealing"
        );
    }
    Ok(log)
}

/// The durable followers this process runs, by checkpoint name.
fn follower_names(args: &ServeArgs, notifying: bool) -> Vec<&'static str> {
    let mut followers = graphql::freshness::ALL.to_vec();
    if args.nats_url.is_some() {
        followers.push(aduan_integration::relay::NAME);
    }
    if args.national.outbound() {
        followers.push(aduan_integration::national::outbound::NAME);
    }
    if notifying {
        followers.push(aduan_integration::notify::NAME);
    }
    followers
}

fn client_ip_header(args: &ServeArgs) -> anyhow::Result<Option<HeaderName>> {
    args.client_ip_header
        .as_deref()
        .map(HeaderName::try_from)
        .transpose()
        .map_err(|e| anyhow::anyhow!("ADUAN_CLIENT_IP_HEADER: {e}"))
}
