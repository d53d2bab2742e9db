//! The clock turns behind `slaAlerts`: one scanner per server process, shared by
//! every subscriber. A clock turns AT_RISK or BREACHED by time alone, with no
//! event to announce it, so the scanner asks `sla_timers` every `SCAN` for the
//! running clocks whose `at_risk_at` or `deadline` passed since its last look.
//!
//! It looks back `LATE` further than its last look, so a row the projector
//! writes a little after its instant has passed is still announced; what it
//! announced in that overlap it remembers, so nothing is announced twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, watch};

use aduan_domain::sla::TimerState;

use crate::sla_query::{TimerFilter, TimerRow};
use crate::Reads;

/// How often the scanner looks (alerts come within this of their instant, plus
/// the projector's lag).
pub const SCAN: Duration = Duration::from_millis(500);
/// How far back each look reaches beyond the previous one.
const LATE: chrono::Duration = chrono::Duration::seconds(10);
/// Turns per look, at most (a backlog is announced over several looks).
const PER_LOOK: i64 = 2000;
const CHANNEL: usize = 1024;

/// A clock that turned AT_RISK or BREACHED at `at`.
#[derive(Debug, Clone)]
pub struct ClockTurn {
    pub timer: TimerRow,
    pub state: TimerState,
    pub at: DateTime<Utc>,
}

pub struct SlaAlertFeed {
    reads: Reads,
    sender: broadcast::Sender<Arc<ClockTurn>>,
}

type TurnKey = (String, String, &'static str, DateTime<Utc>);

impl SlaAlertFeed {
    pub fn new(reads: Reads) -> Arc<Self> {
        Arc::new(SlaAlertFeed {
            reads,
            sender: broadcast::channel(CHANNEL).0,
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<ClockTurn>> {
        self.sender.subscribe()
    }

    /// Scans until `shutdown`; turns before the start are not announced.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut since = Utc::now();
        let mut announced: HashSet<TurnKey> = HashSet::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(SCAN) => {}
                _ = shutdown.changed() => return,
            }
            let now = Utc::now();
            match self.look(since - LATE, now, &mut announced).await {
                Ok(until) => since = until,
                Err(e) => {
                    tracing::warn!(error = %e, "SLA alerts: cannot read the clocks; retrying")
                }
            }
            announced.retain(|(_, _, _, at)| *at > since - LATE);
        }
    }

    /// Announces the turns in `(from, to]` not announced yet; returns how far
    /// it got (`to`, or the last turn's instant when there were more than a
    /// look takes).
    async fn look(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        announced: &mut HashSet<TurnKey>,
    ) -> Result<DateTime<Utc>, aduan_store::StoreError> {
        let filter = TimerFilter {
            turning: Some((from, to)),
            ..TimerFilter::default()
        };
        let rows = self.reads.timers(&filter, to, PER_LOOK).await?;
        let full = rows.len() as i64 == PER_LOOK;
        let mut turns: Vec<ClockTurn> = rows.into_iter().flat_map(|r| turns(r, from, to)).collect();
        turns.sort_by_key(|t| t.at);
        let reached = if full {
            turns.last().map_or(to, |t| t.at)
        } else {
            to
        };
        for turn in turns {
            let key = (
                turn.timer.complaint_id.clone(),
                turn.timer.leg.clone(),
                turn.state.as_str(),
                turn.at,
            );
            if turn.at <= reached && announced.insert(key) {
                // No receiver is not an error: nobody is subscribed right now.
                let _ = self.sender.send(Arc::new(turn));
            }
        }
        Ok(reached)
    }
}

/// The turns of one running clock in `(from, to]`.
fn turns(timer: TimerRow, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ClockTurn> {
    let within = |t: DateTime<Utc>| t > from && t <= to;
    let mut out = Vec::new();
    if within(timer.at_risk_at) && timer.at_risk_at < timer.deadline {
        out.push(ClockTurn {
            timer: timer.clone(),
            state: TimerState::AtRisk,
            at: timer.at_risk_at,
        });
    }
    if within(timer.deadline) {
        let at = timer.deadline;
        out.push(ClockTurn {
            timer,
            state: TimerState::Breached,
            at,
        });
    }
    out
}
