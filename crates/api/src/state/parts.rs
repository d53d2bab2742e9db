//! The state's parts that take settings to make: the audit trail, token keys,
//! attachments, the notifier and the outbound envelopes' settings.

use std::sync::Arc;

use aduan_integration::{webhooks, Webhooks};
use aduan_store::CommandBus;

use crate::attachments::{Attachments, Limits};
use crate::auth::{explicit_secret, previous_secret, ClaimRules, JwtKeys, KeySet, SecretSource};
use crate::cli::{Cli, ServeArgs};
use crate::keys::{KeyKind, KeyRing};
use crate::settings;

/// Seals events written before the audit chain existed (once, after an
/// upgrade or an import of an old export), then sets up the checkpointer.
pub(super) async fn audit_trail(
    cli: &Cli,
    args: &ServeArgs,
    log: &Arc<dyn aduan_store::EventLog>,
) -> anyhow::Result<Arc<crate::audit::Audit>> {
    let sealed = aduan_store::audit::seal_unsealed(log.as_ref()).await?;
    if sealed > 0 {
        tracing::info!(sealed, "sealed events written before the audit chain");
    }
    let audit = crate::audit::Audit::open(
        &cli.audit,
        log.clone(),
        std::time::Duration::from_secs(args.audit_checkpoint_seconds.max(1)),
    )
    .await?;
    match &audit.source {
        crate::audit::KeySource::File(path) => {
            tracing::info!(key = %path.display(), "signing audit checkpoints")
        }
        crate::audit::KeySource::Database => tracing::warn!(
            "audit checkpoints are signed with a development key kept in the database, \
             which proves nothing against whoever can rewrite it; set ADUAN_AUDIT_KEY \
             (docs/audit.md)"
        ),
    }
    Ok(Arc::new(audit))
}

pub(super) async fn attachments(
    cli: &Cli,
    args: &ServeArgs,
    log: &Arc<dyn aduan_store::EventLog>,
) -> anyhow::Result<Arc<Attachments>> {
    let keys = KeyRing::open(KeyKind::Attachments, log.clone(), None).await?;
    let limits = Limits {
        max_bytes: args.attachment_max_bytes,
        max_files: args.attachment_max_files,
    };
    Attachments::new(
        &cli.object_location(),
        keys,
        limits,
        std::time::Duration::from_secs(args.attachment_link_seconds.max(1)),
        args.attachment_presigned_urls,
    )
}

/// The notifier, when e-mail or the message gateway is configured; the
/// templates are checked either way, so a broken file stops the start.
pub(super) fn notifier(
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
    let members = Arc::new(crate::incidents::Members::new(log.as_ref()));
    Ok(Some(
        notify::Notifier::new(log.clone(), settings, tracking)?.with_members(members),
    ))
}

/// Webhook deliveries, told the city's OPD codes.
pub(super) fn webhooks(
    args: &ServeArgs,
    bus: &CommandBus,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Arc<Webhooks> {
    Webhooks::new(
        bus.log().clone(),
        webhook_settings(args),
        bus.services()
            .reference
            .opds
            .iter()
            .map(|o| o.code.clone())
            .collect(),
        stopped,
    )
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

pub(crate) fn envelope_options(
    args: &ServeArgs,
    personal_data: bool,
) -> aduan_integration::EnvelopeOptions {
    aduan_integration::EnvelopeOptions {
        source: args.event_source.clone(),
        type_prefix: args.event_type_prefix.clone(),
        personal_data,
    }
}

/// The keys tokens are checked with. With a JWKS, the identity provider's keys,
/// plus HS256 only when ADUAN_JWT_SECRET is set explicitly (the city's own
/// bridges); without one, HS256 with that secret or the development secret.
pub(super) async fn token_keys(
    args: &ServeArgs,
    log: &Arc<dyn aduan_store::EventLog>,
) -> anyhow::Result<JwtKeys> {
    let rules = ClaimRules {
        leeway_seconds: args.jwt_leeway_seconds,
        issuer: args.jwt_issuer.clone().filter(|s| !s.is_empty()),
        audience: args.jwt_audience.clone().filter(|s| !s.is_empty()),
    };
    let secret = explicit_secret(std::env::var("ADUAN_JWT_SECRET").ok().as_deref())?;
    let previous = previous_secret(std::env::var("ADUAN_JWT_SECRET_PREVIOUS").ok().as_deref())?;
    let accepting = |keys: JwtKeys| match &previous {
        Some(previous) => keys.accepting_previous(previous),
        None => keys,
    };
    if let Some(source) = args.jwks.as_deref().filter(|s| !s.is_empty()) {
        let set = KeySet::load(source).await?;
        return Ok(accepting(JwtKeys::new(secret.as_deref(), Some(set), rules)));
    }
    if let Some(secret) = secret {
        return Ok(accepting(JwtKeys::new(Some(&secret), None, rules)));
    }
    if previous.is_some() {
        anyhow::bail!("ADUAN_JWT_SECRET_PREVIOUS is set without ADUAN_JWT_SECRET: set the new secret beside it");
    }
    let (ring, source) = crate::auth::dev_ring(log).await?;
    if source == SecretSource::Generated {
        tracing::warn!("generated a development signing secret (kept in the database); set ADUAN_JWT_SECRET or ADUAN_JWKS in production");
    }
    Ok(JwtKeys::with_ring(ring, rules))
}

/// How long a read waits for a connection to a replica before the primary
/// answers it (shorter than the primary's: there is somewhere else to go).
const REPLICA_ACQUIRE: std::time::Duration = std::time::Duration::from_secs(2);

/// The read replicas `--read-database-url` names (none: `None`). PostgreSQL
/// only: SQLite has no replicas.
pub(super) fn read_replicas(
    args: &ServeArgs,
    log: &dyn aduan_store::EventLog,
) -> anyhow::Result<Option<Arc<aduan_projections::ReadReplicas>>> {
    let urls: Vec<&str> = args
        .read_database_urls
        .iter()
        .map(|u| u.trim())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Ok(None);
    }
    if !log.shared() {
        anyhow::bail!(
            "--read-database-url (ADUAN_READ_DATABASE_URL) needs a PostgreSQL DATABASE_URL: \
             SQLite has no replicas"
        );
    }
    let mut options = crate::cli::pg_options(args);
    options.acquire_timeout = options.acquire_timeout.min(REPLICA_ACQUIRE);
    let mut replicas = Vec::new();
    for url in urls {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!("--read-database-url must start with postgres://");
        }
        let db = aduan_store::postgres::replica(url, &options)?;
        replicas.push((aduan_projections::replicas::replica_name(url), db));
    }
    let primary = aduan_projections::Reads::new(log);
    let replicas = aduan_projections::ReadReplicas::new(&primary, replicas);
    tracing::info!(
        replicas = %replicas.describe(),
        wait_ms = args.read_replica_wait_ms,
        "lists, dashboards and figures read from the read replicas"
    );
    Ok(Some(Arc::new(replicas)))
}
