//! The GraphQL contract: see schema.graphql (generated from this code) and
//! docs/api.md.

mod access;
pub mod access_table;
mod attachments;
mod audit;
mod bulk;
mod bulk_inputs;
mod bulk_templates;
mod context;
mod dashboard;
mod depth;
mod erasure;
mod error;
pub mod freshness;
mod handoffs;
pub mod hotspots;
mod ikm;
mod incidents;
mod inputs;
mod keys;
pub mod limits;
mod links;
mod list;
pub(crate) mod list_export;
mod mutation;
mod national;
mod nearby;
mod node;
mod notifications;
mod open311;
mod persisted;
mod query;
pub(crate) mod queue;
pub mod replicas;
mod sla;
mod sla_alerts;
mod subscription;
pub(crate) mod template_use;
mod templates;
mod tracking;
mod types;
mod webhooks;
mod whatif;

use std::sync::Arc;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use aduan_domain::sla::SlaConfig;
use aduan_domain::tracking::TrackingKey;
use aduan_store::CommandBus;

use crate::rate_limit::SubmitLimiter;

pub use context::{ClientKey, Correlation, RequestAuth};
pub use subscription::SubscriptionRoot;

/// Every query, merged from the modules that own them.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::ComplaintQuery,
    list::ListQuery,
    sla::SlaQuery,
    dashboard::DashboardQuery,
    hotspots::HotspotsQuery,
    nearby::NearbyQuery,
    freshness::FreshnessQuery,
    tracking::TrackingQuery,
    node::NodeQuery,
    webhooks::WebhookQuery,
    notifications::NotificationQuery,
    national::NationalQuery,
    audit::AuditQuery,
    open311::Open311Query,
    templates::TemplateQuery,
    handoffs::HandoffQuery,
    handoffs::HandoffFiguresQuery,
    whatif::WhatIfQuery,
);

/// Every mutation, merged from the modules that own them.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    mutation::ComplaintMutation,
    bulk::BulkMutation,
    attachments::AttachmentMutation,
    webhooks::WebhookMutation,
    audit::AuditMutation,
    keys::KeyMutation,
    erasure::ErasureMutation,
    open311::Open311Mutation,
    templates::TemplateMutation,
);

pub type AduanSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Expensive queries are refused before they run (deep ones: `depth`).
const MAX_COMPLEXITY: usize = 1000;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .limit_complexity(MAX_COMPLEXITY)
    .extension(limits::AliasLimit)
    .extension(depth::DepthLimit)
    .extension(persisted::Admission)
    .extension(persisted::cache())
}

/// What the subscriptions are fed from: one of each per server process.
pub struct Live {
    pub events: Arc<aduan_projections::LiveFeed>,
    pub alerts: Arc<aduan_projections::sla_alerts::SlaAlertFeed>,
    /// The durable followers whose progress `projections` reports.
    pub followers: Vec<&'static str>,
    pub webhooks: Arc<aduan_integration::Webhooks>,
    pub attachments: Arc<crate::attachments::Attachments>,
    pub audit: Arc<crate::audit::Audit>,
    /// The development token secrets, when tokens are signed with them.
    pub token_ring: crate::keys::TokenRing,
    pub open311_clients: crate::open311::Clients,
    /// The read replicas queries go to, when configured.
    pub replicas: Option<replicas::Replicas>,
}

pub fn build(
    bus: Arc<CommandBus>,
    sla: SlaConfig,
    limiter: SubmitLimiter,
    tracking: TrackingKey,
    live: Live,
) -> AduanSchema {
    let reads = aduan_projections::Reads::new(bus.log().as_ref());
    let mut builder = builder();
    if let Some(replicas) = live.replicas {
        builder = builder.data(replicas);
    }
    builder
        .data(live.events)
        .data(live.alerts)
        .data(live.webhooks)
        .data(live.attachments)
        .data(live.audit)
        .data(live.token_ring)
        .data(live.open311_clients)
        .data(freshness::Followers(live.followers))
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
