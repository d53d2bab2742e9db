//! The database goes away and comes back; clients go away mid-request.
//!
//! PostgreSQL only: SQLite is a file inside the server's own process, which
//! cannot be "down" while the server runs, and the evidence of open
//! transactions and held locks (`pg_stat_activity`, `pg_locks`) is PostgreSQL's.
//! The restart runs on a private cluster the test starts itself (`PgCluster`),
//! never on the machine's shared server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use aduan_testkit::{GraphqlClient, PgCluster, StopMode, TestDatabase, TestStore};

use crate::support::*;

const CLIENTS: usize = 16;
const OUTAGE: Duration = Duration::from_secs(10);
/// The server's default ADUAN_DB_ACQUIRE_TIMEOUT_MS.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// What a command may take beyond the acquire timeout before UNAVAILABLE: the
/// bound is that it comes, not how fast (8.1 s was seen with the suite's four
/// tests at once on a machine at a load of 12).
const SLACK: Duration = Duration::from_secs(5);
/// Longer than `/readyz` ever takes while it works, shorter than a hang.
const PROBE_BOUND: Duration = Duration::from_millis(2500);
/// How soon after the database is back `/readyz` says ready, and stays so.
const READY_AGAIN: Duration = Duration::from_secs(8);

/// Posts a document; `Ok(data)`, or `Err` with the first error's code (or what
/// went wrong when there is none).
async fn send(
    http: &reqwest::Client,
    client: &GraphqlClient,
    query: &str,
    variables: Value,
) -> Result<Value, String> {
    let response = http
        .post(&client.url)
        .bearer_auth(&client.token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("body of HTTP {status}: {e}"))?;
    match (error_code(&body), body.get("errors")) {
        (Some(code), _) => Err(code.to_string()),
        (None, Some(_)) => Err(format!("uncoded error: {body}")),
        (None, None) => Ok(body["data"].clone()),
    }
}

/// One submission: its command id, when it was sent and how long the answer
/// took (from the test's start), and the complaint id or the error code.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    at: Duration,
    took: Duration,
    result: Result<String, String>,
}

/// One `/readyz` probe: when, how long, which status (0: no answer).
#[derive(Debug, Clone, Copy)]
struct Probe {
    at: Duration,
    took: Duration,
    status: u16,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_mid_stream_is_survived_and_loses_nothing() {
    let cluster = PgCluster::start().await;
    let db = TestDatabase::create_on(&cluster.url("postgres")).await;
    let mut env = Env::start_on(TestStore::postgres(db), &[]).await;
    let clock = Instant::now();
    let stopping = Arc::new(AtomicBool::new(false));
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let probes: Arc<Mutex<Vec<Probe>>> = Arc::default();

    let writers: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (citizen, stopping, sent) = (env.citizen.clone(), stopping.clone(), sent.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                for i in 0.. {
                    if stopping.load(Ordering::Relaxed) {
                        return;
                    }
                    let key = format!("outage-{n}-{i}");
                    let mut submit = report();
                    submit["commandId"] = json!(key);
                    let at = clock.elapsed();
                    let result = send(&http, &citizen, SUBMIT, json!({"input": submit}))
                        .await
                        .map(|data| id_of(&data));
                    let failed = result.is_err();
                    sent.lock().unwrap().push(Sent {
                        key,
                        at,
                        took: clock.elapsed() - at,
                        result,
                    });
                    if failed {
                        // A refused client waits a moment before its next command.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    let prober = {
        let (url, stopping, probes) = (
            format!("{}/readyz", env.server.base_url),
            stopping.clone(),
            probes.clone(),
        );
        tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .unwrap();
            while !stopping.load(Ordering::Relaxed) {
                let at = clock.elapsed();
                let status = http
                    .get(&url)
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                probes.lock().unwrap().push(Probe {
                    at,
                    took: clock.elapsed() - at,
                    status,
                });
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.stop(StopMode::Fast).await;
    let down = clock.elapsed();
    tokio::time::sleep(OUTAGE).await;
    let restarting = clock.elapsed();
    cluster.restart().await;
    let up = clock.elapsed();
    tokio::time::sleep(Duration::from_secs(8)).await;
    stopping.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    prober.await.unwrap();
    let sent = sent.lock().unwrap().clone();
    let probes = probes.lock().unwrap().clone();

    // The server kept running.
    assert!(
        env.server.is_running(),
        "the server exited during the outage:\n{}",
        env.server.log()
    );

    // Every refusal was UNAVAILABLE, and came within the acquire timeout (plus slack).
    let refused: Vec<&Sent> = sent.iter().filter(|s| s.result.is_err()).collect();
    let odd: Vec<&&Sent> = refused
        .iter()
        .filter(|s| s.result.as_ref().unwrap_err() != "UNAVAILABLE")
        .collect();
    assert!(odd.is_empty(), "refusals other than UNAVAILABLE: {odd:#?}");
    let slowest = refused.iter().map(|s| s.took).max().unwrap_or_default();
    assert!(
        slowest <= ACQUIRE_TIMEOUT + SLACK,
        "an UNAVAILABLE took {slowest:?}"
    );
    // Sent while the database was down: refused, unless the answer came after
    // it was back (a connection acquired just then).
    let during: Vec<&Sent> = sent
        .iter()
        .filter(|s| s.at >= down && s.at < restarting)
        .collect();
    assert!(
        during.len() >= CLIENTS,
        "commands were sent during the outage: {}",
        during.len()
    );
    let succeeded_while_down: Vec<&&Sent> = during
        .iter()
        .filter(|s| s.result.is_ok() && s.at + s.took < restarting)
        .collect();
    assert!(
        succeeded_while_down.is_empty(),
        "succeeded while the database was down (down {down:?}..{restarting:?}): \
         {succeeded_while_down:?}"
    );
    let acknowledged = sent.iter().filter(|s| s.result.is_ok()).count();
    assert!(
        sent.iter().any(|s| s.at > up && s.result.is_ok()),
        "commands succeed again after the restart"
    );

    // /readyz: never hangs on the database (its ping is bounded); not ready
    // while down; ready soon after the database is back, and from then on. The
    // bounds are loose because the suite runs four tests at once on two cores
    // (1.6 s was seen at a load of 12); a hang would take the client's 3 s.
    let slow: Vec<&Probe> = probes.iter().filter(|p| p.took >= PROBE_BOUND).collect();
    assert!(
        slow.is_empty(),
        "/readyz took {PROBE_BOUND:?} or more: {slow:?}"
    );
    let while_down: Vec<&Probe> = probes
        .iter()
        .filter(|p| p.at >= down && p.at + p.took < restarting)
        .collect();
    assert!(while_down.len() >= 5, "{while_down:?}");
    assert!(
        while_down.iter().all(|p| p.status == 503),
        "/readyz while the database was down: {while_down:?}"
    );
    let ready_again = probes
        .iter()
        .find(|p| p.at >= up && p.status == 200)
        .map(|p| p.at + p.took - up)
        .expect("/readyz became ready after the restart");
    assert!(
        ready_again <= READY_AGAIN,
        "ready {ready_again:?} after the database was back"
    );
    let late: Vec<&Probe> = probes
        .iter()
        .filter(|p| p.at >= up + READY_AGAIN && p.status != 200)
        .collect();
    assert!(
        late.is_empty(),
        "not ready {READY_AGAIN:?} after the restart: {late:?}"
    );

    // Every acknowledged command's events are stored exactly once; what was
    // stored without an acknowledgement came from a refused command (its commit
    // and the connection's loss crossed); nothing else is there.
    let stored: Vec<(String, String, i64)> = env
        .store
        .texts(
            "SELECT coalesce(metadata ->> 'command_id', '') || ' ' || aggregate_id || ' ' || count(*) \
             FROM events GROUP BY metadata ->> 'command_id', aggregate_id",
        )
        .await
        .iter()
        .map(|row| {
            let mut parts = row.split(' ');
            let key = parts.next().unwrap().to_string();
            let id = parts.next().unwrap().to_string();
            (key, id, parts.next().unwrap().parse().unwrap())
        })
        .collect();
    let by_key: std::collections::HashMap<&str, (&str, i64)> = stored
        .iter()
        .map(|(k, id, n)| (k.as_str(), (id.as_str(), *n)))
        .collect();
    assert_eq!(
        by_key.len(),
        stored.len(),
        "a command's events on two complaints"
    );
    for s in &sent {
        if let Ok(id) = &s.result {
            assert_eq!(
                by_key.get(s.key.as_str()),
                Some(&(id.as_str(), 1)),
                "acknowledged {} is stored once, on {id}",
                s.key
            );
        }
    }
    let refused_keys: std::collections::HashSet<&str> =
        refused.iter().map(|s| s.key.as_str()).collect();
    let unacknowledged: Vec<&str> = by_key
        .keys()
        .copied()
        .filter(|k| !sent.iter().any(|s| s.key == *k && s.result.is_ok()))
        .collect();
    for key in &unacknowledged {
        assert!(
            refused_keys.contains(key),
            "{key} is stored but was never sent"
        );
        assert_eq!(by_key[key].1, 1, "{key} stored more than once");
    }
    let total = env.store.scalar("SELECT count(*) FROM events").await;
    assert_eq!(
        total as usize,
        stored.iter().map(|(_, _, n)| *n as usize).sum::<usize>()
    );

    // A client retrying its refused commands now gets each done, once.
    for s in &refused {
        let mut again = report();
        again["commandId"] = json!(s.key);
        env.citizen.ok(SUBMIT, json!({"input": again})).await;
    }
    let distinct = env
        .store
        .scalar("SELECT count(DISTINCT metadata ->> 'command_id') FROM events")
        .await;
    assert_eq!(distinct, sent.len() as i64, "every command done once");
    assert_eq!(
        env.store.scalar("SELECT count(*) FROM events").await,
        distinct,
        "nothing stored twice"
    );

    // The projectors came back with their LISTEN connection: a new command shows
    // in the summary within a second.
    let listening = env
        .store
        .scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        )
        .await;
    assert!(listening >= 1, "no LISTEN session after the restart");
    env.store.settle().await;
    let mut shown = Vec::new();
    for _ in 0..5 {
        let data = env.citizen.ok(SUBMIT, json!({"input": report()})).await;
        let (id, position) = (id_of(&data), returned(&data)["position"].clone());
        let asked = Instant::now();
        env.auditor
            .ok(COMPLAINT, json!({"id": id, "min": position}))
            .await;
        shown.push(asked.elapsed());
    }
    assert!(
        shown.iter().all(|t| *t < Duration::from_secs(1)),
        "new commands reached the summary after {shown:?}"
    );
    let complaints = env
        .store
        .scalar("SELECT count(DISTINCT aggregate_id) FROM events")
        .await;
    let mut listed = 0;
    for _ in 0..100 {
        listed = env
            .agent
            .ok("{ complaints(first: 1) { totalCount } }", json!({}))
            .await["complaints"]["totalCount"]
            .as_i64()
            .unwrap();
        if listed == complaints {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed, complaints, "the summary lists every complaint");

    let during_took: Vec<Duration> = during
        .iter()
        .filter(|s| s.result.is_err())
        .map(|s| s.took)
        .collect();
    eprintln!(
        "outage: {} commands sent, {acknowledged} acknowledged, {} refused (UNAVAILABLE, \
         slowest {slowest:?}; {} sent during the outage, refused after {:?}..{:?}), {} stored without an \
         acknowledgement; /readyz slowest {:?}, 503 while down ({} probes), ready {ready_again:?} \
         after the restart; new commands in the summary after {shown:?}",
        sent.len(),
        refused.len(),
        during.len(),
        during_took.iter().min().unwrap(),
        during_took.iter().max().unwrap(),
        unacknowledged.len(),
        probes.iter().map(|p| p.took).max().unwrap(),
        while_down.len(),
    );
    env.finish().await;
    drop(cluster);
}

/// A request cut off by its client: a timeout of a few milliseconds, or a raw
/// connection closed after sending (part of) the request. True when it was
/// cut off (false: the answer came first).
async fn dropped_request(
    env: &Env,
    ids: &[String],
    http: &reqwest::Client,
    i: usize,
    typical: Duration,
) -> bool {
    let client = match i % 4 {
        0 | 1 => &env.citizen,
        _ => &env.agent,
    };
    let (query, variables) = match i % 4 {
        0 => {
            let mut submit = report();
            submit["commandId"] = json!(format!("dropped-{i}"));
            (SUBMIT, json!({"input": submit}))
        }
        1 => (
            "query($id: ID!) { complaint(id: $id) { id status } }",
            json!({"id": ids[i % ids.len()]}),
        ),
        2 => (
            MUTATE_VERIFY,
            input(&ids[i % ids.len()], json!({"note": format!("n{i}")})),
        ),
        // Waits for a position the projection never reaches: cut off while waiting.
        _ => (
            "{ complaints(first: 20, minPosition: 1000000000) { totalCount } }",
            json!({}),
        ),
    };
    let body = json!({"query": query, "variables": variables}).to_string();
    if i % 10 == 9 {
        // Raw: the whole request, or half of it, then the connection closes.
        let addr = env.server.base_url.trim_start_matches("http://");
        if let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await {
            let request = format!(
                "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                client.token,
                body.len()
            );
            let cut = if i % 20 == 9 {
                request.len()
            } else {
                request.len() - body.len() / 2
            };
            let _ = stream.write_all(&request.as_bytes()[..cut]).await;
            drop(stream);
        }
        return true;
    }
    // Cut anywhere from the first millisecond to twice a typical answer's time:
    // before, during and after the command's transaction.
    let spread = 2 * typical.as_millis() as u64;
    let timeout = Duration::from_millis(1 + (i as u64 * 7919) % spread.max(2));
    let answered = async {
        http.post(&client.url)
            .bearer_auth(&client.token)
            .header("content-type", "application/json")
            .body(body)
            .timeout(timeout)
            .send()
            .await?
            .bytes()
            .await
    };
    answered.await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_dropping_mid_request_leave_no_open_transaction_or_lock() {
    const REQUESTS: usize = 4000;
    const CONCURRENCY: usize = 32;
    let env = Env::start(Backend::Postgres).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(env.submit().await);
    }
    let http = reqwest::Client::new();
    // How long a submission takes with 32 at once on this machine (debug builds
    // on a busy machine are slow; the cut-off times scale with it).
    let timed: Vec<Duration> = futures::future::join_all((0..CONCURRENCY).map(|_| async {
        let asked = Instant::now();
        env.citizen.ok(SUBMIT, json!({"input": report()})).await;
        asked.elapsed()
    }))
    .await;
    let mut timed = timed;
    timed.sort();
    let typical = timed[timed.len() / 2];
    let started = Instant::now();
    let cut: usize = futures::stream::iter(0..REQUESTS)
        .map(|i| dropped_request(&env, &ids, &http, i, typical))
        .buffer_unordered(CONCURRENCY)
        .map(usize::from)
        .fold(0, |n, c| async move { n + c })
        .await;
    let landed = env
        .store
        .scalar("SELECT count(*) FROM events WHERE metadata ->> 'command_id' LIKE 'dropped-%'")
        .await;
    eprintln!(
        "dropped clients: {cut} of {REQUESTS} requests cut off (after 1 ms to {:?}) in {:?}; \
         {landed} of the {} submissions among them were stored",
        typical * 2,
        started.elapsed(),
        REQUESTS / 4
    );
    assert!(cut >= REQUESTS / 4, "only {cut} requests were cut off");
    assert!(landed > 0, "the requests reached the database");

    // A leaked transaction or lock never goes away by itself: wait for a moment
    // when the server is between its own short background queries.
    let sessions = "SELECT pid || ' ' || coalesce(state, '?') || ' ' || \
                    (xact_start IS NOT NULL) || ' ' || left(query, 60) FROM pg_stat_activity \
                    WHERE datname = current_database() AND pid <> pg_backend_pid() \
                    AND (state <> 'idle' OR xact_start IS NOT NULL)";
    // The projectors' election locks (pg.rs: a session advisory lock per projection
    // on a 64-bit key whose high half is 0x61647561, or one more on a carry).
    let election = "l.locktype = 'advisory' AND l.objsubid = 1 \
                    AND l.classid IN (1633973601::oid, 1633973602::oid)";
    let locks = format!(
        "SELECT l.pid || ' ' || l.locktype || ' ' || l.mode || ' ' || coalesce(l.relation::regclass::text, '') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND NOT ({election})"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut busy, mut held) = (Vec::new(), Vec::new());
    while Instant::now() < deadline {
        busy = env.store.texts(sessions).await;
        held = env.store.texts(&locks).await;
        if busy.is_empty() && held.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        busy.is_empty(),
        "sessions still in a transaction: {busy:#?}"
    );
    assert!(held.is_empty(), "locks still held: {held:#?}");
    let elections = env
        .store
        .scalar(&format!(
            "SELECT count(*) FROM pg_locks l WHERE l.database = \
             (SELECT oid FROM pg_database WHERE datname = current_database()) AND {election}"
        ))
        .await;
    // Followers: the four projections, the webhook deliveries, the audit
    // checkpointer, the incident closer and the automatic acknowledger.
    assert!(
        elections <= 8,
        "one election lock per follower, not {elections}"
    );

    // And the server still works.
    let id = env.submit().await;
    env.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
    env.finish().await;
}
