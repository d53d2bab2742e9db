//! The durable projector: reads the event log from a checkpoint and writes a
//! projection's rows and the new checkpoint in one transaction, so after a crash
//! it resumes with nothing lost and nothing applied twice.
//!
//! Wake-ups: LISTEN/NOTIFY (a trigger notifies at commit) for sub-second latency,
//! plus a one-second poll as a safety net for a dropped listener connection and for
//! events held back behind a long-running transaction.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};

use aduan_store::{Cursor, PgEventLog, StoreError, StoredEvent};

/// A read model built from events.
#[async_trait]
pub trait Projection: Send + Sync {
    /// Names the checkpoint and the table the projection owns.
    fn name(&self) -> &str;

    /// The same projection writing to another table (for rebuilds).
    fn renamed(&self, name: &str) -> Self
    where
        Self: Sized;

    /// Applies a batch of events, in log order, inside the projector's transaction.
    async fn apply(&self, tx: &mut PgConnection, batch: &[StoredEvent]) -> Result<(), StoreError>;
}

/// How many rows of `columns` values one multi-row statement may carry: the
/// protocol allows 65,535 bind parameters per statement.
pub fn max_rows(columns: usize) -> usize {
    (u16::MAX as usize / columns).max(1)
}

/// A complaint a batch touched: its history up to its last event in the batch.
pub struct Touched {
    pub history: Vec<StoredEvent>,
    /// How many of the history's events the batch holds (the tail).
    pub in_batch: i64,
}

impl Touched {
    pub fn last(&self) -> Option<&StoredEvent> {
        self.history.last()
    }
}

/// The complaints `batch` touches, with their histories loaded in one query:
/// projections that recompute a complaint's rows from its whole history write each
/// complaint once per batch, however many of its events the batch holds.
pub async fn touched(
    tx: &mut PgConnection,
    batch: &[StoredEvent],
) -> Result<Vec<Touched>, StoreError> {
    let mut up_to: Vec<(String, i64)> = Vec::new();
    let mut counts: std::collections::HashMap<&str, (usize, i64)> = Default::default();
    for event in batch {
        let entry = counts
            .entry(event.aggregate_id.as_str())
            .or_insert_with(|| {
                up_to.push((event.aggregate_id.clone(), event.sequence));
                (up_to.len() - 1, 0)
            });
        up_to[entry.0].1 = up_to[entry.0].1.max(event.sequence);
        entry.1 += 1;
    }
    let histories = aduan_store::postgres::load_histories(tx, &up_to).await?;
    Ok(histories
        .into_iter()
        .map(|(id, history)| Touched {
            in_batch: counts.get(id.as_str()).map_or(0, |c| c.1),
            history,
        })
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub cursor: Cursor,
    pub events_seen: i64,
}

pub struct Projector<P> {
    pool: PgPool,
    log: PgEventLog,
    projection: P,
    batch: i64,
}

/// Only one projector per projection runs at a time across all server processes.
const ELECTION_LOCK_BASE: i64 = 0x6164_7561_6e00_0000;

impl<P: Projection> Projector<P> {
    pub fn new(pool: PgPool, projection: P) -> Self {
        Projector {
            log: PgEventLog::with_pool(pool.clone()),
            pool,
            projection,
            batch: 500,
        }
    }

    pub fn with_batch(mut self, batch: i64) -> Self {
        self.batch = batch.max(1);
        self
    }

    pub async fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        self.checkpoint_in(&mut conn).await
    }

    /// The checkpoint as `conn` sees it (inside a transaction: as that transaction
    /// left it).
    async fn checkpoint_in(&self, conn: &mut PgConnection) -> Result<Checkpoint, StoreError> {
        sqlx::query(
            "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
        )
        .bind(self.projection.name())
        .execute(&mut *conn)
        .await
        .map_err(StoreError::from_sqlx)?;
        let row = sqlx::query(
            "SELECT last_tx_id::text::bigint AS tx, last_position, events_seen \
             FROM projection_checkpoints WHERE name = $1",
        )
        .bind(self.projection.name())
        .fetch_one(&mut *conn)
        .await
        .map_err(StoreError::from_sqlx)?;
        let get = |c: &str| row.try_get::<i64, _>(c).map_err(StoreError::from_sqlx);
        Ok(Checkpoint {
            cursor: Cursor {
                tx_id: get("tx")?,
                position: get("last_position")?,
            },
            events_seen: get("events_seen")?,
        })
    }

    /// Applies the next batch; returns how many events it applied.
    pub async fn step(&self) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        let applied = self.apply_batch(&mut tx).await?;
        if applied > 0 {
            tx.commit().await.map_err(StoreError::from_sqlx)?;
        }
        Ok(applied)
    }

    /// Applies the next batch and moves the checkpoint inside the caller's
    /// transaction: both commit together or not at all.
    pub async fn apply_batch(&self, tx: &mut PgConnection) -> Result<usize, StoreError> {
        let checkpoint = self.checkpoint_in(&mut *tx).await?;
        let batch = self
            .log
            .read_committed_after(checkpoint.cursor, self.batch)
            .await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(0);
        };
        let events: Vec<StoredEvent> = batch.into_iter().map(|(_, e)| e).collect();
        self.projection.apply(&mut *tx, &events).await?;
        let moved = sqlx::query(
            "UPDATE projection_checkpoints \
             SET last_tx_id = $2::text::xid8, last_position = $3, events_seen = events_seen + $4, \
                 updated_at = now() \
             WHERE name = $1 AND last_tx_id = $5::text::xid8 AND last_position = $6",
        )
        .bind(self.projection.name())
        .bind(last.tx_id.to_string())
        .bind(last.position)
        .bind(events.len() as i64)
        .bind(checkpoint.cursor.tx_id.to_string())
        .bind(checkpoint.cursor.position)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        if moved.rows_affected() != 1 {
            // Another projector got there first; the caller's transaction must roll back.
            return Err(StoreError::Conflict);
        }
        Ok(events.len())
    }

    pub fn projection(&self) -> &P {
        &self.projection
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies batches until nothing committed is left; returns the total applied.
    pub async fn catch_up(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            match self.step().await? {
                0 => return Ok(total),
                n => total += n,
            }
        }
    }

    /// Runs until `shutdown` turns true: waits to be elected, then follows the log.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let name = self.projection.name().to_string();
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.lead(&mut shutdown).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(projection = %name, error = %e, "projector paused; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        }
    }

    /// Holds the election lock on a dedicated connection while following the log.
    async fn lead(
        &self,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        // Detached from the pool: when this leader stops, for whatever reason, the
        // connection closes and its session lock goes with it. Returned to the pool,
        // the lock would outlive the leader and block every later election.
        let mut lock_conn = self
            .pool
            .acquire()
            .await
            .map_err(StoreError::from_sqlx)?
            .detach();
        let key = ELECTION_LOCK_BASE + i64::from(crc(self.projection.name()));
        loop {
            let won: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut lock_conn)
                .await
                .map_err(StoreError::from_sqlx)?;
            if won {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
        tracing::info!(projection = self.projection.name(), "projector elected");
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        listener
            .listen("aduan_events")
            .await
            .map_err(StoreError::from_sqlx)?;
        loop {
            self.catch_up().await?;
            tokio::select! {
                notified = listener.recv() => { notified.map_err(StoreError::from_sqlx)?; }
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return Ok(()),
            }
            if *shutdown.borrow() {
                return Ok(());
            }
        }
    }
}

/// A small stable hash of a projection name, for its advisory-lock key.
fn crc(name: &str) -> u32 {
    name.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}
