//! Reads flat in history size, and rebuild speed (issue 10, points 5 and 6):
//! `cargo bench -p aduan-api --bench reads`.
//!
//! On each store (PostgreSQL and SQLite, `ADUAN_BENCH_STORES`), a log of
//! `ADUAN_BENCH_BASE_CASES` complaints (default 10,000) is built: seeded through
//! the command path (`aduan seed`) and grown by copying the seeded complaints under
//! new ids. The reads are measured against the real release server (p50/p99 of
//! sequential requests), then the log is grown to at least `ADUAN_BENCH_EVENTS`
//! events (default 1,000,000) and `ADUAN_BENCH_CASES` complaints (default
//! 125,000), both projections are rebuilt (`aduan projections rebuild`'s code
//! path) and the same reads are measured again. Printed: the p99 ratio per read
//! (large / base; the goal is <= 1.5), and rebuild events/s against a plain
//! ordered read of the same events (decoded, in the projector's batches) on the
//! same database in the same run (the goal is >= 0.5).
//!
//! Other sizes: ADUAN_BENCH_SEED_CASES (seeded through commands, default 2,000),
//! ADUAN_BENCH_REQUESTS (per read, default 200), ADUAN_BENCH_REBUILD_BATCH
//! (events per projector batch, default the CLI's), ADUAN_BENCH_KEEP (set: keep
//! the database and print its URL, for EXPLAIN ANALYZE).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::time::Instant;

use aduan_projections::{rebuild, ComplaintSummary, SlaTimers};
use aduan_store::{Cursor, EventLog};
use aduan_testkit::{Backend, TestServer, TestStore};

mod common;

use common::{
    analyze, copy_seeded, env_number, read_latencies, seed, seeded_condition, BIN, READS,
};

/// Events per read of the ordered-read baseline.
const READ_BATCH: i64 = 10_000;

/// The projections on the shipped SLA settings, as the server runs them.
fn shipped_projections() -> (ComplaintSummary, SlaTimers) {
    let sla = aduan_api::settings::load_sla(None).expect("shipped SLA settings");
    aduan_api::settings::projections(&sla).expect("shipped SLA settings build")
}

/// p50/p99 per read against a fresh server on the store.
async fn measure_reads(store: &TestStore, requests: usize) -> (i64, Vec<(f64, f64)>) {
    let cases = store.scalar("SELECT count(*) FROM complaint_summary").await;
    let some_case = store
        .text("SELECT complaint_id FROM complaint_summary ORDER BY created_at LIMIT 1")
        .await;
    // Without the deadline watcher: the copied log holds many overdue cases whose
    // breaches a live city would have recorded as they happened.
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    // The projector's first sweep of the SLA standings (a rebuilt table starts
    // unswept: correct, only slower): a running server has swept long ago.
    let took = common::swept(store).await;
    println!(
        "(first SLA sweep of {cases} rows done {:.1} s after the server started)",
        took.as_secs_f64()
    );
    // That sweep rewrote every row: as autovacuum would within a minute on a
    // live system (the unswept rows' index is otherwise full of dead entries).
    analyze(store).await;
    let supervisor = server.client(&server.token("SUPERVISOR", None, "bench").await);
    let out = read_latencies(&supervisor, &some_case, requests).await;
    let _ = server.stop().await;
    (cases, out)
}

/// Events/s of a plain ordered read of the whole log, decoded, in the
/// projector's batches: what a rebuild cannot beat.
async fn ordered_read_rate(log: &dyn EventLog, batch: i64) -> (i64, f64) {
    let started = Instant::now();
    let mut cursor = Cursor::default();
    let mut n = 0i64;
    loop {
        let events = log.read_committed_after(cursor, batch).await.unwrap();
        let Some(&(last, _)) = events.last() else {
            break;
        };
        n += events.len() as i64;
        cursor = last;
    }
    (n, n as f64 / started.elapsed().as_secs_f64())
}

async fn bench(backend: Backend) {
    let seed_cases = env_number("ADUAN_BENCH_SEED_CASES", 2000) as i64;
    let base_cases = env_number("ADUAN_BENCH_BASE_CASES", 10_000) as i64;
    let min_events = env_number("ADUAN_BENCH_EVENTS", 1_000_000) as i64;
    let min_cases = env_number("ADUAN_BENCH_CASES", 125_000) as i64;
    let requests = env_number("ADUAN_BENCH_REQUESTS", 200) as usize;
    let batch = env_number("ADUAN_BENCH_REBUILD_BATCH", 1000) as i64;

    let store = TestStore::create(backend).await;
    let log = store.log().await;
    println!("\n# {backend:?}\n");

    let t = Instant::now();
    seed(&store, seed_cases);
    let seed_events = store
        .scalar(&format!(
            "SELECT count(*) FROM events WHERE {}",
            seeded_condition(backend)
        ))
        .await;
    println!(
        "Seeded {seed_cases} complaints ({seed_events} events) through the command path in {:.0} s.\n",
        t.elapsed().as_secs_f64()
    );

    // The base: copies up to `base_cases` complaints.
    let base_copies = (base_cases + seed_cases - 1) / seed_cases - 1;
    copy_seeded(&store, 1..=base_copies).await;
    store.settle().await;
    let (summary, timers) = shipped_projections();
    rebuild(&log, &summary, batch).await.unwrap();
    rebuild(&log, &timers, batch).await.unwrap();
    analyze(&store).await;
    let base_events = store.scalar("SELECT count(*) FROM events").await;
    let (base_n, base) = measure_reads(&store, requests).await;

    // The large log.
    let copies = ((min_events + seed_events - 1) / seed_events)
        .max((min_cases + seed_cases - 1) / seed_cases)
        - 1;
    copy_seeded(&store, base_copies + 1..=copies).await;
    store.settle().await;
    analyze(&store).await;
    let events = store.scalar("SELECT count(*) FROM events").await;
    let (read_n, read_rate) = ordered_read_rate(log.as_ref(), READ_BATCH).await;
    assert_eq!(read_n, events);
    let mut rebuilds = Vec::new();
    for report in [
        rebuild(&log, &summary, batch).await.unwrap(),
        rebuild(&log, &timers, batch).await.unwrap(),
    ] {
        rebuilds.push(report);
    }
    // The ordered read again, after the rebuilds (caches as warm as theirs).
    let (_, read_rate_after) = ordered_read_rate(log.as_ref(), READ_BATCH).await;
    let read_rate = read_rate.max(read_rate_after);
    analyze(&store).await;
    let (large_n, large) = measure_reads(&store, requests).await;

    println!("## Reads: {base_n} complaints ({base_events} events) vs {large_n} complaints ({events} events)\n");
    println!("| query | base p50 / p99 ms | large p50 / p99 ms | p99 ratio |");
    println!("|---|---|---|---|");
    for ((read, (b50, b99)), (l50, l99)) in READS.iter().zip(&base).zip(&large) {
        println!(
            "| {} | {b50:.1} / {b99:.1} | {l50:.1} / {l99:.1} | {:.2} |",
            read.name,
            l99 / b99
        );
    }
    let batch = batch.max(aduan_projections::rebuild::REBUILD_BATCH);
    println!(
        "\n## Rebuild over {events} events (batch {batch})\n\nBaseline: a plain ordered read \
         of the log (decoded events, in batches) at {read_rate:.0} events/s.\n"
    );
    println!("| projection | rebuild | events/s | ratio to the ordered read |");
    println!("|---|---|---|---|");
    for report in rebuilds {
        let rate = report.events as f64 / report.seconds;
        println!(
            "| {} | {} events in {:.1} s | {rate:.0} | {:.3} |",
            report.name,
            report.events,
            report.seconds,
            rate / read_rate
        );
    }
    if std::env::var("ADUAN_BENCH_KEEP").is_ok() {
        println!("\n(kept: {})", store.url);
    } else {
        store.drop_store().await;
    }
}

#[tokio::main]
async fn main() {
    let stores = std::env::var("ADUAN_BENCH_STORES").unwrap_or_default();
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let name = format!("{backend:?}").to_lowercase();
        if stores.is_empty() || stores.split(',').any(|s| s.trim() == name) {
            bench(backend).await;
        }
    }
}
