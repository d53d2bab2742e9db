//! The event log as the command bus and the projectors see it, whichever database
//! holds it: PostgreSQL (`postgres.rs`, production) or SQLite (`sqlite.rs`, the
//! embedded default). What differs between the two is said there and only there;
//! the statements that read the same on both are written once (`sql.rs`) and run
//! by this trait's provided methods.

use async_trait::async_trait;
use cqrs_es::persist::EventUpcaster;

use crate::codec::{SealedEvent, StoredEvent};
use crate::error::StoreError;
use crate::export::ExportedEvent;
use crate::sql;

/// A place in the event log as readers follow it: (writing transaction, position).
/// On SQLite, with one writer at a time, position order is commit order and
/// `tx_id` is always 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub tx_id: i64,
    pub position: i64,
}

/// How the database runs one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementPlan {
    /// The plan as the database prints it.
    pub plan: String,
    /// The tables it reads row by row instead of by key ("Seq Scan on events").
    pub scans: Vec<String>,
}

/// Where a command id was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    pub command_id: String,
    pub complaint_id: String,
    /// The sequence of the command's last event.
    pub sequence: i64,
}

/// The database under the log.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

/// The pool under a log, for backends only: this crate's modules, and the read
/// side's backends (`aduan_projections`'s `backend::for_log`), which keep their
/// tables next to the events so that a projection's rows and checkpoint commit
/// together. Everything else reaches the database through a typed API that a
/// backend implements (`follow::Checkpoints`, `follow::IntegrationState`,
/// `outbox::Outbox`, `audit`, the read side's `Reads`). A trait apart from the
/// log's operations so that the one door has one name to look for.
pub trait Pooled {
    fn db(&self) -> Db;
}

#[async_trait]
pub trait EventLog: Pooled + Send + Sync {
    /// Which database, and where (for the log and `/readyz`); no credentials.
    fn describe(&self) -> String;

    /// Whether several server processes may share this log (PostgreSQL: its
    /// followers are elected across processes; a SQLite file has one).
    fn shared(&self) -> bool {
        matches!(self.db(), Db::Postgres(_))
    }

    /// How this log reads event versions no longer written (`codec::upcasters`).
    fn upcasters(&self) -> &[Box<dyn EventUpcaster>];

    /// The keys personal data is sealed with (`personal`).
    fn personal(&self) -> &crate::personal::Personal;

    /// Creates or upgrades the tables.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// The store's own periodic work, run by a serving process beside its
    /// followers until `stopped` (SQLite's WAL checkpoints, `wal`); none by default.
    async fn upkeep(&self, stopped: tokio::sync::watch::Receiver<bool>) {
        let _ = stopped;
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sql::ping(&self.db()).await
    }

    /// A complaint's events in sequence order.
    async fn load(&self, aggregate_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        sql::load(&self.db(), self.personal(), self.upcasters(), aggregate_id).await
    }

    /// A complaint's version: the sequence of its last event (0 for none). One
    /// index lookup, for reads that must not show a state older than a
    /// command already acknowledged.
    async fn version(&self, aggregate_id: &str) -> Result<i64, StoreError> {
        sql::version(&self.db(), aggregate_id).await
    }

    /// Draws the next number of `year`'s case count: unique, rising, and
    /// never given twice, though a draw whose submission fails leaves a gap.
    async fn next_case_number(&self, year: i32) -> Result<i64, StoreError> {
        sql::next_case_number(&self.db(), year).await
    }

    /// One event of a complaint, by its sequence number.
    async fn load_one(
        &self,
        aggregate_id: &str,
        sequence: i64,
    ) -> Result<Option<StoredEvent>, StoreError> {
        sql::load_one(
            &self.db(),
            self.personal(),
            self.upcasters(),
            aggregate_id,
            sequence,
        )
        .await
    }

    /// Appends events (one complaint's, as one command or a group of commands on
    /// it made them; an import or a test may pass several complaints') with their
    /// commands' idempotency keys, atomically, in one round trip where the
    /// database allows. Returns each event's global position, in order. A
    /// sequence already taken is a `Conflict`; a command id already taken is
    /// `DuplicateCommand`. Either way nothing is written. Each event carries
    /// its chain hash (`codec::seal`); a wrong one is stored as given and
    /// found by `aduan audit verify`.
    async fn append(
        &self,
        events: &[SealedEvent],
        command_ids: &[CommandRecord],
    ) -> Result<Vec<i64>, StoreError>;

    /// The query plan of every statement a command may send, by name, with the
    /// tables each reads without an index: the scan test runs it over a large log.
    async fn command_path_plans(&self) -> Result<Vec<(String, StatementPlan)>, StoreError>;

    /// Up to `limit` events of `event_types` (all when empty) recorded in
    /// `[from, to)`, oldest first: for readers by time (Open311 updates), through
    /// an index on `recorded_at`.
    async fn recorded_between(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
        event_types: &[&str],
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        sql::recorded_between(
            &self.db(),
            self.personal(),
            self.upcasters(),
            (from, to),
            event_types,
            limit,
        )
        .await
    }

    /// Where a client command id was applied: the complaint and the sequence of
    /// the command's last event.
    async fn command_record(&self, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        sql::command_record(&self.db(), command_id).await
    }

    /// Committed events after `after`, at most `limit`, in an order in which no
    /// event can ever appear behind a reader that has passed it.
    async fn read_committed_after(
        &self,
        after: Cursor,
        limit: i64,
    ) -> Result<Vec<(Cursor, StoredEvent)>, StoreError>;

    /// The newest place a reader following `read_committed_after` can stand on
    /// now: everything at or before it is readable, and every event committed
    /// later comes after it. The start of the log when it is empty.
    async fn head(&self) -> Result<Cursor, StoreError>;

    /// The highest position at or below which every event is committed or
    /// will never be: what the audit tree may seal, in position order, without
    /// a late commit ever landing behind it.
    async fn settled_position(&self) -> Result<i64, StoreError>;

    /// The reading place of the event at `position` (for resuming after an event
    /// a reader was given); `None` when no event has that position.
    async fn cursor_of(&self, position: i64) -> Result<Option<Cursor>, StoreError>;

    /// A new source of wake-ups for readers following the log (see `wake`).
    async fn wake_ups(&self) -> Result<Box<dyn crate::wake::WakeUps>, StoreError>;

    /// Up to `limit` events after position `after`, raw, in position order.
    async fn export_after(&self, after: i64, limit: i64) -> Result<Vec<ExportedEvent>, StoreError> {
        sql::export_after(&self.db(), after, limit).await
    }

    /// Writes exported events (and the keys their personal data is sealed with)
    /// as they were (same positions and recording times), chunk by chunk as they
    /// arrive, all in one transaction: a chunk that is an error (or a refused
    /// insert) rolls the whole import back. Returns how many events.
    async fn import(&self, chunks: ImportStream) -> Result<u64, StoreError>;

    /// The position of the newest case event (0 when there is none): where
    /// `head` stands once every transaction before it has ended (a response
    /// template's events come after it, and no follower reads them).
    async fn last_case_position(&self) -> Result<i64, StoreError> {
        sql::last_case_position(&self.db()).await
    }

    /// How many events the log holds.
    async fn count(&self) -> Result<i64, StoreError> {
        sql::count(&self.db()).await
    }

    /// The stored value of a server setting, storing `value` first if there is
    /// none; the boolean says whether it was stored now.
    async fn setting_or_insert(
        &self,
        key: &str,
        value: &str,
    ) -> Result<(String, bool), StoreError> {
        sql::setting_or_insert(&self.db(), key, value).await
    }

    /// The value of a server setting, if there is one.
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        sql::setting(&self.db(), key).await
    }

    /// Sets a server setting to `value` if it still holds `expected` (a
    /// compare-and-set: of two processes changing it at once, one wins and the
    /// other is told so); whether it did.
    async fn replace_setting(
        &self,
        key: &str,
        expected: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        sql::replace_setting(&self.db(), key, expected, value).await
    }

    /// The histories of several complaints, each up to its given sequence, in one
    /// query: `(id, events)` in the order asked.
    async fn load_histories(
        &self,
        up_to: &[(String, i64)],
    ) -> Result<Vec<(String, Vec<StoredEvent>)>, StoreError>;
}

/// Chunks of an import as a reader produces them; an `Err` aborts the import.
pub type ImportStream = tokio::sync::mpsc::Receiver<Result<ImportChunk, String>>;

/// Part of an import: key rows (`personal`; an export lists them before the
/// events) and events, written in the import's one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportChunk {
    pub keys: Vec<crate::personal::KeyRecord>,
    pub events: Vec<ExportedEvent>,
}

impl From<Vec<ExportedEvent>> for ImportChunk {
    fn from(events: Vec<ExportedEvent>) -> Self {
        ImportChunk {
            keys: Vec::new(),
            events,
        }
    }
}

/// Groups rows (ordered by complaint id, then sequence) by complaint, in the
/// order of `ids`, so both databases answer `load_histories` alike.
pub(crate) fn group_histories(
    ids: Vec<String>,
    events: Vec<StoredEvent>,
) -> Vec<(String, Vec<StoredEvent>)> {
    let mut by_id: std::collections::HashMap<String, Vec<StoredEvent>> =
        std::collections::HashMap::with_capacity(ids.len());
    for event in events {
        by_id
            .entry(event.aggregate_id.clone())
            .or_default()
            .push(event);
    }
    ids.into_iter()
        .map(|id| {
            let events = by_id.remove(&id).unwrap_or_default();
            (id, events)
        })
        .collect()
}
