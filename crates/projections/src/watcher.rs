//! The deadline watcher: every tick it looks for clocks past their deadline and
//! cases the citizen never answered, re-checks each against the complaint's own
//! events, and records what it finds through normal commands (SYSTEM actor), so
//! every breach and auto-closure is an auditable event.
//!
//! Exactly once, even with several server processes watching: each command's id is
//! derived from what it records (complaint, leg, deadline), so a second watcher's
//! command is an idempotent replay; and each carries the version the decision was
//! made on, so a case that changed meanwhile is re-examined on the next tick.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use aduan_domain::sla::{self, BusinessCalendar, Calendars, PolicyBook, TimerState};
use aduan_domain::{Action, Actor, AutoClose, Command, ComplaintEvent, RecordBreach, Role, Status};
use aduan_store::codec;
use aduan_store::{
    CommandBus, CommandError, CommandRequest, RequestContext, StoreError, StoredEvent,
};

use crate::sla_timers::leg_name;
use crate::Reads;

/// Counters (the `metrics` facade; rendered by the server's `/metrics`) of what
/// the watcher recorded.
pub const BREACHES_METRIC: &str = "aduan_watcher_breaches_recorded_total";
pub const AUTO_CLOSED_METRIC: &str = "aduan_watcher_auto_closed_total";

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WatchReport {
    pub breaches: usize,
    pub auto_closed: usize,
}

pub struct Watcher {
    bus: Arc<CommandBus>,
    reads: Reads,
    calendar: Arc<dyn Calendars + Send + Sync>,
    book: Arc<PolicyBook>,
    batch: i64,
}

fn watcher_actor() -> Actor {
    Actor::new("sla-watcher", Role::System, None)
}

impl Watcher {
    pub fn new(
        bus: Arc<CommandBus>,
        calendar: Arc<dyn Calendars + Send + Sync>,
        book: Arc<PolicyBook>,
    ) -> Self {
        Watcher {
            reads: Reads::new(bus.log().as_ref()),
            bus,
            calendar,
            book,
            batch: 500,
        }
    }

    /// One pass over the candidates; returns what it recorded.
    pub async fn tick(&self) -> Result<WatchReport, StoreError> {
        let now = self.bus.services().clock.now();
        let mut report = WatchReport::default();
        for id in self.reads.watch_candidates(now, self.batch).await? {
            let events = self.bus.log().load(&id).await?;
            for action in self.due(&events, now) {
                let recorded = matches!(action, Action::RecordBreach(_));
                if self.send(&id, &events, action).await? {
                    if recorded {
                        report.breaches += 1;
                        metrics::counter!(BREACHES_METRIC).increment(1);
                    } else {
                        report.auto_closed += 1;
                        metrics::counter!(AUTO_CLOSED_METRIC).increment(1);
                    }
                }
            }
        }
        Ok(report)
    }

    /// What the complaint's own events say is due now.
    fn due(&self, history: &[StoredEvent], now: DateTime<Utc>) -> Vec<Action> {
        let Some(case) = codec::fold(history).0 else {
            return Vec::new();
        };
        if !case.status.is_open() {
            return Vec::new();
        }
        let events: Vec<ComplaintEvent> = history.iter().map(|e| e.event.clone()).collect();
        let mut due: Vec<Action> = sla::timers(&events, &self.book, &*self.calendar, now)
            .into_iter()
            .filter(|t| t.stopped_at.is_none() && t.state == TimerState::Breached)
            .filter(|t| !case.recorded_breaches.contains(&(t.leg, t.deadline)))
            .map(|t| {
                Action::RecordBreach(RecordBreach {
                    leg: t.leg,
                    deadline: t.deadline,
                })
            })
            .collect();
        if case.status == Status::WaitingForInfo {
            let waiting_since = events.iter().rev().find_map(|e| match e {
                ComplaintEvent::InfoRequested { occurred_at, .. } => Some(*occurred_at),
                _ => None,
            });
            if let Some(since) = waiting_since {
                let policy = self.book.in_force_at(since);
                let wait = policy.auto_close_after;
                let continuous = BusinessCalendar::continuous();
                let cal = if wait.is_business_time() {
                    self.calendar.for_case(case.calendar_correction, since).1
                } else {
                    &continuous
                };
                if now >= cal.add(since, wait.duration(cal), &[]) {
                    // Closing settles every clock; breaches would only be noise.
                    due = vec![Action::AutoClose(AutoClose {
                        waiting_since: since,
                    })];
                }
            }
        }
        due
    }

    /// Sends one command; true when it appended (false: another watcher did, or
    /// the case changed and is left for the next tick).
    async fn send(
        &self,
        id: &str,
        history: &[StoredEvent],
        action: Action,
    ) -> Result<bool, StoreError> {
        let command_id = match &action {
            Action::RecordBreach(b) => format!(
                "sla-breach:{id}:{}:{}",
                leg_name(b.leg),
                b.deadline.timestamp()
            ),
            Action::AutoClose(a) => format!("auto-close:{id}:{}", a.waiting_since.timestamp()),
            _ => unreachable!("the watcher sends only its own commands"),
        };
        let request = CommandRequest {
            complaint_id: id.to_string(),
            command: Command::new(watcher_actor(), action),
            context: RequestContext {
                channel: "watcher".into(),
                correlation_id: command_id.clone(),
            },
            command_id: Some(command_id),
            expected_version: history.last().map(|e| e.sequence),
        };
        match self.bus.execute(request).await {
            Ok(outcome) => Ok(!outcome.replayed),
            Err(CommandError::Conflict(_)) => Ok(false),
            Err(CommandError::Store(e)) => Err(e),
            Err(CommandError::Domain(e)) => {
                tracing::warn!(complaint = id, error = %e, "watcher command refused");
                Ok(false)
            }
        }
    }

    /// Ticks every `interval` until `shutdown` turns true.
    pub async fn run(&self, interval: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut stop = shutdown.clone();
        loop {
            // Shutdown cuts a tick short: each command is one transaction and its
            // id is derived from what it records, so the next tick redoes the rest.
            let ticked = tokio::select! {
                ticked = self.tick() => ticked,
                _ = stop.wait_for(|stopping| *stopping) => return,
            };
            match ticked {
                Ok(r) if r != WatchReport::default() => {
                    tracing::info!(
                        breaches = r.breaches,
                        auto_closed = r.auto_closed,
                        "deadline watcher recorded"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deadline watcher tick failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    }
}
