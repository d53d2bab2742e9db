//! End-to-end tests: the real `aduan` binary on a fresh PostgreSQL database,
//! driven over HTTP with tokens of different roles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod abuse;
mod access;
mod attachments;
mod audit;
mod audit_outsider;
mod auto_ack;
mod backup;
mod body_limit;
mod bulk;
mod calendar;
mod concurrency;
mod dashboard;
mod disclosure;
mod duplicates;
mod durability;
mod erasure;
mod erasure_files;
mod errors;
mod fresh_reads;
mod fuzz;
mod graphiql;
mod ha;
mod handoff_seed;
mod handoffs;
mod hot_case;
mod hotspots;
mod idempotency;
mod incidents;
mod introspection;
mod key_rotation;
mod keys;
mod lifecycle;
mod lists;
mod metrics;
mod national;
mod national_feed;
mod nearby;
mod node;
mod notes;
mod notify;
mod numbers;
mod open311;
mod ops;
mod outage;
mod persisted;
mod pitr;
mod placing;
mod privacy;
mod queues;
mod relay;
mod replicas;
mod roles;
mod rolling;
mod rollups;
mod search;
mod shutdown;
mod sla;
mod subscriptions;
mod support;
mod survey;
mod templates;
mod tracking;
mod transfer;
mod webhook_rotation;
mod webhooks;
mod whatif;
