//! `aduan backup` for a SQLite log: an online, consistent copy of the whole
//! file (the log, the projections, the checkpoints and the keys), taken while
//! the server keeps writing. `VACUUM INTO` reads one snapshot in a read
//! transaction (WAL mode lets writers go on meanwhile) and writes a compact
//! copy; the copy is checked, then moved into place, so a failed backup never
//! leaves a file that looks whole. PostgreSQL has its own engines for this
//! (base backups and archived WAL: docs/operations.md).

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::error::StoreError;
use crate::log::{Db, EventLog};

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    pub events: i64,
    /// The position of the last event in the copy: every command acknowledged
    /// before the backup began is at or below it.
    pub last_position: i64,
    pub bytes: u64,
}

/// Copies the log's database to `dest` (which must not exist).
pub async fn sqlite_backup(log: &dyn EventLog, dest: &Path) -> Result<BackupReport, StoreError> {
    let Db::Sqlite(pool) = log.db() else {
        return Err(StoreError::Other(
            "aduan backup copies a SQLite file; back PostgreSQL up with pg_basebackup and archived WAL (docs/operations.md)".into(),
        ));
    };
    if dest.exists() {
        return Err(StoreError::Other(format!(
            "{} exists already",
            dest.display()
        )));
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    sqlx::query("VACUUM INTO ?")
        .bind(partial.display().to_string())
        .execute(&pool)
        .await
        .map_err(StoreError::from_sqlx)?;
    let report = settle_copy(&partial).await;
    match report {
        Ok(report) => {
            std::fs::rename(&partial, dest).map_err(|e| StoreError::Other(e.to_string()))?;
            Ok(report)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Makes the copy whole: its full-text indexes refer to rows by rowid, which
/// `VACUUM INTO` may renumber, so each is rebuilt from its table; then the
/// copy must pass SQLite's integrity check.
async fn settle_copy(path: &Path) -> Result<BackupReport, StoreError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .map_err(StoreError::from_sqlx)?;
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%fts5%'",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(StoreError::from_sqlx)?;
    for index in indexes {
        let rebuild = format!("INSERT INTO \"{index}\" (\"{index}\") VALUES ('rebuild')");
        sqlx::query(&rebuild)
            .execute(&mut conn)
            .await
            .map_err(StoreError::from_sqlx)?;
    }
    let checked: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(StoreError::from_sqlx)?;
    if checked != "ok" {
        return Err(StoreError::Corrupt(format!(
            "the copy failed its check: {checked}"
        )));
    }
    let report = counts(&mut conn).await?;
    conn.close().await.map_err(StoreError::from_sqlx)?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(BackupReport { bytes, ..report })
}

async fn counts(conn: &mut SqliteConnection) -> Result<BackupReport, StoreError> {
    let (events, last_position): (i64, i64) =
        sqlx::query_as("SELECT count(*), coalesce(max(position), 0) FROM events")
            .fetch_one(conn)
            .await
            .map_err(StoreError::from_sqlx)?;
    Ok(BackupReport {
        events,
        last_position,
        bytes: 0,
    })
}
