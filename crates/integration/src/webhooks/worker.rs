//! Deliveries to one endpoint, in a task of its own so that an endpoint that
//! hangs or fails holds back nobody else. It follows the log from the
//! endpoint's checkpoint (`webhook:<id>`), posts each wanted event in position
//! order, and moves the checkpoint after the receiver answered 2xx: a crash in
//! between re-delivers at most one batch, under the same `webhook-id`. A
//! failure is retried with exponential backoff; after the last attempt the
//! endpoint is paused, its events waiting after the checkpoint until a
//! supervisor resumes it.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use aduan_store::{Checkpoints, Folder, IntegrationState};
use aduan_store::{Cursor, EventLog, StoreError};

use super::endpoint::{Endpoint, Status};
use super::signing::sign_all;
use super::{Settings, KIND};
use crate::envelope::Envelope;

/// Events read per round.
const BATCH: i64 = 100;
/// Cases whose latest fold a worker keeps.
const FOLDED_CASES: usize = 1000;
pub const DELIVERIES_METRIC: &str = "aduan_webhook_deliveries_total";

pub(super) struct Worker {
    pub id: String,
    pub log: Arc<dyn EventLog>,
    pub state: IntegrationState,
    pub checkpoints: Checkpoints,
    pub http: reqwest::Client,
    pub settings: Arc<Settings>,
}

/// How a round ended.
enum Round {
    /// It delivered (or passed over) events; there may be more.
    Moved,
    /// Nothing to do until the log moves or the endpoint is resumed.
    Idle,
    /// The endpoint was removed.
    Gone,
}

/// How one event's delivery ended.
enum Sent {
    Delivered,
    /// Not delivered: the endpoint was paused or removed, or the server stops.
    Stopped,
}

impl Worker {
    pub async fn run(self, mut pokes: watch::Receiver<u64>, mut shutdown: watch::Receiver<bool>) {
        let mut folder = Folder::new(FOLDED_CASES);
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.round(&mut folder, &mut shutdown).await {
                Ok(Round::Moved) => continue,
                Ok(Round::Gone) => return,
                Ok(Round::Idle) => {}
                Err(e) => {
                    tracing::warn!(endpoint = %self.id, error = %e, "webhook deliveries paused; retrying")
                }
            }
            tokio::select! {
                _ = pokes.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn endpoint(&self) -> Result<Option<Endpoint>, StoreError> {
        self.state.get(KIND, &self.id).await
    }

    async fn round(
        &self,
        folder: &mut Folder,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Round, StoreError> {
        let endpoint = match self.endpoint().await? {
            None => return Ok(Round::Gone),
            Some(e) if e.status == Status::Removed => return Ok(Round::Gone),
            Some(e) if e.status == Status::Paused => return Ok(Round::Idle),
            Some(e) => e,
        };
        let name = endpoint.checkpoint_name();
        let from = self.checkpoints.get(&name).await?;
        let batch = self.log.read_committed_after(from.cursor, BATCH).await?;
        if batch.is_empty() {
            return Ok(Round::Idle);
        }
        // An error left from before (a failure, a pause) is cleared by the next
        // delivery that succeeds.
        let mut failed = endpoint.failures > 0 || endpoint.last_error.is_some();
        let mut done: Option<Cursor> = None;
        let mut count = 0;
        for e in folder.fold(self.log.as_ref(), batch).await? {
            let opd = e.case.as_ref().and_then(|c| c.opd.as_deref());
            if endpoint.wants(&e.event.event_type, opd) {
                let envelope = Envelope::new(&e.event, opd, &self.settings.envelope(&endpoint));
                let sent = self.send(&endpoint, &envelope, &mut failed, shutdown);
                if let Sent::Stopped = sent.await? {
                    break;
                }
            }
            done = Some(e.cursor);
            count += 1;
        }
        let Some(to) = done else {
            return Ok(Round::Idle);
        };
        self.checkpoints.advance(&name, from, to, count).await?;
        Ok(Round::Moved)
    }

    /// Delivers one event, retrying with backoff; pauses the endpoint after the
    /// last attempt. `failed`: the endpoint holds a failure count or an error
    /// that a success clears.
    async fn send(
        &self,
        endpoint: &Endpoint,
        envelope: &Envelope,
        failed: &mut bool,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Sent, StoreError> {
        let body = envelope.to_json();
        for attempt in 1.. {
            let error = match self.post(endpoint, &envelope.id, &body).await {
                Ok(()) => {
                    metrics::counter!(DELIVERIES_METRIC, "outcome" => "delivered").increment(1);
                    if *failed {
                        self.update(|e| {
                            e.failures = 0;
                            e.last_error = None;
                            e.last_error_at = None;
                        })
                        .await?;
                        *failed = false;
                    }
                    return Ok(Sent::Delivered);
                }
                Err(error) => error,
            };
            metrics::counter!(DELIVERIES_METRIC, "outcome" => "failed").increment(1);
            *failed = true;
            let exhausted = attempt >= self.settings.attempts;
            let still_active = self
                .update(|e| {
                    e.failures += 1;
                    e.last_error = Some(error.clone());
                    e.last_error_at = Some(Utc::now());
                    if exhausted {
                        e.status = Status::Paused;
                        e.status_at = Utc::now();
                    }
                })
                .await?;
            if exhausted {
                tracing::warn!(endpoint = %self.id, %error, attempts = attempt, "webhook endpoint paused");
                return Ok(Sent::Stopped);
            }
            if !still_active {
                return Ok(Sent::Stopped);
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.backoff(attempt)) => {}
                _ = shutdown.changed() => return Ok(Sent::Stopped),
            }
        }
        unreachable!("the attempts loop returns")
    }

    /// Changes the stored endpoint if it is still active; returns whether it was.
    async fn update(&self, change: impl FnOnce(&mut Endpoint)) -> Result<bool, StoreError> {
        match self.endpoint().await? {
            Some(mut e) if e.status == Status::Active => {
                change(&mut e);
                self.state.put(KIND, &self.id, &e).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn post(&self, endpoint: &Endpoint, id: &str, body: &[u8]) -> Result<(), String> {
        let timestamp = Utc::now().timestamp();
        let response = self
            .http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                sign_all(&endpoint.signing_secrets(Utc::now()), id, timestamp, body),
            )
            .body(body.to_vec())
            .timeout(self.settings.timeout)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.to_string()
    }
}
