//! A subscriber that stops reading costs only itself: the others keep receiving
//! promptly, the server's memory stays bounded, and once it reads again it gets
//! every event once, in order (the live feed resumes it from the log).

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use aduan_testkit::ws::TRANSPORT_WS;

use super::*;

on_both_stores!(a_subscriber_that_stops_reading_costs_only_itself);

/// Events produced while the slow subscribers do not read: more than the live
/// feed's channel holds (2,048) plus what the kernel's socket buffers and the
/// connection's queue take (a few hundred fat notices), so the slow ones must
/// be resumed from the log.
const EVENTS_PRODUCED: usize = 3000;
/// Notes per request (aliased mutations, each on another case).
const PER_REQUEST: usize = 25;
/// The cases the notes go to.
const CASES: usize = 100;
/// Connections that stop reading: enough that buffering their notices without
/// bound would dwarf what the server's caches grow by meanwhile (~50 MiB on a
/// debug build).
const STALLED: usize = 20;
/// A notice the fast subscriber receives may come this long after the command's
/// response, on a busy two-core machine.
const PROMPT: Duration = Duration::from_secs(10);

/// A fat notice (the description 25 times over): what the stalled
/// connections would hold, were it buffered without bound, shows in the
/// server's memory, while the case itself stays small.
fn fat_notice() -> String {
    let copies: String = (0..25).map(|i| format!("d{i}: description ")).collect();
    format!(
        "subscription($after: Int) {{ complaintEvents(afterPosition: $after) {{ \
         position sequence type complaintId complaint {{ id status {copies}}} }} }}"
    )
}

/// Adds one note to each of `ids` in one request; the events' positions.
async fn note_each(client: &GraphqlClient, ids: &[String]) -> Vec<i64> {
    let fields: String = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            format!(
                "n{i}: addNote(input: {{complaintId: \"{id}\", text: \"Ditelepon.\", visibility: PUBLIC}}) {{ position }} "
            )
        })
        .collect();
    let data = client
        .ok(&format!("mutation {{ {fields}}}"), json!({}))
        .await;
    (0..ids.len())
        .map(|i| data[format!("n{i}")]["position"].as_i64().unwrap())
        .collect()
}

async fn a_subscriber_that_stops_reading_costs_only_itself(backend: Backend) {
    // Pings are far apart: a stalled client answers none, and this one is only
    // slow, not dead.
    let env = Env::start_with(backend, &[("ADUAN_WS_PING_SECONDS", "300")]).await;
    let token = env.supervisor.token.clone();
    let report = report_with(json!({"description": "Lubang besar di tengah jalan. ".repeat(10)}));
    let mut cases = Vec::new();
    while cases.len() < CASES {
        cases.extend(submit_many(&env.agent, PER_REQUEST, &report).await);
    }
    let head = log_head(&env).await;
    let base = env.server.base_url.clone();
    let fat = fat_notice();
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        // A small receive buffer: the server's writes back up after a few KiB.
        let mut ws = WsClient::connect_with(&base, TRANSPORT_WS, Some(4096)).await;
        ws.init(Some(&token)).await;
        ws.subscribe("s", &fat, json!({"after": head})).await;
        stalled.push(ws);
    }
    let mut fast = env.server.ws(Some(&token)).await;
    fast.subscribe("f", &fat, json!({"after": head})).await;
    let first = note_each(&env.agent, &cases[..1]).await[0];
    let n = fast.next_data("f").await["complaintEvents"].clone();
    assert_eq!(position(&n), first);
    let notice_bytes = n.to_string().len();
    let rss_before = env.server.rss_kib();

    // The fast subscriber reads while the commands run; it notes when each
    // event's notice arrived.
    let reader = tokio::spawn(async move {
        let mut arrivals = Vec::with_capacity(EVENTS_PRODUCED);
        while arrivals.len() < EVENTS_PRODUCED {
            let n = fast.next_data("f").await["complaintEvents"].clone();
            arrivals.push((position(&n), Instant::now()));
        }
        (fast, arrivals)
    });
    let started = Instant::now();
    let producers = 4;
    let requests = EVENTS_PRODUCED / PER_REQUEST;
    let sent: Vec<Vec<(Vec<i64>, Instant)>> = join_all((0..producers).map(|p| {
        let client = env.agent.clone();
        let cases = &cases;
        async move {
            let mut out = Vec::new();
            for r in (p..requests).step_by(producers) {
                let from = (r * PER_REQUEST) % CASES;
                let positions = note_each(&client, &cases[from..from + PER_REQUEST]).await;
                out.push((positions, Instant::now()));
            }
            out
        }
    }))
    .await;
    let produced = started.elapsed();
    let rss_during = env.server.rss_kib();
    let (fast, arrivals) = tokio::time::timeout(Duration::from_secs(120), reader)
        .await
        .expect("the fast subscriber did not receive every event within 120 s")
        .expect("the fast reader");
    let done_at: std::collections::HashMap<i64, Instant> = sent
        .into_iter()
        .flatten()
        .flat_map(|(positions, at)| positions.into_iter().map(move |p| (p, at)))
        .collect();
    assert_eq!(done_at.len(), EVENTS_PRODUCED);
    let worst = arrivals
        .iter()
        .map(|(p, at)| at.saturating_duration_since(done_at[p]))
        .max()
        .unwrap();
    // Bounded: what the stalled connections would hold unread, were it
    // buffered, is several times the growth allowed here.
    let unbounded_kib = (STALLED * EVENTS_PRODUCED * notice_bytes / 1024) as u64;
    let growth = rss_during.saturating_sub(rss_before);
    println!(
        "slow consumer on {backend:?}: {EVENTS_PRODUCED} events in {produced:?}; \
         the fast subscriber's worst delay {worst:?}; RSS {rss_before} KiB before, \
         {rss_during} KiB with {STALLED} stalled connections (unbounded buffering: \
         +{unbounded_kib} KiB)"
    );
    assert!(worst <= PROMPT, "a notice came {worst:?} after its command");
    assert!(
        growth < unbounded_kib / 4,
        "the server grew by {growth} KiB with stalled subscribers (unbounded would be ~{unbounded_kib} KiB)"
    );

    // One stalled subscriber reads again: every event once, in the order the
    // live feed gave the fast one (position order on SQLite, commit-safe order
    // on PostgreSQL).
    let mut slow = stalled.remove(0);
    for ws in stalled {
        ws.close().await;
    }
    let mut positions = Vec::with_capacity(EVENTS_PRODUCED + 1);
    while positions.len() < EVENTS_PRODUCED + 1 {
        let n = slow.next_data("s").await["complaintEvents"].clone();
        positions.push(position(&n));
    }
    assert_eq!(positions[0], first);
    let live: Vec<i64> = arrivals.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        positions[1..],
        live[..],
        "the resumed order differs from the live one"
    );
    let unique: std::collections::HashSet<i64> = positions.iter().copied().collect();
    assert_eq!(unique.len(), positions.len(), "duplicates");
    assert!(
        done_at.keys().all(|p| unique.contains(p)),
        "an event is missing"
    );
    if backend == Backend::Sqlite {
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "out of order");
    }
    // Nothing more after the last one.
    let sentinel = env.submit().await;
    assert_eq!(
        slow.next_data("s").await["complaintEvents"]["complaintId"],
        json!(sentinel)
    );
    drop(fast);
    env.finish().await;
}
