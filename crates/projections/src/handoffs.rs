//! `handoff_legs`: each holder's stay with a case (`aduan_domain::handoffs::legs`),
//! recomputed from the case's events whenever one arrives, and the roll-up
//! per pair of holders that `handoffs(from, to, opd)` answers. Nothing here
//! reads the wall clock: an open leg is measured up to the case's last event.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use aduan_domain::handoffs::{legs, HoldLeg, LegEnd};
use aduan_domain::sla::BusinessCalendar;
use aduan_domain::{Case, ComplaintEvent, Resolution, Status};
use aduan_store::codec;

use crate::projector::Projection;
use crate::rows::{Cell, TableSpec, Touched};

/// The `handoff_legs` projection (or a shadow copy during a rebuild).
#[derive(Clone)]
pub struct HandoffLegs {
    table: String,
    calendar: Arc<BusinessCalendar>,
}

impl HandoffLegs {
    pub fn new(calendar: Arc<BusinessCalendar>) -> Self {
        HandoffLegs {
            table: "handoff_legs".into(),
            calendar,
        }
    }
}

static SPEC: TableSpec = TableSpec {
    columns: &[
        "complaint_id",
        "seq",
        "holder",
        "started_at",
        "ended_at",
        "working_seconds",
        "ended",
        "handed_to",
        "reason_code",
        "looped",
        "case_resolved",
        "category",
        "breaches",
        "case_created_at",
        "last_position",
    ],
    key: &["complaint_id", "seq"],
    accumulate: &[],
};

/// How a leg's end is stored.
pub fn end_name(end: LegEnd) -> &'static str {
    match end {
        LegEnd::Dispatched => "DISPATCHED",
        LegEnd::Transferred => "TRANSFERRED",
        LegEnd::Returned => "RETURNED",
        LegEnd::Closed => "CLOSED",
        LegEnd::Rejected => "REJECTED",
        LegEnd::Held => "HELD",
    }
}

impl HandoffLegs {
    fn complaint_rows(&self, touched: Touched) -> Vec<Vec<Cell>> {
        let Some(last) = touched.last() else {
            return Vec::new();
        };
        let position = last.position;
        let now = last.event.occurred_at();
        let Some(case) = codec::fold(&touched.history).0 else {
            return Vec::new();
        };
        let resolved =
            case.status == Status::Closed && case.resolution == Some(Resolution::Resolved);
        let events: Vec<ComplaintEvent> = touched.history.into_iter().map(|e| e.event).collect();
        legs(&events, &self.calendar, now)
            .iter()
            .enumerate()
            .map(|(i, leg)| row(&case, i, leg, resolved, position))
            .collect()
    }
}

fn row(case: &Case, seq: usize, leg: &HoldLeg, resolved: bool, position: i64) -> Vec<Cell> {
    vec![
        case.id.as_str().into(),
        i64::try_from(seq).unwrap_or(i64::MAX).into(),
        leg.holder.as_str().into(),
        leg.from.into(),
        leg.to.into(),
        leg.working_seconds.into(),
        end_name(leg.ended).into(),
        leg.handed_to.as_deref().into(),
        leg.reason_code.as_deref().into(),
        leg.looped.into(),
        resolved.into(),
        case.category.as_str().into(),
        i64::from(leg.breaches).into(),
        case.created_at.into(),
        position.into(),
    ]
}

impl Projection for HandoffLegs {
    fn name(&self) -> &str {
        &self.table
    }

    fn renamed(&self, name: &str) -> Self {
        HandoffLegs {
            table: name.to_string(),
            ..self.clone()
        }
    }

    fn spec(&self) -> &'static TableSpec {
        &SPEC
    }

    fn rows(&self, touched: Vec<Touched>) -> Vec<Vec<Cell>> {
        touched
            .into_iter()
            .flat_map(|t| self.complaint_rows(t))
            .collect()
    }
}

/// One hand-off as the roll-up reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HandoffRow {
    pub complaint_id: String,
    pub holder: String,
    pub handed_to: String,
    pub ended: String,
    pub working_seconds: i64,
    pub looped: bool,
    pub case_resolved: bool,
}

/// The transfers and returns handed on in `[from, to)`, for one OPD (as
/// either side) or the city. The same text on both databases.
pub fn handoffs_query<'a, DB: Database>(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    opd: Option<&'a str>,
) -> QueryBuilder<'a, DB>
where
    &'a str: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(
        "SELECT complaint_id, holder, handed_to, ended, working_seconds, looped, case_resolved \
         FROM handoff_legs WHERE ended IN ('TRANSFERRED', 'RETURNED') AND ended_at >= ",
    );
    q.push_bind(from).push(" AND ended_at < ").push_bind(to);
    if let Some(opd) = opd {
        q.push(" AND (holder = ")
            .push_bind(opd)
            .push(" OR handed_to = ")
            .push_bind(opd)
            .push(")");
    }
    q
}

/// The SLA breaches charged to one holder: those whose deadline passed
/// while it held the case (`aduan_domain::handoffs::legs`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HolderBreaches {
    /// An OPD's code, or `COMMAND_CENTER`.
    pub holder: String,
    pub breaches: i64,
}

/// The breaches of the cases created in the scope's range, per holder
/// charged (only the scope's OPD, when it names one). The same text on both
/// databases.
pub fn breaches_query<'a, DB: Database>(scope: &'a crate::dashboard::Scope) -> QueryBuilder<'a, DB>
where
    &'a str: Encode<'a, DB> + Type<DB>,
    DateTime<Utc>: Encode<'a, DB> + Type<DB>,
{
    let mut q = QueryBuilder::new(
        "SELECT holder, CAST(SUM(breaches) AS bigint) AS breaches FROM handoff_legs \
         WHERE breaches > 0 AND case_created_at >= ",
    );
    q.push_bind(scope.from)
        .push(" AND case_created_at < ")
        .push_bind(scope.to);
    if let Some(opd) = scope.opd.as_deref() {
        q.push(" AND holder = ").push_bind(opd);
    }
    q.push(" GROUP BY holder ORDER BY holder");
    q
}

/// The figures of one pair of holders.
#[derive(Debug, Clone, PartialEq)]
pub struct PairFigures {
    pub from_holder: String,
    pub to_holder: String,
    pub transfers: i64,
    pub returns: i64,
    pub loops: i64,
    /// Working seconds held before handing on.
    pub held_p50_seconds: Option<f64>,
    pub held_p90_seconds: Option<f64>,
    /// Of the pair's cases, the share (0-1) closed RESOLVED by whoever held
    /// them last.
    pub resolved_by_last_holder: Option<f64>,
}

/// The roll-up per pair, ordered by pair.
pub fn roll_up(rows: &[HandoffRow]) -> Vec<PairFigures> {
    let mut pairs: BTreeMap<(&str, &str), Vec<&HandoffRow>> = BTreeMap::new();
    for r in rows {
        pairs.entry((&r.holder, &r.handed_to)).or_default().push(r);
    }
    pairs
        .into_iter()
        .map(|((from, to), rows)| {
            let count = |end: &str| rows.iter().filter(|r| r.ended == end).count() as i64;
            let mut held: Vec<f64> = rows.iter().map(|r| r.working_seconds as f64).collect();
            held.sort_by(f64::total_cmp);
            let cases: BTreeMap<&str, bool> = rows
                .iter()
                .map(|r| (r.complaint_id.as_str(), r.case_resolved))
                .collect();
            let resolved = cases.values().filter(|r| **r).count() as f64;
            PairFigures {
                from_holder: from.to_string(),
                to_holder: to.to_string(),
                transfers: count("TRANSFERRED"),
                returns: count("RETURNED"),
                loops: rows.iter().filter(|r| r.looped).count() as i64,
                held_p50_seconds: percentile(&held, 0.5),
                held_p90_seconds: percentile(&held, 0.9),
                resolved_by_last_holder: (!cases.is_empty()).then(|| resolved / cases.len() as f64),
            }
        })
        .collect()
}

/// Linear interpolation between closest ranks (PostgreSQL's
/// `percentile_cont`), over sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p * last as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    let (a, b) = (sorted[lo], sorted[hi.min(last)]);
    Some(a + (b - a) * (rank - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hand(
        id: &str,
        from: &str,
        to: &str,
        end: &str,
        secs: i64,
        looped: bool,
        ok: bool,
    ) -> HandoffRow {
        HandoffRow {
            complaint_id: id.into(),
            holder: from.into(),
            handed_to: to.into(),
            ended: end.into(),
            working_seconds: secs,
            looped,
            case_resolved: ok,
        }
    }

    #[test]
    fn pairs_count_hand_offs_and_interpolate_percentiles() {
        let rows = [
            hand("a", "DPU", "DLH", "TRANSFERRED", 100, false, true),
            hand("b", "DPU", "DLH", "TRANSFERRED", 300, false, false),
            hand("b", "DLH", "DPU", "TRANSFERRED", 50, true, false),
            hand("c", "DPU", "COMMAND_CENTER", "RETURNED", 10, false, true),
        ];
        let got = roll_up(&rows);
        assert_eq!(got.len(), 3);
        let dpu_dlh = got
            .iter()
            .find(|p| p.from_holder == "DPU" && p.to_holder == "DLH")
            .unwrap();
        assert_eq!(
            (dpu_dlh.transfers, dpu_dlh.returns, dpu_dlh.loops),
            (2, 0, 0)
        );
        assert_eq!(dpu_dlh.held_p50_seconds, Some(200.0));
        assert_eq!(dpu_dlh.held_p90_seconds, Some(280.0));
        assert_eq!(dpu_dlh.resolved_by_last_holder, Some(0.5));
        let back = got.iter().find(|p| p.from_holder == "DLH").unwrap();
        assert_eq!(back.loops, 1);
        let sql =
            handoffs_query::<sqlx::Sqlite>(DateTime::UNIX_EPOCH, DateTime::UNIX_EPOCH, Some("DPU"))
                .into_sql();
        assert!(sql.contains("holder = ? OR handed_to = ?"), "{sql}");
    }
}
