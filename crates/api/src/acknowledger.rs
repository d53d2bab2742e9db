//! The automatic acknowledgement: a follower of the log that answers each
//! verified case with its category's `autoAcknowledge` template
//! (`aduan_domain::templates::acknowledging`), as a PUBLIC note by SYSTEM
//! through the command bus, so the citizen's tracking page, notifications,
//! webhooks and Open311 see it like any note, and the response clock keeps
//! running (a note is not the OPD's answer).
//!
//! Exactly once: the command id is derived from the Verified event
//! (`auto-ack:{case}:{sequence}`), so a batch redone after a crash replays
//! instead of appending again. The text is rendered with what the case says
//! when the follower reaches it (usually moments after the verification).

use std::sync::Arc;

use async_trait::async_trait;

use aduan_domain::sla::SlaConfig;
use aduan_domain::templates::{self, ResponseTemplate};
use aduan_domain::{Action, Actor, ComplaintEvent, Role};
use aduan_store::{codec, Checkpoints, CommandBus, Follower, StoreError, StoredEvent};

use crate::graphql::template_use::running_deadline;
use crate::system_command::{send_once, Sent};

/// The follower's checkpoint and election name.
pub const NAME: &str = "auto_acknowledger";
/// Acknowledgements appended (`/metrics`).
pub const SENT_METRIC: &str = "aduan_auto_acknowledgements_total";
/// Events read per round.
const BATCH: i64 = 256;

pub struct Acknowledger {
    bus: Arc<CommandBus>,
    sla: Arc<SlaConfig>,
    checkpoints: Checkpoints,
}

/// The command id of acknowledging `case`'s verification at `sequence`.
pub fn command_id(case: &str, sequence: i64) -> String {
    format!("auto-ack:{case}:{sequence}")
}

fn system() -> Actor {
    Actor::new("auto-acknowledger", Role::System, None)
}

impl Acknowledger {
    pub fn new(bus: Arc<CommandBus>, sla: Arc<SlaConfig>) -> Acknowledger {
        Acknowledger {
            checkpoints: Checkpoints::for_log(bus.log().as_ref()),
            bus,
            sla,
        }
    }

    /// Follows the log (as the elected process) until `shutdown`.
    pub async fn run(&self, shutdown: tokio::sync::watch::Receiver<bool>) {
        self.checkpoints.clone().run(self, shutdown).await
    }

    /// Handles the next batch of events, then moves the checkpoint; returns
    /// how many events it read.
    async fn step(&self) -> Result<usize, StoreError> {
        let from = self.checkpoints.get(NAME).await?;
        let log = self.bus.log();
        let batch = log.read_committed_after(from.cursor, BATCH).await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(0);
        };
        // Read once a batch holds a verification: a city has tens of templates.
        let mut listed: Option<Vec<ResponseTemplate>> = None;
        for (_, e) in &batch {
            let ComplaintEvent::Verified { category, .. } = &e.event else {
                continue;
            };
            if listed.is_none() {
                listed = Some(aduan_store::templates::list(log.as_ref()).await?);
            }
            let all = listed.as_deref().unwrap_or_default();
            if let Some(template) = templates::acknowledging(all, category) {
                self.acknowledge(e, template).await?;
            }
        }
        let n = batch.len();
        self.checkpoints.advance(NAME, from, last, n as i64).await?;
        Ok(n)
    }

    /// Renders `template` for the case `e` verified and sends it as a note.
    async fn acknowledge(
        &self,
        e: &StoredEvent,
        template: &ResponseTemplate,
    ) -> Result<(), StoreError> {
        let events = self.bus.log().load(&e.aggregate_id).await?;
        let Some(case) = codec::fold(&events).0 else {
            return Ok(());
        };
        let history: Vec<_> = events.into_iter().map(|e| e.event).collect();
        let now = self.bus.services().clock.now();
        let deadline = running_deadline(&self.sla, &history, now);
        let derived = templates::derived(&case, &self.bus.services().reference, deadline);
        let Some(note) = templates::acknowledgement(template, &derived) else {
            tracing::warn!(complaint = %e.aggregate_id, template = %template.id, "acknowledgement not renderable; none sent");
            return Ok(());
        };
        let id = command_id(&e.aggregate_id, e.sequence);
        let action = Action::AddNote(note);
        let sent = send_once(
            &self.bus,
            &e.aggregate_id,
            &system(),
            action,
            &id,
            "auto-ack",
        )
        .await?;
        if sent == Sent::Appended {
            metrics::counter!(SENT_METRIC).increment(1);
        }
        Ok(())
    }
}

#[async_trait]
impl Follower for Acknowledger {
    fn name(&self) -> &str {
        NAME
    }

    async fn catch_up(&self) -> Result<usize, StoreError> {
        aduan_store::follow::until_empty(|| self.step()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_ids_name_the_verification() {
        assert_eq!(command_id("c", 2), "auto-ack:c:2");
    }
}
