//! The outbox (`notification_outbox`): one row per (complaint, sequence, kind,
//! channel), made at most once (the unique key; a repeat insert does nothing,
//! so a notifier that redoes a batch after a crash makes no second row), sent
//! by the elected notifier and marked sent, skipped or failed. The same SQL
//! runs on both stores (sqlx binds SQLite's `$N` by number too). What to send
//! and when is the notifier's (`aduan_integration::notify`); this is its table.

use crate::error::StoreError;
use crate::log::{Db, EventLog};

/// A row made for an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow {
    pub complaint_id: String,
    pub sequence: i64,
    pub kind: &'static str,
    pub channel: &'static str,
}

/// A row waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub complaint_id: String,
    pub sequence: i64,
    pub kind: String,
    pub channel: String,
    pub attempts: i32,
}

/// A row as supervisors see it (no address, no text).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub complaint_id: String,
    pub sequence: i64,
    pub kind: String,
    pub channel: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub done_ms: Option<i64>,
}

const INSERT: &str = "INSERT INTO notification_outbox \
     (complaint_id, sequence, kind, channel, next_attempt_ms, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $5) \
     ON CONFLICT (complaint_id, sequence, kind, channel) DO NOTHING";

// A row waits behind an earlier one of its case and channel (being retried),
// so the reporter is told in the order things happened.
const DUE: &str = "SELECT id, complaint_id, sequence, kind, channel, attempts \
     FROM notification_outbox o WHERE status = 'pending' AND next_attempt_ms <= $1 \
     AND NOT EXISTS (SELECT 1 FROM notification_outbox p WHERE p.status = 'pending' \
         AND p.complaint_id = o.complaint_id AND p.channel = o.channel AND p.id < o.id) \
     ORDER BY id LIMIT $2";

const FINISH: &str = "UPDATE notification_outbox \
     SET status = $2, last_error = $3, done_ms = $4, attempts = attempts + $5 \
     WHERE id = $1 AND status = 'pending'";

const RETRY: &str = "UPDATE notification_outbox \
     SET attempts = attempts + 1, last_error = $2, next_attempt_ms = $3 \
     WHERE id = $1 AND status = 'pending'";

// Only what waits or failed: sent rows pile up for good and are not counted.
const COUNTS: &str = "SELECT status, COUNT(*) AS n FROM notification_outbox \
     WHERE status IN ('pending', 'failed') GROUP BY status";

const LIST: &str = "SELECT complaint_id, sequence, kind, channel, status, attempts, last_error, \
     created_ms, done_ms FROM notification_outbox \
     WHERE ($1 = '' OR status = $1) AND ($2 = '' OR complaint_id = $2) \
     ORDER BY id DESC LIMIT $3";

// Pending and failed rows stay whatever their age: they are work not done.
const PRUNE: &str = "DELETE FROM notification_outbox \
     WHERE status IN ('sent', 'skipped') AND done_ms < $1";

fn sql(e: sqlx::Error) -> StoreError {
    StoreError::from_sqlx(e)
}

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Sent,
    /// Nobody to send to.
    Skipped,
    /// After its last attempt, or refused for good.
    Failed,
}

impl Done {
    fn as_str(self) -> &'static str {
        match self {
            Done::Sent => "sent",
            Done::Skipped => "skipped",
            Done::Failed => "failed",
        }
    }
}

/// The notification outbox of the database under a log.
#[derive(Clone)]
pub struct Outbox {
    db: Db,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    pub fn for_log(log: &dyn EventLog) -> Outbox {
        Outbox { db: log.db() }
    }

    /// Makes the rows that do not exist yet, in one transaction.
    pub async fn insert(&self, rows: &[NewRow], now_ms: i64) -> Result<(), StoreError> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin().await.map_err(sql)?;
            for r in rows {
                sqlx::query(INSERT)
                    .bind(&r.complaint_id)
                    .bind(r.sequence)
                    .bind(r.kind)
                    .bind(r.channel)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(sql)?;
            }
            tx.commit().await.map_err(sql)
        })
    }

    /// The rows due now, oldest first, none behind an earlier pending row of
    /// its case and channel.
    pub async fn due(&self, now_ms: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
        on_db!(&self.db, pool => sqlx::query_as(DUE)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(pool)
            .await)
        .map_err(sql)
    }

    /// Marks a row done: `sent`, `skipped` (nobody to send to: `note` says why)
    /// or `failed` (after its last attempt, or refused for good).
    pub async fn finish(
        &self,
        id: i64,
        status: Done,
        note: Option<&str>,
        attempted: bool,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let attempts = i32::from(attempted);
        on_db!(&self.db, pool => sqlx::query(FINISH)
            .bind(id)
            .bind(status.as_str())
            .bind(note)
            .bind(now_ms)
            .bind(attempts)
            .execute(pool)
            .await
            .map(drop))
        .map_err(sql)
    }

    /// Counts a failed attempt; the row is due again at `next_ms`.
    pub async fn retry(&self, id: i64, error: &str, next_ms: i64) -> Result<(), StoreError> {
        on_db!(&self.db, pool => sqlx::query(RETRY)
            .bind(id)
            .bind(error)
            .bind(next_ms)
            .execute(pool)
            .await
            .map(drop))
        .map_err(sql)
    }

    /// Deletes the `sent` and `skipped` rows done before `before_ms`; returns
    /// how many.
    pub async fn prune(&self, before_ms: i64) -> Result<u64, StoreError> {
        on_db!(&self.db, pool => sqlx::query(PRUNE)
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .map_err(sql)
    }

    /// Rows waiting (`pending`) and `failed`.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_db!(&self.db, pool => sqlx::query_as(COUNTS).fetch_all(pool).await).map_err(sql)
    }

    /// The newest `limit` rows, of one status and one complaint when given.
    pub async fn list(
        &self,
        status: Option<&str>,
        complaint_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Entry>, StoreError> {
        on_db!(&self.db, pool => sqlx::query_as(LIST)
            .bind(status.unwrap_or(""))
            .bind(complaint_id.unwrap_or(""))
            .bind(limit)
            .fetch_all(pool)
            .await)
        .map_err(sql)
    }
}
