//! The statements that read the same on both databases, written once: the
//! `Shared` half of a backend (see `backend.rs`), compiled for each database by
//! `shared_backend!` in `pg.rs` and `sqlite.rs`. The query texts come from
//! `summary_query`, `sla_query`, `dashboard`, `rollup_reads`, `hotspots_query`
//! and `sla_sweep`; where a statement needs a database's own words it asks
//! `Specific`.

/// Implements `backend::Shared` for `$Backend` (a struct with the database's
/// pool in `pool`) on sqlx database `$DB`.
#[macro_export]
#[doc(hidden)]
macro_rules! shared_backend {
    ($Backend:ty, $DB:ty) => {
        // A block of its own, so these imports stay out of the invoking module.
        const _: () = {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use sqlx::{FromRow, Row};

            use aduan_domain::Case;
            use aduan_store::StoreError;

            use $crate::backend::{Connections, Shared, Specific};
            use $crate::dashboard::{
                self, CaseCounts, Compliance, Dashboard, GroupBy, Scope, StatRow,
            };
            use $crate::rollup_reads;
            use $crate::sla_query::{timers_query, TimerFilter, TimerRow};
            use $crate::sla_sweep::{update_query, SweepReport};
            use $crate::summary_query::{
                count_query, duplicates_query, many_query, one_query, page_query, swept_page_query,
                Keyset, Progress, SummaryFilter, SummaryRow,
            };

            type DB = $DB;

            fn sql(e: sqlx::Error) -> StoreError {
                StoreError::from_sqlx(e)
            }

            /// The dashboard's connection (inside its one snapshot).
            type Conn = <DB as sqlx::Database>::Connection;

            /// The dashboard's whole days, from the roll-ups: the cases and
            /// clocks of each day, the split days' open cases, and today's
            /// passed deadlines (the roll-up only knows their day).
            async fn dashboard_days(
                conn: &mut Conn,
                plan: &rollup_reads::Plan,
                opd: Option<&str>,
                now: DateTime<Utc>,
                parts: &mut rollup_reads::Parts,
            ) -> Result<(), StoreError> {
                use $crate::rollup::{day, day_start};
                use $crate::rollup_reads as rr;
                let (Some((first, end)), Some((from, to))) = (&plan.days, plan.full) else {
                    return Ok(());
                };
                let rows: Vec<(String, String, i64)> =
                    rr::days_query::<DB>("complaint_summary_rollup", opd, first, end)
                        .build_query_as()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(sql)?;
                let mut open_on: std::collections::HashMap<String, i64> = Default::default();
                for (d, m, n) in rows {
                    if m == "open" {
                        *open_on.entry(d.clone()).or_insert(0) += n;
                    }
                    parts.summary_day(plan, &d, &m, n, now);
                }
                for b in &plan.split {
                    let up_to_b: i64 = rr::open_count_query::<DB>(opd, day_start(*b), *b)
                        .build_query_scalar()
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(sql)?;
                    let day_open = open_on.get(&day(*b)).copied().unwrap_or(0);
                    parts.split_day(plan, *b, day_open, up_to_b);
                }
                let rows: Vec<(String, String, i64)> =
                    rr::days_query::<DB>("sla_timers_rollup", opd, first, end)
                        .build_query_as()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(sql)?;
                for (d, m, n) in rows {
                    parts.timers_day(plan, &d, &m, n);
                }
                let created: Vec<DateTime<Utc>> =
                    rr::overdue_today_query::<DB>(opd, from, to, day_start(now), now)
                        .build_query_scalar()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(sql)?;
                parts.overdue += created
                    .iter()
                    .filter(|c| !plan.direct_days.contains(&day(**c)))
                    .count() as i64;
                Ok(())
            }

            /// The dashboard's partial days, row by row from the tables.
            async fn dashboard_direct(
                conn: &mut Conn,
                plan: &rollup_reads::Plan,
                opd: Option<&str>,
                now: DateTime<Utc>,
                parts: &mut rollup_reads::Parts,
            ) -> Result<(), StoreError> {
                use $crate::rollup_reads as rr;
                for (a, b) in &plan.direct {
                    let rows: Vec<rr::SummaryParts> = rr::summary_rows_query::<DB>(opd, *a, *b)
                        .build_query_as()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(sql)?;
                    for (created, status, rating, deadline, primary) in rows {
                        let case = (status.as_str(), primary.as_deref());
                        parts.summary_row(plan, created, case, rating, deadline, now);
                    }
                    let rows: Vec<(String, String, i64)> = rr::timer_rows_query::<DB>(opd, *a, *b)
                        .build_query_as()
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(sql)?;
                    for (leg, state, used) in rows {
                        parts.timer_row(&leg, &state, used);
                    }
                }
                Ok(())
            }

            /// Exact percentiles (median and p90 of each leg): the histogram
            /// says which bucket holds each rank, and only that bucket's values
            /// are read.
            async fn dashboard_percentiles(
                conn: &mut Conn,
                plan: &rollup_reads::Plan,
                opd: Option<&str>,
                parts: &rollup_reads::Parts,
            ) -> Result<[Option<f64>; 4], StoreError> {
                use $crate::rollup_reads as rr;
                let mut percentiles = [None; 4];
                let mut values: BucketValues = Default::default();
                for (i, (leg_name, p)) in [
                    ("RESPOND", 0.5),
                    ("RESPOND", 0.9),
                    ("RESOLVE", 0.5),
                    ("RESOLVE", 0.9),
                ]
                .into_iter()
                .enumerate()
                {
                    let Some(leg) = parts.legs.get(leg_name) else {
                        continue;
                    };
                    let Some((lo, hi, rank)) = rr::ranks(leg.total(), p) else {
                        continue;
                    };
                    let mut kth = [0i64; 2];
                    for (slot, k) in [lo, hi].into_iter().enumerate() {
                        let at = Rank { leg_name, leg, k };
                        kth[slot] = kth_value(&mut *conn, plan, opd, at, &mut values).await?;
                    }
                    percentiles[i] = Some(rr::interpolate(kth[0], kth[1], lo, rank));
                }
                Ok(percentiles)
            }

            /// A histogram bucket's values, sorted, by (leg, bucket), read once.
            type BucketValues = std::collections::HashMap<(String, i64), Vec<i64>>;

            /// The `k`th value (from 0) of a leg's stopped clocks.
            struct Rank<'a> {
                leg_name: &'a str,
                leg: &'a rollup_reads::Leg,
                k: i64,
            }

            fn out_of_step() -> StoreError {
                StoreError::Other("dashboard histogram out of step".into())
            }

            async fn kth_value(
                conn: &mut Conn,
                plan: &rollup_reads::Plan,
                opd: Option<&str>,
                Rank { leg_name, leg, k }: Rank<'_>,
                values: &mut BucketValues,
            ) -> Result<i64, StoreError> {
                use $crate::rollup::{bucket, bucket_range, day};
                use $crate::rollup_reads as rr;
                let Some((b, below)) = leg.locate(k) else {
                    return Err(out_of_step());
                };
                // Usually the bucket has no values read row by row: the
                // index walks to the value (skipping entries, not fetching them).
                let no_direct = !leg.direct.iter().any(|v| bucket(*v) == b);
                if let (true, true, Some((from, to))) =
                    (no_direct, plan.direct_days.is_empty(), plan.full)
                {
                    let v: Option<i64> = rr::bucket_nth_query::<DB>(
                        opd,
                        leg_name,
                        bucket_range(b),
                        from,
                        to,
                        k - below,
                    )
                    .build_query_scalar()
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(sql)?;
                    return v.ok_or_else(out_of_step);
                }
                if let std::collections::hash_map::Entry::Vacant(vacant) =
                    values.entry((leg_name.to_string(), b))
                {
                    let mut in_bucket: Vec<i64> = leg
                        .direct
                        .iter()
                        .copied()
                        .filter(|v| bucket(*v) == b)
                        .collect();
                    if let Some((from, to)) = plan.full {
                        let rows: Vec<(i64, DateTime<Utc>)> =
                            rr::bucket_values_query::<DB>(opd, leg_name, bucket_range(b), from, to)
                                .build_query_as()
                                .fetch_all(&mut *conn)
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
                in_bucket
                    .get((k - below) as usize)
                    .copied()
                    .ok_or_else(out_of_step)
            }

            #[async_trait::async_trait]
            impl Shared for $Backend {
                async fn page(
                    &self,
                    filter: &SummaryFilter,
                    after: Option<&Keyset>,
                    first: i64,
                ) -> Result<Vec<SummaryRow>, StoreError> {
                    page_query::<DB>(filter, after, first)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn swept_page(
                    &self,
                    filter: &SummaryFilter,
                    after: Option<&Keyset>,
                    first: i64,
                ) -> Result<Vec<SummaryRow>, StoreError> {
                    let mut tx = self.pool.begin().await.map_err(sql)?;
                    if let Some(s) = self.snapshot() {
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
                        Some(at) if at <= filter.now => {
                            swept_page_query::<DB>(filter, after, first, at)
                        }
                        _ => page_query::<DB>(filter, after, first),
                    };
                    let rows: Vec<SummaryRow> = query
                        .build_query_as()
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(sql)?;
                    tx.commit().await.map_err(sql)?;
                    Ok(rows)
                }

                async fn count_from_rollup(
                    &self,
                    filter: &SummaryFilter,
                ) -> Result<i64, StoreError> {
                    let mut tx = self.pool.begin().await.map_err(sql)?;
                    if let Some(s) = self.snapshot() {
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
                }

                async fn count_rows(&self, filter: &SummaryFilter) -> Result<i64, StoreError> {
                    count_query::<DB>(filter)
                        .build_query_scalar()
                        .fetch_one(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn one(&self, id: &str) -> Result<Option<(SummaryRow, Case)>, StoreError> {
                    let row = one_query::<DB>(id)
                        .build()
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(sql)?;
                    row.map(|row| {
                        let summary = SummaryRow::from_row(&row)?;
                        let Json(case) = row.try_get::<Json<Case>, _>("state")?;
                        Ok((summary, case))
                    })
                    .transpose()
                    .map_err(sql)
                }

                async fn rows(
                    &self,
                    filter: &SummaryFilter,
                    cap: i64,
                ) -> Result<Vec<SummaryRow>, StoreError> {
                    $crate::summary_query::rows_query::<DB>(filter, cap)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn points(
                    &self,
                    filter: &SummaryFilter,
                ) -> Result<Vec<(Option<f64>, Option<f64>)>, StoreError> {
                    $crate::summary_query::points_query::<DB>(filter)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn many(
                    &self,
                    ids: &[String],
                ) -> Result<Vec<(SummaryRow, Case)>, StoreError> {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let rows = many_query::<DB>(ids)
                        .build()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)?;
                    rows.iter()
                        .map(|row| {
                            let summary = SummaryRow::from_row(row)?;
                            let Json(case) = row.try_get::<Json<Case>, _>("state")?;
                            Ok((summary, case))
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()
                        .map_err(sql)
                }

                async fn duplicates(
                    &self,
                    id: &str,
                    limit: i64,
                ) -> Result<Vec<SummaryRow>, StoreError> {
                    duplicates_query::<DB>(id, limit)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn timers(
                    &self,
                    filter: &TimerFilter,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<Vec<TimerRow>, StoreError> {
                    timers_query::<DB>(filter, now, limit)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn dashboard(
                    &self,
                    scope: &Scope,
                    now: DateTime<Utc>,
                ) -> Result<Dashboard, StoreError> {
                    let plan = rollup_reads::plan(scope, now);
                    let opd = scope.opd.as_deref();
                    let mut tx = self.pool.begin().await.map_err(sql)?;
                    if let Some(s) = self.snapshot() {
                        sqlx::query(s).execute(&mut *tx).await.map_err(sql)?;
                    }
                    let mut parts = rollup_reads::Parts::default();
                    dashboard_days(&mut tx, &plan, opd, now, &mut parts).await?;
                    dashboard_direct(&mut tx, &plan, opd, now, &mut parts).await?;
                    let percentiles = dashboard_percentiles(&mut tx, &plan, opd, &parts).await?;
                    tx.commit().await.map_err(sql)?;
                    Ok(rollup_reads::assemble(&parts, percentiles))
                }

                async fn cases_and_compliance(
                    &self,
                    scope: &Scope,
                    now: DateTime<Utc>,
                ) -> Result<(CaseCounts, Compliance), StoreError> {
                    let cases = dashboard::cases_query::<DB>(scope, now)
                        .build_query_as()
                        .fetch_one(&self.pool)
                        .await
                        .map_err(sql)?;
                    let compliance = dashboard::compliance_query::<DB>(scope)
                        .build_query_as()
                        .fetch_one(&self.pool)
                        .await
                        .map_err(sql)?;
                    Ok((cases, compliance))
                }

                async fn city_stats(
                    &self,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                    group: GroupBy,
                    opd: Option<&str>,
                    utc_offset: &str,
                ) -> Result<Vec<StatRow>, StoreError> {
                    let day = self.local_day();
                    dashboard::city_stats_query::<DB>(from, to, group, opd, utc_offset, day)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn ikm(
                    &self,
                    from: DateTime<Utc>,
                    to: DateTime<Utc>,
                    group: Option<$crate::survey::IkmGroupBy>,
                    opd: Option<&str>,
                ) -> Result<Vec<$crate::survey::IkmRow>, StoreError> {
                    $crate::survey::ikm_query::<DB>(from, to, group, opd)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn hotspot_cells(
                    &self,
                    filter: &$crate::hotspots_query::HotspotFilter,
                ) -> Result<Vec<$crate::hotspots_query::CellCount>, StoreError> {
                    $crate::hotspots_query::cells_query::<DB>(filter)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn hotspot_kelurahan(
                    &self,
                    filter: &$crate::hotspots_query::HotspotFilter,
                ) -> Result<Vec<$crate::hotspots_query::KelurahanCount>, StoreError> {
                    $crate::hotspots_query::kelurahan_query::<DB>(filter)
                        .build_query_as()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn progress(&self, projection: &str) -> Result<Progress, StoreError> {
                    sqlx::QueryBuilder::<DB>::new(
                        "SELECT last_position AS position, events_seen, updated_at \
                         FROM projection_checkpoints WHERE name = ",
                    )
                    .push_bind(projection.to_string())
                    .build_query_as()
                    .fetch_optional(&self.pool)
                    .await
                    .map(Option::unwrap_or_default)
                    .map_err(sql)
                }

                async fn watch_candidates(
                    &self,
                    now: DateTime<Utc>,
                    limit: i64,
                ) -> Result<Vec<String>, StoreError> {
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
                    q.build_query_scalar()
                        .fetch_all(&self.pool)
                        .await
                        .map_err(sql)
                }

                async fn sweep(
                    &self,
                    table: &str,
                    at: DateTime<Utc>,
                    chunk: i64,
                ) -> Result<SweepReport, StoreError> {
                    let _turn = self.follower_turn("sla sweep").await?;
                    let mut tx = self.pool.begin().await.map_err(sql)?;
                    // A write first: on SQLite the transaction then holds the write
                    // lock, so what it reads next cannot change under it (PostgreSQL
                    // locks the row: `lock_row`).
                    sqlx::query(
                        "INSERT INTO sla_sweeps (name, swept_at) VALUES ($1, NULL) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(table)
                    .execute(&mut *tx)
                    .await
                    .map_err(sql)?;
                    let from: Option<DateTime<Utc>> = sqlx::query_scalar(&format!(
                        "SELECT swept_at FROM sla_sweeps WHERE name = $1{}",
                        self.lock_row()
                    ))
                    .bind(table)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(sql)?;
                    let to = from.map_or(at, |f| f.max(at));
                    let rows = update_query::<DB>(table, from, to, chunk)
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(sql)?
                        .rows_affected();
                    sqlx::query("UPDATE sla_sweeps SET swept_at = $1 WHERE name = $2")
                        .bind(to)
                        .bind(table)
                        .execute(&mut *tx)
                        .await
                        .map_err(sql)?;
                    tx.commit().await.map_err(sql)?;
                    Ok(SweepReport { swept_at: to, rows })
                }

                fn connections(&self) -> Connections {
                    let (size, idle) = (self.pool.size(), self.pool.num_idle() as u32);
                    Connections {
                        in_use: size.saturating_sub(idle),
                        idle,
                        max: self.pool.options().get_max_connections(),
                    }
                }
            }
        };
    };
}
