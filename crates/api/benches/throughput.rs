//! The command figures of docs/performance.md, measured in one run on fresh
//! databases, PostgreSQL and SQLite, against the real release `aduan` server:
//! `cargo bench -p aduan-api --bench throughput` (reads and rebuilds: the `reads`
//! bench).
//!
//! Every rate is printed next to a baseline measured in the same run on the same
//! database: the raw "read a stream + append one event" transaction a hand-written
//! event store would run, with the same number of clients. Shared machines are
//! noisy; only the ratio carries from one machine to another.
//!
//! 1. Submissions and follow-up commands (respond, note) at 1, 4 and 16 clients.
//! 2. The hot case: 16 clients adding notes to one complaint, against the same
//!    load spread over 16; a command on a complaint of 5,000 events.
//! 3. Tails as history grows (issue 26 point 8): command and read latency with
//!    10,000 and with 1,000,000 events (and as many command ids), the
//!    projectors caught up, then a quiet minute.
//!
//! Sizes: ADUAN_BENCH_SECONDS (per load level, default 5; the hot case runs 6x
//! as long), ADUAN_BENCH_EVENTS (the large log, default 1,000,000),
//! ADUAN_BENCH_STORES (`postgres`, `sqlite` or both, the default),
//! ADUAN_BENCH_PARTS (`rates`, `hot`, `history` or all, the default),
//! ADUAN_BENCH_LATENCY_REQUESTS (per command and size in part 3, default 1,000),
//! ADUAN_BENCH_LIST_REQUESTS (per read and size in part 3, default 300)
//! and ADUAN_BENCH_QUIET (seconds of quiet after the projectors caught up,
//! before part 3 measures, default 60: issue 26's protocol). ADUAN_BENCH_KEEP
//! (set: part 3 keeps its grown database and prints its URL) and
//! ADUAN_BENCH_REUSE (a kept database's URL: part 3 measures it as it stands,
//! again, without seeding or growing) are for profiling the large log;
//! `ADUAN_BENCH_SERVER_LOG=PATH` traces the servers' write turns
//! (`aduan_store::write_turn`) and writes each one's log to `PATH.<label>`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use aduan_testkit::{Backend, GraphqlClient, TestServer, TestStore};

mod common;

use common::load::{caught_up, create_raw, rate, raw_rate};
use common::{env_number, on, report, seed, stores, ASSIGN, BIN, SUBMIT, VERIFY};

const RESPOND: &str =
    "mutation($input: RespondToComplaintInput!) { respondToComplaint(input: $input) { version } }";
const NOTE: &str = "mutation($input: AddNoteInput!) { addNote(input: $input) { version } }";
const ESCALATE: &str =
    "mutation($input: EscalateComplaintInput!) { escalateComplaint(input: $input) { version } }";

fn note(id: &str, n: u64) -> Value {
    on(
        id,
        json!({"text": format!("Ditelepon warga, catatan {n}"), "visibility": "INTERNAL"}),
    )
}

struct Cast {
    agent: GraphqlClient,
    officer: GraphqlClient,
    supervisor: GraphqlClient,
}

impl Cast {
    async fn new(server: &TestServer) -> Cast {
        Cast {
            agent: server.client(&server.token("AGENT", None, "bench-agent").await),
            officer: server.client(&server.token("OPD_OFFICER", Some("DPU"), "bench-dpu").await),
            supervisor: server.client(&server.token("SUPERVISOR", None, "bench-spv").await),
        }
    }

    /// A complaint dispatched to DPU, ready for replies and notes.
    async fn assigned(&self) -> String {
        let data = self.agent.ok(SUBMIT, report(None)).await;
        let id = data["submitComplaint"]["id"].as_str().unwrap().to_string();
        self.agent.ok(VERIFY, on(&id, json!({}))).await;
        self.agent.ok(ASSIGN, on(&id, json!({"opd": "DPU"}))).await;
        id
    }
}

fn pick(ids: &Arc<Vec<String>>, worker: usize, n: u64) -> &str {
    &ids[(worker * 7919 + n as usize * 104_729) % ids.len()]
}

async fn command_rates(store: &TestStore, cast: &Cast, seconds: u64) {
    let db = store.db().await;
    create_raw(store).await;
    let mut ids = Vec::new();
    for _ in 0..64 {
        ids.push(cast.assigned().await);
    }
    let ids = Arc::new(ids);
    println!(
        "## Commands vs raw \"read a stream + append one event\" transactions ({seconds} s each)\n"
    );
    println!("| clients | raw tx/s | submitComplaint/s | ratio | respondToComplaint/s | ratio | addNote/s | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    for clients in [1, 4, 16] {
        let raw = raw_rate(&db, clients, seconds).await.per_second;
        let submit = rate(&cast.agent, clients, seconds, |worker, n| {
            (
                SUBMIT,
                report(Some(format!("bench-{worker}-{n}-{}", uuid::Uuid::new_v4()))),
            )
        })
        .await
        .per_second;
        let replies = ids.clone();
        let respond = rate(&cast.officer, clients, seconds, move |worker, n| {
            (
                RESPOND,
                on(
                    pick(&replies, worker, n),
                    json!({"message": format!("Balasan {n}")}),
                ),
            )
        })
        .await
        .per_second;
        let noted = ids.clone();
        let notes = rate(&cast.officer, clients, seconds, move |worker, n| {
            (NOTE, note(pick(&noted, worker, n), n))
        })
        .await
        .per_second;
        println!(
            "| {clients} | {raw:.0} | {submit:.0} | {:.2} | {respond:.0} | {:.2} | {notes:.0} | {:.2} |",
            submit / raw,
            respond / raw,
            notes / raw
        );
    }
}

/// p50 and p99 in milliseconds of sequential requests, `request(n)` the n-th.
async fn latency(
    client: &GraphqlClient,
    n: u64,
    request: impl Fn(u64) -> (&'static str, Value),
) -> (f64, f64) {
    let mut times = Vec::with_capacity(n as usize);
    for i in 0..n {
        let (query, variables) = request(i);
        let t = Instant::now();
        client.ok(query, variables).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[(times.len() * 99) / 100])
}

async fn hot_case(store: &TestStore, seconds: u64) {
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let cast = Cast::new(&server).await;
    let hot = cast.assigned().await;
    let mut spread = Vec::new();
    for _ in 0..16 {
        spread.push(cast.assigned().await);
    }
    let spread = Arc::new(spread);
    let long = seconds * 6;
    let one = {
        let hot = hot.clone();
        rate(&cast.officer, 16, long, move |_, n| (NOTE, note(&hot, n)))
            .await
            .per_second
    };
    let sixteen = rate(&cast.officer, 16, long, move |worker, n| {
        (NOTE, note(&spread[worker], n))
    })
    .await
    .per_second;
    println!("\n## The hot case: 16 clients adding notes for {long} s\n");
    println!("| one complaint notes/s | 16 complaints notes/s | ratio |");
    println!("|---|---|---|");
    println!("| {one:.0} | {sixteen:.0} | {:.2} |", one / sixteen);

    // A complaint of 5,000 events: the first command after a restart reads them
    // all; the ones after it decide on the cached state.
    let big = cast.assigned().await;
    let big_for_fill = big.clone();
    let mut filled = 3;
    while filled < 5_000 {
        let ids = big_for_fill.clone();
        let batch = (5_000 - filled).min(1_000);
        let clients = 16;
        let sent = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..clients)
            .map(|_| {
                let (officer, ids, sent) = (cast.officer.clone(), ids.clone(), sent.clone());
                tokio::spawn(async move {
                    while sent.fetch_add(1, Ordering::SeqCst) < batch as u64 {
                        officer.ok(NOTE, note(&ids, 0)).await;
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
        filled += batch;
    }
    let _ = server.stop().await;
    let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
    let cast = Cast::new(&server).await;
    let t = Instant::now();
    cast.officer.ok(NOTE, note(&big, 0)).await;
    let first = t.elapsed().as_secs_f64() * 1000.0;
    let (p50, p99) = latency(&cast.officer, 500, |n| (NOTE, note(&big, n))).await;
    println!("\n## A complaint of 5,000 events\n");
    println!("| first command after a restart ms | then p50 ms | p99 ms |");
    println!("|---|---|---|");
    println!("| {first:.1} | {p50:.2} | {p99:.2} |");
    let _ = server.stop().await;
}

/// The instants an event carries (`aduan_domain::events`), moved back with its copy.
const INSTANTS: [&str; 4] = ["occurred_at", "handled_at", "deadline", "waiting_since"];

/// The days the copies spread back over (`copied_payload`).
const SPREAD_DAYS: i64 = 730;

/// A copied event's payload: its complaint's new id, and its instants moved
/// back by `copy * SPREAD_DAYS / copies` days. A million events are 184,000
/// cases, two years of a city of 100,000 complaints a year: spread over them,
/// about 250 cases a day, as that city has. Piled onto the seed's 60 days
/// they were 3,000 a day, which inflated every read of a day's cases. (The
/// seed's own 33 a day are fewer than the city's, which favours the small log.)
fn copied_payload(backend: Backend, copies: i64) -> String {
    match backend {
        Backend::Postgres => {
            let shift = format!("make_interval(days => (g * {SPREAD_DAYS} / {copies})::int)");
            let mut payload = "CASE WHEN event_type = 'Submitted' \
                 THEN jsonb_set(payload::jsonb, '{Submitted,complaint_id}', to_jsonb(aggregate_id || '-c' || g)) \
                 ELSE payload::jsonb END"
                .to_string();
            for key in INSTANTS {
                let moved = format!(
                    "to_jsonb(to_char(((payload::jsonb -> event_type ->> '{key}')::timestamptz - {shift}) \
                     AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))"
                );
                // Not created where the event has no such instant.
                payload = format!(
                    "jsonb_set({payload}, ARRAY[event_type, '{key}'], COALESCE({moved}, 'null'), false)"
                );
            }
            format!(
                "(CASE WHEN jsonb_typeof(payload::jsonb -> event_type) = 'object' \
                 THEN {payload} ELSE payload::jsonb END)::json"
            )
        }
        Backend::Sqlite => {
            let shift = format!("'-' || (n * {SPREAD_DAYS} / {copies}) || ' days'");
            let mut payload = "CASE WHEN event_type = 'Submitted' \
                 THEN json_set(payload, '$.Submitted.complaint_id', aggregate_id || '-c' || n) \
                 ELSE payload END"
                .to_string();
            for key in INSTANTS {
                let path = format!("'$.' || event_type || '.{key}'");
                // json_replace leaves an absent instant absent.
                payload = format!(
                    "json_replace({payload}, {path}, \
                     strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(payload, {path}), {shift}))"
                );
            }
            payload
        }
    }
}

/// Grows the log to at least `target` events by copying the seeded complaints
/// under new ids (same shapes, same sequences, one statement; their instants
/// spread over the two years before, `copied_payload`), and the command id table to
/// as many rows.
async fn grow_log(store: &TestStore, target: i64) -> i64 {
    let seeded = match store.backend {
        Backend::Postgres => "metadata ->> 'channel' = 'seed'",
        Backend::Sqlite => "json_extract(metadata, '$.channel') = 'seed'",
    };
    let base = store
        .scalar(&format!("SELECT count(*) FROM events WHERE {seeded}"))
        .await;
    let copies = (target + base - 1) / base.max(1) - 1;
    let have = store.scalar("SELECT count(*) FROM command_ids").await;
    let statements: Vec<String> = match store.backend {
        Backend::Postgres => vec![
            format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
                 SELECT aggregate_type, aggregate_id || '-c' || g, sequence, event_type, event_version, \
                   {}, metadata \
                 FROM events, generate_series(1, {copies}) g WHERE {seeded} ORDER BY g, position",
                copied_payload(Backend::Postgres, copies)
            ),
            format!(
                "INSERT INTO command_ids SELECT 'grown-' || g, 'none', 1 \
                 FROM generate_series(1, {}) g",
                (target - have).max(0)
            ),
            "VACUUM ANALYZE".to_string(),
        ],
        Backend::Sqlite => vec![
            format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
                 WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {copies}) \
                 SELECT aggregate_type, aggregate_id || '-c' || n, sequence, event_type, event_version, \
                   {}, metadata \
                 FROM g, events WHERE {seeded} ORDER BY n, position",
                copied_payload(Backend::Sqlite, copies)
            ),
            format!(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {}) \
                 INSERT INTO command_ids SELECT 'grown-' || n, 'none', 1 FROM g",
                (target - have).max(1)
            ),
            // As a live file would be: statistics gathered, and the bulk copy's
            // gigabyte of WAL written back (not by the first measured command).
            "ANALYZE".to_string(),
            "PRAGMA wal_checkpoint(TRUNCATE)".to_string(),
        ],
    };
    for sql in statements {
        store.exec(&sql).await.unwrap();
    }
    common::seal(store).await;
    store.scalar("SELECT count(*) FROM events").await
}

/// Open complaints none of the benchmark's servers has touched (not cached).
async fn open_complaints(store: &TestStore, n: usize) -> Vec<String> {
    let closed = "('Closed', 'Rejected', 'AutoClosed')";
    let sql = match store.backend {
        Backend::Postgres => format!(
            "SELECT aggregate_id FROM events GROUP BY aggregate_id \
             HAVING bool_and(event_type NOT IN {closed}) ORDER BY random() LIMIT {n}"
        ),
        Backend::Sqlite => format!(
            "SELECT aggregate_id FROM events GROUP BY aggregate_id \
             HAVING sum(event_type IN {closed}) = 0 ORDER BY random() LIMIT {n}"
        ),
    };
    store.texts(&sql).await
}

/// What part 3 measures on the log as it stands (p50 / p99 ms).
struct Tails {
    /// A retry-safe submission, and an escalation of an open complaint the
    /// server has not cached.
    commands: [(f64, f64); 2],
    /// Each of `common::READS`, after the commands.
    reads: Vec<(f64, f64)>,
}

/// Sequential latencies on the log as it stands, after issue 26's protocol:
/// the projectors caught up, then a quiet minute.
async fn tails(store: &TestStore, label: &str) -> Tails {
    let n = env_number("ADUAN_BENCH_LATENCY_REQUESTS", 1_000);
    let ids = Arc::new(open_complaints(store, n as usize).await);
    let log = std::env::var("ADUAN_BENCH_SERVER_LOG").ok();
    let mut env = vec![("ADUAN_WATCH", "false")];
    if log.is_some() {
        env.push(("ADUAN_LOG", "info,aduan_store::write_turn=debug"));
    }
    let server = TestServer::start(BIN, &store.url, &env).await;
    let cast = Cast::new(&server).await;
    caught_up(store, &cast.supervisor).await;
    let sweeping = common::swept(store).await;
    println!(
        "({label}: swept {:.1} s after catching up)",
        sweeping.as_secs_f64()
    );
    // As autovacuum would have by now on a live system (CI's PostgreSQL runs
    // without it): the projectors rewrote each case's row once per event.
    common::analyze(store).await;
    tokio::time::sleep(Duration::from_secs(env_number("ADUAN_BENCH_QUIET", 60))).await;
    let submit = latency(&cast.agent, n, |n| {
        (SUBMIT, report(Some(format!("latency-{label}-{n}"))))
    })
    .await;
    let escalate = latency(&cast.supervisor, ids.len() as u64, |n| {
        (
            ESCALATE,
            on(&ids[n as usize], json!({"reason": "Belum ditangani"})),
        )
    })
    .await;
    let requests = env_number("ADUAN_BENCH_LIST_REQUESTS", 300) as usize;
    let reads = common::read_latencies(&cast.supervisor, &ids[0], requests).await;
    // With the write turns traced: what each request waited behind (how the
    // SQLite tails were profiled).
    if let Some(path) = log {
        std::fs::write(format!("{path}.{label}"), server.log()).unwrap();
    }
    let _ = server.stop().await;
    Tails {
        commands: [submit, escalate],
        reads,
    }
}

const COMMANDS: [&str; 2] = [
    "submitComplaint with commandId",
    "escalateComplaint, case not cached",
];

fn print_tails(small: (i64, &Tails), large: (i64, &Tails)) {
    println!("\n## Tails as history grows (1 client, sequential)\n");
    println!(
        "| request | p50 / p99 ms at {} events | p50 / p99 ms at {} events | p99 ratio |",
        small.0, large.0
    );
    println!("|---|---|---|---|");
    let names = COMMANDS
        .iter()
        .copied()
        .chain(common::READS.iter().map(|r| r.name));
    let at = |t: &Tails| {
        t.commands
            .iter()
            .chain(&t.reads)
            .copied()
            .collect::<Vec<_>>()
    };
    for (name, ((p50a, p99a), (p50b, p99b))) in names.zip(at(small.1).into_iter().zip(at(large.1)))
    {
        println!(
            "| {name} | {p50a:.2} / {p99a:.2} | {p50b:.2} / {p99b:.2} | {:.2} |",
            p99b / p99a
        );
    }
}

async fn history_size(store: &TestStore, events: i64) {
    if std::env::var("ADUAN_BENCH_REUSE").is_ok() {
        let size = store.scalar("SELECT count(*) FROM events").await;
        let label = format!("again-{}", uuid::Uuid::new_v4().simple());
        let again = tails(store, &label).await;
        print_tails((size, &again), (size, &again));
        return;
    }
    seed(store, 2_000);
    let small = store.scalar("SELECT count(*) FROM events").await;
    let at_small = tails(store, "small").await;
    let large = grow_log(store, events).await;
    let at_large = tails(store, "large").await;
    print_tails((small, &at_small), (large, &at_large));
}

/// Whether ADUAN_BENCH_PARTS names `part` (all parts when unset).
fn part(name: &str) -> bool {
    std::env::var("ADUAN_BENCH_PARTS")
        .map_or(true, |parts| parts.split(',').any(|p| p.trim() == name))
}

async fn bench(backend: Backend, seconds: u64, events: i64) {
    println!("\n# {backend:?}\n");
    if part("rates") {
        rates(backend, seconds).await;
    }
    if part("hot") {
        let store = TestStore::create(backend).await;
        hot_case(&store, seconds).await;
        store.drop_store().await;
    }
    if part("history") {
        let store = match std::env::var("ADUAN_BENCH_REUSE") {
            Ok(url) => TestStore::existing(&url),
            Err(_) => TestStore::create(backend).await,
        };
        history_size(&store, events).await;
        if std::env::var("ADUAN_BENCH_KEEP").is_ok() {
            println!("\n(kept: {})", store.url);
        } else {
            store.drop_store().await;
        }
    }
}

async fn rates(backend: Backend, seconds: u64) {
    let store = TestStore::create(backend).await;
    {
        let server = TestServer::start(BIN, &store.url, &[("ADUAN_WATCH", "false")]).await;
        let cast = Cast::new(&server).await;
        command_rates(&store, &cast, seconds).await;
        let _ = server.stop().await;
    }
    store.drop_store().await;
}

#[tokio::main]
async fn main() {
    let seconds = env_number("ADUAN_BENCH_SECONDS", 5);
    let events = env_number("ADUAN_BENCH_EVENTS", 1_000_000) as i64;
    for backend in stores("postgres,sqlite") {
        bench(backend, seconds, events).await;
    }
}
