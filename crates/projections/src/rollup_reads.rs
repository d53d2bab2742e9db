//! Reads served by the roll-ups (`rollup.rs`): the dashboard and the
//! `totalCount` of status, OPD and SLA-state filters. Each gives exactly what the
//! direct queries over the rows give (`dashboard.rs`, `summary_query.rs`; the
//! tests compare them on both databases): whole days come from the roll-up, the
//! pieces of days the roll-up cannot split (the range's ends, the days holding a
//! backlog-age boundary, "today" for deadlines and at-risk instants) from the rows.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::dashboard::{Dashboard, Scope};
use crate::incident;
use crate::rollup::{self, bucket, day, day_start};
use crate::summary_query::{push_filter, SummaryFilter};

/// A filter the counters can answer: statuses, OPDs and SLA states only.
pub fn countable(f: &SummaryFilter) -> bool {
    f.categories.is_empty()
        && f.kecamatan.is_empty()
        && f.channels.is_empty()
        && f.priorities.is_empty()
        && f.created_from.is_none()
        && f.created_to.is_none()
        && f.text.as_deref().is_none_or(|t| t.trim().is_empty())
        && f.reporter_ref.is_none()
        && f.external_refs.is_empty()
        && f.has_external_ref.is_none()
        && f.duplicates_of.is_empty()
        && !f.is_placed()
        && f.not_statuses.is_empty()
        && f.not_id.is_none()
        && f.number.is_none()
        && !f.has_queue_condition()
}

/// The counters of `complaint_summary_rollup` (day '') for the filter's OPDs.
pub fn counters_query<'a, DB: Database>(f: &SummaryFilter) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(
        "SELECT measure, CAST(n AS BIGINT) FROM complaint_summary_rollup WHERE day = ''",
    );
    crate::summary_query::push_in(&mut q, "opd", &f.opds);
    q
}

/// The rows whose SLA standing turns during `now`'s UTC day: counted exactly.
pub fn today_count_query<'a, DB: Database>(
    f: &SummaryFilter,
    now: DateTime<Utc>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let (start, end) = (day_start(now), day_start(now) + Duration::days(1));
    let mut q = QueryBuilder::new("SELECT count(*) FROM complaint_summary");
    push_filter(&mut q, f);
    q.push(" AND ((sla_at_risk_at >= ")
        .push_bind(start)
        .push(" AND sla_at_risk_at < ")
        .push_bind(end)
        .push(") OR (sla_deadline >= ")
        .push_bind(start)
        .push(" AND sla_deadline < ")
        .push_bind(end)
        .push("))");
    q
}

/// Adds up the counters that the filter selects and whose standing at `now`
/// follows from their days alone (the rest is `today_count_query`'s).
pub fn count_from_counters(f: &SummaryFilter, counters: &[(String, i64)]) -> i64 {
    let today = day(f.now);
    let mut total = 0;
    for (measure, n) in counters {
        let Some(c) = rollup::Counter::parse(measure) else {
            continue;
        };
        if !f.statuses.is_empty() && !f.statuses.iter().any(|s| s == c.status) {
            continue;
        }
        if !f.sla_states.is_empty() {
            if c.at_risk == today || c.deadline == today {
                continue;
            }
            if !c
                .standing(&today)
                .is_some_and(|s| f.sla_states.contains(&s))
            {
                continue;
            }
        }
        total += n;
    }
    total
}

// ---- dashboard ----

/// The roll-up of whole days `[first, end)` for the scope's OPD (or all),
/// summed over the days per measure, except `open` (per day, for the backlog's
/// ages), which gives day '' to the others. A year of a city's histograms is
/// about 20,000 rows for one OPD: the database adds them up rather than sending
/// them.
pub fn days_query<'a, DB: Database>(
    table: &str,
    opd: Option<&str>,
    first: &str,
    end: &str,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!(
        "SELECT CASE WHEN measure = 'open' THEN day ELSE '' END, measure, \
         CAST(sum(n) AS BIGINT) FROM {table} WHERE day >= "
    ));
    q.push_bind(first.to_string())
        .push(" AND day < ")
        .push_bind(end.to_string());
    crate::dashboard::and_opd(&mut q, opd);
    q.push(" GROUP BY 1, 2");
    q
}

/// A row of `summary_rows_query`: created_at, status, rating, sla_deadline,
/// primary_id.
pub type SummaryParts = (
    DateTime<Utc>,
    String,
    Option<i64>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// Summary rows created in `[from, to)`: what a roll-up day holds, row by row.
pub fn summary_rows_query<'a, DB: Database>(
    opd: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(
        "SELECT created_at, status, CAST(rating AS BIGINT) AS rating, sla_deadline, \
         primary_id FROM complaint_summary WHERE created_at >= ",
    );
    q.push_bind(from).push(" AND created_at < ").push_bind(to);
    crate::dashboard::and_opd(&mut q, opd);
    q
}

/// Open cases created in `[from, through]` (an index-only count on the partial
/// index of open cases).
pub fn open_count_query<'a, DB: Database>(
    opd: Option<&str>,
    from: DateTime<Utc>,
    through: DateTime<Utc>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!(
        "SELECT count(*) FROM complaint_summary WHERE {} AND created_at >= ",
        incident::OPEN_WORKLOAD
    ));
    q.push_bind(from)
        .push(" AND created_at <= ")
        .push_bind(through);
    crate::dashboard::and_opd(&mut q, opd);
    q
}

/// Stopped clocks of cases created in `[from, to)`, row by row.
pub fn timer_rows_query<'a, DB: Database>(
    opd: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!(
        "SELECT leg, state, used_seconds FROM sla_timers \
         WHERE stopped_at IS NOT NULL AND {} AND case_created_at >= ",
        incident::COUNTED
    ));
    q.push_bind(from)
        .push(" AND case_created_at < ")
        .push_bind(to);
    crate::dashboard::and_opd(&mut q, opd);
    q
}

/// Open cases created in `[from, to)` whose deadline fell in `[since, now)`.
pub fn overdue_today_query<'a, DB: Database>(
    opd: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q =
        QueryBuilder::new("SELECT created_at FROM complaint_summary WHERE sla_deadline >= ");
    q.push_bind(since)
        .push(" AND sla_deadline < ")
        .push_bind(now)
        .push(format!(
            " AND {} AND created_at >= ",
            incident::OPEN_WORKLOAD
        ))
        .push_bind(from)
        .push(" AND created_at < ")
        .push_bind(to);
    crate::dashboard::and_opd(&mut q, opd);
    q
}

/// Used seconds of a leg's stopped clocks in `[lo, hi)`, cases created in `[from, to)`.
pub fn bucket_values_query<'a, DB: Database>(
    opd: Option<&str>,
    leg: &str,
    (lo, hi): (i64, i64),
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new("SELECT used_seconds, case_created_at FROM sla_timers WHERE ");
    if let Some(opd) = opd {
        q.push("opd = ").push_bind(opd.to_string()).push(" AND ");
    }
    q.push("leg = ")
        .push_bind(leg.to_string())
        .push(format!(
            " AND stopped_at IS NOT NULL AND {} AND used_seconds >= ",
            incident::COUNTED
        ))
        .push_bind(lo)
        .push(" AND used_seconds < ")
        .push_bind(hi)
        .push(" AND case_created_at >= ")
        .push_bind(from)
        .push(" AND case_created_at < ")
        .push_bind(to);
    q
}

/// The `n`-th smallest (0-based) used seconds of a leg's stopped clocks in
/// `[lo, hi)`, cases created in `[from, to)`: an ordered walk of the index on
/// `(opd, leg, used_seconds, case_created_at)`.
pub fn bucket_nth_query<'a, DB: Database>(
    opd: Option<&str>,
    leg: &str,
    range: (i64, i64),
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    n: i64,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = bucket_values_query(opd, leg, range, from, to);
    q.push(" ORDER BY used_seconds LIMIT 1 OFFSET ")
        .push_bind(n);
    q
}

/// How the dashboard's range splits: whole days served by the roll-ups (minus
/// `direct_days`) and instant ranges read row by row.
pub struct Plan {
    pub days: Option<(String, String)>,
    pub full: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub direct_days: HashSet<String>,
    pub direct: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub age_bounds: [DateTime<Utc>; 4],
    /// Backlog-age boundaries inside the whole days: the open cases of such a day
    /// are split between two age buckets by counting those created up to it.
    pub split: Vec<DateTime<Utc>>,
}

#[allow(
    clippy::unwrap_used,
    reason = "split_days returns days it formatted itself, and midnight exists on every date"
)]
pub fn plan(scope: &Scope, now: DateTime<Utc>) -> Plan {
    let age_bounds = [1, 3, 7, 30].map(|n| now - Duration::days(n));
    let (days, mut direct) = rollup::split_days(scope.from, scope.to);
    let direct_days = HashSet::new();
    let mut full = None;
    let mut split = Vec::new();
    if let Some((first, end)) = &days {
        let start = rollup::parse_day(first)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let stop = rollup::parse_day(end)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        full = Some((start, stop));
        for b in age_bounds {
            let d = day(b);
            if d >= *first && d < *end {
                split.push(b);
            }
        }
    }
    direct.retain(|(a, b)| a < b);
    Plan {
        days,
        full,
        direct_days,
        direct,
        age_bounds,
        split,
    }
}

/// Which backlog bucket a case created at `t` is in (the `cases_query` rule).
fn age_bucket(t: DateTime<Utc>, bounds: &[DateTime<Utc>; 4]) -> usize {
    bounds.iter().take_while(|b| t <= **b).count()
}

/// Accumulates the dashboard's parts from roll-up days and rows.
#[derive(Default)]
pub struct Parts {
    pub open: i64,
    pub overdue: i64,
    pub ages: [i64; 5],
    pub rated: i64,
    pub rating_sum: i64,
    /// leg -> (stopped, met, histogram of the roll-up days, exact values of direct rows)
    pub legs: BTreeMap<String, Leg>,
}

#[derive(Default)]
pub struct Leg {
    pub stopped: i64,
    pub met: i64,
    pub histogram: BTreeMap<i64, i64>,
    pub direct: Vec<i64>,
}

impl Parts {
    pub fn summary_day(
        &mut self,
        plan: &Plan,
        day_text: &str,
        measure: &str,
        n: i64,
        now: DateTime<Utc>,
    ) {
        if plan.direct_days.contains(day_text) {
            return;
        }
        let today = day(now);
        match measure {
            "open" => {
                self.open += n;
                // A day holding an age boundary is split by `split_day`.
                if plan.split.iter().any(|b| day(*b) == day_text) {
                    return;
                }
                let start = rollup::parse_day(day_text)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc());
                if let Some(start) = start {
                    self.ages[age_bucket(start, &plan.age_bounds)] += n;
                }
            }
            "rated" => self.rated += n,
            "rating" => self.rating_sum += n,
            m => {
                if let Some(due) = m.strip_prefix("due|") {
                    // Today's deadlines are counted row by row (`overdue_today`).
                    if due < today.as_str() {
                        self.overdue += n;
                    }
                }
            }
        }
    }

    /// Splits the open cases of the day holding age boundary `b` (`day_open` in
    /// all, `up_to_b` created at or before `b`) between its two age buckets.
    pub fn split_day(&mut self, plan: &Plan, b: DateTime<Utc>, day_open: i64, up_to_b: i64) {
        let older = age_bucket(b, &plan.age_bounds);
        self.ages[older] += up_to_b;
        self.ages[older - 1] += day_open - up_to_b;
    }

    pub fn summary_row(
        &mut self,
        plan: &Plan,
        created_at: DateTime<Utc>,
        (status, primary): (&str, Option<&str>),
        rating: Option<i64>,
        deadline: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) {
        if incident::open_workload(status, primary) {
            self.open += 1;
            self.ages[age_bucket(created_at, &plan.age_bounds)] += 1;
            if deadline.is_some_and(|d| d < now) {
                self.overdue += 1;
            }
        }
        if let Some(r) = rating {
            self.rated += 1;
            self.rating_sum += r;
        }
    }

    pub fn timers_day(&mut self, plan: &Plan, day_text: &str, measure: &str, n: i64) {
        if plan.direct_days.contains(day_text) {
            return;
        }
        let mut parts = measure.splitn(3, '|');
        let (Some(leg), Some(what)) = (parts.next(), parts.next()) else {
            return;
        };
        let leg = self.legs.entry(leg.to_string()).or_default();
        match (what, parts.next()) {
            ("stopped", None) => leg.stopped += n,
            ("met", None) => leg.met += n,
            ("h", Some(b)) => {
                if let Ok(b) = b.parse() {
                    *leg.histogram.entry(b).or_insert(0) += n;
                }
            }
            _ => {}
        }
    }

    pub fn timer_row(&mut self, leg: &str, state: &str, used: i64) {
        let leg = self.legs.entry(leg.to_string()).or_default();
        leg.stopped += 1;
        if state == "MET" {
            leg.met += 1;
        }
        leg.direct.push(used);
    }
}

impl Leg {
    /// The bucket holding the k-th smallest value (0-based) and how many values
    /// lie in lower buckets.
    pub fn locate(&self, k: i64) -> Option<(i64, i64)> {
        let mut counts = self.histogram.clone();
        for v in &self.direct {
            *counts.entry(bucket(*v)).or_insert(0) += 1;
        }
        let mut below = 0;
        for (b, n) in counts {
            if k < below + n {
                return Some((b, below));
            }
            below += n;
        }
        None
    }

    pub fn total(&self) -> i64 {
        self.histogram.values().sum::<i64>() + self.direct.len() as i64
    }
}

/// The ranks a percentile needs (0-based): `percentile_cont`'s two neighbours.
pub fn ranks(n: i64, p: f64) -> Option<(i64, i64, f64)> {
    let last = n.checked_sub(1).filter(|l| *l >= 0)?;
    let rank = p * last as f64;
    Some((rank.floor() as i64, rank.ceil() as i64, rank))
}

/// `percentile_cont(p)` from the two neighbouring values (the formula of
/// `dashboard::percentile`).
pub fn interpolate(a: i64, b: i64, lo: i64, rank: f64) -> f64 {
    let (a, b) = (a as f64, b as f64);
    a + (b - a) * (rank - lo as f64)
}

pub fn assemble(parts: &Parts, percentiles: [Option<f64>; 4]) -> Dashboard {
    let pct = |leg: &str| {
        parts
            .legs
            .get(leg)
            .filter(|l| l.stopped > 0)
            .map(|l| 100.0 * l.met as f64 / l.stopped as f64)
    };
    Dashboard {
        open: parts.open,
        overdue: parts.overdue,
        response_compliance_pct: pct("RESPOND"),
        resolution_compliance_pct: pct("RESOLVE"),
        respond_p50_seconds: percentiles[0],
        respond_p90_seconds: percentiles[1],
        resolve_p50_seconds: percentiles[2],
        resolve_p90_seconds: percentiles[3],
        backlog_by_age: parts.ages,
        satisfaction_index: (parts.rated > 0)
            .then(|| (parts.rating_sum - parts.rated) as f64 * 25.0 / parts.rated as f64),
        ratings: parts.rated,
    }
}
