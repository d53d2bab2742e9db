//! Response templates' streams (`aduan_domain::templates`) in the same event
//! log as the complaints, so every version is chained and sealed into the
//! audit tree like a case's events. Their rows have the aggregate type
//! `ResponseTemplate`; the complaint readers (`load`, `read_committed_after`,
//! `head`, `recorded_between`) read `Complaint` rows only, so followers never
//! see them and stand past them all the same.
//!
//! No projection: a city has tens to hundreds of templates, and listing them
//! folds every template stream, read through the events table's primary key
//! `(aggregate_type, aggregate_id, sequence)` by its first column, so a list
//! is always current (a manager sees their change at once) and needs no
//! follower, table or rebuild.

use chrono::{DateTime, Utc};
use cqrs_es::persist::SerializedEvent;

use aduan_domain::templates::{ResponseTemplate, TemplateCommand, TemplateEvent, TEMPLATE_TYPE};
use aduan_domain::{Actor, ComplaintError};
use sha2::{Digest, Sha256};

use crate::codec::{read_row, seal, Row};
use crate::error::{CommandError, StoreError};
use crate::log::{Db, EventLog};
use crate::metadata::{Metadata, RequestContext};

const LOAD_ONE_STREAM: &str = "SELECT aggregate_id, sequence, position, event_type, \
     event_version, payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";

const LOAD_ALL_STREAMS: &str = "SELECT aggregate_id, sequence, position, event_type, \
     event_version, payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE aggregate_type = $1 ORDER BY aggregate_id, sequence";

/// The version template events are written with.
const TEMPLATE_EVENT_VERSION: &str = "1";

/// One template event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTemplateEvent {
    pub id: String,
    pub sequence: i64,
    pub position: i64,
    pub recorded_at: DateTime<Utc>,
    pub event: TemplateEvent,
    pub metadata: Metadata,
    pub hash: Option<String>,
}

/// A template's state, its events (its versions' history), in sequence order.
pub async fn load(
    log: &dyn EventLog,
    id: &str,
) -> Result<(ResponseTemplate, Vec<StoredTemplateEvent>), StoreError> {
    let rows = fetch(&log.db(), LOAD_ONE_STREAM, Some(id)).await?;
    let events = rows
        .into_iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    let state = ResponseTemplate::fold(id, events.iter().map(|e| &e.event));
    Ok((state, events))
}

/// Every template, retired ones included, by id.
pub async fn list(log: &dyn EventLog) -> Result<Vec<ResponseTemplate>, StoreError> {
    let rows = fetch(&log.db(), LOAD_ALL_STREAMS, None).await?;
    let mut out: Vec<ResponseTemplate> = Vec::new();
    for row in rows {
        let stored = decode(row)?;
        match out.last_mut() {
            Some(t) if t.id == stored.id => t.apply(&stored.event),
            _ => out.push(ResponseTemplate::fold(&stored.id, [&stored.event])),
        }
    }
    Ok(out)
}

/// Decides `command` on template `id` and appends its event, chained after the
/// stream's last. A lost race (another manager's change appended first) is a
/// conflict: the caller reads the new version and decides again. With a
/// `command_id`, a retry of a command already appended returns the template
/// as that command left it and appends nothing (also when two copies race).
pub async fn execute(
    log: &dyn EventLog,
    id: &str,
    actor: &Actor,
    context: &RequestContext,
    command: TemplateCommand,
    command_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ResponseTemplate, CommandError> {
    let hash = fingerprint(id, &command);
    let (mut state, events) = load(log, id).await?;
    if let Some(done) = replayed(id, &events, actor, command_id, &hash)? {
        return Ok(done);
    }
    let event = state.decide(actor, command, now)?;
    let metadata = Metadata::new(actor, context, command_id, &hash);
    let sequence = state.version + 1;
    let serialized = SerializedEvent::new(
        id.to_string(),
        sequence as usize,
        TEMPLATE_TYPE.to_string(),
        event.event_type_name().to_string(),
        TEMPLATE_EVENT_VERSION.to_string(),
        serde_json::to_value(&event).map_err(|e| StoreError::Other(e.to_string()))?,
        serde_json::to_value(&metadata).map_err(|e| StoreError::Other(e.to_string()))?,
    );
    let prev = events
        .last()
        .and_then(|e| e.hash.clone())
        .unwrap_or_else(|| aduan_audit::chain::GENESIS.to_string());
    let (sealed, _) = seal(vec![serialized], &prev);
    match log.append(&sealed, &[]).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            // A copy of the same command may have won the race.
            let (_, events) = load(log, id).await?;
            if let Some(done) = replayed(id, &events, actor, command_id, &hash)? {
                return Ok(done);
            }
            return Err(CommandError::Conflict(
                "the template was changed concurrently; read it again".into(),
            ));
        }
        Err(other) => return Err(other.into()),
    }
    state.apply(&event);
    Ok(state)
}

/// The template as the event of `command_id` left it, if the stream has one:
/// refused if that key was used by someone else or for another command.
fn replayed(
    id: &str,
    events: &[StoredTemplateEvent],
    actor: &Actor,
    command_id: Option<&str>,
    hash: &str,
) -> Result<Option<ResponseTemplate>, CommandError> {
    let Some(key) = command_id else {
        return Ok(None);
    };
    let Some(at) = events
        .iter()
        .position(|e| e.metadata.command_id.as_deref() == Some(key))
    else {
        return Ok(None);
    };
    let first = &events[at].metadata;
    let same_actor = first.actor_id == actor.id && first.actor_role == actor.role.as_str();
    if !same_actor || first.command_hash.as_deref() != Some(hash) {
        return Err(ComplaintError::invalid(
            "commandId",
            "was already used for a different command on this template",
        )
        .into());
    }
    Ok(Some(ResponseTemplate::fold(
        id,
        events[..=at].iter().map(|e| &e.event),
    )))
}

/// A digest of the command on its template, for its idempotency key.
fn fingerprint(id: &str, command: &TemplateCommand) -> String {
    let mut digest = Sha256::new();
    digest.update(id.as_bytes());
    digest.update([0]);
    digest.update(serde_json::to_vec(command).unwrap_or_default());
    hex::encode(digest.finalize())
}

async fn fetch(db: &Db, sql: &str, id: Option<&str>) -> Result<Vec<Row>, StoreError> {
    on_db!(db, pool => {
        let mut query = sqlx::query(sql).bind(TEMPLATE_TYPE);
        if let Some(id) = id {
            query = query.bind(id);
        }
        let rows = query.fetch_all(pool).await.map_err(StoreError::from_sqlx)?;
        rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()
    })
}

fn decode(row: Row) -> Result<StoredTemplateEvent, StoreError> {
    let corrupt = |what: &str, e: serde_json::Error| {
        StoreError::Corrupt(format!(
            "template {} #{} {what}: {e}",
            row.aggregate_id, row.sequence
        ))
    };
    let event: TemplateEvent =
        serde_json::from_value(row.payload.clone()).map_err(|e| corrupt("payload", e))?;
    let metadata: Metadata =
        serde_json::from_value(row.metadata.clone()).map_err(|e| corrupt("metadata", e))?;
    Ok(StoredTemplateEvent {
        id: row.aggregate_id,
        sequence: row.sequence,
        position: row.position,
        recorded_at: row.recorded_at,
        event,
        metadata,
        hash: row.hash,
    })
}
