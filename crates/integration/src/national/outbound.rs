//! Outbound: the city's milestones on cases that came from the national
//! platform go back to it as follow-ups, once each, in the log's order. A
//! durable follower of the log (like the NATS relay): each event is posted
//! with its envelope id as `Idempotency-Key`, and the checkpoint moves only
//! past events the platform acknowledged or refused. A crash re-posts at most
//! the unacknowledged tail, which the platform answers from its key store.
//!
//! While the platform is down (5xx, timeouts) the follower retries the same
//! event, backing off, and goes no further: the next milestone of that case
//! must not overtake it, and one order for all cases keeps the rule simple. A
//! refusal (404, 409, other 4xx) would come again on retry: it is recorded as
//! an issue of that case and the follower moves on.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use aduan_domain::{disclosure, Channel, ComplaintEvent};
use aduan_store::{Checkpoints, Folder, Follower, IntegrationState, LiveEvent};
use aduan_store::{EventLog, StoreError};

use super::adapter::{NationalError, NationalPlatform};
use super::contract::{Followup, Stage};
use super::state::{CaseSync, Issue, Reason, CASE_KIND, ISSUE_KIND};
use crate::envelope;

/// The follower's checkpoint, election and `projections` entry.
pub const NAME: &str = "national_outbound";
const BATCH: i64 = 128;
const FOLDED_CASES: usize = 5000;
pub const SENT_METRIC: &str = "aduan_national_followups_sent_total";

/// Exponential backoff between retries of an unavailable platform.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn next(&self, current: Duration) -> Duration {
        if current.is_zero() {
            self.initial
        } else {
            (current * 2).min(self.max)
        }
    }
}

pub struct Outbound {
    log: Arc<dyn EventLog>,
    checkpoints: Checkpoints,
    state: IntegrationState,
    platform: Arc<dyn NationalPlatform>,
    agency: String,
    backoff: Backoff,
    delay: tokio::sync::Mutex<Duration>,
    folder: tokio::sync::Mutex<Folder>,
}

/// What became of one event.
enum Sent {
    /// Acknowledged, refused, or nothing to send: the follower may pass it.
    Done,
    /// The platform is unavailable: retry this event later.
    Later,
}

impl Outbound {
    pub fn new(
        log: Arc<dyn EventLog>,
        platform: Arc<dyn NationalPlatform>,
        agency: &str,
        backoff: Backoff,
    ) -> Outbound {
        Outbound {
            checkpoints: Checkpoints::for_log(log.as_ref()),
            state: IntegrationState::for_log(log.as_ref()),
            log,
            platform,
            agency: agency.to_string(),
            backoff,
            delay: tokio::sync::Mutex::new(Duration::ZERO),
            folder: tokio::sync::Mutex::new(Folder::new(FOLDED_CASES)),
        }
    }

    /// Follows the log (elected) until `shutdown`.
    pub async fn run(&self, shutdown: tokio::sync::watch::Receiver<bool>) {
        self.checkpoints.clone().run(self, shutdown).await
    }

    /// Sends what follows the checkpoint, up to the first event the platform
    /// could not take; returns how many events it passed and whether it
    /// stopped at such an event.
    async fn step(&self) -> Result<(usize, bool), StoreError> {
        let from = self.checkpoints.get(NAME).await?;
        let batch = self.log.read_committed_after(from.cursor, BATCH).await?;
        if batch.is_empty() {
            return Ok((0, false));
        }
        let folded = self
            .folder
            .lock()
            .await
            .fold(self.log.as_ref(), batch)
            .await?;
        let (mut passed, mut last, mut blocked) = (0, None, false);
        for event in &folded {
            match self.send(event).await? {
                Sent::Done => {
                    passed += 1;
                    last = Some(event.cursor);
                }
                Sent::Later => {
                    blocked = true;
                    break;
                }
            }
        }
        if let Some(to) = last {
            self.checkpoints
                .advance(NAME, from, to, passed as i64)
                .await?;
        }
        Ok((passed, blocked))
    }

    async fn send(&self, live: &LiveEvent) -> Result<Sent, StoreError> {
        let Some((tracking_id, stage)) = milestone(live) else {
            return Ok(Sent::Done);
        };
        let event = &live.event;
        let key = envelope::id_of(&event.aggregate_id, event.sequence);
        let followup = Followup {
            stage,
            message: message(&event.event),
            at: event.event.occurred_at(),
            agency: self.agency.clone(),
        };
        let id = event.aggregate_id.as_str();
        match self
            .platform
            .post_followup(tracking_id, &key, &followup)
            .await
        {
            Ok(_) => {
                *self.delay.lock().await = Duration::ZERO;
                self.acknowledged(id, tracking_id, stage, key).await?;
                metrics::counter!(SENT_METRIC).increment(1);
                Ok(Sent::Done)
            }
            Err(NationalError::RetryLater(detail)) => {
                tracing::warn!(complaint = id, %key, %detail, "national platform unavailable; will retry");
                self.record(Reason::Waiting, id, tracking_id, stage, &key, detail)
                    .await?;
                Ok(Sent::Later)
            }
            Err(refusal @ NationalError::Refused { .. }) => {
                tracing::warn!(complaint = id, %key, error = %refusal, "national platform refused a follow-up");
                self.record(
                    Reason::Refused,
                    id,
                    tracking_id,
                    stage,
                    &key,
                    refusal.to_string(),
                )
                .await?;
                Ok(Sent::Done)
            }
        }
    }

    async fn acknowledged(
        &self,
        id: &str,
        tracking_id: &str,
        stage: Stage,
        key: String,
    ) -> Result<(), StoreError> {
        let sync = CaseSync {
            tracking_id: tracking_id.to_string(),
            stage,
            key,
            at: Utc::now(),
        };
        self.state.put(CASE_KIND, id, &sync).await?;
        // National and local agree again up to this milestone.
        self.state.delete(ISSUE_KIND, id).await
    }

    async fn national_stage(&self, id: &str) -> Result<Option<Stage>, StoreError> {
        Ok(self
            .state
            .get::<CaseSync>(CASE_KIND, id)
            .await?
            .map(|s| s.stage))
    }

    /// Records why the case's milestone `key` has not reached the platform. A
    /// milestone still waiting keeps its first date and counts its attempts.
    async fn record(
        &self,
        reason: Reason,
        id: &str,
        tracking_id: &str,
        stage: Stage,
        key: &str,
        detail: String,
    ) -> Result<(), StoreError> {
        let earlier = match reason {
            Reason::Waiting => self.state.get::<Issue>(ISSUE_KIND, id).await?,
            _ => None,
        };
        let (since, attempts) = match earlier {
            Some(i) if i.reason == reason && i.detail.starts_with(key) => (i.since, i.attempts + 1),
            _ => (Utc::now(), 1),
        };
        let issue = Issue {
            complaint_id: Some(id.to_string()),
            tracking_id: tracking_id.to_string(),
            local_stage: Some(stage),
            national_stage: self.national_stage(id).await?,
            reason,
            detail: format!("{key}: {detail}"),
            since,
            attempts,
        };
        self.state.put(ISSUE_KIND, id, &issue).await
    }

    async fn pause(&self) {
        let mut delay = self.delay.lock().await;
        *delay = self.backoff.next(*delay);
        let pause = *delay;
        drop(delay);
        tokio::time::sleep(pause).await;
    }
}

/// The case's tracking id and the stage, when `live` is a milestone of a
/// case from the national platform.
fn milestone(live: &LiveEvent) -> Option<(&str, Stage)> {
    let stage = Stage::of_event(&live.event.event)?;
    let case = live.case.as_ref()?;
    if case.channel != Channel::NationalPlatform {
        return None;
    }
    let tracking_id = case.external_ref.as_deref()?;
    Some((tracking_id, stage))
}

/// The text the platform shows with the follow-up (what the citizen sees):
/// the event's public text (`aduan_domain::disclosure`), or a fixed line for a
/// dispatch or a rejection, whose staff notes stay in the city.
fn message(event: &ComplaintEvent) -> String {
    if let Some(text) = disclosure::public_text(event) {
        return text.to_string();
    }
    match event {
        ComplaintEvent::Assigned { opd, .. } => format!("Didisposisikan ke {opd}"),
        ComplaintEvent::Transferred { to_opd, .. } => format!("Dialihkan ke {to_opd}"),
        ComplaintEvent::Rejected { reason, .. } => format!("Ditolak: {reason}"),
        _ => String::new(),
    }
}

#[async_trait]
impl Follower for Outbound {
    fn name(&self) -> &str {
        NAME
    }

    async fn catch_up(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let (passed, blocked) = self.step().await?;
            total += passed;
            if blocked {
                self.pause().await;
            } else if passed == 0 {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_ups_carry_public_texts_only() {
        let at = Utc::now();
        let transferred = ComplaintEvent::Transferred {
            from_opd: "DPU".into(),
            to_opd: "DLH".into(),
            reason: "Kepala seksi minta dipindah".into(),
            reason_code: None,
            occurred_at: at,
        };
        assert_eq!(message(&transferred), "Dialihkan ke DLH");
        let assigned = ComplaintEvent::Assigned {
            opd: "DPU".into(),
            officer_id: None,
            note: Some("prioritaskan, kerabat pejabat".into()),
            occurred_at: at,
        };
        assert_eq!(message(&assigned), "Didisposisikan ke DPU");
        let rejected = ComplaintEvent::Rejected {
            reason: aduan_domain::RejectReason::OutOfScope,
            note: Some("pelapor sering iseng".into()),
            occurred_at: at,
        };
        assert_eq!(message(&rejected), "Ditolak: OUT_OF_SCOPE");
        let responded = ComplaintEvent::Responded {
            message: "Tim menuju lokasi".into(),
            template: None,
            occurred_at: at,
        };
        assert_eq!(message(&responded), "Tim menuju lokasi");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(350),
        };
        let steps: Vec<_> = std::iter::successors(Some(Duration::ZERO), |d| Some(b.next(*d)))
            .skip(1)
            .take(4)
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(steps, [100, 200, 350, 350]);
    }
}
