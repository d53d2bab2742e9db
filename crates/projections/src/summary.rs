//! `complaint_summary`: one row per complaint for lists, filters and analysts,
//! without personal data, with the case's SLA standing.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use aduan_domain::sla::{self, BusinessCalendar, CaseSla, PolicyBook};
use aduan_domain::{Case, ComplaintEvent};
use aduan_store::{codec, StoreError, StoredEvent};

use crate::projector::{max_rows, touched, Projection, Touched};

/// The `complaint_summary` projection (or a shadow copy of it during a rebuild).
#[derive(Clone)]
pub struct ComplaintSummary {
    table: String,
    calendar: Arc<BusinessCalendar>,
    book: Arc<PolicyBook>,
}

impl ComplaintSummary {
    pub fn new(calendar: Arc<BusinessCalendar>, book: Arc<PolicyBook>) -> Self {
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

/// What one complaint's row is computed from.
struct Row {
    case: Case,
    sla: Option<CaseSla>,
    version: i64,
    position: i64,
    in_batch: i64,
}

impl ComplaintSummary {
    fn row(&self, touched: Touched) -> Option<Row> {
        let last = touched.last()?;
        let (version, position) = (last.sequence, last.position);
        // "Now" is the last event's own time: rows depend on events only, so a
        // rebuild gives the same rows; later instants are read with `CaseSla::state_at`.
        let now = last.event.occurred_at();
        let case = codec::fold(&touched.history).0.map(redact)?;
        let events: Vec<ComplaintEvent> = touched.history.into_iter().map(|e| e.event).collect();
        let sla = CaseSla::of(&sla::timers(&events, &self.book, &self.calendar, now));
        Some(Row {
            case,
            sla,
            version,
            position,
            in_batch: touched.in_batch,
        })
    }
}

#[async_trait]
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

    async fn apply(&self, tx: &mut PgConnection, batch: &[StoredEvent]) -> Result<(), StoreError> {
        let rows: Vec<Row> = touched(tx, batch)
            .await?
            .into_iter()
            .filter_map(|t| self.row(t))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        upsert(tx, &self.table, &rows)
            .await
            .map_err(StoreError::from_sqlx)
    }
}

/// Writes every row in one statement. `events_applied` adds up what each batch
/// brought, so a skipped or twice-applied event shows as `events_applied != version`.
async fn upsert(tx: &mut PgConnection, table: &str, rows: &[Row]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(max_rows(28)) {
        upsert_chunk(tx, table, chunk).await?;
    }
    Ok(())
}

async fn upsert_chunk(tx: &mut PgConnection, table: &str, rows: &[Row]) -> Result<(), sqlx::Error> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "INSERT INTO {table} (complaint_id, status, channel, category, priority, opd, \
           officer_id, kecamatan, kelurahan, title, anonymous, escalation_level, resolution, rating, \
           reopen_count, created_at, updated_at, verified_at, assigned_at, first_response_at, \
           closed_at, sla_state, sla_at_risk_at, sla_deadline, version, last_position, \
           events_applied, state) "
    ));
    q.push_values(rows, |mut b, r| {
        let c = &r.case;
        b.push_bind(&c.id)
            .push_bind(c.status.as_str())
            .push_bind(c.channel.as_str())
            .push_bind(&c.category)
            .push_bind(c.priority.as_str())
            .push_bind(&c.opd)
            .push_bind(&c.officer_id)
            .push_bind(&c.location.kecamatan)
            .push_bind(&c.location.kelurahan)
            .push_bind(&c.title)
            .push_bind(c.anonymous)
            .push_bind(c.escalation_level as i32)
            .push_bind(c.resolution.map(|r| r.as_str()))
            .push_bind(c.rating.map(i16::from))
            .push_bind(c.reopen_count as i32)
            .push_bind(c.created_at)
            .push_bind(c.updated_at)
            .push_bind(c.verified_at)
            .push_bind(c.assigned_at)
            .push_bind(c.first_response_at)
            .push_bind(c.closed_at)
            .push_bind(r.sla.map(|s| s.state.as_str()))
            .push_bind(r.sla.and_then(|s| s.at_risk_at))
            .push_bind(r.sla.and_then(|s| s.deadline))
            .push_bind(r.version)
            .push_bind(r.position)
            .push_bind(r.in_batch)
            .push_bind(Json(c));
    });
    q.push(format!(
        " ON CONFLICT (complaint_id) DO UPDATE SET status = EXCLUDED.status, \
           channel = EXCLUDED.channel, category = EXCLUDED.category, \
           priority = EXCLUDED.priority, opd = EXCLUDED.opd, officer_id = EXCLUDED.officer_id, \
           kecamatan = EXCLUDED.kecamatan, kelurahan = EXCLUDED.kelurahan, \
           title = EXCLUDED.title, anonymous = EXCLUDED.anonymous, \
           escalation_level = EXCLUDED.escalation_level, resolution = EXCLUDED.resolution, \
           rating = EXCLUDED.rating, reopen_count = EXCLUDED.reopen_count, \
           created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, \
           verified_at = EXCLUDED.verified_at, assigned_at = EXCLUDED.assigned_at, \
           first_response_at = EXCLUDED.first_response_at, closed_at = EXCLUDED.closed_at, \
           sla_state = EXCLUDED.sla_state, sla_at_risk_at = EXCLUDED.sla_at_risk_at, \
           sla_deadline = EXCLUDED.sla_deadline, version = EXCLUDED.version, \
           last_position = EXCLUDED.last_position, \
           events_applied = {table}.events_applied + EXCLUDED.events_applied, \
           state = EXCLUDED.state"
    ));
    q.build().execute(&mut *tx).await.map(drop)
}
