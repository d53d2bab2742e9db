//! The statements that read the same on both databases, written once: `EventLog`'s
//! provided methods run them, and so do the backends' `migrate` and `import`.
//! What differs between PostgreSQL and SQLite is in `postgres.rs` and `sqlite.rs`.
//!
//! Placeholders are PostgreSQL's `$1`, `$2`, ...: sqlx binds SQLite's `$NNN`
//! parameters by their number too, so one text serves both, and the scan test
//! explains the very text that runs.

use cqrs_es::persist::EventUpcaster;
use sqlx::migrate::{MigrateError, Migrator};

use aduan_domain::Complaint;

use crate::codec::{self, read_row, StoredEvent};
use crate::error::StoreError;
use crate::export::ExportedEvent;
use crate::log::{CommandRecord, Db, ImportStream};
use crate::personal::{KeyWriter, Personal};

const COMPLAINT: &str = <Complaint as cqrs_es::Aggregate>::TYPE;

/// A complaint's events, for a command on a case not in the cache.
pub(crate) const LOAD: &str = "SELECT aggregate_id, sequence, position, event_type, \
     event_version, payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";

/// How many events a complaint has: its version, read off the primary key.
const VERSION: &str = "SELECT COALESCE(MAX(sequence), 0) FROM events \
     WHERE aggregate_type = $1 AND aggregate_id = $2";

/// The next number of a year's count (`aduan_domain::numbering`).
pub(crate) const NEXT_CASE_NUMBER: &str =
    "INSERT INTO case_numbers (year, last) VALUES (CAST($1 AS INTEGER), 1) \
     ON CONFLICT (year) DO UPDATE SET last = case_numbers.last + 1 RETURNING last";

/// Where a client command id was applied.
pub(crate) const COMMAND_RECORD: &str =
    "SELECT complaint_id, sequence FROM command_ids WHERE command_id = $1";

const LOAD_ONE: &str = "SELECT aggregate_id, sequence, position, event_type, event_version, \
     payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";

/// Events of some types recorded in `[$1, $2)`, oldest first, through the
/// `events_recorded_at` index (ordered by it, not by position: PostgreSQL's
/// planner turns `ORDER BY position LIMIT` into a walk of the whole position index).
const RECORDED_BETWEEN: &str = "SELECT aggregate_id, sequence, position, event_type, \
     event_version, payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE recorded_at >= $1 AND recorded_at < $2 AND aggregate_type = 'Complaint'";

const EXPORT_AFTER: &str = "SELECT position, aggregate_type, aggregate_id, sequence, event_type, \
     event_version, payload, metadata, recorded_at, hash, prev_hash FROM events \
     WHERE position > $1 ORDER BY position LIMIT $2";

const IMPORT_EVENT: &str = "INSERT INTO events (position, aggregate_type, aggregate_id, \
     sequence, event_type, event_version, payload, metadata, recorded_at, hash, prev_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

const INSERT_SETTING: &str =
    "INSERT INTO server_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";

const SETTING: &str = "SELECT value FROM server_settings WHERE key = $1";

const REPLACE_SETTING: &str = "UPDATE server_settings SET value = $3 WHERE key = $1 AND value = $2";

pub(crate) async fn migrate(migrator: &Migrator, db: &Db) -> Result<(), StoreError> {
    on_db!(db, pool => migrator.run(pool).await).map_err(|e| match e {
        MigrateError::Execute(err) => StoreError::from_sqlx(err),
        other => StoreError::Other(other.to_string()),
    })
}

pub(crate) async fn last_case_position(db: &Db) -> Result<i64, StoreError> {
    let position: Option<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT position FROM events WHERE aggregate_type = $1 ORDER BY position DESC LIMIT 1",
    )
    .bind(COMPLAINT)
    .fetch_optional(pool)
    .await)
    .map_err(StoreError::from_sqlx)?;
    Ok(position.unwrap_or(0))
}

pub(crate) async fn ping(db: &Db) -> Result<(), StoreError> {
    on_db!(db, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))
        .map_err(StoreError::from_sqlx)
}

pub(crate) async fn load(
    db: &Db,
    personal: &Personal,
    upcasters: &[Box<dyn EventUpcaster>],
    aggregate_id: &str,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows = on_db!(db, pool => {
        let rows = sqlx::query(LOAD)
            .bind(COMPLAINT)
            .bind(aggregate_id)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?
    });
    codec::decode_all(rows, personal, upcasters).await
}

pub(crate) async fn version(db: &Db, aggregate_id: &str) -> Result<i64, StoreError> {
    let (version,): (i64,) = on_db!(db, pool => sqlx::query_as(VERSION)
        .bind(COMPLAINT)
        .bind(aggregate_id)
        .fetch_one(pool)
        .await)
    .map_err(StoreError::from_sqlx)?;
    Ok(version)
}

pub(crate) async fn next_case_number(db: &Db, year: i32) -> Result<i64, StoreError> {
    let _turn = match db {
        Db::Sqlite(pool) => Some(crate::write_turn::turn(pool, "case number").await?),
        Db::Postgres(_) => None,
    };
    let (last,): (i64,) = on_db!(db, pool => sqlx::query_as(NEXT_CASE_NUMBER)
        .bind(year)
        .fetch_one(pool)
        .await)
    .map_err(StoreError::from_sqlx)?;
    Ok(last)
}

pub(crate) async fn load_one(
    db: &Db,
    personal: &Personal,
    upcasters: &[Box<dyn EventUpcaster>],
    aggregate_id: &str,
    sequence: i64,
) -> Result<Option<StoredEvent>, StoreError> {
    let row = on_db!(db, pool => {
        let row = sqlx::query(LOAD_ONE)
            .bind(COMPLAINT)
            .bind(aggregate_id)
            .bind(sequence)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.map(|row| read_row(&row)).transpose()?
    });
    let events = codec::decode_all(row.into_iter().collect(), personal, upcasters).await?;
    Ok(events.into_iter().next())
}

pub(crate) async fn recorded_between(
    db: &Db,
    personal: &Personal,
    upcasters: &[Box<dyn EventUpcaster>],
    range: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    event_types: &[&str],
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut text = RECORDED_BETWEEN.to_string();
    if !event_types.is_empty() {
        let binds: Vec<String> = (0..event_types.len())
            .map(|i| format!("${}", i + 4))
            .collect();
        text.push_str(&format!(" AND event_type IN ({})", binds.join(", ")));
    }
    text.push_str(" ORDER BY recorded_at, position LIMIT $3");
    let rows = match db {
        Db::Postgres(pool) => {
            let mut q = sqlx::query(&text).bind(range.0).bind(range.1).bind(limit);
            for t in event_types {
                q = q.bind(*t);
            }
            let rows = q.fetch_all(pool).await.map_err(StoreError::from_sqlx)?;
            rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?
        }
        Db::Sqlite(pool) => {
            // SQLite keeps `recorded_at` as text in its default's format.
            let at =
                |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
            let mut q = sqlx::query(&text)
                .bind(at(range.0))
                .bind(at(range.1))
                .bind(limit);
            for t in event_types {
                q = q.bind(*t);
            }
            let rows = q.fetch_all(pool).await.map_err(StoreError::from_sqlx)?;
            rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?
        }
    };
    codec::decode_all(rows, personal, upcasters).await
}

pub(crate) async fn command_record(
    db: &Db,
    command_id: &str,
) -> Result<Option<CommandRecord>, StoreError> {
    let row: Option<(String, i64)> = on_db!(db, pool => sqlx::query_as(COMMAND_RECORD)
        .bind(command_id)
        .fetch_optional(pool)
        .await)
    .map_err(StoreError::from_sqlx)?;
    Ok(row.map(|(complaint_id, sequence)| CommandRecord {
        command_id: command_id.to_string(),
        complaint_id,
        sequence,
    }))
}

pub(crate) async fn export_after(
    db: &Db,
    after: i64,
    limit: i64,
) -> Result<Vec<ExportedEvent>, StoreError> {
    on_db!(db, pool => {
        let rows = sqlx::query(EXPORT_AFTER)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        rows.iter().map(ExportedEvent::from_row).collect()
    })
}

/// Writes the exported events as they were, chunk by chunk, in one transaction,
/// then runs the backend's `finish` statements (re-indexing the command ids, moving
/// the position counter past the imported positions) before it commits.
pub(crate) async fn import(
    db: &Db,
    mut chunks: ImportStream,
    finish: &[&'static str],
) -> Result<u64, StoreError> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await.map_err(StoreError::from_sqlx)?;
        let mut imported = 0;
        while let Some(chunk) = chunks.recv().await {
            let chunk = chunk.map_err(StoreError::Other)?;
            tx.insert_keys(&chunk.keys).await?;
            let events = chunk.events;
            imported += events.len() as u64;
            for e in &events {
                sqlx::query(IMPORT_EVENT)
                    .bind(e.position)
                    .bind(&e.aggregate_type)
                    .bind(&e.aggregate_id)
                    .bind(e.sequence)
                    .bind(&e.event_type)
                    .bind(&e.event_version)
                    .bind(&e.payload)
                    .bind(&e.metadata)
                    .bind(e.recorded_at)
                    .bind(&e.hash)
                    .bind(&e.prev_hash)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
            }
        }
        for statement in finish {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
        }
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(imported)
    })
}

pub(crate) async fn count(db: &Db) -> Result<i64, StoreError> {
    on_db!(db, pool => sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await)
    .map_err(StoreError::from_sqlx)
}

/// The value of a server setting, if there is one.
pub(crate) async fn setting(db: &Db, key: &str) -> Result<Option<String>, StoreError> {
    on_db!(db, pool => sqlx::query_scalar(SETTING)
        .bind(key)
        .fetch_optional(pool)
        .await)
    .map_err(StoreError::from_sqlx)
}

/// Sets `key` to `value` if it still holds `expected`; whether it did.
pub(crate) async fn replace_setting(
    db: &Db,
    key: &str,
    expected: &str,
    value: &str,
) -> Result<bool, StoreError> {
    on_db!(db, pool => sqlx::query(REPLACE_SETTING)
        .bind(key)
        .bind(expected)
        .bind(value)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1))
    .map_err(StoreError::from_sqlx)
}

pub(crate) async fn setting_or_insert(
    db: &Db,
    key: &str,
    value: &str,
) -> Result<(String, bool), StoreError> {
    on_db!(db, pool => {
        let inserted = sqlx::query(INSERT_SETTING)
            .bind(key)
            .bind(value)
            .execute(pool)
            .await
            .map_err(StoreError::from_sqlx)?
            .rows_affected()
            == 1;
        let stored = sqlx::query_scalar(SETTING)
            .bind(key)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok((stored, inserted))
    })
}
