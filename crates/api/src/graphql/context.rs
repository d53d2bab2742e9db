use std::sync::Arc;

use async_graphql::Context;

use aduan_domain::Actor;
use aduan_projections::Reads;
use aduan_store::CommandBus;

use super::error::gql_error;
use crate::auth::AuthError;

/// The outcome of checking the request's bearer token.
pub struct RequestAuth(pub Result<Actor, AuthError>);

/// The request's correlation id (from `x-correlation-id` or generated).
pub struct Correlation(pub String);

/// The signed-in actor, or UNAUTHENTICATED.
pub fn actor(ctx: &Context<'_>) -> async_graphql::Result<Actor> {
    match ctx.data_opt::<RequestAuth>() {
        Some(RequestAuth(Ok(actor))) => Ok(actor.clone()),
        Some(RequestAuth(Err(e))) => Err(gql_error("UNAUTHENTICATED", e.to_string())),
        None => Err(gql_error("UNAUTHENTICATED", "missing bearer token")),
    }
}

pub fn bus<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<CommandBus>> {
    ctx.data::<Arc<CommandBus>>()
        .map_err(|_| gql_error("UNAVAILABLE", "the command bus is not configured"))
}

/// The read side's queries, on the database the events are in.
pub fn reads<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Reads> {
    ctx.data::<Reads>()
        .map_err(|_| gql_error("UNAVAILABLE", "the read side is not configured"))
}

pub fn correlation_id(ctx: &Context<'_>) -> String {
    ctx.data_opt::<Correlation>()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), |c| c.0.clone())
}
