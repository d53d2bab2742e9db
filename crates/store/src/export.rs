//! Moving a city's event log between databases (SQLite to PostgreSQL, say): one
//! JSON object per line, in log order, with positions, metadata and recording
//! times exactly as stored, so histories read the same on the other side.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;

use crate::codec::read_row;
use crate::error::StoreError;

/// One stored event, raw: nothing decoded or upcast on the way through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// Written as the audit leaf hashes it (six fractional digits and `Z`);
    /// any RFC 3339 time is read.
    #[serde(serialize_with = "hashed_form")]
    pub recorded_at: DateTime<Utc>,
    /// The chain hash and its predecessor's (absent in exports written before
    /// the chain existed: the importing side seals those).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_hash: Option<String>,
}

fn hashed_form<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&aduan_audit::chain::timestamp(*t))
}

/// Events per read or write transaction while exporting or importing.
pub const CHUNK: i64 = 1000;

impl ExportedEvent {
    /// An events row (with `aggregate_type`) as exported, on either database.
    pub fn from_row<R>(row: &R) -> Result<Self, StoreError>
    where
        R: sqlx::Row,
        for<'c> &'c str: sqlx::ColumnIndex<R>,
        String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Json<Value>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        DateTime<Utc>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        let r = read_row(row)?;
        Ok(ExportedEvent {
            position: r.position,
            aggregate_type: row
                .try_get("aggregate_type")
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            aggregate_id: r.aggregate_id,
            sequence: r.sequence,
            event_type: r.event_type,
            event_version: r.event_version,
            payload: r.payload,
            metadata: r.metadata,
            recorded_at: r.recorded_at,
            hash: r.hash,
            prev_hash: r.prev_hash,
        })
    }
}
