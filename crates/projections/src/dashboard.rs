//! Dashboards: aggregates over `complaint_summary` and `sla_timers`. The server
//! serves `dashboard` from the roll-ups (`rollup_reads.rs`); these direct queries
//! over the rows are the definition it must reproduce (`Reads::dashboard_direct`,
//! compared in the tests) and serve city statistics.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dashboard {
    pub open: i64,
    /// Open cases with a running SLA clock past its deadline now.
    pub overdue: i64,
    pub response_compliance_pct: Option<f64>,
    pub resolution_compliance_pct: Option<f64>,
    /// Working (or calendar, per target) seconds from dispatch to first reply.
    pub respond_p50_seconds: Option<f64>,
    pub respond_p90_seconds: Option<f64>,
    pub resolve_p50_seconds: Option<f64>,
    pub resolve_p90_seconds: Option<f64>,
    /// Open cases by age: under 1 day, 1-3, 3-7, 7-30, over 30 days.
    pub backlog_by_age: [i64; 5],
    /// 0-100 from ratings 1-5.
    pub satisfaction_index: Option<f64>,
    pub ratings: i64,
}

pub const AGE_BUCKETS: [&str; 5] = ["<1d", "1-3d", "3-7d", "7-30d", ">30d"];

#[derive(sqlx::FromRow)]
pub struct CaseCounts {
    open: i64,
    overdue: i64,
    age_0: i64,
    age_1: i64,
    age_2: i64,
    age_3: i64,
    age_4: i64,
    satisfaction: Option<f64>,
    ratings: i64,
}

#[derive(sqlx::FromRow)]
pub struct Compliance {
    respond_met_pct: Option<f64>,
    resolve_met_pct: Option<f64>,
}

/// Median and 90th percentile of the time used by stopped clocks of a leg.
#[derive(Debug, Default, sqlx::FromRow)]
pub struct Percentiles {
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

/// What the dashboard is over: one OPD (or the city), cases created in `[from, to)`.
#[derive(Debug, Clone)]
pub struct Scope {
    pub opd: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

const OPEN: &str = crate::incident::OPEN_WORKLOAD;
const COUNTED: &str = crate::incident::COUNTED;

fn push_scope<'a, DB: Database>(
    q: &mut QueryBuilder<'a, DB>,
    scope: &Scope,
    opd_column: &str,
    created_column: &str,
) where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    q.push(format!(" WHERE {created_column} >= "))
        .push_bind(scope.from)
        .push(format!(" AND {created_column} < "))
        .push_bind(scope.to);
    if let Some(opd) = &scope.opd {
        q.push(format!(" AND {opd_column} = "))
            .push_bind(opd.clone());
    }
}

/// Open, overdue and backlog counts as of `now`, and the satisfaction index.
pub fn cases_query<'a, DB: Database>(scope: &Scope, now: DateTime<Utc>) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let days = |n| now - chrono::Duration::days(n);
    let mut q = QueryBuilder::new(format!("SELECT count(*) FILTER (WHERE {OPEN}) AS open, "));
    q.push(format!("count(*) FILTER (WHERE {OPEN} AND sla_deadline < "))
        .push_bind(now)
        .push(") AS overdue, ");
    // Ages: (<1d, 1-3d, 3-7d, 7-30d, >30d) by creation time.
    let bounds = [
        None,
        Some(days(1)),
        Some(days(3)),
        Some(days(7)),
        Some(days(30)),
        None,
    ];
    for (i, pair) in bounds.windows(2).enumerate() {
        q.push(format!("count(*) FILTER (WHERE {OPEN}"));
        if let Some(newest) = pair[0] {
            q.push(" AND created_at <= ").push_bind(newest);
        }
        if let Some(oldest) = pair[1] {
            q.push(" AND created_at > ").push_bind(oldest);
        }
        q.push(format!(") AS age_{i}, "));
    }
    q.push(
        "CAST(avg((rating - 1) * 25.0) AS DOUBLE PRECISION) AS satisfaction, \
         count(rating) AS ratings FROM complaint_summary",
    );
    push_scope(&mut q, scope, "opd", "created_at");
    q
}

/// Response and resolution compliance: the share of stopped clocks that met
/// their target.
pub fn compliance_query<'a, DB: Database>(scope: &Scope) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let met_pct = |leg: &str| {
        let stopped = format!("leg = '{leg}' AND stopped_at IS NOT NULL");
        format!(
            "CAST(100.0 * count(*) FILTER (WHERE {stopped} AND t.state = 'MET') \
               / nullif(count(*) FILTER (WHERE {stopped}), 0) AS DOUBLE PRECISION)"
        )
    };
    let mut q = QueryBuilder::new(format!(
        "SELECT {} AS respond_met_pct, {} AS resolve_met_pct \
         FROM sla_timers t",
        met_pct("RESPOND"),
        met_pct("RESOLVE"),
    ));
    push_scope(&mut q, scope, "t.opd", "t.case_created_at");
    q.push(format!(" AND t.{COUNTED}"));
    q
}

/// The time used by the stopped clocks of `leg`, smallest first (for databases
/// without `percentile_cont`).
pub fn durations_query<'a, DB: Database>(scope: &Scope, leg: &str) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new("SELECT t.used_seconds FROM sla_timers t");
    push_scope(&mut q, scope, "t.opd", "t.case_created_at");
    q.push(format!(" AND t.{COUNTED}"));
    q.push(" AND t.stopped_at IS NOT NULL AND t.leg = ")
        .push_bind(leg.to_string())
        .push(" ORDER BY t.used_seconds");
    q
}

/// Median and 90th percentile of the time used by the stopped clocks of `leg`,
/// computed by the database (PostgreSQL's `percentile_cont`).
pub fn percentile_cont_query<'a, DB: Database>(scope: &Scope, leg: &str) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY t.used_seconds) AS p50, \
                percentile_cont(0.9) WITHIN GROUP (ORDER BY t.used_seconds) AS p90 \
         FROM sla_timers t",
    );
    push_scope(&mut q, scope, "t.opd", "t.case_created_at");
    q.push(format!(" AND t.{COUNTED}"));
    q.push(" AND t.stopped_at IS NOT NULL AND t.leg = ")
        .push_bind(leg.to_string());
    q
}

/// `percentile_cont(p)` over sorted values: linear interpolation between the two
/// nearest ranks, as PostgreSQL computes it.
pub fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (sorted[lo] as f64, sorted[hi] as f64);
    Some(a + (b - a) * (rank - lo as f64))
}

impl Dashboard {
    pub fn assemble(
        cases: CaseCounts,
        compliance: Compliance,
        respond: Percentiles,
        resolve: Percentiles,
    ) -> Dashboard {
        Dashboard {
            open: cases.open,
            overdue: cases.overdue,
            backlog_by_age: [
                cases.age_0,
                cases.age_1,
                cases.age_2,
                cases.age_3,
                cases.age_4,
            ],
            satisfaction_index: cases.satisfaction,
            ratings: cases.ratings,
            response_compliance_pct: compliance.respond_met_pct,
            resolution_compliance_pct: compliance.resolve_met_pct,
            respond_p50_seconds: respond.p50,
            respond_p90_seconds: respond.p90,
            resolve_p50_seconds: resolve.p50,
            resolve_p90_seconds: resolve.p90,
        }
    }
}

/// How city statistics are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The local (WITA) date of submission.
    Day,
    Category,
    Kecamatan,
    Channel,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatRow {
    pub key: String,
    pub submitted: i64,
    pub open: i64,
    pub closed: i64,
    pub rejected: i64,
}

/// Counts of cases created in `[from, to)`, grouped. `day` is the database's
/// expression around the bound UTC offset that gives a case's local day.
pub fn city_stats_query<'a, DB: Database>(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group: GroupBy,
    opd: Option<&str>,
    utc_offset: &str,
    day: (&str, &str),
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new("SELECT ");
    match group {
        GroupBy::Day => {
            q.push(day.0).push_bind(utc_offset.to_string()).push(day.1);
        }
        GroupBy::Category => {
            q.push("category");
        }
        GroupBy::Kecamatan => {
            q.push("coalesce(kecamatan, '(unknown)')");
        }
        GroupBy::Channel => {
            q.push("channel");
        }
    }
    q.push(format!(
        " AS key, count(*) AS submitted, \
           count(*) FILTER (WHERE {OPEN}) AS open, \
           count(*) FILTER (WHERE status = 'CLOSED') AS closed, \
           count(*) FILTER (WHERE status = 'REJECTED') AS rejected \
         FROM complaint_summary WHERE {COUNTED} AND created_at >= "
    ))
    .push_bind(from)
    .push(" AND created_at < ")
    .push_bind(to);
    and_opd(&mut q, opd);
    q.push(" GROUP BY 1 ORDER BY 1");
    q
}

/// Narrows a query on a table with an `opd` column to one OPD, if one is given.
pub(crate) fn and_opd<'a, DB: sqlx::Database>(q: &mut sqlx::QueryBuilder<'a, DB>, opd: Option<&str>)
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(opd) = opd {
        q.push(" AND opd = ").push_bind(opd.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_interpolate_like_percentile_cont() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[7], 0.9), Some(7.0));
        assert_eq!(percentile(&[1, 2, 3, 4], 0.5), Some(2.5));
        assert_eq!(percentile(&[10, 20, 30, 40, 50], 0.9), Some(46.0));
    }
}
