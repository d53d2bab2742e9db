//! The NATS JetStream relay: every event, once, in the log's gap-safe order,
//! to stream `ADUAN` (see `nats`). A durable follower of the log
//! (`aduan_store::follow`): it publishes a batch, waits until JetStream
//! has acknowledged all of it, and only then moves its checkpoint. A crash in
//! between re-sends at most that batch, which the stream drops as duplicates by
//! `Nats-Msg-Id`. With several server processes one relay runs at a time (the
//! projectors' election).

use std::sync::Arc;

use async_trait::async_trait;

use aduan_store::{Checkpoints, Folder, Follower};
use aduan_store::{EventLog, StoreError};

use crate::envelope::{Envelope, EnvelopeOptions};
use crate::nats::{subject, Publisher};

/// The relay's checkpoint (and `/metrics` lag label, and `projections` entry).
pub const NAME: &str = "nats_relay";
/// Events per publish-and-acknowledge round.
const BATCH: i64 = 256;
/// Cases whose latest fold the relay keeps (for the OPD of the next event).
const FOLDED_CASES: usize = 5000;
pub const PUBLISHED_METRIC: &str = "aduan_relay_published_total";

pub struct NatsRelay {
    log: Arc<dyn EventLog>,
    checkpoints: Checkpoints,
    publisher: Publisher,
    options: EnvelopeOptions,
    subject_prefix: String,
    folder: tokio::sync::Mutex<Folder>,
}

impl NatsRelay {
    pub fn new(
        log: Arc<dyn EventLog>,
        publisher: Publisher,
        options: EnvelopeOptions,
        subject_prefix: &str,
    ) -> NatsRelay {
        NatsRelay {
            checkpoints: Checkpoints::for_log(log.as_ref()),
            log,
            publisher,
            options,
            subject_prefix: subject_prefix.to_string(),
            folder: tokio::sync::Mutex::new(Folder::new(FOLDED_CASES)),
        }
    }

    /// Relays until `shutdown`.
    pub async fn run(&self, shutdown: tokio::sync::watch::Receiver<bool>) {
        self.checkpoints.clone().run(self, shutdown).await
    }

    /// Publishes the next batch after the checkpoint; returns how many events.
    async fn step(&self) -> Result<usize, StoreError> {
        let from = self.checkpoints.get(NAME).await?;
        let batch = self.log.read_committed_after(from.cursor, BATCH).await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(0);
        };
        let n = batch.len();
        let folded = self
            .folder
            .lock()
            .await
            .fold(self.log.as_ref(), batch)
            .await?;
        let messages: Vec<(String, Envelope)> = folded
            .iter()
            .map(|e| {
                let opd = e.case.as_ref().and_then(|c| c.opd.as_deref());
                let envelope = Envelope::new(&e.event, opd, &self.options);
                let subject = subject(&self.subject_prefix, &envelope, &e.event.event_type);
                (subject, envelope)
            })
            .collect();
        self.publisher
            .publish(&messages)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        self.checkpoints.advance(NAME, from, last, n as i64).await?;
        metrics::counter!(PUBLISHED_METRIC).increment(n as u64);
        Ok(n)
    }
}

#[async_trait]
impl Follower for NatsRelay {
    fn name(&self) -> &str {
        NAME
    }

    async fn catch_up(&self) -> Result<usize, StoreError> {
        aduan_store::follow::until_empty(|| self.step()).await
    }
}
