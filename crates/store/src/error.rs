use aduan_domain::{ComplaintError, ErrorCode};

/// Failures of the event log itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to the same complaint first.
    #[error("the complaint was changed concurrently")]
    Conflict,
    /// The client command id was applied before (see `EventLog::command_record`).
    #[error("the command id was used before")]
    DuplicateCommand,
    /// The database cannot be reached or is refusing work.
    #[error("the event store is unavailable: {0}")]
    Unavailable(String),
    /// A stored event could not be read back: a bug or a missing upcaster.
    #[error("stored event could not be decoded: {0}")]
    Corrupt(String),
    #[error("event store error: {0}")]
    Other(String),
}

impl StoreError {
    pub fn from_sqlx(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(err.to_string()),
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // PostgreSQL's unique violation; SQLite's UNIQUE and PRIMARY KEY ones.
                Some("23505" | "2067" | "1555") => StoreError::Conflict,
                // SQLite: the file is locked past the busy timeout (5, 517), cannot
                // be opened (14), or the disk is full (13).
                Some("5" | "517" | "14" | "13") => StoreError::Unavailable(err.to_string()),
                // The database is not there for us right now, but the request itself
                // was fine: connection (08), resources (53), operator intervention
                // (57), refused logins (28), a missing database (3D000) or one that
                // does not accept connections (55000).
                Some(code)
                    if ["08", "53", "57", "28"].iter().any(|c| code.starts_with(c))
                        || ["3D000", "55000"].contains(&code) =>
                {
                    StoreError::Unavailable(err.to_string())
                }
                _ => StoreError::Other(err.to_string()),
            },
            _ => StoreError::Other(err.to_string()),
        }
    }
}

/// Why a command was not carried out. Nothing was appended in every case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] ComplaintError),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The class of a refused command; the API edge maps it to the code a client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The domain refused the command (its own class: not found, forbidden, ...).
    Domain(ErrorCode),
    /// Another writer won, or the client's expected version is stale.
    Conflict,
    /// The event store is unreachable or refusing work: worth a retry.
    Unavailable,
    /// Anything else the store failed at: a bug, not the client's doing.
    Internal,
}

impl CommandError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            CommandError::Domain(e) => ErrorKind::Domain(e.code()),
            CommandError::Conflict(_) | CommandError::Store(StoreError::Conflict) => {
                ErrorKind::Conflict
            }
            CommandError::Store(StoreError::Unavailable(_)) => ErrorKind::Unavailable,
            CommandError::Store(_) => ErrorKind::Internal,
        }
    }
}
