//! How readers of the log (live subscriptions) learn that it may have moved.
//! A wake-up says only that: what moved is read from the log by cursor, so a
//! lost or merged wake-up costs latency, never an event.
//!
//! - This process's own appends wake its readers at once (`Commits`), on both
//!   databases: on SQLite, the only writer is this process.
//! - On PostgreSQL, other processes' appends arrive by LISTEN (the events
//!   table's trigger notifies at commit); see `postgres::PgWakeUps`.

use async_trait::async_trait;
use tokio::sync::watch;

use crate::error::StoreError;

/// A source of wake-ups. `next` returns when the log may have moved; an error
/// means the source is lost: the reader asks the log for a new one and reads from
/// its cursor meanwhile, so nothing committed in between is missed.
#[async_trait]
pub trait WakeUps: Send {
    async fn next(&mut self) -> Result<(), StoreError>;
}

/// Counts this process's committed appends; readers watch the count.
#[derive(Debug)]
pub struct Commits(watch::Sender<u64>);

impl Default for Commits {
    fn default() -> Self {
        Commits(watch::channel(0).0)
    }
}

impl Commits {
    /// Called after an append has committed.
    pub fn committed(&self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    pub fn watch(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// Wake-ups from this process's appends only.
pub struct LocalWakeUps(pub watch::Receiver<u64>);

#[async_trait]
impl WakeUps for LocalWakeUps {
    async fn next(&mut self) -> Result<(), StoreError> {
        // The sender lives as long as the log; while it does, this never errs.
        self.0
            .changed()
            .await
            .map_err(|_| StoreError::Other("the event log was dropped".into()))
    }
}
