//! Reading `sla_timers`, with each running clock's state taken at read time.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use aduan_domain::sla::{self, TimerState};

use crate::summary_query::push_in;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TimerRow {
    pub complaint_id: String,
    pub leg: String,
    pub opd: Option<String>,
    pub category: String,
    pub priority: String,
    pub policy_version: i32,
    pub target_amount: i64,
    pub target_unit: String,
    pub target_seconds: i64,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub at_risk_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub paused: bool,
    pub used_seconds: i64,
    pub state: String,
    pub state_changed_at: DateTime<Utc>,
    pub explanation: sqlx::types::Json<serde_json::Value>,
    pub last_position: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TimerFilter {
    pub complaint_id: Option<String>,
    pub opds: Vec<String>,
    pub legs: Vec<String>,
    /// States as of `now`.
    pub states: Vec<TimerState>,
    /// Only running clocks that turn AT_RISK or BREACHED in `(from, to]` by time
    /// alone (`slaAlerts`).
    pub turning: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The SQL condition for "in `state` at `now`", the same rule as `sla::state_at`.
fn push_state<'a, DB: Database>(q: &mut QueryBuilder<'a, DB>, state: TimerState, now: DateTime<Utc>)
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let frozen = "(stopped_at IS NOT NULL OR paused)";
    q.push("(");
    q.push(format!("({frozen} AND state = "))
        .push_bind(state.as_str().to_string())
        .push(")");
    match state {
        TimerState::Met => {}
        TimerState::Breached => {
            q.push(format!(" OR (NOT {frozen} AND deadline < "))
                .push_bind(now)
                .push(")");
        }
        TimerState::AtRisk => {
            q.push(format!(" OR (NOT {frozen} AND at_risk_at <= "))
                .push_bind(now)
                .push(" AND deadline >= ")
                .push_bind(now)
                .push(")");
        }
        TimerState::OnTrack => {
            q.push(format!(" OR (NOT {frozen} AND at_risk_at > "))
                .push_bind(now)
                .push(")");
        }
    }
    q.push(")");
}

/// Clocks matching `filter` (states as of `now`), soonest deadline first.
pub fn timers_query<'a, DB: Database>(
    filter: &TimerFilter,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(
        "SELECT complaint_id, leg, opd, category, priority, policy_version, target_amount, \
         target_unit, target_seconds, started_at, deadline, at_risk_at, stopped_at, paused, \
         used_seconds, state, state_changed_at, explanation, last_position FROM sla_timers WHERE 1 = 1",
    );
    if let Some(id) = &filter.complaint_id {
        q.push(" AND complaint_id = ").push_bind(id.clone());
    }
    push_in(&mut q, "opd", &filter.opds);
    push_in(&mut q, "leg", &filter.legs);
    if !filter.states.is_empty() {
        q.push(" AND (1 = 0");
        for state in &filter.states {
            q.push(" OR ");
            push_state(&mut q, *state, now);
        }
        q.push(")");
    }
    if let Some((from, to)) = filter.turning {
        q.push(" AND stopped_at IS NULL AND NOT paused AND ((at_risk_at > ")
            .push_bind(from)
            .push(" AND at_risk_at <= ")
            .push_bind(to)
            .push(") OR (deadline > ")
            .push_bind(from)
            .push(" AND deadline <= ")
            .push_bind(to)
            .push("))");
    }
    q.push(" ORDER BY deadline, complaint_id, leg LIMIT ")
        .push_bind(limit);
    q
}

impl TimerRow {
    /// The clock's state at `now`.
    pub fn state_at(&self, now: DateTime<Utc>) -> TimerState {
        sla::state_at(
            self.stopped_at.is_some(),
            self.paused,
            self.stored_state(),
            self.deadline,
            self.at_risk_at,
            now,
        )
    }

    /// Since when the clock has been in its state at `now`.
    pub fn state_changed_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        sla::state_since(
            self.stored_state(),
            self.state_changed_at,
            self.state_at(now),
            self.deadline,
            self.at_risk_at,
        )
    }

    fn stored_state(&self) -> TimerState {
        TimerState::parse(&self.state).unwrap_or(TimerState::OnTrack)
    }
}
