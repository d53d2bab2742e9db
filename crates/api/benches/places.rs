//! Reads by place at a city's size (issue 23):
//! `cargo bench -p aduan-api --bench places`.
//!
//! `complaint_summary` is filled with synthetic cases (no events: these reads
//! look at the summary only) spread over Makassar's box, created over ten
//! years at a city's 100,000 a year, the last month's half still open, 14
//! categories. Against the real server, p50/p99 of sequential requests of:
//! `nearbyComplaints` (the staff default: 1 km, open, 30 days), the public
//! variant (250 m), a `complaints` list `near` a point (250 m, open cases,
//! first 20 with totalCount), and, as the baseline measured in the same run,
//! an indexed one-row read through the same path (`complaints` by
//! `externalRef`). First at ADUAN_BENCH_BASE_CASES (default 10,000), then at
//! ADUAN_BENCH_CASES (default 1,000,000); printed: each read's p99 at both
//! sizes, the ratio large / base (the goal is <= 1.5), and each read's p99 in
//! baselines. Stores: ADUAN_BENCH_STORES (default `postgres`; `sqlite` too).
//! Requests per read: ADUAN_BENCH_REQUESTS (default 200).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::time::Instant;

use serde_json::json;

use aduan_domain::geo;
use aduan_testkit::{Backend, TestServer, TestStore};

mod common;

use common::{
    env_number, insert_summary, latency, migrated, requests, stores, Noise, BASELINE, BIN,
};

const CATEGORIES: [&str; 14] = [
    "ROAD_DAMAGE",
    "DRAINAGE",
    "GARBAGE",
    "TRAFFIC_LIGHT",
    "STREET_LIGHT",
    "HEALTH_SERVICE",
    "WATER_SUPPLY",
    "CIVIL_REGISTRY",
    "PUBLIC_ORDER",
    "FIRE",
    "SOCIAL_ASSISTANCE",
    "EDUCATION",
    "DISASTER",
    "PUBLIC_INFORMATION",
];
const PER_YEAR: i64 = 100_000;
/// Where the readers stand: Jl. Veteran Selatan.
const HERE: (f64, f64) = (-5.1551, 119.4239);

/// One synthetic row as SQL values; `i` is its rank, newest last.
fn row(i: i64, total: i64, noise: &mut Noise, now: chrono::DateTime<chrono::Utc>) -> String {
    let (lat, lon) = (-5.23 + noise.next() * 0.18, 119.38 + noise.next() * 0.14);
    let cell = geo::cell(lat, lon).unwrap();
    let age_s = (total - i) * 365 * 86_400 / PER_YEAR;
    let created = now - chrono::Duration::seconds(age_s);
    let open = age_s < 30 * 86_400 && noise.next() < 0.5;
    let status = if open { "ASSIGNED" } else { "CLOSED" };
    let category = CATEGORIES[(noise.next() * 14.0) as usize % 14];
    let t = created.format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        "('B-{i:08}', '{status}', 'MOBILE', '{category}', 'NORMAL', 'DPU', 'bench', false, 0, 0, \
         '{t}', '{t}', 1, {i}, 1, '{{}}', {lat}, {lon}, {cell}, 'REF-{i}')"
    )
}

/// Adds rows `from..to` (of `total` at the full size) to the summary.
async fn fill(store: &TestStore, from: i64, to: i64, total: i64) {
    let now = chrono::Utc::now();
    let mut noise = Noise(from as u64 + 7);
    let columns = "complaint_id, status, channel, category, priority, opd, title, anonymous, \
        escalation_level, reopen_count, created_at, updated_at, version, last_position, \
        events_applied, state, latitude, longitude, h3_cell, external_ref";
    insert_summary(store, columns, from..to, |k| row(k, total, &mut noise, now)).await;
    store.exec("ANALYZE").await.unwrap();
}

const READS: [(&str, &str); 4] = [
    ("baseline: `complaints` by externalRef (one indexed row)", BASELINE),
    (
        "`nearbyComplaints` (staff default: 1 km, open, 30 days)",
        "query($lat: Float!, $lon: Float!) { nearbyComplaints(latitude: $lat, longitude: $lon, category: \"ROAD_DAMAGE\") { id distanceMeters } }",
    ),
    (
        "`publicNearbyComplaints` (250 m)",
        "query($lat: Float!, $lon: Float!) { publicNearbyComplaints(latitude: $lat, longitude: $lon, category: \"ROAD_DAMAGE\") { id distanceMeters } }",
    ),
    (
        "`complaints` near (250 m), open, first 20, totalCount",
        "query($lat: Float!, $lon: Float!) { complaints(first: 20, filter: {near: {latitude: $lat, longitude: $lon, radiusMeters: 250}, status: [ASSIGNED]}) { totalCount edges { node { id distanceMeters } } } }",
    ),
];

async fn measure(store: &TestStore, requests: usize) -> Vec<(f64, f64)> {
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let agent = server.client(&server.token("AGENT", None, "bench-agent").await);
    let vars = json!({"lat": HERE.0, "lon": HERE.1, "ref": "REF-5000"});
    let mut out = Vec::new();
    for (_, query) in READS {
        out.push(latency(&agent, query, vars.clone(), requests).await);
    }
    server.stop().await;
    out
}

async fn run(backend: Backend, base: i64, large: i64, requests: usize) {
    let store = migrated(backend).await;
    let t = Instant::now();
    fill(&store, large - base, large, large).await;
    println!(
        "{backend:?}: {base} cases filled in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let small = measure(&store, requests).await;
    let t = Instant::now();
    fill(&store, 0, large - base, large).await;
    println!(
        "{backend:?}: grown to {large} cases in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let big = measure(&store, requests).await;
    println!(
        "\n{backend:?}: p99 ms at {base} / at {large} cases, ratio, and in baselines at {large}"
    );
    // The machine's own drift between the two runs, as the baseline saw it.
    let drift = big[0].1 / small[0].1;
    for (k, (name, _)) in READS.iter().enumerate() {
        let (s, b) = (small[k].1, big[k].1);
        println!(
            "  {name}: {s:.2} / {b:.2} ms (p50 {:.2} / {:.2}), ratio {:.2} \
             ({:.2} over the baseline's), {:.2} baselines",
            small[k].0,
            big[k].0,
            b / s,
            b / s / drift,
            b / big[0].1
        );
    }
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let base = env_number("ADUAN_BENCH_BASE_CASES", 10_000) as i64;
    let large = env_number("ADUAN_BENCH_CASES", 1_000_000) as i64;
    let requests = requests();
    for backend in stores("postgres") {
        run(backend, base, large, requests).await;
    }
}
