//! Publishing envelopes to NATS JetStream: stream `ADUAN`, subject
//! `aduan.events.<OPD or UNASSIGNED>.<EventType>`, the envelope's `id` as
//! `Nats-Msg-Id` so the stream drops a re-sent event within its duplicate window.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::envelope::Envelope;

/// The stream and subject prefix unless configured otherwise (a NATS shared by
/// several cities, or tests, set their own).
pub const STREAM: &str = "ADUAN";
pub const SUBJECT_PREFIX: &str = "aduan.events";
/// Re-sends within this are dropped by the stream. A relay re-sends at most the
/// batch it had not seen acknowledged when it stopped, so this only has to
/// outlast a restart; a day covers an outage of the relay's own host too.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("JetStream stream: {0}")]
    Stream(String),
    #[error("publish not acknowledged: {0}")]
    Publish(String),
}

/// The subject of an envelope: by OPD, then event type (`aduan.events.DPU.Assigned`).
pub fn subject(prefix: &str, envelope: &Envelope, event_type: &str) -> String {
    let opd = envelope
        .opd
        .as_deref()
        .map_or("UNASSIGNED".to_string(), token);
    format!("{prefix}.{opd}.{}", token(event_type))
}

/// A subject token: no separators or wildcards, whatever a code holds.
fn token(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '.' | '*' | '>' | ' ' | '\t' | '\r' | '\n' => '_',
            c => c,
        })
        .collect()
}

#[derive(Clone)]
pub struct Publisher {
    js: jetstream::Context,
}

impl Publisher {
    /// Connects and makes sure `stream` exists (created for `prefix.>` with the
    /// duplicate window above; an existing stream is left as its operator set it).
    pub async fn connect(url: &str, stream: &str, prefix: &str) -> Result<Publisher, NatsError> {
        let client = async_nats::ConnectOptions::new()
            .name("aduan relay")
            .connect(url)
            .await
            .map_err(|e| NatsError::Connect {
                url: url.to_string(),
                detail: e.to_string(),
            })?;
        let js = jetstream::new(client);
        js.get_or_create_stream(stream::Config {
            name: stream.to_string(),
            subjects: vec![format!("{prefix}.>")],
            duplicate_window: DUPLICATE_WINDOW,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| NatsError::Stream(e.to_string()))?;
        Ok(Publisher { js })
    }

    /// Publishes the envelopes in order and waits until the stream has
    /// acknowledged every one (a duplicate counts as acknowledged: the stream
    /// has it). The sends are pipelined; the first failure fails the batch.
    pub async fn publish(&self, batch: &[(String, Envelope)]) -> Result<(), NatsError> {
        let mut acks = Vec::with_capacity(batch.len());
        for (subject, envelope) in batch {
            let message = jetstream::message::PublishMessage::build()
                .payload(envelope.to_json().into())
                .message_id(&envelope.id);
            let ack = self
                .js
                .send_publish(subject.clone(), message)
                .await
                .map_err(|e| NatsError::Publish(e.to_string()))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(|e| NatsError::Publish(e.to_string()))?;
        }
        Ok(())
    }
}
