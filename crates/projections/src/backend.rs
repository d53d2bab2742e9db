//! The read side's only way to its database. The projector, `Reads`, the rebuild
//! and the SLA sweep hold an `Arc<dyn Backend>` and never learn which database is
//! under it: `for_log` is the one place that looks.
//!
//! A backend has two halves:
//! - `Specific`: what each database does its own way (transactions, checkpoints,
//!   rebuilds, snapshots, percentiles, the local day, lag),
//!   written in `pg.rs` and `sqlite.rs` and nowhere else;
//! - `Shared`: the statements whose text is the same on both, written once in
//!   `shared.rs` and compiled for each database by `shared_backend!` (sqlx's query
//!   builders are generic, but running them takes the database's concrete types).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use aduan_domain::Case;
use aduan_store::{Checkpoint, Db, EventLog, StoreError};

use crate::dashboard::{CaseCounts, Compliance, Dashboard, GroupBy, Percentiles, Scope, StatRow};
use crate::projector::{Batch, Projector};
use crate::sla_query::{TimerFilter, TimerRow};
use crate::sla_sweep::SweepReport;
use crate::summary_query::{Keyset, Progress, SummaryFilter, SummaryRow};

/// One database under the read side.
pub(crate) trait Backend: Specific + Shared + std::fmt::Debug {}

impl<T: Specific + Shared + std::fmt::Debug> Backend for T {}

/// The backend of the database under `log`.
pub(crate) fn for_log(log: &dyn EventLog) -> Arc<dyn Backend> {
    for_db(log.db())
}

/// The backend of a database: the only match on the kind of database in the
/// read side.
pub(crate) fn for_db(db: Db) -> Arc<dyn Backend> {
    match db {
        Db::Postgres(pool) => Arc::new(crate::pg::PgBackend { pool }),
        Db::Sqlite(pool) => Arc::new(crate::sqlite::SqliteBackend { pool }),
    }
}

/// The pool's connections, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    pub in_use: u32,
    pub idle: u32,
    pub max: u32,
}

/// What each database does its own way (`pg.rs`, `sqlite.rs`).
#[async_trait]
pub(crate) trait Specific: Send + Sync {
    /// The projection's checkpoint (zeros before its first batch).
    async fn checkpoint(&self, name: &str) -> Result<Checkpoint, StoreError>;

    /// Applies the projector's next batch with its checkpoint in one
    /// transaction; returns how many events it applied.
    async fn step(&self, projector: &Projector) -> Result<usize, StoreError>;

    /// Writes a computed batch and moves the checkpoint on from `from`, in a
    /// transaction of its own.
    async fn write_batch(
        &self,
        projector: &Projector,
        from: Checkpoint,
        batch: &Batch,
    ) -> Result<(), StoreError>;

    /// Folds `name`'s all-time counters as of `now` (`rollup_fold`) in a
    /// transaction of its own; how many counters are gone.
    async fn fold_counters(&self, name: &str, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Adds `deltas` to `name`'s roll-up in a transaction of its own.
    async fn write_rollup_deltas(
        &self,
        name: &str,
        deltas: &[(String, String, String, i64)],
    ) -> Result<(), StoreError>;

    /// Builds `shadow`'s table from zero beside the live table `name` and swaps
    /// it in (see `rebuild.rs`).
    async fn rebuild(&self, shadow: &Projector, name: &str) -> Result<(), StoreError>;

    /// The statement that makes a read transaction one snapshot, if it is not one
    /// already.
    fn snapshot(&self) -> Option<&'static str>;

    /// What the sweep appends to its read of `sla_sweeps` so that sweeps
    /// serialize on the row.
    fn lock_row(&self) -> &'static str;

    /// This process's turn to write, where the database has one writer at a
    /// time (SQLite: a follower's, `aduan_store::write_turn`); taken before a
    /// write transaction of the read side's own (the sweep). `writer` names
    /// it in the turn's trace.
    async fn follower_turn(
        &self,
        _writer: &str,
    ) -> Result<Option<aduan_store::write_turn::WriteTurn>, StoreError> {
        Ok(None)
    }

    /// The SQL around a "+HH:MM" offset bound between them that gives the local
    /// day (`YYYY-MM-DD`) of `created_at`.
    fn local_day(&self) -> (&'static str, &'static str);

    /// Median and p90 of the time used by the stopped clocks of `leg`.
    async fn percentiles(&self, scope: &Scope, leg: &str) -> Result<Percentiles, StoreError>;

    /// The hand-offs of `handoffs::handoffs_query`.
    async fn handoffs(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        opd: Option<&str>,
    ) -> Result<Vec<crate::handoffs::HandoffRow>, StoreError>;

    /// The breaches per holder charged of `handoffs::breaches_query`.
    async fn breaches_by_holder(
        &self,
        scope: &Scope,
    ) -> Result<Vec<crate::handoffs::HolderBreaches>, StoreError>;

    /// Whether the projection has applied the event at `position`.
    async fn has_applied(&self, projection: &str, position: i64) -> Result<bool, StoreError>;

    /// How many events (at most `cap`) the projection has not applied yet, and
    /// the age in seconds of the oldest of them, in the projector's reading order.
    async fn lag(&self, projection: &str, cap: i64) -> Result<(i64, Option<f64>), StoreError>;
}

/// The statements that read the same on both databases (`shared.rs`).
#[async_trait]
pub(crate) trait Shared: Send + Sync {
    async fn page(
        &self,
        filter: &SummaryFilter,
        after: Option<&Keyset>,
        first: i64,
    ) -> Result<Vec<SummaryRow>, StoreError>;

    /// A page through the swept SLA standing, read in one snapshot with the
    /// sweep's instant.
    async fn swept_page(
        &self,
        filter: &SummaryFilter,
        after: Option<&Keyset>,
        first: i64,
    ) -> Result<Vec<SummaryRow>, StoreError>;

    /// `Reads::count` from the roll-up's counters (for `rollup_reads::countable`).
    async fn count_from_rollup(&self, filter: &SummaryFilter) -> Result<i64, StoreError>;

    async fn count_rows(&self, filter: &SummaryFilter) -> Result<i64, StoreError>;

    async fn one(&self, id: &str) -> Result<Option<(SummaryRow, Case)>, StoreError>;

    /// Every row matching, unordered, at most `cap` (`summary_query::rows_query`).
    async fn rows(&self, filter: &SummaryFilter, cap: i64) -> Result<Vec<SummaryRow>, StoreError>;

    /// The coordinates of every row matching.
    async fn points(
        &self,
        filter: &SummaryFilter,
    ) -> Result<Vec<(Option<f64>, Option<f64>)>, StoreError>;

    async fn many(&self, ids: &[String]) -> Result<Vec<(SummaryRow, Case)>, StoreError>;

    /// See `summary_query::duplicates_query`.
    async fn duplicates(&self, id: &str, limit: i64) -> Result<Vec<SummaryRow>, StoreError>;

    async fn timers(
        &self,
        filter: &TimerFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<TimerRow>, StoreError>;

    async fn dashboard(&self, scope: &Scope, now: DateTime<Utc>) -> Result<Dashboard, StoreError>;

    /// The case counts and compliance of `Reads::dashboard_direct`.
    async fn cases_and_compliance(
        &self,
        scope: &Scope,
        now: DateTime<Utc>,
    ) -> Result<(CaseCounts, Compliance), StoreError>;

    async fn city_stats(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        group: GroupBy,
        opd: Option<&str>,
        utc_offset: &str,
    ) -> Result<Vec<StatRow>, StoreError>;

    async fn progress(&self, projection: &str) -> Result<Progress, StoreError>;

    async fn watch_candidates(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<String>, StoreError>;

    /// See `sla_sweep`.
    async fn sweep(
        &self,
        table: &str,
        at: DateTime<Utc>,
        chunk: i64,
    ) -> Result<SweepReport, StoreError>;

    fn connections(&self) -> Connections;

    /// Counts per stored H3 cell (see `hotspots_query`).
    async fn hotspot_cells(
        &self,
        filter: &crate::hotspots_query::HotspotFilter,
    ) -> Result<Vec<crate::hotspots_query::CellCount>, StoreError>;

    /// Counts per kelurahan (see `hotspots_query`).
    async fn hotspot_kelurahan(
        &self,
        filter: &crate::hotspots_query::HotspotFilter,
    ) -> Result<Vec<crate::hotspots_query::KelurahanCount>, StoreError>;

    /// Sums of the satisfaction surveys answered in `[from, to)` (see `survey`).
    async fn ikm(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        group: Option<crate::survey::IkmGroupBy>,
        opd: Option<&str>,
    ) -> Result<Vec<crate::survey::IkmRow>, StoreError>;
}
