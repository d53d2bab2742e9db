//! The desk at a city's size (issue 24): `cargo bench -p aduan-api --bench desk`.
//!
//! `complaint_summary` is filled with synthetic cases (no events: these reads
//! look at the summary only): ADUAN_BENCH_CASES of them (default 200,000; the
//! issue's figure is at 1,000,000), one every 30 seconds from 2025-01-01, over
//! 20 OPDs and 400 officers (a third of cases with none), every status and
//! priority, a fifth of the clocks met, and the searchable stems of the search
//! bench (`Noise::texts`: `jalan` in 10% of cases, `drainase` in 0.5%).
//! Against the real server, measured in the same run on each store:
//! - the baseline: an indexed one-row read through the same path
//!   (`complaints` by `externalRef`), p50/p99 of ADUAN_BENCH_REQUESTS (200);
//! - an officer's queue: `complaints(filter: {assignedToMe: true}, orderBy:
//!   {field: SLA_DEADLINE}, first: 20)` with `totalCount`, p50/p99;
//! - text search, first 20 with `totalCount`, best match first: a rare word
//!   (`drainase`) and a common one (`jalanan`), p50/p99;
//! - the CSV and XLSX exports of ADUAN_BENCH_EXPORT_ROWS (100,000) rows (a
//!   created range, oldest first), in rows per second, and in rows per
//!   baseline read (rows/s times the baseline's p50).
//!
//! Every latency is also printed in baselines (its p99 over the baseline's
//! p99): the machine is shared and noisy, only the ratios carry.
//! Stores: ADUAN_BENCH_STORES (default `postgres,sqlite`).
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

const STATUSES: [&str; 7] = [
    "SUBMITTED",
    "VERIFIED",
    "ASSIGNED",
    "IN_PROGRESS",
    "WAITING_FOR_INFO",
    "IN_PROGRESS",
    "CLOSED",
];
const PRIORITIES: [&str; 4] = ["LOW", "NORMAL", "HIGH", "EMERGENCY"];

fn at(seconds: i64) -> String {
    let start = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap();
    (start + chrono::Duration::seconds(seconds))
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

/// Case `i` (from 1) as SQL values: created 30 seconds after case `i - 1`.
fn row(i: i64, noise: &mut Noise) -> String {
    let officer = match i % 3 {
        0 => "NULL".to_string(),
        _ => format!("'officer-{}'", i % 400),
    };
    let (main, more) = noise.texts();
    format!(
        "('c{i:08}', '{}', 'WEB', 'ROAD_DAMAGE', '{}', 'OPD{}', {officer}, \
         'Jalan rusak di depan rumah {i}', false, {}, 0, '{}', '{}', 1, {i}, 1, '{{}}', \
         '{}', '{}', 'REF-{i}', '{main}', '{more}')",
        STATUSES[(i % 7) as usize],
        PRIORITIES[(i % 4) as usize],
        i % 20,
        i32::from(i % 50 == 0),
        at(30 * i),
        at(30 * i + (i % 97) * 3600),
        if i % 5 == 0 { "MET" } else { "ON_TRACK" },
        at(((i * 7919) % 86_400) * 60),
    )
}

async fn fill(store: &TestStore, cases: i64) {
    let columns = "complaint_id, status, channel, category, priority, opd, officer_id, title, \
        anonymous, escalation_level, reopen_count, created_at, updated_at, version, \
        last_position, events_applied, state, sla_state, sla_deadline, external_ref, \
        search_main, search_more";
    let mut noise = Noise(7);
    insert_summary(store, columns, 1..cases + 1, |i| row(i, &mut noise)).await;
    analyze(store).await;
}

const QUEUE: &str = "{ complaints(filter: {assignedToMe: true}, orderBy: {field: SLA_DEADLINE}, \
    first: 20) { totalCount edges { node { id priority slaDeadline } } } }";
const SEARCH: &str = "query($text: String!) { complaints(first: 20, filter: {text: $text}) { \
    totalCount edges { node { id } } } }";

/// Downloads one export; its rows (lines but the header) and seconds.
async fn export(server: &TestServer, token: &str, path: &str) -> (usize, f64) {
    let client = reqwest::Client::new();
    let t = Instant::now();
    let body = client
        .get(format!("{}{path}", server.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let rows = if path.contains(".csv") {
        body.iter().filter(|b| **b == b'\n').count() - 1
    } else {
        0
    };
    (rows, secs)
}

/// The reads' p50/p99 (ms): the baseline first.
async fn reads(server: &TestServer, requests: usize) -> Vec<(&'static str, (f64, f64))> {
    let officer = server.token("OPD_OFFICER", Some("OPD7"), "officer-7").await;
    let agent = server.client(&server.token("AGENT", None, "bench-agent").await);
    let mut out = vec![(
        "baseline, one indexed row (`complaints` by externalRef)",
        latency(&agent, BASELINE, json!({"ref": "REF-5000"}), requests).await,
    )];
    out.push((
        "officer's queue by SLA deadline (assignedToMe), totalCount",
        latency(&server.client(&officer), QUEUE, json!({}), requests).await,
    ));
    for (name, text) in [
        (
            "search, rare word (`drainase`, 0.5%), totalCount",
            "drainase",
        ),
        (
            "search, common word (`jalanan`, 10%), totalCount",
            "jalanan",
        ),
    ] {
        let vars = json!({ "text": text });
        out.push((name, latency(&agent, SEARCH, vars, requests).await));
    }
    out
}

async fn run(backend: Backend, cases: i64, export_rows: i64, requests: usize) {
    let store = migrated(backend).await;
    let t = Instant::now();
    fill(&store, cases).await;
    println!(
        "{backend:?}: {cases} cases filled in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let figures = reads(&server, requests).await;
    let base = figures[0].1;
    println!("\n{backend:?}, {cases} cases, {requests} requests each (ms):");
    for (name, (p50, p99)) in &figures {
        println!(
            "  {name}: p50 {p50:.2}, p99 {p99:.2} = {:.2} baselines",
            p99 / base.1
        );
    }
    let supervisor = server.token("SUPERVISOR", None, "bench-spv").await;
    let to = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap()
        + chrono::Duration::seconds(30 * export_rows + 1);
    let filter = json!({"createdTo": to.to_rfc3339()}).to_string();
    let filter: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    for (name, extension) in [("CSV", "csv"), ("XLSX", "xlsx")] {
        let path = format!("/exports/complaints.{extension}?orderBy=CREATED&filter={filter}");
        let (rows, secs) = export(&server, &supervisor, &path).await;
        let rate = export_rows as f64 / secs;
        println!(
            "  export {name} of {export_rows} rows{}: {secs:.1} s, {rate:.0} rows/s, \
             {:.1} rows per baseline p50",
            if rows > 0 {
                format!(" ({rows} read back)")
            } else {
                String::new()
            },
            rate * base.0 / 1000.0
        );
    }
    server.stop().await;
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let cases = env_number("ADUAN_BENCH_CASES", 200_000) as i64;
    let export_rows = env_number("ADUAN_BENCH_EXPORT_ROWS", 100_000) as i64;
    let requests = requests();
    for backend in stores("postgres,sqlite") {
        run(backend, cases, export_rows, requests).await;
    }
}
