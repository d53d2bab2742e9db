//! The desk at a city's size (issue 24): `cargo bench -p aduan-api --bench desk`.
//!
//! `complaint_summary` on PostgreSQL is filled with synthetic cases by one
//! `generate_series` insert (no events: these reads look at the summary only):
//! ADUAN_BENCH_CASES of them (default 200,000, about two minutes here; the issue's
//! figure is at 1,000,000), over 20 OPDs and 400 officers (a third of cases
//! with none), every status and priority, a fifth of the clocks met. Against the
//! real server, measured in the same run:
//! - the baseline: an indexed one-row read through the same path
//!   (`complaints` by `externalRef`), p50/p99 of ADUAN_BENCH_REQUESTS (200);
//! - an officer's queue: `complaints(filter: {assignedToMe: true}, orderBy:
//!   {field: SLA_DEADLINE}, first: 20)` with `totalCount`, p50/p99;
//! - the CSV and XLSX exports of ADUAN_BENCH_EXPORT_ROWS (100,000) rows (a
//!   created range), in rows per second, and in baselines (how many baseline
//!   reads one exported row costs, inverted: rows per baseline read time).
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

/// One row every 30 seconds from 2025-01-01: 100,000 rows are 34.7 days.
const FILL: &str = "INSERT INTO complaint_summary (complaint_id, status, channel, category, \
    priority, opd, officer_id, title, anonymous, escalation_level, reopen_count, created_at, \
    updated_at, version, last_position, events_applied, state, sla_state, sla_deadline, \
    external_ref) \
    SELECT 'c' || lpad(i::text, 8, '0'), \
    (ARRAY['SUBMITTED','VERIFIED','ASSIGNED','IN_PROGRESS','WAITING_FOR_INFO','IN_PROGRESS','CLOSED'])[1 + i % 7], \
    'WEB', 'ROAD_DAMAGE', (ARRAY['LOW','NORMAL','HIGH','EMERGENCY'])[1 + i % 4], \
    'OPD' || (i % 20), CASE WHEN i % 3 = 0 THEN NULL ELSE 'officer-' || (i % 400) END, \
    'Jalan rusak di depan rumah ' || i, false, (i % 50 = 0)::int, 0, \
    timestamptz '2025-01-01' + i * interval '30 seconds', \
    timestamptz '2025-01-01' + i * interval '30 seconds' + (i % 97) * interval '1 hour', \
    1, i, 1, '{}'::jsonb, CASE WHEN i % 5 = 0 THEN 'MET' ELSE 'ON_TRACK' END, \
    timestamptz '2025-01-01' + ((i * 7919) % 86400) * interval '1 minute', 'REF-' || i \
    FROM generate_series(1, {n}) AS i";

const BASELINE: &str =
    "query($ref: String!) { complaints(first: 1, filter: {externalRef: [$ref]}) { edges { node { id } } } }";
const QUEUE: &str = "{ complaints(filter: {assignedToMe: true}, orderBy: {field: SLA_DEADLINE}, \
    first: 20) { totalCount edges { node { id priority slaDeadline } } } }";

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

#[tokio::main]
async fn main() {
    let cases = env_number("ADUAN_BENCH_CASES", 200_000) as i64;
    let export_rows = env_number("ADUAN_BENCH_EXPORT_ROWS", 100_000) as i64;
    let requests = env_number("ADUAN_BENCH_REQUESTS", 200) as usize;
    let store = TestStore::create(Backend::Postgres).await;
    TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")])
        .await
        .stop()
        .await;
    let t = Instant::now();
    store
        .exec(&FILL.replace("{n}", &cases.to_string()))
        .await
        .unwrap();
    store.exec("ANALYZE complaint_summary").await.unwrap();
    println!("{cases} cases filled in {:.1} s", t.elapsed().as_secs_f64());
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let officer = server.token("OPD_OFFICER", Some("OPD7"), "officer-7").await;
    let agent = server.client(&server.token("AGENT", None, "bench-agent").await);
    let base = latency(&agent, BASELINE, json!({"ref": "REF-5000"}), requests).await;
    let queue = latency(&server.client(&officer), QUEUE, json!({}), requests).await;
    println!("\nPostgreSQL, {cases} cases, {requests} requests each (ms):");
    println!(
        "  baseline, one indexed row: p50 {:.2}, p99 {:.2}",
        base.0, base.1
    );
    println!(
        "  officer's queue by SLA deadline (assignedToMe): p50 {:.2}, p99 {:.2} = {:.2} baselines",
        queue.0,
        queue.1,
        queue.1 / base.1
    );
    let supervisor = server.token("SUPERVISOR", None, "bench-spv").await;
    let to = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap()
        + chrono::Duration::seconds(30 * export_rows + 1);
    let filter = json!({"createdTo": to.to_rfc3339()}).to_string();
    let filter: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    for (name, path) in [
        (
            "CSV",
            format!("/exports/complaints.csv?orderBy=CREATED&filter={filter}"),
        ),
        (
            "XLSX",
            format!("/exports/complaints.xlsx?orderBy=CREATED&filter={filter}"),
        ),
    ] {
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
