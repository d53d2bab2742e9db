//! One SQLite writer at a time in this process, served in arrival order.
//!
//! SQLite lets one connection write at a time; the others wait in its busy
//! handler, which sleeps and retries (up to 100 ms between tries) with no
//! queue. When commits are slow (fsyncs on a busy disk) a writer can lose the
//! race for the file lock to later arrivals again and again: a command waited
//! past the busy timeout and was answered UNAVAILABLE while others went
//! through. Every write transaction of this process first takes its turn here
//! (a fair semaphore per database file), so a writer waits only for those
//! ahead of it; the busy handler is left for other processes on the same file
//! (a CLI beside the server).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::StoreError;

/// How long a writer waits for its turn before the request is UNAVAILABLE: as
/// long as it would wait for the file lock.
const WAIT: Duration = Duration::from_secs(10);

static GATES: LazyLock<Mutex<HashMap<String, Arc<Semaphore>>>> = LazyLock::new(Default::default);

/// This process's turn to write to one database file; the next writer's when
/// dropped (take it before the connection, drop it after the commit).
#[must_use = "the turn ends when it is dropped"]
pub struct WriteTurn {
    _permit: OwnedSemaphorePermit,
}

/// Waits for this process's turn to write to `pool`'s file.
pub async fn turn(pool: &SqlitePool) -> Result<WriteTurn, StoreError> {
    let file = pool.connect_options().get_filename().display().to_string();
    let gate = GATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(file)
        .or_insert_with(|| Arc::new(Semaphore::new(1)))
        .clone();
    match tokio::time::timeout(WAIT, gate.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(WriteTurn { _permit: permit }),
        Ok(Err(closed)) => Err(StoreError::Other(format!("write gate closed: {closed}"))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "no turn to write within {} s",
            WAIT.as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str) -> SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(name);
        sqlx::sqlite::SqlitePoolOptions::new().connect_lazy_with(options)
    }

    #[tokio::test]
    async fn writers_to_one_file_take_turns_in_arrival_order() {
        let file = format!("/tmp/aduan-turn-{}.db", uuid::Uuid::new_v4().simple());
        let first = turn(&pool(&file)).await.unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiting = Vec::new();
        for i in 0..5 {
            let (order, file) = (order.clone(), file.clone());
            waiting.push(tokio::spawn(async move {
                let _turn = turn(&pool(&file)).await.unwrap();
                order.lock().unwrap().push(i);
            }));
            // Each has queued before the next arrives.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Another file is not held up by this one's writer.
        let other = format!("/tmp/aduan-turn-{}.db", uuid::Uuid::new_v4().simple());
        drop(turn(&pool(&other)).await.unwrap());
        assert!(order.lock().unwrap().is_empty(), "nobody wrote out of turn");
        drop(first);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }
}
