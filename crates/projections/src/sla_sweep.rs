//! The SLA standing "as of the last sweep" (`complaint_summary.sla_state_swept`),
//! so a page of cases in one SLA state is an index range instead of a walk over
//! the newest cases.
//!
//! A case's standing changes with the clock (its stored `sla_state` is as of its
//! last event; `sla_at_risk_at` and `sla_deadline` say when it worsens). The sweep
//! records, in one transaction, each row's standing at an instant `T` and `T`
//! itself (`sla_sweeps`). The projector writes NULL ("unswept") into the column
//! with every row it writes. So at any `now >= T`, in one snapshot, a row is
//! either unswept, or its swept standing is its standing at `T`, and its standing
//! at `now` differs from that only if `sla_at_risk_at` or `sla_deadline` falls in
//! `[T, now]`. A page in state S (see `summary_query::swept_page_query`) reads
//! the rows swept as S, the unswept rows and the rows whose instants fell since
//! `T`, each an ordered index range, and keeps those whose standing at `now` (the
//! same exact rule as without a sweep) is S. A late sweep costs speed, never
//! correctness; a `now` before `T` reads the rows without the column.
//!
//! Each sweep moves `T` forward (never back) and re-sweeps the rows whose
//! instants fell in `[previous T, new T]`, and up to `CHUNK` unswept rows, newest
//! first: a row left unswept is still read right. So a sweep costs what changed
//! since the last one, never the table: each part is an ordered range of its own
//! index, found by a plain index scan (a bitmap scan over `sla_state_swept IS
//! NULL` visited every row a sweep had rewritten until VACUUM came by: 1.2 s per
//! sweep on a million events). After a catch-up the leader sweeps again as soon
//! as it is idle while a sweep fills its chunk. The projector's leader runs it
//! between its batches, so it never races the projector's own writes; sweeps
//! serialize on their `sla_sweeps` row.
//!
//! The column is a cache of the clock, not a function of the events: a rebuilt
//! table has every row unswept until the next sweep (rebuild comparisons see it
//! NULL on both sides when no sweep ran between them).

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use aduan_store::{EventLog, StoreError};

use crate::summary_query::push_sla_state;

/// How often the projector's leader sweeps (between batches).
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How many unswept rows one sweep takes at most: on SQLite a sweep holds the
/// write lock, and 2,000 rows of `complaint_summary` (37 indexes) take a few
/// hundred milliseconds.
pub const CHUNK: i64 = 2_000;

/// The swept value of a row without any SLA clock (NULL means unswept).
pub const NO_CLOCK: &str = "NONE";

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    pub swept_at: DateTime<Utc>,
    pub rows: u64,
}

/// The sweep of the rows whose standing may have changed since `from` (all of
/// them without one) to `to`, taking at most `chunk` unswept rows (run by
/// `shared.rs`).
pub(crate) fn update_query<'a, DB: Database>(
    table: &str,
    from: Option<DateTime<Utc>>,
    to: DateTime<Utc>,
    chunk: i64,
) -> QueryBuilder<'a, DB>
where
    String: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(format!("UPDATE {table} SET sla_state_swept = COALESCE("));
    push_sla_state(&mut q, to);
    q.push(", ").push_bind(NO_CLOCK.to_string()).push(")");
    if let Some(from) = from {
        q.push(format!(
            " WHERE complaint_id IN (SELECT complaint_id FROM (SELECT complaint_id FROM {table} \
             WHERE sla_state_swept IS NULL ORDER BY created_at DESC, complaint_id DESC LIMIT "
        ))
        .push_bind(chunk)
        .push(") unswept");
        for instant in ["sla_at_risk_at", "sla_deadline"] {
            q.push(format!(
                " UNION ALL SELECT complaint_id FROM {table} WHERE {instant} >= "
            ))
            .push_bind(from)
            .push(format!(" AND {instant} <= "))
            .push_bind(to);
        }
        q.push(")");
    }
    q
}

/// Sweeps `table` (a `complaint_summary`) of the database under `log` to `at`,
/// or to its last sweep's instant if that is later.
pub async fn sweep(
    log: &dyn EventLog,
    table: &str,
    at: DateTime<Utc>,
) -> Result<SweepReport, StoreError> {
    sweep_chunk(log, table, at, CHUNK).await
}

/// `sweep`, taking at most `chunk` unswept rows.
pub async fn sweep_chunk(
    log: &dyn EventLog,
    table: &str,
    at: DateTime<Utc>,
    chunk: i64,
) -> Result<SweepReport, StoreError> {
    crate::backend::for_log(log).sweep(table, at, chunk).await
}
