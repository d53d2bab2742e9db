//! Test support shared by the integration and end-to-end tests: throwaway
//! PostgreSQL databases and SQLite files (`TestStore`, `on_both_stores!`) and the
//! real `aduan` server as a child process, with a GraphQL WebSocket client for it.
//!
//! Tests never skip when PostgreSQL is missing: they fail and say how to start it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a fixture that cannot be made stops the test"
)]

pub mod cluster;
pub mod fixtures;
pub mod haproxy;
pub mod keys;
pub mod pg;
pub mod photos;
pub mod s3;
pub mod server;
pub mod store;
pub mod ws;

pub use cluster::{PgCluster, StopMode};
pub use haproxy::HaProxy;
pub use pg::TestDatabase;
pub use server::{GraphqlClient, TestServer};
pub use store::{Backend, TestStore};
pub use ws::{Reply, WsClient};
