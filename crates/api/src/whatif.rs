//! SLA what-if over the event log (`aduan sla what-if`, the `slaWhatIf` query):
//! a proposal's policy and calendar read from TOML, the period's cases read
//! from the log through the store (never the projections, never a write), and
//! the domain's replay (`aduan_domain::sla::whatif`) run on both sides.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use aduan_domain::sla::whatif::{matters, reaches_back, Comparison, Period, Replay, Side};
use aduan_domain::sla::{
    CalendarBook, CalendarChange, CalendarConfig, Policy, PolicyBook, SlaConfig,
};
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
    /// The proposed calendar's later versions (with `calendar` only).
    #[serde(default)]
    calendar_changes: Vec<CalendarChange>,
}

/// The proposed settings: `policy` (TOML) over the actual settings' calendar,
/// with the days of `holidays` (a `--holidays` file's TOML) added; checked.
pub fn proposal(
    actual: &SlaConfig,
    policy: &str,
    holidays: Option<&str>,
) -> anyhow::Result<SlaConfig> {
    let file: ProposalFile = toml::from_str(policy).context("parsing the proposed policy")?;
    // Without a calendar of its own, a proposal counts in the one in force,
    // with its history.
    let (calendar, calendar_changes) = match file.calendar {
        Some(calendar) => (calendar, file.calendar_changes),
        None => (actual.calendar.clone(), actual.calendar_changes.clone()),
    };
    let mut config = SlaConfig {
        calendar,
        policies: file.policies,
        calendar_changes,
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

/// One side's rules, built: the policy book and the calendar with its history.
pub struct Rules {
    pub book: PolicyBook,
    pub calendars: CalendarBook,
}

impl Rules {
    pub fn of(config: &SlaConfig) -> anyhow::Result<Rules> {
        Ok(Rules {
            book: config.build()?.1,
            calendars: config.calendars()?,
        })
    }

    /// These rules with calendar `version` applied to every case it reaches,
    /// as if known from its `effective_from`: what correcting the past with
    /// it would move (`CalendarBook::as_if_known`).
    pub fn corrected(&self, version: u32) -> Option<Rules> {
        Some(Rules {
            book: self.book.clone(),
            calendars: self.calendars.as_if_known(version)?,
        })
    }

    fn side(&self) -> Side<'_> {
        Side {
            book: &self.book,
            calendar: &self.calendars,
        }
    }
}

/// The comparison of `actual` and `proposed` over the log's cases of `period`.
pub async fn run(
    log: &dyn EventLog,
    period: Period,
    actual: &Rules,
    proposed: &Rules,
) -> anyhow::Result<Comparison> {
    let histories = histories(log, period).await?;
    let mut replay = Replay::new(period, actual.side(), proposed.side());
    for (id, events) in histories
        .iter()
        .filter_map(|(id, e)| Some((id, e.as_ref()?)))
    {
        replay.add(id, events);
    }
    Ok(replay.finish())
}

/// Whether a replay of `period` keeps `event`: one that can move a clock, up
/// to the period's end; a recorded correction of the calendar whenever it was
/// recorded, since it reaches back to the case's dispatch.
fn in_replay(event: &ComplaintEvent, period: Period) -> bool {
    matters(event) && (event.occurred_at() <= period.to || reaches_back(event))
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
            if !in_replay(&stored.event, period) {
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
