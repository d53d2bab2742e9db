//! Every read of the projection tables, on whichever database holds them. The
//! queries are built once (`summary_query`, `sla_query`, `dashboard`) for both and
//! run through `on_db!`; where the databases differ, it is said here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, Row};

use aduan_domain::Case;
use aduan_store::{Db, StoreError};

use crate::dashboard::{self, Dashboard, GroupBy, Percentiles, Scope, StatRow};
use crate::rollup_reads;
use crate::sla_query::{timers_query, TimerFilter, TimerRow};
use crate::summary_query::{
    count_query, one_query, page_query, split_page, sweepable, swept_page_query, Keyset, Progress,
    SummaryFilter, SummaryRow,
};

/// Runs `$body` with `$pool` bound to the database's pool and `$DB` to its sqlx
/// database type, so one query text serves both.
macro_rules! on_db {
    ($db:expr, $pool:ident, $DB:ident => $body:expr) => {
        match $db {
            Db::Postgres($pool) => {
                type $DB = sqlx::Postgres;
                $body
            }
            Db::Sqlite($pool) => {
                type $DB = sqlx::Sqlite;
                $body
            }
        }
    };
}

fn sql(e: sqlx::Error) -> StoreError {
    StoreError::from_sqlx(e)
}

/// The read side's queries over one database.
#[derive(Debug, Clone)]
pub struct Reads {
    db: Db,
}

impl Reads {
    pub fn new(db: Db) -> Self {
        Reads { db }
    }

    /// One page of `complaint_summary` (newest first) plus whether more follow.
    pub async fn page(
        &self,
        filter: &SummaryFilter,
        after: Option<&Keyset>,
        first: i64,
    ) -> Result<(Vec<SummaryRow>, bool), StoreError> {
        if sweepable(filter) {
            return self.swept_page(filter, after, first).await;
        }
        let rows = on_db!(&self.db, pool, DB => page_query::<DB>(filter, after, first)
            .build_query_as()
            .fetch_all(pool)
            .await)
        .map_err(sql)?;
        Ok(split_page(rows, first))
    }

    /// An SLA-state page: the last sweep's instant and the rows read in one
    /// snapshot, through the swept column when the sweep is not after `now`.
    async fn swept_page(
        &self,
        filter: &SummaryFilter,
        after: Option<&Keyset>,
        first: i64,
    ) -> Result<(Vec<SummaryRow>, bool), StoreError> {
        let repeatable = self.snapshot_statement();
        let rows = on_db!(&self.db, pool, DB => {
            let mut tx = pool.begin().await.map_err(sql)?;
            if let Some(s) = repeatable {
                sqlx::query(s).execute(&mut *tx).await.map_err(sql)?;
            }
            let swept_at: Option<Option<DateTime<Utc>>> = sqlx::QueryBuilder::<DB>::new(
                "SELECT swept_at FROM sla_sweeps WHERE name = ",
            )
            .push_bind("complaint_summary".to_string())
            .build_query_scalar()
            .fetch_optional(&mut *tx)
            .await
            .map_err(sql)?;
            let mut query = match swept_at.flatten() {
                Some(at) if at <= filter.now => swept_page_query::<DB>(filter, after, first, at),
                _ => page_query::<DB>(filter, after, first),
            };
            let rows: Vec<SummaryRow> = query
                .build_query_as()
                .fetch_all(&mut *tx)
                .await
                .map_err(sql)?;
            tx.commit().await.map_err(sql)?;
            rows
        });
        Ok(split_page(rows, first))
    }

    /// How many rows match: from the roll-up's counters when the filter is only
    /// about statuses, OPDs and SLA states (plus an exact count of the cases
    /// whose standing turns today), else counted over the rows.
    pub async fn count(&self, filter: &SummaryFilter) -> Result<i64, StoreError> {
        if !rollup_reads::countable(filter) {
            return self.count_rows(filter).await;
        }
        let repeatable = self.snapshot_statement();
        on_db!(&self.db, pool, DB => {
            let mut tx = pool.begin().await.map_err(sql)?;
            if let Some(s) = repeatable {
                sqlx::query(s).execute(&mut *tx).await.map_err(sql)?;
            }
            let counters: Vec<(String, i64)> = rollup_reads::counters_query::<DB>(filter)
                .build_query_as()
                .fetch_all(&mut *tx)
                .await
                .map_err(sql)?;
            let mut total = rollup_reads::count_from_counters(filter, &counters);
            if !filter.sla_states.is_empty() {
                let today: i64 = rollup_reads::today_count_query::<DB>(filter, filter.now)
                    .build_query_scalar()
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(sql)?;
                total += today;
            }
            tx.commit().await.map_err(sql)?;
            Ok(total)
        })
    }

    /// `count` over the rows themselves.
    pub async fn count_rows(&self, filter: &SummaryFilter) -> Result<i64, StoreError> {
        on_db!(&self.db, pool, DB => count_query::<DB>(filter)
            .build_query_scalar()
            .fetch_one(pool)
            .await)
        .map_err(sql)
    }

    /// Several reads that must agree see one snapshot: PostgreSQL's repeatable
    /// read (SQLite's read transaction already is one).
    fn snapshot_statement(&self) -> Option<&'static str> {
        match &self.db {
            Db::Postgres(_) => Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
            Db::Sqlite(_) => None,
        }
    }

    /// One complaint's row and its folded case (without personal data), if projected.
    pub async fn one(&self, id: &str) -> Result<Option<(SummaryRow, Case)>, StoreError> {
        on_db!(&self.db, pool, DB => {
            let row = one_query::<DB>(id).build().fetch_optional(pool).await.map_err(sql)?;
            row.map(|row| {
                let summary = SummaryRow::from_row(&row)?;
                let Json(case) = row.try_get::<Json<Case>, _>("state")?;
                Ok((summary, case))
            })
            .transpose()
            .map_err(sql)
        })
    }

    /// SLA clocks matching `filter`, with states as of `now`.
    pub async fn timers(
        &self,
        filter: &TimerFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<TimerRow>, StoreError> {
        on_db!(&self.db, pool, DB => timers_query::<DB>(filter, now, limit)
            .build_query_as()
            .fetch_all(pool)
            .await)
        .map_err(sql)
    }

    /// The dashboard of one OPD (or the city) for cases created in the scope;
    /// open and overdue counts as of `now`. Served by the roll-ups: whole days
    /// from them, the rest row by row (see `rollup_reads`).
    pub async fn dashboard(
        &self,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Dashboard, StoreError> {
        use crate::rollup::{bucket_range, day, day_start};
        use crate::rollup_reads::{self as rr, Parts};
        let plan = rr::plan(scope, now);
        let opd = scope.opd.as_deref();
        let repeatable = self.snapshot_statement();
        on_db!(&self.db, pool, DB => {
            let mut tx = pool.begin().await.map_err(sql)?;
            if let Some(s) = repeatable {
                sqlx::query(s).execute(&mut *tx).await.map_err(sql)?;
            }
            let mut parts = Parts::default();
            if let (Some((first, end)), Some((from, to))) = (&plan.days, plan.full) {
                let rows: Vec<(String, String, i64)> =
                    rr::days_query::<DB>("complaint_summary_rollup", opd, first, end)
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(sql)?;
                let mut open_on: std::collections::HashMap<String, i64> = Default::default();
                for (d, m, n) in rows {
                    if m == "open" {
                        *open_on.entry(d.clone()).or_insert(0) += n;
                    }
                    parts.summary_day(&plan, &d, &m, n, now);
                }
                for b in &plan.split {
                    let up_to_b: i64 = rr::open_count_query::<DB>(opd, day_start(*b), *b)
                        .build_query_scalar()
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(sql)?;
                    let day_open = open_on.get(&day(*b)).copied().unwrap_or(0);
                    parts.split_day(&plan, *b, day_open, up_to_b);
                }
                let rows: Vec<(String, String, i64)> =
                    rr::days_query::<DB>("sla_timers_rollup", opd, first, end)
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(sql)?;
                for (d, m, n) in rows {
                    parts.timers_day(&plan, &d, &m, n);
                }
                // Deadlines that passed today: the roll-up only knows their day.
                let created: Vec<DateTime<Utc>> =
                    rr::overdue_today_query::<DB>(opd, from, to, day_start(now), now)
                        .build_query_scalar()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(sql)?;
                parts.overdue += created
                    .iter()
                    .filter(|c| !plan.direct_days.contains(&day(**c)))
                    .count() as i64;
            }
            for (a, b) in &plan.direct {
                let rows: Vec<rr::SummaryParts> =
                    rr::summary_rows_query::<DB>(opd, *a, *b)
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(sql)?;
                for (created, status, rating, deadline) in rows {
                    parts.summary_row(&plan, created, &status, rating, deadline, now);
                }
                let rows: Vec<(String, String, i64)> = rr::timer_rows_query::<DB>(opd, *a, *b)
                    .build_query_as()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(sql)?;
                for (leg, state, used) in rows {
                    parts.timer_row(&leg, &state, used);
                }
            }
            // Exact percentiles: the histogram says which bucket holds each rank,
            // and only that bucket's values are read.
            let mut percentiles = [None; 4];
            let mut values: std::collections::HashMap<(String, i64), Vec<i64>> = Default::default();
            for (i, (leg_name, p)) in [("RESPOND", 0.5), ("RESPOND", 0.9), ("RESOLVE", 0.5), ("RESOLVE", 0.9)]
                .into_iter()
                .enumerate()
            {
                let Some(leg) = parts.legs.get(leg_name) else { continue };
                let Some((lo, hi, rank)) = rr::ranks(leg.total(), p) else { continue };
                let mut kth = [0i64; 2];
                for (slot, k) in [lo, hi].into_iter().enumerate() {
                    let Some((b, below)) = leg.locate(k) else {
                        return Err(StoreError::Other("dashboard histogram out of step".into()));
                    };
                    // Usually the bucket has no values read row by row: the
                    // index walks to the value (skipping entries, not fetching them).
                    let no_direct = !leg.direct.iter().any(|v| crate::rollup::bucket(*v) == b);
                    if let (true, true, Some((from, to))) =
                        (no_direct, plan.direct_days.is_empty(), plan.full)
                    {
                        let v: Option<i64> = rr::bucket_nth_query::<DB>(
                            opd, leg_name, bucket_range(b), from, to, k - below,
                        )
                        .build_query_scalar()
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(sql)?;
                        kth[slot] = v.ok_or_else(|| {
                            StoreError::Other("dashboard histogram out of step".into())
                        })?;
                        continue;
                    }
                    if let std::collections::hash_map::Entry::Vacant(vacant) =
                        values.entry((leg_name.to_string(), b))
                    {
                        let mut in_bucket: Vec<i64> = leg
                            .direct
                            .iter()
                            .copied()
                            .filter(|v| crate::rollup::bucket(*v) == b)
                            .collect();
                        if let Some((from, to)) = plan.full {
                            let rows: Vec<(i64, DateTime<Utc>)> = rr::bucket_values_query::<DB>(
                                opd, leg_name, bucket_range(b), from, to,
                            )
                            .build_query_as()
                            .fetch_all(&mut *tx)
                            .await
                            .map_err(sql)?;
                            in_bucket.extend(
                                rows.into_iter()
                                    .filter(|(_, c)| !plan.direct_days.contains(&day(*c)))
                                    .map(|(v, _)| v),
                            );
                        }
                        in_bucket.sort_unstable();
                        vacant.insert(in_bucket);
                    }
                    let in_bucket = &values[&(leg_name.to_string(), b)];
                    kth[slot] = *in_bucket.get((k - below) as usize).ok_or_else(|| {
                        StoreError::Other("dashboard histogram out of step".into())
                    })?;
                }
                percentiles[i] = Some(rr::interpolate(kth[0], kth[1], lo, rank));
            }
            tx.commit().await.map_err(sql)?;
            Ok(rr::assemble(&parts, percentiles))
        })
    }

    /// The dashboard computed over the rows themselves (what the roll-ups must
    /// reproduce; the tests compare the two).
    pub async fn dashboard_direct(
        &self,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Dashboard, StoreError> {
        let (cases, compliance) = on_db!(&self.db, pool, DB => (
            dashboard::cases_query::<DB>(scope, now)
                .build_query_as()
                .fetch_one(pool)
                .await
                .map_err(sql)?,
            dashboard::compliance_query::<DB>(scope)
                .build_query_as()
                .fetch_one(pool)
                .await
                .map_err(sql)?,
        ));
        let respond = self.percentiles(scope, "RESPOND").await?;
        let resolve = self.percentiles(scope, "RESOLVE").await?;
        Ok(Dashboard::assemble(cases, compliance, respond, resolve))
    }

    /// Median and p90 of the time used by the stopped clocks of `leg`.
    async fn percentiles(&self, scope: &Scope, leg: &str) -> Result<Percentiles, StoreError> {
        match &self.db {
            Db::Postgres(pool) => dashboard::percentile_cont_query::<sqlx::Postgres>(scope, leg)
                .build_query_as()
                .fetch_one(pool)
                .await
                .map_err(sql),
            // No percentile_cont: the durations come back sorted and the same
            // interpolation is done here (a municipality's year is small).
            Db::Sqlite(pool) => {
                let used: Vec<i64> = dashboard::durations_query::<sqlx::Sqlite>(scope, leg)
                    .build_query_scalar()
                    .fetch_all(pool)
                    .await
                    .map_err(sql)?;
                Ok(Percentiles {
                    p50: dashboard::percentile(&used, 0.5),
                    p90: dashboard::percentile(&used, 0.9),
                })
            }
        }
    }

    /// Cases created in `[from, to)` grouped; `utc_offset` ("+08:00") sets which
    /// local day a case belongs to.
    pub async fn city_stats(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        group: GroupBy,
        opd: Option<&str>,
        utc_offset: &str,
    ) -> Result<Vec<StatRow>, StoreError> {
        let day = match &self.db {
            // An interval offset, unlike a POSIX zone name, keeps ISO's sign: +08:00 is east.
            Db::Postgres(_) => (
                "to_char(created_at AT TIME ZONE CAST(",
                " AS interval), 'YYYY-MM-DD')",
            ),
            // SQLite's date functions take the offset as a "+HH:MM" modifier.
            Db::Sqlite(_) => ("strftime('%Y-%m-%d', created_at, ", ")"),
        };
        on_db!(&self.db, pool, DB => dashboard::city_stats_query::<DB>(from, to, group, opd, utc_offset, day)
            .build_query_as()
            .fetch_all(pool)
            .await)
        .map_err(sql)
    }

    /// How far the projection has read (zeros before its first batch).
    pub async fn progress(&self, projection: &str) -> Result<Progress, StoreError> {
        on_db!(&self.db, pool, DB => sqlx::QueryBuilder::<DB>::new(
            "SELECT last_position AS position, events_seen, updated_at \
             FROM projection_checkpoints WHERE name = ",
        )
        .push_bind(projection.to_string())
        .build_query_as()
        .fetch_optional(pool)
        .await)
        .map(Option::unwrap_or_default)
        .map_err(sql)
    }

    /// Whether the projection has applied the event at `position`.
    pub async fn has_applied(&self, projection: &str, position: i64) -> Result<bool, StoreError> {
        match &self.db {
            // Positions are not commit order here: compare in reading order.
            Db::Postgres(pool) => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM events e JOIN projection_checkpoints c ON c.name = $1 \
                 WHERE e.position = $2 AND (e.tx_id, e.position) <= (c.last_tx_id, c.last_position))",
            )
            .bind(projection)
            .bind(position)
            .fetch_one(pool)
            .await,
            // One writer: position order is commit order.
            Db::Sqlite(pool) => sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM projection_checkpoints \
                 WHERE name = ? AND last_position >= ?)",
            )
            .bind(projection)
            .bind(position)
            .fetch_one(pool)
            .await,
        }
        .map_err(sql)
    }

    /// Waits until the projection has applied the event at `position`, or `timeout`.
    pub async fn wait_for(
        &self,
        projection: &str,
        position: i64,
        timeout: Duration,
    ) -> Result<bool, StoreError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.has_applied(projection, position).await? {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Complaints that may need the deadline watcher: running clocks past their
    /// deadline (by the projection, which may lag) and cases waiting for the citizen.
    pub async fn watch_candidates(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        on_db!(&self.db, pool, DB => {
            let mut q = sqlx::QueryBuilder::<DB>::new(
                "SELECT complaint_id FROM sla_timers \
                   WHERE stopped_at IS NULL AND NOT paused AND deadline < ",
            );
            q.push_bind(now)
                .push(
                    " UNION SELECT complaint_id FROM complaint_summary \
                     WHERE status = 'WAITING_FOR_INFO' LIMIT ",
                )
                .push_bind(limit);
            q.build_query_scalar().fetch_all(pool).await
        })
        .map_err(sql)
    }
}
