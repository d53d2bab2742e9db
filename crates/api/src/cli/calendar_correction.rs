//! `aduan sla correct-calendar`: applies a correction of the past to the
//! cases it moves. The cases are the ones `aduan sla what-if
//! --calendar-correction VERSION` lists for the same period; each gets a
//! `CalendarCorrected` event in its own log, so the decision is part of the
//! case's history (audited, replayed, exported) and a rebuild computes the
//! same deadlines as the live projection (docs/operations.md).

use std::sync::Arc;

use chrono::NaiveDate;

use aduan_domain::sla::SlaConfig;
use aduan_domain::{Action, Actor, ComplaintServices, CorrectCalendar, LongText, Role};
use aduan_domain::{ReferenceData, Rules as DomainRules, SystemClock};
use aduan_store::{CommandBus, EventLog, PgOptions};

use super::{connect, Cli};
use crate::system_command::{send_once, Sent};
use crate::whatif::Rules;

/// How many cases a correction reached, and how.
#[derive(Debug, Default)]
struct Applied {
    appended: usize,
    replayed: usize,
    refused: usize,
}

pub(super) async fn run(
    cli: &Cli,
    actual: &SlaConfig,
    version: u32,
    (from, to): (NaiveDate, NaiveDate),
) -> anyhow::Result<()> {
    let change = actual
        .calendar_changes
        .iter()
        .find(|c| c.version == version)
        .ok_or_else(|| anyhow::anyhow!("the settings have no calendar version {version}"))?;
    if change.decided_at <= change.effective_from {
        anyhow::bail!(
            "calendar version {version} took effect after it was decided: it corrects no past case"
        );
    }
    let reason = LongText::parse(&change.reason)
        .map_err(|e| anyhow::anyhow!("calendar version {version}'s reason: {e}"))?;
    let rules = Rules::of(actual)?;
    let proposed = rules
        .corrected(version)
        .ok_or_else(|| anyhow::anyhow!("the settings have no calendar version {version}"))?;
    let period = crate::whatif::period(actual, from, to, chrono::Utc::now())
        .ok_or_else(|| anyhow::anyhow!("--to must not be before --from"))?;
    let log = connect(cli, &PgOptions::default())?;
    let moved = crate::whatif::run(log.as_ref(), period, &rules, &proposed)
        .await?
        .moved;
    let reference = Arc::new(crate::settings::load_reference(cli.reference.as_deref())?);
    let applied = apply(log, reference, &moved, version, reason).await?;
    println!(
        "calendar version {version} applied to {} cases ({} already, {} refused) of the {} it moves",
        applied.appended,
        applied.replayed,
        applied.refused,
        moved.len()
    );
    for id in &moved {
        println!("{id}");
    }
    Ok(())
}

/// Appends the correction to each case, once: the command id names the
/// version and the case, so running the command again appends nothing.
async fn apply(
    log: Arc<dyn EventLog>,
    reference: Arc<ReferenceData>,
    cases: &[String],
    version: u32,
    reason: LongText,
) -> anyhow::Result<Applied> {
    let services = ComplaintServices::new(Arc::new(SystemClock), reference, DomainRules::default());
    let bus = CommandBus::new(log, services);
    let actor = Actor::new("calendar-correction", Role::System, None);
    let mut applied = Applied::default();
    for id in cases {
        let action = Action::CorrectCalendar(CorrectCalendar {
            version,
            reason: reason.clone(),
        });
        let command_id = format!("calendar-correction:{version}:{id}");
        match send_once(&bus, id, &actor, action, &command_id, "cli").await? {
            Sent::Appended => applied.appended += 1,
            Sent::Replayed => applied.replayed += 1,
            Sent::Refused => applied.refused += 1,
        }
    }
    Ok(applied)
}
