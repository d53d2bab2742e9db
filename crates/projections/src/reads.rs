//! Every read of the projection tables, on whichever database holds them. The
//! queries are built once (`summary_query`, `sla_query`, `dashboard`) for both;
//! what differs is said here, per database, in a match arm.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, Postgres, Row, Sqlite};

use aduan_domain::Case;
use aduan_store::{Db, StoreError};

use crate::dashboard::{self, Dashboard, GroupBy, Percentiles, Scope, StatRow};
use crate::sla_query::{timers_query, TimerFilter, TimerRow};
use crate::summary_query::{
    count_query, one_query, page_query, split_page, Keyset, Progress, SummaryFilter, SummaryRow,
};

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
        let rows = match &self.db {
            Db::Postgres(pool) => {
                page_query::<Postgres>(filter, after, first)
                    .build_query_as()
                    .fetch_all(pool)
                    .await
            }
            Db::Sqlite(pool) => {
                page_query::<Sqlite>(filter, after, first)
                    .build_query_as()
                    .fetch_all(pool)
                    .await
            }
        }
        .map_err(sql)?;
        Ok(split_page(rows, first))
    }

    pub async fn count(&self, filter: &SummaryFilter) -> Result<i64, StoreError> {
        match &self.db {
            Db::Postgres(pool) => {
                count_query::<Postgres>(filter)
                    .build_query_scalar()
                    .fetch_one(pool)
                    .await
            }
            Db::Sqlite(pool) => {
                count_query::<Sqlite>(filter)
                    .build_query_scalar()
                    .fetch_one(pool)
                    .await
            }
        }
        .map_err(sql)
    }

    /// One complaint's row and its folded case (without personal data), if projected.
    pub async fn one(&self, id: &str) -> Result<Option<(SummaryRow, Case)>, StoreError> {
        fn split<R: Row>(row: R) -> Result<(SummaryRow, Case), sqlx::Error>
        where
            SummaryRow: for<'r> FromRow<'r, R>,
            Json<Case>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            for<'c> &'c str: sqlx::ColumnIndex<R>,
        {
            let summary = SummaryRow::from_row(&row)?;
            let Json(case) = row.try_get::<Json<Case>, _>("state")?;
            Ok((summary, case))
        }
        match &self.db {
            Db::Postgres(pool) => {
                match one_query::<Postgres>(id).build().fetch_optional(pool).await {
                    Ok(row) => row.map(split).transpose(),
                    Err(e) => Err(e),
                }
            }
            Db::Sqlite(pool) => match one_query::<Sqlite>(id).build().fetch_optional(pool).await {
                Ok(row) => row.map(split).transpose(),
                Err(e) => Err(e),
            },
        }
        .map_err(sql)
    }

    /// SLA clocks matching `filter`, with states as of `now`.
    pub async fn timers(
        &self,
        filter: &TimerFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<TimerRow>, StoreError> {
        match &self.db {
            Db::Postgres(pool) => {
                timers_query::<Postgres>(filter, now, limit)
                    .build_query_as()
                    .fetch_all(pool)
                    .await
            }
            Db::Sqlite(pool) => {
                timers_query::<Sqlite>(filter, now, limit)
                    .build_query_as()
                    .fetch_all(pool)
                    .await
            }
        }
        .map_err(sql)
    }

    /// The dashboard of one OPD (or the city) for cases created in the scope;
    /// open and overdue counts as of `now`.
    pub async fn dashboard(
        &self,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Dashboard, StoreError> {
        match &self.db {
            Db::Postgres(pool) => {
                let cases = dashboard::cases_query::<Postgres>(scope, now)
                    .build_query_as()
                    .fetch_one(pool)
                    .await
                    .map_err(sql)?;
                let compliance = dashboard::compliance_query::<Postgres>(scope)
                    .build_query_as()
                    .fetch_one(pool)
                    .await
                    .map_err(sql)?;
                let mut pct = Vec::new();
                for leg in ["RESPOND", "RESOLVE"] {
                    pct.push(pg_percentiles(pool, scope, leg).await?);
                }
                let resolve = pct.pop().unwrap_or_default();
                let respond = pct.pop().unwrap_or_default();
                Ok(Dashboard::assemble(cases, compliance, respond, resolve))
            }
            // SQLite has no percentile_cont: the durations come back sorted and
            // the percentiles are taken here (a municipality's year is small).
            Db::Sqlite(pool) => {
                let cases = dashboard::cases_query::<Sqlite>(scope, now)
                    .build_query_as()
                    .fetch_one(pool)
                    .await
                    .map_err(sql)?;
                let compliance = dashboard::compliance_query::<Sqlite>(scope)
                    .build_query_as()
                    .fetch_one(pool)
                    .await
                    .map_err(sql)?;
                let mut pct = Vec::new();
                for leg in ["RESPOND", "RESOLVE"] {
                    let used: Vec<i64> = dashboard::durations_query::<Sqlite>(scope, leg)
                        .build_query_scalar()
                        .fetch_all(pool)
                        .await
                        .map_err(sql)?;
                    pct.push(Percentiles {
                        p50: dashboard::percentile(&used, 0.5),
                        p90: dashboard::percentile(&used, 0.9),
                    });
                }
                let resolve = pct.pop().unwrap_or_default();
                let respond = pct.pop().unwrap_or_default();
                Ok(Dashboard::assemble(cases, compliance, respond, resolve))
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
        utc_offset: &str,
    ) -> Result<Vec<StatRow>, StoreError> {
        match &self.db {
            // An interval offset, unlike a POSIX zone name, keeps ISO's sign: +08:00 is east.
            Db::Postgres(pool) => {
                dashboard::city_stats_query::<Postgres>(
                    from,
                    to,
                    group,
                    utc_offset,
                    (
                        "to_char(created_at AT TIME ZONE CAST(",
                        " AS interval), 'YYYY-MM-DD')",
                    ),
                )
                .build_query_as()
                .fetch_all(pool)
                .await
            }
            // SQLite's date functions take the offset as a "+HH:MM" modifier.
            Db::Sqlite(pool) => {
                dashboard::city_stats_query::<Sqlite>(
                    from,
                    to,
                    group,
                    utc_offset,
                    ("strftime('%Y-%m-%d', created_at, ", ")"),
                )
                .build_query_as()
                .fetch_all(pool)
                .await
            }
        }
        .map_err(sql)
    }

    /// How far the projection has read (zeros before its first batch).
    pub async fn progress(&self, projection: &str) -> Result<Progress, StoreError> {
        const SQL: &str = "SELECT last_position AS position, events_seen, updated_at \
                           FROM projection_checkpoints WHERE name = ";
        match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as(&format!("{SQL}$1"))
                    .bind(projection)
                    .fetch_optional(pool)
                    .await
            }
            Db::Sqlite(pool) => {
                sqlx::query_as(&format!("{SQL}?"))
                    .bind(projection)
                    .fetch_optional(pool)
                    .await
            }
        }
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
        const SQL: &str = "SELECT complaint_id FROM sla_timers \
               WHERE stopped_at IS NULL AND NOT paused AND deadline < $1 \
             UNION \
             SELECT complaint_id FROM complaint_summary WHERE status = 'WAITING_FOR_INFO' \
             LIMIT $2";
        match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_scalar(SQL)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
            Db::Sqlite(pool) => {
                sqlx::query_scalar(SQL)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
        }
        .map_err(sql)
    }
}

async fn pg_percentiles(
    pool: &sqlx::PgPool,
    scope: &Scope,
    leg: &str,
) -> Result<Percentiles, StoreError> {
    dashboard::percentile_cont_query::<Postgres>(scope, leg)
        .build_query_as()
        .fetch_one(pool)
        .await
        .map_err(sql)
}
