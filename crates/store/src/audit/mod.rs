//! Tamper evidence over the stored log (docs/audit.md): sealing rows written
//! before the chain existed, the Merkle tree the checkpointer extends and
//! signs, inclusion proofs for a case, and the verifier that recomputes it all.
//! The arithmetic and formats are the audit crate's (`aduan_audit`); this
//! is where they meet the tables, on either database.

mod consistency;
mod monitor;
mod proof;
mod seal;
mod tree;
mod verify;

pub use consistency::{consistency, Consistency, ConsistencyRefused};
pub use monitor::ConsistencyCheck;
pub use proof::{case_proof, CaseProof, ProvenEvent};
pub use seal::seal_unsealed;
pub use tree::{checkpoint, checkpoints, import_checkpoints, latest_checkpoint, Checkpoint, BLOCK};
pub use verify::{verify, Finding, FindingKind, Report};
