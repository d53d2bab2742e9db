//! Tamper evidence (issue 14): the per-complaint hash chain, the Merkle tree
//! over the whole log, and its signed checkpoints. Pure arithmetic and formats;
//! where hashes are stored and who signs them live outside the domain.

pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod merkle;
