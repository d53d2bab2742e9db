//! Load from parallel clients for a fixed time, and the baseline the command
//! benches measure against in the same run: the raw "read a stream + append
//! one event" transaction a hand-written event store would run.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use aduan_store::Db;
use aduan_testkit::{Backend, GraphqlClient, TestStore};

use super::report;

/// What a timed run gave: operations done, per second, and the p50 and p99
/// of one operation in milliseconds.
pub struct Measured {
    pub count: usize,
    pub per_second: f64,
    pub p50: f64,
    pub p99: f64,
}

/// Runs `op(worker, n)` (the n-th operation of a worker) from `clients`
/// workers in parallel for `seconds`.
pub async fn drive<F, Fut>(clients: usize, seconds: u64, op: F) -> Measured
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let times = Arc::new(Mutex::new(Vec::new()));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|worker| {
            let (op, times) = (op.clone(), times.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                let mut n = 0;
                while Instant::now() < until {
                    let t = Instant::now();
                    op(worker, n).await;
                    mine.push(t.elapsed().as_secs_f64() * 1000.0);
                    n += 1;
                }
                times.lock().unwrap().extend(mine);
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut times = std::mem::take(&mut *times.lock().unwrap());
    assert!(!times.is_empty(), "no operation finished in {seconds} s");
    times.sort_by(f64::total_cmp);
    let at = |q: usize| times[((times.len() * q) / 100).min(times.len() - 1)];
    Measured {
        count: times.len(),
        per_second: times.len() as f64 / elapsed,
        p50: at(50),
        p99: at(99),
    }
}

/// Requests with `clients` in parallel for `seconds`; `request(worker, n)`
/// says what a worker sends the n-th time. Every request must succeed.
pub async fn rate<F>(client: &GraphqlClient, clients: usize, seconds: u64, request: F) -> Measured
where
    F: Fn(usize, u64) -> (&'static str, Value) + Send + Sync + 'static,
{
    let client = client.clone();
    drive(clients, seconds, move |worker, n| {
        let client = client.clone();
        let (query, variables) = request(worker, n);
        async move {
            client.ok(query, variables).await;
        }
    })
    .await
}

/// Waits until the projections have applied the whole log, so a projector's
/// catch-up (after the log was grown, or after earlier load) does not run
/// under the measured commands.
pub async fn caught_up(store: &TestStore, client: &GraphqlClient) {
    let head = store.scalar("SELECT max(position) FROM events").await;
    loop {
        let data = client.ok("{ projections { position } }", json!({})).await;
        let behind = data["projections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["position"].as_i64().unwrap() < head);
        if !behind {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

const STREAMS: i64 = 1000;

/// The raw baseline table: an event table's key and payload, with 1,000
/// streams of 8 events to read.
pub async fn create_raw(store: &TestStore) {
    let statements = match store.backend {
        Backend::Postgres => [
            "CREATE TABLE bench_raw (stream bigint, seq bigint, payload json NOT NULL, \
             PRIMARY KEY (stream, seq))"
                .to_string(),
            format!(
                "INSERT INTO bench_raw SELECT s, q, '{{}}' FROM generate_series(1, {STREAMS}) s, \
                 generate_series(1, 8) q"
            ),
        ],
        Backend::Sqlite => [
            "CREATE TABLE bench_raw (stream INTEGER, seq INTEGER, payload TEXT NOT NULL, \
             PRIMARY KEY (stream, seq))"
                .to_string(),
            format!(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {STREAMS}), \
                 q(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM q WHERE n < 8) \
                 INSERT INTO bench_raw SELECT s.n, q.n, '{{}}' FROM s, q"
            ),
        ],
    };
    for sql in statements {
        store.exec(&sql).await.unwrap();
    }
}

/// One raw "read a stream + append one event" transaction on `stream`.
async fn raw_transaction(db: &Db, stream: i64, payload: &str) {
    macro_rules! run {
        ($pool:expr, $begin:expr, $read:expr, $append:expr) => {{
            let mut conn = $pool.acquire().await.unwrap();
            let mut tx = sqlx::Connection::begin_with(&mut *conn, $begin)
                .await
                .unwrap();
            let events: Vec<(i64, String)> = sqlx::query_as($read)
                .bind(stream)
                .fetch_all(&mut *tx)
                .await
                .unwrap();
            let next = events.last().map_or(0, |e| e.0) + 1;
            sqlx::query($append)
                .bind(stream)
                .bind(next)
                .bind(payload)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }};
    }
    match db {
        Db::Postgres(pool) => run!(
            pool,
            "BEGIN",
            "SELECT seq, payload::text FROM bench_raw WHERE stream = $1 ORDER BY seq",
            "INSERT INTO bench_raw VALUES ($1, $2, $3::json) ON CONFLICT DO NOTHING"
        ),
        Db::Sqlite(pool) => run!(
            pool,
            "BEGIN IMMEDIATE",
            "SELECT seq, payload FROM bench_raw WHERE stream = ? ORDER BY seq",
            "INSERT OR IGNORE INTO bench_raw VALUES (?, ?, ?)"
        ),
    }
}

/// Raw transactions with `clients` in parallel for `seconds`, each on a random
/// stream of the table `create_raw` made.
pub async fn raw_rate(db: &Db, clients: usize, seconds: u64) -> Measured {
    let payload: Arc<str> = report(None).to_string().into();
    let db = db.clone();
    drive(clients, seconds, move |_, _| {
        let (db, payload) = (db.clone(), payload.clone());
        let stream = 1 + (uuid::Uuid::new_v4().as_u128() % STREAMS as u128) as i64;
        async move { raw_transaction(&db, stream, &payload).await }
    })
    .await
}
