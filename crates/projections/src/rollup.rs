//! Roll-ups: counters a projection maintains beside its rows, in the same
//! transaction, so dashboards and list counts cost the number of days (or keys)
//! they span, not the number of complaints.
//!
//! A roll-up is a table `{projection}_rollup (opd, day, measure, n)`: `n` adds
//! up the contributions of the projection's current rows. A batch reads the old
//! rows it is about to replace, and adds (new contributions - old contributions):
//! the roll-up always equals what the rows give (tests compare it with a direct
//! computation; a rebuild builds the shadow's roll-up the same way and swaps it in).
//!
//! `opd` is '' for a case with no OPD; `day` is the UTC day (`YYYY-MM-DD`) the
//! case was created on, or '' for counters over all time (list totals).
//! Measures of `complaint_summary`:
//! - `open`, `rated`, `rating` (sum of ratings) per created day;
//! - `due|<deadline day>`: open cases with a running clock, by the day of their
//!   earliest deadline (overdue "now" is a sum over past days plus today's rows);
//! - day '': `c|<status>|<sla_state>|<at-risk day>|<deadline day>`: counts for
//!   `totalCount` of status, OPD and SLA-state filters.
//!
//! Measures of `sla_timers` (stopped clocks, per created day of their case):
//! `<LEG>|stopped`, `<LEG>|met`, and `<LEG>|h|<bucket>`: a histogram of
//! `used_seconds` in buckets of 1/16 octave (`bucket`), from which the exact
//! percentile is found by reading only the values of the bucket it falls in.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

use crate::rows::{Cell, TableSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Time,
}

/// What a projection's roll-up reads of its rows and what a row contributes.
pub struct RollupSpec {
    /// Columns of the projection's table the contributions read; the table's key
    /// columns come first, in `TableSpec::key` order.
    pub columns: &'static [(&'static str, Kind)],
    /// Adds `sign` times the contributions of one row (cells in `columns` order).
    pub contribute: fn(&[Cell], i64, &mut Deltas),
}

/// (opd, day, measure) -> change of `n`.
pub type Deltas = HashMap<(String, String, String), i64>;

pub fn add(deltas: &mut Deltas, opd: &str, day: &str, measure: String, n: i64) {
    if n != 0 {
        *deltas
            .entry((opd.to_string(), day.to_string(), measure))
            .or_insert(0) += n;
    }
}

/// The rollup table of projection table `name`.
pub fn table(name: &str) -> String {
    format!("{name}_rollup")
}

/// The UTC day of an instant, as stored (`YYYY-MM-DD`).
pub fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive().and_time(NaiveTime::MIN).and_utc()
}

pub fn parse_day(d: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
}

/// 1/16-octave buckets: values below 32 are their own bucket, larger ones
/// share one with the values of the same top five bits (at most 6.25% apart).
pub fn bucket(x: i64) -> i64 {
    if x < 32 {
        return x;
    }
    let e = 63 - i64::from(x.leading_zeros());
    32 + (e - 5) * 16 + ((x >> (e - 4)) & 15)
}

/// The values `[lo, hi)` of a bucket.
pub fn bucket_range(b: i64) -> (i64, i64) {
    if b < 32 {
        return (b, b + 1);
    }
    let (e, m) = ((b - 32) / 16 + 5, (b - 32) % 16);
    ((16 + m) << (e - 4), (17 + m) << (e - 4))
}

pub fn text(c: &Cell) -> Option<&str> {
    match c {
        Cell::Text(v) => v.as_deref(),
        _ => None,
    }
}

pub fn int(c: &Cell) -> Option<i64> {
    match c {
        Cell::Int(v) => *v,
        _ => None,
    }
}

pub fn time(c: &Cell) -> Option<DateTime<Utc>> {
    match c {
        Cell::Time(v) => *v,
        _ => None,
    }
}

/// The roll-up columns of full table rows (in `spec.columns` order).
#[allow(
    clippy::expect_used,
    reason = "every roll-up column is one of its table's columns: the specs are constants, checked by the projector tests"
)]
pub fn project(spec: &TableSpec, rollup: &RollupSpec, row: &[Cell]) -> Vec<Cell> {
    rollup
        .columns
        .iter()
        .map(|(name, _)| {
            let i = spec
                .columns
                .iter()
                .position(|c| c == name)
                .expect("roll-up column in the table");
            row[i].clone()
        })
        .collect()
}

fn key_of(spec: &TableSpec, cells: &[Cell]) -> Vec<Option<String>> {
    cells[..spec.key.len()]
        .iter()
        .map(|c| text(c).map(str::to_string))
        .collect()
}

/// The roll-up change when `new_rows` (full rows) replace the `old` rows with the
/// same keys (roll-up columns); rows without a new version stay as they are.
pub fn deltas(
    spec: &TableSpec,
    rollup: &RollupSpec,
    old: Vec<Vec<Cell>>,
    new_rows: &[Vec<Cell>],
) -> Vec<(String, String, String, i64)> {
    let mut d = Deltas::new();
    let old: HashMap<Vec<Option<String>>, Vec<Cell>> =
        old.into_iter().map(|r| (key_of(spec, &r), r)).collect();
    for row in new_rows {
        let new = project(spec, rollup, row);
        if let Some(before) = old.get(&key_of(spec, &new)) {
            (rollup.contribute)(before, -1, &mut d);
        }
        (rollup.contribute)(&new, 1, &mut d);
    }
    sorted(d)
}

/// The changes of `d` that change something, in key order.
pub fn sorted(d: Deltas) -> Vec<(String, String, String, i64)> {
    let mut out: Vec<_> = d
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((o, day, m), n)| (o, day, m, n))
        .collect();
    out.sort();
    out
}

/// Keeps `deltas` in `deferred` when it is collecting them (a rebuild's
/// catch-up writes its roll-up once at the end); else hands them back to write.
pub fn defer(
    deferred: &std::sync::Mutex<Option<Deltas>>,
    deltas: Vec<(String, String, String, i64)>,
) -> Option<Vec<(String, String, String, i64)>> {
    let mut guard = deferred.lock().unwrap_or_else(|p| p.into_inner());
    match guard.as_mut() {
        Some(acc) => {
            for (opd, day, measure, n) in deltas {
                *acc.entry((opd, day, measure)).or_insert(0) += n;
            }
            None
        }
        None => Some(deltas),
    }
}

/// The key values of `rows` for the `WHERE key IN (...)` of the old-row read
/// (the first key column, the complaint id; the roll-up matches the full key):
/// only complaints with events before the batch can have rows already.
pub fn first_keys(
    rows: &[Vec<Cell>],
    seen_before: &std::collections::HashSet<String>,
) -> Vec<String> {
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            text(&r[0])
                .filter(|id| seen_before.contains(*id))
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// `SELECT <roll-up columns> FROM table WHERE <first key> IN (` for the caller
/// to bind the keys into; integers are read as BIGINT on both databases.
pub fn old_rows_head(spec: &TableSpec, rollup: &RollupSpec, table: &str) -> String {
    let cols: Vec<String> = rollup
        .columns
        .iter()
        .map(|(c, k)| match k {
            Kind::Int => format!("CAST({c} AS BIGINT) AS {c}"),
            _ => c.to_string(),
        })
        .collect();
    format!(
        "SELECT {} FROM {table} WHERE {} IN (",
        cols.join(", "),
        spec.key[0]
    )
}

/// Decodes a row of `old_rows_head`'s query on either database.
#[macro_export]
#[doc(hidden)]
macro_rules! decode_rollup_row {
    ($rollup:expr, $row:expr) => {{
        use sqlx::Row;
        (|| {
            let mut cells = Vec::with_capacity($rollup.columns.len());
            for (i, (_, kind)) in $rollup.columns.iter().enumerate() {
                cells.push(match kind {
                    $crate::rollup::Kind::Text => $crate::rows::Cell::Text($row.try_get(i)?),
                    $crate::rollup::Kind::Int => $crate::rows::Cell::Int($row.try_get(i)?),
                    $crate::rollup::Kind::Time => $crate::rows::Cell::Time($row.try_get(i)?),
                });
            }
            Ok::<_, sqlx::Error>(cells)
        })()
    }};
}

/// How many keys one old-row read binds (well below both databases' limits).
pub const KEYS_PER_READ: usize = 10_000;
/// Rows per roll-up upsert statement (4 binds each).
pub const ROLLUP_ROWS_PER_STATEMENT: usize = 8_000;

pub fn upsert_head(table: &str) -> String {
    format!("INSERT INTO {table} (opd, day, measure, n) ")
}

pub fn upsert_tail(table: &str) -> String {
    format!(" ON CONFLICT (opd, day, measure) DO UPDATE SET n = {table}.n + excluded.n")
}

// ---- complaint_summary ----

pub const OPEN: &[&str] = &[
    "SUBMITTED",
    "VERIFIED",
    "ASSIGNED",
    "IN_PROGRESS",
    "WAITING_FOR_INFO",
];

pub fn is_open(status: &str) -> bool {
    status != "CLOSED" && status != "REJECTED"
}

fn opt_day(t: Option<DateTime<Utc>>) -> String {
    t.map(day).unwrap_or_default()
}

fn summary_contribute(c: &[Cell], sign: i64, d: &mut Deltas) {
    // complaint_id, opd, created_at, status, rating, sla_state, sla_at_risk_at,
    // sla_deadline, primary_id
    let opd = text(&c[1]).unwrap_or("");
    let Some(created) = time(&c[2]) else { return };
    let status = text(&c[3]).unwrap_or("");
    let created_day = day(created);
    let deadline = time(&c[7]);
    if crate::incident::open_workload(status, text(&c[8])) {
        add(d, opd, &created_day, "open".into(), sign);
        if let Some(deadline) = deadline {
            add(d, opd, &created_day, format!("due|{}", day(deadline)), sign);
        }
    }
    if let Some(rating) = int(&c[4]) {
        add(d, opd, &created_day, "rated".into(), sign);
        add(d, opd, &created_day, "rating".into(), sign * rating);
    }
    let (at_risk, deadline) = (opt_day(time(&c[6])), opt_day(deadline));
    let counter = Counter {
        status,
        stored: text(&c[5]).unwrap_or(""),
        at_risk: &at_risk,
        deadline: &deadline,
    };
    add(d, opd, "", counter.key(), sign);
}

/// An all-time counter's key (day ''):
/// `c|<status>|<sla_state>|<at-risk day>|<deadline day>`.
pub struct Counter<'a> {
    pub status: &'a str,
    /// The case's SLA state as of its last event.
    pub stored: &'a str,
    pub at_risk: &'a str,
    pub deadline: &'a str,
}

impl<'a> Counter<'a> {
    pub fn parse(measure: &'a str) -> Option<Self> {
        let mut parts = measure.split('|');
        let (Some("c"), Some(status), Some(stored), Some(at_risk), Some(deadline), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        Some(Counter {
            status,
            stored,
            at_risk,
            deadline,
        })
    }

    pub fn key(&self) -> String {
        let Counter {
            status,
            stored,
            at_risk,
            deadline,
        } = self;
        format!("c|{status}|{stored}|{at_risk}|{deadline}")
    }

    /// The standing of its cases on day `today` (neither of its days):
    /// `CaseSla::state_at`, as the list's SQL has it.
    pub fn standing(&self, today: &str) -> Option<aduan_domain::sla::TimerState> {
        use aduan_domain::sla::TimerState;
        let past = |d: &str| !d.is_empty() && d < today;
        if self.stored == "BREACHED" || past(self.deadline) {
            Some(TimerState::Breached)
        } else if self.stored == "AT_RISK" || past(self.at_risk) {
            Some(TimerState::AtRisk)
        } else {
            TimerState::parse(self.stored)
        }
    }
}

pub static SUMMARY: RollupSpec = RollupSpec {
    columns: &[
        ("complaint_id", Kind::Text),
        ("opd", Kind::Text),
        ("created_at", Kind::Time),
        ("status", Kind::Text),
        ("rating", Kind::Int),
        ("sla_state", Kind::Text),
        ("sla_at_risk_at", Kind::Time),
        ("sla_deadline", Kind::Time),
        ("primary_id", Kind::Text),
    ],
    contribute: summary_contribute,
};

// ---- sla_timers ----

fn timers_contribute(c: &[Cell], sign: i64, d: &mut Deltas) {
    // complaint_id, leg, opd, case_created_at, stopped_at, state, used_seconds,
    // primary_id
    if time(&c[4]).is_none() || !crate::incident::counted(text(&c[7])) {
        return;
    }
    let (Some(leg), Some(created)) = (text(&c[1]), time(&c[3])) else {
        return;
    };
    let opd = text(&c[2]).unwrap_or("");
    let created_day = day(created);
    add(d, opd, &created_day, format!("{leg}|stopped"), sign);
    if text(&c[5]) == Some("MET") {
        add(d, opd, &created_day, format!("{leg}|met"), sign);
    }
    if let Some(used) = int(&c[6]) {
        add(
            d,
            opd,
            &created_day,
            format!("{leg}|h|{}", bucket(used)),
            sign,
        );
    }
}

pub static TIMERS: RollupSpec = RollupSpec {
    columns: &[
        ("complaint_id", Kind::Text),
        ("leg", Kind::Text),
        ("opd", Kind::Text),
        ("case_created_at", Kind::Time),
        ("stopped_at", Kind::Time),
        ("state", Kind::Text),
        ("used_seconds", Kind::Int),
        ("primary_id", Kind::Text),
    ],
    contribute: timers_contribute,
};

/// `[first, end)` as day texts.
pub type DayRange = (String, String);
/// `[from, to)` instants.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// The whole days inside `[from, to)` as `[first, end)` day texts (empty when
/// none), and the partial pieces at either end as instant ranges.
pub fn split_days(from: DateTime<Utc>, to: DateTime<Utc>) -> (Option<DayRange>, Vec<Span>) {
    let first_full = if day_start(from) == from {
        from
    } else {
        day_start(from) + Duration::days(1)
    };
    let end_full = day_start(to);
    if first_full >= end_full {
        return (None, vec![(from, to)]);
    }
    let mut partial = Vec::new();
    if from < first_full {
        partial.push((from, first_full));
    }
    if end_full < to {
        partial.push((end_full, to));
    }
    (Some((day(first_full), day(end_full))), partial)
}

/// The roll-up writers, `write_rollup` and `write_rollup_deltas`, for one
/// database: the same statements on either, compiled once per sqlx type.
#[macro_export]
#[doc(hidden)]
macro_rules! rollup_writers {
    ($DB:ty, $Conn:ty) => {
        /// Reads the rows `new_rows` replace and adds the difference to the roll-up,
        /// inside the caller's transaction (before the rows are written).
        pub(crate) async fn write_rollup(
            tx: &mut $Conn,
            spec: &TableSpec,
            rollup: &RollupSpec,
            name: &str,
            new_rows: &[Vec<Cell>],
            seen_before: &std::collections::HashSet<String>,
            deferred: &std::sync::Mutex<Option<$crate::rollup::Deltas>>,
        ) -> Result<(), StoreError> {
            let sql_err = StoreError::from_sqlx;
            let mut old = Vec::new();
            let keys = $crate::rollup::first_keys(new_rows, seen_before);
            for keys in keys.chunks($crate::rollup::KEYS_PER_READ) {
                let mut q =
                    QueryBuilder::<$DB>::new($crate::rollup::old_rows_head(spec, rollup, name));
                let mut list = q.separated(", ");
                for k in keys {
                    list.push_bind(k.clone());
                }
                q.push(")");
                for row in q.build().fetch_all(&mut *tx).await.map_err(sql_err)? {
                    old.push($crate::decode_rollup_row!(rollup, row).map_err(sql_err)?);
                }
            }
            let deltas = $crate::rollup::deltas(spec, rollup, old, new_rows);
            let Some(deltas) = $crate::rollup::defer(deferred, deltas) else {
                return Ok(());
            };
            write_rollup_deltas(tx, name, &deltas).await
        }

        /// Adds `deltas` to `name`'s roll-up inside the caller's transaction.
        pub(crate) async fn write_rollup_deltas(
            tx: &mut $Conn,
            name: &str,
            deltas: &[(String, String, String, i64)],
        ) -> Result<(), StoreError> {
            let sql_err = StoreError::from_sqlx;
            let table = $crate::rollup::table(name);
            for chunk in deltas.chunks($crate::rollup::ROLLUP_ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::<$DB>::new($crate::rollup::upsert_head(&table));
                q.push_values(chunk, |mut b, (opd, day, measure, n)| {
                    b.push_bind(opd.clone())
                        .push_bind(day.clone())
                        .push_bind(measure.clone())
                        .push_bind(*n);
                });
                q.push($crate::rollup::upsert_tail(&table));
                q.build().execute(&mut *tx).await.map_err(sql_err)?;
            }
            Ok(())
        }

        /// Folds `name`'s all-time counters whose days have passed and drops
        /// those at zero (`rollup_fold`), inside the caller's transaction; how
        /// many counters are gone.
        pub(crate) async fn fold_counters(
            tx: &mut $Conn,
            name: &str,
            now: chrono::DateTime<chrono::Utc>,
        ) -> Result<u64, StoreError> {
            let sql_err = StoreError::from_sqlx;
            let table = $crate::rollup::table(name);
            let dated: Vec<(String, String, i64)> =
                sqlx::query_as(&$crate::rollup_fold::dated_query(&table))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(sql_err)?;
            let deltas = $crate::rollup_fold::deltas(&dated, now);
            write_rollup_deltas(tx, name, &deltas).await?;
            Ok(sqlx::query(&$crate::rollup_fold::zeros_query(&table))
                .execute(&mut *tx)
                .await
                .map_err(sql_err)?
                .rows_affected())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_once() {
        for x in (0..5000).chain([86_400, 1 << 40, i64::MAX / 2]) {
            let (lo, hi) = bucket_range(bucket(x));
            assert!(lo <= x && x < hi, "{x} not in [{lo}, {hi})");
            assert_eq!(bucket(lo), bucket(x));
            assert_eq!(bucket(hi), bucket(x) + 1, "{x}");
        }
        assert!(bucket(-5) < 0);
    }

    #[test]
    fn days_split_into_whole_days_and_pieces() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let (full, parts) = split_days(t("2026-01-01T10:00:00Z"), t("2026-01-04T05:00:00Z"));
        assert_eq!(full, Some(("2026-01-02".into(), "2026-01-04".into())));
        assert_eq!(parts.len(), 2);
        let (full, parts) = split_days(t("2026-01-01T00:00:00Z"), t("2026-01-03T00:00:00Z"));
        assert_eq!(full, Some(("2026-01-01".into(), "2026-01-03".into())));
        assert!(parts.is_empty());
        let (full, parts) = split_days(t("2026-01-01T10:00:00Z"), t("2026-01-01T12:00:00Z"));
        assert_eq!(full, None);
        assert_eq!(parts.len(), 1);
    }
}
