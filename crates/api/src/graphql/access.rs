//! Where resolvers meet the access policy (`aduan_domain::access`): every query
//! and mutation asks `guard` first, and single-case reads ask `check_case`. No
//! resolver decides on roles by itself.

use async_graphql::{Context, Error};

use aduan_domain::access::{self, Access, Operation, Scope};
use aduan_domain::{Actor, Case, Role};

use super::access_table;
use super::context::RequestAuth;
use super::error::gql_error;
use crate::error_code::ClientCode;

/// The caller: the token's actor, or the public when no token was sent. A token
/// that was sent but does not verify is refused, never read as "no token".
pub fn caller(ctx: &Context<'_>) -> async_graphql::Result<Actor> {
    caller_of(ctx.data_opt::<RequestAuth>())
}

/// `caller` from the request's authentication itself (reads outside the
/// GraphQL engine, such as the spreadsheet exports).
pub fn caller_of(auth: Option<&RequestAuth>) -> async_graphql::Result<Actor> {
    match auth {
        Some(RequestAuth(Ok(actor))) => Ok(actor.clone()),
        Some(RequestAuth(Err(crate::auth::AuthError::Missing))) | None => Ok(Actor::public()),
        Some(RequestAuth(Err(e))) => Err(gql_error(ClientCode::Unauthenticated, e.to_string())),
    }
}

/// The caller and the scope they may do `op` in; refused when the table says so
/// for their role.
pub fn guard(ctx: &Context<'_>, op: Operation) -> async_graphql::Result<(Actor, Scope)> {
    guard_auth(ctx.data_opt::<RequestAuth>(), op)
}

/// `guard` from the request's authentication itself.
pub fn guard_auth(
    auth: Option<&RequestAuth>,
    op: Operation,
) -> async_graphql::Result<(Actor, Scope)> {
    let actor = caller_of(auth)?;
    if access::access(actor.role, op) == Access::Refused {
        return Err(refusal(&actor, op));
    }
    let scope = access::scope(&actor, op);
    Ok((actor, scope))
}

/// Refuses `op` on `case` unless the policy allows it to `actor`.
pub fn check_case(
    actor: &Actor,
    op: Operation,
    case: &Case,
    tracking_code: Option<&str>,
) -> async_graphql::Result<()> {
    if access::permits(actor, op, case, tracking_code) {
        Ok(())
    } else {
        Err(refusal(actor, op))
    }
}

/// UNAUTHENTICATED for the public (a token would help), FORBIDDEN for others.
pub fn refusal(actor: &Actor, op: Operation) -> Error {
    if actor.role == Role::Public {
        return gql_error(
            ClientCode::Unauthenticated,
            format!("{} needs a bearer token", access_table::name(op)),
        );
    }
    let whose = match access::access(actor.role, op) {
        Access::OwnOpd | Access::OwnOpdNamed => " outside their own OPD's cases",
        Access::OwnCases => " on cases that are not theirs",
        _ => "",
    };
    gql_error(
        ClientCode::Forbidden,
        format!(
            "{} may not use {}{whose}",
            actor.role,
            access_table::name(op)
        ),
    )
}
