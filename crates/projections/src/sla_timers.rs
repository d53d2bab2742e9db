//! `sla_timers`: each complaint's three SLA clocks, recomputed from its events
//! whenever one arrives. Nothing here reads the wall clock, so a rebuild gives the
//! same rows; the state "now" is derived at read time (`sla::state_at`).

use std::sync::Arc;

use aduan_domain::sla::{self, Calendars, LegTimer, PolicyBook};
use aduan_domain::{Case, ComplaintEvent};
use aduan_store::codec;

use crate::projector::Projection;
use crate::rows::{Cell, TableSpec, Touched};

#[derive(Clone)]
pub struct SlaTimers {
    table: String,
    calendar: Arc<dyn Calendars + Send + Sync>,
    book: Arc<PolicyBook>,
}

impl SlaTimers {
    pub fn new(calendar: Arc<dyn Calendars + Send + Sync>, book: Arc<PolicyBook>) -> Self {
        SlaTimers {
            table: "sla_timers".into(),
            calendar,
            book,
        }
    }
}

/// Wire names, as stored and as GraphQL shows them.
pub fn leg_name(leg: sla::Leg) -> &'static str {
    match leg {
        sla::Leg::Dispatch => "DISPATCH",
        sla::Leg::Respond => "RESPOND",
        sla::Leg::Resolve => "RESOLVE",
        sla::Leg::Reroute => "REROUTE",
    }
}

static SPEC: TableSpec = TableSpec {
    columns: &[
        "complaint_id",
        "leg",
        "opd",
        "category",
        "priority",
        "policy_version",
        "target_amount",
        "target_unit",
        "target_seconds",
        "started_at",
        "deadline",
        "at_risk_at",
        "stopped_at",
        "paused",
        "used_seconds",
        "state",
        "state_changed_at",
        "explanation",
        "last_position",
        "case_created_at",
        "primary_id",
    ],
    key: &["complaint_id", "leg"],
    accumulate: &[],
};

impl SlaTimers {
    fn complaint_rows(&self, touched: Touched) -> Vec<Vec<Cell>> {
        let Some(last) = touched.last() else {
            return Vec::new();
        };
        let position = last.position;
        // "Now" is the last event's own time: the rows depend on events only.
        let now = last.event.occurred_at();
        let Some(case) = codec::fold(&touched.history).0 else {
            return Vec::new();
        };
        let events: Vec<ComplaintEvent> = touched.history.into_iter().map(|e| e.event).collect();
        sla::timers(&events, &self.book, &*self.calendar, now)
            .iter()
            .map(|t| row(&case, t, position))
            .collect()
    }
}

fn row(case: &Case, t: &LegTimer, position: i64) -> Vec<Cell> {
    let unit = serde_json::to_value(t.target.unit)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string));
    vec![
        case.id.as_str().into(),
        leg_name(t.leg).into(),
        case.opd.as_deref().into(),
        case.category.as_str().into(),
        case.priority.as_str().into(),
        i64::from(t.policy_version).into(),
        t.target.amount.into(),
        Cell::Text(unit),
        t.target_seconds.into(),
        t.started_at.into(),
        t.deadline.into(),
        t.at_risk_at.into(),
        t.stopped_at.into(),
        t.paused.into(),
        t.used_seconds.into(),
        t.state.as_str().into(),
        t.state_since.into(),
        Cell::Json(serde_json::to_value(&t.explanation).unwrap_or_default()),
        position.into(),
        case.created_at.into(),
        crate::incident::primary_of(case).into(),
    ]
}

impl Projection for SlaTimers {
    fn name(&self) -> &str {
        &self.table
    }

    fn renamed(&self, name: &str) -> Self {
        SlaTimers {
            table: name.to_string(),
            ..self.clone()
        }
    }

    fn spec(&self) -> &'static TableSpec {
        &SPEC
    }

    fn rollup(&self) -> Option<&'static crate::rollup::RollupSpec> {
        Some(&crate::rollup::TIMERS)
    }

    fn rows(&self, touched: Vec<Touched>) -> Vec<Vec<Cell>> {
        touched
            .into_iter()
            .flat_map(|t| self.complaint_rows(t))
            .collect()
    }
}
