//! Every read of the projection tables, on whichever database holds them. The
//! queries are built once (`summary_query`, `sla_query`, `dashboard`,
//! `rollup_reads`) and run by the database's backend (`backend.rs`); what is
//! decided here reads no database.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use aduan_domain::Case;
use aduan_store::{EventLog, StoreError};

use crate::backend::{self, Backend, Connections};
use crate::dashboard::{Dashboard, GroupBy, Scope, StatRow};
use crate::replicas::{self, Link};
use crate::rollup_reads;
use crate::sla_query::{TimerFilter, TimerRow};
use crate::summary_query::{split_page, sweepable, Keyset, Progress, SummaryFilter, SummaryRow};

/// What a backend's read returns (`async_trait`'s boxed future).
pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The read side's queries over the database under one event log, or over a
/// streaming replica of it (`replicas.rs`).
#[derive(Debug, Clone)]
pub struct Reads {
    pub(crate) backend: Arc<dyn Backend>,
    /// On a replica: the primary that answers what the replica fails.
    pub(crate) replica: Option<Arc<Link>>,
}

impl Reads {
    pub fn new(log: &dyn EventLog) -> Self {
        Reads {
            backend: backend::for_log(log),
            replica: None,
        }
    }

    /// Runs one read on this read side's database. On a replica, a read the
    /// replica fails (or one while it is set aside after a failure) is
    /// answered by the primary instead: a replica never fails a read the
    /// primary could answer.
    pub(crate) async fn run<'a, T>(
        &'a self,
        read: impl Fn(&'a dyn Backend) -> BoxFuture<'a, Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let Some(link) = &self.replica else {
            return read(self.backend.as_ref()).await;
        };
        if link.available() {
            match read(self.backend.as_ref()).await {
                Ok(found) => {
                    replicas::count_read(replicas::ANSWERED);
                    return Ok(found);
                }
                Err(error) => link.failed(&error),
            }
        }
        replicas::count_read(replicas::FELL_BACK);
        read(link.primary.as_ref()).await
    }

    /// One page of `complaint_summary` (newest first) plus whether more follow.
    /// An SLA-state page reads the last sweep's instant and the rows in one
    /// snapshot, through the swept column when the sweep is not after `now`.
    pub async fn page(
        &self,
        filter: &SummaryFilter,
        after: Option<&Keyset>,
        first: i64,
    ) -> Result<(Vec<SummaryRow>, bool), StoreError> {
        let rows = if sweepable(filter) {
            self.run(|b| b.swept_page(filter, after, first)).await?
        } else {
            self.run(|b| b.page(filter, after, first)).await?
        };
        Ok(split_page(rows, first))
    }

    /// The id of the case with this number (`CaseNumber`'s spelling), through
    /// the summary's `number` index.
    pub async fn id_by_number(&self, number: &str) -> Result<Option<String>, StoreError> {
        let filter = SummaryFilter {
            number: Some(number.to_string()),
            ..SummaryFilter::default()
        };
        let (rows, _) = self.page(&filter, None, 1).await?;
        Ok(rows.into_iter().next().map(|r| r.complaint_id))
    }

    /// How many rows match: from the roll-up's counters when the filter is only
    /// about statuses, OPDs and SLA states (plus an exact count of the cases
    /// whose standing turns today), else counted over the rows.
    pub async fn count(&self, filter: &SummaryFilter) -> Result<i64, StoreError> {
        if rollup_reads::countable(filter) && crate::rollup_fold::counters_answer(filter.now) {
            self.run(|b| b.count_from_rollup(filter)).await
        } else {
            self.count_rows(filter).await
        }
    }

    /// `count` over the rows themselves.
    pub async fn count_rows(&self, filter: &SummaryFilter) -> Result<i64, StoreError> {
        self.run(|b| b.count_rows(filter)).await
    }

    /// One complaint's row and its folded case (without personal data), if projected.
    pub async fn one(&self, id: &str) -> Result<Option<(SummaryRow, Case)>, StoreError> {
        self.run(|b| b.one(id)).await
    }

    /// Several complaints' rows and folded cases (without personal data), by
    /// id, in the order of `ids`; ids not projected are left out.
    pub async fn many(&self, ids: &[String]) -> Result<Vec<(SummaryRow, Case)>, StoreError> {
        let order: std::collections::HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut found = self.run(|b| b.many(ids)).await?;
        found.sort_by_key(|(row, _)| order.get(row.complaint_id.as_str()).copied());
        Ok(found)
    }

    /// The cases whose `duplicate_of` is `id`, oldest first, at most `limit`.
    pub async fn duplicates(&self, id: &str, limit: i64) -> Result<Vec<SummaryRow>, StoreError> {
        self.run(|b| b.duplicates(id, limit)).await
    }

    /// The cases linked to `primary` (status DUPLICATE, following it) once the
    /// summary has applied the event at `position` (or as it stands when it
    /// has not within `timeout`: `None`).
    pub async fn linked_after(
        &self,
        primary: &str,
        position: i64,
        timeout: Duration,
    ) -> Result<Option<Vec<String>>, StoreError> {
        if !self
            .wait_for("complaint_summary", position, timeout)
            .await?
        {
            return Ok(None);
        }
        // DuplicateLinked sets both `duplicate_of` and the followed primary;
        // only a linked case is DUPLICATE.
        let linked = SummaryFilter {
            duplicates_of: vec![primary.to_string()],
            statuses: vec![aduan_domain::Status::Duplicate.as_str().to_string()],
            ..SummaryFilter::default()
        };
        let mut ids: Vec<String> = self
            .run(|b| b.rows(&linked, i64::MAX))
            .await?
            .into_iter()
            .map(|r| r.complaint_id)
            .collect();
        ids.sort();
        Ok(Some(ids))
    }

    /// SLA clocks matching `filter`, with states as of `now`.
    pub async fn timers(
        &self,
        filter: &TimerFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<TimerRow>, StoreError> {
        self.run(|b| b.timers(filter, now, limit)).await
    }

    /// The dashboard of one OPD (or the city) for cases created in the scope;
    /// open and overdue counts as of `now`. Served by the roll-ups: whole days
    /// from them, the rest row by row (see `rollup_reads`).
    pub async fn dashboard(
        &self,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Dashboard, StoreError> {
        self.run(|b| b.dashboard(scope, now)).await
    }

    /// The dashboard computed over the rows themselves (what the roll-ups must
    /// reproduce; the tests compare the two).
    pub async fn dashboard_direct(
        &self,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<Dashboard, StoreError> {
        let (cases, compliance) = self.run(|b| b.cases_and_compliance(scope, now)).await?;
        let respond = self.run(|b| b.percentiles(scope, "RESPOND")).await?;
        let resolve = self.run(|b| b.percentiles(scope, "RESOLVE")).await?;
        Ok(Dashboard::assemble(cases, compliance, respond, resolve))
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
        self.run(|b| b.city_stats(from, to, group, opd, utc_offset))
            .await
    }

    /// The satisfaction surveys answered in `[from, to)`, summed per group (one
    /// row, key '', without a group; none without respondents when grouped).
    /// The hand-offs in `[from, to)` per pair of holders (`handoffs::roll_up`).
    pub async fn handoffs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        opd: Option<&str>,
    ) -> Result<Vec<crate::handoffs::PairFigures>, StoreError> {
        let rows = self.run(|b| b.handoffs(from, to, opd)).await?;
        Ok(crate::handoffs::roll_up(&rows))
    }

    /// The SLA breaches of the cases created in the scope's range, per
    /// holder charged (who held the case when the deadline passed).
    pub async fn breaches_by_holder(
        &self,
        scope: &Scope,
    ) -> Result<Vec<crate::handoffs::HolderBreaches>, StoreError> {
        self.run(|b| b.breaches_by_holder(scope)).await
    }

    pub async fn ikm(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        group: Option<crate::survey::IkmGroupBy>,
        opd: Option<&str>,
    ) -> Result<Vec<crate::survey::IkmRow>, StoreError> {
        self.run(|b| b.ikm(from, to, group, opd)).await
    }

    /// Where the cases `filter` selects cluster: counts per H3 cell at
    /// `resolution` (in `hotspots_query::RESOLUTIONS`), most cases first.
    pub async fn hotspot_cells(
        &self,
        filter: &crate::hotspots_query::HotspotFilter,
        resolution: u8,
    ) -> Result<Vec<crate::hotspots_query::CellCount>, StoreError> {
        let stored = self.run(|b| b.hotspot_cells(filter)).await?;
        Ok(crate::hotspots_query::roll_up(&stored, resolution))
    }

    /// The same counts per kelurahan, most cases first.
    pub async fn hotspot_kelurahan(
        &self,
        filter: &crate::hotspots_query::HotspotFilter,
    ) -> Result<Vec<crate::hotspots_query::KelurahanCount>, StoreError> {
        let mut rows = self.run(|b| b.hotspot_kelurahan(filter)).await?;
        rows.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.kelurahan.cmp(&b.kelurahan)));
        Ok(rows)
    }

    /// How far the projection has read (zeros before its first batch).
    pub async fn progress(&self, projection: &str) -> Result<Progress, StoreError> {
        self.run(|b| b.progress(projection)).await
    }

    /// Whether the projection has applied the event at `position`.
    pub async fn has_applied(&self, projection: &str, position: i64) -> Result<bool, StoreError> {
        self.run(|b| b.has_applied(projection, position)).await
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
        self.run(|b| b.watch_candidates(now, limit)).await
    }

    /// How many events (at most `cap`) the projection has not applied yet, and
    /// the age in seconds of the oldest of them (0 when none). Both follow the
    /// projector's own reading order from its checkpoint, so an event held back
    /// behind a running transaction counts as lag.
    pub async fn lag(&self, projection: &str, cap: i64) -> Result<(i64, f64), StoreError> {
        let (events, seconds) = self.run(|b| b.lag(projection, cap)).await?;
        Ok((events, seconds.unwrap_or(0.0)))
    }

    /// The database pool's connections.
    pub fn connections(&self) -> Connections {
        self.backend.connections()
    }
}
