//! The incident closer: a process manager following the event log. When a
//! primary case is closed (by staff, or by the watcher), each case linked to
//! it as a duplicate is closed through the incident with the primary's
//! resolution and closing words: a `CloseWithIncident` command on the
//! duplicate's own stream, through the command bus like any other, so the
//! national bridge, Open311, webhooks and the notifier see each duplicate's
//! own closing.
//!
//! Exactly once: the command id is derived from the primary's event
//! (`incident-close:{primary}:{sequence}:{duplicate}`), so a batch redone after
//! a crash is an idempotent replay; a duplicate that is no longer linked (or
//! already closed) refuses the command, which counts as done. Which cases are
//! linked is read from the summary projection once it has applied the
//! primary's closing, never from a projection that is behind it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use aduan_domain::{
    Action, Actor, CloseWithIncident, Code, ComplaintEvent, LongText, Resolution, Role,
};
use aduan_projections::Reads;
use aduan_store::{Checkpoints, CommandBus, Follower, StoreError, StoredEvent};

use crate::system_command::{send_once, Sent};

/// The follower's checkpoint and election name.
pub const NAME: &str = "incident_closer";
/// Duplicates closed through their incident (`/metrics`).
pub const CLOSED_METRIC: &str = "aduan_incident_duplicates_closed_total";
/// Events read per round.
const BATCH: i64 = 256;
/// How long a closing waits for the summary to reach it before the round is
/// given up and tried again from the checkpoint.
const CATCH_UP: Duration = Duration::from_secs(10);

pub struct IncidentCloser {
    bus: Arc<CommandBus>,
    reads: Reads,
    checkpoints: Checkpoints,
}

fn closer() -> Actor {
    Actor::new("incident-closer", Role::System, None)
}

/// The closing a primary's event is, if it is one: its resolution and words.
fn closing(event: &ComplaintEvent) -> Option<(Resolution, &str)> {
    match event {
        ComplaintEvent::Closed {
            resolution,
            summary,
            ..
        } => Some((*resolution, summary)),
        ComplaintEvent::AutoClosed { reason, .. } => Some((Resolution::NotResolved, reason)),
        _ => None,
    }
}

/// The command id of closing `duplicate` through `primary`'s event `sequence`.
pub fn command_id(primary: &str, sequence: i64, duplicate: &str) -> String {
    format!("incident-close:{primary}:{sequence}:{duplicate}")
}

impl IncidentCloser {
    pub fn new(bus: Arc<CommandBus>) -> IncidentCloser {
        IncidentCloser {
            reads: Reads::new(bus.log().as_ref()),
            checkpoints: Checkpoints::for_log(bus.log().as_ref()),
            bus,
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
        let batch = self
            .bus
            .log()
            .read_committed_after(from.cursor, BATCH)
            .await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(0);
        };
        for (cursor, e) in &batch {
            if let Some((resolution, words)) = closing(&e.event) {
                self.close_members(e, cursor.position, resolution, words)
                    .await?;
            }
        }
        let n = batch.len();
        self.checkpoints.advance(NAME, from, last, n as i64).await?;
        Ok(n)
    }

    /// Closes every case linked to the primary whose closing `e` is.
    async fn close_members(
        &self,
        e: &StoredEvent,
        position: i64,
        resolution: Resolution,
        words: &str,
    ) -> Result<(), StoreError> {
        let primary = &e.aggregate_id;
        let Some(members) = self.reads.linked_after(primary, position, CATCH_UP).await? else {
            return Err(behind(position));
        };
        for duplicate in members {
            let id = command_id(primary, e.sequence, &duplicate);
            let action = match (Code::parse(primary), LongText::parse(words)) {
                (Ok(primary_id), Ok(summary)) => Action::CloseWithIncident(CloseWithIncident {
                    primary_id,
                    resolution,
                    summary,
                }),
                _ => {
                    tracing::warn!(%primary, %duplicate, "incident closing not expressible; left open");
                    continue;
                }
            };
            self.send(&duplicate, id, action).await?;
        }
        Ok(())
    }

    /// Sends one closing; a refusal (the case is no longer linked, or already
    /// closed) is the end of it, as is a replay of the same id.
    async fn send(&self, duplicate: &str, id: String, action: Action) -> Result<(), StoreError> {
        let sent = send_once(&self.bus, duplicate, &closer(), action, &id, "incident").await?;
        if sent == Sent::Appended {
            metrics::counter!(CLOSED_METRIC).increment(1);
        }
        Ok(())
    }
}

/// Who follows a primary, for the notifier: the summary's linked cases once it
/// has applied the primary's event.
pub struct Members {
    reads: Reads,
}

impl Members {
    pub fn new(log: &dyn aduan_store::EventLog) -> Members {
        Members {
            reads: Reads::new(log),
        }
    }
}

#[async_trait]
impl aduan_integration::notify::Members for Members {
    async fn linked(&self, primary: &str, position: i64) -> Result<Vec<String>, StoreError> {
        self.reads
            .linked_after(primary, position, CATCH_UP)
            .await?
            .ok_or_else(|| behind(position))
    }
}

fn behind(position: i64) -> StoreError {
    StoreError::Unavailable(format!(
        "the summary has not reached position {position} yet"
    ))
}

#[async_trait]
impl Follower for IncidentCloser {
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
    fn command_ids_name_the_primary_event_and_the_duplicate() {
        assert_eq!(command_id("p", 7, "d"), "incident-close:p:7:d");
    }
}
