//! `slaAlerts`: the process's clock-turn scanner (`aduan_projections::sla_alerts`)
//! as a subscription, scoped like `slaTimers`.

use std::sync::Arc;

use async_graphql::futures_util::Stream;
use async_graphql::{Context, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;

use aduan_domain::access::Scope;
use aduan_domain::Actor;
use aduan_projections::sla_alerts::SlaAlertFeed;

use super::access::refusal;
use super::error::gql_error;
use super::sla::{SlaTimer, TimerState};
use crate::error_code::ClientCode;
use aduan_domain::access::Operation;

/// A clock that has just turned AT_RISK or BREACHED.
#[derive(SimpleObject)]
pub struct SlaAlert {
    pub complaint_id: ID,
    /// OPD code the clock's case is with.
    pub opd: Option<String>,
    /// AT_RISK or BREACHED.
    pub state: TimerState,
    /// The instant it turned (its `atRiskAt` or `deadline`).
    pub at: DateTime<Utc>,
    /// The clock as it stands now.
    pub timer: SlaTimer,
}

fn alerts<'a>(ctx: &Context<'a>) -> Result<&'a Arc<SlaAlertFeed>> {
    ctx.data::<Arc<SlaAlertFeed>>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "SLA alerts are not configured"))
}

/// The alerts `actor` may receive in `scope`, for one OPD when `opd` is given.
pub fn subscribe(
    ctx: &Context<'_>,
    actor: &Actor,
    scope: Scope,
    opd: Option<String>,
) -> Result<impl Stream<Item = Result<SlaAlert>> + use<>> {
    let only = match (scope, opd) {
        (Scope::All, opd) => opd,
        (Scope::Opd(own), None) => Some(own),
        (Scope::Opd(own), Some(asked)) if asked == own => Some(own),
        _ => return Err(refusal(actor, Operation::SlaAlerts)),
    };
    let mut turns = alerts(ctx)?.subscribe();
    Ok(async_stream::stream! {
        loop {
            let turn = match turns.recv().await {
                Ok(turn) => turn,
                Err(RecvError::Closed) => break,
                Err(RecvError::Lagged(n)) => {
                    // Turns are not kept anywhere to resume from: say so and end;
                    // `slaTimers(filter: {state: ...})` has the current picture.
                    yield Err(gql_error(
                        ClientCode::SubscriberTooSlow,
                        format!("{n} alerts were dropped while this subscriber was not reading; read slaTimers and subscribe again"),
                    ));
                    break;
                }
            };
            if only.as_ref().is_some_and(|o| turn.timer.opd.as_ref() != Some(o)) {
                continue;
            }
            let turn = turn.as_ref().clone();
            let now = Utc::now();
            yield SlaTimer::from_row(turn.timer.clone(), now).map(|timer| SlaAlert {
                complaint_id: ID(turn.timer.complaint_id),
                opd: turn.timer.opd,
                state: turn.state.into(),
                at: turn.at,
                timer,
            });
        }
    })
}
