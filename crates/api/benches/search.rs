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

use common::{env_number, latency, BIN};

/// A deterministic stream of numbers in [0, 1).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn word(&mut self) -> String {
        format!("kata{}", (self.next() * 500.0) as u32)
    }
}

/// The stems of a title and description, and of what was written back.
fn texts(noise: &mut Noise) -> (String, String) {
    let mut main: Vec<String> = (0..8).map(|_| noise.word()).collect();
    for (word, p) in [
        ("jalan", 0.10),
        ("lampu", 0.05),
        ("padam", 0.05),
        ("drainase", 0.005),
    ] {
        if noise.next() < p {
            main.push(word.into());
        }
    }
    let more: Vec<String> = if noise.next() < 0.3 {
        (0..6).map(|_| noise.word()).collect()
    } else {
        Vec::new()
    };
    (main.join(" "), more.join(" "))
}

/// Adds rows `0..total` to the summary, in statements of 5,000 rows.
async fn fill(store: &TestStore, total: i64) {
    let now = chrono::Utc::now();
    let mut noise = Noise(7);
    let head = "INSERT INTO complaint_summary (complaint_id, status, channel, category, \
        priority, opd, title, anonymous, escalation_level, reopen_count, created_at, \
        updated_at, version, last_position, events_applied, state, external_ref, \
        search_main, search_more) VALUES ";
    let mut i = 0;
    while i < total {
        let end = (i + 5_000).min(total);
        let values: Vec<String> = (i..end)
            .map(|k| {
                let created = now - chrono::Duration::seconds((total - k) * 315);
                let t = created.format("%Y-%m-%dT%H:%M:%SZ");
                let (main, more) = texts(&mut noise);
                format!(
                    "('S-{k:08}', 'ASSIGNED', 'MOBILE', 'ROAD_DAMAGE', 'NORMAL', 'DPU', 'bench', \
                     false, 0, 0, '{t}', '{t}', 1, {k}, 1, '{{}}', 'REF-{k}', '{main}', '{more}')"
                )
            })
            .collect();
        store
            .exec(&format!("{head}{}", values.join(", ")))
            .await
            .unwrap();
        i = end;
    }
    let analyze = match store.backend {
        Backend::Postgres => "VACUUM ANALYZE complaint_summary",
        Backend::Sqlite => "ANALYZE",
    };
    store.exec(analyze).await.unwrap();
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
            (
                "query($ref: String!) { complaints(first: 1, filter: {externalRef: [$ref]}) { edges { node { id } } } }",
                json!({"ref": "REF-5000"}),
            )
        } else {
            (LIST, json!({"text": text}))
        };
        out.push(latency(&agent, query, vars, requests).await);
    }
    server.stop().await;
    out
}

async fn run(backend: Backend, cases: i64, requests: usize) {
    let store = TestStore::create(backend).await;
    // The server's migrations make the tables; the server is stopped again.
    TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")])
        .await
        .stop()
        .await;
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
    let requests = env_number("ADUAN_BENCH_REQUESTS", 200) as usize;
    let stores = std::env::var("ADUAN_BENCH_STORES").unwrap_or_else(|_| "postgres".into());
    for name in stores.split(',') {
        let backend = match name.trim() {
            "sqlite" => Backend::Sqlite,
            _ => Backend::Postgres,
        };
        run(backend, cases, requests).await;
    }
}
