//! The router in-process: the state built on SQLite in a temporary directory,
//! requests sent with tower's `oneshot` (no server process, no port). The
//! end-to-end suite (tests/e2e) covers the same ground through a real server;
//! this one runs in seconds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod access;
mod audit;
mod bulk;
mod contracts;
mod duplicates;
mod erasure;
mod errors;
mod exports;
mod handoffs;
mod hotspots;
mod incidents;
mod keys;
mod lifecycle;
mod queues;
mod replicas;
mod search;
mod shutdown;
mod support;
mod templates;
