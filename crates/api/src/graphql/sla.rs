//! The SLA settings as GraphQL: what every department is judged by.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, Result, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};

use aduan_domain::sla::{self, SlaConfig};

use aduan_domain::access::{Operation, Scope};
use aduan_projections::sla_query::{TimerFilter, TimerRow};

use super::access::guard;
use super::context::bus;
use super::error::{gql_error, invalid_input, store_error};
use super::freshness;
use super::replicas::query_reads;
use super::types::Priority;
use crate::error_code::ClientCode;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "sla::Unit", name = "SlaUnit")]
pub enum Unit {
    WorkingDays,
    WorkingHours,
    CalendarMinutes,
    CalendarHours,
    CalendarDays,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "sla::Leg", name = "SlaLeg")]
pub enum Leg {
    Dispatch,
    Respond,
    Resolve,
    /// Returned to the Command Center until dispatched again.
    Reroute,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "sla::TimerState", name = "SlaState")]
pub enum TimerState {
    OnTrack,
    AtRisk,
    Breached,
    Met,
}

#[derive(InputObject, Default)]
pub struct SlaTimerFilter {
    pub complaint_id: Option<ID>,
    /// OPD codes.
    pub opd: Option<Vec<String>>,
    pub leg: Option<Vec<Leg>>,
    /// States as of now.
    pub state: Option<Vec<TimerState>>,
}

/// One SLA clock of one complaint.
#[derive(SimpleObject)]
pub struct SlaTimer {
    pub complaint_id: ID,
    pub leg: Leg,
    pub opd: Option<String>,
    pub category: String,
    pub policy_version: i32,
    pub target: Target,
    pub started_at: DateTime<Utc>,
    /// When the clock runs out (for a paused clock: as if it resumed at the pause).
    pub deadline: DateTime<Utc>,
    pub at_risk_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Waiting for the citizen: the clock stands still.
    pub paused: bool,
    /// Working (or calendar, per the target) seconds used up to the last event.
    pub used_seconds: i64,
    pub target_seconds: i64,
    /// The state now.
    pub state: TimerState,
    /// Since when the clock has been in that state.
    pub state_changed_at: DateTime<Utc>,
    /// The position of the last event this row reflects.
    pub position: i64,
    /// The counted spans, the pauses with their reasons, the holidays skipped.
    pub explanation: async_graphql::Json<serde_json::Value>,
}

fn leg_of(name: &str) -> Result<Leg> {
    sla::Leg::ALL
        .into_iter()
        .find(|l| aduan_projections::sla_timers::leg_name(*l) == name)
        .map(Into::into)
        .ok_or_else(|| gql_error(ClientCode::Internal, format!("unknown stored leg {name:?}")))
}

fn unit_of(name: &str) -> Result<Unit> {
    serde_json::from_value::<sla::Unit>(serde_json::Value::String(name.to_string()))
        .map(Into::into)
        .map_err(|_| {
            gql_error(
                ClientCode::Internal,
                format!("unknown stored unit {name:?}"),
            )
        })
}

impl SlaTimer {
    pub(crate) fn from_row(row: TimerRow, now: DateTime<Utc>) -> Result<SlaTimer> {
        Ok(SlaTimer {
            state: row.state_at(now).into(),
            state_changed_at: row.state_changed_at(now),
            position: row.last_position,
            complaint_id: ID(row.complaint_id),
            leg: leg_of(&row.leg)?,
            opd: row.opd,
            category: row.category,
            policy_version: row.policy_version,
            target: Target {
                amount: row.target_amount,
                unit: unit_of(&row.target_unit)?,
            },
            started_at: row.started_at,
            deadline: row.deadline,
            at_risk_at: row.at_risk_at,
            stopped_at: row.stopped_at,
            paused: row.paused,
            used_seconds: row.used_seconds,
            target_seconds: row.target_seconds,
            explanation: async_graphql::Json(row.explanation.0),
        })
    }
}

#[derive(SimpleObject)]
#[graphql(name = "SlaTarget")]
pub struct Target {
    pub amount: i64,
    pub unit: Unit,
}

impl From<sla::Target> for Target {
    fn from(t: sla::Target) -> Self {
        Target {
            amount: t.amount,
            unit: t.unit.into(),
        }
    }
}

/// Targets for the cases a rule matches; null category or priority matches any.
#[derive(SimpleObject)]
#[graphql(name = "SlaRule")]
pub struct Rule {
    pub category: Option<String>,
    pub priority: Option<Priority>,
    /// Submitted until dispatched to an OPD.
    pub dispatch: Target,
    /// Dispatched until the OPD's first reply.
    pub respond: Target,
    /// Submitted until closed.
    pub resolve: Target,
    /// Returned to the Command Center until dispatched again (the dispatch
    /// target unless the rule sets its own).
    pub reroute: Target,
}

#[derive(SimpleObject)]
pub struct SlaPolicy {
    pub version: i32,
    pub effective_from: DateTime<Utc>,
    pub at_risk_percent: i32,
    pub auto_close_after: Target,
    pub rules: Vec<Rule>,
    /// The years the business calendar's holiday list covers (one calendar
    /// for every version): working-day targets count holidays only there.
    pub holiday_coverage: HolidayCoverage,
}

/// Which years the national holiday list (public holidays and cuti bersama,
/// decreed year by year) covers. In a year it does not cover, holidays count
/// as working days: deadlines come too early.
#[derive(SimpleObject, Clone)]
pub struct HolidayCoverage {
    /// The years the list names days of.
    pub years: Vec<i32>,
    /// The last day of the last year listed.
    pub covered_until: Option<NaiveDate>,
    pub covers_current_year: bool,
    pub covers_next_year: bool,
    /// What is missing, in words (empty when the current and next year are covered).
    pub warnings: Vec<String>,
}

fn coverage(ctx: &Context<'_>, config: &SlaConfig) -> Result<HolidayCoverage> {
    let now = bus(ctx)?.services().clock.now();
    let today = config
        .calendar
        .local_date(now)
        .unwrap_or_else(|| now.date_naive());
    let c = config.calendar.coverage(today);
    Ok(HolidayCoverage {
        covers_current_year: c.covers_current_year(today),
        covers_next_year: c.covers_next_year(today),
        warnings: c.warnings(today),
        years: c.years,
        covered_until: c.covered_until,
    })
}

#[derive(SimpleObject)]
pub struct BusinessCalendar {
    pub timezone: String,
    pub utc_offset: String,
    pub working_days: Vec<String>,
    pub working_hours: Vec<String>,
    /// National public holidays and cuti bersama.
    pub holidays: Vec<NaiveDate>,
    /// The city's own days off.
    pub local_holidays: Vec<NaiveDate>,
    pub coverage: HolidayCoverage,
}

fn settings<'a>(ctx: &Context<'a>) -> Result<&'a Arc<SlaConfig>> {
    ctx.data::<Arc<SlaConfig>>()
        .map_err(|_| gql_error(ClientCode::Unavailable, "SLA settings are not loaded"))
}

#[derive(Default)]
pub struct SlaQuery;

#[Object]
impl SlaQuery {
    /// Every SLA policy version, oldest first.
    async fn sla_policies(&self, ctx: &Context<'_>) -> Result<Vec<SlaPolicy>> {
        guard(ctx, Operation::ReferenceData)?;
        let config = settings(ctx)?;
        let covered = coverage(ctx, config)?;
        Ok(config
            .policies
            .iter()
            .map(|p| SlaPolicy {
                version: p.version as i32,
                effective_from: p.effective_from,
                at_risk_percent: i32::from(p.at_risk_percent),
                auto_close_after: p.auto_close_after.into(),
                rules: p
                    .rules
                    .iter()
                    .map(|r| Rule {
                        category: r.category.clone(),
                        priority: r.priority.map(Into::into),
                        dispatch: r.dispatch.into(),
                        respond: r.respond.into(),
                        resolve: r.resolve.into(),
                        reroute: r.target(sla::Leg::Reroute).into(),
                    })
                    .collect(),
                holiday_coverage: covered.clone(),
            })
            .collect())
    }

    /// SLA clocks, soonest deadline first (at most `first`, default 50, up to 200).
    /// OPD roles see their own OPD's; citizens are refused.
    async fn sla_timers(
        &self,
        ctx: &Context<'_>,
        filter: Option<SlaTimerFilter>,
        first: Option<i32>,
        min_position: Option<i64>,
    ) -> Result<Vec<SlaTimer>> {
        let (_, scope) = guard(ctx, Operation::SlaTimers)?;
        let first = first.unwrap_or(50);
        if !(1..=200).contains(&first) {
            return Err(invalid_input("first", "must be between 1 and 200"));
        }
        let filter = filter.unwrap_or_default();
        let mut query = TimerFilter {
            complaint_id: filter.complaint_id.map(|id| id.0),
            opds: filter.opd.unwrap_or_default(),
            legs: filter
                .leg
                .unwrap_or_default()
                .into_iter()
                .map(|l| aduan_projections::sla_timers::leg_name(l.into()).to_string())
                .collect(),
            states: filter
                .state
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            turning: None,
        };
        match scope {
            Scope::All => {}
            Scope::Opd(opd) => query.opds = vec![opd],
            Scope::Reporter(_) | Scope::Nothing => {
                return Err(gql_error(ClientCode::Forbidden, "no SLA timers to read"))
            }
        }
        let reads = query_reads(ctx, &[freshness::TIMERS], min_position).await?;
        let bus = bus(ctx)?;
        let now = bus.services().clock.now();
        reads
            .timers(&query, now, i64::from(first))
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|row| SlaTimer::from_row(row, now))
            .collect()
    }

    /// The working days, hours and holidays SLA clocks count in.
    async fn business_calendar(&self, ctx: &Context<'_>) -> Result<BusinessCalendar> {
        guard(ctx, Operation::ReferenceData)?;
        let config = settings(ctx)?;
        let c = &config.calendar;
        Ok(BusinessCalendar {
            coverage: coverage(ctx, config)?,
            local_holidays: c.local_holidays.clone(),
            timezone: c.timezone.clone(),
            utc_offset: c.utc_offset.clone(),
            working_days: c.working_days.clone(),
            working_hours: c.working_hours.clone(),
            holidays: c.holidays.clone(),
        })
    }
}
