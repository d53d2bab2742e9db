//! `complaint_summary`: one row per complaint for lists, filters and analysts,
//! without personal data, with the case's SLA standing.

use std::sync::Arc;

use aduan_domain::sla::{self, Calendars, CaseSla, PolicyBook};
use aduan_domain::{geo, search, tracking, Case, ComplaintEvent};
use aduan_store::codec;

use crate::projector::Projection;
use crate::rows::{Cell, TableSpec, Touched};

/// The `complaint_summary` projection (or a shadow copy of it during a rebuild).
#[derive(Clone)]
pub struct ComplaintSummary {
    table: String,
    calendar: Arc<dyn Calendars + Send + Sync>,
    book: Arc<PolicyBook>,
}

impl ComplaintSummary {
    pub fn new(calendar: Arc<dyn Calendars + Send + Sync>, book: Arc<PolicyBook>) -> Self {
        ComplaintSummary {
            table: "complaint_summary".into(),
            calendar,
            book,
        }
    }
}

/// The folded case without the reporter's identity or exact address.
pub fn redact(mut case: Case) -> Case {
    case.reporter = None;
    case.location.address = None;
    case
}

static SPEC: TableSpec = TableSpec {
    columns: &[
        "complaint_id",
        "status",
        "channel",
        "category",
        "priority",
        "opd",
        "officer_id",
        "kecamatan",
        "kelurahan",
        "title",
        "anonymous",
        "escalation_level",
        "resolution",
        "rating",
        "reopen_count",
        "created_at",
        "updated_at",
        "verified_at",
        "assigned_at",
        "first_response_at",
        "closed_at",
        "sla_state",
        "sla_at_risk_at",
        "sla_deadline",
        // The standing as of the last sweep (`sla_sweep`): NULL whenever the
        // projector writes the row, so a row changed after a sweep is read as unswept.
        "sla_state_swept",
        "reporter_ref",
        "external_ref",
        "duplicate_of",
        "latitude",
        "longitude",
        "h3_cell",
        "primary_id",
        "number",
        "version",
        "last_position",
        "events_applied",
        "state",
        // What a text search finds the case by (`aduan_domain::search`): stems,
        // indexed by `search_tsv` (PostgreSQL) and `complaint_summary_fts` (SQLite).
        "search_main",
        "search_more",
    ],
    key: &["complaint_id"],
    // Adds up what each batch brought: a skipped or twice-applied event shows as
    // `events_applied != version`.
    accumulate: &["events_applied"],
};

impl ComplaintSummary {
    fn row(&self, touched: Touched) -> Option<Vec<Cell>> {
        let last = touched.last()?;
        let (version, position) = (last.sequence, last.position);
        // "Now" is the last event's own time: rows depend on events only, so a
        // rebuild gives the same rows; later instants are read with `CaseSla::state_at`.
        let now = last.event.occurred_at();
        let c = codec::fold(&touched.history).0?;
        let reporter_ref = c
            .reporter
            .as_ref()
            .and_then(|r| r.subject.as_deref())
            .map(tracking::reporter_ref);
        let c = redact(c);
        let events: Vec<ComplaintEvent> = touched.history.into_iter().map(|e| e.event).collect();
        let sla = CaseSla::of(&sla::timers(&events, &self.book, &*self.calendar, now));
        let state = serde_json::to_value(&c).ok()?;
        let search = search::document(&c, &events);
        Some(vec![
            c.id.as_str().into(),
            c.status.as_str().into(),
            c.channel.as_str().into(),
            c.category.as_str().into(),
            c.priority.as_str().into(),
            c.opd.as_deref().into(),
            c.officer_id.as_deref().into(),
            c.location.kecamatan.as_deref().into(),
            c.location.kelurahan.as_deref().into(),
            c.title.as_str().into(),
            c.anonymous.into(),
            i64::from(c.escalation_level).into(),
            c.resolution.map(|r| r.as_str()).into(),
            c.rating.map(i64::from).into(),
            i64::from(c.reopen_count).into(),
            c.created_at.into(),
            c.updated_at.into(),
            c.verified_at.into(),
            c.assigned_at.into(),
            c.first_response_at.into(),
            c.closed_at.into(),
            sla.map(|s| s.state.as_str()).into(),
            sla.and_then(|s| s.at_risk_at).into(),
            sla.and_then(|s| s.deadline).into(),
            Cell::Text(None),
            reporter_ref.as_deref().into(),
            c.external_ref.as_deref().into(),
            c.duplicate_of.as_deref().into(),
            c.location.latitude.into(),
            c.location.longitude.into(),
            geo::cell(c.location.latitude, c.location.longitude).into(),
            crate::incident::primary_of(&c).into(),
            c.number.as_deref().into(),
            version.into(),
            position.into(),
            touched.in_batch.into(),
            Cell::Json(state),
            search.main.as_str().into(),
            search.more.as_str().into(),
        ])
    }
}

impl Projection for ComplaintSummary {
    fn name(&self) -> &str {
        &self.table
    }

    fn renamed(&self, name: &str) -> Self {
        ComplaintSummary {
            table: name.to_string(),
            ..self.clone()
        }
    }

    fn spec(&self) -> &'static TableSpec {
        &SPEC
    }

    fn rollup(&self) -> Option<&'static crate::rollup::RollupSpec> {
        Some(&crate::rollup::SUMMARY)
    }

    fn rows(&self, touched: Vec<Touched>) -> Vec<Vec<Cell>> {
        touched.into_iter().filter_map(|t| self.row(t)).collect()
    }

    fn sla_swept(&self) -> bool {
        true
    }
}
