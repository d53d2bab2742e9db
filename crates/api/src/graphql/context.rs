use std::sync::Arc;

use async_graphql::Context;

use aduan_projections::Reads;
use aduan_store::CommandBus;

use super::error::gql_error;
use crate::auth::AuthError;
use crate::error_code::ClientCode;
use aduan_domain::Actor;

/// The outcome of checking the request's bearer token.
pub struct RequestAuth(pub Result<Actor, AuthError>);

/// Who a request counts against for rate limits when it carries no token: the
/// client's address.
pub struct ClientKey(pub String);

/// The request's correlation id (from `x-correlation-id` or generated).
pub struct Correlation(pub String);

pub fn bus<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<CommandBus>> {
    ctx.data::<Arc<CommandBus>>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "the command bus is not configured"))
}

/// The read side's queries, on the database the events are in.
pub fn reads<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Reads> {
    ctx.data::<Reads>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "the read side is not configured"))
}

pub fn correlation_id(ctx: &Context<'_>) -> String {
    ctx.data_opt::<Correlation>()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), |c| c.0.clone())
}
