//! The SLA settings as GraphQL: what every department is judged by.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use aduan_domain::sla::{self, SlaConfig};

use super::context::actor;
use super::error::gql_error;
use super::types::Priority;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "sla::Unit", name = "SlaUnit")]
pub enum Unit {
    WorkingDays,
    WorkingHours,
    CalendarMinutes,
    CalendarHours,
    CalendarDays,
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
}

#[derive(SimpleObject)]
pub struct SlaPolicy {
    pub version: i32,
    pub effective_from: DateTime<Utc>,
    pub at_risk_percent: i32,
    pub auto_close_after: Target,
    pub rules: Vec<Rule>,
}

#[derive(SimpleObject)]
pub struct BusinessCalendar {
    pub timezone: String,
    pub utc_offset: String,
    pub working_days: Vec<String>,
    pub working_hours: Vec<String>,
    pub holidays: Vec<NaiveDate>,
}

fn settings<'a>(ctx: &Context<'a>) -> Result<&'a Arc<SlaConfig>> {
    ctx.data::<Arc<SlaConfig>>()
        .map_err(|_| gql_error("UNAVAILABLE", "SLA settings are not loaded"))
}

#[derive(Default)]
pub struct SlaQuery;

#[Object]
impl SlaQuery {
    /// Every SLA policy version, oldest first.
    async fn sla_policies(&self, ctx: &Context<'_>) -> Result<Vec<SlaPolicy>> {
        actor(ctx)?;
        Ok(settings(ctx)?
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
                    })
                    .collect(),
            })
            .collect())
    }

    /// The working days, hours and holidays SLA clocks count in.
    async fn business_calendar(&self, ctx: &Context<'_>) -> Result<BusinessCalendar> {
        actor(ctx)?;
        let c = &settings(ctx)?.calendar;
        Ok(BusinessCalendar {
            timezone: c.timezone.clone(),
            utc_offset: c.utc_offset.clone(),
            working_days: c.working_days.clone(),
            working_hours: c.working_hours.clone(),
            holidays: c.holidays.clone(),
        })
    }
}
