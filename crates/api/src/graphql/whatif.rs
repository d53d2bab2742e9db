//! `slaWhatIf`: a proposed SLA policy and calendar replayed over a period's
//! cases, side by side with the actual (`crate::whatif`). The proposal comes
//! as TOML text, the same text `aduan sla what-if --policy` reads from a file,
//! so a proposal is written once and run either way.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};

use aduan_domain::access::Operation;
use aduan_domain::sla::whatif::{CaseOutcome, Comparison, Figures, GroupFigures};
use aduan_domain::sla::SlaConfig;

use super::access::guard;
use super::context::bus;
use super::error::{gql_error, invalid_input};
use super::sla::TimerState;
use crate::error_code::ClientCode;

#[derive(InputObject)]
pub struct SlaWhatIfInput {
    /// The proposal as TOML: `[[policies]]` as in the SLA settings file, and
    /// optionally a whole `[calendar]` in place of the one in force.
    pub policy: String,
    /// Days off added to the proposed calendar, as TOML
    /// (`holidays = [...]`, `local_holidays = [...]`).
    pub holidays: Option<String>,
    /// The first day of the period (the city's local date).
    pub from: NaiveDate,
    /// The last day of the period, included.
    pub to: NaiveDate,
    /// How many of the changed cases to list (default 100, at most 10000).
    pub changed_first: Option<i32>,
}

/// One side's figures for a group of cases, as they stood at the period's end.
#[derive(SimpleObject)]
#[graphql(name = "SlaWhatIfFigures")]
pub struct WhatIfFigures {
    pub cases: i64,
    /// Cases whose every started leg was met.
    pub met: i64,
    /// Cases with a breached leg.
    pub breached: i64,
    pub at_risk: i64,
    pub on_track: i64,
    /// As the respond clock counts it (working time for working-unit targets).
    pub median_first_response_seconds: Option<i64>,
    pub median_close_seconds: Option<i64>,
}

#[derive(SimpleObject)]
#[graphql(name = "SlaWhatIfGroup")]
pub struct WhatIfGroup {
    /// The OPD holding the cases at the period's end; null: never dispatched
    /// (and, for the total, every OPD).
    pub opd: Option<String>,
    /// Empty for the total.
    pub category: String,
    pub actual: WhatIfFigures,
    pub proposed: WhatIfFigures,
}

#[derive(SimpleObject)]
#[graphql(name = "SlaWhatIfCase")]
pub struct WhatIfCase {
    pub complaint_id: ID,
    pub opd: Option<String>,
    pub category: String,
    pub actual: TimerState,
    pub proposed: TimerState,
}

#[derive(SimpleObject)]
#[graphql(name = "SlaWhatIf")]
pub struct WhatIf {
    pub from: DateTime<Utc>,
    /// The period's end, or the time of the query if that is earlier.
    pub to: DateTime<Utc>,
    /// Per OPD and category.
    pub groups: Vec<WhatIfGroup>,
    pub total: WhatIfGroup,
    /// How many cases end in another state under the proposal.
    pub changed_count: i64,
    /// The first of them, by complaint id.
    pub changed: Vec<WhatIfCase>,
    /// How many cases have a deadline the proposal moves (whether or not
    /// their state changes).
    pub moved_count: i64,
    /// The first of them (as many as `changedFirst`), by complaint id.
    pub moved: Vec<ID>,
}

fn figures(f: Figures) -> WhatIfFigures {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    WhatIfFigures {
        cases: n(f.cases),
        met: n(f.met),
        breached: n(f.breached),
        at_risk: n(f.at_risk),
        on_track: n(f.on_track),
        median_first_response_seconds: f.median_first_response_seconds,
        median_close_seconds: f.median_close_seconds,
    }
}

fn group(g: GroupFigures) -> WhatIfGroup {
    WhatIfGroup {
        opd: g.opd,
        category: g.category,
        actual: figures(g.actual),
        proposed: figures(g.proposed),
    }
}

fn case(c: CaseOutcome) -> WhatIfCase {
    WhatIfCase {
        complaint_id: ID(c.complaint_id),
        opd: c.opd,
        category: c.category,
        actual: c.actual.state.into(),
        proposed: c.proposed.state.into(),
    }
}

fn answer(c: Comparison, first: usize) -> WhatIf {
    WhatIf {
        from: c.period.from,
        to: c.period.to,
        changed_count: i64::try_from(c.changed.len()).unwrap_or(i64::MAX),
        changed: c.changed.into_iter().take(first).map(case).collect(),
        moved_count: i64::try_from(c.moved.len()).unwrap_or(i64::MAX),
        moved: c.moved.into_iter().take(first).map(ID).collect(),
        groups: c.groups.into_iter().map(group).collect(),
        total: group(c.total),
    }
}

#[derive(Default)]
pub struct WhatIfQuery;

#[Object]
impl WhatIfQuery {
    /// What a proposed SLA policy (and calendar) would have made of the cases
    /// submitted in a period, beside what the policies in force made of them.
    /// Reads the event log, writes nothing (docs/operations.md, "SLA what-if").
    async fn sla_what_if(&self, ctx: &Context<'_>, input: SlaWhatIfInput) -> Result<WhatIf> {
        guard(ctx, Operation::SlaWhatIf)?;
        let first = input.changed_first.unwrap_or(100);
        let first = usize::try_from(first)
            .ok()
            .filter(|f| *f <= 10_000)
            .ok_or_else(|| invalid_input("input.changedFirst", "must be between 0 and 10000"))?;
        let actual = ctx
            .data::<Arc<SlaConfig>>()
            .map_err(|_| gql_error(ClientCode::Unavailable, "SLA settings are not loaded"))?;
        let proposed = crate::whatif::proposal(actual, &input.policy, input.holidays.as_deref())
            .map_err(|e| invalid_input("input.policy", &format!("{e:#}")))?;
        let bus = bus(ctx)?;
        let now = bus.services().clock.now();
        let period = crate::whatif::period(actual, input.from, input.to, now)
            .ok_or_else(|| invalid_input("input.to", "must not be before input.from"))?;
        let rules = |c: &SlaConfig| {
            crate::whatif::Rules::of(c)
                .map_err(|e| invalid_input("input.policy", &format!("{e:#}")))
        };
        let (actual, proposed) = (rules(actual)?, rules(&proposed)?);
        let comparison = crate::whatif::run(bus.log().as_ref(), period, &actual, &proposed)
            .await
            .map_err(|e| gql_error(ClientCode::Unavailable, format!("{e:#}")))?;
        Ok(answer(comparison, first))
    }
}
