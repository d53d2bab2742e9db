//! The GraphQL contract: see schema.graphql (generated from this code) and
//! DESIGN.md's API section.

mod access;
mod context;
mod dashboard;
mod depth;
mod error;
mod freshness;
mod inputs;
pub mod limits;
mod list;
mod mutation;
mod node;
mod persisted;
mod query;
mod sla;
mod tracking;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};

use aduan_domain::sla::SlaConfig;
use aduan_domain::tracking::TrackingKey;
use aduan_store::CommandBus;

use crate::rate_limit::SubmitLimiter;

pub use context::{ClientKey, Correlation, RequestAuth};
pub use mutation::{MutationRoot, RATE_LIMITED};

/// Every query, merged from the modules that own them.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::ComplaintQuery,
    list::ListQuery,
    sla::SlaQuery,
    dashboard::DashboardQuery,
    freshness::FreshnessQuery,
    tracking::TrackingQuery,
    node::NodeQuery,
);

pub type AduanSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Expensive queries are refused before they run (deep ones: `depth`).
const MAX_COMPLEXITY: usize = 1000;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(QueryRoot::default(), MutationRoot, EmptySubscription)
        .limit_complexity(MAX_COMPLEXITY)
        .extension(limits::AliasLimit)
        .extension(depth::DepthLimit)
        .extension(persisted::Admission)
        .extension(persisted::cache())
}

pub fn build(
    bus: Arc<CommandBus>,
    sla: SlaConfig,
    limiter: SubmitLimiter,
    tracking: TrackingKey,
) -> AduanSchema {
    let reads = aduan_projections::Reads::new(bus.log().db());
    builder()
        .data(bus)
        .data(reads)
        .data(Arc::new(sla))
        .data(limiter)
        .data(tracking)
        .finish()
}

/// The schema in SDL, as committed in schema.graphql.
pub fn sdl() -> String {
    builder().finish().sdl()
}
