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
//! - No array parameters: `load_histories` sends its (id, sequence) pairs as one
//!   JSON array and walks it with `json_each`.
//! - An import needs no counter moved: AUTOINCREMENT continues past an explicitly
//!   given position by itself.
//!
//! The statements both databases read alike are in `sql.rs`.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use cqrs_es::persist::EventUpcaster;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use aduan_domain::Complaint;

use crate::codec::{self, read_row, SealedEvent, StoredEvent};
use crate::error::StoreError;
use crate::log::{
    group_histories, CommandRecord, Cursor, Db, EventLog, ImportStream, Pooled, StatementPlan,
};
use crate::personal::{KeyWriter, Personal};
use crate::sql;
use crate::wake::{Commits, LocalWakeUps, WakeUps};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a writer waits for the file lock before the request is UNAVAILABLE.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SqliteEventLog {
    pool: SqlitePool,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    personal: Personal,
    commits: Commits,
    path: PathBuf,
    /// Whether `upkeep` checkpoints the WAL (and commits do not).
    background_checkpoints: bool,
}

impl SqliteEventLog {
    /// Opens (creating if needed) the database file at `path`; commits
    /// checkpoint the WAL as SQLite does by default (for tools that come and go).
    pub fn open(path: &Path, max_connections: u32) -> Result<Self, StoreError> {
        Self::open_with(path, max_connections, false)
    }

    /// Opens the file for a serving process: commits never checkpoint the WAL;
    /// `upkeep` does, in the background (`wal`).
    pub fn open_serving(path: &Path, max_connections: u32) -> Result<Self, StoreError> {
        Self::open_with(path, max_connections, true)
    }

    fn open_with(
        path: &Path,
        max_connections: u32,
        background_checkpoints: bool,
    ) -> Result<Self, StoreError> {
        let autocheckpoint = if background_checkpoints { "0" } else { "1000" };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| StoreError::Other(format!("bad SQLite path {}: {e}", path.display())))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("wal_autocheckpoint", autocheckpoint)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_lazy_with(options);
        Ok(SqliteEventLog {
            personal: Personal::new(Db::Sqlite(pool.clone())),
            pool,
            upcasters: codec::upcasters(),
            commits: Commits::default(),
            path: path.to_path_buf(),
            background_checkpoints,
        })
    }
}

/// Imported events keep their idempotency keys (as migration 0006 does).
const INDEX_COMMAND_IDS: &str =
    "INSERT OR IGNORE INTO command_ids (command_id, complaint_id, sequence) \
     SELECT json_extract(metadata, '$.command_id'), aggregate_id, max(sequence) \
     FROM events WHERE json_extract(metadata, '$.command_id') IS NOT NULL GROUP BY 1, 2";

/// New case numbers continue after the imported ones (see postgres.rs).
const COUNT_IMPORTED_NUMBERS: &str = "INSERT INTO case_numbers (year, last) \
     SELECT CAST(substr(rest, 1, 4) AS INTEGER), max(CAST(substr(rest, 6) AS INTEGER)) \
     FROM (SELECT substr(n, instr(n, '-') + 1) AS rest FROM \
           (SELECT json_extract(payload, '$.Submitted.number') AS n FROM events \
            WHERE event_type = 'Submitted') WHERE n IS NOT NULL) \
     WHERE true GROUP BY 1 \
     ON CONFLICT (year) DO UPDATE SET last = max(case_numbers.last, excluded.last)";

const INSERT_COMMAND_ID: &str =
    "INSERT INTO command_ids (command_id, complaint_id, sequence) VALUES (?, ?, ?)";

/// Every statement a command may send (the events' insert is built per command;
/// this is its one-event shape), with arguments: the scan test explains them.
const COMMAND_PATH: [(&str, &str, &[&str]); 5] = [
    ("load", sql::LOAD, &["Complaint", "probe"]),
    ("next_case_number", sql::NEXT_CASE_NUMBER, &["2026"]),
    (
        "insert_command_id",
        INSERT_COMMAND_ID,
        &["probe-key", "probe", "1"],
    ),
    (
        "insert_events",
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING position",
        &[
            "Complaint",
            "probe",
            "1",
            "Submitted",
            "1",
            "{}",
            "{}",
            "h",
            "",
        ],
    ),
    ("command_record", sql::COMMAND_RECORD, &["probe-key"]),
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

impl Pooled for SqliteEventLog {
    fn db(&self) -> Db {
        Db::Sqlite(self.pool.clone())
    }
}

#[async_trait]
impl EventLog for SqliteEventLog {
    fn upcasters(&self) -> &[Box<dyn EventUpcaster>] {
        &self.upcasters
    }
    fn personal(&self) -> &Personal {
        &self.personal
    }
    fn describe(&self) -> String {
        format!("SQLite at {}", self.path.display())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sql::migrate(&MIGRATOR, &self.db()).await
    }

    async fn upkeep(&self, stopped: tokio::sync::watch::Receiver<bool>) {
        if self.background_checkpoints {
            crate::wal::run(&self.pool, stopped).await;
        }
    }

    /// One write transaction (`BEGIN IMMEDIATE`, so it never has to upgrade a
    /// read lock): the command id first, then the events with their positions.
    async fn append(
        &self,
        events: &[SealedEvent],
        command_ids: &[CommandRecord],
    ) -> Result<Vec<i64>, StoreError> {
        if events.is_empty() {
            return Err(StoreError::Other("nothing to append".into()));
        }
        let _turn = crate::write_turn::turn(&self.pool, "append").await?;
        let mut conn = self.pool.acquire().await.map_err(StoreError::from_sqlx)?;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from_sqlx)?;
        for key in command_ids {
            sqlx::query(INSERT_COMMAND_ID)
                .bind(&key.command_id)
                .bind(&key.complaint_id)
                .bind(key.sequence)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from_sqlx(e) {
                    StoreError::Conflict => StoreError::DuplicateCommand,
                    other => other,
                })?;
        }
        // The keys the events' sealed fields were made with here go in with them.
        let new_keys = self.personal.pending_for(events.iter().map(|e| &e.event));
        tx.insert_keys(&new_keys).await?;
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata, hash, prev_hash) ",
        );
        insert.push_values(events, |mut row, sealed| {
            let e = &sealed.event;
            row.push_bind(&e.aggregate_type)
                .push_bind(&e.aggregate_id)
                .push_bind(e.sequence as i64)
                .push_bind(&e.event_type)
                .push_bind(&e.event_version)
                .push_bind(e.payload.to_string())
                .push_bind(e.metadata.to_string())
                .push_bind(&sealed.hash)
                .push_bind(&sealed.prev_hash);
        });
        insert.push(" RETURNING position");
        let mut positions: Vec<i64> = insert
            .build_query_scalar()
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        self.personal.stored(&new_keys);
        self.commits.committed();
        // AUTOINCREMENT numbers the rows in insertion order; RETURNING's own
        // order is unspecified.
        positions.sort_unstable();
        Ok(positions)
    }

    async fn head(&self) -> Result<Cursor, StoreError> {
        let position: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM events WHERE aggregate_type = 'Complaint' \
             ORDER BY position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(Cursor {
            tx_id: 0,
            position: position.unwrap_or(0),
        })
    }

    /// One writer at a time: every position a reader sees is final.
    async fn settled_position(&self) -> Result<i64, StoreError> {
        let max: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(max.unwrap_or(0))
    }

    async fn cursor_of(&self, position: i64) -> Result<Option<Cursor>, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT position FROM events WHERE position = ?")
                .bind(position)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)?;
        Ok(found.map(|position| Cursor { tx_id: 0, position }))
    }

    /// This process is the only writer, so its own commits are all there is.
    async fn wake_ups(&self) -> Result<Box<dyn WakeUps>, StoreError> {
        Ok(Box::new(LocalWakeUps(self.commits.watch())))
    }

    async fn command_path_plans(&self) -> Result<Vec<(String, StatementPlan)>, StoreError> {
        let mut plans = Vec::new();
        for (name, sql, args) in COMMAND_PATH {
            plans.push((name.to_string(), self.plan_of(sql, args).await?));
        }
        Ok(plans)
    }

    async fn read_committed_after(
        &self,
        after: Cursor,
        limit: i64,
    ) -> Result<Vec<(Cursor, StoredEvent)>, StoreError> {
        let rows = sqlx::query(
            "SELECT aggregate_id, sequence, position, event_type, event_version, payload, \
             metadata, recorded_at, hash, prev_hash FROM events \
             WHERE position > ? AND aggregate_type = 'Complaint' ORDER BY position LIMIT ?",
        )
        .bind(after.position)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        let rows = rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?;
        let events = codec::decode_all(rows, &self.personal, &self.upcasters).await?;
        Ok(events
            .into_iter()
            .map(|event| {
                let cursor = Cursor {
                    tx_id: 0,
                    position: event.position,
                };
                (cursor, event)
            })
            .collect())
    }

    async fn import(&self, chunks: ImportStream) -> Result<u64, StoreError> {
        sql::import(
            &self.db(),
            chunks,
            &[INDEX_COMMAND_IDS, COUNT_IMPORTED_NUMBERS],
        )
        .await
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
                   e.payload, e.metadata, e.recorded_at, e.hash, e.prev_hash \
                   FROM json_each(?) AS w \
                   CROSS JOIN events e ON e.aggregate_type = ? \
                                AND e.aggregate_id = json_extract(w.value, '$[0]') \
                                AND e.sequence <= json_extract(w.value, '$[1]') \
                   ORDER BY e.aggregate_id, e.sequence";
        let rows = sqlx::query(sql)
            .bind(wanted)
            .bind(<Complaint as cqrs_es::Aggregate>::TYPE)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let rows = rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?;
        let events = codec::decode_all(rows, &self.personal, &self.upcasters).await?;
        Ok(group_histories(ids, events))
    }
}
