//! The read side on PostgreSQL: projector transactions and checkpoints, leader
//! election, and wake-ups.
//!
//! - Reading order is `(tx_id, position)` below the oldest running transaction
//!   (see `aduan_store::postgres::read_committed_after` and docs/architecture.md).
//! - Wake-ups: LISTEN/NOTIFY (a trigger notifies at commit) for sub-second
//!   latency, plus a one-second poll as a safety net for a dropped listener and for
//!   events held back behind a long-running transaction.
//! - Several server processes: one projector per projection is elected with a
//!   session advisory lock; the checkpoint's compare-and-set makes a second one
//!   harmless anyway.
//! - Reads: several that must agree run at REPEATABLE READ; percentiles with
//!   `percentile_cont`; a local day through an interval offset.

use async_trait::async_trait;
use sqlx::{Executor, PgConnection, PgPool, Postgres, QueryBuilder};

use aduan_store::follow::postgres::{checkpoint_in, move_checkpoint};
use aduan_store::{Checkpoint, StoreError};

use crate::backend::Specific;
use crate::dashboard::{self, Percentiles, Scope};
use crate::projector::{Batch, Projector};
use crate::rollup::RollupSpec;
use crate::rows::{self, Cell, TableSpec};

/// The read side on a PostgreSQL pool (made by `backend::for_log`).
#[derive(Debug)]
pub(crate) struct PgBackend {
    pub(crate) pool: PgPool,
}

crate::shared_backend!(PgBackend, Postgres);

#[async_trait]
impl Specific for PgBackend {
    async fn checkpoint(&self, name: &str) -> Result<Checkpoint, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        checkpoint_in(&mut conn, name).await
    }

    async fn step(&self, projector: &Projector) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        // A projection is derived data whose rows and checkpoint commit together:
        // a crash that loses the last few of these commits loses them whole, and the
        // projector redoes them from the older checkpoint. So they need not wait for
        // the disk, which leaves the WAL flushes to the commands.
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        let applied = apply_batch(&mut tx, projector).await?;
        if applied > 0 {
            tx.commit().await.map_err(StoreError::from_sqlx)?;
        }
        Ok(applied)
    }

    async fn write_batch(
        &self,
        projector: &Projector,
        from: Checkpoint,
        batch: &Batch,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        write_batch(&mut tx, projector, from, batch).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn write_rollup_deltas(
        &self,
        name: &str,
        deltas: &[(String, String, String, i64)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        write_rollup_deltas(&mut tx, name, deltas).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn fold_counters(
        &self,
        name: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        let gone = fold_counters(&mut tx, name, now).await?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(gone)
    }

    async fn rebuild(&self, shadow: &Projector, name: &str) -> Result<(), StoreError> {
        rebuild(&self.pool, shadow, name).await
    }

    fn snapshot(&self) -> Option<&'static str> {
        Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    }

    fn lock_row(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn local_day(&self) -> (&'static str, &'static str) {
        // An interval offset, unlike a POSIX zone name, keeps ISO's sign: +08:00 is east.
        (
            "to_char(created_at AT TIME ZONE CAST(",
            " AS interval), 'YYYY-MM-DD')",
        )
    }

    async fn percentiles(&self, scope: &Scope, leg: &str) -> Result<Percentiles, StoreError> {
        dashboard::percentile_cont_query::<Postgres>(scope, leg)
            .build_query_as()
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    async fn handoffs(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        opd: Option<&str>,
    ) -> Result<Vec<crate::handoffs::HandoffRow>, StoreError> {
        crate::handoffs::handoffs_query::<Postgres>(from, to, opd)
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    async fn breaches_by_holder(
        &self,
        scope: &Scope,
    ) -> Result<Vec<crate::handoffs::HolderBreaches>, StoreError> {
        crate::handoffs::breaches_query::<Postgres>(scope)
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    async fn has_applied(&self, projection: &str, position: i64) -> Result<bool, StoreError> {
        // Positions are not commit order here: compare in reading order.
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events e JOIN projection_checkpoints c ON c.name = $1 \
             WHERE e.position = $2 AND (e.tx_id, e.position) <= (c.last_tx_id, c.last_position))",
        )
        .bind(projection)
        .bind(position)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)
    }

    async fn lag(&self, projection: &str, cap: i64) -> Result<(i64, Option<f64>), StoreError> {
        sqlx::query_as(
            "WITH c AS (SELECT coalesce((SELECT last_tx_id FROM projection_checkpoints \
                                          WHERE name = $1), '0'::xid8) AS tx, \
                               coalesce((SELECT last_position FROM projection_checkpoints \
                                          WHERE name = $1), 0) AS pos) \
             SELECT (SELECT count(*) FROM (SELECT 1 FROM events, c \
                      WHERE (tx_id, position) > (c.tx, c.pos) \
                        AND aggregate_type = 'Complaint' LIMIT $2) s), \
                    (SELECT extract(epoch FROM clock_timestamp() - recorded_at)::float8 \
                       FROM events, c WHERE (tx_id, position) > (c.tx, c.pos) \
                        AND aggregate_type = 'Complaint' ORDER BY tx_id, position LIMIT 1)",
        )
        .bind(projection)
        .bind(cap)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)
    }
}

/// Rows per `unnest` upsert (array parameters have no bind-count limit).
const UNNEST_ROWS: usize = 20_000;

/// Applies the next batch and moves the checkpoint inside the caller's
/// transaction: both commit together or not at all.
async fn apply_batch(tx: &mut PgConnection, projector: &Projector) -> Result<usize, StoreError> {
    let projection = projector.projection();
    let name = projection.name();
    let checkpoint = checkpoint_in(&mut *tx, name).await?;
    let Some(batch) = projector.next(checkpoint.cursor).await? else {
        return Ok(0);
    };
    write_batch(&mut *tx, projector, checkpoint, &batch).await?;
    Ok(batch.events as usize)
}

/// Writes a computed batch's rows (and roll-up) and moves the checkpoint inside
/// the caller's transaction.
async fn write_batch(
    tx: &mut PgConnection,
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
    for chunk in batch.rows.chunks(UNNEST_ROWS) {
        rows::upsert_unnest(spec, name, chunk)
            .build()
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
    }
    move_checkpoint(tx, name, checkpoint, batch.last, batch.events).await
}

crate::rollup_writers!(Postgres, PgConnection);

/// The roll-up's part of a rebuild, when the projection has one: the SQL that
/// creates its shadow, that swaps it in, and that goes before the table in
/// the lock.
struct RollupSql {
    create: String,
    swap: String,
    lock: String,
}

impl RollupSql {
    fn new(has_rollup: bool, name: &str, shadow_name: &str) -> RollupSql {
        if !has_rollup {
            return RollupSql {
                create: String::new(),
                swap: String::new(),
                lock: String::new(),
            };
        }
        let (live, shadow) = (
            crate::rollup::table(name),
            crate::rollup::table(shadow_name),
        );
        RollupSql {
            create: format!(
                "DROP TABLE IF EXISTS {shadow}; \
                 CREATE TABLE {shadow} (LIKE {live} INCLUDING ALL);"
            ),
            swap: format!(
                "ALTER TABLE {live} RENAME TO {live}_old; \
                 ALTER TABLE {shadow} RENAME TO {live}; \
                 DROP TABLE {live}_old;"
            ),
            // First, as the projector's batches write it first: the other
            // order deadlocked against a batch in flight.
            lock: format!("{live}, "),
        }
    }
}

/// The live table's secondary indexes as statements that build them on the
/// shadow, under names of their own, and the statements that give them the
/// live names after the swap.
async fn shadow_indexes(
    pool: &PgPool,
    name: &str,
    shadow_name: &str,
) -> Result<(Vec<String>, String), StoreError> {
    let sql_err = StoreError::from_sqlx;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT i.indexname::text, i.indexdef::text FROM pg_indexes i \
         WHERE i.schemaname = current_schema() AND i.tablename = $1 \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) \
         ORDER BY i.indexname",
    )
    .bind(name)
    .fetch_all(pool)
    .await
    .map_err(sql_err)?;
    let schema: String = sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(pool)
        .await
        .map_err(sql_err)?;
    let shadow_index = |i: usize| format!("{shadow_name}_ix{i}");
    let create_indexes: Vec<String> = indexes
        .iter()
        .enumerate()
        .map(|(i, (index, def))| {
            def.replacen(
                &format!("INDEX {index} ON {schema}.{name} "),
                &format!("INDEX {} ON {schema}.{shadow_name} ", shadow_index(i)),
                1,
            )
        })
        .collect();
    if let Some(bad) = create_indexes.iter().find(|d| !d.contains(shadow_name)) {
        return Err(StoreError::Other(format!("cannot rebuild index: {bad}")));
    }
    let rename_indexes: String = indexes
        .iter()
        .enumerate()
        .map(|(i, (index, _))| format!("ALTER INDEX {} RENAME TO {index};", shadow_index(i)))
        .collect();
    Ok((create_indexes, rename_indexes))
}

/// Builds `shadow`'s table from zero beside the live table `name`, then swaps it
/// in under a short exclusive lock (see `rebuild.rs`).
async fn rebuild(pool: &PgPool, shadow: &Projector, name: &str) -> Result<(), StoreError> {
    let sql_err = StoreError::from_sqlx;
    let shadow_name = shadow.projection().name();
    let rollup = RollupSql::new(shadow.projection().rollup().is_some(), name, shadow_name);
    // The live table's secondary indexes are built on the shadow once it is
    // filled (one sort each, instead of maintaining them row by row), under
    // names of their own until the swap gives them the live ones.
    let (create_indexes, rename_indexes) = shadow_indexes(pool, name, shadow_name).await?;
    let key = shadow.projection().spec().key.join(", ");
    // A rebuild that died halfway leaves a shadow behind: start it afresh.
    pool.execute(
        format!(
            "DROP TABLE IF EXISTS {shadow_name}; \
             CREATE TABLE {shadow_name} (LIKE {name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED); \
             ALTER TABLE {shadow_name} ADD CONSTRAINT {shadow_name}_pk_new PRIMARY KEY ({key}); \
             {rollup_create} \
             DELETE FROM projection_checkpoints WHERE name = '{shadow_name}';",
            rollup_create = rollup.create,
        )
        .as_str(),
    )
    .await
    .map_err(sql_err)?;
    shadow.catch_up_pipelined().await?;
    for create in &create_indexes {
        pool.execute(create.as_str()).await.map_err(sql_err)?;
    }

    let mut tx = pool.begin().await.map_err(sql_err)?;
    tx.execute(
        format!(
            "LOCK TABLE {lock_rollup}{name} IN ACCESS EXCLUSIVE MODE",
            lock_rollup = rollup.lock
        )
        .as_str(),
    )
    .await
    .map_err(sql_err)?;
    while apply_batch(&mut tx, shadow).await? > 0 {}
    tx.execute(
        format!(
            "ALTER TABLE {name} RENAME TO {name}_old; \
             ALTER TABLE {shadow_name} RENAME TO {name}; \
             DROP TABLE {name}_old; \
             {rename_indexes} \
             ALTER TABLE {name} RENAME CONSTRAINT {shadow_name}_pk_new TO {name}_pkey; \
             {rollup_swap} \
             INSERT INTO projection_checkpoints (name) VALUES ('{name}') ON CONFLICT (name) DO NOTHING; \
             UPDATE projection_checkpoints AS live \
                SET last_tx_id = s.last_tx_id, last_position = s.last_position, \
                    events_seen = s.events_seen, updated_at = now() \
               FROM projection_checkpoints AS s \
              WHERE live.name = '{name}' AND s.name = '{shadow_name}'; \
             DELETE FROM projection_checkpoints WHERE name = '{shadow_name}';",
            rollup_swap = rollup.swap,
        )
        .as_str(),
    )
    .await
    .map_err(sql_err)?;
    tx.commit().await.map_err(sql_err)
}
