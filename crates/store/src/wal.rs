//! SQLite's WAL checkpoints, off the command path.
//!
//! By default SQLite copies the WAL back into the database file from inside the
//! commit that takes the WAL past 1,000 pages: one command in a few hundred pays
//! for copying everything written since, which grows the p99 of commands with
//! the file (issue 26 point 8: x2.8-5 at a million events). A serving process
//! turns that off (`wal_autocheckpoint = 0` on each connection) and checkpoints
//! here instead, in the background:
//!
//! - Every second a PASSIVE checkpoint copies what no reader still needs; it
//!   never waits for, nor blocks, a writer.
//! - A PASSIVE checkpoint alone never empties the WAL under steady writes: a
//!   writer restarts the WAL from its start only when it finds every frame
//!   copied, and by the time the copy ends new frames are there (a projector
//!   catching up on a million events grew it to 16.5 GB). So once the WAL holds
//!   `TRUNCATE_AT` pages, the checkpointer takes this process's write turn
//!   (`write_turn`), so no writer of ours adds frames, and truncates it: the copy
//!   left is what came since the PASSIVE one. It waits `TRUNCATE_WAIT` at most
//!   for readers on older snapshots to finish (readers that begin once the WAL
//!   is wholly copied read the file and do not hold it up). Without any wait it
//!   never succeeded while projectors caught up (some follower is always
//!   mid-read): the WAL reached 9.5 GB.
//! - With a reader still there, the next truncation waits twice as long as the
//!   last (up to `MAX_BACKOFF`), so a long reader (an export) holds writers for
//!   20 ms now and then, not every second.
//!
//! Command-line tools keep SQLite's default, as nobody would checkpoint for them.

use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use tokio::sync::watch;

use crate::error::StoreError;

/// How often the serving process checkpoints: at a city's busiest (tens of
/// commands a second) a second's WAL is a few hundred pages.
pub const EVERY: Duration = Duration::from_secs(1);

/// The WAL size (in pages, 64 MB of 4 KB pages) past which the checkpointer
/// empties it under the write turn.
pub const TRUNCATE_AT: i64 = 16_384;

/// How long a truncation waits for readers on older snapshots, with this
/// process's writers held (a follower's read of a batch is well within it).
/// At a million events a 100 ms wait made truncations hold the write turn
/// 148 ms at the median (SQLite's busy handler sleeps past the timeout), and
/// they were most of what the slowest 1 % of commands waited behind.
pub const TRUNCATE_WAIT: Duration = Duration::from_millis(20);

/// The longest pause between truncations while readers keep them from
/// succeeding.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one checkpoint did, as SQLite reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpointed {
    /// Whether it stopped short for a reader or writer (TRUNCATE only).
    pub busy: bool,
    /// Pages in the WAL (0 after a truncation).
    pub wal_pages: i64,
    /// Of those, pages now in the database file.
    pub copied_pages: i64,
}

/// One PASSIVE checkpoint.
pub async fn checkpoint(pool: &SqlitePool) -> Result<Checkpointed, StoreError> {
    pragma_checkpoint(
        &mut *pool.acquire().await.map_err(StoreError::from_sqlx)?,
        "PASSIVE",
    )
    .await
}

async fn pragma_checkpoint(
    conn: &mut sqlx::SqliteConnection,
    mode: &str,
) -> Result<Checkpointed, StoreError> {
    let (busy, wal_pages, copied_pages): (i64, i64, i64) =
        sqlx::query_as(&format!("PRAGMA wal_checkpoint({mode})"))
            .fetch_one(conn)
            .await
            .map_err(StoreError::from_sqlx)?;
    Ok(Checkpointed {
        busy: busy != 0,
        wal_pages,
        copied_pages,
    })
}

/// Copies the rest of the WAL and empties it, while this process's writers
/// wait their turn; gives up after `TRUNCATE_WAIT` for a reader.
pub async fn truncate(pool: &SqlitePool) -> Result<Checkpointed, StoreError> {
    let _turn = crate::write_turn::turn(pool, "wal truncation").await?;
    let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
    let waited: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    sqlx::query(&format!(
        "PRAGMA busy_timeout = {}",
        TRUNCATE_WAIT.as_millis()
    ))
    .execute(&mut *conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    let done = pragma_checkpoint(&mut conn, "TRUNCATE").await;
    let restored = sqlx::query(&format!("PRAGMA busy_timeout = {waited}"))
        .execute(&mut *conn)
        .await;
    if let Err(e) = restored {
        // Never hand a connection that does not wait for the lock back to the pool.
        drop(conn.detach());
        return Err(StoreError::from_sqlx(e));
    }
    done
}

/// One round: a PASSIVE checkpoint, and a truncation when the WAL holds
/// `truncate_at` pages (`TRUNCATE_AT` when serving) and `may_truncate`.
pub async fn upkeep(
    pool: &SqlitePool,
    truncate_at: i64,
    may_truncate: bool,
) -> Result<Round, StoreError> {
    let passive = checkpoint(pool).await?;
    if passive.wal_pages < truncate_at || !may_truncate {
        return Ok(Round {
            checkpoint: passive,
            truncation_tried: false,
        });
    }
    Ok(Round {
        checkpoint: truncate(pool).await?,
        truncation_tried: true,
    })
}

/// What `upkeep` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// The last checkpoint's report (the truncation's, when one was tried).
    pub checkpoint: Checkpointed,
    pub truncation_tried: bool,
}

/// When the next truncation may be tried: at once after a success, after a
/// doubling pause after each failure.
#[derive(Debug)]
struct Backoff {
    pause: Duration,
    next: Instant,
}

impl Backoff {
    fn new(now: Instant) -> Backoff {
        Backoff {
            pause: Duration::ZERO,
            next: now,
        }
    }

    fn due(&self, now: Instant) -> bool {
        now >= self.next
    }

    fn after(&mut self, round: Round, now: Instant) {
        if !round.truncation_tried {
            return;
        }
        self.pause = if round.checkpoint.busy {
            (self.pause * 2).clamp(EVERY, MAX_BACKOFF)
        } else {
            Duration::ZERO
        };
        self.next = now + self.pause;
    }
}

/// Checkpoints every `EVERY` until `stopped`, and once more on the way out.
pub async fn run(pool: &SqlitePool, mut stopped: watch::Receiver<bool>) {
    let mut backoff = Backoff::new(Instant::now());
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stopped.changed() => break,
        }
        if *stopped.borrow() {
            break;
        }
        match upkeep(pool, TRUNCATE_AT, backoff.due(Instant::now())).await {
            Ok(round) => backoff.after(round, Instant::now()),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries"),
        }
    }
    if let Err(e) = upkeep(pool, TRUNCATE_AT, true).await {
        tracing::warn!(error = %e, "the last WAL checkpoint failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(tried: bool, busy: bool) -> Round {
        Round {
            checkpoint: Checkpointed {
                busy,
                wal_pages: 0,
                copied_pages: 0,
            },
            truncation_tried: tried,
        }
    }

    #[test]
    fn a_failed_truncation_doubles_the_pause_before_the_next_and_a_success_ends_it() {
        let start = Instant::now();
        let mut backoff = Backoff::new(start);
        assert!(backoff.due(start));
        let mut pauses = Vec::new();
        for _ in 0..7 {
            backoff.after(round(true, true), start);
            pauses.push(backoff.pause.as_secs());
        }
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30]);
        assert!(!backoff.due(start + Duration::from_secs(29)));
        // A round that tried no truncation changes nothing.
        backoff.after(round(false, false), start);
        assert_eq!(backoff.pause, MAX_BACKOFF);
        let later = start + MAX_BACKOFF;
        assert!(backoff.due(later));
        backoff.after(round(true, false), later);
        assert!(backoff.due(later));
        assert_eq!(backoff.pause, Duration::ZERO);
    }
}
