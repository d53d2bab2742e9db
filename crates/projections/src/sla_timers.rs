//! `sla_timers`: each complaint's three SLA clocks, recomputed from its events
//! whenever one arrives. Nothing here reads the wall clock, so a rebuild gives the
//! same rows; the state "now" is derived at read time (`sla::state_at`).

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::types::Json;
use sqlx::{PgConnection, Postgres, QueryBuilder};

use aduan_domain::sla::{self, BusinessCalendar, LegTimer, PolicyBook};
use aduan_domain::{Case, ComplaintEvent};
use aduan_store::{codec, StoreError, StoredEvent};

use crate::projector::{max_rows, touched, Projection};

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

    async fn apply(&self, tx: &mut PgConnection, batch: &[StoredEvent]) -> Result<(), StoreError> {
        let mut rows = Vec::new();
        for touched in touched(tx, batch).await? {
            let Some(last) = touched.last() else { continue };
            let position = last.position;
            // "Now" is the last event's own time: the rows depend on events only.
            let now = last.event.occurred_at();
            let Some(case) = codec::fold(&touched.history).0 else {
                continue;
            };
            let events: Vec<ComplaintEvent> =
                touched.history.into_iter().map(|e| e.event).collect();
            rows.extend(
                sla::timers(&events, &self.book, &self.calendar, now)
                    .into_iter()
                    .map(|timer| Row {
                        case: case.clone(),
                        timer,
                        position,
                    }),
            );
        }
        if rows.is_empty() {
            return Ok(());
        }
        upsert(tx, &self.table, &rows)
            .await
            .map_err(StoreError::from_sqlx)
    }
}

struct Row {
    case: Case,
    timer: LegTimer,
    position: i64,
}

async fn upsert(tx: &mut PgConnection, table: &str, rows: &[Row]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(max_rows(19)) {
        upsert_chunk(tx, table, chunk).await?;
    }
    Ok(())
}

async fn upsert_chunk(tx: &mut PgConnection, table: &str, rows: &[Row]) -> Result<(), sqlx::Error> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "INSERT INTO {table} (complaint_id, leg, opd, category, priority, policy_version, \
           target_amount, target_unit, target_seconds, started_at, deadline, at_risk_at, stopped_at, \
           paused, used_seconds, state, state_changed_at, explanation, last_position) "
    ));
    q.push_values(
        rows,
        |mut b,
         Row {
             case,
             timer: t,
             position,
         }| {
            let unit = serde_json::to_value(t.target.unit)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            b.push_bind(&case.id)
                .push_bind(leg_name(t.leg))
                .push_bind(&case.opd)
                .push_bind(&case.category)
                .push_bind(case.priority.as_str())
                .push_bind(t.policy_version as i32)
                .push_bind(t.target.amount)
                .push_bind(unit)
                .push_bind(t.target_seconds)
                .push_bind(t.started_at)
                .push_bind(t.deadline)
                .push_bind(t.at_risk_at)
                .push_bind(t.stopped_at)
                .push_bind(t.paused)
                .push_bind(t.used_seconds)
                .push_bind(t.state.as_str())
                .push_bind(t.state_since)
                .push_bind(Json(&t.explanation))
                .push_bind(*position);
        },
    );
    q.push(
        " ON CONFLICT (complaint_id, leg) DO UPDATE SET opd = EXCLUDED.opd, \
           category = EXCLUDED.category, priority = EXCLUDED.priority, \
           policy_version = EXCLUDED.policy_version, target_amount = EXCLUDED.target_amount, \
           target_unit = EXCLUDED.target_unit, target_seconds = EXCLUDED.target_seconds, \
           started_at = EXCLUDED.started_at, deadline = EXCLUDED.deadline, \
           at_risk_at = EXCLUDED.at_risk_at, stopped_at = EXCLUDED.stopped_at, \
           paused = EXCLUDED.paused, used_seconds = EXCLUDED.used_seconds, \
           state = EXCLUDED.state, state_changed_at = EXCLUDED.state_changed_at, \
           explanation = EXCLUDED.explanation, last_position = EXCLUDED.last_position",
    );
    q.build().execute(&mut *tx).await.map(drop)
}
