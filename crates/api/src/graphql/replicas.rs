//! Which database a read goes to when read replicas are configured
//! (`--read-database-url`, docs/operations.md "Read replicas"): the queries
//! of a GraphQL query operation that read lists and figures (`complaints`,
//! `dashboard`, `ikm`, `cityStats`, `handoffs`, `hotspots`, `slaTimers`) go to a
//! replica, one per request in turn; everything else (mutations, single-case
//! reads, subscriptions, WebSocket operations) stays on the primary.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::parser::types::OperationType;
use async_graphql::{Context, Result};

use aduan_projections::{ReadReplicas, Reads};

use super::context::reads;
use super::freshness::reach;

/// The process's replicas and how long a read waits for one to reach its
/// `minPosition`.
pub struct Replicas {
    pub replicas: Arc<ReadReplicas>,
    pub wait: Duration,
}

/// One request's choice of database, made on its first routed read: a
/// replica, or the primary. It only ever moves from a replica to the
/// primary (always at least as fresh), so a field that waited for its
/// `minPosition` on the primary never has another field of the same request
/// read an older copy after it. Requests without one read the primary.
#[derive(Default)]
pub struct ReadChoice(Mutex<Choice>);

#[derive(Default, Clone)]
enum Choice {
    #[default]
    Unmade,
    Replica(Reads),
    Primary,
}

impl ReadChoice {
    fn replica(&self, replicas: &ReadReplicas) -> Option<Reads> {
        let mut choice = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Choice::Unmade = *choice {
            *choice = Choice::Replica(replicas.pick());
        }
        match &*choice {
            Choice::Replica(replica) => Some(replica.clone()),
            _ => None,
        }
    }

    fn to_primary(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Choice::Primary;
    }
}

/// The read side a list or figure reads, once it includes `min_position` in
/// each of `projections`: the request's replica when it has one that reaches
/// the position within the wait (or without `min_position`, as it stands),
/// else the primary after its own wait (`freshness::reach`: UNAVAILABLE when
/// even the primary has not got there).
pub async fn query_reads(
    ctx: &Context<'_>,
    projections: &[&str],
    min_position: Option<i64>,
) -> Result<Reads> {
    if let Some((routing, choice)) = routed(ctx) {
        if let Some(replica) = choice.replica(&routing.replicas) {
            let Some(position) = min_position else {
                return Ok(replica);
            };
            let wait = routing.wait;
            if routing
                .replicas
                .reached(&replica, projections, position, wait)
                .await
            {
                return Ok(replica);
            }
            choice.to_primary();
        }
    }
    reach(ctx, projections, min_position).await?;
    Ok(reads(ctx)?.clone())
}

/// The replicas and the request's choice, for a query operation over HTTP on
/// a server with replicas.
fn routed<'a>(ctx: &Context<'a>) -> Option<(&'a Replicas, &'a ReadChoice)> {
    if ctx.query_env.operation.node.ty != OperationType::Query {
        return None;
    }
    Some((ctx.data_opt::<Replicas>()?, ctx.data_opt::<ReadChoice>()?))
}
