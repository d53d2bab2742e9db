//! Durable followers of the event log: the projectors, and anything else that
//! must see every event once in the log's gap-safe order and remember how far
//! it got (the integration relay, webhooks, the notifier, the national bridge).
//! A follower keeps a checkpoint in `projection_checkpoints`; where several
//! server processes share a database, one follower per name runs at a time (the
//! election, PostgreSQL only), and the checkpoint's compare-and-set makes a
//! second one harmless anyway.
//!
//! What differs between the databases (the checkpoint's SQL, the election, the
//! wake-ups) lives in `postgres.rs` and `sqlite.rs`; `Checkpoints` is the one
//! match on the database kind. The read side's backends run the same checkpoint
//! statements inside their own transactions, so a projection's rows and its
//! checkpoint commit together: hence the connection-level functions there.

mod fold;
pub mod postgres;
pub mod sqlite;
mod state;

use std::time::Duration;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::log::{Cursor, Db, EventLog};

pub use fold::{Folder, LiveEvent};
pub use state::IntegrationState;

/// How far a follower got: the place of the last event it handled, and how many
/// it has handled in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub cursor: Cursor,
    pub events_seen: i64,
}

#[async_trait]
pub trait Follower: Send + Sync {
    /// Names the checkpoint and the election.
    fn name(&self) -> &str;

    /// Handles everything committed after the checkpoint; returns how many
    /// events it handled.
    async fn catch_up(&self) -> Result<usize, StoreError>;

    /// Runs after each catch-up, while the log is quiet.
    async fn idle(&self) {}

    /// Runs when this process stops following as the elected one (its election
    /// or the database was lost, as in a failover): work it started beside its
    /// catch-ups must stop here, or it goes on beside the newly elected
    /// process's. A new election calls `catch_up` again.
    async fn demoted(&self) {}
}

/// Runs `step` (one batch; how many events it handled) until a batch is
/// empty, as a follower's `catch_up` does; how many events it handled in all.
pub async fn until_empty<F, Fut>(mut step: F) -> Result<usize, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, StoreError>>,
{
    let mut total = 0;
    loop {
        match step().await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// The checkpoints and election of followers.
#[derive(Clone)]
pub struct Checkpoints {
    db: Db,
}

impl std::fmt::Debug for Checkpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoints").finish_non_exhaustive()
    }
}

impl Checkpoints {
    pub fn for_log(log: &dyn EventLog) -> Checkpoints {
        Checkpoints { db: log.db() }
    }

    /// `name`'s checkpoint (the start of the log before its first move).
    pub async fn get(&self, name: &str) -> Result<Checkpoint, StoreError> {
        match &self.db {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
                postgres::checkpoint_in(&mut conn, name).await
            }
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
                sqlite::checkpoint_in(&mut conn, name).await
            }
        }
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
        match &self.db {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
                postgres::move_checkpoint(&mut conn, name, from, to, events).await
            }
            Db::Sqlite(pool) => sqlite::advance(pool, name, from, to, events).await,
        }
    }

    /// Runs `follower` as the one elected for its name until `shutdown`; errors
    /// (a lost database) pause it for a second, then it resumes from its
    /// checkpoint.
    pub async fn run(
        &self,
        follower: &dyn Follower,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            // Shutdown cuts a long catch-up short: whatever a follower does
            // between two checkpoints is redone by the next start.
            let mut stop = shutdown.clone();
            let followed = tokio::select! {
                followed = self.follow(follower, &mut shutdown) => followed,
                _ = stop.wait_for(|stopping| *stopping) => return,
            };
            match followed {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(follower = follower.name(), error = %e, "follower paused; retrying");
                    follower.demoted().await;
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        }
    }

    /// Follows the log as it grows until `shutdown` (as the elected leader
    /// where several processes share the database).
    async fn follow(
        &self,
        follower: &dyn Follower,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        match &self.db {
            Db::Postgres(pool) => postgres::lead(pool, follower, shutdown).await,
            Db::Sqlite(_) => sqlite::poll(follower, shutdown).await,
        }
    }
}
