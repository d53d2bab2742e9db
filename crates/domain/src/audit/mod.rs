//! Tamper evidence (issue 14): the Merkle tree over the whole log whose signed
//! heads are the audit checkpoints. Pure arithmetic; where hashes are stored
//! and who signs them live outside the domain.

pub mod merkle;
