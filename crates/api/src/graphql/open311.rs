//! Open311 clients over GraphQL: a SUPERVISOR issues a client's API key (shown
//! in that answer only) and revokes it; AUDITOR reads the list (never a key).

use async_graphql::{Context, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;

use super::access::guard;
use super::error::{gql_error, invalid_input, store_error};
use crate::error_code::ClientCode;
use crate::open311::clients::{self, Clients};

/// A system that files and follows cases over Open311 (docs/open311.md).
#[derive(SimpleObject)]
pub struct Open311Client {
    pub id: ID,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// When its key stopped working; null while it works.
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

impl From<clients::Client> for Open311Client {
    fn from(c: clients::Client) -> Self {
        Open311Client {
            id: ID(c.id),
            name: c.name,
            created_at: c.created_at,
            created_by: c.created_by,
            revoked_at: c.revoked_at,
            revoked_by: c.revoked_by,
        }
    }
}

/// A new client and its API key, which is shown this once (aduan keeps only
/// its SHA-256).
#[derive(SimpleObject)]
pub struct Open311KeyIssue {
    pub client: Open311Client,
    /// `o311_` and 43 characters: the `api_key` of its POSTs.
    pub api_key: String,
}

fn registry<'a>(ctx: &Context<'a>) -> Result<&'a Clients> {
    ctx.data::<Clients>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "Open311 is not configured"))
}

#[derive(Default)]
pub struct Open311Query;

#[Object]
impl Open311Query {
    /// Every Open311 client, revoked ones too, oldest first.
    async fn open311_clients(&self, ctx: &Context<'_>) -> Result<Vec<Open311Client>> {
        guard(ctx, Operation::Open311Clients)?;
        let all = registry(ctx)?.list().await.map_err(store_error)?;
        Ok(all.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct Open311Mutation;

#[Object]
impl Open311Mutation {
    /// A key for a new Open311 client named `name` (1 to 100 characters).
    async fn issue_open311_key(&self, ctx: &Context<'_>, name: String) -> Result<Open311KeyIssue> {
        let (actor, _) = guard(ctx, Operation::ManageOpen311Clients)?;
        let trimmed = name.trim();
        if trimmed.is_empty()
            || trimmed.chars().count() > clients::MAX_NAME
            || trimmed.chars().any(char::is_control)
        {
            return Err(invalid_input(
                "name",
                "must be 1 to 100 printable characters",
            ));
        }
        let (client, api_key) = registry(ctx)?
            .issue(trimmed, &actor.id)
            .await
            .map_err(store_error)?;
        Ok(Open311KeyIssue {
            client: client.into(),
            api_key,
        })
    }

    /// Stops a client's key from working, from now on (revoking twice
    /// changes nothing).
    async fn revoke_open311_key(&self, ctx: &Context<'_>, id: ID) -> Result<Open311Client> {
        let (actor, _) = guard(ctx, Operation::ManageOpen311Clients)?;
        let client = registry(ctx)?
            .revoke(&id, &actor.id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| {
                gql_error(ClientCode::NotFound, format!("no Open311 client {}", id.0))
            })?;
        Ok(client.into())
    }
}
