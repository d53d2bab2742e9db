//! Webhooks, for systems without NATS: supervisors register endpoints; each
//! gets every wanted event as the same CloudEvents envelope, signed as the
//! Standard Webhooks specification does (`signing`), in position order, by a
//! worker of its own (`worker`). One process delivers at a time (the
//! projectors' election, under the name `webhooks`); the others only register.

mod endpoint;
pub mod signing;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use aduan_store::{Checkpoints, Folder, Follower, IntegrationState};
use aduan_store::{EventLog, StoreError};

pub use endpoint::{checkpoint_name, Endpoint, Invalid, Registration, Status};
pub use worker::DELIVERIES_METRIC;

use crate::envelope::{self, EnvelopeOptions};

/// The documents' kind in `integration_state`.
pub const KIND: &str = "webhook_endpoint";
/// The election's name.
pub const NAME: &str = "webhooks";
/// The most events `undelivered` looks through.
const UNDELIVERED_SCAN: usize = 10_000;

/// How deliveries are made.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The envelope's `source` and `type` prefix (personal data is per endpoint).
    pub envelope: EnvelopeOptions,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
    /// The wait after the first failed attempt; it doubles with each next one.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_cap: Duration,
    /// Attempts per event before the endpoint is paused.
    pub attempts: u32,
}

impl Settings {
    fn envelope(&self, endpoint: &Endpoint) -> EnvelopeOptions {
        EnvelopeOptions {
            personal_data: endpoint.personal_data,
            ..self.envelope.clone()
        }
    }

    /// The wait after failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(30));
        self.retry_base.saturating_mul(factor).min(self.retry_cap)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no webhook endpoint {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An event waiting after a paused (or slow) endpoint's checkpoint.
#[derive(Debug, Clone)]
pub struct Undelivered {
    /// The `webhook-id` it will be delivered under.
    pub id: String,
    pub event_type: String,
    pub complaint_id: String,
    pub position: i64,
    pub occurred_at: DateTime<Utc>,
}

/// The registry (for the API) and the delivering follower (for the server).
pub struct Webhooks {
    log: Arc<dyn EventLog>,
    state: IntegrationState,
    checkpoints: Checkpoints,
    http: reqwest::Client,
    settings: Arc<Settings>,
    /// Wakes the workers: the log moved, or an endpoint changed.
    pokes: Arc<watch::Sender<u64>>,
    /// Whether this process (once elected) follows the log's wake-ups.
    waking: std::sync::Once,
    workers: Mutex<HashMap<String, JoinHandle<()>>>,
    shutdown: watch::Receiver<bool>,
    /// The event types an endpoint may ask for, and the city's OPDs.
    event_types: Vec<&'static str>,
    opds: Vec<String>,
}

impl Webhooks {
    #[allow(
        clippy::expect_used,
        reason = "rustls initialises without system libraries; a failure here is a broken build"
    )]
    pub fn new(
        log: Arc<dyn EventLog>,
        settings: Settings,
        opds: Vec<String>,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Webhooks> {
        let http = reqwest::Client::builder()
            // A receiver answers; it does not send deliveries elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aduan/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the TLS backend initialises");
        Arc::new(Webhooks {
            state: IntegrationState::for_log(log.as_ref()),
            checkpoints: Checkpoints::for_log(log.as_ref()),
            log,
            http,
            settings: Arc::new(settings),
            pokes: Arc::new(watch::channel(0).0),
            waking: std::sync::Once::new(),
            workers: Mutex::default(),
            shutdown,
            event_types: aduan_domain::events::EVENT_TYPES.to_vec(),
            opds,
        })
    }

    /// Delivers (as the elected process) until shutdown.
    pub async fn run(self: Arc<Self>) {
        let shutdown = self.shutdown.clone();
        self.checkpoints.clone().run(self.as_ref(), shutdown).await;
        for (_, worker) in self.workers.lock().await.drain() {
            let _ = worker.await;
        }
    }

    /// Registers an endpoint; it receives the events committed from now on
    /// (or, with `history`, the whole log first).
    pub async fn register(
        &self,
        registration: Registration,
        history: bool,
        by: &str,
    ) -> Result<Endpoint, WebhookError> {
        registration.validate(&self.event_types, &self.opds)?;
        let id = uuid::Uuid::new_v4().to_string();
        let endpoint = Endpoint::new(id.clone(), registration, signing::new_secret(), by);
        if !history {
            let head = self.log.head().await?;
            let from = self.checkpoints.get(&endpoint.checkpoint_name()).await?;
            self.checkpoints
                .advance(&endpoint.checkpoint_name(), from, head, 0)
                .await?;
        }
        self.state.put(KIND, &id, &endpoint).await?;
        self.poke();
        Ok(endpoint)
    }

    /// The endpoints not removed, oldest first.
    pub async fn list(&self) -> Result<Vec<Endpoint>, StoreError> {
        let mut all: Vec<Endpoint> = self
            .state
            .list(KIND)
            .await?
            .into_iter()
            .map(|(_, e)| e)
            .filter(|e: &Endpoint| e.status != Status::Removed)
            .collect();
        all.sort_by_key(|e| e.created_at);
        Ok(all)
    }

    pub async fn get(&self, id: &str) -> Result<Endpoint, WebhookError> {
        match self.state.get::<Endpoint>(KIND, id).await? {
            Some(e) if e.status != Status::Removed => Ok(e),
            _ => Err(WebhookError::NotFound(id.to_string())),
        }
    }

    /// Gives an endpoint a new signing secret; the old one signs beside it for
    /// `overlap_hours` (see `Endpoint::rotate`). The answer holds the new
    /// secret, shown this once.
    pub async fn rotate_secret(
        &self,
        id: &str,
        overlap_hours: i64,
    ) -> Result<Endpoint, WebhookError> {
        let mut endpoint = self.get(id).await?;
        endpoint.rotate(signing::new_secret(), overlap_hours, Utc::now())?;
        self.state.put(KIND, id, &endpoint).await?;
        Ok(endpoint)
    }

    /// Sets an endpoint's status (pause, resume: re-drive, remove).
    pub async fn set_status(
        &self,
        id: &str,
        status: Status,
        note: Option<String>,
    ) -> Result<Endpoint, WebhookError> {
        let mut endpoint = self.get(id).await?;
        if endpoint.status != status {
            endpoint.status = status;
            endpoint.status_at = Utc::now();
            if status == Status::Active {
                endpoint.failures = 0;
            }
            if note.is_some() {
                endpoint.last_error = note;
                endpoint.last_error_at = Some(endpoint.status_at);
            }
            self.state.put(KIND, id, &endpoint).await?;
            self.poke();
        }
        Ok(endpoint)
    }

    /// The first `first` events waiting for `endpoint` (looking through at most
    /// `UNDELIVERED_SCAN` events after its checkpoint).
    pub async fn undelivered(
        &self,
        endpoint: &Endpoint,
        first: usize,
    ) -> Result<Vec<Undelivered>, StoreError> {
        let mut cursor = self
            .checkpoints
            .get(&endpoint.checkpoint_name())
            .await?
            .cursor;
        let mut folder = Folder::new(first.max(16));
        let (mut out, mut scanned) = (Vec::new(), 0);
        while out.len() < first && scanned < UNDELIVERED_SCAN {
            let batch = self.log.read_committed_after(cursor, 500).await?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            scanned += batch.len();
            cursor = last;
            for e in folder.fold(self.log.as_ref(), batch).await? {
                let opd = e.case.as_ref().and_then(|c| c.opd.as_deref());
                if out.len() < first && endpoint.wants(&e.event.event_type, opd) {
                    out.push(Undelivered {
                        id: envelope::id_of(&e.event.aggregate_id, e.event.sequence),
                        event_type: e.event.event_type.clone(),
                        complaint_id: e.event.aggregate_id.clone(),
                        position: e.event.position,
                        occurred_at: e.event.event.occurred_at(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn poke(&self) {
        poke(&self.pokes);
    }

    /// Starts a worker for each endpoint that has none; forgets finished ones.
    async fn reconcile(&self) -> Result<(), StoreError> {
        let endpoints = self.list().await?;
        let mut workers = self.workers.lock().await;
        workers.retain(|_, w| !w.is_finished());
        for e in endpoints {
            workers.entry(e.id.clone()).or_insert_with(|| {
                let worker = worker::Worker {
                    id: e.id,
                    log: self.log.clone(),
                    state: self.state.clone(),
                    checkpoints: self.checkpoints.clone(),
                    http: self.http.clone(),
                    settings: self.settings.clone(),
                };
                tokio::spawn(worker.run(self.pokes.subscribe(), self.shutdown.clone()))
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Follower for Webhooks {
    fn name(&self) -> &str {
        NAME
    }

    /// Called when the log moved, and at least every second: keeps a worker per
    /// endpoint (registered here or by another process) and wakes them.
    async fn catch_up(&self) -> Result<usize, StoreError> {
        self.waking.call_once(|| {
            tokio::spawn(wake_workers(
                self.log.clone(),
                self.pokes.clone(),
                self.shutdown.clone(),
            ));
        });
        self.reconcile().await?;
        self.poke();
        Ok(0)
    }

    /// The endpoints' workers deliver for the elected process only: once it
    /// lost the election (a database failover cuts its connection), the next
    /// elected process starts its own, and two workers on one endpoint would
    /// post every event twice and race for its checkpoint (seen in the HA drill).
    /// A delivery cut off here is re-sent by the new one under the same id.
    async fn demoted(&self) {
        for (_, worker) in self.workers.lock().await.drain() {
            worker.abort();
        }
    }
}

fn poke(pokes: &watch::Sender<u64>) {
    pokes.send_modify(|n| *n = n.wrapping_add(1));
}

/// Wakes the workers as soon as the log may have moved: the election's own
/// loop polls on SQLite and gathers for a while on PostgreSQL, and a delivery
/// should wait for neither. Runs in the elected process only (from its first
/// catch-up), so the others hold no listener for it.
async fn wake_workers(
    log: Arc<dyn EventLog>,
    pokes: Arc<watch::Sender<u64>>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if let Ok(mut wake_ups) = log.wake_ups().await {
            loop {
                tokio::select! {
                    woke = wake_ups.next() => match woke {
                        Ok(()) => poke(&pokes),
                        Err(_) => break,
                    },
                    _ = shutdown.changed() => return,
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
