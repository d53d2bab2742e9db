//! Tamper evidence for auditors (docs/audit.md): the signed checkpoints, and a
//! case's events as stored with the hashes and inclusion proofs that tie
//! each one to the latest checkpoint's signed root.

use std::sync::Arc;

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use aduan_audit::chain;
use aduan_domain::access::Operation;
use aduan_store::audit::{
    self as store_audit, CaseProof, Checkpoint, Consistency, ConsistencyRefused, ProvenEvent,
};

use super::access::guard;
use super::context::bus;
use super::error::{gql_error, invalid_input, store_error};
use crate::audit::Audit;
use crate::error_code::ClientCode;

const MAX_FIRST: i32 = 1000;

/// A signed tree head over the first `treeSize` events of the log.
#[derive(SimpleObject)]
pub struct AuditCheckpoint {
    pub tree_size: i64,
    /// The position of the last event it covers.
    pub last_position: i64,
    /// Hex SHA-256 Merkle root (RFC 6962).
    pub root_hash: String,
    pub signed_at: DateTime<Utc>,
    /// The signed note (C2SP tlog-checkpoint): publish it, verify it with the
    /// key at /.well-known/aduan-audit-key.
    pub note: String,
}

impl From<Checkpoint> for AuditCheckpoint {
    fn from(c: Checkpoint) -> Self {
        AuditCheckpoint {
            tree_size: c.tree_size,
            last_position: c.last_position,
            root_hash: hex::encode(c.root),
            signed_at: c.signed_at,
            note: c.note,
        }
    }
}

/// One stored event with what proves it.
#[derive(SimpleObject)]
pub struct AuditedEvent {
    pub position: i64,
    pub sequence: i64,
    #[graphql(name = "type")]
    pub event_type: String,
    pub event_version: String,
    /// Exactly as stored, which is what the hash covers (personal data as
    /// ciphertext).
    pub payload: async_graphql::Json<serde_json::Value>,
    pub metadata: async_graphql::Json<serde_json::Value>,
    /// When the database recorded it, exactly as the leaf hashes it: RFC 3339
    /// UTC with six fractional digits and `Z` (`2026-11-30T02:15:00.590000Z`).
    pub recorded_at: String,
    /// Hex SHA-256 chain hash; null only for an event not sealed yet.
    pub hash: Option<String>,
    /// The complaint's previous event's hash ("" for its first).
    pub prev_hash: Option<String>,
    /// Its leaf in the checkpoint's tree; null while no checkpoint covers it.
    pub leaf_index: Option<i64>,
    /// Hex SHA-256(0x00 || canonical {hash, position, recordedAt}).
    pub leaf_hash: Option<String>,
    /// Hex sibling hashes from the leaf up to the checkpoint's root.
    pub inclusion_proof: Vec<String>,
}

impl From<ProvenEvent> for AuditedEvent {
    fn from(e: ProvenEvent) -> Self {
        let leaf_hash = e
            .hash
            .as_deref()
            .map(|h| hex::encode(chain::leaf(e.position, e.recorded_at, h)));
        AuditedEvent {
            position: e.position,
            sequence: e.sequence,
            event_type: e.event_type,
            event_version: e.event_version,
            payload: async_graphql::Json(e.payload),
            metadata: async_graphql::Json(e.metadata),
            recorded_at: chain::timestamp(e.recorded_at),
            hash: e.hash,
            prev_hash: e.prev_hash,
            leaf_index: e.leaf_index.map(|l| l as i64),
            leaf_hash,
            inclusion_proof: e.proof.iter().map(hex::encode).collect(),
        }
    }
}

/// A case's whole history, provable against a signed checkpoint.
#[derive(SimpleObject)]
pub struct AuditProof {
    pub complaint_id: ID,
    /// The latest checkpoint, which the proofs lead to (null before the first).
    pub checkpoint: Option<AuditCheckpoint>,
    /// The key that signed the checkpoint (`name+id+base64`, a C2SP verifier
    /// key; one of those /.well-known/aduan-audit-key lists).
    pub verifier_key: String,
    pub events: Vec<AuditedEvent>,
}

/// That the tree of `fromSize` leaves is the beginning of the tree of
/// `toSize` (RFC 9162 section 2.1.4), so a checkpoint kept from before still
/// holds for the log as it is now.
#[derive(SimpleObject)]
pub struct AuditConsistency {
    pub from_size: i64,
    /// Hex SHA-256 root of the first `fromSize` leaves.
    pub from_root: String,
    pub to_size: i64,
    pub to_root: String,
    /// Hex hashes, in RFC 9162's order (empty when the sizes are equal).
    pub proof: Vec<String>,
    /// The signed checkpoint at `toSize`, when one was signed at that size.
    pub to_checkpoint: Option<AuditCheckpoint>,
}

fn audit<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Audit>> {
    ctx.data::<Arc<Audit>>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "the audit trail is not configured"))
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Signed checkpoints, newest first.
    async fn audit_checkpoints(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> Result<Vec<AuditCheckpoint>> {
        guard(ctx, Operation::AuditProofs)?;
        if !(1..=MAX_FIRST).contains(&first) {
            return Err(invalid_input("first", "must be between 1 and 1000"));
        }
        let all = store_audit::checkpoints(bus(ctx)?.log().as_ref())
            .await
            .map_err(store_error)?;
        Ok(all
            .into_iter()
            .rev()
            .take(first as usize)
            .map(Into::into)
            .collect())
    }

    /// The consistency proof from the tree of `from` leaves to the tree of `to`
    /// (default: the latest checkpoint's size). 1 <= from <= to <= the sealed
    /// tree's size.
    async fn audit_consistency(
        &self,
        ctx: &Context<'_>,
        from: i64,
        to: Option<i64>,
    ) -> Result<AuditConsistency> {
        guard(ctx, Operation::AuditConsistency)?;
        let log = bus(ctx)?.log();
        let all = store_audit::checkpoints(log.as_ref())
            .await
            .map_err(store_error)?;
        let to = match to {
            Some(to) => to,
            None => all.last().map_or(0, |c| c.tree_size),
        };
        if from < 1 || to < from {
            return Err(invalid_input("from", "must satisfy 1 <= from <= to"));
        }
        let proof = store_audit::consistency(log.as_ref(), from as u64, to as u64)
            .await
            .map_err(store_error)?;
        let proof = match proof {
            Ok(p) => p,
            Err(e @ ConsistencyRefused::BeyondTree { .. }) => {
                return Err(invalid_input("to", &e.to_string()))
            }
            Err(e) => return Err(invalid_input("from", &e.to_string())),
        };
        let to_checkpoint = all.into_iter().find(|c| c.tree_size == to).map(Into::into);
        Ok(consistency_of(proof, to_checkpoint))
    }

    /// A case's events as stored, each with its hash and its inclusion proof
    /// against the latest checkpoint; null for an unknown case.
    async fn audit_proof(&self, ctx: &Context<'_>, complaint_id: ID) -> Result<Option<AuditProof>> {
        guard(ctx, Operation::AuditProofs)?;
        let audit = audit(ctx)?;
        let proof = store_audit::case_proof(bus(ctx)?.log().as_ref(), &complaint_id)
            .await
            .map_err(store_error)?;
        // The key that signed the proof's checkpoint (after a rotation, the
        // old one's checkpoint may still be the latest).
        let signed_by = match proof.as_ref().and_then(|p| p.checkpoint.as_ref()) {
            Some(c) => audit.signed_by(&c.note).await,
            None => None,
        };
        let verifier_key = match signed_by {
            Some(v) => v.encode(),
            None => audit
                .signer()
                .await
                .map_err(store_error)?
                .verifier()
                .encode(),
        };
        Ok(proof.map(
            |CaseProof {
                 complaint,
                 checkpoint,
                 events,
             }| AuditProof {
                complaint_id: ID(complaint),
                checkpoint: checkpoint.map(Into::into),
                verifier_key,
                events: events.into_iter().map(Into::into).collect(),
            },
        ))
    }
}

fn consistency_of(c: Consistency, to_checkpoint: Option<AuditCheckpoint>) -> AuditConsistency {
    AuditConsistency {
        from_size: c.from_size as i64,
        from_root: hex::encode(c.from_root),
        to_size: c.to_size as i64,
        to_root: hex::encode(c.to_root),
        proof: c.proof.iter().map(hex::encode).collect(),
        to_checkpoint,
    }
}

#[derive(Default)]
pub struct AuditMutation;

#[Object]
impl AuditMutation {
    /// Seals the log's settled events into the tree and signs a checkpoint
    /// now, if any arrived since the last; returns the latest checkpoint.
    async fn sign_audit_checkpoint(&self, ctx: &Context<'_>) -> Result<Option<AuditCheckpoint>> {
        guard(ctx, Operation::SignAuditCheckpoint)?;
        let checkpoint = audit(ctx)?.checkpoint().await.map_err(store_error)?;
        Ok(checkpoint.map(Into::into))
    }
}
