//! The Merkle tree over the log and its signed checkpoints. Leaf i is the i-th
//! event in position order; the tree grows only over settled positions
//! (`EventLog::settled_position`), so no late commit can ever land inside it.
//! Leaves are written in short transactions whose keys (leaf index, position,
//! tree size) settle any race between two sealers, so any process may run it
//! while one elected process does so on a timer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use aduan_audit::chain::{self, GENESIS};
use aduan_audit::checkpoint::LogSigner;
use aduan_audit::merkle::{Blocks, Hash};

use crate::codec::{read_row, row_content, Row};
use crate::error::StoreError;
use crate::log::{Db, EventLog};

/// Leaves per stored block root (a power of two).
pub const BLOCK: u64 = 1024;

/// Events read per sealing round.
const CHUNK: i64 = 2000;

/// A signed tree head as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub tree_size: i64,
    /// The position of the tree's last leaf.
    pub last_position: i64,
    pub root: Hash,
    pub signed_at: DateTime<Utc>,
    /// The signed note (`aduan_audit::checkpoint`).
    pub note: String,
}

const TIP: &str = "SELECT leaf, position FROM audit_leaves ORDER BY leaf DESC LIMIT 1";

const TO_SEAL: &str = "SELECT aggregate_id, sequence, position, event_type, event_version, \
     payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE position > $1 AND position <= $2 ORDER BY position LIMIT $3";

const BLOCK_ROOTS: &str = "SELECT root FROM audit_blocks WHERE block < $1 ORDER BY block";

const LEAF_RANGE: &str =
    "SELECT leaf, leaf_hash FROM audit_leaves WHERE leaf >= $1 AND leaf < $2 ORDER BY leaf";

const LEAF_POSITION: &str = "SELECT position FROM audit_leaves WHERE leaf = $1";

const INSERT_BLOCK: &str = "INSERT INTO audit_blocks (block, root) VALUES ($1, $2)";

const CHECKPOINTS: &str = "SELECT tree_size, last_position, root, signed_at, note \
     FROM audit_checkpoints ORDER BY tree_size";

const LATEST: &str = "SELECT tree_size, last_position, root, signed_at, note \
     FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1";

const INSERT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints \
     (tree_size, last_position, root, signed_at, note) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (tree_size) DO NOTHING";

/// Raw event rows of a statement whose parameters are all integers.
pub(crate) async fn raw_rows(db: &Db, sql: &str, args: &[i64]) -> Result<Vec<Row>, StoreError> {
    on_db!(db, pool => {
        let mut query = sqlx::query(sql);
        for arg in args {
            query = query.bind(*arg);
        }
        let rows = query.fetch_all(pool).await.map_err(StoreError::from_sqlx)?;
        rows.iter().map(read_row).collect()
    })
}

/// Raw event rows of a statement taking one text parameter.
pub(crate) async fn raw_rows_of(db: &Db, sql: &str, arg: &str) -> Result<Vec<Row>, StoreError> {
    on_db!(db, pool => {
        let rows = sqlx::query(sql)
            .bind(arg)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.iter().map(read_row).collect()
    })
}

/// Seals every settled event into the tree, then signs a checkpoint over it
/// if it grew since the last one. Returns the latest checkpoint (`None` while
/// the log is empty).
pub async fn checkpoint(
    log: &dyn EventLog,
    signer: &LogSigner,
) -> Result<Option<Checkpoint>, StoreError> {
    let settled = log.settled_position().await?;
    let db = log.db();
    while extend(&db, settled).await? {}
    sign(&db, signer).await
}

/// Keeps checkpoints signed on another database (`aduan import`): seals the
/// imported log into the tree, then stores each checkpoint whose size, last
/// position and root the rebuilt tree agrees with. A checkpoint it disagrees
/// with is refused (`Corrupt`), and none after it is stored.
pub async fn import_checkpoints(
    log: &dyn EventLog,
    carried: &[Checkpoint],
) -> Result<(), StoreError> {
    if carried.is_empty() {
        return Ok(());
    }
    let settled = log.settled_position().await?;
    let db = log.db();
    while extend(&db, settled).await? {}
    let (size, _) = tip(&db).await?;
    for c in carried {
        let refused = |why: &str| {
            StoreError::Corrupt(format!(
                "the imported checkpoint of size {}: {why}",
                c.tree_size
            ))
        };
        if c.tree_size < 1 || c.tree_size as u64 > size {
            return Err(refused("the imported log is shorter"));
        }
        if tree_root(&db, c.tree_size as u64).await? != c.root {
            return Err(refused("the imported log's tree has another root"));
        }
        let last: Option<i64> = on_db!(&db, pool => sqlx::query_scalar(LEAF_POSITION)
            .bind(c.tree_size - 1)
            .fetch_optional(pool)
            .await)
        .map_err(StoreError::from_sqlx)?;
        if last != Some(c.last_position) {
            return Err(refused("its last position is not the imported tree's"));
        }
        on_db!(&db, pool => sqlx::query(INSERT_CHECKPOINT)
            .bind(c.tree_size)
            .bind(c.last_position)
            .bind(c.root.to_vec())
            .bind(c.signed_at)
            .bind(&c.note)
            .execute(pool)
            .await
            .map(drop))
        .map_err(StoreError::from_sqlx)?;
    }
    Ok(())
}

/// The tree's size and the position of its last leaf.
pub(crate) async fn tip(db: &Db) -> Result<(u64, i64), StoreError> {
    let row: Option<(i64, i64)> = on_db!(db, pool => sqlx::query_as(TIP)
        .fetch_optional(pool)
        .await)
    .map_err(StoreError::from_sqlx)?;
    Ok(row.map_or((0, 0), |(leaf, position)| (leaf as u64 + 1, position)))
}

/// Seals the next chunk of settled events; false when there was none. An
/// event whose content no longer matches its hash is not sealed: the tree
/// stops before it and the error says where.
async fn extend(db: &Db, settled: i64) -> Result<bool, StoreError> {
    let (size, last_position) = tip(db).await?;
    let rows = raw_rows(db, TO_SEAL, &[last_position, settled, CHUNK]).await?;
    if rows.is_empty() {
        return Ok(false);
    }
    let mut leaves = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let Some(hash) = &row.hash else {
            return Err(StoreError::Corrupt(format!(
                "the event at position {} is not sealed into its chain yet",
                row.position
            )));
        };
        let prev = row.prev_hash.as_deref().unwrap_or(GENESIS);
        if &chain::event_hash(&row_content(row), prev) != hash {
            return Err(StoreError::Corrupt(format!(
                "the event at position {} does not match its hash; the audit tree stops \
                 before it (run `aduan audit verify`)",
                row.position
            )));
        }
        let leaf_hash = chain::leaf(row.position, row.recorded_at, hash);
        leaves.push((size + i as u64, row.position, hash.clone(), leaf_hash));
    }
    match insert_leaves(db, size, &leaves).await {
        // Another sealer took these leaves first: carry on from its tip.
        Err(StoreError::Conflict) => Ok(true),
        other => other.map(|()| true),
    }
}

/// Writes leaves `size..` and the roots of the blocks they complete, in one
/// transaction.
async fn insert_leaves(
    db: &Db,
    size: u64,
    leaves: &[(u64, i64, String, Hash)],
) -> Result<(), StoreError> {
    let end = size + leaves.len() as u64;
    let completed = (size / BLOCK..end / BLOCK).collect::<Vec<_>>();
    on_db!(db, pool => {
        let mut tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
        let mut insert =
            sqlx::QueryBuilder::new("INSERT INTO audit_leaves (leaf, position, hash, leaf_hash) ");
        insert.push_values(leaves, |mut row, (leaf, position, hash, leaf_hash)| {
            row.push_bind(*leaf as i64)
                .push_bind(*position)
                .push_bind(hash.clone())
                .push_bind(leaf_hash.to_vec());
        });
        insert
            .build()
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        for block in completed {
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(LEAF_RANGE)
                .bind((block * BLOCK) as i64)
                .bind(((block + 1) * BLOCK) as i64)
                .fetch_all(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
            let hashes = rows
                .into_iter()
                .map(|(_, h)| to_hash(h))
                .collect::<Result<Vec<_>, _>>()?;
            sqlx::query(INSERT_BLOCK)
                .bind(block as i64)
                .bind(aduan_audit::merkle::root(&hashes).to_vec())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
        }
        tx.commit().await.map_err(StoreError::from_sqlx)
    })
}

/// Signs the tree as it stands, unless the latest checkpoint already covers it.
async fn sign(db: &Db, signer: &LogSigner) -> Result<Option<Checkpoint>, StoreError> {
    let (size, last_position) = tip(db).await?;
    let latest = latest_checkpoint(db).await?;
    if size == 0 || latest.as_ref().is_some_and(|c| c.tree_size as u64 >= size) {
        return Ok(latest);
    }
    let root = tree_root(db, size).await?;
    let signed_at = Utc::now();
    let note = signer.sign(size, root, signed_at);
    on_db!(db, pool => sqlx::query(INSERT_CHECKPOINT)
        .bind(size as i64)
        .bind(last_position)
        .bind(root.to_vec())
        .bind(signed_at)
        .bind(&note)
        .execute(pool)
        .await
        .map(drop))
    .map_err(StoreError::from_sqlx)?;
    latest_checkpoint(db).await
}

/// The stored block roots below `size` and the leaves in `ranges`.
pub(crate) async fn tree_parts(
    db: &Db,
    size: u64,
    ranges: &[(u64, u64)],
) -> Result<(Vec<Hash>, HashMap<u64, Hash>), StoreError> {
    let roots: Vec<Vec<u8>> = on_db!(db, pool => sqlx::query_scalar(BLOCK_ROOTS)
        .bind((size / BLOCK) as i64)
        .fetch_all(pool)
        .await)
    .map_err(StoreError::from_sqlx)?;
    let roots = roots
        .into_iter()
        .map(to_hash)
        .collect::<Result<Vec<_>, _>>()?;
    let mut leaves = HashMap::new();
    for &(lo, hi) in ranges {
        let rows: Vec<(i64, Vec<u8>)> = on_db!(db, pool => sqlx::query_as(LEAF_RANGE)
            .bind(lo as i64)
            .bind(hi.min(size) as i64)
            .fetch_all(pool)
            .await)
        .map_err(StoreError::from_sqlx)?;
        for (leaf, hash) in rows {
            leaves.insert(leaf as u64, to_hash(hash)?);
        }
    }
    Ok((roots, leaves))
}

/// The root of the first `size` leaves, from the block roots and the leaves
/// of the last, partial block.
async fn tree_root(db: &Db, size: u64) -> Result<Hash, StoreError> {
    let tail = size / BLOCK * BLOCK;
    let (roots, leaves) = tree_parts(db, size, &[(tail, size)]).await?;
    Blocks {
        block: BLOCK,
        roots: &roots,
        leaves: &leaves,
    }
    .range_root(0, size)
    .ok_or_else(|| StoreError::Corrupt("the audit tree is missing leaves".into()))
}

/// Every signed checkpoint, oldest first.
pub async fn checkpoints(log: &dyn EventLog) -> Result<Vec<Checkpoint>, StoreError> {
    on_db!(&log.db(), pool => {
        let rows = sqlx::query(CHECKPOINTS)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.iter().map(checkpoint_of).collect()
    })
}

pub async fn latest_checkpoint(db: &Db) -> Result<Option<Checkpoint>, StoreError> {
    on_db!(db, pool => {
        let row = sqlx::query(LATEST)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.as_ref().map(checkpoint_of).transpose()
    })
}

fn checkpoint_of<R>(row: &R) -> Result<Checkpoint, StoreError>
where
    R: sqlx::Row,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let get = || -> Result<Checkpoint, sqlx::Error> {
        Ok(Checkpoint {
            tree_size: row.try_get("tree_size")?,
            last_position: row.try_get("last_position")?,
            root: to_hash(row.try_get("root")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
            signed_at: row.try_get("signed_at")?,
            note: row.try_get("note")?,
        })
    };
    get().map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn to_hash(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt("a stored audit hash is not 32 bytes".into()))
}
