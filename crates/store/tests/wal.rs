//! A serving process's commits leave the WAL to the background checkpointer
//! (`aduan_store::wal`), which copies it into the database file; a tool's
//! commits checkpoint as SQLite does by default (the control: without it the
//! test could not tell the two apart).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aduan_store::{Db, EventLog, Pooled, SqliteEventLog};

/// About 10 MB of pages in one commit: ten times the default checkpoint size.
const FILL: &str = "CREATE TABLE filler (b BLOB); \
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500) \
     INSERT INTO filler SELECT randomblob(4000) FROM n";

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("aduan-wal-{}.db", uuid::Uuid::new_v4().simple()))
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

async fn fill(log: &SqliteEventLog) {
    let Db::Sqlite(pool) = log.db() else {
        unreachable!("a SQLite log")
    };
    sqlx::raw_sql(FILL).execute(&pool).await.expect("fill");
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn a_serving_process_checkpoints_in_the_background_and_its_commits_do_not() {
    let path = scratch();
    let log = SqliteEventLog::open_serving(&path, 2).unwrap();
    log.migrate().await.unwrap();
    let migrated = size(&path);
    fill(&log).await;
    assert!(
        size(&path) < migrated + 1_000_000,
        "the commit copied the WAL into the file ({} -> {} bytes)",
        migrated,
        size(&path)
    );

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let upkeep = tokio::spawn(async move { log.upkeep(stopped).await });
    let deadline = Instant::now() + Duration::from_secs(20);
    while size(&path) < migrated + 9_000_000 {
        assert!(
            Instant::now() < deadline,
            "no background checkpoint in 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), upkeep)
        .await
        .expect("the checkpointer stops when told")
        .unwrap();
    remove(&path);
}

#[tokio::test]
async fn a_tools_commits_checkpoint_as_sqlite_does_by_default() {
    let path = scratch();
    let log = SqliteEventLog::open(&path, 2).unwrap();
    log.migrate().await.unwrap();
    let migrated = size(&path);
    fill(&log).await;
    assert!(
        size(&path) > migrated + 9_000_000,
        "the commit left the WAL unchecked ({} -> {} bytes)",
        migrated,
        size(&path)
    );
    // And its upkeep has nothing to do.
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::time::timeout(Duration::from_secs(1), log.upkeep(stopped))
        .await
        .expect("a tool's upkeep returns at once");
    remove(&path);
}

/// A writer that commits 100 KB at a time, taking its write turn as the
/// server's writers do, until `stop`.
fn steady_writer(
    pool: sqlx::SqlitePool,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        sqlx::query("CREATE TABLE IF NOT EXISTS steady (b BLOB)")
            .execute(&pool)
            .await
            .unwrap();
        let mut commits = 0;
        while !*stop.borrow() {
            let _turn = aduan_store::write_turn::turn(&pool, "test").await.unwrap();
            sqlx::query("INSERT INTO steady VALUES (randomblob(100000))")
                .execute(&pool)
                .await
                .unwrap();
            commits += 1;
        }
        commits
    })
}

/// Runs the checkpointer's round every 100 ms for `seconds` beside a steady
/// writer; returns how often a round emptied the WAL, and how often the WAL
/// file shrank in a round.
async fn under_steady_writes(path: &Path, truncate_at: i64, seconds: u64) -> (u32, u32) {
    let log = SqliteEventLog::open_serving(path, 4).unwrap();
    log.migrate().await.unwrap();
    let Db::Sqlite(pool) = log.db() else {
        unreachable!("a SQLite log")
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let writer = steady_writer(pool.clone(), stopped);
    let wal = format!("{}-wal", path.display());
    let (mut emptied, mut shrank) = (0, 0);
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = size(Path::new(&wal));
        let round = aduan_store::wal::upkeep(&pool, truncate_at, true)
            .await
            .unwrap();
        if round.checkpoint.wal_pages == 0 && !round.checkpoint.busy {
            emptied += 1;
        }
        if size(Path::new(&wal)) < before {
            shrank += 1;
        }
    }
    stop.send(true).unwrap();
    assert!(writer.await.unwrap() > 20, "the writer wrote too little");
    (emptied, shrank)
}

#[tokio::test]
async fn under_steady_writes_the_wal_is_emptied_once_it_passes_its_bound() {
    let path = scratch();
    let (emptied, shrank) = under_steady_writes(&path, 512, 3).await;
    assert!(
        emptied >= 2 && shrank >= 2,
        "the WAL was emptied {emptied} times and shrank {shrank} times"
    );
    remove(&path);

    // The control: PASSIVE checkpoints alone never shrink the file.
    let path = scratch();
    let (emptied, shrank) = under_steady_writes(&path, i64::MAX, 1).await;
    assert_eq!((emptied, shrank), (0, 0));
    remove(&path);
}
