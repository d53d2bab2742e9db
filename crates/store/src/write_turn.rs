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
//!
//! Commands go before followers. Each command wakes every follower, and each
//! follower's checkpoint move or batch is a write with its own fsync; in one
//! queue a command waited behind all of them (its p99 grew with the cost of a
//! projector's batch on a large file). Followers first queue among themselves
//! (`follower_turn`), so at most one of them is at work or waiting at the
//! file, and a command waits behind the writer at work and at most one follower.
//!
//! Each turn, as it ends, is traced at debug level under this module's target
//! (`ADUAN_LOG=aduan_store::write_turn=debug`): the writer, when it got the
//! turn, how long it waited and how long it held the file. That is how to find
//! what a slow command waited behind (docs/operations.md).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use sqlx::SqlitePool;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::StoreError;

/// How long a writer waits for its turn before the request is UNAVAILABLE: as
/// long as it would wait for the file lock.
const WAIT: Duration = Duration::from_secs(10);

/// One database file's gates: every writer's, and the followers' own.
#[derive(Clone)]
struct Gates {
    file: Arc<Semaphore>,
    followers: Arc<Semaphore>,
}

static GATES: LazyLock<Mutex<HashMap<String, Gates>>> = LazyLock::new(Default::default);

/// The instant turns are traced from, so one turn's wait can be laid against
/// the others' hold.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn gates(pool: &SqlitePool) -> Gates {
    let file = pool.connect_options().get_filename().display().to_string();
    GATES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .entry(file)
        .or_insert_with(|| Gates {
            file: Arc::new(Semaphore::new(1)),
            followers: Arc::new(Semaphore::new(1)),
        })
        .clone()
}

/// This process's turn to write to one database file; the next writer's when
/// dropped (take it before the connection, drop it after the commit).
#[must_use = "the turn ends when it is dropped"]
pub struct WriteTurn {
    // Dropped in this order: the file first, so a waiting command goes before
    // the next follower queues there.
    _permit: OwnedSemaphorePermit,
    _follower: Option<OwnedSemaphorePermit>,
    writer: String,
    asked: Instant,
    got: Instant,
}

impl WriteTurn {
    fn new(
        writer: &str,
        asked: Instant,
        permit: OwnedSemaphorePermit,
        follower: Option<OwnedSemaphorePermit>,
    ) -> Self {
        WriteTurn {
            _permit: permit,
            _follower: follower,
            writer: writer.to_owned(),
            asked,
            got: Instant::now(),
        }
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        tracing::debug!(
            writer = %self.writer,
            at_us = self.got.duration_since(*EPOCH).as_micros() as u64,
            waited_us = self.got.duration_since(self.asked).as_micros() as u64,
            held_us = self.got.elapsed().as_micros() as u64,
            "write turn"
        );
    }
}

async fn acquire(gate: Arc<Semaphore>) -> Result<OwnedSemaphorePermit, StoreError> {
    match tokio::time::timeout(WAIT, gate.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(closed)) => Err(StoreError::Other(format!("write gate closed: {closed}"))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "no turn to write within {} s",
            WAIT.as_secs()
        ))),
    }
}

/// Waits for this process's turn to write to `pool`'s file: a command's, or
/// any writer's that holds commands up in any case (a rebuild's last swap).
/// `writer` names it in the trace.
pub async fn turn(pool: &SqlitePool, writer: &str) -> Result<WriteTurn, StoreError> {
    let asked = Instant::now();
    let permit = acquire(gates(pool).file).await?;
    Ok(WriteTurn::new(writer, asked, permit, None))
}

/// A follower's turn (a projector's batch, a checkpoint move): after the
/// follower ahead of it, then as any writer.
pub async fn follower_turn(pool: &SqlitePool, writer: &str) -> Result<WriteTurn, StoreError> {
    let asked = Instant::now();
    let gates = gates(pool);
    let follower = acquire(gates.followers).await?;
    let permit = acquire(gates.file).await?;
    Ok(WriteTurn::new(writer, asked, permit, Some(follower)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str) -> SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(name);
        sqlx::sqlite::SqlitePoolOptions::new().connect_lazy_with(options)
    }

    type Order = Arc<Mutex<Vec<String>>>;

    /// Spawns a writer to `file` that notes `name` in `order` once it has its
    /// turn (a command's, or a follower's), and gives it 20 ms to queue.
    async fn queue(
        file: &str,
        order: &Order,
        name: &str,
        command: bool,
    ) -> tokio::task::JoinHandle<()> {
        let (order, file, name) = (order.clone(), file.to_string(), name.to_string());
        let task = tokio::spawn(async move {
            let _turn = if command {
                turn(&pool(&file), "test").await.unwrap()
            } else {
                follower_turn(&pool(&file), "test").await.unwrap()
            };
            order.lock().unwrap().push(name);
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        task
    }

    #[tokio::test]
    async fn writers_to_one_file_take_turns_in_arrival_order() {
        let file = format!("/tmp/aduan-turn-{}.db", uuid::Uuid::new_v4().simple());
        let first = turn(&pool(&file), "test").await.unwrap();
        let order = Order::default();
        let mut waiting = Vec::new();
        for i in 0..5 {
            waiting.push(queue(&file, &order, &i.to_string(), true).await);
        }
        // Another file is not held up by this one's writer.
        let other = format!("/tmp/aduan-turn-{}.db", uuid::Uuid::new_v4().simple());
        drop(turn(&pool(&other), "test").await.unwrap());
        assert!(order.lock().unwrap().is_empty(), "nobody wrote out of turn");
        drop(first);
        for task in waiting {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), ["0", "1", "2", "3", "4"]);
    }

    #[tokio::test]
    async fn a_command_waits_behind_at_most_the_writer_at_work_and_one_follower() {
        let file = format!("/tmp/aduan-turn-{}.db", uuid::Uuid::new_v4().simple());
        let at_work = follower_turn(&pool(&file), "test").await.unwrap();
        let order = Order::default();
        let mut waiting = Vec::new();
        for name in ["follower 1", "follower 2", "follower 3"] {
            waiting.push(queue(&file, &order, name, false).await);
        }
        waiting.push(queue(&file, &order, "command", true).await);
        drop(at_work);
        for task in waiting {
            task.await.unwrap();
        }
        // The followers waited among themselves; the command at the file (in
        // one queue it came last).
        let order = order.lock().unwrap().clone();
        assert_eq!(order, ["command", "follower 1", "follower 2", "follower 3"]);
    }
}
