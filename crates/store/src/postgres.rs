//! The event log on PostgreSQL, in postgres-es's table shape plus the columns our
//! migrations add (global position, writing transaction, recording time). Appends
//! are our own single statement (events, command id and `RETURNING position` in
//! one round trip), which postgres-es's repository cannot do.
//!
//! What differs from SQLite, all of it here (the statements both read alike are
//! in `sql.rs`):
//! - The append is one statement: data-modifying CTEs over array parameters write
//!   the events and the command id together.
//! - `position` comes from a sequence taken before commit, so position order is not
//!   commit order: readers follow (writing transaction, position) and only see
//!   transactions older than every one still running (`xid8` snapshots).
//! - An import moves the position sequence past the imported positions.
//! - `load_histories` walks `unnest`ed arrays, one LATERAL index range each.
//! - A duplicate sequence and a taken command id are both unique violations
//!   (23505); the constraint's name says which.

use std::time::Duration;

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::types::Json;
use sqlx::{PgPool, Row as _};

use aduan_domain::Complaint;

use crate::codec::{self, read_row, SealedEvent, StoredEvent};
use crate::error::StoreError;
use crate::log::{
    group_histories, CommandRecord, Cursor, Db, EventLog, ImportStream, Pooled, StatementPlan,
};
use crate::personal::{KeyRecord, Personal};
use crate::sql;
use crate::wake::{Commits, WakeUps};

/// The channel the events table's trigger notifies at commit (migration 0002).
pub const NOTIFY_CHANNEL: &str = "aduan_events";

/// Wake-ups from any process's appends (LISTEN) and, without the round trip,
/// from this process's own.
pub struct PgWakeUps {
    listener: PgListener,
    local: tokio::sync::watch::Receiver<u64>,
}

#[async_trait::async_trait]
impl WakeUps for PgWakeUps {
    async fn next(&mut self) -> Result<(), StoreError> {
        // sqlx's listener reconnects by itself on `recv`, but notifications sent
        // while it was away are gone; the error makes the reader re-read its way
        // forward from its cursor instead of trusting the silence.
        tokio::select! {
            notified = self.listener.try_recv() => match notified {
                Ok(Some(_)) => Ok(()),
                Ok(None) => Err(StoreError::Other("LISTEN connection lost".into())),
                Err(e) => Err(StoreError::from_sqlx(e)),
            },
            changed = self.local.changed() => changed
                .map_err(|_| StoreError::Other("the event log was dropped".into())),
        }
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgOptions {
    pub max_connections: u32,
    /// How long a request waits for a connection before it is told UNAVAILABLE.
    pub acquire_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

pub struct PgEventLog {
    pool: PgPool,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    personal: Personal,
    commits: Commits,
}

impl PgEventLog {
    /// Connects lazily: the server starts even while the database is down, and
    /// `/readyz` says so.
    pub fn connect(url: &str, options: &PgOptions) -> Result<Self, StoreError> {
        Ok(Self::with_pool(lazy_pool(url, options, "DATABASE_URL")?))
    }

    pub fn with_pool(pool: PgPool) -> Self {
        PgEventLog {
            personal: Personal::new(Db::Postgres(pool.clone())),
            pool,
            upcasters: codec::upcasters(),
            commits: Commits::default(),
        }
    }
}

/// A pool that connects on first use, so a server starts while the database
/// is down; `setting` names the URL's source in the error.
fn lazy_pool(url: &str, options: &PgOptions, setting: &str) -> Result<PgPool, StoreError> {
    let connect: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| StoreError::Other(format!("bad {setting}: {e}")))?;
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_lazy_with(connect))
}

/// The database of a streaming replica, for the read side's queries: never
/// migrated or written (its schema and rows arrive by replication), and
/// connected lazily, so a replica that is down does not stop the server.
pub fn replica(url: &str, options: &PgOptions) -> Result<Db, StoreError> {
    Ok(Db::Postgres(lazy_pool(
        url,
        options,
        "ADUAN_READ_DATABASE_URL",
    )?))
}

impl Pooled for PgEventLog {
    fn db(&self) -> Db {
        Db::Postgres(self.pool.clone())
    }
}

#[async_trait::async_trait]
impl EventLog for PgEventLog {
    fn upcasters(&self) -> &[Box<dyn EventUpcaster>] {
        &self.upcasters
    }
    fn personal(&self) -> &Personal {
        &self.personal
    }
    fn describe(&self) -> String {
        let o = self.pool.connect_options();
        format!(
            "PostgreSQL at {}:{}/{}",
            o.get_host(),
            o.get_port(),
            o.get_database().unwrap_or("postgres")
        )
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        sql::migrate(&MIGRATOR, &self.db()).await
    }

    /// One statement, so one round trip and its own transaction: the events and
    /// the command id go in together or not at all.
    async fn append(
        &self,
        events: &[SealedEvent],
        command_ids: &[CommandRecord],
    ) -> Result<Vec<i64>, StoreError> {
        let Some(last) = events.last().map(|e| &e.event) else {
            return Err(StoreError::Other("nothing to append".into()));
        };
        let column = |f: fn(&SerializedEvent) -> String| {
            events.iter().map(|e| f(&e.event)).collect::<Vec<_>>()
        };
        let key = |f: fn(&CommandRecord) -> String| command_ids.iter().map(f).collect::<Vec<_>>();
        // The keys the events' sealed fields were made with here go in with them.
        let new_keys = self.personal.pending_for(events.iter().map(|e| &e.event));
        let secret = |f: fn(&KeyRecord) -> String| new_keys.iter().map(f).collect::<Vec<_>>();
        let positions = sqlx::query_scalar::<_, i64>(APPEND)
            .bind(&last.aggregate_type)
            .bind(column(|e| e.aggregate_id.clone()))
            .bind(
                events
                    .iter()
                    .map(|e| e.event.sequence as i64)
                    .collect::<Vec<_>>(),
            )
            .bind(column(|e| e.event_type.clone()))
            .bind(column(|e| e.event_version.clone()))
            .bind(column(|e| e.payload.to_string()))
            .bind(column(|e| e.metadata.to_string()))
            .bind(key(|k| k.command_id.clone()))
            .bind(key(|k| k.complaint_id.clone()))
            .bind(command_ids.iter().map(|k| k.sequence).collect::<Vec<_>>())
            .bind(secret(|k| k.key_id.clone()))
            .bind(secret(|k| k.complaint_id.clone()))
            .bind(secret(|k| k.reporter_ref.clone()))
            .bind(secret(|k| k.secret.clone().unwrap_or_default()))
            .bind(events.iter().map(|e| e.hash.as_str()).collect::<Vec<_>>())
            .bind(
                events
                    .iter()
                    .map(|e| e.prev_hash.as_str())
                    .collect::<Vec<_>>(),
            )
            .fetch_all(&self.pool)
            .await
            .map_err(append_error)?;
        self.personal.stored(&new_keys);
        self.commits.committed();
        Ok(positions)
    }

    async fn head(&self) -> Result<Cursor, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT tx_id::text::bigint, position FROM events \
             WHERE tx_id < events_horizon() \
               AND aggregate_type = 'Complaint' \
             ORDER BY tx_id DESC, position DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::from_sqlx)?;
        Ok(
            row.map_or_else(Cursor::default, |(tx_id, position)| Cursor {
                tx_id,
                position,
            }),
        )
    }

    /// Positions come from a sequence before commit, so a transaction may still
    /// hold one below the highest committed. A SHARE lock waits out every
    /// append in flight (each holds ROW EXCLUSIVE from before it takes its
    /// positions) and holds new ones back only while the maximum is read.
    async fn settled_position(&self) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        for statement in [
            "SET LOCAL lock_timeout = '10s'",
            "LOCK TABLE events IN SHARE MODE",
        ] {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from_sqlx)?;
        }
        let max: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from_sqlx)?;
        tx.commit().await.map_err(StoreError::from_sqlx)?;
        Ok(max.unwrap_or(0))
    }

    async fn cursor_of(&self, position: i64) -> Result<Option<Cursor>, StoreError> {
        let tx_id: Option<i64> =
            sqlx::query_scalar("SELECT tx_id::text::bigint FROM events WHERE position = $1")
                .bind(position)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::from_sqlx)?;
        Ok(tx_id.map(|tx_id| Cursor { tx_id, position }))
    }

    async fn wake_ups(&self) -> Result<Box<dyn WakeUps>, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        listener
            .listen(NOTIFY_CHANNEL)
            .await
            .map_err(StoreError::from_sqlx)?;
        Ok(Box::new(PgWakeUps {
            listener,
            local: self.commits.watch(),
        }))
    }

    /// Committed events after `after` in (tx_id, position) order, at most `limit`.
    ///
    /// Only events of transactions older than the oldest one still running are
    /// returned. That set never grows behind a reader (new transactions get newer
    /// ids), so a reader that follows this order never skips an event whose
    /// transaction commits late, even though `position` alone is not commit order.
    async fn read_committed_after(
        &self,
        after: Cursor,
        limit: i64,
    ) -> Result<Vec<(Cursor, StoredEvent)>, StoreError> {
        let sql =
            "SELECT aggregate_id, sequence, position, event_type, event_version, payload, metadata, \
             recorded_at, hash, prev_hash, tx_id::text::bigint AS tx FROM events \
             WHERE (tx_id, position) > ($1::text::xid8, $2) \
               AND tx_id < events_horizon() \
               AND aggregate_type = 'Complaint' \
             ORDER BY tx_id, position LIMIT $3";
        let rows = sqlx::query(sql)
            .bind(after.tx_id.to_string())
            .bind(after.position)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let rows = rows
            .into_iter()
            .map(|row| {
                let tx_id: i64 = row
                    .try_get("tx")
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((tx_id, read_row(&row)?))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let (tx_ids, rows): (Vec<i64>, Vec<_>) = rows.into_iter().unzip();
        let events = codec::decode_all(rows, &self.personal, &self.upcasters).await?;
        Ok(tx_ids
            .into_iter()
            .zip(events)
            .map(|(tx_id, event)| {
                let cursor = Cursor {
                    tx_id,
                    position: event.position,
                };
                (cursor, event)
            })
            .collect())
    }

    async fn import(&self, chunks: ImportStream) -> Result<u64, StoreError> {
        let finish = [
            INDEX_COMMAND_IDS,
            FOLLOW_IMPORTED_POSITIONS,
            COUNT_IMPORTED_NUMBERS,
        ];
        sql::import(&self.db(), chunks, &finish).await
    }

    async fn load_histories(
        &self,
        up_to: &[(String, i64)],
    ) -> Result<Vec<(String, Vec<StoredEvent>)>, StoreError> {
        let (ids, sequences): (Vec<String>, Vec<i64>) = up_to.iter().cloned().unzip();
        // LATERAL: one index range scan per complaint. A plain join lets the
        // planner, which cannot see how few ids there are, scan the whole log.
        let sql = "SELECT e.aggregate_id, e.sequence, e.position, e.event_type, e.event_version, \
                   e.payload, e.metadata, e.recorded_at, e.hash, e.prev_hash \
                   FROM unnest($2::text[], $3::bigint[]) AS wanted(id, up_to) \
                   CROSS JOIN LATERAL (SELECT * FROM events \
                       WHERE aggregate_type = $1 AND aggregate_id = wanted.id \
                         AND sequence <= wanted.up_to) e \
                   ORDER BY e.aggregate_id, e.sequence";
        let rows = sqlx::query(sql)
            .bind(<Complaint as cqrs_es::Aggregate>::TYPE)
            .bind(&ids)
            .bind(&sequences)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let rows = rows.iter().map(read_row).collect::<Result<Vec<_>, _>>()?;
        let events = codec::decode_all(rows, &self.personal, &self.upcasters).await?;
        Ok(group_histories(ids, events))
    }

    async fn command_path_plans(&self) -> Result<Vec<(String, StatementPlan)>, StoreError> {
        let mut plans = Vec::new();
        for (name, sql, args) in COMMAND_PATH {
            plans.push((name.to_string(), self.plan_of(sql, args).await?));
        }
        Ok(plans)
    }
}

/// Every statement a command may send, with arguments of the right shape: the
/// scan test explains them over a large log (`EventLog::command_path_plans`).
const COMMAND_PATH: [(&str, &str, &[&str]); 4] = [
    ("load", sql::LOAD, &["Complaint", "probe"]),
    ("next_case_number", sql::NEXT_CASE_NUMBER, &["2026"]),
    (
        "append",
        APPEND,
        &[
            "Complaint",
            "{probe}",
            "{1}",
            "{Submitted}",
            "{1}",
            "{\"{}\"}",
            "{\"{}\"}",
            "{probe-key}",
            "{probe}",
            "{1}",
            "{}",
            "{}",
            "{}",
            "{}",
            "{probe-hash}",
            "{probe-prev}",
        ],
    ),
    ("command_record", sql::COMMAND_RECORD, &["probe-key"]),
];

impl PgEventLog {
    /// The plan PostgreSQL picks for `sql` with these (text) arguments, and the
    /// tables it reads without an index condition. Every parameter of `sql` must
    /// carry a cast or sit where text is expected.
    pub async fn plan_of(&self, sql: &str, args: &[&str]) -> Result<StatementPlan, StoreError> {
        let explain = format!("EXPLAIN (FORMAT JSON) {sql}");
        let mut query = sqlx::query_scalar::<_, Json<Value>>(&explain);
        for arg in args {
            query = query.bind(*arg);
        }
        let Json(plan) = query
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        let mut scans = Vec::new();
        unindexed_reads(&plan[0]["Plan"], &mut scans);
        Ok(StatementPlan {
            plan: serde_json::to_string_pretty(&plan).unwrap_or_default(),
            scans,
        })
    }
}

/// The tables a plan node (and its children) reads row by row rather than by an
/// index condition: a sequential scan, or an index walked in order with a filter
/// (the planner's favourite way to find one row in a big log by a non-key column).
fn unindexed_reads(node: &Value, found: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or_default();
    if let Some(table) = node["Relation Name"].as_str() {
        let by_key = match kind {
            "Index Scan" | "Index Only Scan" => node.get("Index Cond").is_some(),
            "Bitmap Heap Scan" | "ModifyTable" => true,
            _ => false,
        };
        if !by_key {
            found.push(format!("{kind} on {table}"));
        }
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        unindexed_reads(child, found);
    }
}

/// A command's events and its idempotency key in one statement. Data-modifying
/// CTEs all run to completion, and a statement is atomic: a taken sequence or a
/// taken command id leaves nothing behind. Positions follow the events' order.
const APPEND: &str = "WITH appended AS ( \
        INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                            payload, metadata, hash, prev_hash) \
        SELECT $1, e.aggregate_id, e.sequence, e.event_type, e.event_version, e.payload::json, \
               e.metadata::json, e.hash, e.prev_hash \
        FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], \
                    $15::text[], $16::text[]) \
             WITH ORDINALITY AS e(aggregate_id, sequence, event_type, event_version, payload, \
                                  metadata, hash, prev_hash, n) \
        ORDER BY e.n \
        RETURNING position), \
    keyed AS ( \
        INSERT INTO command_ids (command_id, complaint_id, sequence) \
        SELECT * FROM unnest($8::text[], $9::text[], $10::bigint[])), \
    sealing_keys AS ( \
        INSERT INTO personal_keys (key_id, complaint_id, reporter_ref, secret) \
        SELECT * FROM unnest($11::text[], $12::text[], $13::text[], $14::text[]) \
        ON CONFLICT (key_id) DO NOTHING) \
    SELECT position FROM appended ORDER BY position";

/// Imported events keep their idempotency keys (as migration 0008 does).
const INDEX_COMMAND_IDS: &str = "INSERT INTO command_ids (command_id, complaint_id, sequence) \
     SELECT metadata ->> 'command_id', aggregate_id, max(sequence) FROM events \
     WHERE metadata ->> 'command_id' IS NOT NULL GROUP BY 1, 2 \
     ON CONFLICT (command_id) DO NOTHING";

/// New case numbers continue after the imported ones (`MKS-2026-004512`:
/// the year is the second part, the count the third).
const COUNT_IMPORTED_NUMBERS: &str = "INSERT INTO case_numbers (year, last) \
     SELECT split_part(n, '-', 2)::integer, max(split_part(n, '-', 3)::bigint) \
     FROM (SELECT payload -> 'Submitted' ->> 'number' AS n FROM events \
           WHERE event_type = 'Submitted') submitted \
     WHERE n IS NOT NULL GROUP BY 1 \
     ON CONFLICT (year) DO UPDATE SET last = greatest(case_numbers.last, excluded.last)";

/// New appends continue after the imported positions.
const FOLLOW_IMPORTED_POSITIONS: &str =
    "SELECT setval(pg_get_serial_sequence('events', 'position'), \
     greatest((SELECT max(position) FROM events), 1))";

/// Which unique key an append hit says what happened: the complaint moved on
/// (`Conflict`) or the command was applied before (`DuplicateCommand`).
fn append_error(err: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &err {
        if db.constraint() == Some("command_ids_pkey") {
            return StoreError::DuplicateCommand;
        }
    }
    StoreError::from_sqlx(err)
}
