//! `dashboard` and `cityStats`: what OPDs are judged by and what the city publishes.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use aduan_domain::access::{Operation, Scope};
use aduan_domain::sla::SlaConfig;
use aduan_projections::dashboard::{self, GroupBy, AGE_BUCKETS};

use super::access::guard;
use super::context::bus;
use super::error::{gql_error, invalid_input, store_error};
use super::freshness;
use super::handoffs::{self, HandoffPair};
use super::ikm::{self, Ikm, IkmGroupBy};
use super::replicas::query_reads;
use crate::error_code::ClientCode;

#[derive(SimpleObject)]
pub struct AgeBucket {
    /// "<1d", "1-3d", "3-7d", "7-30d", ">30d"
    pub age: String,
    pub open: i64,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Dashboard {
    /// The OPD, or null for the whole city.
    pub opd: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub open: i64,
    /// Running SLA clocks past their deadline now.
    pub overdue: i64,
    /// Share of follow-ups answered within target, of those answered.
    pub response_compliance_pct: Option<f64>,
    /// Share of cases closed within target, of those closed.
    pub resolution_compliance_pct: Option<f64>,
    /// Time from dispatch to first reply, in seconds of working time.
    pub respond_p50_seconds: Option<f64>,
    pub respond_p90_seconds: Option<f64>,
    /// Time from submission to closure, in seconds (calendar time for the default 60-day target).
    pub resolve_p50_seconds: Option<f64>,
    pub resolve_p90_seconds: Option<f64>,
    pub backlog_by_age: Vec<AgeBucket>,
    /// 0-100 from the citizens' ratings (1 = 0, 5 = 100). Beside it, `ikm`:
    /// the national method's index from the nine-element survey.
    pub satisfaction_index: Option<f64>,
    pub ratings: i64,
    /// The position of the last event the summary projection applied.
    pub position: i64,
}

/// The SLA breaches charged to one holder.
#[derive(SimpleObject)]
pub struct HolderBreaches {
    /// An OPD's code, or COMMAND_CENTER.
    pub holder: String,
    /// Breaches whose deadline passed while this holder held the case.
    pub breaches: i64,
}

#[ComplexObject]
impl Dashboard {
    /// The SLA breaches (recorded by the deadline watcher) of the cases
    /// created in `[from, to)`, charged to whoever held the case when the
    /// deadline passed, not to whoever holds it now: a case DPU sat on and
    /// then transferred counts against DPU. On an OPD's dashboard, only that
    /// OPD's line.
    async fn breaches_by_holder(&self, ctx: &Context<'_>) -> Result<Vec<HolderBreaches>> {
        let scope = dashboard::Scope {
            opd: self.opd.clone(),
            from: self.from,
            to: self.to,
        };
        let rows = query_reads(ctx, &[], None)
            .await?
            .breaches_by_holder(&scope)
            .await
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| HolderBreaches {
                holder: r.holder,
                breaches: r.breaches,
            })
            .collect())
    }

    /// The hand-offs made in `[from, to)` per pair of holders, as
    /// `handoffs(from, to, opd)` answers them (its access applies: OPD
    /// officers are refused this field).
    async fn handoffs(&self, ctx: &Context<'_>) -> Result<Vec<HandoffPair>> {
        guard(ctx, Operation::Handoffs)?;
        handoffs::pairs(ctx, self.from, self.to, self.opd.as_deref()).await
    }

    /// The satisfaction index by the national method (IKM, PermenPANRB
    /// 14/2017) of the same OPD, for the surveys answered in `[from, to)`
    /// (the rating counts the cases created in it).
    async fn ikm(&self, ctx: &Context<'_>) -> Result<Ikm> {
        ikm::report(ctx, self.opd.clone(), self.from, self.to, None).await
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "StatsGroupBy")]
pub enum StatsGroupBy {
    Day,
    Category,
    Kecamatan,
    Channel,
}

#[derive(SimpleObject)]
pub struct CityStat {
    /// The day (YYYY-MM-DD, city time), category, kecamatan or channel code.
    pub key: String,
    pub submitted: i64,
    pub open: i64,
    pub closed: i64,
    pub rejected: i64,
}

pub(super) fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<()> {
    if from >= to {
        return Err(invalid_input("to", "must be after from"));
    }
    if to - from > chrono::Duration::days(731) {
        return Err(invalid_input("to", "the range may span at most two years"));
    }
    Ok(())
}

#[derive(Default)]
pub struct DashboardQuery;

#[Object]
impl DashboardQuery {
    /// An OPD's (or, without `opd`, the city's) SLA performance for cases created in
    /// `[from, to)`. OPD roles see their own OPD only. Without `to`, up to now;
    /// without `from`, the last 30 days in city time: from 00:00 (city time) of
    /// the day 29 days before `to`'s day.
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        opd: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        min_position: Option<i64>,
    ) -> Result<Dashboard> {
        let (_, scope) = guard(ctx, Operation::Dashboard)?;
        let bus = bus(ctx)?;
        let now = bus.services().clock.now();
        let (from, to) = default_range(ctx, from, to, now)?;
        check_range(from, to)?;
        let opd = scoped_opd(scope, opd)?;
        let reads = query_reads(ctx, &freshness::ALL, min_position).await?;
        let position = freshness::position(&reads, freshness::SUMMARY).await?;
        let scope = dashboard::Scope {
            opd: opd.clone(),
            from,
            to,
        };
        let d = reads.dashboard(&scope, now).await.map_err(store_error)?;
        Ok(Dashboard {
            opd,
            from,
            to,
            open: d.open,
            overdue: d.overdue,
            response_compliance_pct: d.response_compliance_pct,
            resolution_compliance_pct: d.resolution_compliance_pct,
            respond_p50_seconds: d.respond_p50_seconds,
            respond_p90_seconds: d.respond_p90_seconds,
            resolve_p50_seconds: d.resolve_p50_seconds,
            resolve_p90_seconds: d.resolve_p90_seconds,
            backlog_by_age: AGE_BUCKETS
                .iter()
                .zip(d.backlog_by_age)
                .map(|(age, open)| AgeBucket {
                    age: age.to_string(),
                    open,
                })
                .collect(),
            satisfaction_index: d.satisfaction_index,
            ratings: d.ratings,
            position,
        })
    }

    /// The community satisfaction index by the national method (IKM,
    /// PermenPANRB 14/2017) of an OPD (or, without `opd`, the city) for the
    /// surveys answered in `[from, to)`: respondents, each element's NRR, the
    /// index and its grade, in total and per `groupBy`. Read as `dashboard` is:
    /// OPD roles see their own OPD only.
    async fn ikm(
        &self,
        ctx: &Context<'_>,
        opd: Option<String>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        group_by: Option<IkmGroupBy>,
        min_position: Option<i64>,
    ) -> Result<Ikm> {
        let (_, scope) = guard(ctx, Operation::Ikm)?;
        check_range(from, to)?;
        let opd = scoped_opd(scope, opd)?;
        query_reads(ctx, &[freshness::SURVEY], min_position).await?;
        ikm::report(ctx, opd, from, to, group_by).await
    }

    /// Cases created in `[from, to)` per day, category, kecamatan or channel.
    async fn city_stats(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        group_by: StatsGroupBy,
        min_position: Option<i64>,
    ) -> Result<Vec<CityStat>> {
        let (_, scope) = guard(ctx, Operation::CityStats)?;
        check_range(from, to)?;
        // An OPD's figures count its own cases only.
        let opd = scoped_opd(scope, None)?;
        let reads = query_reads(ctx, &[freshness::SUMMARY], min_position).await?;
        let offset = ctx
            .data::<Arc<SlaConfig>>()
            .map(|c| c.calendar.utc_offset.clone())
            .map_err(|_| gql_error(ClientCode::Unavailable, "SLA settings are not loaded"))?;
        let group = match group_by {
            StatsGroupBy::Day => GroupBy::Day,
            StatsGroupBy::Category => GroupBy::Category,
            StatsGroupBy::Kecamatan => GroupBy::Kecamatan,
            StatsGroupBy::Channel => GroupBy::Channel,
        };
        let rows = reads
            .city_stats(from, to, group, opd.as_deref(), &offset)
            .await
            .map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|r| CityStat {
                key: r.key,
                submitted: r.submitted,
                open: r.open,
                closed: r.closed,
                rejected: r.rejected,
            })
            .collect())
    }
}

/// How many city days a dashboard without `from` covers, today included.
pub const DEFAULT_DAYS: i64 = 30;

/// A dashboard's range when the caller leaves an end open: `to` is now, `from`
/// the start (city time) of the `DEFAULT_DAYS`-day window ending on `to`'s day,
/// so a city reads the same figures all day rather than a window that slides
/// by the second.
pub(super) fn default_range(
    ctx: &Context<'_>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let to = to.unwrap_or(now);
    if let Some(from) = from {
        return Ok((from, to));
    }
    let offset = ctx
        .data::<Arc<SlaConfig>>()
        .ok()
        .and_then(|c| c.calendar.offset())
        .ok_or_else(|| gql_error(ClientCode::Unavailable, "SLA settings are not loaded"))?;
    let day = to.with_timezone(&offset).date_naive() - chrono::Duration::days(DEFAULT_DAYS - 1);
    let from = day
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(offset).single())
        .map(|start| start.with_timezone(&Utc))
        .ok_or_else(|| invalid_input("to", "has no city day"))?;
    Ok((from, to))
}

/// The OPD a dashboard or statistic is for: an OPD-scoped caller gets their own
/// (asking for another's is refused); others get what they asked for.
pub(super) fn scoped_opd(scope: Scope, asked: Option<String>) -> Result<Option<String>> {
    match (scope, asked) {
        (Scope::All, asked) => Ok(asked),
        (Scope::Opd(own), None) => Ok(Some(own)),
        (Scope::Opd(own), Some(asked)) if asked == own => Ok(Some(own)),
        (Scope::Opd(_), Some(_)) => Err(gql_error(
            ClientCode::Forbidden,
            "an OPD reads its own figures only",
        )),
        (Scope::Reporter(_) | Scope::Nothing, _) => {
            Err(gql_error(ClientCode::Forbidden, "no figures to read"))
        }
    }
}
