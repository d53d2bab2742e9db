//! Text search at a city's size (issue 24, point 2):
//! `cargo bench -p aduan-api --bench search`.
//!
//! `complaint_summary` is filled with ADUAN_BENCH_CASES synthetic cases
//! (default 1,000,000; no events: the search reads the summary only) whose
//! searchable stems are drawn from a vocabulary of 500 words (each in about
//! 1.6% of the cases) plus `jalan` (10%), `lampu` and `padam` (5% each) and
//! `drainase` (0.5%). Against the real server, p50/p99 of sequential requests
//! (first 20 with totalCount, best match first) of a rare word, a common word,
//! two words together, and, as the baseline measured in the same run, an
//! indexed one-row read through the same path (`complaints` by `externalRef`).
//! Printed: each read's p99 and the ratio to the baseline's.
//! Stores: ADUAN_BENCH_STORES (default `postgres`; `sqlite` too).
//! Requests per read: ADUAN_BENCH_REQUESTS (default 200).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::time::Instant;

use serde_json::json;

use aduan_testkit::{Backend, TestServer, TestStore};

mod common;

use common::{
    analyze, env_number, insert_summary, latency, migrated, requests, stores, Noise, BASELINE, BIN,
};

/// Adds rows `0..total` to the summary.
async fn fill(store: &TestStore, total: i64) {
    let now = chrono::Utc::now();
    let mut noise = Noise(7);
    let columns = "complaint_id, status, channel, category, priority, opd, title, anonymous, \
        escalation_level, reopen_count, created_at, updated_at, version, last_position, \
        events_applied, state, external_ref, search_main, search_more";
    insert_summary(store, columns, 0..total, |k| {
        let created = now - chrono::Duration::seconds((total - k) * 315);
        let t = created.format("%Y-%m-%dT%H:%M:%SZ");
        let (main, more) = noise.texts();
        format!(
            "('S-{k:08}', 'ASSIGNED', 'MOBILE', 'ROAD_DAMAGE', 'NORMAL', 'DPU', 'bench', \
             false, 0, 0, '{t}', '{t}', 1, {k}, 1, '{{}}', 'REF-{k}', '{main}', '{more}')"
        )
    })
    .await;
    analyze(store).await;
}

const LIST: &str = "query($text: String!) { complaints(first: 20, filter: {text: $text}) { \
    totalCount edges { node { id } } } }";

const READS: [(&str, &str); 4] = [
    (
        "baseline: `complaints` by externalRef (one indexed row)",
        "",
    ),
    ("rare word (`drainase`, 0.5% of cases)", "drainase"),
    ("common word (`jalanan`, 10% of cases)", "jalanan"),
    ("two words (`lampu padam`, 0.25% of cases)", "lampu padam"),
];

async fn measure(store: &TestStore, requests: usize) -> Vec<(f64, f64)> {
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let agent = server.client(&server.token("AGENT", None, "bench-agent").await);
    let mut out = Vec::new();
    for (_, text) in READS {
        let (query, vars) = if text.is_empty() {
            (BASELINE, json!({"ref": "REF-5000"}))
        } else {
            (LIST, json!({"text": text}))
        };
        out.push(latency(&agent, query, vars, requests).await);
    }
    server.stop().await;
    out
}

async fn run(backend: Backend, cases: i64, requests: usize) {
    let store = migrated(backend).await;
    let t = Instant::now();
    fill(&store, cases).await;
    println!(
        "{backend:?}: {cases} cases filled (and indexed) in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let figures = measure(&store, requests).await;
    println!("\n{backend:?}: p50 / p99 ms at {cases} cases, p99 in baselines");
    for (k, (name, _)) in READS.iter().enumerate() {
        let (p50, p99) = figures[k];
        println!(
            "  {name}: {p50:.2} / {p99:.2} ms, {:.1} baselines",
            p99 / figures[0].1
        );
    }
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let cases = env_number("ADUAN_BENCH_CASES", 1_000_000) as i64;
    let requests = requests();
    for backend in stores("postgres") {
        run(backend, cases, requests).await;
    }
}
