//! `complaint_summary`: one row per complaint for lists, filters and analysts,
//! without personal data.

use async_trait::async_trait;
use cqrs_es::Aggregate;
use sqlx::types::Json;
use sqlx::PgConnection;

use aduan_domain::{Case, Complaint};
use aduan_store::StoredEvent;

use crate::projector::Projection;

/// The `complaint_summary` projection (or a shadow copy of it during a rebuild).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintSummary {
    table: String,
}

impl Default for ComplaintSummary {
    fn default() -> Self {
        ComplaintSummary {
            table: "complaint_summary".into(),
        }
    }
}

/// The folded case without the reporter's identity or exact address.
pub fn redact(mut case: Case) -> Case {
    case.reporter = None;
    case.location.address = None;
    case
}

#[async_trait]
impl Projection for ComplaintSummary {
    fn name(&self) -> &str {
        &self.table
    }

    fn renamed(&self, name: &str) -> Self {
        ComplaintSummary {
            table: name.to_string(),
        }
    }

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> Result<(), sqlx::Error> {
        let previous: Option<Json<Case>> = sqlx::query_scalar(&format!(
            "SELECT state FROM {} WHERE complaint_id = $1",
            self.table
        ))
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut complaint = Complaint(previous.map(|j| j.0));
        complaint.apply(event.event.clone());
        let Some(case) = complaint.0.map(redact) else {
            tracing::warn!(complaint = %event.aggregate_id, sequence = event.sequence, "event before submission ignored");
            return Ok(());
        };
        upsert(tx, &self.table, &case, event).await
    }
}

async fn upsert(
    tx: &mut PgConnection,
    table: &str,
    c: &Case,
    event: &StoredEvent,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO {table} (complaint_id, status, channel, category, priority, opd, \
           officer_id, kecamatan, kelurahan, title, anonymous, escalation_level, resolution, rating, \
           reopen_count, created_at, updated_at, verified_at, assigned_at, first_response_at, \
           closed_at, version, last_position, events_applied, state) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,1,$24) \
         ON CONFLICT (complaint_id) DO UPDATE SET status = $2, channel = $3, category = $4, \
           priority = $5, opd = $6, officer_id = $7, kecamatan = $8, kelurahan = $9, title = $10, \
           anonymous = $11, escalation_level = $12, resolution = $13, rating = $14, \
           reopen_count = $15, created_at = $16, updated_at = $17, verified_at = $18, \
           assigned_at = $19, first_response_at = $20, closed_at = $21, version = $22, \
           last_position = $23, events_applied = {table}.events_applied + 1, state = $24"
    ))
    .bind(&c.id)
    .bind(c.status.as_str())
    .bind(c.channel.as_str())
    .bind(&c.category)
    .bind(c.priority.as_str())
    .bind(&c.opd)
    .bind(&c.officer_id)
    .bind(&c.location.kecamatan)
    .bind(&c.location.kelurahan)
    .bind(&c.title)
    .bind(c.anonymous)
    .bind(c.escalation_level as i32)
    .bind(c.resolution.map(|r| r.as_str()))
    .bind(c.rating.map(i16::from))
    .bind(c.reopen_count as i32)
    .bind(c.created_at)
    .bind(c.updated_at)
    .bind(c.verified_at)
    .bind(c.assigned_at)
    .bind(c.first_response_at)
    .bind(c.closed_at)
    .bind(event.sequence)
    .bind(event.position)
    .bind(Json(c))
    .execute(&mut *tx)
    .await
    .map(drop)
}
