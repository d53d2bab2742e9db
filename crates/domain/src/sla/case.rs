//! A case's SLA standing as one state: the worst of its legs. Lists filter on it
//! ("every breached case of DPU"), so it must be answerable at any instant from
//! three stored values, without the events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::timer::{LegTimer, TimerState};

impl TimerState {
    pub const ALL: [TimerState; 4] = [
        TimerState::OnTrack,
        TimerState::AtRisk,
        TimerState::Breached,
        TimerState::Met,
    ];

    /// The wire name, as stored and as GraphQL shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            TimerState::OnTrack => "ON_TRACK",
            TimerState::AtRisk => "AT_RISK",
            TimerState::Breached => "BREACHED",
            TimerState::Met => "MET",
        }
    }

    pub fn parse(name: &str) -> Option<TimerState> {
        TimerState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// MET < ON_TRACK < AT_RISK < BREACHED: a case is as bad as its worst leg.
    pub fn severity(self) -> u8 {
        match self {
            TimerState::Met => 0,
            TimerState::OnTrack => 1,
            TimerState::AtRisk => 2,
            TimerState::Breached => 3,
        }
    }

    pub fn worst(self, other: TimerState) -> TimerState {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSla {
    /// The worst leg state when the timers were computed.
    pub state: TimerState,
    /// The earliest instant a running (not paused) leg turns AT_RISK.
    pub at_risk_at: Option<DateTime<Utc>>,
    /// The earliest deadline of a running (not paused) leg.
    pub deadline: Option<DateTime<Utc>>,
}

impl CaseSla {
    /// `None` when no clock has started (no policy matches the case).
    pub fn of(timers: &[LegTimer]) -> Option<CaseSla> {
        let state = timers.iter().map(|t| t.state).reduce(TimerState::worst)?;
        let running = || {
            timers
                .iter()
                .filter(|t| t.stopped_at.is_none() && !t.paused)
        };
        Some(CaseSla {
            state,
            at_risk_at: running().map(|t| t.at_risk_at).min(),
            deadline: running().map(|t| t.deadline).min(),
        })
    }

    /// The state at a later instant with no event in between. Running legs only
    /// get worse with time, so the stored state can only be overtaken by them.
    /// `summary_query::sla_state_sql` is the same rule in SQL.
    pub fn state_at(&self, now: DateTime<Utc>) -> TimerState {
        let by_time = if self.deadline.is_some_and(|d| now > d) {
            TimerState::Breached
        } else if self.at_risk_at.is_some_and(|a| now >= a) {
            TimerState::AtRisk
        } else {
            TimerState::Met
        };
        self.state.worst(by_time)
    }
}
