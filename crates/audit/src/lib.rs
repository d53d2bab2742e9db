//! Tamper evidence (issue 14): the per-complaint hash chain, the Merkle tree
//! over the whole log, and its signed checkpoints. Pure arithmetic and formats,
//! kept apart from the domain so the rules of complaints and the cryptography an
//! auditor checks change separately; where hashes are stored and who signs them
//! live in the store and the API.

pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod consistency;
pub mod keyring;
pub mod merkle;
