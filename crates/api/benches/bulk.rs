//! Bulk actions (docs/performance.md): 500 assignments in one `bulkAct`
//! request against the same 500 as single `assignComplaint` requests, in the
//! same run, through the real release `aduan` server on a fresh database:
//! `cargo bench -p aduan-api --bench bulk`.
//!
//! The singles are sent as a console would send them: one after another (the
//! baseline), and also from 8 clients at once (the fairest rival: as parallel
//! as the bulk request runs its items). Each round uses fresh verified cases
//! (every assignment appends one event); the figure is the median round.
//!
//! Sizes: ADUAN_BENCH_ITEMS (cases per request, default 500), ADUAN_BENCH_ROUNDS
//! (default 3), ADUAN_BENCH_STORES (`postgres`, `sqlite` or both, the default).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::time::Instant;

use futures::StreamExt;
use serde_json::json;

use aduan_testkit::{Backend, GraphqlClient, TestServer, TestStore};

mod common;

use common::{env_number, on, report, stores, ASSIGN, BIN, SUBMIT, VERIFY};

const BULK: &str = "mutation($input: BulkInput!) { bulkAct(input: $input) { \
    succeeded failed items { complaintId ok code version position } } }";

/// Clients of the parallel singles.
const CLIENTS: usize = 8;

/// `n` submitted and verified cases, ready to be assigned.
async fn verified(agent: &GraphqlClient, n: usize) -> Vec<String> {
    futures::stream::iter(0..n)
        .map(|_| async {
            let data = agent.ok(SUBMIT, report(None)).await;
            let id = data["submitComplaint"]["id"].as_str().unwrap().to_string();
            agent.ok(VERIFY, on(&id, json!({}))).await;
            id
        })
        .buffer_unordered(CLIENTS)
        .collect()
        .await
}

/// Seconds for single assignments of `ids` from `clients` clients.
async fn singles(agent: &GraphqlClient, ids: &[String], clients: usize) -> f64 {
    let started = Instant::now();
    futures::stream::iter(ids)
        .map(|id| agent.ok(ASSIGN, on(id, json!({"opd": "DPU"}))))
        .buffer_unordered(clients)
        .collect::<Vec<_>>()
        .await;
    started.elapsed().as_secs_f64()
}

/// Seconds for one `bulkAct` assigning `ids`; every item must succeed.
async fn bulk(agent: &GraphqlClient, ids: &[String], round: u64) -> f64 {
    let input = json!({"input": {
        "requestId": format!("bench-{round}"),
        "action": "ASSIGN",
        "complaintIds": ids,
        "assign": {"opd": "DPU"},
    }});
    let started = Instant::now();
    let data = agent.ok(BULK, input).await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(
        data["bulkAct"]["succeeded"],
        json!(ids.len()),
        "{}",
        data["bulkAct"]["failed"]
    );
    seconds
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn bench(backend: Backend, items: usize, rounds: u64) {
    let store = TestStore::create(backend).await;
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let agent = server.client(&server.token("AGENT", None, "bench-agent").await);
    let (mut one, mut eight, mut together) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let cases = verified(&agent, 3 * items).await;
        let (a, rest) = cases.split_at(items);
        let (b, c) = rest.split_at(items);
        one.push(singles(&agent, a, 1).await);
        eight.push(singles(&agent, b, CLIENTS).await);
        together.push(bulk(&agent, c, round).await);
    }
    let (one, eight, together) = (median(one), median(eight), median(together));
    let n = items as f64;
    println!("\n# {backend:?}: {items} assignments, median of {rounds} rounds\n");
    println!("| how | seconds | assignments/s | bulk is |");
    println!("|---|---|---|---|");
    println!("| {items} single requests, one after another (baseline) | {one:.3} | {:.0} | {:.1}x faster |", n / one, one / together);
    println!(
        "| {items} single requests, {CLIENTS} clients | {eight:.3} | {:.0} | {:.1}x faster |",
        n / eight,
        eight / together
    );
    println!(
        "| one bulkAct of {items} | {together:.3} | {:.0} | |",
        n / together
    );
    let _ = server.stop().await;
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let items = env_number("ADUAN_BENCH_ITEMS", 500) as usize;
    let rounds = env_number("ADUAN_BENCH_ROUNDS", 3).max(1);
    for backend in stores("postgres,sqlite") {
        bench(backend, items, rounds).await;
    }
}
