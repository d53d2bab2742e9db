//! The national platform's report feed, read to its end in each of the three
//! shapes the contract allows (docs/integration.md, "The report feed"): an empty
//! page giving back the cursor, `next: null`, and the last page giving back the
//! cursor it was sent. At the end the bridge asks once per poll (the
//! simulator's own request counter over a window), imports every report once
//! (with re-deliveries and shuffled pages on), and still picks up reports
//! added after the end was reached.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use aduan_testkit::TestStore;

use crate::national::{bridge_env, eventually, national_cases, start_server, Simulator};
use crate::support::*;

on_both_stores!(the_bridge_reads_each_end_of_the_feed_once_per_poll);

const SEEDED: usize = 230;
const POLL_SECONDS: f64 = 0.2;
const WINDOW: Duration = Duration::from_secs(3);

fn report(i: usize) -> Value {
    json!({
        "trackingId": format!("LPR-LATE-{i}"), "title": "Lampu jalan mati",
        "body": "Sudah seminggu", "category": "Infrastruktur",
        "location": {"lat": -5.15, "lon": 119.42}, "createdAt": "2026-03-02T01:00:00Z"
    })
}

async fn feed_requests(sim: &Simulator) -> u64 {
    sim.state().await["counters"]["feedRequests"]
        .as_u64()
        .unwrap()
}

/// The simulator's reports' tracking ids.
async fn platform_ids(sim: &Simulator) -> BTreeSet<String> {
    sim.state().await["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trackingId"].as_str().unwrap().to_string())
        .collect()
}

/// Every report is one case: no more, no fewer, none twice.
async fn one_case_each(store: &TestStore, sim: &Simulator, end: &str) {
    let cases = national_cases(store).await;
    let refs: BTreeSet<String> = cases.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(refs.len(), cases.len(), "{end}: a report imported twice");
    assert_eq!(refs, platform_ids(sim).await, "{end}");
}

/// At the end of the feed, requests over `WINDOW` stay at one per poll.
async fn asks_once_per_poll(sim: &Simulator, end: &str) -> u64 {
    let before = feed_requests(sim).await;
    tokio::time::sleep(WINDOW).await;
    let asked = feed_requests(sim).await - before;
    let polls = (WINDOW.as_secs_f64() / POLL_SECONDS).ceil() as u64;
    assert!(
        asked <= polls + 2,
        "{end}: {asked} requests in {WINDOW:?} with a poll every {POLL_SECONDS} s"
    );
    assert!(asked >= 2, "{end}: the bridge stopped polling ({asked})");
    asked
}

async fn the_bridge_reads_each_end_of_the_feed_once_per_poll(backend: Backend) {
    for end in ["empty", "null", "repeat"] {
        let seeded = SEEDED.to_string();
        let sim = Simulator::start(&[
            "--reports",
            &seeded,
            "--feed-end",
            end,
            "--duplicate-rate",
            "0.2",
            "--reorder",
            "--token",
            "rahasia-kota",
        ])
        .await;
        let store = TestStore::create(backend).await;
        let mut env = bridge_env(&sim.url);
        env.retain(|(k, _)| *k != "ADUAN_NATIONAL_POLL_SECONDS");
        env.push(("ADUAN_NATIONAL_POLL_SECONDS", POLL_SECONDS.to_string()));
        let server = start_server(&store, &env, &[("ADUAN_NATIONAL_OUTBOUND", "false")]).await;
        eventually(
            &format!("{end}: every report"),
            Duration::from_secs(60),
            || async { national_cases(&store).await.len() >= SEEDED },
        )
        .await;
        let asked = asks_once_per_poll(&sim, end).await;
        one_case_each(&store, &sim, end).await;

        // New reports after the end: picked up, once each.
        sim.post(
            "/dev/reports",
            json!({"items": (0..3).map(report).collect::<Vec<_>>()}),
        )
        .await;
        eventually(
            &format!("{end}: the late reports"),
            Duration::from_secs(30),
            || async { national_cases(&store).await.len() >= SEEDED + 3 },
        )
        .await;
        let again = asks_once_per_poll(&sim, end).await;
        one_case_each(&store, &sim, end).await;
        eprintln!(
            "{end}: {asked} then {again} feed requests per {WINDOW:?}; counters {}",
            sim.state().await["counters"]
        );
        stop_cleanly(server).await;
        sim.stop().await;
        store.drop_store().await;
    }
}
