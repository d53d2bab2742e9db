//! Followers on SQLite, where they differ from PostgreSQL (`postgres.rs`):
//!
//! - No LISTEN/NOTIFY: followers poll the log every 200 ms (a primary-key range
//!   read on a local file), well within the second live updates are promised in.
//! - No election: a second process on the same file is harmless, because the
//!   checkpoint moves by compare-and-set inside the write lock.
//! - Position order is commit order (one writer), so the cursor's `tx_id` is 0.

use std::time::Duration;

use sqlx::{Row, SqliteConnection, SqlitePool};

use super::{Checkpoint, Follower};
use crate::error::StoreError;
use crate::log::Cursor;

const POLL: Duration = Duration::from_millis(200);

/// The checkpoint as `conn` sees it; the start of the log before its first move
/// (reading writes nothing here).
pub async fn checkpoint_in(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Checkpoint, StoreError> {
    let row =
        sqlx::query("SELECT last_position, events_seen FROM projection_checkpoints WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::from_sqlx)?;
    let Some(row) = row else {
        return Ok(Checkpoint {
            cursor: Cursor::default(),
            events_seen: 0,
        });
    };
    let get = |c: &str| row.try_get::<i64, _>(c).map_err(StoreError::from_sqlx);
    Ok(Checkpoint {
        cursor: Cursor {
            tx_id: 0,
            position: get("last_position")?,
        },
        events_seen: get("events_seen")?,
    })
}

/// Moves `name`'s checkpoint from `from` to `to` (compare-and-set): `Conflict`
/// when another follower moved it first, and the transaction rolls back.
/// Reading a checkpoint writes nothing here, so the first move makes the row.
pub async fn move_checkpoint(
    conn: &mut SqliteConnection,
    name: &str,
    from: Checkpoint,
    to: Cursor,
    events: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    let moved = sqlx::query(
        "UPDATE projection_checkpoints \
         SET last_position = ?, events_seen = events_seen + ?, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         WHERE name = ? AND last_position = ?",
    )
    .bind(to.position)
    .bind(events)
    .bind(name)
    .bind(from.cursor.position)
    .execute(&mut *conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}

/// Moves a checkpoint on its own, inside the write lock.
pub(super) async fn advance(
    pool: &SqlitePool,
    name: &str,
    from: Checkpoint,
    to: Cursor,
    events: i64,
) -> Result<(), StoreError> {
    let _turn = crate::write_turn::follower_turn(pool, name).await?;
    let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::from_sqlx)?;
    move_checkpoint(&mut tx, name, from, to, events).await?;
    tx.commit().await.map_err(StoreError::from_sqlx)
}

/// Follows the log by polling until shutdown.
pub(super) async fn poll(
    follower: &dyn Follower,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), StoreError> {
    loop {
        follower.catch_up().await?;
        follower.idle().await;
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return Ok(()),
        }
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}
