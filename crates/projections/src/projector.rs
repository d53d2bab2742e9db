//! The durable projector: reads the event log from a checkpoint and writes a
//! projection's rows and the new checkpoint in one transaction, so after a crash
//! it resumes with nothing lost and nothing applied twice.
//!
//! What is the same on both databases lives here (reading the next batch and
//! computing its rows); the transaction, the checkpoint and how a projector learns
//! of new events are in `pg.rs` and `sqlite.rs`.

use std::sync::Arc;

use aduan_store::{Cursor, Db, EventLog, StoreError, StoredEvent};

use crate::rollup::RollupSpec;
use crate::rows::{touched, Cell, TableSpec, Touched};
use crate::{pg, sqlite};

/// A read model built from events: a table whose rows for a complaint follow from
/// the complaint's history alone. Computing them touches no database, so the same
/// projection runs on PostgreSQL and SQLite.
pub trait Projection: Send + Sync {
    /// Names the checkpoint and the table the projection owns.
    fn name(&self) -> &str;

    /// The same projection writing to another table (for rebuilds).
    fn renamed(&self, name: &str) -> Self
    where
        Self: Sized;

    fn spec(&self) -> &'static TableSpec;

    /// The rows for the complaints a batch touched, in `spec().columns` order.
    fn rows(&self, touched: Vec<Touched>) -> Vec<Vec<Cell>>;

    /// The roll-up kept in `{name}_rollup` beside the rows, if any.
    fn rollup(&self) -> Option<&'static RollupSpec> {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub cursor: Cursor,
    pub events_seen: i64,
}

/// The next batch after a checkpoint, with the rows it produces.
pub(crate) struct Batch {
    pub last: Cursor,
    pub events: i64,
    pub rows: Vec<Vec<Cell>>,
}

pub struct Projector<P> {
    log: Arc<dyn EventLog>,
    projection: P,
    batch: i64,
}

impl<P: Projection> Projector<P> {
    pub fn new(log: Arc<dyn EventLog>, projection: P) -> Self {
        Projector {
            log,
            projection,
            batch: 500,
        }
    }

    pub fn with_batch(mut self, batch: i64) -> Self {
        self.batch = batch.max(1);
        self
    }

    pub fn projection(&self) -> &P {
        &self.projection
    }

    pub async fn checkpoint(&self) -> Result<Checkpoint, StoreError> {
        match self.log.db() {
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
                pg::checkpoint_in(&mut conn, self.projection.name()).await
            }
            Db::Sqlite(pool) => {
                let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
                sqlite::checkpoint_in(&mut conn, self.projection.name()).await
            }
        }
    }

    /// Applies the next batch; returns how many events it applied.
    pub async fn step(&self) -> Result<usize, StoreError> {
        match self.log.db() {
            Db::Postgres(pool) => pg::step(&pool, self).await,
            Db::Sqlite(pool) => sqlite::step(&pool, self).await,
        }
    }

    /// The batch after `cursor` and its rows, or `None` when nothing committed
    /// is left.
    pub(crate) async fn next(&self, cursor: Cursor) -> Result<Option<Batch>, StoreError> {
        let batch = self.log.read_committed_after(cursor, self.batch).await?;
        let Some(&(last, _)) = batch.last() else {
            return Ok(None);
        };
        let events: Vec<StoredEvent> = batch.into_iter().map(|(_, e)| e).collect();
        let rows = self
            .projection
            .rows(touched(self.log.as_ref(), &events).await?);
        Ok(Some(Batch {
            last,
            events: events.len() as i64,
            rows,
        }))
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

    /// Runs until `shutdown` turns true, following the log as it grows.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let name = self.projection.name().to_string();
        loop {
            if *shutdown.borrow() {
                return;
            }
            // Shutdown cuts a long catch-up short: a batch is one transaction, so
            // one dropped halfway rolls back and is redone by the next start.
            let mut stop = shutdown.clone();
            let followed = tokio::select! {
                followed = async {
                    match self.log.db() {
                        Db::Postgres(pool) => pg::lead(&pool, self, &mut shutdown).await,
                        Db::Sqlite(_) => sqlite::follow(self, &mut shutdown).await,
                    }
                } => followed,
                _ = stop.wait_for(|stopping| *stopping) => return,
            };
            match followed {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(projection = %name, error = %e, "projector paused; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        }
    }
}
