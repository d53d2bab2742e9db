//! SLA policies: for each category and priority, how long each leg may take.
//! Policies are versioned; a case is measured against the version in force when
//! the leg's clock started, so a policy change never rewrites history.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::BusinessCalendar;
use crate::values::Priority;

/// The clocks of a case; each runs on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Leg {
    /// Submitted until dispatched to an OPD (verify and dispatch).
    Dispatch,
    /// Dispatched until the OPD's first reply (follow-up).
    Respond,
    /// Submitted until closed.
    Resolve,
    /// Returned to the Command Center until dispatched again: the routing
    /// desk's own clock, so a case waiting there is not invisible.
    Reroute,
}

impl Leg {
    pub const ALL: [Leg; 4] = [Leg::Dispatch, Leg::Respond, Leg::Resolve, Leg::Reroute];
}

/// How a target is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Whole working days of the business calendar.
    WorkingDays,
    WorkingHours,
    /// Every minute counts: nights, weekends and holidays too.
    CalendarMinutes,
    /// Every hour counts: nights, weekends and holidays too.
    CalendarHours,
    CalendarDays,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub amount: i64,
    pub unit: Unit,
}

impl Target {
    pub fn is_business_time(&self) -> bool {
        matches!(self.unit, Unit::WorkingDays | Unit::WorkingHours)
    }

    /// The target as a duration on the calendar it is counted on.
    pub fn duration(&self, calendar: &BusinessCalendar) -> Duration {
        match self.unit {
            Unit::WorkingDays => calendar.working_day_length() * self.amount as i32,
            Unit::WorkingHours | Unit::CalendarHours => Duration::hours(self.amount),
            Unit::CalendarMinutes => Duration::minutes(self.amount),
            Unit::CalendarDays => Duration::days(self.amount),
        }
    }
}

/// Targets for the cases a rule matches. A rule without category or priority
/// matches any; the most specific matching rule wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    pub dispatch: Target,
    pub respond: Target,
    pub resolve: Target,
    /// The routing desk's target for a case returned to it; without one, the
    /// rule's dispatch target (routing again is dispatching again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reroute: Option<Target>,
}

impl Rule {
    fn matches(&self, category: &str, priority: Priority) -> bool {
        self.category.as_deref().is_none_or(|c| c == category)
            && self.priority.is_none_or(|p| p == priority)
    }

    /// Category outranks priority; both outrank neither.
    fn specificity(&self) -> u8 {
        2 * u8::from(self.category.is_some()) + u8::from(self.priority.is_some())
    }

    pub fn target(&self, leg: Leg) -> Target {
        match leg {
            Leg::Dispatch => self.dispatch,
            Leg::Respond => self.respond,
            Leg::Resolve => self.resolve,
            Leg::Reroute => self.reroute.unwrap_or(self.dispatch),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub version: u32,
    pub effective_from: DateTime<Utc>,
    /// Share of a target used at which a timer turns AT_RISK, in percent.
    pub at_risk_percent: u8,
    /// A case waiting for the citizen this long after a follow-up closes itself.
    pub auto_close_after: Target,
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The rule that applies to a case; `None` only if no rule matches at all.
    pub fn rule_for(&self, category: &str, priority: Priority) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.matches(category, priority))
            .max_by_key(|r| r.specificity())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("no SLA policy versions")]
    Empty,
    #[error("policy versions must increase with their effective dates")]
    OutOfOrder,
    #[error("policy version {0} has no catch-all rule (no category, no priority)")]
    NoDefault(u32),
    #[error("policy version {0}: targets must be positive")]
    NonPositive(u32),
}

/// Every policy version ever in force, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyBook {
    pub versions: Vec<Policy>,
}

impl PolicyBook {
    pub fn new(mut versions: Vec<Policy>) -> Result<PolicyBook, PolicyError> {
        versions.sort_by_key(|p| p.version);
        if versions.is_empty() {
            return Err(PolicyError::Empty);
        }
        if versions
            .windows(2)
            .any(|w| w[0].effective_from >= w[1].effective_from)
        {
            return Err(PolicyError::OutOfOrder);
        }
        for p in &versions {
            if !p
                .rules
                .iter()
                .any(|r| r.category.is_none() && r.priority.is_none())
            {
                return Err(PolicyError::NoDefault(p.version));
            }
            let targets = p.rules.iter().flat_map(|r| Leg::ALL.map(|l| r.target(l)));
            if targets.chain([p.auto_close_after]).any(|t| t.amount <= 0) {
                return Err(PolicyError::NonPositive(p.version));
            }
        }
        Ok(PolicyBook { versions })
    }

    /// The version in force at `t` (the oldest one for instants before all of them).
    pub fn in_force_at(&self, t: DateTime<Utc>) -> &Policy {
        self.versions
            .iter()
            .rev()
            .find(|p| p.effective_from <= t)
            .unwrap_or(&self.versions[0])
    }

    pub fn version(&self, version: u32) -> Option<&Policy> {
        self.versions.iter().find(|p| p.version == version)
    }
}
