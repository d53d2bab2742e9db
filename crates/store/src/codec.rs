//! Turning events into stored rows and back, with upcasting of old versions.

use chrono::{DateTime, Utc};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use serde_json::Value;
use sqlx::types::Json;

use aduan_audit::chain;
use aduan_domain::{Complaint, ComplaintEvent};

use crate::error::StoreError;
use crate::metadata::Metadata;

/// One event as stored, with its place in the global log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub aggregate_id: String,
    pub sequence: i64,
    pub position: i64,
    pub event_type: String,
    pub event_version: String,
    pub recorded_at: DateTime<Utc>,
    pub event: ComplaintEvent,
    pub metadata: Metadata,
    /// The event's chain hash (`aduan_audit::chain`); `None` only on
    /// rows written before the chain existed and not sealed yet.
    pub hash: Option<String>,
}

/// Upcasters for event versions no longer written, each with a test that reads
/// an event stored in the old shape (`crates/store/tests/personal.rs`).
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(PlainPersonalData)]
}

/// Version 1 of the events that hold personal data (written before erasure
/// existed) has every personal field in plain text; version 2 may have each
/// sealed (see `personal`). Sealed values are opened before upcasting, so a
/// version 1 payload is a version 2 one as readers see it: only the label
/// changes. (The stored row itself is sealed once, in place, by
/// `personal_legacy::seal_legacy_personal_data`, before the audit chain seals it.)
pub struct PlainPersonalData;

impl EventUpcaster for PlainPersonalData {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_version == "1" && !aduan_domain::erasure::personal_fields(event_type).is_empty()
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        event.event_version = aduan_domain::events::PERSONAL_EVENT_VERSION.to_string();
        event
    }
}

/// An event ready to append: serialized as it will be stored, with its chain
/// hash and its predecessor's.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedEvent {
    pub event: SerializedEvent,
    pub hash: String,
    pub prev_hash: String,
}

/// Chains one complaint's new events (in sequence order) after `prev`, the
/// hash of its last stored event (`chain::GENESIS` for a new complaint).
/// Returns them sealed and the hash the last one leaves the chain at.
pub fn seal(events: Vec<SerializedEvent>, prev: &str) -> (Vec<SealedEvent>, String) {
    let mut prev = prev.to_string();
    let sealed = events
        .into_iter()
        .map(|event| {
            let hash = chain::event_hash(&content(&event), &prev);
            let prev_hash = std::mem::replace(&mut prev, hash.clone());
            SealedEvent {
                event,
                hash,
                prev_hash,
            }
        })
        .collect();
    (sealed, prev)
}

/// What the chain hash covers of a serialized event.
pub fn content(event: &SerializedEvent) -> chain::EventContent<'_> {
    chain::EventContent {
        complaint: &event.aggregate_id,
        sequence: event.sequence as i64,
        event_type: &event.event_type,
        event_version: &event.event_version,
        payload: &event.payload,
        metadata: &event.metadata,
    }
}

pub fn encode(
    aggregate_id: &str,
    sequence: i64,
    event: &ComplaintEvent,
    metadata: &Metadata,
) -> Result<SerializedEvent, StoreError> {
    let payload = serde_json::to_value(event).map_err(|e| StoreError::Other(e.to_string()))?;
    let metadata = serde_json::to_value(metadata).map_err(|e| StoreError::Other(e.to_string()))?;
    Ok(SerializedEvent::new(
        aggregate_id.to_string(),
        sequence as usize,
        Complaint::TYPE.to_string(),
        event.event_type(),
        event.event_version(),
        payload,
        metadata,
    ))
}

/// A raw row of the events table.
pub struct Row {
    pub aggregate_id: String,
    pub sequence: i64,
    pub position: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
    pub hash: Option<String>,
    pub prev_hash: Option<String>,
}

/// What the chain hash covers of a stored row.
pub fn row_content(row: &Row) -> chain::EventContent<'_> {
    chain::EventContent {
        complaint: &row.aggregate_id,
        sequence: row.sequence,
        event_type: &row.event_type,
        event_version: &row.event_version,
        payload: &row.payload,
        metadata: &row.metadata,
    }
}

/// A raw events row, read the same way on either database (payload and metadata
/// as JSON: PostgreSQL's json columns, SQLite's text).
pub fn read_row<R>(row: &R) -> Result<Row, StoreError>
where
    R: sqlx::Row,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Json<Value>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let get = || -> Result<Row, sqlx::Error> {
        Ok(Row {
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            position: row.try_get("position")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get::<Json<Value>, _>("payload")?.0,
            metadata: row.try_get::<Json<Value>, _>("metadata")?.0,
            recorded_at: row.try_get::<DateTime<Utc>, _>("recorded_at")?,
            hash: row.try_get("hash")?,
            prev_hash: row.try_get("prev_hash")?,
        })
    };
    get().map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn decode(row: Row, upcasters: &[Box<dyn EventUpcaster>]) -> Result<StoredEvent, StoreError> {
    let mut serialized = SerializedEvent::new(
        row.aggregate_id.clone(),
        row.sequence as usize,
        Complaint::TYPE.to_string(),
        row.event_type,
        row.event_version,
        row.payload,
        row.metadata,
    );
    for upcaster in upcasters {
        if upcaster.can_upcast(&serialized.event_type, &serialized.event_version) {
            serialized = upcaster.upcast(serialized);
        }
    }
    let corrupt = |what: &str, e: serde_json::Error| {
        StoreError::Corrupt(format!(
            "{} #{} {what}: {e}",
            row.aggregate_id, row.sequence
        ))
    };
    let event: ComplaintEvent =
        serde_json::from_value(serialized.payload).map_err(|e| corrupt("payload", e))?;
    let metadata: Metadata =
        serde_json::from_value(serialized.metadata).map_err(|e| corrupt("metadata", e))?;
    Ok(StoredEvent {
        aggregate_id: row.aggregate_id,
        sequence: row.sequence,
        position: row.position,
        event_type: serialized.event_type,
        event_version: serialized.event_version,
        recorded_at: row.recorded_at,
        event,
        metadata,
        hash: row.hash,
    })
}

/// Decodes raw rows, their sealed personal fields opened first.
pub async fn decode_all(
    mut rows: Vec<Row>,
    personal: &crate::personal::Personal,
    upcasters: &[Box<dyn EventUpcaster>],
) -> Result<Vec<StoredEvent>, StoreError> {
    personal.open_rows(&mut rows).await?;
    rows.into_iter().map(|row| decode(row, upcasters)).collect()
}

/// Fold stored events into the aggregate.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a StoredEvent>) -> Complaint {
    let mut complaint = Complaint::default();
    for stored in events {
        complaint.apply(stored.event.clone());
    }
    complaint
}
