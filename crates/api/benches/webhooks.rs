//! Webhook deliveries, on each store, against baselines measured in the same
//! run (the machine is shared and noisy: compare ratios):
//!
//! 1. Throughput, in process, on a seeded log (ADUAN_BENCH_CASES, default
//!    5,000 cases from `aduan seed`, about 8 events each):
//!    - `post`: the same envelopes, signed, POSTed one after another to a
//!      loopback receiver (one kept-alive connection): the bare HTTP cost;
//!    - `webhook`: an endpoint registered with `deliverHistory` catching up on
//!      the whole log (read, fold, envelope, sign, POST, checkpoint), while a
//!      second endpoint hangs on its first event.
//! 2. Delivery lag through the real release server, on the log grown to
//!    ADUAN_BENCH_EVENTS (default 1,000,000) with copies of the seeded cases:
//!    ADUAN_BENCH_RATE
//!    submissions a second (default 50) for ADUAN_BENCH_SECONDS (default 20)
//!    with three endpoints (healthy, failing every third request, hanging);
//!    lag = the healthy receiver's clock at receipt minus the event's
//!    `recordedAt`. Command latency is compared with the same load before any
//!    endpoint was registered (ADUAN_BENCH_BASELINE_SECONDS, default 10).
//!
//! `cargo bench -p aduan-api --bench webhooks`. Needs PostgreSQL
//! (scripts/ensure-postgres).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};

use aduan_integration::webhooks::{signing, Registration, Settings};
use aduan_integration::{Envelope, EnvelopeOptions, Webhooks};
use aduan_store::{Cursor, EventLog};
use aduan_testkit::{Backend, GraphqlClient, TestServer, TestStore};

use common::{env_number, grow_to, seed, BIN};

#[derive(Default)]
struct Receiver {
    hang: bool,
    fail_every: u64,
    requests: AtomicU64,
    delivered: AtomicU64,
    ids: Mutex<std::collections::HashSet<String>>,
    /// Receipt minus `recordedAt`, in milliseconds.
    lags: Mutex<Vec<f64>>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if r.hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if r.fail_every > 0 && n % r.fail_every == 0 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    r.delivered.fetch_add(1, Ordering::Relaxed);
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        r.ids.lock().unwrap().insert(id.to_string());
    }
    if let Ok(envelope) = serde_json::from_slice::<Value>(&body) {
        if let Some(at) = envelope["data"]["recordedAt"].as_str() {
            let at: chrono::DateTime<chrono::Utc> = at.parse().expect("recordedAt");
            let lag = (chrono::Utc::now() - at).num_microseconds().unwrap_or(0) as f64 / 1000.0;
            r.lags.lock().unwrap().push(lag);
        }
    }
    StatusCode::NO_CONTENT
}

async fn receiver(hang: bool, fail_every: u64) -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver {
        hang,
        fail_every,
        ..Default::default()
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

fn settings() -> Settings {
    Settings {
        envelope: EnvelopeOptions::default(),
        timeout: Duration::from_secs(2),
        retry_base: Duration::from_millis(20),
        retry_cap: Duration::from_millis(200),
        attempts: 1000,
    }
}

async fn all_events(log: &dyn EventLog) -> Vec<aduan_store::StoredEvent> {
    let mut events = Vec::new();
    let mut cursor = Cursor::default();
    loop {
        let batch = log.read_committed_after(cursor, 1000).await.expect("read");
        let Some(&(last, _)) = batch.last() else {
            return events;
        };
        cursor = last;
        events.extend(batch.into_iter().map(|(_, e)| e));
    }
}

async fn until(r: &Receiver, n: u64) {
    while r.delivered.load(Ordering::Relaxed) < n {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn throughput(backend: Backend, store: &TestStore) {
    let log: Arc<dyn EventLog> = store.log().await;
    let events = all_events(log.as_ref()).await;
    let total = events.len() as u64;

    let (raw, raw_url) = receiver(false, 0).await;
    let secret = signing::new_secret();
    let http = reqwest::Client::new();
    let options = EnvelopeOptions::default();
    let started = Instant::now();
    for e in &events {
        let envelope = Envelope::new(e, None, &options);
        let body = envelope.to_json();
        let ts = chrono::Utc::now().timestamp();
        http.post(&raw_url)
            .header("webhook-id", &envelope.id)
            .header("webhook-timestamp", ts.to_string())
            .header(
                "webhook-signature",
                signing::sign(&secret, &envelope.id, ts, &body),
            )
            .body(body)
            .send()
            .await
            .expect("post");
    }
    let post = total as f64 / started.elapsed().as_secs_f64();
    assert_eq!(raw.delivered.load(Ordering::Relaxed), total);

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let webhooks = Webhooks::new(log.clone(), settings(), vec![], stopped);
    let (hanging, hanging_url) = receiver(true, 0).await;
    let (healthy, healthy_url) = receiver(false, 0).await;
    for url in [hanging_url, healthy_url] {
        let registration = Registration {
            url,
            ..Default::default()
        };
        webhooks
            .register(registration, true, "bench")
            .await
            .expect("register");
    }
    let started = Instant::now();
    let running = tokio::spawn(webhooks.clone().run());
    until(&healthy, total).await;
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    let _ = running.await;
    println!(
        "{backend:?} throughput: {total} events | post {post:.0}/s | webhook {rate:.0}/s = {:.2} of post \
         (a second endpoint hanging: {} requests, none answered)",
        rate / post,
        hanging.requests.load(Ordering::Relaxed)
    );
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

const SUBMIT: &str =
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { id } }";

/// Submissions at `rate` a second for `seconds`; returns their latencies (ms).
async fn load(agent: &GraphqlClient, rate: u64, seconds: u64) -> Vec<f64> {
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let mut tasks = Vec::new();
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        tick.tick().await;
        let (agent, latencies) = (agent.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let input = json!({
                "channel": "CALL_CENTER", "category": "ROAD_DAMAGE", "title": "Jalan berlubang",
                "description": "Lubang besar di Jl. Veteran Selatan",
                "location": {"latitude": -5.1551, "longitude": 119.4239, "kecamatan": "MAKASSAR", "kelurahan": "Maradekaya"}
            });
            let started = Instant::now();
            agent.ok(SUBMIT, json!({"input": input})).await;
            latencies.lock().unwrap().push(started.elapsed().as_secs_f64() * 1000.0);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let out = latencies.lock().unwrap().clone();
    sorted(out)
}

async fn lag(backend: Backend, store: &TestStore) {
    let rate = env_number("ADUAN_BENCH_RATE", 50);
    let seconds = env_number("ADUAN_BENCH_SECONDS", 20);
    let baseline_seconds = env_number("ADUAN_BENCH_BASELINE_SECONDS", 10);
    let env = [
        ("ADUAN_WEBHOOK_RETRY_BASE_MS", "20"),
        ("ADUAN_WEBHOOK_RETRY_CAP_MS", "200"),
        ("ADUAN_WEBHOOK_TIMEOUT_MS", "2000"),
        ("ADUAN_WEBHOOK_ATTEMPTS", "1000"),
    ];
    let server = TestServer::start(BIN, &store.url, &env).await;
    let agent = server.client(&server.token("AGENT", None, "agent-bench").await);
    let supervisor = server.client(&server.token("SUPERVISOR", None, "spv-bench").await);
    settled(&agent).await;
    let before = load(&agent, rate, baseline_seconds).await;

    let (healthy, healthy_url) = receiver(false, 0).await;
    let (flaky, flaky_url) = receiver(false, 3).await;
    let (_hanging, hanging_url) = receiver(true, 0).await;
    for url in [&healthy_url, &flaky_url, &hanging_url] {
        supervisor
            .ok(
                "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret } }",
                json!({"input": {"url": url}}),
            )
            .await;
    }
    let head = log_count(store).await;
    let during = load(&agent, rate, seconds).await;
    // Submissions, and the breaches the watcher records meanwhile.
    let sent = (log_count(store).await - head) as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while healthy.delivered.load(Ordering::Relaxed) < sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let lags = sorted(healthy.lags.lock().unwrap().clone());
    let flaky_lags = sorted(flaky.lags.lock().unwrap().clone());
    println!(
        "{backend:?} lag at {rate} commands/s for {seconds} s: healthy receiver {} distinct of {sent} events \
         ({} deliveries), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms | failing every third: p50 {:.1} ms, p99 {:.1} ms",
        healthy.ids.lock().unwrap().len(),
        lags.len(),
        percentile(&lags, 0.5),
        percentile(&lags, 0.99),
        lags.last().copied().unwrap_or(f64::NAN),
        percentile(&flaky_lags, 0.5),
        percentile(&flaky_lags, 0.99),
    );
    println!(
        "{backend:?} command latency with three endpoints (one hanging) vs none: \
         p50 {:.1} vs {:.1} ms ({:.2}), p99 {:.1} vs {:.1} ms ({:.2})",
        percentile(&during, 0.5),
        percentile(&before, 0.5),
        percentile(&during, 0.5) / percentile(&before, 0.5),
        percentile(&during, 0.99),
        percentile(&before, 0.99),
        percentile(&during, 0.99) / percentile(&before, 0.99),
    );
    server.kill().await;
}

async fn log_count(store: &TestStore) -> i64 {
    store.log().await.count().await.expect("count")
}

/// Waits until the projections have caught up with the seeded log, so the
/// baseline is not measured against a server still projecting.
async fn settled(client: &GraphqlClient) {
    loop {
        let data = client.ok("{ projections { lagEvents } }", json!({})).await;
        let behind: i64 = data["projections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["lagEvents"].as_i64().unwrap_or(0))
            .sum();
        if behind == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::main]
async fn main() {
    let cases = env_number("ADUAN_BENCH_CASES", 5000) as i64;
    for backend in [Backend::Postgres, Backend::Sqlite] {
        let store = TestStore::create(backend).await;
        seed(&store, cases);
        throughput(backend, &store).await;
        let events = grow_to(&store, env_number("ADUAN_BENCH_EVENTS", 1_000_000) as i64).await;
        println!("{backend:?}: the log grown to {events} events for the lag phase");
        lag(backend, &store).await;
        store.drop_store().await;
    }
}
