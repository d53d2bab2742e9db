//! End-to-end tests: the real `aduan` binary on a fresh PostgreSQL database,
//! driven over HTTP with tokens of different roles.

mod abuse;
mod access;
mod attachments;
mod body_limit;
mod calendar;
mod concurrency;
mod dashboard;
mod durability;
mod errors;
mod fuzz;
mod graphiql;
mod hot_case;
mod idempotency;
mod introspection;
mod keys;
mod lifecycle;
mod lists;
mod metrics;
mod national;
mod node;
mod notes;
mod ops;
mod outage;
mod persisted;
mod privacy;
mod relay;
mod rollups;
mod sla;
mod subscriptions;
mod support;
mod survey;
mod tracking;
mod transfer;
mod webhooks;
