//! Webhook endpoints over GraphQL: a SUPERVISOR registers, pauses, resumes
//! (re-drives) and removes them; AUDITOR reads them. The signing secret is in
//! the registration's answer and nowhere else afterwards.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;
use aduan_integration::webhooks::{Endpoint, Registration, Status, WebhookError};
use aduan_integration::Webhooks;

use super::access::guard;
use super::context::reads;
use super::error::{gql_error, invalid_input, store_error};
use super::freshness::LAG_CAP;
use crate::error_code::ClientCode;

/// The most undelivered events one query lists.
const MAX_UNDELIVERED: i32 = 1000;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum WebhookStatus {
    Active,
    /// Retries ran out (or a supervisor paused it): nothing is delivered until
    /// `resumeWebhook`; its events wait, in order.
    Paused,
}

/// Where aduan POSTs events (see docs/integration.md for the envelope and the
/// signature).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct WebhookEndpoint {
    pub id: ID,
    pub url: String,
    /// Event types delivered (`Assigned`, ...); empty: all.
    pub event_types: Vec<String>,
    /// OPDs whose cases are delivered; empty: all.
    pub opds: Vec<String>,
    /// Whether envelopes carry the reporter, the exact address and INTERNAL notes.
    pub personal_data: bool,
    pub description: Option<String>,
    pub status: WebhookStatus,
    /// When the status last changed.
    pub status_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// Failed attempts since the last delivery that succeeded.
    pub failures: i32,
    /// Why the last delivery attempt failed (or the endpoint was paused); null
    /// again once a later delivery succeeds.
    pub last_error: Option<String>,
    /// When `lastError` happened.
    pub last_error_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    endpoint: Endpoint,
}

/// An event waiting for an endpoint.
#[derive(SimpleObject)]
pub struct WebhookMessage {
    /// The `webhook-id` it is delivered under (`<complaint id>:<sequence>`).
    pub id: String,
    pub event_type: String,
    pub complaint_id: ID,
    pub position: i64,
    pub occurred_at: DateTime<Utc>,
}

#[ComplexObject]
impl WebhookEndpoint {
    /// Events in the log after its last delivery (counted up to 100,000),
    /// whether it wants them or not.
    async fn lag_events(&self, ctx: &Context<'_>) -> Result<i64> {
        let (events, _) = reads(ctx)?
            .lag(&self.endpoint.checkpoint_name(), LAG_CAP)
            .await
            .map_err(store_error)?;
        Ok(events)
    }

    /// The first `first` events it wants that wait for delivery, in order
    /// (looking through up to 10,000 events after its last delivery).
    async fn undelivered(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Vec<WebhookMessage>> {
        if !(1..=MAX_UNDELIVERED).contains(&first) {
            return Err(invalid_input("first", "between 1 and 1000"));
        }
        let waiting = registry(ctx)?
            .undelivered(&self.endpoint, first as usize)
            .await
            .map_err(store_error)?;
        Ok(waiting
            .into_iter()
            .map(|u| WebhookMessage {
                id: u.id,
                event_type: u.event_type,
                complaint_id: ID(u.complaint_id),
                position: u.position,
                occurred_at: u.occurred_at,
            })
            .collect())
    }
}

impl From<Endpoint> for WebhookEndpoint {
    fn from(e: Endpoint) -> Self {
        WebhookEndpoint {
            id: ID(e.id.clone()),
            url: e.url.clone(),
            event_types: e.event_types.clone(),
            opds: e.opds.clone(),
            personal_data: e.personal_data,
            description: e.description.clone(),
            status: match e.status {
                Status::Paused => WebhookStatus::Paused,
                Status::Active | Status::Removed => WebhookStatus::Active,
            },
            status_at: e.status_at,
            created_at: e.created_at,
            created_by: e.created_by.clone(),
            failures: e.failures.min(i32::MAX as u32) as i32,
            last_error: e.last_error.clone(),
            last_error_at: e.last_error_at,
            endpoint: e,
        }
    }
}

#[derive(InputObject)]
pub struct RegisterWebhookInput {
    /// http or https; no credentials in it (the signature is the credential).
    pub url: String,
    /// Event types to deliver (`Assigned`, ...); omitted or empty: all.
    #[graphql(default)]
    pub event_types: Vec<String>,
    /// OPDs whose cases to deliver (the OPD after the event); omitted: all.
    #[graphql(default)]
    pub opds: Vec<String>,
    /// Send the reporter, the exact address and INTERNAL notes (default: left out).
    #[graphql(default)]
    pub personal_data: bool,
    pub description: Option<String>,
    /// Deliver the whole log first (default: the events committed from now on).
    #[graphql(default)]
    pub deliver_history: bool,
}

#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    pub id: ID,
    /// Hours the old secret keeps signing beside the new one (0 to 168;
    /// default 24). 0 drops it at once: for a secret that leaked.
    #[graphql(default = 24)]
    pub overlap_hours: i32,
}

/// A new endpoint and its signing secret, which is shown this once.
#[derive(SimpleObject)]
pub struct WebhookRegistration {
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and base64: verify each delivery's `webhook-signature` with it.
    pub secret: String,
}

fn registry<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Webhooks>> {
    ctx.data::<Arc<Webhooks>>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "webhooks are not configured"))
}

fn webhook_error(e: WebhookError) -> async_graphql::Error {
    match e {
        WebhookError::Invalid(i) => invalid_input(i.field, &i.message),
        WebhookError::NotFound(id) => {
            gql_error(ClientCode::NotFound, format!("no webhook endpoint {id}"))
        }
        WebhookError::Store(e) => store_error(e),
    }
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The registered endpoints, oldest first.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        guard(ctx, Operation::Webhooks)?;
        let all = registry(ctx)?.list().await.map_err(store_error)?;
        Ok(all.into_iter().map(Into::into).collect())
    }

    async fn webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        guard(ctx, Operation::Webhooks)?;
        let endpoint = registry(ctx)?.get(&id).await.map_err(webhook_error)?;
        Ok(endpoint.into())
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint; the answer holds its signing secret, once.
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        input: RegisterWebhookInput,
    ) -> Result<WebhookRegistration> {
        let (actor, _) = guard(ctx, Operation::ManageWebhooks)?;
        let registration = Registration {
            url: input.url,
            event_types: input.event_types,
            opds: input.opds,
            personal_data: input.personal_data,
            description: input.description,
        };
        let endpoint = registry(ctx)?
            .register(registration, input.deliver_history, &actor.id)
            .await
            .map_err(webhook_error)?;
        Ok(WebhookRegistration {
            secret: endpoint.secret.clone(),
            endpoint: endpoint.into(),
        })
    }

    /// Stops deliveries; events wait after the last one delivered.
    async fn pause_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        let (actor, _) = guard(ctx, Operation::ManageWebhooks)?;
        let note = format!("paused by {}", actor.id);
        set_status(ctx, &id, Status::Paused, Some(note)).await
    }

    /// Resumes deliveries (re-drives a paused endpoint): its waiting events go
    /// out in order, from the first not delivered.
    async fn resume_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookEndpoint> {
        guard(ctx, Operation::ManageWebhooks)?;
        set_status(ctx, &id, Status::Active, None).await
    }

    /// Removes an endpoint: nothing more is delivered to it.
    async fn remove_webhook(&self, ctx: &Context<'_>, id: ID) -> Result<ID> {
        guard(ctx, Operation::ManageWebhooks)?;
        set_status(ctx, &id, Status::Removed, None).await?;
        Ok(id)
    }

    /// Gives an endpoint a new signing secret, shown this once. During the
    /// overlap each delivery carries two signatures (new, old), so the
    /// receiver can switch to the new secret without missing a delivery.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        input: RotateWebhookSecretInput,
    ) -> Result<WebhookRegistration> {
        guard(ctx, Operation::ManageWebhooks)?;
        let endpoint = registry(ctx)?
            .rotate_secret(&input.id, i64::from(input.overlap_hours))
            .await
            .map_err(webhook_error)?;
        Ok(WebhookRegistration {
            secret: endpoint.secret.clone(),
            endpoint: endpoint.into(),
        })
    }
}

async fn set_status(
    ctx: &Context<'_>,
    id: &str,
    status: Status,
    note: Option<String>,
) -> Result<WebhookEndpoint> {
    let endpoint = registry(ctx)?
        .set_status(id, status, note)
        .await
        .map_err(webhook_error)?;
    Ok(endpoint.into())
}
