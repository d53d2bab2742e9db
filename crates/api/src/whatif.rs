//! SLA what-if over the event log (`aduan sla what-if`, the `slaWhatIf` query):
//! a proposal's policy and calendar read from TOML, the period's cases read
//! from the log through the store (never the projections, never a write), and
//! the domain's replay (`aduan_domain::sla::whatif`) run on both sides.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use aduan_domain::sla::whatif::{matters, Comparison, Period, Replay, Side};
use aduan_domain::sla::{CalendarConfig, Policy, SlaConfig};
use aduan_domain::ComplaintEvent;
use aduan_store::{Cursor, EventLog, StoreError};

/// Events per read of the log.
const BATCH: i64 = 10_000;

/// A proposal as written (docs/operations.md, "SLA what-if"): the policy
/// versions to measure by and, optionally, a whole calendar in place of the
/// one in force.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalFile {
    #[serde(default)]
    calendar: Option<CalendarConfig>,
    policies: Vec<Policy>,
}

/// The proposed settings: `policy` (TOML) over the actual settings' calendar,
/// with the days of `holidays` (a `--holidays` file's TOML) added; checked.
pub fn proposal(
    actual: &SlaConfig,
    policy: &str,
    holidays: Option<&str>,
) -> anyhow::Result<SlaConfig> {
    let file: ProposalFile = toml::from_str(policy).context("parsing the proposed policy")?;
    let mut config = SlaConfig {
        calendar: file.calendar.unwrap_or_else(|| actual.calendar.clone()),
        policies: file.policies,
    };
    if let Some(text) = holidays {
        crate::settings::add_holidays(&mut config, text).context("parsing the holidays")?;
    }
    config.build().context("checking the proposed policy")?;
    Ok(config)
}

/// The cases submitted from the start of `from` to the end of `to` (the
/// city's local dates), as they stood at the end of `to` or at `now` if that is
/// earlier. `None` when `to` is before `from`.
pub fn period(
    actual: &SlaConfig,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Option<Period> {
    let offset = actual.calendar.offset()?;
    let start = |d: NaiveDate| {
        d.and_time(NaiveTime::MIN)
            .and_local_timezone(offset)
            .single()
            .map(|t| t.with_timezone(&Utc))
    };
    let (from, to) = (start(from)?, start(to)? + Duration::days(1));
    (from < to).then(|| Period {
        from,
        to: to.min(now.max(from + Duration::seconds(1))),
    })
}

/// The comparison of `actual` and `proposed` over the log's cases of `period`.
pub async fn run(
    log: &dyn EventLog,
    period: Period,
    actual: &SlaConfig,
    proposed: &SlaConfig,
) -> anyhow::Result<Comparison> {
    let (actual_calendar, actual_book) = actual.build()?;
    let (proposed_calendar, proposed_book) = proposed.build()?;
    let histories = histories(log, period).await?;
    let mut replay = Replay::new(
        period,
        Side {
            book: &actual_book,
            calendar: &actual_calendar,
        },
        Side {
            book: &proposed_book,
            calendar: &proposed_calendar,
        },
    );
    for (id, events) in histories
        .iter()
        .filter_map(|(id, e)| Some((id, e.as_ref()?)))
    {
        replay.add(id, events);
    }
    Ok(replay.finish())
}

/// The events that matter to the clocks of every case submitted in `period`,
/// up to its end, read in one pass over the log as it stands now.
async fn histories(
    log: &dyn EventLog,
    period: Period,
) -> Result<HashMap<String, Option<Vec<ComplaintEvent>>>, StoreError> {
    let head = log.head().await?;
    let mut cursor = Cursor::default();
    // `None`: a case submitted outside the period, whose later events are skipped.
    let mut cases: HashMap<String, Option<Vec<ComplaintEvent>>> = HashMap::new();
    // Up to the head as it was at the start: a replay does not chase new writes.
    while cursor < head {
        let batch = log.read_committed_after(cursor, BATCH).await?;
        let Some((last, _)) = batch.last() else {
            break;
        };
        cursor = *last;
        for (_, stored) in batch {
            if stored.event.occurred_at() > period.to || !matters(&stored.event) {
                continue;
            }
            let entry = cases.entry(stored.aggregate_id).or_insert_with(|| {
                let first = &stored.event;
                (matches!(first, ComplaintEvent::Submitted { .. })
                    && period.contains(first.occurred_at()))
                .then(Vec::new)
            });
            if let Some(events) = entry {
                events.push(stored.event);
            }
        }
    }
    Ok(cases)
}
