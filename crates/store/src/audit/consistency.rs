//! Consistency proofs over the stored tree: that the tree a checkpoint signed
//! at one size is the beginning of the tree at a later size (docs/audit.md).
//! Built from the stored block roots and the few leaves at the two trees'
//! right edges, as inclusion proofs are.

use aduan_audit::consistency::consistency_proof_by;
use aduan_audit::merkle::{Blocks, Hash};

use crate::error::StoreError;
use crate::log::EventLog;

use super::tree::{tip, tree_parts, BLOCK};

/// Two tree heads and the proof that the first is a prefix of the second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consistency {
    pub from_size: u64,
    pub from_root: Hash,
    pub to_size: u64,
    pub to_root: Hash,
    /// RFC 9162 2.1.4 proof nodes, in the RFC's order.
    pub proof: Vec<Hash>,
}

/// Why a consistency proof cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsistencyRefused {
    #[error("the sizes must satisfy 1 <= from <= to")]
    Order,
    #[error("the sealed tree has {sealed} leaves; it cannot prove a size beyond that")]
    BeyondTree { sealed: u64 },
}

/// The proof from the first `from` leaves to the first `to`, with both roots;
/// `Ok(Err(_))` when the sizes are not ones the sealed tree can answer.
pub async fn consistency(
    log: &dyn EventLog,
    from: u64,
    to: u64,
) -> Result<Result<Consistency, ConsistencyRefused>, StoreError> {
    if from == 0 || from > to {
        return Ok(Err(ConsistencyRefused::Order));
    }
    let db = log.db();
    let (sealed, _) = tip(&db).await?;
    if to > sealed {
        return Ok(Err(ConsistencyRefused::BeyondTree { sealed }));
    }
    // The leaves of the blocks around the old tree's end and of the new
    // tree's partial last block; every other range is a stored block root.
    let block_of = |leaf: u64| (leaf / BLOCK * BLOCK, (leaf / BLOCK + 1) * BLOCK);
    let mut ranges = vec![block_of(from - 1), block_of(from), (to / BLOCK * BLOCK, to)];
    ranges.sort_unstable();
    ranges.dedup();
    let (roots, leaves) = tree_parts(&db, to, &ranges).await?;
    let blocks = Blocks {
        block: BLOCK,
        roots: &roots,
        leaves: &leaves,
    };
    let mut missing = false;
    let mut range_root = |lo: u64, hi: u64| {
        blocks.range_root(lo, hi).unwrap_or_else(|| {
            missing = true;
            [0; 32]
        })
    };
    let proof = consistency_proof_by(from, to, &mut range_root);
    let from_root = range_root(0, from);
    let to_root = range_root(0, to);
    if missing {
        return Err(StoreError::Corrupt(
            "the audit tree is missing leaves or block roots".into(),
        ));
    }
    Ok(Ok(Consistency {
        from_size: from,
        from_root,
        to_size: to,
        to_root,
        proof,
    }))
}
