//! Rebuilding a projection from zero while the server keeps running.
//!
//! The new rows are built in a shadow table by a second projector reading the
//! whole log; readers keep using the old table meanwhile. Then, in one short
//! transaction holding an exclusive lock on the old table, the shadow catches up
//! with the last events, takes the old table's name and its checkpoint, and the old
//! table is dropped. Readers wait for that lock (milliseconds), never see a half
//! built table, and the live projector resumes from the shadow's checkpoint (its
//! own in-flight batch, if any, fails its checkpoint check and is retried).

use sqlx::{Executor, PgPool};

use aduan_store::StoreError;

use crate::projector::{Projection, Projector};

#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    pub name: String,
    pub events: i64,
    pub seconds: f64,
}

fn sql_err(e: sqlx::Error) -> StoreError {
    StoreError::from_sqlx(e)
}

/// Rebuilds `live`'s table from the event log and swaps it in.
pub async fn rebuild<P: Projection>(
    pool: &PgPool,
    live: &P,
    batch: i64,
) -> Result<RebuildReport, StoreError> {
    let started = std::time::Instant::now();
    let name = live.name().to_string();
    if !name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
        return Err(StoreError::Other(format!(
            "not a projection name: {name:?}"
        )));
    }
    let shadow_name = format!("{name}_rebuild");
    let shadow = Projector::new(pool.clone(), live.renamed(&shadow_name)).with_batch(batch);
    // A rebuild that died halfway leaves a shadow behind: start it afresh.
    pool.execute(
        format!(
            "DROP TABLE IF EXISTS {shadow_name}; \
             CREATE TABLE {shadow_name} (LIKE {name} INCLUDING ALL); \
             DELETE FROM projection_checkpoints WHERE name = '{shadow_name}';"
        )
        .as_str(),
    )
    .await
    .map_err(sql_err)?;
    shadow.catch_up().await?;

    let mut tx = pool.begin().await.map_err(sql_err)?;
    tx.execute(format!("LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE").as_str())
        .await
        .map_err(sql_err)?;
    while shadow.apply_batch(&mut tx).await? > 0 {}
    tx.execute(
        format!(
            "ALTER TABLE {name} RENAME TO {name}_old; \
             ALTER TABLE {shadow_name} RENAME TO {name}; \
             DROP TABLE {name}_old; \
             INSERT INTO projection_checkpoints (name) VALUES ('{name}') ON CONFLICT (name) DO NOTHING; \
             UPDATE projection_checkpoints AS live \
                SET last_tx_id = s.last_tx_id, last_position = s.last_position, \
                    events_seen = s.events_seen, updated_at = now() \
               FROM projection_checkpoints AS s \
              WHERE live.name = '{name}' AND s.name = '{shadow_name}'; \
             DELETE FROM projection_checkpoints WHERE name = '{shadow_name}';"
        )
        .as_str(),
    )
    .await
    .map_err(sql_err)?;
    tx.commit().await.map_err(sql_err)?;
    let events = Projector::new(pool.clone(), live.renamed(&name))
        .checkpoint()
        .await?
        .events_seen;
    Ok(RebuildReport {
        name,
        events,
        seconds: started.elapsed().as_secs_f64(),
    })
}
