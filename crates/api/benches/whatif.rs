//! SLA what-if against a projection rebuild of the same log (issue 25):
//! `cargo bench -p aduan-api --bench whatif`.
//!
//! The log is 1,000 complaints seeded through the real command path (two
//! months of Makassar traffic), grown by copies to ADUAN_BENCH_EVENTS
//! (default 1,000,000) events, about a city's year. Then, in the same run and
//! each as its own `aduan` process: `aduan projections rebuild sla_timers`
//! (the projection the what-if's clocks are those of) and `aduan sla what-if`
//! over the whole period with a stricter follow-up target, `--json` to
//! /dev/null. Printed: both wall times and their ratio (the goal is <= 1.0).
//! Stores: ADUAN_BENCH_STORES (default `postgres`; `sqlite` too).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::time::Instant;

use aduan_testkit::{Backend, TestStore};

mod common;

use common::{env_number, seed, BIN};

/// The shipped policies with every follow-up target cut to 4 working hours.
fn stricter() -> std::path::PathBuf {
    let shipped = include_str!("../../../config/sla.toml");
    let policies = &shipped[shipped.find("[[policies]]").unwrap()..];
    let text = policies
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("respond =") {
                "  respond = { amount = 4, unit = \"working_hours\" }"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = std::env::temp_dir().join(format!("aduan-whatif-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `aduan args` on the store; returns its wall time in seconds and its stderr.
fn timed(store: &TestStore, args: &[&str]) -> (f64, String) {
    let started = Instant::now();
    let out = std::process::Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", &store.url)
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "aduan {args:?}: {stderr}");
    (seconds, stderr)
}

async fn bench(backend: Backend, events: i64) {
    let store = TestStore::create(backend).await;
    seed(&store, 1_000);
    let size = common::grow_to(&store, events).await;
    let (rebuild, _) = timed(&store, &["projections", "rebuild", "sla_timers"]);
    let policy = stricter();
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let from = (today - chrono::Duration::days(61)).to_string();
    let args = [
        "sla",
        "what-if",
        "--policy",
        policy.to_str().unwrap(),
        "--from",
        &from,
        "--to",
        &today.to_string(),
        "--json",
    ];
    let (whatif, said) = timed(&store, &args);
    println!(
        "| {backend:?} | {size} | {rebuild:.1} | {whatif:.1} | {:.2} | {} |",
        whatif / rebuild,
        said.trim()
    );
    let _ = std::fs::remove_file(policy);
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let events = env_number("ADUAN_BENCH_EVENTS", 1_000_000) as i64;
    let stores = std::env::var("ADUAN_BENCH_STORES").unwrap_or_else(|_| "postgres".into());
    println!("\n| store | events | rebuild sla_timers s | what-if s | ratio | what-if said |");
    println!("|---|---|---|---|---|---|");
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let name = format!("{backend:?}").to_lowercase();
        if stores.split(',').any(|s| s.trim() == name) {
            bench(backend, events).await;
        }
    }
}
