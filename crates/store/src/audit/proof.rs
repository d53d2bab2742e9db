//! A case's events with what proves them: each event's chain hash, its leaf
//! in the tree, and the audit path from that leaf to the latest checkpoint's
//! signed root. Anyone holding the checkpoint's public key can check it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use aduan_audit::merkle::{inclusion_proof_by, Blocks, Hash};

use crate::error::StoreError;
use crate::log::{Db, EventLog};

use super::tree::{latest_checkpoint, raw_rows_of, tree_parts, Checkpoint, BLOCK};

/// One event as stored, with its proof when the checkpoint covers it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenEvent {
    pub position: i64,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// Exactly as stored (personal data as ciphertext).
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    pub hash: Option<String>,
    pub prev_hash: Option<String>,
    /// Its index in the tree; `None` while no checkpoint covers it yet.
    pub leaf_index: Option<u64>,
    /// Sibling hashes from the leaf up to the checkpoint's root.
    pub proof: Vec<Hash>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseProof {
    pub complaint: String,
    pub checkpoint: Option<Checkpoint>,
    pub events: Vec<ProvenEvent>,
}

const HISTORY: &str = "SELECT aggregate_id, sequence, position, event_type, event_version, \
     payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE aggregate_type = 'Complaint' AND aggregate_id = $1 ORDER BY sequence";

const LEAF_OF: &str = "SELECT leaf FROM audit_leaves WHERE position = $1";

/// The complaint's whole history with proofs against the latest checkpoint;
/// `None` when there is no such complaint.
pub async fn case_proof(
    log: &dyn EventLog,
    complaint: &str,
) -> Result<Option<CaseProof>, StoreError> {
    let db = log.db();
    let rows = raw_rows_of(&db, HISTORY, complaint).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let checkpoint = latest_checkpoint(&db).await?;
    let size = checkpoint.as_ref().map_or(0, |c| c.tree_size as u64);
    let mut events = Vec::with_capacity(rows.len());
    let mut indices = Vec::with_capacity(rows.len());
    for row in rows {
        let leaf = leaf_of(&db, row.position).await?.filter(|&l| l < size);
        indices.push(leaf);
        events.push(ProvenEvent {
            position: row.position,
            sequence: row.sequence,
            event_type: row.event_type,
            event_version: row.event_version,
            payload: row.payload,
            metadata: row.metadata,
            recorded_at: row.recorded_at,
            hash: row.hash,
            prev_hash: row.prev_hash,
            leaf_index: leaf,
            proof: Vec::new(),
        });
    }
    if size > 0 {
        // The proved leaves' blocks and the tree's partial last block are all
        // the leaves a path needs; every larger subtree is a stored block root.
        let mut ranges: Vec<(u64, u64)> = indices
            .iter()
            .flatten()
            .map(|l| (l / BLOCK * BLOCK, (l / BLOCK + 1) * BLOCK))
            .collect();
        ranges.push((size / BLOCK * BLOCK, size));
        ranges.sort_unstable();
        ranges.dedup();
        let (roots, leaves) = tree_parts(&db, size, &ranges).await?;
        let blocks = Blocks {
            block: BLOCK,
            roots: &roots,
            leaves: &leaves,
        };
        for event in &mut events {
            let Some(leaf) = event.leaf_index else {
                continue;
            };
            let mut missing = false;
            event.proof = inclusion_proof_by(leaf, size, &mut |lo, hi| {
                blocks.range_root(lo, hi).unwrap_or_else(|| {
                    missing = true;
                    [0; 32]
                })
            });
            if missing {
                return Err(StoreError::Corrupt(
                    "the audit tree is missing leaves or block roots".into(),
                ));
            }
        }
    }
    Ok(Some(CaseProof {
        complaint: complaint.to_string(),
        checkpoint,
        events,
    }))
}

async fn leaf_of(db: &Db, position: i64) -> Result<Option<u64>, StoreError> {
    let leaf: Option<i64> = on_db!(db, pool => sqlx::query_scalar(LEAF_OF)
        .bind(position)
        .fetch_optional(pool)
        .await)
    .map_err(StoreError::from_sqlx)?;
    Ok(leaf.map(|l| l as u64))
}
