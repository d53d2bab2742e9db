//! The read side on SQLite, where it differs from PostgreSQL (`pg.rs`):
//!
//! - No LISTEN/NOTIFY: projectors poll the log every 200 ms (a primary-key range
//!   read on a local file), well within the second live updates are promised in.
//! - One writer at a time: a batch's rows are computed before taking the write
//!   lock (`BEGIN IMMEDIATE`), which is then held only to write the rows and move
//!   the checkpoint, so commands queue behind a projector for milliseconds.
//! - No election: a second process on the same file is harmless, because the
//!   checkpoint moves by compare-and-set inside the write lock.
//! - Position order is commit order (one writer), so the cursor's `tx_id` is 0.

use std::time::Duration;

use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};

use aduan_store::{Cursor, StoreError};

use crate::projector::{Checkpoint, Projection, Projector};
use crate::rollup::RollupSpec;
use crate::rows::{self, Cell, TableSpec};

const POLL: Duration = Duration::from_millis(200);

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

pub async fn step<P: Projection>(
    pool: &SqlitePool,
    projector: &Projector<P>,
) -> Result<usize, StoreError> {
    let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
    apply_batch(&mut conn, projector).await
}

/// Computes the next batch, then writes its rows and moves the checkpoint in one
/// write transaction on `conn`.
pub async fn apply_batch<P: Projection>(
    conn: &mut SqliteConnection,
    projector: &Projector<P>,
) -> Result<usize, StoreError> {
    let name = projector.projection().name();
    let checkpoint = checkpoint_in(&mut *conn, name).await?;
    let Some(batch) = projector.next(checkpoint.cursor).await? else {
        return Ok(0);
    };
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::from_sqlx)?;
    write_batch(&mut tx, projector, checkpoint, &batch).await?;
    tx.commit().await.map_err(StoreError::from_sqlx)?;
    Ok(batch.events as usize)
}

/// Writes a computed batch and moves the checkpoint (from `checkpoint`) in a
/// write transaction of its own.
pub(crate) async fn write_batch_in_tx<P: Projection>(
    pool: &SqlitePool,
    projector: &Projector<P>,
    checkpoint: Checkpoint,
    batch: &crate::projector::Batch,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(StoreError::from_sqlx)?;
    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::from_sqlx)?;
    write_batch(&mut tx, projector, checkpoint, batch).await?;
    tx.commit().await.map_err(StoreError::from_sqlx)
}

/// Writes a computed batch inside the caller's write transaction.
pub(crate) async fn write_batch<P: Projection>(
    tx: &mut SqliteConnection,
    projector: &Projector<P>,
    checkpoint: Checkpoint,
    batch: &crate::projector::Batch,
) -> Result<(), StoreError> {
    let projection = projector.projection();
    let name = projection.name();
    let spec = projection.spec();
    if let Some(rollup) = projection.rollup() {
        write_rollup(
            &mut *tx,
            spec,
            rollup,
            name,
            &batch.rows,
            &batch.seen_before,
            projector.deferred_rollup(),
        )
        .await?;
    }
    for chunk in batch.rows.chunks(spec.rows_per_statement()) {
        rows::upsert::<Sqlite>(spec, name, chunk)
            .build()
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
    }
    sqlx::query(
        "INSERT INTO projection_checkpoints (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from_sqlx)?;
    let moved = sqlx::query(
        "UPDATE projection_checkpoints \
         SET last_position = ?, events_seen = events_seen + ?, \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         WHERE name = ? AND last_position = ?",
    )
    .bind(batch.last.position)
    .bind(batch.events)
    .bind(name)
    .bind(checkpoint.cursor.position)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from_sqlx)?;
    if moved.rows_affected() != 1 {
        // Another projector got there first; the transaction rolls back.
        return Err(StoreError::Conflict);
    }
    Ok(())
}

crate::rollup_writers!(Sqlite, SqliteConnection);

/// Follows the log by polling until shutdown.
pub async fn follow<P: Projection>(
    projector: &Projector<P>,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), StoreError> {
    loop {
        projector.catch_up().await?;
        projector.sweep_if_due().await;
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => return Ok(()),
        }
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}

/// The DDL of a shadow of table `name` (without its secondary indexes), and the
/// statements that recreate those indexes.
async fn shadow_ddl(
    pool: &SqlitePool,
    name: &str,
    shadow_name: &str,
) -> Result<(String, Vec<String>), StoreError> {
    let sql_err = StoreError::from_sqlx;
    let table_sql: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind(name)
            .fetch_one(pool)
            .await
            .map_err(sql_err)?;
    let index_sql: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(sql_err)?;
    Ok((table_sql.replacen(name, shadow_name, 1), index_sql))
}

/// Builds `shadow`'s table from zero beside the live table `name` (readers keep
/// the live one meanwhile), then swaps it in inside one write transaction. SQLite
/// has no `CREATE TABLE ... (LIKE ...)`: the shadow is created from the live
/// table's own DDL, without its secondary indexes, which are recreated on the
/// swapped-in table under their own names.
pub async fn rebuild<P: Projection>(
    pool: &SqlitePool,
    shadow: &Projector<P>,
    name: &str,
) -> Result<(), StoreError> {
    let sql_err = StoreError::from_sqlx;
    let shadow_name = shadow.projection().name();
    let (create_shadow, index_sql) = shadow_ddl(pool, name, shadow_name).await?;
    // The roll-up table goes the same way: built beside, swapped in, indexes recreated.
    let (rollup_create, rollup_swap, rollup_indexes) = if shadow.projection().rollup().is_some() {
        let (live_rollup, shadow_rollup) = (
            crate::rollup::table(name),
            crate::rollup::table(shadow_name),
        );
        let (create, indexes) = shadow_ddl(pool, &live_rollup, &shadow_rollup).await?;
        (
            format!("DROP TABLE IF EXISTS {shadow_rollup}; {create};"),
            format!(
                "DROP TABLE {live_rollup}; ALTER TABLE {shadow_rollup} RENAME TO {live_rollup};"
            ),
            indexes,
        )
    } else {
        (String::new(), String::new(), Vec::new())
    };
    let mut conn = pool.acquire().await.map_err(sql_err)?;
    sqlx::raw_sql(&format!(
        "DROP TABLE IF EXISTS {shadow_name}; {create_shadow}; {rollup_create} \
         DELETE FROM projection_checkpoints WHERE name = '{shadow_name}';"
    ))
    .execute(&mut *conn)
    .await
    .map_err(sql_err)?;
    shadow.catch_up_pipelined().await?;

    let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
        .await
        .map_err(sql_err)?;
    // Holding the write lock, no event can commit: finish the last batches.
    loop {
        let checkpoint = checkpoint_in(&mut tx, shadow_name).await?;
        match shadow.next(checkpoint.cursor).await? {
            Some(batch) => write_batch(&mut tx, shadow, checkpoint, &batch).await?,
            None => break,
        }
    }
    sqlx::raw_sql(&format!(
        "DROP TABLE {name}; \
         ALTER TABLE {shadow_name} RENAME TO {name}; \
         {rollup_swap} \
         {indexes} \
         INSERT INTO projection_checkpoints (name) VALUES ('{name}') ON CONFLICT (name) DO NOTHING; \
         UPDATE projection_checkpoints \
            SET (last_tx_id, last_position, events_seen, updated_at) = \
                (SELECT last_tx_id, last_position, events_seen, updated_at \
                   FROM projection_checkpoints WHERE name = '{shadow_name}') \
          WHERE name = '{name}'; \
         DELETE FROM projection_checkpoints WHERE name = '{shadow_name}';",
        indexes = index_sql
            .iter()
            .chain(&rollup_indexes)
            .map(|s| format!("{s};"))
            .collect::<String>()
    ))
    .execute(&mut *tx)
    .await
    .map_err(sql_err)?;
    tx.commit().await.map_err(sql_err)
}
