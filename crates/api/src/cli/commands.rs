//! The command line's subcommands other than `serve`, each run to its end.

use std::path::Path;
use std::sync::Arc;

use aduan_domain::Actor;
use aduan_projections::Projection;
use aduan_store::{EventLog, PgOptions};

use super::{connect, init_tracing, signing_secret, Cli, TokenArgs};
use crate::auth::{JwtKeys, SecretSource};

/// `aduan migrate`.
pub(super) async fn migrate(cli: &Cli) -> anyhow::Result<()> {
    init_tracing(false);
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    tracing::info!("migrations applied");
    Ok(())
}

/// `aduan token`: a bearer token signed with the server's secret.
pub(super) async fn token(cli: &Cli, args: &TokenArgs) -> anyhow::Result<()> {
    // Connections are lazy: with ADUAN_JWT_SECRET set, no database is touched.
    let log = connect(cli, &PgOptions::default())?;
    if std::env::var("ADUAN_JWT_SECRET")
        .ok()
        .is_none_or(|s| s.is_empty())
    {
        log.migrate().await?;
    }
    let (secret, source) = signing_secret(&log).await?;
    if source == SecretSource::Generated {
        eprintln!(
            "aduan: generated a development signing secret in {}",
            log.describe()
        );
    }
    let sub = args
        .sub
        .clone()
        .unwrap_or_else(|| format!("{}-1", args.role.as_str().to_ascii_lowercase()));
    let actor = Actor::new(sub, args.role, args.opd.as_deref());
    let token = JwtKeys::hs256(&secret).mint(&actor, chrono::Duration::hours(args.ttl_hours))?;
    println!("{token}");
    Ok(())
}

/// `aduan projections rebuild [NAME]`.
pub(super) async fn rebuild(cli: &Cli, name: Option<&str>) -> anyhow::Result<()> {
    init_tracing(false);
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    let wanted = |n: &str| name.is_none_or(|w| w == n);
    let sla = crate::settings::load_sla_with(cli.sla_config.as_deref(), cli.holidays.as_deref())?;
    let (summary, timers) = crate::settings::projections(&sla)?;
    if wanted(summary.name()) {
        rebuild_and_report(&log, &summary).await?;
    }
    if wanted(timers.name()) {
        rebuild_and_report(&log, &timers).await?;
    }
    let survey = crate::settings::survey_projection(&sla)?;
    if wanted(survey.name()) {
        rebuild_and_report(&log, &survey).await?;
    }
    let handoffs = crate::settings::handoff_projection(&sla)?;
    if wanted(handoffs.name()) {
        rebuild_and_report(&log, &handoffs).await?;
    }
    Ok(())
}

/// `aduan backup --output FILE`.
pub(super) async fn backup(cli: &Cli, output: &Path) -> anyhow::Result<()> {
    init_tracing(false);
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    let report = aduan_store::backup::sqlite_backup(log.as_ref(), output).await?;
    println!(
        "backed up {} events (up to position {}) to {} ({} bytes)",
        report.events,
        report.last_position,
        output.display(),
        report.bytes
    );
    Ok(())
}

/// `aduan seed`.
pub(super) async fn seed(cli: &Cli, cases: usize, days: i64, seed: u64) -> anyhow::Result<()> {
    init_tracing(false);
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    let reference = Arc::new(crate::settings::load_reference(cli.reference.as_deref())?);
    let report = crate::seed::seed(log, reference, cases, days, seed).await?;
    println!(
        "seeded {} complaints with {} commands",
        report.cases, report.commands
    );
    Ok(())
}

/// `aduan attachments check`.
pub(super) async fn check_attachments(
    cli: &Cli,
    delete_orphans: bool,
    orphan_minutes: i64,
) -> anyhow::Result<()> {
    init_tracing(false);
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    let objects = aduan_attachments::Objects::open(&cli.object_location())?;
    let age = delete_orphans.then(|| chrono::Duration::minutes(orphan_minutes.max(0)));
    let report = crate::attachments_check::check(log.as_ref(), &objects, age).await?;
    for (hash, at) in &report.missing {
        println!("missing  {hash}  ({at})");
    }
    for hash in &report.orphaned {
        println!("orphaned {hash}");
    }
    println!(
        "{}: {} objects named by the log, {} stored, {} missing, {} orphaned, {} deleted",
        objects.describe(),
        report.referenced,
        report.stored,
        report.missing.len(),
        report.orphaned.len(),
        report.deleted
    );
    if !report.missing.is_empty() {
        anyhow::bail!("{} attachment objects are missing", report.missing.len());
    }
    Ok(())
}

/// `aduan export`.
pub(super) async fn export(cli: &Cli, output: Option<&Path>) -> anyhow::Result<()> {
    init_tracing(false);
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    let written = match output {
        Some(path) => {
            let file = std::fs::File::create(path)?;
            crate::transfer::export(log.as_ref(), std::io::BufWriter::new(file)).await?
        }
        None => crate::transfer::export(log.as_ref(), std::io::stdout().lock()).await?,
    };
    eprintln!("exported {written} events from {}", log.describe());
    Ok(())
}

/// `aduan import`.
pub(super) async fn import(cli: &Cli, input: Option<&Path>) -> anyhow::Result<()> {
    init_tracing(false);
    let log = connect(cli, &PgOptions::default())?;
    log.migrate().await?;
    let read = match input {
        Some(path) => {
            let file = std::fs::File::open(path)?;
            crate::transfer::import(log.as_ref(), std::io::BufReader::new(file)).await?
        }
        None => {
            let stdin = std::io::BufReader::new(std::io::stdin());
            crate::transfer::import(log.as_ref(), stdin).await?
        }
    };
    let sealed = aduan_store::audit::seal_unsealed(log.as_ref()).await?;
    eprintln!("imported {read} events into {}", log.describe());
    if sealed > 0 {
        eprintln!("sealed {sealed} events from before the audit chain");
    }
    Ok(())
}

async fn rebuild_and_report<P: Projection>(
    log: &Arc<dyn EventLog>,
    projection: &P,
) -> anyhow::Result<()> {
    let report = aduan_projections::rebuild(log, projection, 1000).await?;
    println!(
        "rebuilt {} from {} events in {:.1} s",
        projection.name(),
        report.events,
        report.seconds
    );
    Ok(())
}
