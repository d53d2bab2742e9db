//! Durable followers of the event log: the projectors, and anything else that
//! must see every event once in the log's gap-safe order and remember how far
//! it got (the integration relay). A follower keeps a checkpoint in
//! `projection_checkpoints`; where several server processes share a database,
//! one follower per name runs at a time (the backend's election), and the
//! checkpoint's compare-and-set makes a second one harmless anyway.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use aduan_store::{Cursor, EventLog, StoreError};

use crate::backend::{self, Backend};
use crate::projector::Checkpoint;

#[async_trait]
pub trait Follower: Send + Sync {
    /// Names the checkpoint and the election.
    fn name(&self) -> &str;

    /// Handles everything committed after the checkpoint; returns how many
    /// events it handled.
    async fn catch_up(&self) -> Result<usize, StoreError>;

    /// Runs after each catch-up, while the log is quiet.
    async fn idle(&self) {}
}

/// Follows the log with `follower` until `shutdown`; errors (a lost database)
/// pause it for a second, then it resumes from its checkpoint.
pub(crate) async fn run(
    backend: &dyn Backend,
    follower: &dyn Follower,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        // Shutdown cuts a long catch-up short: whatever a follower does between
        // two checkpoints is redone by the next start.
        let mut stop = shutdown.clone();
        let followed = tokio::select! {
            followed = backend.follow(follower, &mut shutdown) => followed,
            _ = stop.wait_for(|stopping| *stopping) => return,
        };
        match followed {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(follower = follower.name(), error = %e, "follower paused; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

/// The checkpoints and election of followers defined outside this crate.
#[derive(Clone)]
pub struct Checkpoints {
    backend: Arc<dyn Backend>,
}

impl Checkpoints {
    pub fn for_log(log: &dyn EventLog) -> Checkpoints {
        Checkpoints {
            backend: backend::for_log(log),
        }
    }

    /// `name`'s checkpoint (the start of the log before its first move).
    pub async fn get(&self, name: &str) -> Result<Checkpoint, StoreError> {
        self.backend.checkpoint(name).await
    }

    /// Moves `name`'s checkpoint from `from` to `to`, counting `events`;
    /// `Conflict` when another follower moved it first.
    pub async fn advance(
        &self,
        name: &str,
        from: Checkpoint,
        to: Cursor,
        events: i64,
    ) -> Result<(), StoreError> {
        self.backend.advance(name, from, to, events).await
    }

    /// Runs `follower` as the one elected for its name until `shutdown`.
    pub async fn run(&self, follower: &dyn Follower, shutdown: tokio::sync::watch::Receiver<bool>) {
        run(self.backend.as_ref(), follower, shutdown).await
    }
}
