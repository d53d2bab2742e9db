//! SLA what-if: the cases of a period replayed under a proposed policy and
//! calendar, side by side with the rules they were actually measured by. Both
//! sides run the same timer arithmetic (`timer::timers`) on the same events, as
//! of the period's end, so the only differences are the rules' own: with the
//! proposed rules equal to the actual ones, the two sides are equal.
//!
//! The replay is scratch state only: it reads events and returns figures.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::history::Calendars;
use super::policy::{Leg, PolicyBook};
use super::timer::{timers, TimerState};
use crate::events::ComplaintEvent;

/// The rules one side of a what-if measures by.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    pub book: &'a PolicyBook,
    /// A `BusinessCalendar`, or a `CalendarBook` with its history.
    pub calendar: &'a dyn Calendars,
}

/// The cases submitted in `[from, to)`, as they stood at `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// Whether an event can move an SLA clock or the case's OPD or category: the
/// only ones a replay needs to keep (notes, ratings, attachments cannot).
pub fn matters(event: &ComplaintEvent) -> bool {
    matches!(
        event,
        ComplaintEvent::Submitted { .. }
            | ComplaintEvent::Verified { .. }
            | ComplaintEvent::Rejected { .. }
            | ComplaintEvent::Assigned { .. }
            | ComplaintEvent::Transferred { .. }
            | ComplaintEvent::ReturnedToCommandCenter { .. }
            | ComplaintEvent::Responded { .. }
            | ComplaintEvent::InfoRequested { .. }
            | ComplaintEvent::InfoProvided { .. }
            | ComplaintEvent::DuplicateLinked { .. }
            | ComplaintEvent::DuplicateUnlinked { .. }
            | ComplaintEvent::Closed { .. }
            | ComplaintEvent::AutoClosed { .. }
            | ComplaintEvent::Reopened { .. }
            | ComplaintEvent::CalendarCorrected { .. }
    )
}

/// One case under one side's rules, at the period's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The worst of its legs (MET only when every started leg was met).
    pub state: TimerState,
    /// Time to the first response as the respond clock counted it (working
    /// time for a target in working units, paused spans left out).
    pub first_response_seconds: Option<i64>,
    /// Time to closure as the resolve clock counted it.
    pub close_seconds: Option<i64>,
}

/// A case's outcome under both sides' rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOutcome {
    pub complaint_id: String,
    /// The OPD holding the case at the period's end; `None` if never dispatched.
    pub opd: Option<String>,
    pub category: String,
    pub actual: Outcome,
    pub proposed: Outcome,
}

/// Figures of a group of cases under one side's rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    pub cases: u64,
    pub met: u64,
    pub breached: u64,
    pub at_risk: u64,
    pub on_track: u64,
    /// The median (lower middle) of the cases that had a first response.
    pub median_first_response_seconds: Option<i64>,
    /// The median (lower middle) of the cases that were closed.
    pub median_close_seconds: Option<i64>,
}

/// One OPD and category, both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFigures {
    pub opd: Option<String>,
    pub category: String,
    pub actual: Figures,
    pub proposed: Figures,
}

/// The answer of a what-if.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub period: Period,
    /// Per OPD and category, ordered by OPD then category.
    pub groups: Vec<GroupFigures>,
    /// All cases of the period together.
    pub total: GroupFigures,
    /// The cases whose state differs between the sides, by complaint id.
    pub changed: Vec<CaseOutcome>,
    /// The cases a deadline of which differs between the sides (whether or not
    /// their state does), by complaint id: what a calendar correction moves.
    pub moved: Vec<String>,
}

/// A case's outcome under one side's rules, from its events up to `end`.
pub fn outcome(events: &[ComplaintEvent], side: Side<'_>, end: DateTime<Utc>) -> Option<Outcome> {
    measured(events, side, end).map(|(o, _)| o)
}

/// The outcome and each leg's deadline.
fn measured(
    events: &[ComplaintEvent],
    side: Side<'_>,
    end: DateTime<Utc>,
) -> Option<(Outcome, Vec<DateTime<Utc>>)> {
    let legs = timers(events, side.book, side.calendar, end);
    let state = legs.iter().map(|t| t.state).reduce(TimerState::worst)?;
    let used = |leg: Leg| {
        legs.iter()
            .find(|t| t.leg == leg && t.stopped_at.is_some())
            .map(|t| t.used_seconds)
    };
    let outcome = Outcome {
        state,
        first_response_seconds: used(Leg::Respond).filter(|_| responded(events)),
        close_seconds: used(Leg::Resolve),
    };
    Some((outcome, legs.iter().map(|t| t.deadline).collect()))
}

/// A respond clock also stops at a closure without a reply: that is no response.
fn responded(events: &[ComplaintEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, ComplaintEvent::Responded { .. }))
}

/// A recorded correction of the calendar: it counts for the case's clocks
/// from their start, whenever it was recorded.
pub fn reaches_back(event: &ComplaintEvent) -> bool {
    matches!(event, ComplaintEvent::CalendarCorrected { .. })
}

/// The OPD holding a case and its category, after `events` (none after a
/// return to the Command Center, until it is dispatched again).
fn holder_and_category(events: &[ComplaintEvent]) -> (Option<String>, String) {
    let (mut opd, mut category) = (None, String::new());
    for event in events {
        match event {
            ComplaintEvent::Submitted { category: c, .. }
            | ComplaintEvent::Verified { category: c, .. } => category = c.clone(),
            ComplaintEvent::Assigned { opd: o, .. } => opd = Some(o.clone()),
            ComplaintEvent::Transferred { to_opd, .. } => opd = Some(to_opd.clone()),
            ComplaintEvent::ReturnedToCommandCenter { .. } => opd = None,
            _ => {}
        }
    }
    (opd, category)
}

/// The replay: fed case by case, in any order, then finished into a comparison.
pub struct Replay<'a> {
    period: Period,
    actual: Side<'a>,
    proposed: Side<'a>,
    cases: Vec<CaseOutcome>,
    moved: Vec<String>,
}

impl<'a> Replay<'a> {
    pub fn new(period: Period, actual: Side<'a>, proposed: Side<'a>) -> Replay<'a> {
        Replay {
            period,
            actual,
            proposed,
            cases: Vec::new(),
            moved: Vec::new(),
        }
    }

    /// Adds one case's history (oldest first). A case submitted outside the
    /// period is left out; events after the period's end are not looked at,
    /// except a recorded correction of the calendar, which reaches back.
    pub fn add(&mut self, complaint_id: &str, history: &[ComplaintEvent]) {
        let Some(first) = history.first() else {
            return;
        };
        if !matches!(first, ComplaintEvent::Submitted { .. })
            || !self.period.contains(first.occurred_at())
        {
            return;
        }
        let end = self.period.to;
        let cut = history.partition_point(|e| e.occurred_at() <= end);
        let late = history[cut..].iter().filter(|e| reaches_back(e));
        let with_late: Vec<ComplaintEvent>;
        let events = if late.clone().next().is_none() {
            &history[..cut]
        } else {
            with_late = history[..cut].iter().chain(late).cloned().collect();
            &with_late[..]
        };
        let (Some((actual, before)), Some((proposed, after))) = (
            measured(events, self.actual, end),
            measured(events, self.proposed, end),
        ) else {
            return;
        };
        if before != after {
            self.moved.push(complaint_id.to_string());
        }
        let (opd, category) = holder_and_category(events);
        self.cases.push(CaseOutcome {
            complaint_id: complaint_id.to_string(),
            opd,
            category,
            actual,
            proposed,
        });
    }

    pub fn finish(mut self) -> Comparison {
        self.cases
            .sort_by(|a, b| a.complaint_id.cmp(&b.complaint_id));
        self.moved.sort();
        let mut groups: BTreeMap<(Option<String>, String), Vec<&CaseOutcome>> = BTreeMap::new();
        for case in &self.cases {
            groups
                .entry((case.opd.clone(), case.category.clone()))
                .or_default()
                .push(case);
        }
        let all: Vec<&CaseOutcome> = self.cases.iter().collect();
        let total = group(None, String::new(), &all);
        let groups = groups
            .into_iter()
            .map(|((opd, category), cases)| group(opd, category, &cases))
            .collect();
        let changed = self
            .cases
            .iter()
            .filter(|c| c.actual.state != c.proposed.state)
            .cloned()
            .collect();
        Comparison {
            period: self.period,
            groups,
            total,
            changed,
            moved: self.moved,
        }
    }
}

fn group(opd: Option<String>, category: String, cases: &[&CaseOutcome]) -> GroupFigures {
    GroupFigures {
        opd,
        category,
        actual: figures(cases.iter().map(|c| &c.actual)),
        proposed: figures(cases.iter().map(|c| &c.proposed)),
    }
}

fn figures<'o>(outcomes: impl Iterator<Item = &'o Outcome>) -> Figures {
    let mut f = Figures::default();
    let (mut responses, mut closes) = (Vec::new(), Vec::new());
    for o in outcomes {
        f.cases += 1;
        match o.state {
            TimerState::Met => f.met += 1,
            TimerState::Breached => f.breached += 1,
            TimerState::AtRisk => f.at_risk += 1,
            TimerState::OnTrack => f.on_track += 1,
        }
        responses.extend(o.first_response_seconds);
        closes.extend(o.close_seconds);
    }
    f.median_first_response_seconds = median(&mut responses);
    f.median_close_seconds = median(&mut closes);
    f
}

/// The lower middle value: a time some case really took.
fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(values[(values.len() - 1) / 2])
}
