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
use crate::sla_query::{timers_query, TimerFilter, TimerRow};
use crate::summary_query::{
    count_query, one_query, page_query, split_page, Keyset, Progress, SummaryFilter, SummaryRow,
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
        let rows = on_db!(&self.db, pool, DB => page_query::<DB>(filter, after, first)
            .build_query_as()
            .fetch_all(pool)
            .await)
        .map_err(sql)?;
        Ok(split_page(rows, first))
    }

    pub async fn count(&self, filter: &SummaryFilter) -> Result<i64, StoreError> {
        on_db!(&self.db, pool, DB => count_query::<DB>(filter)
            .build_query_scalar()
            .fetch_one(pool)
            .await)
        .map_err(sql)
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
    /// open and overdue counts as of `now`.
    pub async fn dashboard(
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
