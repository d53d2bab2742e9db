//! The event log on SQLite, the embedded default: one file, nothing to install.
//! The table has sqlite-es's shape; appends are our own transaction, so the
//! command id and the positions go with the events.
//!
//! What differs from PostgreSQL, all of it here:
//! - One writer at a time: `position` (AUTOINCREMENT) is taken inside the write
//!   transaction, so position order is commit order and readers simply follow it
//!   (`Cursor::tx_id` stays 0). Writers queue on the file lock for up to
//!   `busy_timeout`.
//! - WAL journal with `synchronous = FULL`: a command is acknowledged only once its
//!   events are on disk, and readers do not block the writer.
//! - A duplicate sequence is a UNIQUE violation (2067) here; a taken command id a
//!   primary-key one (1555). Each statement of the append says which it was.
//! - Timestamps are RFC 3339 text in UTC; they sort as they compare.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use aduan_domain::Complaint;

use crate::codec::{self, read_row, StoredEvent};
use crate::error::StoreError;
use crate::export::ExportedEvent;
use crate::log::{
    group_histories, CommandRecord, Cursor, Db, EventLog, ImportStream, StatementPlan,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a writer waits for the file lock before the request is UNAVAILABLE.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SqliteEventLog {
    pool: SqlitePool,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    path: PathBuf,
}

const SELECT_EVENTS: &str = "SELECT aggregate_id, sequence, position, event_type, event_version, \
     payload, metadata, recorded_at FROM events";

impl SqliteEventLog {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| StoreError::Other(format!("bad SQLite path {}: {e}", path.display())))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_lazy_with(options);
        Ok(SqliteEventLog {
            pool,
            upcasters: codec::upcasters(),
            path: path.to_path_buf(),
        })
    }

    fn decode_rows(
        &self,
        rows: Vec<sqlx::sqlite::SqliteRow>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        rows.into_iter()
            .map(|row| codec::decode(read_row(&row)?, &self.upcasters))
            .collect()
    }
}

const LOAD: &str = "SELECT aggregate_id, sequence, position, event_type, event_version, payload, \
     metadata, recorded_at FROM events \
     WHERE aggregate_type = ? AND aggregate_id = ? ORDER BY sequence";

const COMMAND_RECORD: &str = "SELECT complaint_id, sequence FROM command_ids WHERE command_id = ?";

const INSERT_COMMAND_ID: &str =
    "INSERT INTO command_ids (command_id, complaint_id, sequence) VALUES (?, ?, ?)";

/// Every statement a command may send (the events' insert is built per command;
/// this is its one-event shape), with arguments: the scan test explains them.
const COMMAND_PATH: [(&str, &str, &[&str]); 4] = [
    ("load", LOAD, &["Complaint", "probe"]),
    (
        "insert_command_id",
        INSERT_COMMAND_ID,
        &["probe-key", "probe", "1"],
    ),
    (
        "insert_events",
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING position",
        &["Complaint", "probe", "1", "Submitted", "1", "{}", "{}"],
    ),
    ("command_record", COMMAND_RECORD, &["probe-key"]),
];

impl SqliteEventLog {
    /// SQLite's query plan for `sql` with these (text) arguments, and the tables
    /// it scans instead of searching by key.
    pub async fn plan_of(&self, sql: &str, args: &[&str]) -> Result<StatementPlan, StoreError> {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query(&explain);
        for arg in args {
            query = query.bind(*arg);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let details: Vec<String> = rows
            .iter()
            .map(|row| sqlx::Row::try_get::<String, _>(row, "detail"))
            .collect::<Result<_, _>>()
            .map_err(StoreError::from_sqlx)?;
        let scans = details
            .iter()
            .filter(|d| d.starts_with("SCAN events") || d.starts_with("SCAN command_ids"))
            .cloned()
            .collect();
        Ok(StatementPlan {
            plan: details.join("\n"),
            scans,
        })
    }
}

fn complaint_type() -> &'static str {
    <Complaint as cqrs_es::Aggregate>::TYPE
}

#[async_trait]
impl EventLog for SqliteEventLog {
    fn db(&self) -> Db {
        Db::Sqlite(self.pool.clone())
    }
    fn describe(&self) -> String {
        format!("SQLite at {}", self.path.display())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(err) => StoreError::from_sqlx(err),
            other => StoreError::Other(other.to_string()),
        })
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(StoreError::from_sqlx)
    }

    async fn load(&self, aggregate_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(LOAD)
            .bind(complaint_type())
            .bind(aggregate_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        self.decode_rows(rows)
    }

    async fn load_one(
        &self,
        aggregate_id: &str,
        sequence: i64,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let sql = format!(
            "{SELECT_EVENTS} WHERE aggregate_type = ? AND aggregate_id = ? AND sequence = ?"
        );
        let row = sqlx::query(&sql)
            .bind(complaint_type())
            .bind(aggregate_id)
            .bind(sequence)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(self.decode_rows(row.into_iter().collect())?.pop())
    }

    /// One write transaction (`BEGIN IMMEDIATE`, so it never has to upgrade a
    /// read lock): the command id first, then the events with their positions.
    async fn append(
        &self,
        events: &[SerializedEvent],
        command_id: Option<&str>,
    ) -> Result<i64, StoreError> {
        let Some(last) = events.last() else {
            return Err(StoreError::Other("nothing to append".into()));
        };
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from_sqlx)?;
        if let Some(command_id) = command_id {
            sqlx::query(INSERT_COMMAND_ID)
                .bind(command_id)
                .bind(&last.aggregate_id)
                .bind(last.sequence as i64)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from_sqlx(e) {
                    StoreError::Conflict => StoreError::DuplicateCommand,
                    other => other,
                })?;
        }
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) ",
        );
        insert.push_values(events, |mut row, e| {
            row.push_bind(&e.aggregate_type)
                .push_bind(&e.aggregate_id)
                .push_bind(e.sequence as i64)
                .push_bind(&e.event_type)
                .push_bind(&e.event_version)
                .push_bind(e.payload.to_string())
                .push_bind(e.metadata.to_string());
        });
        insert.push(" RETURNING position");
        let positions: Vec<i64> = insert
            .build_query_scalar()
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        positions
            .into_iter()
            .max()
            .ok_or_else(|| StoreError::Other("the append returned no position".into()))
    }

    async fn command_path_plans(&self) -> Result<Vec<(String, StatementPlan)>, StoreError> {
        let mut plans = Vec::new();
        for (name, sql, args) in COMMAND_PATH {
            plans.push((name.to_string(), self.plan_of(sql, args).await?));
        }
        Ok(plans)
    }

    async fn command_record(&self, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(COMMAND_RECORD)
            .bind(command_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(row.map(|(complaint_id, sequence)| CommandRecord {
            complaint_id,
            sequence,
        }))
    }

    async fn read_committed_after(
        &self,
        after: Cursor,
        limit: i64,
    ) -> Result<Vec<(Cursor, StoredEvent)>, StoreError> {
        let sql = format!("{SELECT_EVENTS} WHERE position > ? ORDER BY position LIMIT ?");
        let rows = sqlx::query(&sql)
            .bind(after.position)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(self
            .decode_rows(rows)?
            .into_iter()
            .map(|e| {
                (
                    Cursor {
                        tx_id: 0,
                        position: e.position,
                    },
                    e,
                )
            })
            .collect())
    }

    async fn export_after(&self, after: i64, limit: i64) -> Result<Vec<ExportedEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata, recorded_at FROM events WHERE position > ? ORDER BY position LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        rows.iter().map(ExportedEvent::from_row).collect()
    }

    async fn import(&self, mut chunks: ImportStream) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        let mut imported = 0;
        while let Some(chunk) = chunks.recv().await {
            let events = chunk.map_err(StoreError::Other)?;
            imported += events.len() as u64;
            for e in &events {
                // AUTOINCREMENT moves past an explicitly given position by itself.
                sqlx::query(
                "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
            )
            .bind(e.position)
            .bind(&e.aggregate_type)
            .bind(&e.aggregate_id)
            .bind(e.sequence)
            .bind(&e.event_type)
            .bind(&e.event_version)
            .bind(e.payload.to_string())
            .bind(e.metadata.to_string())
            .bind(e.recorded_at)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
            }
        }
        sqlx::query(
            "INSERT OR IGNORE INTO command_ids (command_id, complaint_id, sequence) \
             SELECT json_extract(metadata, '$.command_id'), aggregate_id, max(sequence) \
             FROM events WHERE json_extract(metadata, '$.command_id') IS NOT NULL GROUP BY 1, 2",
        )
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from_sqlx)?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(imported)
    }

    async fn count(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)
    }

    async fn setting_or_insert(
        &self,
        key: &str,
        value: &str,
    ) -> Result<(String, bool), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO server_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?
        .rows_affected()
            == 1;
        let stored = sqlx::query_scalar("SELECT value FROM server_settings WHERE key = ?")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok((stored, inserted))
    }

    async fn load_histories(
        &self,
        up_to: &[(String, i64)],
    ) -> Result<Vec<(String, Vec<StoredEvent>)>, StoreError> {
        let ids: Vec<String> = up_to.iter().map(|(id, _)| id.clone()).collect();
        let wanted = serde_json::to_string(
            &up_to
                .iter()
                .map(|(id, seq)| serde_json::json!([id, seq]))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| StoreError::Other(e.to_string()))?;
        // The wanted (id, sequence) pairs travel as one JSON array: SQLite has no
        // array parameters, and a batch can name more complaints than it allows
        // parameters. CROSS JOIN keeps them the outer loop (one primary-key range
        // per complaint): SQLite's planner cannot tell how few they are and would
        // otherwise scan the whole log once per pair.
        let sql = "SELECT e.aggregate_id, e.sequence, e.position, e.event_type, e.event_version, \
                   e.payload, e.metadata, e.recorded_at \
                   FROM json_each(?) AS w \
                   CROSS JOIN events e ON e.aggregate_type = ? \
                                AND e.aggregate_id = json_extract(w.value, '$[0]') \
                                AND e.sequence <= json_extract(w.value, '$[1]') \
                   ORDER BY e.aggregate_id, e.sequence";
        let rows = sqlx::query(sql)
            .bind(wanted)
            .bind(complaint_type())
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(group_histories(ids, self.decode_rows(rows)?))
    }
}
