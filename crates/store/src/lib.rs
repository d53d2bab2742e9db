//! The write side's storage: the event log (`EventLog`) on PostgreSQL or on
//! SQLite, the command bus that turns a command
//! into appended events, with idempotency and optimistic concurrency, and the
//! export format that moves a log between the two; and the tables kept beside
//! the log for its followers (`follow`: checkpoints, election, the run loop,
//! integration state) and the notification outbox (`outbox`).

/// Runs `$body` with `$pool` bound to the database's pool: one text of the body,
/// compiled once for each database. Private: outside this crate only the read
/// side's backends touch a pool (see `log::Pooled`).
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::log::Db::Postgres($pool) => $body,
            $crate::log::Db::Sqlite($pool) => $body,
        }
    };
}

pub mod audit;
pub mod backup;
pub mod bus;
pub mod cache;
pub mod codec;
pub mod erasure;
pub mod error;
pub mod export;
pub mod follow;
pub mod log;
pub mod metadata;
pub mod outbox;
pub mod personal;
pub mod postgres;
pub mod queue;
mod sql;
pub mod sqlite;
pub mod templates;
pub mod wake;
pub mod wal;
pub mod write_turn;

pub use bus::{CommandBus, CommandOutcome, CommandRequest};
pub use codec::{SealedEvent, StoredEvent};
pub use error::{CommandError, ErrorKind, StoreError};
pub use export::ExportedEvent;
pub use follow::{Checkpoint, Checkpoints, Folder, Follower, IntegrationState, LiveEvent};
pub use log::{
    CommandRecord, Cursor, Db, EventLog, ImportChunk, ImportStream, Pooled, StatementPlan,
};
pub use metadata::{Metadata, RequestContext};
pub use outbox::Outbox;
pub use personal::{KeyRecord, Personal};
pub use postgres::{PgEventLog, PgOptions};
pub use sqlite::SqliteEventLog;
pub use wake::WakeUps;
