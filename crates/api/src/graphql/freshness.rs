//! Read-your-writes: every mutation returns the position its events got; reads
//! accept it as `minPosition` and wait (briefly) until the projections they read
//! have applied it.

use std::time::Duration;

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;

use super::access::guard;
use super::context::reads;
use super::error::{gql_error, store_error};
use crate::error_code::ClientCode;

pub const SUMMARY: &str = "complaint_summary";
pub const TIMERS: &str = "sla_timers";
pub const SURVEY: &str = "survey_responses";
pub const HANDOFFS: &str = "handoff_legs";
pub const ALL: [&str; 4] = [SUMMARY, TIMERS, SURVEY, HANDOFFS];

/// Long enough for a projector under load, short enough to hold no request hostage.
const WAIT: Duration = Duration::from_secs(5);

/// Waits until each of `projections` has applied the event at `min_position`;
/// UNAVAILABLE (retry) if they have not within a few seconds.
pub async fn reach(
    ctx: &Context<'_>,
    projections: &[&str],
    min_position: Option<i64>,
) -> Result<()> {
    let Some(position) = min_position else {
        return Ok(());
    };
    let reads = reads(ctx)?;
    for projection in projections {
        let reached = reads
            .wait_for(projection, position, WAIT)
            .await
            .map_err(store_error)?;
        if !reached {
            return Err(gql_error(
                ClientCode::Unavailable,
                "the read side has not caught up with minPosition yet; retry",
            ));
        }
    }
    Ok(())
}

/// The position of the last event `projection` applied on the database
/// `reads` reads: how fresh its reads are.
pub async fn position(reads: &aduan_projections::Reads, projection: &str) -> Result<i64> {
    Ok(reads
        .progress(projection)
        .await
        .map_err(store_error)?
        .position)
}

/// How far a projection has read the event log.
#[derive(SimpleObject)]
pub struct ProjectionStatus {
    pub name: String,
    /// The position of the last event applied.
    pub position: i64,
    pub events_applied: i64,
    pub updated_at: Option<DateTime<Utc>>,
    /// Events in the log it has not handled yet (counted up to 100,000).
    pub lag_events: i64,
    /// Age in seconds of the oldest of those; 0 when caught up.
    pub lag_seconds: f64,
}

/// The durable followers of the log this server runs: the projections, and the
/// NATS relay when configured.
pub struct Followers(pub Vec<&'static str>);

/// Lag is counted up to this many events, here and in `/metrics` (counting
/// further would make every read of a far-behind follower slow; it is an alarm
/// either way).
pub const LAG_CAP: i64 = 100_000;

#[derive(Default)]
pub struct FreshnessQuery;

#[Object]
impl FreshnessQuery {
    /// Each projection's progress through the event log (for operators and for
    /// clients deciding whether a read reflects a write), and the NATS relay's
    /// (`nats_relay`) where it runs.
    async fn projections(&self, ctx: &Context<'_>) -> Result<Vec<ProjectionStatus>> {
        guard(ctx, Operation::Projections)?;
        let reads = reads(ctx)?;
        let names = ctx
            .data_opt::<Followers>()
            .map_or(ALL.to_vec(), |f| f.0.clone());
        let mut out = Vec::new();
        for name in names {
            let status = reads.progress(name).await.map_err(store_error)?;
            let (lag_events, lag_seconds) = reads.lag(name, LAG_CAP).await.map_err(store_error)?;
            out.push(ProjectionStatus {
                name: name.to_string(),
                position: status.position,
                events_applied: status.events_seen,
                updated_at: status.updated_at,
                lag_events,
                lag_seconds: lag_seconds.max(0.0),
            });
        }
        Ok(out)
    }
}
