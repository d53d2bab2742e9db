//! Reading `complaint_summary`: filtered, stably sorted, keyset-paginated lists,
//! and read-your-writes waits on the projector.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use aduan_domain::sla::{CaseSla, TimerState};
use aduan_domain::Case;
use aduan_store::StoreError;
use sqlx::types::Json;
use sqlx::{FromRow, Row};

/// One row of `complaint_summary` as lists show it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SummaryRow {
    pub complaint_id: String,
    pub status: String,
    pub channel: String,
    pub category: String,
    pub priority: String,
    pub opd: Option<String>,
    pub officer_id: Option<String>,
    pub kecamatan: Option<String>,
    pub kelurahan: Option<String>,
    pub title: String,
    pub escalation_level: i32,
    pub resolution: Option<String>,
    pub rating: Option<i16>,
    pub reopen_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub sla_state: Option<String>,
    pub sla_at_risk_at: Option<DateTime<Utc>>,
    pub sla_deadline: Option<DateTime<Utc>>,
    pub version: i64,
    pub last_position: i64,
}

impl SummaryRow {
    /// The case's SLA standing at `now`; `None` when no clock has started.
    pub fn sla_state_at(&self, now: DateTime<Utc>) -> Option<TimerState> {
        let state = TimerState::parse(self.sla_state.as_deref()?)?;
        Some(
            CaseSla {
                state,
                at_risk_at: self.sla_at_risk_at,
                deadline: self.sla_deadline,
            }
            .state_at(now),
        )
    }
}

/// All conditions must hold; an empty list or `None` means "any".
#[derive(Debug, Clone)]
pub struct SummaryFilter {
    pub statuses: Vec<String>,
    pub opds: Vec<String>,
    pub categories: Vec<String>,
    pub kecamatan: Vec<String>,
    pub channels: Vec<String>,
    pub priorities: Vec<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the title.
    pub text: Option<String>,
    /// SLA standings as of `now`.
    pub sla_states: Vec<TimerState>,
    pub now: DateTime<Utc>,
}

impl Default for SummaryFilter {
    fn default() -> Self {
        SummaryFilter {
            statuses: Vec::new(),
            opds: Vec::new(),
            categories: Vec::new(),
            kecamatan: Vec::new(),
            channels: Vec::new(),
            priorities: Vec::new(),
            created_from: None,
            created_to: None,
            text: None,
            sla_states: Vec::new(),
            now: Utc::now(),
        }
    }
}

/// Where a page starts: after this (created_at, complaint_id), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub created_at: DateTime<Utc>,
    pub complaint_id: String,
}

impl Keyset {
    pub fn encode(&self) -> String {
        hex::encode(format!(
            "{}|{}",
            self.created_at.to_rfc3339(),
            self.complaint_id
        ))
    }

    pub fn decode(cursor: &str) -> Option<Keyset> {
        let text = String::from_utf8(hex::decode(cursor).ok()?).ok()?;
        let (at, id) = text.split_once('|')?;
        Some(Keyset {
            created_at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
            complaint_id: id.to_string(),
        })
    }
}

const COLUMNS: &str =
    "complaint_id, status, channel, category, priority, opd, officer_id, kecamatan, \
     kelurahan, title, escalation_level, resolution, rating, reopen_count, created_at, updated_at, \
     first_response_at, closed_at, sla_state, sla_at_risk_at, sla_deadline, version, last_position";

/// `CaseSla::state_at` in SQL, over `complaint_summary`'s columns at instant `$now`
/// (the same rule: running clocks only make a stored state worse).
fn push_sla_state(q: &mut QueryBuilder<'_, Postgres>, now: DateTime<Utc>) {
    q.push("(CASE WHEN sla_state = 'BREACHED' OR sla_deadline < ")
        .push_bind(now)
        .push(" THEN 'BREACHED' WHEN sla_state = 'AT_RISK' OR sla_at_risk_at <= ")
        .push_bind(now)
        .push(" THEN 'AT_RISK' ELSE sla_state END)");
}

fn push_any(q: &mut QueryBuilder<'_, Postgres>, column: &str, values: &[String]) {
    if !values.is_empty() {
        q.push(format!(" AND {column} = ANY("))
            .push_bind(values.to_vec())
            .push(")");
    }
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, f: &SummaryFilter) {
    q.push(" WHERE true");
    push_any(q, "status", &f.statuses);
    push_any(q, "opd", &f.opds);
    push_any(q, "category", &f.categories);
    push_any(q, "kecamatan", &f.kecamatan);
    push_any(q, "channel", &f.channels);
    push_any(q, "priority", &f.priorities);
    if let Some(from) = f.created_from {
        q.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = f.created_to {
        q.push(" AND created_at < ").push_bind(to);
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q.push(" AND title ILIKE ")
            .push_bind(format!("%{escaped}%"));
    }
    if !f.sla_states.is_empty() {
        q.push(" AND ");
        push_sla_state(q, f.now);
        let names: Vec<String> = f.sla_states.iter().map(|s| s.as_str().into()).collect();
        q.push(" = ANY(").push_bind(names).push(")");
    }
}

/// One page (newest first) plus whether more follow.
pub async fn page(
    pool: &PgPool,
    filter: &SummaryFilter,
    after: Option<&Keyset>,
    first: i64,
) -> Result<(Vec<SummaryRow>, bool), StoreError> {
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS} FROM complaint_summary"));
    push_filter(&mut q, filter);
    if let Some(k) = after {
        q.push(" AND (created_at, complaint_id) < (")
            .push_bind(k.created_at)
            .push(", ")
            .push_bind(k.complaint_id.clone())
            .push(")");
    }
    q.push(" ORDER BY created_at DESC, complaint_id DESC LIMIT ")
        .push_bind(first + 1);
    let mut rows: Vec<SummaryRow> = q
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(StoreError::from_sqlx)?;
    let more = rows.len() as i64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

/// One complaint's row and its folded case (without personal data), if projected.
pub async fn one(pool: &PgPool, id: &str) -> Result<Option<(SummaryRow, Case)>, StoreError> {
    let mut q = QueryBuilder::new(format!("SELECT {COLUMNS}, state FROM complaint_summary"));
    q.push(" WHERE complaint_id = ").push_bind(id.to_string());
    let Some(row) = q
        .build()
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from_sqlx)?
    else {
        return Ok(None);
    };
    let summary = SummaryRow::from_row(&row).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let Json(case) = row
        .try_get::<Json<Case>, _>("state")
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Some((summary, case)))
}

pub async fn count(pool: &PgPool, filter: &SummaryFilter) -> Result<i64, StoreError> {
    let mut q = QueryBuilder::new("SELECT count(*) FROM complaint_summary");
    push_filter(&mut q, filter);
    q.build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(StoreError::from_sqlx)
}

/// Whether the projection has applied the event at `position`.
pub async fn has_applied(
    pool: &PgPool,
    projection: &str,
    position: i64,
) -> Result<bool, StoreError> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events e JOIN projection_checkpoints c ON c.name = $1 \
         WHERE e.position = $2 AND (e.tx_id, e.position) <= (c.last_tx_id, c.last_position))",
    )
    .bind(projection)
    .bind(position)
    .fetch_one(pool)
    .await
    .map_err(StoreError::from_sqlx)
}

/// Waits until the projection has applied the event at `position`, or `timeout`.
pub async fn wait_for(
    pool: &PgPool,
    projection: &str,
    position: i64,
    timeout: Duration,
) -> Result<bool, StoreError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if has_applied(pool, projection, position).await? {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The last position the projection applied (its freshness).
pub async fn applied_position(pool: &PgPool, projection: &str) -> Result<i64, StoreError> {
    Ok(progress(pool, projection).await?.position)
}

#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Progress {
    pub position: i64,
    pub events_seen: i64,
    pub updated_at: Option<DateTime<Utc>>,
}

/// How far the projection has read (zeros before its first batch).
pub async fn progress(pool: &PgPool, projection: &str) -> Result<Progress, StoreError> {
    sqlx::query_as(
        "SELECT last_position AS position, events_seen, updated_at \
         FROM projection_checkpoints WHERE name = $1",
    )
    .bind(projection)
    .fetch_optional(pool)
    .await
    .map(Option::unwrap_or_default)
    .map_err(StoreError::from_sqlx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let k = Keyset {
            created_at: Utc::now(),
            complaint_id: "abc|def".into(),
        };
        let back = Keyset::decode(&k.encode()).unwrap();
        assert_eq!(back.complaint_id, "abc|def");
        assert_eq!(
            back.created_at.timestamp_micros(),
            k.created_at.timestamp_micros()
        );
        assert_eq!(Keyset::decode("zz"), None);
        assert_eq!(Keyset::decode(&hex::encode("no separator")), None);
    }
}
