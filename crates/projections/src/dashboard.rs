//! Dashboards: aggregates over `complaint_summary` and `sla_timers`, computed at
//! read time (indexed queries; a city's 100,000 cases a year need no rollups yet).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use aduan_store::StoreError;

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
struct CaseCounts {
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
struct TimerStats {
    respond_met_pct: Option<f64>,
    resolve_met_pct: Option<f64>,
    respond_p50: Option<f64>,
    respond_p90: Option<f64>,
    resolve_p50: Option<f64>,
    resolve_p90: Option<f64>,
}

/// The dashboard of one OPD (or the whole city with `opd` None) for cases created
/// in `[from, to)`; open and overdue counts are as of `now`.
pub async fn dashboard(
    pool: &PgPool,
    opd: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Dashboard, StoreError> {
    const OPEN: &str = "status NOT IN ('CLOSED', 'REJECTED')";
    let cases: CaseCounts = sqlx::query_as(&format!(
        "SELECT count(*) FILTER (WHERE {OPEN}) AS open, \
           count(*) FILTER (WHERE {OPEN} AND sla_deadline < $4) AS overdue, \
           count(*) FILTER (WHERE {OPEN} AND created_at > $4 - interval '1 day') AS age_0, \
           count(*) FILTER (WHERE {OPEN} AND created_at <= $4 - interval '1 day' \
                                        AND created_at > $4 - interval '3 days') AS age_1, \
           count(*) FILTER (WHERE {OPEN} AND created_at <= $4 - interval '3 days' \
                                        AND created_at > $4 - interval '7 days') AS age_2, \
           count(*) FILTER (WHERE {OPEN} AND created_at <= $4 - interval '7 days' \
                                        AND created_at > $4 - interval '30 days') AS age_3, \
           count(*) FILTER (WHERE {OPEN} AND created_at <= $4 - interval '30 days') AS age_4, \
           avg((rating - 1) * 25.0)::float8 AS satisfaction, count(rating) AS ratings \
         FROM complaint_summary \
         WHERE ($1::text IS NULL OR opd = $1) AND created_at >= $2 AND created_at < $3"
    ))
    .bind(opd)
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(StoreError::from_sqlx)?;
    let stopped = |leg: &str| format!("leg = '{leg}' AND stopped_at IS NOT NULL");
    let met_pct = |leg: &str| {
        format!(
            "(100.0 * count(*) FILTER (WHERE {s} AND t.state = 'MET') \
               / nullif(count(*) FILTER (WHERE {s}), 0))::float8",
            s = stopped(leg)
        )
    };
    let pct = |p: f64, leg: &str| {
        format!(
            "percentile_cont({p}) WITHIN GROUP (ORDER BY used_seconds) FILTER (WHERE {})",
            stopped(leg)
        )
    };
    let timers: TimerStats = sqlx::query_as(&format!(
        "SELECT {} AS respond_met_pct, {} AS resolve_met_pct, \
           {} AS respond_p50, {} AS respond_p90, {} AS resolve_p50, {} AS resolve_p90 \
         FROM sla_timers t JOIN complaint_summary s USING (complaint_id) \
         WHERE ($1::text IS NULL OR t.opd = $1) AND s.created_at >= $2 AND s.created_at < $3",
        met_pct("RESPOND"),
        met_pct("RESOLVE"),
        pct(0.5, "RESPOND"),
        pct(0.9, "RESPOND"),
        pct(0.5, "RESOLVE"),
        pct(0.9, "RESOLVE"),
    ))
    .bind(opd)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .map_err(StoreError::from_sqlx)?;
    Ok(Dashboard {
        open: cases.open,
        backlog_by_age: [
            cases.age_0,
            cases.age_1,
            cases.age_2,
            cases.age_3,
            cases.age_4,
        ],
        satisfaction_index: cases.satisfaction,
        ratings: cases.ratings,
        overdue: cases.overdue,
        response_compliance_pct: timers.respond_met_pct,
        resolution_compliance_pct: timers.resolve_met_pct,
        respond_p50_seconds: timers.respond_p50,
        respond_p90_seconds: timers.respond_p90,
        resolve_p50_seconds: timers.resolve_p50,
        resolve_p90_seconds: timers.resolve_p90,
    })
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

/// Counts of cases created in `[from, to)`, grouped. `utc_offset` ("+08:00") sets
/// which local day a case belongs to.
pub async fn city_stats(
    pool: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    group: GroupBy,
    utc_offset: &str,
) -> Result<Vec<StatRow>, StoreError> {
    let key = match group {
        // An interval offset, unlike a POSIX zone name, keeps ISO's sign: +08:00 is east.
        GroupBy::Day => "to_char(created_at AT TIME ZONE $3::interval, 'YYYY-MM-DD')",
        GroupBy::Category => "category",
        GroupBy::Kecamatan => "coalesce(kecamatan, '(unknown)')",
        GroupBy::Channel => "channel",
    };
    // Every grouping binds the offset (PostgreSQL refuses unused parameters);
    // only DAY uses it.
    sqlx::query_as(&format!(
        "SELECT {key} AS key, count(*) AS submitted, \
           count(*) FILTER (WHERE status NOT IN ('CLOSED', 'REJECTED')) AS open, \
           count(*) FILTER (WHERE status = 'CLOSED') AS closed, \
           count(*) FILTER (WHERE status = 'REJECTED') AS rejected \
         FROM complaint_summary \
         WHERE created_at >= $1 AND created_at < $2 AND $3::interval IS NOT NULL \
         GROUP BY 1 ORDER BY 1"
    ))
    .bind(from)
    .bind(to)
    .bind(utc_offset)
    .fetch_all(pool)
    .await
    .map_err(StoreError::from_sqlx)
}
