//! The read side on SQLite, where it differs from PostgreSQL (`pg.rs`):
//!
//! - No LISTEN/NOTIFY: projectors poll the log every 200 ms (a primary-key range
//!   read on a local file), well within the second live updates are promised in.
//! - One writer at a time: a batch's rows are computed before taking the write
//!   lock (`BEGIN IMMEDIATE`), which is then held only to write the rows and move
//!   the checkpoint, so commands queue behind a projector for milliseconds.
//!   Every write transaction takes this process's turn first
//!   (`aduan_store::write_turn`): a projector's after the other followers', so
//!   a command waits behind at most one of them.
//! - No election: a second process on the same file is harmless, because the
//!   checkpoint moves by compare-and-set inside the write lock.
//! - Position order is commit order (one writer), so the cursor's `tx_id` is 0.
//! - Reads: a read transaction already is one snapshot; no `percentile_cont`
//!   (the same interpolation is done here); the local day through `strftime`.

use async_trait::async_trait;
use sqlx::{Executor, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use aduan_store::follow::sqlite::{checkpoint_in, move_checkpoint};
use aduan_store::write_turn::{follower_turn, turn};
use aduan_store::{Checkpoint, StoreError};

use crate::backend::Specific;
use crate::dashboard::{self, Percentiles, Scope};
use crate::projector::{Batch, Projector};
use crate::rollup::RollupSpec;
use crate::rows::{self, Cell, TableSpec};

/// The read side on a SQLite pool (made by `backend::for_log`).
#[derive(Debug)]
pub(crate) struct SqliteBackend {
    pub(crate) pool: SqlitePool,
}

crate::shared_backend!(SqliteBackend, Sqlite);

#[async_trait]
impl Specific for SqliteBackend {
    async fn checkpoint(&self, name: &str) -> Result<Checkpoint, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        checkpoint_in(&mut conn, name).await
    }

    async fn step(&self, projector: &Projector) -> Result<usize, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        apply_batch(&self.pool, &mut conn, projector).await
    }

    async fn write_batch(
        &self,
        projector: &Projector,
        from: Checkpoint,
        batch: &Batch,
    ) -> Result<(), StoreError> {
        let _turn = follower_turn(&self.pool, projector.projection().name()).await?;
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        let mut tx = begin_immediate(&mut conn).await?;
        write_batch(&mut tx, projector, from, batch).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn write_rollup_deltas(
        &self,
        name: &str,
        deltas: &[(String, String, String, i64)],
    ) -> Result<(), StoreError> {
        let _turn = follower_turn(&self.pool, "rollup deltas").await?;
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        let mut tx = begin_immediate(&mut conn).await?;
        write_rollup_deltas(&mut tx, name, deltas).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn fold_counters(
        &self,
        name: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        let _turn = follower_turn(&self.pool, "counter fold").await?;
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        let mut tx = begin_immediate(&mut conn).await?;
        let gone = fold_counters(&mut tx, name, now).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(gone)
    }

    async fn rebuild(&self, shadow: &Projector, name: &str) -> Result<(), StoreError> {
        rebuild(&self.pool, shadow, name).await
    }

    fn snapshot(&self) -> Option<&'static str> {
        None
    }

    fn lock_row(&self) -> &'static str {
        // The sweep's first statement, a write, took the database's write lock.
        ""
    }

    async fn follower_turn(
        &self,
        writer: &str,
    ) -> Result<Option<aduan_store::write_turn::WriteTurn>, StoreError> {
        Ok(Some(follower_turn(&self.pool, writer).await?))
    }

    fn local_day(&self) -> (&'static str, &'static str) {
        // SQLite's date functions take the offset as a "+HH:MM" modifier.
        ("strftime('%Y-%m-%d', created_at, ", ")")
    }

    async fn percentiles(&self, scope: &Scope, leg: &str) -> Result<Percentiles, StoreError> {
        // No percentile_cont: the durations come back sorted and the same
        // interpolation is done here (a municipality's year is small).
        let used: Vec<i64> = dashboard::durations_query::<Sqlite>(scope, leg)
            .build_query_scalar()
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(Percentiles {
            p50: dashboard::percentile(&used, 0.5),
            p90: dashboard::percentile(&used, 0.9),
        })
    }

    async fn handoffs(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        opd: Option<&str>,
    ) -> Result<Vec<crate::handoffs::HandoffRow>, StoreError> {
        crate::handoffs::handoffs_query::<Sqlite>(from, to, opd)
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    async fn breaches_by_holder(
        &self,
        scope: &Scope,
    ) -> Result<Vec<crate::handoffs::HolderBreaches>, StoreError> {
        crate::handoffs::breaches_query::<Sqlite>(scope)
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    async fn has_applied(&self, projection: &str, position: i64) -> Result<bool, StoreError> {
        // One writer: position order is commit order.
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM projection_checkpoints \
             WHERE name = ? AND last_position >= ?)",
        )
        .bind(projection)
        .bind(position)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)
    }

    async fn lag(&self, projection: &str, cap: i64) -> Result<(i64, Option<f64>), StoreError> {
        sqlx::query_as(
            "WITH c AS (SELECT coalesce((SELECT last_position FROM projection_checkpoints \
                                          WHERE name = ?1), 0) AS pos) \
             SELECT (SELECT count(*) FROM (SELECT 1 FROM events, c \
                      WHERE position > c.pos AND aggregate_type = 'Complaint' LIMIT ?2)), \
                    (SELECT (julianday('now') - julianday(recorded_at)) * 86400.0 \
                       FROM events, c WHERE position > c.pos AND aggregate_type = 'Complaint' \
                      ORDER BY position LIMIT 1)",
        )
        .bind(projection)
        .bind(cap)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)
    }
}

/// A write transaction: it takes the write lock at once, so it never fails
/// halfway for want of it.
async fn begin_immediate(
    conn: &mut SqliteConnection,
) -> Result<sqlx::Transaction<'_, Sqlite>, StoreError> {
    sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE")
        .await
        .map_err(StoreError::from_sqlx)
}

/// Computes the next batch, then writes its rows and moves the checkpoint in one
/// write transaction on `conn`.
async fn apply_batch(
    pool: &SqlitePool,
    conn: &mut SqliteConnection,
    projector: &Projector,
) -> Result<usize, StoreError> {
    let name = projector.projection().name();
    let checkpoint = checkpoint_in(&mut *conn, name).await?;
    let Some(batch) = projector.next(checkpoint.cursor).await? else {
        return Ok(0);
    };
    let _turn = follower_turn(pool, name).await?;
    let mut tx = begin_immediate(&mut *conn).await?;
    write_batch(&mut tx, projector, checkpoint, &batch).await?;
    tx.commit().await.map_err(StoreError::from_sqlx)?;
    Ok(batch.events as usize)
}

/// Writes a computed batch inside the caller's write transaction.
async fn write_batch(
    tx: &mut SqliteConnection,
    projector: &Projector,
    checkpoint: Checkpoint,
    batch: &Batch,
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
    move_checkpoint(tx, name, checkpoint, batch.last, batch.events).await
}

crate::rollup_writers!(Sqlite, SqliteConnection);

/// The DDL of a shadow of table `name` (without its secondary indexes and
/// triggers), and the statements that recreate those indexes and triggers (a
/// trigger keeps the table's full-text index, `{name}_fts`, in step).
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
        "SELECT sql FROM sqlite_master \
         WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL \
         ORDER BY type, name",
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
async fn rebuild(pool: &SqlitePool, shadow: &Projector, name: &str) -> Result<(), StoreError> {
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
    // The full-text index refers to the live table's rowids, which the swap
    // changes: it is rebuilt from the swapped-in rows.
    let fts: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? || '_fts'",
    )
    .bind(name)
    .fetch_optional(pool)
    .await
    .map_err(sql_err)?;
    let fts_rebuild = fts
        .map(|f| format!("INSERT INTO {f} ({f}) VALUES ('rebuild');"))
        .unwrap_or_default();
    let mut conn = pool.acquire().await.map_err(sql_err)?;
    script(
        &mut conn,
        format!(
            "DROP TABLE IF EXISTS {shadow_name}; {create_shadow}; {rollup_create} \
             DELETE FROM projection_checkpoints WHERE name = '{shadow_name}';"
        ),
    )
    .await?;
    shadow.catch_up_pipelined().await?;

    let _turn = turn(pool, "rebuild swap").await?;
    let mut tx = begin_immediate(&mut conn).await?;
    // Holding the write lock, no event can commit: finish the last batches.
    loop {
        let checkpoint = checkpoint_in(&mut tx, shadow_name).await?;
        match shadow.next(checkpoint.cursor).await? {
            Some(batch) => write_batch(&mut tx, shadow, checkpoint, &batch).await?,
            None => break,
        }
    }
    let swap = format!(
        "DROP TABLE {name}; \
         ALTER TABLE {shadow_name} RENAME TO {name}; \
         {rollup_swap} \
         {indexes} \
         {fts_rebuild} \
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
    );
    script(&mut tx, swap).await?;
    tx.commit().await.map_err(sql_err)
}

/// Runs the statements of `sql` (no binds) on `conn`.
async fn script(conn: &mut SqliteConnection, sql: String) -> Result<(), StoreError> {
    // Through `Executor::execute`: `RawSql::execute`'s signature keeps the
    // compiler from proving the enclosing future `Send`, which a backend's must be.
    conn.execute(sqlx::raw_sql(&sql))
        .await
        .map(drop)
        .map_err(StoreError::from_sqlx)
}
