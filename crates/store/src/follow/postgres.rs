//! Followers on PostgreSQL: checkpoints, the election, and wake-ups.
//!
//! - Reading order is `(tx_id, position)` below the oldest running transaction
//!   (see `crate::postgres::read_committed_after` and docs/architecture.md), so
//!   a checkpoint holds both.
//! - Wake-ups: LISTEN/NOTIFY (a trigger notifies at commit) for sub-second
//!   latency, plus a one-second poll as a safety net for a dropped listener and for
//!   events held back behind a long-running transaction.
//! - Several server processes: one follower per name is elected with a session
//!   advisory lock; the checkpoint's compare-and-set makes a second one harmless
//!   anyway.

use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};

use super::{Checkpoint, Follower};
use crate::error::StoreError;
use crate::log::Cursor;

/// Only one follower per name runs at a time across all server processes.
const ELECTION_LOCK_BASE: i64 = 0x6164_7561_6e00_0000;

/// How long a woken follower waits for more events before it reads them.
const GATHER: Duration = Duration::from_millis(20);

/// The checkpoint as `conn` sees it (inside a transaction: as that transaction
/// left it); makes the row if there is none yet.
pub async fn checkpoint_in(conn: &mut PgConnection, name: &str) -> Result<Checkpoint, StoreError> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    let row = sqlx::query(
        "SELECT last_tx_id::text::bigint AS tx, last_position, events_seen \
         FROM projection_checkpoints WHERE name = $1",
    )
    .bind(name)
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

/// Moves `name`'s checkpoint from `from` to `to` (compare-and-set): `Conflict`
/// when another follower moved it first, and the caller's transaction must roll
/// back.
pub async fn move_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    from: Checkpoint,
    to: Cursor,
    events: i64,
) -> Result<(), StoreError> {
    let moved = sqlx::query(
        "UPDATE projection_checkpoints \
         SET last_tx_id = $2::text::xid8, last_position = $3, events_seen = events_seen + $4, \
             updated_at = now() \
         WHERE name = $1 AND last_tx_id = $5::text::xid8 AND last_position = $6",
    )
    .bind(name)
    .bind(to.tx_id.to_string())
    .bind(to.position)
    .bind(events)
    .bind(from.cursor.tx_id.to_string())
    .bind(from.cursor.position)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Holds the election lock on a dedicated connection while following the log.
pub(super) async fn lead(
    pool: &PgPool,
    follower: &dyn Follower,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let name = follower.name();
    // Detached from the pool: when this leader stops, for whatever reason, the
    // connection closes and its session lock goes with it. Returned to the pool,
    // the lock would outlive the leader and block every later election.
    let mut lock_conn = pool
        .acquire()
        .await
        .map_err(StoreError::from_sqlx)?
        .detach();
    if !elect(&mut lock_conn, name, shutdown).await? {
        return Ok(());
    }
    tracing::info!(follower = name, "elected");
    let mut listener = PgListener::connect_with(pool)
        .await
        .map_err(StoreError::from_sqlx)?;
    listener
        .listen("aduan_events")
        .await
        .map_err(StoreError::from_sqlx)?;
    loop {
        follower.catch_up().await?;
        follower.idle().await;
        tokio::select! {
            notified = listener.recv() => { notified.map_err(StoreError::from_sqlx)?; }
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return Ok(()),
        }
        if *shutdown.borrow() {
            return Ok(());
        }
        // Let the commands of the next few milliseconds join this batch: under
        // load, one batch (and one transaction) per event would cost the read side
        // more than the commands themselves; idle, it only delays by GATHER.
        tokio::time::sleep(GATHER).await;
    }
}

/// Waits until `conn` holds `name`'s election lock (`true`) or shutdown comes
/// (`false`).
async fn elect(
    conn: &mut PgConnection,
    name: &str,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<bool, StoreError> {
    let key = ELECTION_LOCK_BASE + i64::from(crc(name));
    loop {
        let won: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::from_sqlx)?;
        if won {
            return Ok(true);
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => return Ok(false),
        }
    }
}

/// A small stable hash of a follower's name, for its advisory-lock key.
fn crc(name: &str) -> u32 {
    name.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    })
}
