//! The figures of issue 14 (docs/performance.md), in one run per store:
//! `cargo bench -p aduan-api --bench audit`.
//!
//! 1. Append overhead of the hash chain: the seeder's command mix (submit,
//!    verify, assign, respond, close...) through the real command bus from 8
//!    concurrent clients, with the chain against the same bus storing empty
//!    hashes (the "before"), alternating A B B A A B B A on the same database.
//! 2. On a log grown to ADUAN_BENCH_EVENTS (default 1,000,000), the rates of
//!    sealing unsealed events (an upgrade), building the tree and signing a
//!    checkpoint, and `aduan_store::audit::verify`, each against a plain read
//!    of the whole log in position order measured in the same run; then the
//!    median latency of consistency and inclusion proofs at that size.
//!
//! ADUAN_BENCH_STORES: `postgres`, `sqlite` or both (the default).
//! ADUAN_BENCH_CASES: cases per client per round (default 40).
//! ADUAN_BENCH_EVENTS=0 measures the append overhead only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::Arc;
use std::time::Instant;

use aduan_audit::checkpoint::LogSigner;
use aduan_testkit::{Backend, TestStore};

mod common;

use common::env_number;

const CLIENTS: u64 = 8;

fn signer() -> LogSigner {
    LogSigner {
        origin: "bench/audit".into(),
        name: "bench/audit".into(),
        key: ed25519_dalek::SigningKey::from_bytes(&[5; 32]),
    }
}

/// Commands per second from `CLIENTS` seeders at once.
async fn command_rate(store: &TestStore, chained: bool, cases: u64, round: u64) -> f64 {
    let reference = Arc::new(aduan_api::settings::load_reference(None).unwrap());
    let log = store.log().await;
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (log, reference) = (log.clone(), reference.clone());
            tokio::spawn(async move {
                let (bus, clock) = aduan_api::seed::seed_bus(log, reference.clone());
                let bus = if chained {
                    bus
                } else {
                    bus.without_chain_for_baseline()
                };
                let seed = round * 100 + c + 1;
                aduan_api::seed::seed_with(&bus, &clock, &reference, cases as usize, 60, seed)
                    .await
                    .unwrap()
                    .commands
            })
        })
        .collect();
    let mut commands = 0;
    for client in clients {
        commands += client.await.unwrap();
    }
    commands as f64 / started.elapsed().as_secs_f64()
}

async fn append_overhead(store: &TestStore, cases: u64) {
    let mut plain = Vec::new();
    let mut chained = Vec::new();
    // A B B A A B B A: each side gets as many early (smaller log, cooler
    // machine) rounds as late ones.
    let order = [false, true, true, false, false, true, true, false];
    for (round, chain) in order.into_iter().enumerate() {
        let rate = command_rate(store, chain, cases, round as u64).await;
        if chain {
            chained.push(rate);
        } else {
            plain.push(rate);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (p, c) = (mean(&plain), mean(&chained));
    println!("\n## Append overhead of the hash chain ({CLIENTS} clients, command mix)\n");
    println!("| without chain commands/s | with chain commands/s | ratio |");
    println!("|---|---|---|");
    println!("| {p:.0} | {c:.0} | {:.3} |", c / p);
    println!("(rounds without: {plain:.0?}; with: {chained:.0?})");
    let (micros, events) = hashing_cost(store).await;
    println!(
        "Hashing alone, the same {events} events once more, one core: {micros:.2} µs per \
         event, {:.2} % of the wall time per command without the chain.",
        micros / (1e6 / p) * 100.0
    );
}

/// The chain's own work per event (canonical JSON and SHA-256), measured on
/// the events the rounds wrote: the command rates above are noisier than the
/// difference they look for.
async fn hashing_cost(store: &TestStore) -> (f64, usize) {
    let events = store.log().await.export_after(0, 1_000_000).await.unwrap();
    let started = Instant::now();
    let mut prev = aduan_audit::chain::GENESIS.to_string();
    for e in &events {
        let content = aduan_audit::chain::EventContent {
            complaint: &e.aggregate_id,
            sequence: e.sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            payload: &e.payload,
            metadata: &e.metadata,
        };
        prev = aduan_audit::chain::event_hash(&content, &prev);
    }
    let micros = started.elapsed().as_secs_f64() * 1e6 / events.len().max(1) as f64;
    (micros, events.len())
}

/// Every event read in position order, raw, as the verifier reads them.
async fn plain_read(store: &TestStore) -> f64 {
    let log = store.log().await;
    let started = Instant::now();
    let (mut after, mut read) = (0i64, 0u64);
    loop {
        let chunk = log.export_after(after, 5000).await.unwrap();
        let Some(last) = chunk.last() else { break };
        after = last.position;
        read += chunk.len() as u64;
    }
    read as f64 / started.elapsed().as_secs_f64()
}

async fn at_size(store: &TestStore, events: u64) {
    let seeded = store.scalar("SELECT count(*) FROM events").await;
    let copies = (events as i64 + seeded - 1) / seeded.max(1) - 1;
    common::copy_seeded(store, 1..=copies).await;
    common::analyze(store).await;
    let total = store.scalar("SELECT count(*) FROM events").await as f64;
    let log = store.log().await;

    let started = Instant::now();
    let sealed = aduan_store::audit::seal_unsealed(log.as_ref())
        .await
        .unwrap();
    let seal_rate = sealed as f64 / started.elapsed().as_secs_f64();
    common::analyze(store).await;

    let read_rate = plain_read(store).await;

    let started = Instant::now();
    let checkpoint = aduan_store::audit::checkpoint(log.as_ref(), &signer())
        .await
        .unwrap()
        .unwrap();
    let tree_secs = started.elapsed().as_secs_f64();
    assert_eq!(checkpoint.tree_size as f64, total);

    let started = Instant::now();
    let report = aduan_store::audit::verify(
        log.as_ref(),
        &aduan_audit::keyring::TrustedKeys::single(signer().verifier()),
        &[],
    )
    .await
    .unwrap();
    let verify_secs = started.elapsed().as_secs_f64();
    assert!(
        report.intact(),
        "{:?}",
        &report.findings[..5.min(report.findings.len())]
    );
    let verify_rate = total / verify_secs;
    let proofs = proof_latencies(store, checkpoint.tree_size as u64).await;

    println!("\n## A log of {total:.0} events\n");
    println!("| step | seconds | events/s | vs. plain ordered read |");
    println!("|---|---|---|---|");
    println!(
        "| plain ordered read | {:.1} | {read_rate:.0} | 1.00 |",
        total / read_rate
    );
    println!(
        "| seal (upgrade of {sealed} unsealed events) | {:.1} | {seal_rate:.0} | {:.2} |",
        sealed as f64 / seal_rate,
        seal_rate / read_rate
    );
    println!(
        "| build the tree and sign the first checkpoint | {tree_secs:.1} | {:.0} | {:.2} |",
        total / tree_secs,
        total / tree_secs / read_rate
    );
    println!(
        "| `aduan audit verify` | {verify_secs:.1} | {verify_rate:.0} | {:.2} |",
        verify_rate / read_rate
    );
    let page_ms = 5000.0 / read_rate * 1000.0;
    println!("\n| proof at this size (median of {PROOF_RUNS}) | ms | vs. reading one page of 5,000 events ({page_ms:.1} ms) |");
    println!("|---|---|---|");
    for (what, ms) in proofs {
        println!("| {what} | {ms:.2} | {:.2} |", ms / page_ms);
    }
}

const PROOF_RUNS: usize = 21;

/// Median milliseconds of what an auditor's monitor and a case's bundle ask
/// for: consistency from an old checkpoint (a third of the log, and the size
/// just before) to the whole tree, and one case's inclusion proofs.
async fn proof_latencies(store: &TestStore, size: u64) -> Vec<(&'static str, f64)> {
    let log = store.log().await;
    let complaint = store
        .text("SELECT aggregate_id FROM events WHERE aggregate_type = 'Complaint' ORDER BY position DESC LIMIT 1")
        .await;
    let mut out = Vec::new();
    for (what, from) in [
        ("consistency from a third of the log", size / 3),
        ("consistency from one event before", size - 1),
    ] {
        out.push((
            what,
            median_ms(|| async {
                let proof = aduan_store::audit::consistency(log.as_ref(), from, size).await;
                assert!(proof.unwrap().is_ok());
            })
            .await,
        ));
    }
    out.push((
        "one case's inclusion proofs (auditProof)",
        median_ms(|| async {
            assert!(aduan_store::audit::case_proof(log.as_ref(), &complaint)
                .await
                .unwrap()
                .is_some());
        })
        .await,
    ));
    out
}

async fn median_ms<F, Fut>(mut run: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(PROOF_RUNS);
    for _ in 0..PROOF_RUNS {
        let started = Instant::now();
        run().await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[PROOF_RUNS / 2]
}

async fn bench(backend: Backend, cases: u64, events: u64) {
    println!("\n# {backend:?}\n");
    // The baseline's rows carry empty hashes: a store of their own.
    let store = TestStore::create(backend).await;
    append_overhead(&store, cases).await;
    store.drop_store().await;
    if events == 0 {
        return;
    }
    let store = TestStore::create(backend).await;
    common::seed(&store, 2000);
    at_size(&store, events).await;
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let cases = env_number("ADUAN_BENCH_CASES", 40);
    let events = env_number("ADUAN_BENCH_EVENTS", 1_000_000);
    let stores = std::env::var("ADUAN_BENCH_STORES").unwrap_or_default();
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let name = format!("{backend:?}").to_lowercase();
        if stores.is_empty() || stores.contains(&name) {
            bench(backend, cases, events).await;
        }
    }
}
