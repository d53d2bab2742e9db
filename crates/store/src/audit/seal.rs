//! Sealing the rows written before the chain existed (or imported from an
//! export that predates it): each gets its chain hash, in position order, once.
//! The immutability triggers let an unsealed row be updated for exactly this.

use std::collections::HashMap;

use aduan_audit::chain::{self, GENESIS};

use crate::codec::{row_content, Row};
use crate::error::StoreError;
use crate::log::{Db, EventLog};

use super::tree::raw_rows;

const CHUNK: i64 = 2000;

/// Unsealed rows after a position, in position order (a partial index keeps
/// this a short walk when there are none).
const UNSEALED: &str = "SELECT aggregate_id, sequence, position, event_type, event_version, \
     payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE hash IS NULL AND position > $1 ORDER BY position LIMIT $2";

const HASH_OF: &str = "SELECT hash FROM events \
     WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 AND sequence = $2";

const SEAL: &str =
    "UPDATE events SET hash = $1, prev_hash = $2 WHERE position = $3 AND hash IS NULL";

const SEAL_MANY: &str = "UPDATE events AS e SET hash = u.hash, prev_hash = u.prev \
     FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(hash, prev, position) \
     WHERE e.position = u.position AND e.hash IS NULL";

/// Seals every unsealed row; returns how many. Safe to run from several
/// processes at once: they compute the same hashes, and a row sealed by one
/// is left alone by the others.
pub async fn seal_unsealed(log: &dyn EventLog) -> Result<u64, StoreError> {
    let db = log.db();
    let mut last: HashMap<String, (i64, String)> = HashMap::new();
    let (mut after, mut sealed) = (0i64, 0u64);
    loop {
        let rows = raw_rows(&db, UNSEALED, &[after, CHUNK]).await?;
        let Some(end) = rows.last().map(|r| r.position) else {
            return Ok(sealed);
        };
        let mut updates = Vec::with_capacity(rows.len());
        for row in &rows {
            let prev = predecessor(&db, &last, row).await?;
            let hash = chain::event_hash(&row_content(row), &prev);
            last.insert(row.aggregate_id.clone(), (row.sequence, hash.clone()));
            updates.push((hash, prev, row.position));
        }
        write(&db, &updates).await?;
        sealed += updates.len() as u64;
        after = end;
        tracing::info!(
            sealed,
            up_to = after,
            "sealing events written before the audit chain"
        );
    }
}

/// The hash `row` chains to: its complaint's previous event's.
async fn predecessor(
    db: &Db,
    last: &HashMap<String, (i64, String)>,
    row: &Row,
) -> Result<String, StoreError> {
    if row.sequence <= 1 {
        return Ok(GENESIS.to_string());
    }
    if let Some((sequence, hash)) = last.get(&row.aggregate_id) {
        if *sequence == row.sequence - 1 {
            return Ok(hash.clone());
        }
    }
    let hash: Option<Option<String>> = on_db!(db, pool => sqlx::query_scalar(HASH_OF)
        .bind(&row.aggregate_id)
        .bind(row.sequence - 1)
        .fetch_optional(pool)
        .await)
    .map_err(StoreError::from_sqlx)?;
    // A missing predecessor is left for `aduan audit verify` to report; the
    // row is chained to nothing rather than left unsealed forever.
    Ok(hash.flatten().unwrap_or_else(|| GENESIS.to_string()))
}

async fn write(db: &Db, updates: &[(String, String, i64)]) -> Result<(), StoreError> {
    match db {
        // One statement per chunk: a round trip per row made an upgrade of a
        // year's log take minutes.
        Db::Postgres(pool) => {
            let hashes: Vec<&str> = updates.iter().map(|u| u.0.as_str()).collect();
            let prevs: Vec<&str> = updates.iter().map(|u| u.1.as_str()).collect();
            let positions: Vec<i64> = updates.iter().map(|u| u.2).collect();
            sqlx::query(SEAL_MANY)
                .bind(hashes)
                .bind(prevs)
                .bind(positions)
                .execute(pool)
                .await
                .map_err(StoreError::from_sqlx)?;
            Ok(())
        }
        Db::Sqlite(pool) => {
            let mut tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
            for (hash, prev, position) in updates {
                sqlx::query(SEAL)
                    .bind(hash)
                    .bind(prev)
                    .bind(position)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
            }
            tx.commit().await.map_err(StoreError::from_sqlx)
        }
    }
}
