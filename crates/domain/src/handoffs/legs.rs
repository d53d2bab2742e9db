//! Time charged to whoever held a case: the legs of its life, each with its
//! holder (an OPD, or the Command Center before dispatch and after a
//! return), the working time it held the case by the business calendar, and
//! how the leg ended (handed on with which reason, closed, rejected, or still
//! held). A pure function of the events, so a rebuild gives the same legs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::trail::COMMAND_CENTER;
use crate::events::ComplaintEvent;
use crate::sla::{BusinessCalendar, Pause, Span};

/// How a holder's leg ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LegEnd {
    /// Dispatched by the Command Center to an OPD.
    Dispatched,
    /// Transferred to another OPD.
    Transferred,
    /// Returned to the Command Center.
    Returned,
    Closed,
    Rejected,
    /// Still held (as of the instant measured).
    Held,
}

/// One holder's stay with a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldLeg {
    /// The OPD's code, or `COMMAND_CENTER`.
    pub holder: String,
    pub from: DateTime<Utc>,
    /// None while held.
    pub to: Option<DateTime<Utc>>,
    /// Working time held (business calendar), not counting the spans the
    /// case waited for the citizen or was linked as a duplicate.
    pub working_seconds: i64,
    pub ended: LegEnd,
    /// Whom it was handed on to (an OPD, `COMMAND_CENTER`), when it was.
    pub handed_to: Option<String>,
    /// The reason code of a transfer or return (none on transfers from
    /// before codes).
    pub reason_code: Option<String>,
    /// The hand-off brought the case back to an OPD it had left (the
    /// automatic escalation recorded with it says so).
    pub looped: bool,
    /// The SLA breaches recorded for the case whose deadline passed while
    /// this holder held it: the holder is charged, not whoever holds the
    /// case when the breach is counted.
    #[serde(default)]
    pub breaches: u32,
}

/// The legs of a case from its events, measured on `calendar`; an open leg
/// is measured up to `now`.
pub fn legs(
    events: &[ComplaintEvent],
    calendar: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Vec<HoldLeg> {
    let pauses = pauses(events, now);
    let mut out: Vec<HoldLeg> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let at = event.occurred_at();
        let (ended, next, reason_code) = match event {
            ComplaintEvent::Submitted { .. } => {
                out.push(open(COMMAND_CENTER, at));
                continue;
            }
            // An OPD naming its own officer is no hand-off.
            ComplaintEvent::Assigned { opd, .. } if holder(&out) == Some(opd.as_str()) => continue,
            ComplaintEvent::Assigned { opd, .. } => (LegEnd::Dispatched, Some(opd.clone()), None),
            ComplaintEvent::Transferred {
                to_opd,
                reason_code,
                ..
            } => (
                LegEnd::Transferred,
                Some(to_opd.clone()),
                reason_code.clone(),
            ),
            ComplaintEvent::ReturnedToCommandCenter { reason_code, .. } => (
                LegEnd::Returned,
                Some(COMMAND_CENTER.to_string()),
                Some(reason_code.clone()),
            ),
            ComplaintEvent::Closed { .. } | ComplaintEvent::AutoClosed { .. } => {
                (LegEnd::Closed, None, None)
            }
            ComplaintEvent::Rejected { .. } => (LegEnd::Rejected, None, None),
            ComplaintEvent::Reopened { .. } => {
                // The last holder takes the case up again.
                if let Some(last) = out.last().map(|l| l.holder.clone()) {
                    out.push(open(&last, at));
                }
                continue;
            }
            _ => continue,
        };
        let Some(leg) = out.last_mut().filter(|l| l.to.is_none()) else {
            continue;
        };
        leg.to = Some(at);
        leg.ended = ended;
        leg.handed_to = next.clone();
        leg.reason_code = reason_code;
        leg.looped = events.get(i + 1).is_some_and(escalates_a_revisit);
        if let Some(next) = next {
            out.push(open(&next, at));
        }
    }
    for leg in &mut out {
        let until = leg.to.unwrap_or(now).max(leg.from);
        leg.working_seconds = calendar.measure(leg.from, until, &pauses).num_seconds();
    }
    charge_breaches(&mut out, events);
    out
}

/// Each recorded breach to the leg its deadline fell in (the last leg begun
/// by then, so a deadline on a closing instant goes to the closing holder).
fn charge_breaches(legs: &mut [HoldLeg], events: &[ComplaintEvent]) {
    for event in events {
        let ComplaintEvent::SlaBreached { deadline, .. } = event else {
            continue;
        };
        if let Some(leg) = legs.iter_mut().rev().find(|l| l.from <= *deadline) {
            leg.breaches += 1;
        }
    }
}

fn open(holder: &str, from: DateTime<Utc>) -> HoldLeg {
    HoldLeg {
        holder: holder.to_string(),
        from,
        to: None,
        working_seconds: 0,
        ended: LegEnd::Held,
        handed_to: None,
        reason_code: None,
        looped: false,
        breaches: 0,
    }
}

/// An automatic escalation for a return to an OPD the case had left: it is
/// appended right after the move that made the loop.
fn escalates_a_revisit(event: &ComplaintEvent) -> bool {
    matches!(
        event,
        ComplaintEvent::Escalated {
            handoff_loop: Some(found),
            ..
        } if found.revisited.is_some()
    )
}

/// The holder of the open leg, if one is open.
fn holder(legs: &[HoldLeg]) -> Option<&str> {
    legs.last()
        .filter(|l| l.to.is_none())
        .map(|l| l.holder.as_str())
}

/// The spans no holder is charged for: waiting for the citizen, and linked
/// as a duplicate (the incident's own case carries the time).
fn pauses(events: &[ComplaintEvent], now: DateTime<Utc>) -> Vec<Pause> {
    let mut out = Vec::new();
    let mut waiting: Option<DateTime<Utc>> = None;
    let mut linked: Option<DateTime<Utc>> = None;
    let mut end = |since: &mut Option<DateTime<Utc>>, at: DateTime<Utc>, reason: &str| {
        if let Some(since) = since.take() {
            out.push(Pause {
                span: Span::new(since, at.max(since)),
                reason: reason.to_string(),
            });
        }
    };
    for event in events {
        let at = event.occurred_at();
        match event {
            ComplaintEvent::InfoRequested { .. } => waiting = Some(at),
            ComplaintEvent::InfoProvided { .. } => end(&mut waiting, at, "waiting for the citizen"),
            ComplaintEvent::DuplicateLinked { .. } => linked = Some(at),
            ComplaintEvent::DuplicateUnlinked { .. } => end(&mut linked, at, "linked"),
            ComplaintEvent::Closed { .. } | ComplaintEvent::AutoClosed { .. } => {
                end(&mut waiting, at, "waiting for the citizen");
                end(&mut linked, at, "linked");
            }
            _ => {}
        }
    }
    end(&mut waiting, now, "waiting for the citizen");
    end(&mut linked, now, "linked");
    out
}
