//! SLA timers: for each leg of a case, when its clock started, its deadline, the
//! time used, and its state, computed only from the case's event timestamps.
//!
//! - Dispatch runs from submission to the first dispatch to an OPD (or rejection).
//! - Respond runs from the latest dispatch or transfer before the OPD's first reply
//!   to that reply: a transfer gives the receiving OPD its own full target.
//! - Resolve runs from submission to closure (or rejection); a reopened case's
//!   clock resumes, and the time it spent closed does not count.
//! - Reroute runs from the latest return to the Command Center to the next
//!   dispatch (or closure, or rejection): the routing desk's own leg.
//! - Every clock pauses while the case waits for the citizen, and is suspended
//!   while the case is linked as a duplicate of an incident's primary (neither
//!   met nor breached: the incident's own case carries the clocks).
//!
//! The policy version is the one in force at the first dispatch (at submission
//! while the case has not been dispatched), so a later policy change never moves
//! a case's deadlines.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::{BusinessCalendar, Explanation, Pause, Span};
use super::history::Calendars;
use super::policy::{Leg, PolicyBook, Target};
use crate::events::ComplaintEvent;
use crate::values::Priority;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TimerState {
    OnTrack,
    AtRisk,
    Breached,
    /// Stopped by its deadline.
    Met,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegTimer {
    pub leg: Leg,
    pub policy_version: u32,
    /// The calendar version its working time is counted in (`history`).
    #[serde(default = "first_version")]
    pub calendar_version: u32,
    pub target: Target,
    pub started_at: DateTime<Utc>,
    /// Where the deadline lies given the pauses so far (an open pause counts up to now).
    pub deadline: DateTime<Utc>,
    /// When the timer turns AT_RISK if the clock keeps running.
    pub at_risk_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// True while the case waits for the citizen.
    pub paused: bool,
    pub used_seconds: i64,
    pub target_seconds: i64,
    pub state: TimerState,
    /// Since when the timer has been in `state` (see [`state_since`]).
    pub state_since: DateTime<Utc>,
    pub explanation: Explanation,
}

/// The facts of a case the timers need, gathered in one pass over its events.
#[derive(Debug, Default)]
struct Facts {
    submitted_at: Option<DateTime<Utc>>,
    category: String,
    priority: Option<Priority>,
    dispatched_at: Option<DateTime<Utc>>,
    respond_start: Option<DateTime<Utc>>,
    first_response_at: Option<DateTime<Utc>>,
    /// Set while closed or rejected; cleared by a reopening.
    ended_at: Option<DateTime<Utc>>,
    rejected_at: Option<DateTime<Utc>>,
    waiting_since: Option<(DateTime<Utc>, String)>,
    linked_since: Option<(DateTime<Utc>, String)>,
    closed_since: Option<DateTime<Utc>>,
    reopened_at: Option<DateTime<Utc>>,
    pauses: Vec<Pause>,
    closed_spans: Vec<Pause>,
    /// The latest return to the Command Center, and the dispatch that ended
    /// its wait (none while it waits).
    returned_at: Option<DateTime<Utc>>,
    rerouted_at: Option<DateTime<Utc>>,
    /// The calendar version a recorded correction puts the case in.
    calendar_correction: Option<u32>,
}

impl Facts {
    fn gather(events: &[ComplaintEvent]) -> Facts {
        let mut f = Facts::default();
        for event in events {
            let at = event.occurred_at();
            match event {
                ComplaintEvent::Submitted {
                    category, priority, ..
                } => {
                    f.submitted_at = Some(at);
                    f.category = category.clone();
                    f.priority = Some(*priority);
                }
                ComplaintEvent::Verified {
                    category, priority, ..
                } => {
                    f.category = category.clone();
                    f.priority = Some(*priority);
                }
                ComplaintEvent::Assigned { .. } if f.dispatched_at.is_none() => {
                    f.dispatched_at = Some(at);
                    f.respond_start = Some(at);
                }
                ComplaintEvent::Transferred { .. } if f.first_response_at.is_none() => {
                    f.respond_start = Some(at);
                }
                // A return gives the next OPD its own full target, as a transfer does.
                ComplaintEvent::ReturnedToCommandCenter { .. } => {
                    f.returned_at = Some(at);
                    f.rerouted_at = None;
                }
                ComplaintEvent::Assigned { .. } if f.waits_at_the_desk() => {
                    f.rerouted_at = Some(at);
                    if f.first_response_at.is_none() {
                        f.respond_start = Some(at);
                    }
                }
                ComplaintEvent::Responded { .. } => {
                    f.first_response_at.get_or_insert(at);
                }
                ComplaintEvent::CalendarCorrected { version, .. } => {
                    f.calendar_correction = Some(*version);
                }
                ComplaintEvent::InfoRequested { question, .. } => {
                    f.waiting_since = Some((at, question.clone()));
                }
                ComplaintEvent::InfoProvided { .. } => f.end_wait(at),
                ComplaintEvent::DuplicateLinked { primary_id, .. } => {
                    f.linked_since = Some((at, primary_id.clone()));
                }
                ComplaintEvent::DuplicateUnlinked { .. } => f.end_link(at),
                ComplaintEvent::Rejected { .. } => {
                    f.rejected_at = Some(at);
                    f.ended_at = Some(at);
                }
                ComplaintEvent::Closed { .. } | ComplaintEvent::AutoClosed { .. } => {
                    f.end_wait(at);
                    f.end_link(at);
                    f.ended_at = Some(at);
                    f.closed_since = Some(at);
                }
                ComplaintEvent::Reopened { .. } => {
                    if let Some(since) = f.closed_since.take() {
                        f.closed_spans.push(Pause {
                            span: Span::new(since, at),
                            reason: "closed until reopened".into(),
                        });
                    }
                    f.ended_at = None;
                    f.reopened_at = Some(at);
                }
                _ => {}
            }
        }
        f
    }

    fn waits_at_the_desk(&self) -> bool {
        self.returned_at.is_some() && self.rerouted_at.is_none()
    }

    fn end_wait(&mut self, at: DateTime<Utc>) {
        if let Some((since, question)) = self.waiting_since.take() {
            self.pauses.push(Pause {
                span: Span::new(since, at),
                reason: format!("waiting for the citizen: {question}"),
            });
        }
    }

    fn end_link(&mut self, at: DateTime<Utc>) {
        if let Some((since, primary)) = self.linked_since.take() {
            self.pauses.push(linked(since, at, &primary));
        }
    }

    /// The pauses as of `now`, an open wait or link counted up to `now`.
    fn pauses_until(&self, now: DateTime<Utc>, with_closed: bool) -> Vec<Pause> {
        let mut all = self.pauses.clone();
        if let Some((since, question)) = &self.waiting_since {
            all.push(Pause {
                span: Span::new(*since, now.max(*since)),
                reason: format!("waiting for the citizen: {question}"),
            });
        }
        if let Some((since, primary)) = &self.linked_since {
            all.push(linked(*since, now.max(*since), primary));
        }
        if with_closed {
            all.extend(self.closed_spans.iter().cloned());
        }
        all
    }
}

fn linked(since: DateTime<Utc>, until: DateTime<Utc>, primary: &str) -> Pause {
    Pause {
        span: Span::new(since, until),
        reason: format!("linked as a duplicate of {primary}"),
    }
}

fn first_version() -> u32 {
    1
}

/// Every leg whose clock has started, as of `now`. The policy and the calendar
/// are those in force (and, for the calendar, known) when the case was first
/// dispatched, or submitted while it has not been.
pub fn timers<C: Calendars + ?Sized>(
    events: &[ComplaintEvent],
    book: &PolicyBook,
    calendars: &C,
    now: DateTime<Utc>,
) -> Vec<LegTimer> {
    let facts = Facts::gather(events);
    let (Some(submitted_at), Some(priority)) = (facts.submitted_at, facts.priority) else {
        return Vec::new();
    };
    let chosen_at = facts.dispatched_at.unwrap_or(submitted_at);
    let policy = book.in_force_at(chosen_at);
    let (calendar_version, calendar) = calendars.for_case(facts.calendar_correction, chosen_at);
    let Some(rule) = policy.rule_for(&facts.category, priority) else {
        return Vec::new();
    };
    let legs = [
        (
            Leg::Dispatch,
            Some(submitted_at),
            facts.dispatched_at.or(facts.rejected_at).or(facts.ended_at),
        ),
        (
            Leg::Respond,
            facts.respond_start,
            facts.first_response_at.or(facts.ended_at),
        ),
        (Leg::Resolve, Some(submitted_at), facts.ended_at),
        (
            Leg::Reroute,
            facts.returned_at,
            facts.rerouted_at.or(facts.ended_at),
        ),
    ];
    let continuous = BusinessCalendar::continuous();
    legs.into_iter()
        .filter_map(|(leg, start, stop)| {
            let start = start?;
            let target = rule.target(leg);
            let cal = if target.is_business_time() {
                calendar
            } else {
                &continuous
            };
            // The time a case spent closed counts for no clock that runs on over it.
            let pauses = facts.pauses_until(now, matches!(leg, Leg::Resolve | Leg::Reroute));
            Some(measure(
                leg,
                (policy.version, calendar_version),
                target,
                cal,
                Clock {
                    started_at: start,
                    stopped_at: stop,
                    resumed_at: facts.reopened_at,
                    held: facts.waiting_since.is_some() || facts.linked_since.is_some(),
                },
                &pauses,
                now,
                policy.at_risk_percent,
            ))
        })
        .collect()
}

/// When a leg's clock started, stopped and (after a reopening) last started again.
struct Clock {
    started_at: DateTime<Utc>,
    stopped_at: Option<DateTime<Utc>>,
    resumed_at: Option<DateTime<Utc>>,
    /// Held now: waiting for the citizen or linked as a duplicate. (A pause
    /// that ended at `now` is over, though its span reaches `now`.)
    held: bool,
}

#[allow(clippy::too_many_arguments)]
fn measure(
    leg: Leg,
    (policy_version, calendar_version): (u32, u32),
    target: Target,
    calendar: &BusinessCalendar,
    clock: Clock,
    pauses: &[Pause],
    now: DateTime<Utc>,
    at_risk_percent: u8,
) -> LegTimer {
    let Clock {
        started_at,
        stopped_at,
        resumed_at,
        held,
    } = clock;
    let allowed = target.duration(calendar);
    let deadline = calendar.add(started_at, allowed, pauses);
    let at_risk_at = calendar.add(
        started_at,
        allowed * i32::from(at_risk_percent) / 100,
        pauses,
    );
    let until = stopped_at.unwrap_or(now);
    let explanation = calendar.explain(started_at, until, pauses);
    let used = explanation.total();
    let state = match stopped_at {
        Some(stop) if stop <= deadline => TimerState::Met,
        Some(_) => TimerState::Breached,
        None if now > deadline => TimerState::Breached,
        None if used * 100 >= allowed * i32::from(at_risk_percent) => TimerState::AtRisk,
        None => TimerState::OnTrack,
    };
    let paused = stopped_at.is_none() && held;
    // A reopened case's clock runs again from the reopening: a running state dates
    // from then at the earliest.
    let resumed = resumed_at.filter(|r| *r <= until);
    let state_since = match state {
        TimerState::Met => stopped_at.unwrap_or(started_at),
        TimerState::Breached => deadline,
        TimerState::AtRisk => resumed.map_or(at_risk_at, |r| r.max(at_risk_at)),
        TimerState::OnTrack => resumed.map_or(started_at, |r| r.max(started_at)),
    };
    LegTimer {
        leg,
        policy_version,
        calendar_version,
        target,
        started_at,
        deadline,
        at_risk_at,
        stopped_at,
        paused,
        used_seconds: used.num_seconds(),
        target_seconds: allowed.num_seconds(),
        state,
        state_since,
        explanation,
    }
}

impl LegTimer {
    pub fn used(&self) -> Duration {
        Duration::seconds(self.used_seconds)
    }

    /// The state at a later instant, with no event in between: a stopped or
    /// paused clock keeps its state, a running one moves on with time.
    pub fn state_at(&self, now: DateTime<Utc>) -> TimerState {
        state_at(
            self.stopped_at.is_some(),
            self.paused,
            self.state,
            self.deadline,
            self.at_risk_at,
            now,
        )
    }
}

/// Since when a timer has been in `state` at a later instant: a state reached by
/// the passing of time (AT_RISK, BREACHED) dates from the instant it was reached,
/// otherwise the stored `since` stands.
pub fn state_since(
    stored: TimerState,
    stored_since: DateTime<Utc>,
    state: TimerState,
    deadline: DateTime<Utc>,
    at_risk_at: DateTime<Utc>,
) -> DateTime<Utc> {
    match state {
        s if s == stored => stored_since,
        TimerState::Breached => deadline,
        TimerState::AtRisk => at_risk_at,
        _ => stored_since,
    }
}

/// [`LegTimer::state_at`] from stored fields (what the SLA projection keeps).
pub fn state_at(
    stopped: bool,
    paused: bool,
    state: TimerState,
    deadline: DateTime<Utc>,
    at_risk_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> TimerState {
    if stopped || paused {
        state
    } else if now > deadline {
        TimerState::Breached
    } else if now >= at_risk_at {
        TimerState::AtRisk
    } else {
        TimerState::OnTrack
    }
}
