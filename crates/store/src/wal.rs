//! SQLite's WAL checkpoints, off the command path.
//!
//! By default SQLite copies the WAL back into the database file from inside the
//! commit that takes the WAL past 1,000 pages: one command in a few hundred pays
//! for copying everything written since, which grows the p99 of commands with
//! the file (issue 26 point 8: x2.8-5 at a million events). A serving process
//! turns that off (`wal_autocheckpoint = 0` on each connection) and checkpoints
//! here instead, every second, in the background. The checkpoint is PASSIVE: it
//! copies what no reader still needs and never waits for, nor blocks, a writer.
//! Command-line tools keep SQLite's default, as nobody would checkpoint for them.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::watch;

use crate::error::StoreError;

/// How often the serving process checkpoints: at a city's busiest (tens of
/// commands a second) a second's WAL is a few hundred pages.
pub const EVERY: Duration = Duration::from_secs(1);

/// What one checkpoint did, as SQLite reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// Pages in the WAL.
    pub wal_pages: i64,
    /// Of those, pages now in the database file.
    pub copied_pages: i64,
}

/// One PASSIVE checkpoint.
pub async fn checkpoint(pool: &SqlitePool) -> Result<Checkpointed, StoreError> {
    let (_busy, wal_pages, copied_pages): (i64, i64, i64) =
        sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
    Ok(Checkpointed {
        wal_pages,
        copied_pages,
    })
}

/// Checkpoints every `EVERY` until `stopped`, and once more on the way out.
pub async fn run(pool: &SqlitePool, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stopped.changed() => break,
        }
        if *stopped.borrow() {
            break;
        }
        if let Err(e) = checkpoint(pool).await {
            tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
        }
    }
    if let Err(e) = checkpoint(pool).await {
        tracing::warn!(error = %e, "the last WAL checkpoint failed");
    }
}
