//! Subscriptions under load (issue 11, point 5), on a fresh PostgreSQL database
//! and a fresh SQLite file against the real release `aduan` server:
//! `cargo bench -p aduan-api --bench subscriptions`.
//!
//! 1,000 `complaintEvents` subscriptions over graphql-transport-ws (five
//! connections carrying 100 each, 500 connections carrying one; filters on
//! nothing, OPD, category, kecamatan, complaintId and event types; agents,
//! supervisors, analysts and officers of five OPDs) while ~200 commands a second
//! (submissions and the follow-ups of a case's life, transfers between OPDs
//! included) run for 30 s.
//!
//! What is measured, per delivered notice, on the bench's clock: the instant
//! its message is read off the socket minus the instant the HTTP response of
//! the command that appended its event arrived (matched by position: every
//! mutation returns the case's `position`). The event committed between the
//! command's send and that response, so commit-to-delivery lies between
//! "response -> notice" and "send -> notice"; both are printed.
//!
//! Nothing lost: every subscription starts with `afterPosition` at the log's
//! head before the load, so it must receive exactly the events after it that
//! its role and filter allow. The bench derives that set from its own record of
//! the events it caused (type, the case's OPD after each, INTERNAL notes),
//! checked against the log, and its own reading of the access table; it counts
//! missing, duplicated and unexpected notices per subscription, and fails if
//! any.
//!
//! Baseline, same server, same run: the same command load with one subscriber
//! (an agent, all events) for ADUAN_BENCH_BASELINE_SECONDS. Printed as ratios.
//! Also: the server's RSS (/proc/<pid>/status) and CPU time, and the bench's own
//! CPU time (it shares the two cores).
//!
//! Sizes: ADUAN_BENCH_SECONDS (default 30), ADUAN_BENCH_RATE (commands/s,
//! default 200), ADUAN_BENCH_BASELINE_SECONDS (default 10),
//! ADUAN_BENCH_STORES (`postgres`, `sqlite` or both, the default).
//! ADUAN_BENCH_PERF=<dir>: `perf record -g` the server during the load with
//! 1,000 subscriptions, into <dir>/perf-<store>.data.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

use aduan_testkit::{Backend, TestServer, TestStore};

#[path = "../common/mod.rs"]
#[allow(dead_code)]
mod common;
mod driver;
mod proc;
mod subscribers;

use common::{env_number, BIN};
use driver::{Driver, Fact, Load, OPDS};
use subscribers::{Arrival, Filter, Outcome, Spec, Who};

/// Cases walked up to dispatch before the load; complaintId filters name them.
const PREPARED: usize = 150;

struct Tokens(HashMap<Who, String>);

impl Tokens {
    async fn mint(server: &TestServer) -> Tokens {
        let mut tokens = HashMap::new();
        for (who, role, opd) in [
            (Who::Agent, "AGENT", None),
            (Who::Supervisor, "SUPERVISOR", None),
            (Who::Analyst, "ANALYST", None),
        ]
        .into_iter()
        .chain((0..OPDS.len()).map(|o| (Who::Officer(o), "OPD_OFFICER", Some(OPDS[o]))))
        {
            let token = server.token(role, opd, &format!("sub-{who:?}")).await;
            tokens.insert(who, token);
        }
        Tokens(tokens)
    }
}

/// One subscription's count against its expected set.
#[derive(Default, Clone, Copy)]
struct Tally {
    subscriptions: usize,
    expected: usize,
    delivered: usize,
    missing: usize,
    duplicated: usize,
    unexpected: usize,
    /// Notices that came after one of a higher position (allowed: the log's
    /// commit-safe order; counted for information).
    reordered: usize,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.subscriptions += other.subscriptions;
        self.expected += other.expected;
        self.delivered += other.delivered;
        self.missing += other.missing;
        self.duplicated += other.duplicated;
        self.unexpected += other.unexpected;
        self.reordered += other.reordered;
    }

    fn lost_nothing(&self) -> bool {
        self.missing == 0 && self.duplicated == 0 && self.unexpected == 0
    }
}

/// Sorted milliseconds.
struct Spread(Vec<f64>);

impl Spread {
    fn new(mut v: Vec<f64>) -> Spread {
        v.sort_by(f64::total_cmp);
        Spread(v)
    }

    fn at(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        self.0[((self.0.len() as f64 * q) as usize).min(self.0.len() - 1)]
    }

    fn p50_p99_max(&self) -> String {
        format!(
            "{:.1} / {:.1} / {:.1}",
            self.at(0.5),
            self.at(0.99),
            self.at(1.0)
        )
    }
}

/// `to - from` in milliseconds, negative when `to` came first.
fn ms(from: Instant, to: Instant) -> f64 {
    match to.checked_duration_since(from) {
        Some(d) => d.as_secs_f64() * 1000.0,
        None => -((from - to).as_secs_f64() * 1000.0),
    }
}

struct Measured {
    load: Load,
    subscriptions: usize,
    connections: usize,
    /// By filter kind, and the total under "all".
    tallies: Vec<(&'static str, Tally, Spread)>,
    from_response: Spread,
    from_send: Spread,
    problems: Vec<String>,
    server_cpu: f64,
    /// Seconds per second the server's threads were runnable but had no CPU.
    server_waited: f64,
    /// /proc/loadavg at the end of the load.
    machine_load: String,
    bench_cpu: f64,
    memory: Vec<(&'static str, proc::Memory)>,
    /// Seconds from the last command's response until the last notice.
    drained: f64,
}

async fn active_subscriptions(server: &TestServer) -> f64 {
    let text = server.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("aduan_subscriptions_active "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Opens `mix`'s connections, runs the load, waits for every notice, closes.
/// The server under test and what drives it.
struct Rig {
    server: TestServer,
    store: TestStore,
    driver: Arc<Driver>,
    tokens: Tokens,
}

/// A load phase: the subscriptions, commands/s, seconds, and where to write a
/// `perf` profile of the server, if anywhere.
struct Phase {
    mix: Vec<Vec<Spec>>,
    rate: f64,
    seconds: u64,
    profile: Option<String>,
}

async fn measure(rig: &Rig, phase: Phase) -> Measured {
    let Rig {
        server,
        store,
        driver,
        tokens,
    } = rig;
    let Phase {
        mix,
        rate,
        seconds,
        profile,
    } = phase;
    let pid = server.pid().expect("the server runs");
    let mut memory = vec![("before subscribing", proc::memory(pid))];
    let after = store
        .scalar("SELECT coalesce(max(position), 0) FROM events")
        .await;
    let url = format!("{}/graphql", server.base_url.replacen("http", "ws", 1));
    let received = Arc::new(AtomicU64::new(0));
    let mut specs = Vec::new();
    let mut plans = Vec::new();
    for connection in mix {
        let who = connection[0].who;
        assert!(
            connection.iter().all(|s| s.who == who),
            "one token a connection"
        );
        let mut subscriptions = Vec::new();
        for spec in connection {
            subscriptions.push((specs.len(), spec.clone()));
            specs.push(spec);
        }
        plans.push((tokens.0[&who].clone(), subscriptions));
    }
    let connections: Vec<_> = futures::stream::iter(plans)
        .map(|(token, subscriptions)| {
            subscribers::open(url.clone(), token, subscriptions, after, received.clone())
        })
        .buffer_unordered(50)
        .collect()
        .await;
    // Each subscription first reads the log after `after` (nothing yet), then
    // goes live: let them all get there before the load starts.
    let deadline = Instant::now() + Duration::from_secs(60);
    while active_subscriptions(server).await < specs.len() as f64 {
        assert!(
            Instant::now() < deadline,
            "subscriptions not active within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    memory.push(("subscribed, idle", proc::memory(pid)));

    let perf = profile.map(|path| proc::Perf::record(pid, &path));
    let (server_cpu0, bench_cpu0) = (proc::cpu_seconds(pid), proc::cpu_seconds(0));
    let waited0 = proc::run_queue_seconds(pid);
    let load = driver.run(rate, seconds).await;
    let server_cpu = (proc::cpu_seconds(pid) - server_cpu0) / load.seconds;
    let bench_cpu = (proc::cpu_seconds(0) - bench_cpu0) / load.seconds;
    let server_waited = (proc::run_queue_seconds(pid) - waited0) / load.seconds;
    let machine_load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    if let Some(perf) = perf {
        perf.stop();
    }
    memory.push(("end of the load", proc::memory(pid)));
    let load_done = Instant::now();

    let facts = checked_facts(store, driver, after).await;
    let expected: Vec<Vec<i64>> = specs
        .iter()
        .map(|spec| {
            let mut positions: Vec<i64> = (facts.iter())
                .filter(|(_, f)| spec.expects(f))
                .map(|(p, _)| *p)
                .collect();
            positions.sort_unstable();
            positions
        })
        .collect();
    let total: u64 = expected.iter().map(|e| e.len() as u64).sum();
    // Every expected notice, then a moment more for any duplicate or stray one.
    let deadline = Instant::now() + Duration::from_secs(120);
    while received.load(Ordering::Relaxed) < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = load_done.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut outcomes = Vec::new();
    let connection_count = connections.len();
    for connection in connections {
        outcomes.push(connection.close().await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    memory.push(("all closed", proc::memory(pid)));

    let Outcome { arrivals, problems } =
        outcomes.into_iter().fold(Outcome::default(), |mut all, o| {
            all.arrivals.extend(o.arrivals);
            all.problems.extend(o.problems);
            all
        });
    let timings = driver.timings();
    let mut from_response = Vec::new();
    let mut from_send = Vec::new();
    let mut by_kind: HashMap<&'static str, (Tally, Vec<f64>)> = HashMap::new();
    let mut per_subscription: Vec<Vec<&Arrival>> = vec![Vec::new(); specs.len()];
    for a in &arrivals {
        per_subscription[a.subscription].push(a);
    }
    for (index, got) in per_subscription.iter().enumerate() {
        let (tally, latencies) = by_kind.entry(specs[index].filter.kind()).or_default();
        let want = &expected[index];
        let t = tally_of(want, got);
        tally.add(&t);
        for a in got {
            if let Some(timing) = timings.get(&a.position) {
                let r = ms(timing.answered, a.at);
                latencies.push(r);
                from_response.push(r);
                from_send.push(ms(timing.sent, a.at));
            }
        }
    }
    let mut tallies: Vec<_> = by_kind
        .into_iter()
        .map(|(kind, (tally, l))| (kind, tally, Spread::new(l)))
        .collect();
    tallies.sort_by_key(|(kind, _, _)| *kind);
    let mut all = Tally::default();
    for (_, t, _) in &tallies {
        all.add(t);
    }
    tallies.push(("all", all, Spread::new(from_response.clone())));
    Measured {
        load,
        subscriptions: specs.len(),
        connections: connection_count,
        tallies,
        from_response: Spread::new(from_response),
        from_send: Spread::new(from_send),
        problems,
        server_cpu,
        server_waited,
        machine_load,
        bench_cpu,
        memory,
        drained,
    }
}

fn tally_of(want: &[i64], got: &[&Arrival]) -> Tally {
    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut reordered = 0;
    let mut highest = i64::MIN;
    for a in got {
        *seen.entry(a.position).or_default() += 1;
        if a.position < highest {
            reordered += 1;
        }
        highest = highest.max(a.position);
    }
    let wanted: std::collections::HashSet<i64> = want.iter().copied().collect();
    Tally {
        subscriptions: 1,
        expected: want.len(),
        delivered: got.len(),
        missing: want.iter().filter(|p| !seen.contains_key(p)).count(),
        duplicated: seen.values().map(|n| n - 1).sum(),
        unexpected: seen.keys().filter(|p| !wanted.contains(p)).count(),
        reordered,
    }
}

/// The bench's record of the events after `after`, once the log agrees with
/// it event for event (position, case, type): nothing else was appended.
async fn checked_facts(store: &TestStore, driver: &Driver, after: i64) -> Vec<(i64, Fact)> {
    let facts = driver.facts();
    let log = store
        .texts(&format!(
            "SELECT position || ' ' || aggregate_id || ' ' || event_type FROM events \
             WHERE position > {after} ORDER BY position"
        ))
        .await;
    let mut checked = Vec::new();
    for row in &log {
        let mut parts = row.split(' ');
        let position: i64 = parts.next().unwrap().parse().unwrap();
        let (id, event_type) = (parts.next().unwrap(), parts.next().unwrap());
        let fact = facts
            .get(&position)
            .unwrap_or_else(|| panic!("the log holds an event the bench did not cause: {row}"));
        assert!(
            fact.complaint == id && fact.event_type == event_type,
            "position {position}: the log holds {id} {event_type}, the bench recorded {fact:?}"
        );
        checked.push((position, fact.clone()));
    }
    let recorded = facts.keys().filter(|p| **p > after).count();
    assert_eq!(
        recorded,
        checked.len(),
        "acknowledged events missing from the log"
    );
    checked
}

fn print(backend: Backend, baseline: &Measured, full: &Measured) {
    println!("\n# {backend:?}\n");
    println!(
        "{} subscriptions on {} connections; baseline: {} subscription.\n",
        full.subscriptions, full.connections, baseline.subscriptions
    );
    let rate = |m: &Measured| m.load.commands as f64 / m.load.seconds;
    let notices = |m: &Measured| m.tallies.last().unwrap().1.delivered;
    let http = |m: &Measured| Spread(m.load.http_ms.clone());
    println!(
        "| | baseline (1 subscriber) | {} subscriptions | ratio |",
        full.subscriptions
    );
    println!("|---|---|---|---|");
    println!(
        "| commands | {} in {:.1} s ({:.0}/s) | {} in {:.1} s ({:.0}/s) | |",
        baseline.load.commands,
        baseline.load.seconds,
        rate(baseline),
        full.load.commands,
        full.load.seconds,
        rate(full)
    );
    println!(
        "| notices delivered | {} ({:.0}/s) | {} ({:.0}/s) | |",
        notices(baseline),
        notices(baseline) as f64 / baseline.load.seconds,
        notices(full),
        notices(full) as f64 / full.load.seconds
    );
    let row = |name: &str, a: &Spread, b: &Spread| {
        println!(
            "| {name} p50 / p99 / max ms | {} | {} | p99 {:.2} |",
            a.p50_p99_max(),
            b.p50_p99_max(),
            b.at(0.99) / a.at(0.99)
        );
    };
    row("command HTTP round trip", &http(baseline), &http(full));
    row(
        "command response -> notice",
        &baseline.from_response,
        &full.from_response,
    );
    row(
        "command sent -> notice",
        &baseline.from_send,
        &full.from_send,
    );
    println!(
        "| last notice after the last response | {:.2} s | {:.2} s | |",
        baseline.drained, full.drained
    );
    println!(
        "| server CPU (cores) | {:.2} | {:.2} | {:.2} |",
        baseline.server_cpu,
        full.server_cpu,
        full.server_cpu / baseline.server_cpu
    );
    println!(
        "| server threads runnable without a CPU (s/s) | {:.2} | {:.2} | |",
        baseline.server_waited, full.server_waited
    );
    println!(
        "| bench client CPU (cores) | {:.2} | {:.2} | |",
        baseline.bench_cpu, full.bench_cpu
    );
    println!(
        "| machine load average at the end (1, 5, 15 min) | {} | {} | |",
        baseline
            .machine_load
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        full.machine_load
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    println!("\nServer memory (MiB, /proc/<pid>/status):\n");
    println!("| when | VmRSS | VmHWM (peak so far) |");
    println!("|---|---|---|");
    for (m, phase) in [(baseline, "baseline"), (full, "1,000")] {
        for (when, mem) in &m.memory {
            println!(
                "| {phase}: {when} | {:.1} | {:.1} |",
                mem.rss_kib as f64 / 1024.0,
                mem.peak_kib as f64 / 1024.0
            );
        }
    }

    println!(
        "\nNotices against the expected set, by filter ({} subscriptions):\n",
        full.subscriptions
    );
    println!("| filter | subscriptions | expected | delivered | missing | duplicated | unexpected | out of position order | response -> notice p50 / p99 / max ms |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (kind, t, latency) in &full.tallies {
        println!(
            "| {kind} | {} | {} | {} | {} | {} | {} | {} | {} |",
            t.subscriptions,
            t.expected,
            t.delivered,
            t.missing,
            t.duplicated,
            t.unexpected,
            t.reordered,
            latency.p50_p99_max()
        );
    }
    for m in [baseline, full] {
        for p in m.problems.iter().take(10) {
            println!("\nproblem: {p}");
        }
    }
}

async fn bench(backend: Backend, rate: f64, seconds: u64, baseline_seconds: u64) -> bool {
    let store = TestStore::create(backend).await;
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let driver = Driver::new(&server).await;
    let tokens = Tokens::mint(&server).await;
    let rig = Rig {
        server,
        store,
        driver,
        tokens,
    };
    let one = Phase {
        mix: vec![vec![Spec {
            who: Who::Agent,
            filter: Filter::All,
        }]],
        rate,
        seconds: baseline_seconds,
        profile: None,
    };
    let baseline = measure(&rig, one).await;
    // Dispatched just before the load, so that it moves them on: complaintId
    // filters name them.
    let cases = rig.driver.prepare(PREPARED).await;
    let name = format!("{backend:?}").to_lowercase();
    let thousand = Phase {
        mix: subscribers::mix(&cases),
        rate,
        seconds,
        profile: std::env::var("ADUAN_BENCH_PERF")
            .ok()
            .map(|dir| format!("{dir}/perf-{name}.data")),
    };
    let full = measure(&rig, thousand).await;
    print(backend, &baseline, &full);
    let _ = rig.server.stop().await;
    rig.store.drop_store().await;
    [&baseline, &full]
        .iter()
        .all(|m| m.tallies.last().unwrap().1.lost_nothing() && m.problems.is_empty())
}

#[tokio::main]
async fn main() {
    let seconds = env_number("ADUAN_BENCH_SECONDS", 30);
    let rate = env_number("ADUAN_BENCH_RATE", 200) as f64;
    let baseline_seconds = env_number("ADUAN_BENCH_BASELINE_SECONDS", 10);
    let stores = std::env::var("ADUAN_BENCH_STORES").unwrap_or_default();
    let mut exact = true;
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let name = format!("{backend:?}").to_lowercase();
        if stores.is_empty() || stores.split(',').any(|s| s.trim() == name) {
            exact &= bench(backend, rate, seconds, baseline_seconds).await;
        }
    }
    assert!(
        exact,
        "a subscriber missed, repeated or wrongly received a notice, or saw an error (above)"
    );
}
