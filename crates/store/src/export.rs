//! Moving a city's event log between databases (SQLite to PostgreSQL, say): one
//! JSON object per line, in log order, with positions, metadata and recording
//! times exactly as stored, so histories read the same on the other side.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    pub recorded_at: DateTime<Utc>,
}

/// Events per read or write transaction while exporting or importing.
pub const CHUNK: i64 = 1000;
