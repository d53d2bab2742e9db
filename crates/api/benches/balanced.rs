//! Commands through a real HAProxy in front of 1, 2 and 3 API processes, for
//! docs/performance.md (issue 26):
//! `cargo bench --profile dev -p aduan-api --bench balanced`.
//!
//! One fresh PostgreSQL database for the whole run; one worker process
//! (`--role worker`: projectors and the other followers) runs throughout, and
//! for each N a fresh set of N API processes (`--role api`) sits behind an
//! HAProxy configured as the rolling-restart test's (and docs/operations.md's).
//! 16 clients send `submitComplaint` with a `commandId` for
//! ADUAN_BENCH_SECONDS (default 10) per configuration, after a 1 s warm-up
//! and once the worker's projectors have caught up (so none inherits the
//! previous configuration's backlog).
//! With one API process the same load also goes to it directly, without
//! HAProxy: the proxy's own cost. Beside the rates, the CPU time (user +
//! system, from /proc) the API processes, HAProxy, the worker and the bench's
//! own clients spent per command while measured: a cost the other loads on a
//! shared machine do not blur (PostgreSQL's is not counted).
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

use common::load::{caught_up, create_raw, rate, raw_rate, Measured};
use common::{env_number, report, BIN, SUBMIT};

const CLIENTS: usize = 16;

/// The configurations of a round, in the order `round` measures them.
const CONFIGS: [&str; 4] = [
    "1 through HAProxy",
    "2 through HAProxy",
    "3 through HAProxy",
    "1, direct (no HAProxy)",
];

/// Whose CPU time a row shows, per command: the API processes, HAProxy, the
/// worker and this bench's clients.
const CPU: [&str; 4] = ["API processes", "HAProxy", "worker", "clients"];

/// One configuration's load, and the CPU milliseconds per command of each of
/// `CPU` (NaN for HAProxy when it is not in the path).
struct Row {
    load: Measured,
    cpu: Vec<f64>,
}

/// The kernel's clock ticks per second (the unit of /proc/PID/stat's times).
fn clock_ticks() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf CLK_TCK");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// CPU time (user + system, all threads) `pids` have used so far, in ms.
fn cpu_ms(pids: &[u32], ticks: f64) -> f64 {
    if pids.is_empty() {
        return f64::NAN;
    }
    pids.iter()
        .map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_else(|e| panic!("read /proc/{pid}/stat: {e}"));
            // The fields after the command name: utime and stime are the
            // 12th and 13th.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            let used: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
            used * 1000.0 / ticks
        })
        .sum()
}

/// 16 clients submitting through `client` for `seconds`, each command with a
/// fresh `commandId` (`label` keeps the configurations' ids apart).
async fn submissions(client: &GraphqlClient, seconds: u64, label: &'static str) -> Measured {
    rate(client, CLIENTS, seconds, move |worker, n| {
        let id = format!("balanced-{label}-{worker}-{n}-{}", uuid::Uuid::new_v4());
        (SUBMIT, report(Some(id)))
    })
    .await
}

/// What every configuration runs against: the database, the agent's and a
/// supervisor's tokens, the worker process's id.
struct Setup<'a> {
    store: &'a TestStore,
    agent: String,
    supervisor: String,
    worker: u32,
}

/// A warm-up (connections, plan caches), then the measured submissions to
/// `url`; `pids` are the processes of each of `CPU`. Each side of the
/// measured load waits for the worker's projectors to catch up, so no
/// configuration inherits another's backlog and the worker's CPU counts the
/// projection of exactly the measured commands.
async fn measure(setup: &Setup<'_>, url: &str, label: &'static str, pids: &[Vec<u32>]) -> Row {
    let (seconds, ticks) = (env_number("ADUAN_BENCH_SECONDS", 10), clock_ticks());
    let url = format!("{url}/graphql");
    let (client, supervisor) = (
        GraphqlClient::at(&url, &setup.agent),
        GraphqlClient::at(&url, &setup.supervisor),
    );
    submissions(&client, 1, "warm-up").await;
    caught_up(setup.store, &supervisor).await;
    let before: Vec<f64> = pids.iter().map(|p| cpu_ms(p, ticks)).collect();
    let load = submissions(&client, seconds, label).await;
    caught_up(setup.store, &supervisor).await;
    let cpu = pids
        .iter()
        .zip(before)
        .map(|(p, before)| (cpu_ms(p, ticks) - before) / load.count as f64)
        .collect();
    Row { load, cpu }
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
async fn balanced(setup: &Setup<'_>, n: usize) -> (Row, Option<Row>) {
    let servers = api_processes(&setup.store.url, n).await;
    let names: Vec<String> = (1..=n).map(|i| format!("api{i}")).collect();
    let backends: Vec<(&str, &str)> = names
        .iter()
        .zip(&servers)
        .map(|(name, server)| (name.as_str(), server.addr()))
        .collect();
    let proxy = HaProxy::start(&backends).await;
    let api: Vec<u32> = servers.iter().map(|s| s.pid().unwrap()).collect();
    let (worker, clients) = (vec![setup.worker], vec![std::process::id()]);
    let mut pids = vec![api, proxy.pid().into_iter().collect(), worker, clients];
    const LABELS: [&str; 3] = ["proxied-1", "proxied-2", "proxied-3"];
    let through = measure(setup, &proxy.base_url, LABELS[n - 1], &pids).await;
    let direct = if n == 1 {
        pids[1].clear();
        Some(measure(setup, &servers[0].base_url, "direct", &pids).await)
    } else {
        None
    };
    proxy.stop().await;
    for server in servers {
        let _ = server.stop().await;
    }
    (through, direct)
}

/// One round: the commands through HAProxy to 1, 2 and 3 API processes, and
/// straight to one (last), as `CONFIGS` names them.
async fn round(setup: &Setup<'_>) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut direct = None;
    for n in 1..=3 {
        let (through, alone) = balanced(setup, n).await;
        rows.push(through);
        direct = direct.or(alone);
    }
    rows.extend(direct);
    rows
}

fn line(label: &str, m: &Measured, raw: f64, cpu: &str) {
    println!(
        "| {label} | {:.0} | {:.2} | {:.1} / {:.1} | {cpu} |",
        m.per_second,
        m.per_second / raw,
        m.p50,
        m.p99
    );
}

/// CPU milliseconds per command, "-" where NaN (HAProxy not in the path).
fn cpu_cells(cpu: &[f64]) -> String {
    let cells: Vec<String> = cpu
        .iter()
        .map(|ms| match ms.is_nan() {
            true => "-".to_string(),
            false => format!("{ms:.2}"),
        })
        .collect();
    cells.join(" | ")
}

/// The header of a table whose last columns are `CPU`'s.
fn header(columns: &[&str]) {
    let cpu: Vec<String> = CPU.iter().map(|c| format!("CPU ms/command: {c}")).collect();
    println!("| {} | {} |", columns.join(" | "), cpu.join(" | "));
    println!("|{}", "---|".repeat(columns.len() + CPU.len()));
}

/// Prints a round's table; returns each configuration's ratio to the raw
/// transaction (the mean of the rates before and after the round).
fn table(round: u64, rows: &[Row], before: &Measured, after: &Measured) -> Vec<f64> {
    let raw = (before.per_second + after.per_second) / 2.0;
    println!("\n### Round {round}\n");
    header(&[
        "API processes",
        "commands/s",
        "ratio to raw",
        "p50 / p99 ms",
    ]);
    for (label, r) in CONFIGS.iter().zip(rows) {
        line(label, &r.load, raw, &cpu_cells(&r.cpu));
    }
    let none = cpu_cells(&[f64::NAN; CPU.len()]);
    line("raw transaction, before", before, raw, &none);
    line("raw transaction, after", after, raw, &none);
    rows.iter().map(|r| r.load.per_second / raw).collect()
}

fn median(mut all: Vec<f64>) -> f64 {
    all.sort_by(f64::total_cmp);
    all[all.len() / 2]
}

/// Medians over the rounds of each configuration (`rows[round][config]`,
/// `ratios` alike) and of the raw transaction (`raws`, between the rounds):
/// rates, ratios to the raw transaction, latencies, CPU per command.
fn medians(ratios: &[Vec<f64>], rows: &[Vec<Row>], raws: &[Measured]) {
    println!("\n### Median over {} rounds\n", ratios.len());
    header(&[
        "API processes",
        "commands/s",
        "ratio to raw",
        "ratio to 1 direct",
        "p50 / p99 ms",
    ]);
    let of = |config: usize, f: &dyn Fn(&Row) -> f64| {
        median(rows.iter().map(|r| f(&r[config])).collect())
    };
    let ratio = |config: usize| median(ratios.iter().map(|r| r[config]).collect());
    let direct = ratio(CONFIGS.len() - 1);
    for (config, label) in CONFIGS.iter().enumerate() {
        let cpu: Vec<f64> = (0..CPU.len()).map(|c| of(config, &|r| r.cpu[c])).collect();
        let m = ratio(config);
        println!(
            "| {label} | {:.0} | {m:.2} | {:.2} | {:.1} / {:.1} | {} |",
            of(config, &|r| r.load.per_second),
            m / direct,
            of(config, &|r| r.load.p50),
            of(config, &|r| r.load.p99),
            cpu_cells(&cpu)
        );
    }
    let raw = |f: &dyn Fn(&Measured) -> f64| median(raws.iter().map(f).collect());
    println!(
        "| raw transaction ({} runs) | {:.0} | 1 | - | {:.1} / {:.1} | {} |",
        raws.len(),
        raw(&|m| m.per_second),
        raw(&|m| m.p50),
        raw(&|m| m.p99),
        cpu_cells(&[f64::NAN; CPU.len()])
    );
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
    let setup = Setup {
        store: &store,
        agent: worker.token("AGENT", None, "bench-agent").await,
        supervisor: worker.token("SUPERVISOR", None, "bench-spv").await,
        worker: worker.pid().unwrap(),
    };
    create_raw(&store).await;
    let db = store.db().await;
    println!(
        "\n## submitComplaint with commandId through HAProxy, {CLIENTS} clients, {seconds} s each"
    );
    let mut raws = vec![raw_rate(&db, CLIENTS, seconds).await];
    let (mut ratios, mut all) = (Vec::new(), Vec::new());
    for r in 1..=rounds {
        let rows = round(&setup).await;
        raws.push(raw_rate(&db, CLIENTS, seconds).await);
        let [.., before, after] = &raws[..] else {
            unreachable!("a rate before and after each round")
        };
        ratios.push(table(r, &rows, before, after));
        all.push(rows);
    }
    medians(&ratios, &all, &raws);
    let _ = worker.stop().await;
    drop(db);
    store.drop_store().await;
}
