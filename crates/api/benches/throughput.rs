//! The performance figures of docs/performance.md, measured in one run on fresh
//! databases, PostgreSQL and SQLite: `cargo bench -p aduan-api --bench throughput`.
//!
//! Every rate is printed next to a baseline measured in the same run on the same
//! database (a raw single-row insert transaction; a bulk table-to-table copy for
//! rebuilds), because shared machines are noisy and only the ratio carries from
//! one machine to another.
//!
//! Sizes: ADUAN_BENCH_SECONDS (per load level, default 5), ADUAN_BENCH_EVENTS
//! (event log size for rebuild and read latency, default 1,000,000),
//! ADUAN_BENCH_STORES (`postgres`, `sqlite` or both, the default).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use aduan_projections::{rebuild, ComplaintSummary, SlaTimers};
use aduan_store::Db;
use aduan_testkit::{Backend, GraphqlClient, TestServer, TestStore};

const BIN: &str = env!("CARGO_BIN_EXE_aduan");

const SUBMIT: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id } }";

/// The projections on the shipped SLA settings, as the server runs them.
fn shipped_projections() -> (ComplaintSummary, SlaTimers) {
    let sla = aduan_api::settings::load_sla(None).expect("shipped SLA settings");
    aduan_api::settings::projections(&sla).expect("shipped SLA settings build")
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn report() -> serde_json::Value {
    json!({"input": {
        "channel": "CALL_CENTER", "category": "ROAD_DAMAGE", "title": "Jalan berlubang",
        "description": "Lubang besar di depan SD Inpres, Jl. Veteran Selatan",
        "location": {"latitude": -5.1551, "longitude": 119.4239, "kecamatan": "MAMAJANG"}
    }})
}

/// Commands per second through the GraphQL server with `clients` in parallel.
async fn command_rate(client: &GraphqlClient, clients: usize, seconds: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (client, done) = (client.clone(), done.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    client.ok(SUBMIT, report()).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// The database's own rate for one single-row insert transaction of an event-sized
/// JSON row, with `clients` in parallel (on SQLite through the same file settings
/// as the server: WAL, synchronous FULL).
async fn raw_rate(db: &Db, clients: usize, seconds: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let payload = report().to_string();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (db, done, payload) = (db.clone(), done.clone(), payload.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    match &db {
                        Db::Postgres(pool) => {
                            let mut tx = pool.begin().await.unwrap();
                            sqlx::query("INSERT INTO bench_raw (payload) VALUES ($1::json)")
                                .bind(&payload)
                                .execute(&mut *tx)
                                .await
                                .unwrap();
                            tx.commit().await.unwrap();
                        }
                        Db::Sqlite(pool) => {
                            let mut tx = pool.begin().await.unwrap();
                            sqlx::query("INSERT INTO bench_raw (payload) VALUES (?)")
                                .bind(&payload)
                                .execute(&mut *tx)
                                .await
                                .unwrap();
                            tx.commit().await.unwrap();
                        }
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// Grows the log to at least `target` events by copying the seeded complaints
/// (not the one-event complaints of the command-rate runs) under new ids: same
/// shapes, same sequences, in one statement.
async fn grow_log(store: &TestStore, target: i64) -> i64 {
    let seeded = match store.backend {
        Backend::Postgres => "metadata ->> 'channel' = 'seed'",
        Backend::Sqlite => "json_extract(metadata, '$.channel') = 'seed'",
    };
    let base = store
        .scalar(&format!("SELECT count(*) FROM events WHERE {seeded}"))
        .await;
    let copies = (target + base - 1) / base.max(1) - 1;
    let sql = match store.backend {
        Backend::Postgres => format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             SELECT aggregate_type, aggregate_id || '-c' || g, sequence, event_type, event_version, \
               CASE WHEN event_type = 'Submitted' \
                 THEN jsonb_set(payload::jsonb, '{{Submitted,complaint_id}}', to_jsonb(aggregate_id || '-c' || g))::json \
                 ELSE payload END, metadata \
             FROM events, generate_series(1, {copies}) g WHERE {seeded} ORDER BY g, position"
        ),
        Backend::Sqlite => format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {copies}) \
             SELECT aggregate_type, aggregate_id || '-c' || n, sequence, event_type, event_version, \
               CASE WHEN event_type = 'Submitted' \
                 THEN json_set(payload, '$.Submitted.complaint_id', aggregate_id || '-c' || n) \
                 ELSE payload END, metadata \
             FROM g, events WHERE {seeded} ORDER BY n, position"
        ),
    };
    if copies > 0 {
        store.exec(&sql).await.unwrap();
    }
    store.scalar("SELECT count(*) FROM events").await
}

/// p50 and p99 in milliseconds of `n` sequential requests.
async fn latency(
    client: &GraphqlClient,
    query: &str,
    variables: serde_json::Value,
    n: usize,
) -> (f64, f64) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        client.ok(query, variables.clone()).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], times[(n * 99) / 100])
}

async fn bench(backend: Backend, seconds: u64, events: i64) {
    let store = TestStore::create(backend).await;
    let log = store.log().await;
    let db = log.db();
    let server = TestServer::start(BIN, &store.url, &[]).await;
    let agent = server.client(&server.token("AGENT", None, "bench").await);
    let raw_table = match backend {
        Backend::Postgres => {
            "CREATE TABLE bench_raw (id bigserial PRIMARY KEY, payload json NOT NULL)"
        }
        Backend::Sqlite => "CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)",
    };
    store.exec(raw_table).await.unwrap();

    println!("\n# {backend:?}\n");
    println!("## Commands through GraphQL vs raw insert transactions ({seconds} s each)\n");
    println!("| clients | submitComplaint/s | raw insert tx/s | ratio |");
    println!("|---|---|---|---|");
    for clients in [1, 4, 16] {
        let commands = command_rate(&agent, clients, seconds).await;
        let raw = raw_rate(&db, clients, seconds).await;
        println!(
            "| {clients} | {commands:.0} | {raw:.0} | {:.3} |",
            commands / raw
        );
    }
    let status = server.stop().await;
    assert!(status.success());

    let seeded = std::process::Command::new(BIN)
        .args(["seed", "--cases", "2000", "--days", "60"])
        .env("DATABASE_URL", &store.url)
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let grow = Instant::now();
    let before = store.scalar("SELECT count(*) FROM events").await;
    let total = grow_log(&store, events).await;
    let copy_rate = (total - before) as f64 / grow.elapsed().as_secs_f64();
    println!(
        "\n## Event log of {total} events\n\nBaseline: the database copies events \
         table-to-table (one INSERT ... SELECT) at {copy_rate:.0} events/s.\n"
    );
    println!("| projection | rebuild | events/s | ratio to the bulk copy |");
    println!("|---|---|---|---|");
    store.settle().await;
    let (summary, timers) = shipped_projections();
    for report in [
        rebuild(&log, &summary, 2000).await.unwrap(),
        rebuild(&log, &timers, 2000).await.unwrap(),
    ] {
        let rate = report.events as f64 / report.seconds;
        println!(
            "| {} | {} events in {:.1} s | {rate:.0} | {:.3} |",
            report.name,
            report.events,
            report.seconds,
            rate / copy_rate
        );
    }
    // As autovacuum (ANALYZE) would have by now on a live system: planner statistics.
    let analyze = match backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    store.exec(analyze).await.unwrap();
    let cases = store.scalar("SELECT count(*) FROM complaint_summary").await;
    let some_case = store
        .text("SELECT complaint_id FROM complaint_summary ORDER BY created_at LIMIT 1")
        .await;

    // Reads at that size, both projections built. Without the deadline watcher:
    // the copied log holds ~100,000 overdue cases whose breaches a live city would
    // have recorded as they happened, not all in this minute.
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let supervisor = server.client(&server.token("SUPERVISOR", None, "bench").await);
    let now = chrono::Utc::now();
    let window =
        json!({"from": now - chrono::Duration::days(365), "to": now + chrono::Duration::days(1)});
    println!("\n## Reads over {cases} complaints (sequential requests)\n");
    println!("| query | p50 ms | p99 ms |");
    println!("|---|---|---|");
    let reads = [
        ("`me` (no database: the HTTP + JWT + GraphQL floor)", "{ me { id } }".to_string(), json!({}), 200),
        ("`complaint(id)`", "query($id: ID!) { complaint(id: $id) { id status } }".to_string(), json!({"id": some_case}), 200),
        ("`complaints` first 20, status filter", "query { complaints(first: 20, filter: {status: [ASSIGNED, IN_PROGRESS]}) { totalCount edges { node { id } } } }".to_string(), json!({}), 200),
        ("`complaints` first 20, SLA filter BREACHED", "query { complaints(first: 20, filter: {slaState: [BREACHED]}) { totalCount edges { node { id slaState } } } }".to_string(), json!({}), 100),
        ("`dashboard` DPU, last 365 days", "query($from: DateTime!, $to: DateTime!) { dashboard(opd: \"DPU\", from: $from, to: $to) { open overdue responseCompliancePct respondP50Seconds satisfactionIndex } }".to_string(), window, 50),
    ];
    for (name, query, variables, n) in reads {
        let (p50, p99) = latency(&supervisor, &query, variables, n).await;
        println!("| {name} | {p50:.1} | {p99:.1} |");
    }
    let _ = server.stop().await;
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let seconds = env_number("ADUAN_BENCH_SECONDS", 5);
    let events = env_number("ADUAN_BENCH_EVENTS", 1_000_000) as i64;
    let stores = std::env::var("ADUAN_BENCH_STORES").unwrap_or_default();
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let name = format!("{backend:?}").to_lowercase();
        if stores.is_empty() || stores.split(',').any(|s| s.trim() == name) {
            bench(backend, seconds, events).await;
        }
    }
}
