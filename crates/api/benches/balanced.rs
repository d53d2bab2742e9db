//! Commands through a real HAProxy in front of 1, 2 and 3 API processes, for
//! docs/performance.md (issue 26):
//! `cargo bench --profile dev -p aduan-api --bench balanced`.
//!
//! One fresh PostgreSQL database for the whole run; one worker process
//! (`--role worker`: projectors and the other followers) runs throughout, and
//! for each N a fresh set of N API processes (`--role api`) sits behind an
//! HAProxy configured as the rolling-restart test's (and docs/operations.md's).
//! 16 clients send `submitComplaint` with a `commandId` for
//! ADUAN_BENCH_SECONDS (default 10) per configuration, after a 1 s warm-up.
//! With one API process the same load also goes to it directly, without
//! HAProxy: the proxy's own cost.
//!
//! The baseline, on the same database in the same run, is the raw "read a
//! stream + append one event" transaction with 16 clients, measured before and
//! after each round of the four configurations (its drift shows the machine's
//! noise); a round's ratios are to the mean of the two. ADUAN_BENCH_ROUNDS
//! (default 1) repeats the rounds on the same database; the last table gives
//! each configuration's median ratio over the rounds. The clients, HAProxy and
//! every process share the machine's cores: on a machine with few cores more
//! processes add no CPU, so the figure is the cost of the proxy and of the
//! processes, not scaling.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_testkit::{Backend, GraphqlClient, HaProxy, TestServer, TestStore};

mod common;

use common::load::{create_raw, rate, raw_rate, Measured};
use common::{env_number, report, BIN, SUBMIT};

const CLIENTS: usize = 16;

/// 16 clients submitting through `client` for `seconds`, each command with a
/// fresh `commandId` (`label` keeps the configurations' ids apart).
async fn submissions(client: &GraphqlClient, seconds: u64, label: &'static str) -> Measured {
    rate(client, CLIENTS, seconds, move |worker, n| {
        let id = format!("balanced-{label}-{worker}-{n}-{}", uuid::Uuid::new_v4());
        (SUBMIT, report(Some(id)))
    })
    .await
}

/// A warm-up (connections, plan caches), then the measured submissions.
async fn measure(url: &str, token: &str, seconds: u64, label: &'static str) -> Measured {
    let client = GraphqlClient::at(&format!("{url}/graphql"), token);
    submissions(&client, 1, "warm-up").await;
    submissions(&client, seconds, label).await
}

/// `n` API processes on `url`.
async fn api_processes(url: &str, n: usize) -> Vec<TestServer> {
    let mut servers = Vec::new();
    for _ in 0..n {
        servers.push(TestServer::start(BIN, url, &[("ADUAN_ROLE", "api")]).await);
    }
    servers
}

/// Through HAProxy to `n` fresh API processes; with one, also straight to it.
async fn balanced(url: &str, token: &str, n: usize, seconds: u64) -> (Measured, Option<Measured>) {
    let servers = api_processes(url, n).await;
    let names: Vec<String> = (1..=n).map(|i| format!("api{i}")).collect();
    let backends: Vec<(&str, &str)> = names
        .iter()
        .zip(&servers)
        .map(|(name, server)| (name.as_str(), server.addr()))
        .collect();
    let proxy = HaProxy::start(&backends).await;
    const LABELS: [&str; 3] = ["proxied-1", "proxied-2", "proxied-3"];
    let through = measure(&proxy.base_url, token, seconds, LABELS[n - 1]).await;
    let direct = if n == 1 {
        Some(measure(&servers[0].base_url, token, seconds, "direct").await)
    } else {
        None
    };
    proxy.stop().await;
    for server in servers {
        let _ = server.stop().await;
    }
    (through, direct)
}

fn row(label: &str, m: &Measured, raw: f64) {
    println!(
        "| {label} | {:.0} | {:.2} | {:.1} / {:.1} |",
        m.per_second,
        m.per_second / raw,
        m.p50,
        m.p99
    );
}

/// The configurations of a round, in the order `round` measures them.
const CONFIGS: [&str; 4] = [
    "1 through HAProxy",
    "2 through HAProxy",
    "3 through HAProxy",
    "1, direct (no HAProxy)",
];

/// One round: the commands through HAProxy to 1, 2 and 3 API processes, and
/// straight to one (last), as `CONFIGS` names them.
async fn round(store: &TestStore, token: &str, seconds: u64) -> Vec<Measured> {
    let mut rows = Vec::new();
    let mut direct = None;
    for n in 1..=3 {
        let (through, alone) = balanced(&store.url, token, n, seconds).await;
        rows.push(through);
        direct = direct.or(alone);
    }
    rows.extend(direct);
    rows
}

/// Prints a round's table; returns each configuration's ratio to the raw
/// transaction (the mean of the rates before and after the round).
fn table(round: u64, rows: &[Measured], before: &Measured, after: &Measured) -> Vec<f64> {
    let raw = (before.per_second + after.per_second) / 2.0;
    println!("\n### Round {round}\n");
    println!("| API processes | commands/s | ratio to raw | p50 / p99 ms |");
    println!("|---|---|---|---|");
    for (label, m) in CONFIGS.iter().zip(rows) {
        row(label, m, raw);
    }
    row("raw transaction, before", before, raw);
    row("raw transaction, after", after, raw);
    rows.iter().map(|m| m.per_second / raw).collect()
}

/// Each configuration's median ratio over the rounds (`ratios[round][config]`).
fn medians(ratios: &[Vec<f64>]) {
    println!("\n### Median over {} rounds\n", ratios.len());
    println!("| API processes | ratio to raw | ratio to 1 direct |");
    println!("|---|---|---|");
    let median = |config: usize| {
        let mut all: Vec<f64> = ratios.iter().map(|r| r[config]).collect();
        all.sort_by(f64::total_cmp);
        all[all.len() / 2]
    };
    let direct = median(CONFIGS.len() - 1);
    for (config, label) in CONFIGS.iter().enumerate() {
        let m = median(config);
        println!("| {label} | {m:.2} | {:.2} |", m / direct);
    }
}

#[tokio::main]
async fn main() {
    let seconds = env_number("ADUAN_BENCH_SECONDS", 10);
    let rounds = env_number("ADUAN_BENCH_ROUNDS", 1).max(1);
    let store = TestStore::create(Backend::Postgres).await;
    // The worker migrates the database and follows the log the commands write.
    let worker = TestServer::start(
        BIN,
        &store.url,
        &[("ADUAN_ROLE", "worker"), ("ADUAN_WATCH", "false")],
    )
    .await;
    let token = worker.token("AGENT", None, "bench-agent").await;
    create_raw(&store).await;
    let db = store.db().await;
    println!(
        "\n## submitComplaint with commandId through HAProxy, {CLIENTS} clients, {seconds} s each"
    );
    let mut before = raw_rate(&db, CLIENTS, seconds).await;
    let mut ratios = Vec::new();
    for r in 1..=rounds {
        let rows = round(&store, &token, seconds).await;
        let after = raw_rate(&db, CLIENTS, seconds).await;
        ratios.push(table(r, &rows, &before, &after));
        before = after;
    }
    medians(&ratios);
    let _ = worker.stop().await;
    drop(db);
    store.drop_store().await;
}
