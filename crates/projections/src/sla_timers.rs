//! `sla_timers`: each complaint's three SLA clocks, recomputed from its events
//! whenever one arrives. Nothing here reads the wall clock, so a rebuild gives the
//! same rows; the state "now" is derived at read time (`sla::state_at`).

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::types::Json;
use sqlx::PgConnection;

use aduan_domain::sla::{self, BusinessCalendar, LegTimer, PolicyBook};
use aduan_domain::ComplaintEvent;
use aduan_store::codec;
use aduan_store::postgres::load_up_to;
use aduan_store::StoredEvent;

use crate::projector::Projection;

#[derive(Clone)]
pub struct SlaTimers {
    table: String,
    calendar: Arc<BusinessCalendar>,
    book: Arc<PolicyBook>,
}

impl SlaTimers {
    pub fn new(calendar: Arc<BusinessCalendar>, book: Arc<PolicyBook>) -> Self {
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
    }
}

pub fn state_name(state: sla::TimerState) -> &'static str {
    match state {
        sla::TimerState::OnTrack => "ON_TRACK",
        sla::TimerState::AtRisk => "AT_RISK",
        sla::TimerState::Breached => "BREACHED",
        sla::TimerState::Met => "MET",
    }
}

#[async_trait]
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

    async fn apply(&self, tx: &mut PgConnection, event: &StoredEvent) -> Result<(), sqlx::Error> {
        let history = load_up_to(tx, &event.aggregate_id, event.sequence)
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let Some(case) = codec::fold(&history).0 else {
            return Ok(());
        };
        let events: Vec<ComplaintEvent> = history.into_iter().map(|e| e.event).collect();
        // "Now" is the event's own time: the projection depends on events only.
        let now = event.event.occurred_at();
        for timer in sla::timers(&events, &self.book, &self.calendar, now) {
            upsert(tx, &self.table, &case, &timer, event.position).await?;
        }
        Ok(())
    }
}

async fn upsert(
    tx: &mut PgConnection,
    table: &str,
    case: &aduan_domain::Case,
    t: &LegTimer,
    position: i64,
) -> Result<(), sqlx::Error> {
    let unit = serde_json::to_value(t.target.unit)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    sqlx::query(&format!(
        "INSERT INTO {table} (complaint_id, leg, opd, category, priority, policy_version, \
           target_amount, target_unit, target_seconds, started_at, deadline, at_risk_at, stopped_at, \
           paused, used_seconds, state, explanation, last_position) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) \
         ON CONFLICT (complaint_id, leg) DO UPDATE SET opd = $3, category = $4, priority = $5, \
           policy_version = $6, target_amount = $7, target_unit = $8, target_seconds = $9, \
           started_at = $10, deadline = $11, at_risk_at = $12, stopped_at = $13, paused = $14, \
           used_seconds = $15, state = $16, explanation = $17, last_position = $18"
    ))
    .bind(&case.id)
    .bind(leg_name(t.leg))
    .bind(&case.opd)
    .bind(&case.category)
    .bind(case.priority.as_str())
    .bind(t.policy_version as i32)
    .bind(t.target.amount)
    .bind(unit)
    .bind(t.target_seconds)
    .bind(t.started_at)
    .bind(t.deadline)
    .bind(t.at_risk_at)
    .bind(t.stopped_at)
    .bind(t.paused)
    .bind(t.used_seconds)
    .bind(state_name(t.state))
    .bind(Json(&t.explanation))
    .bind(position)
    .execute(&mut *tx)
    .await
    .map(drop)
}
