//! Hand-offs (issue 25): the reasons a case may be handed on with, and the
//! figures per pair of holders.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use aduan_domain::access::Operation;

use super::access::guard;
use super::context::bus;
use super::dashboard::{check_range, scoped_opd};
use super::error::store_error;
use super::freshness;
use super::replicas::query_reads;

#[derive(Default)]
pub struct HandoffQuery;

/// A reason an OPD may give for transferring a case or returning it to the
/// Command Center.
#[derive(SimpleObject)]
pub struct HandoffReason {
    pub code: String,
    pub name: String,
}

#[Object]
impl HandoffQuery {
    /// The city's hand-off reason codes (`transferComplaint`,
    /// `returnToCommandCenter` take one).
    async fn handoff_reasons(&self, ctx: &Context<'_>) -> Result<Vec<HandoffReason>> {
        guard(ctx, Operation::ReferenceData)?;
        Ok(bus(ctx)?
            .services()
            .reference
            .handoffs
            .reasons
            .iter()
            .map(|r| HandoffReason {
                code: r.code.clone(),
                name: r.name.clone(),
            })
            .collect())
    }
}

/// One pair of holders: who handed cases on to whom, how often, and how long
/// the first held them before handing on.
#[derive(SimpleObject)]
pub struct HandoffPair {
    /// An OPD's code, or COMMAND_CENTER.
    pub from_holder: String,
    pub to_holder: String,
    pub transfers: i64,
    /// Returns to the Command Center (`toHolder` is COMMAND_CENTER).
    pub returns: i64,
    /// Hand-offs that brought a case back to an OPD it had left.
    pub loops: i64,
    /// Working time (business calendar) `fromHolder` held a case before
    /// handing it on: median and 90th percentile, in seconds.
    pub held_p50_seconds: Option<f64>,
    pub held_p90_seconds: Option<f64>,
    /// Of the cases of this pair, the share (0-1) closed RESOLVED by whoever
    /// held them last.
    pub resolved_by_last_holder: Option<f64>,
}

/// The hand-offs made in `[from, to)`.
#[derive(SimpleObject)]
pub struct Handoffs {
    /// The OPD whose pairs these are, or null for the whole city.
    pub opd: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub pairs: Vec<HandoffPair>,
}

#[derive(Default)]
pub struct HandoffFiguresQuery;

#[Object]
impl HandoffFiguresQuery {
    /// Per pair of holders, the transfers and returns made in `[from, to)`
    /// (from the `handoff_legs` table, docs/analytics.md). An OPD's
    /// administrator sees the pairs its OPD is in.
    async fn handoffs(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        opd: Option<String>,
        min_position: Option<i64>,
    ) -> Result<Handoffs> {
        let (_, scope) = guard(ctx, Operation::Handoffs)?;
        check_range(from, to)?;
        let opd = scoped_opd(scope, opd)?;
        query_reads(ctx, &[freshness::HANDOFFS], min_position).await?;
        Ok(Handoffs {
            pairs: pairs(ctx, from, to, opd.as_deref()).await?,
            opd,
            from,
            to,
        })
    }
}

/// The pairs of holders with their hand-offs made in `[from, to)`, those
/// `opd` took part in when it names one.
pub(super) async fn pairs(
    ctx: &Context<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    opd: Option<&str>,
) -> Result<Vec<HandoffPair>> {
    let pairs = query_reads(ctx, &[], None)
        .await?
        .handoffs(from, to, opd)
        .await
        .map_err(store_error)?;
    Ok(pairs
        .into_iter()
        .map(|p| HandoffPair {
            from_holder: p.from_holder,
            to_holder: p.to_holder,
            transfers: p.transfers,
            returns: p.returns,
            loops: p.loops,
            held_p50_seconds: p.held_p50_seconds,
            held_p90_seconds: p.held_p90_seconds,
            resolved_by_last_holder: p.resolved_by_last_holder,
        })
        .collect())
}
