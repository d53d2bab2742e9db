//! Reading `complaint_summary`: filtered, stably sorted, keyset-paginated lists,
//! and read-your-writes waits on the projector.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use aduan_store::StoreError;

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
    pub version: i64,
    pub last_position: i64,
}

/// All conditions must hold; an empty list or `None` means "any".
#[derive(Debug, Clone, Default)]
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
     first_response_at, closed_at, version, last_position";

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
    sqlx::query_scalar(
        "SELECT coalesce(max(last_position), 0) FROM projection_checkpoints WHERE name = $1",
    )
    .bind(projection)
    .fetch_one(pool)
    .await
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
