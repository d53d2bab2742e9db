//! Webhooks end to end: receivers on loopback (one failing a third of the
//! deliveries, one that hangs, one filtered, one down until re-driven) get
//! every event they want, signed as Standard Webhooks says (checked here with
//! an HMAC of the test's own), in order, exactly once after de-duplicating by
//! `webhook-id`, through a SIGKILL of the server mid-stream.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::future::join_all;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use aduan_store::Cursor;
use aduan_testkit::{GraphqlClient, TestServer, TestStore};

use crate::support::*;

on_both_stores!(webhooks_deliver_every_event_in_order_whatever_the_receivers_do);
on_both_stores!(an_endpoint_s_last_error_says_when_and_clears_on_a_later_success);

/// How a receiver answers.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Mode {
    /// 500 for every third request, 204 otherwise.
    FailEveryThird = 0,
    /// 503 for everything.
    Down = 1,
    Healthy = 2,
    /// Never answers.
    Hang = 3,
}

/// One acknowledged delivery.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    id: String,
    pub(crate) envelope: Value,
    /// The `webhook-*` headers as received, and the body, to verify again.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

#[derive(Default)]
pub(crate) struct Receiver {
    pub(crate) secret: Mutex<Option<String>>,
    mode: AtomicU8,
    requests: AtomicU64,
    pub(crate) bad_signatures: AtomicU64,
    acknowledged: Mutex<Vec<Delivery>>,
}

impl Receiver {
    fn set_mode(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    pub(crate) fn acknowledged(&self) -> Vec<Delivery> {
        self.acknowledged.lock().unwrap().clone()
    }

    /// The acknowledged deliveries, first of each `webhook-id` only.
    pub(crate) fn distinct(&self) -> Vec<Delivery> {
        let mut seen = HashSet::new();
        self.acknowledged()
            .into_iter()
            .filter(|d| seen.insert(d.id.clone()))
            .collect()
    }
}

/// Standard Webhooks: base64 HMAC-SHA256 of `id.timestamp.body` with the
/// secret's base64-decoded bytes, as `v1,<sig>`, space-separated.
fn signature_holds(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(ts), Some(sigs)) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    ) else {
        return false;
    };
    let Ok(ts) = ts.parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
        return false;
    }
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    sigs.split(' ').any(|s| s == expected)
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let secret = r.secret.lock().unwrap().clone();
    if !secret.is_some_and(|s| signature_holds(&s, &headers, &body)) {
        r.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::BAD_REQUEST;
    }
    let answer = match r.mode.load(Ordering::SeqCst) {
        0 if n % 3 == 0 => StatusCode::INTERNAL_SERVER_ERROR,
        1 => StatusCode::SERVICE_UNAVAILABLE,
        3 => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::NO_CONTENT,
    };
    if answer.is_success() {
        let id = headers["webhook-id"].to_str().unwrap().to_string();
        let envelope: Value = serde_json::from_slice(&body).expect("a JSON envelope");
        assert_eq!(envelope["id"], json!(id), "webhook-id is the envelope's id");
        let headers = ["webhook-id", "webhook-timestamp", "webhook-signature"]
            .iter()
            .map(|h| (h.to_string(), headers[*h].to_str().unwrap().to_string()))
            .collect();
        r.acknowledged.lock().unwrap().push(Delivery {
            id,
            envelope,
            headers,
            body,
        });
    }
    answer
}

/// A receiver on a loopback port of its own; returns it and its URL.
pub(crate) async fn receiver(mode: Mode) -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver::default());
    r.set_mode(mode);
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

const REGISTER: &str = "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret endpoint { id status } } }";
const ENDPOINT: &str = "query($id: ID!, $first: Int!) { webhookEndpoint(id: $id) { status failures lastError lagEvents undelivered(first: $first) { id position complaintId eventType } } }";

pub(crate) async fn register(
    supervisor: &GraphqlClient,
    r: &Receiver,
    url: &str,
    extra: Value,
) -> String {
    let mut input = json!({"url": url});
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let data = supervisor.ok(REGISTER, json!({"input": input})).await;
    let secret = data["registerWebhook"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    *r.secret.lock().unwrap() = Some(secret);
    data["registerWebhook"]["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn endpoint(supervisor: &GraphqlClient, id: &str, first: i64) -> Value {
    supervisor
        .ok(ENDPOINT, json!({"id": id, "first": first}))
        .await["webhookEndpoint"]
        .clone()
}

pub(crate) const WEBHOOK_ENV: [(&str, &str); 4] = [
    ("ADUAN_WEBHOOK_RETRY_BASE_MS", "20"),
    ("ADUAN_WEBHOOK_RETRY_CAP_MS", "200"),
    ("ADUAN_WEBHOOK_ATTEMPTS", "4"),
    ("ADUAN_WEBHOOK_TIMEOUT_MS", "1500"),
];

struct Cast {
    citizen: GraphqlClient,
    agent: GraphqlClient,
    supervisor: GraphqlClient,
    officers: HashMap<&'static str, GraphqlClient>,
}

impl Cast {
    async fn of(server: &TestServer) -> Cast {
        let client = |role: &'static str, opd: Option<&'static str>, sub: &'static str| async move {
            server.client(&server.token(role, opd, sub).await)
        };
        Cast {
            citizen: client("CITIZEN", None, "warga-1").await,
            agent: client("AGENT", None, "agent-1").await,
            supervisor: client("SUPERVISOR", None, "spv-1").await,
            officers: HashMap::from([
                (
                    "DPU",
                    client("OPD_OFFICER", Some("DPU"), "petugas-dpu").await,
                ),
                (
                    "DLH",
                    client("OPD_OFFICER", Some("DLH"), "petugas-dlh").await,
                ),
            ]),
        }
    }

    /// A case through its life: submitted, verified, dispatched to `opd`,
    /// answered, closed (five events).
    async fn case_through(&self, opd: &'static str) {
        let id = id_of(&self.citizen.ok(SUBMIT, json!({"input": report()})).await);
        self.agent.ok(MUTATE_VERIFY, input(&id, json!({}))).await;
        self.agent
            .ok(MUTATE_ASSIGN, input(&id, json!({"opd": opd})))
            .await;
        self.officers[opd]
            .ok(
                MUTATE_RESPOND,
                input(&id, json!({"message": "Sedang dikerjakan."})),
            )
            .await;
        self.agent
            .ok(
                MUTATE_CLOSE,
                input(
                    &id,
                    json!({"resolution": "RESOLVED", "summary": "Selesai."}),
                ),
            )
            .await;
    }

    async fn cases(&self, n: usize) {
        join_all((0..n).map(|i| self.case_through(if i % 2 == 0 { "DPU" } else { "DLH" }))).await;
    }
}

/// Waits until `r` has acknowledged every id of `expected`.
async fn until_received(r: &Receiver, expected: &[String], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let got: HashSet<String> = r.acknowledged().into_iter().map(|d| d.id).collect();
        if expected.iter().all(|id| got.contains(id)) {
            return;
        }
        let missing = expected.iter().filter(|id| !got.contains(*id)).count();
        assert!(
            Instant::now() < deadline,
            "{what}: {missing} events never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The log's events in reading order, as webhook ids, with their envelopes'
/// type and the OPD their case is with after them.
async fn log_ids(store: &TestStore) -> Vec<(String, String)> {
    store
        .log()
        .await
        .read_committed_after(Cursor::default(), 1_000_000)
        .await
        .expect("read the log")
        .into_iter()
        .map(|(_, e)| (format!("{}:{}", e.aggregate_id, e.sequence), e.event_type))
        .collect()
}

/// The log once it reads `n` events, or as it reads after 30 s. A committed
/// event may read a moment late: the gap-safe read stops before any
/// transaction still open (a projector's, on a busy machine) that began
/// earlier.
async fn log_ids_at_least(store: &TestStore, n: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = log_ids(store).await;
        if log.len() >= n || Instant::now() > deadline {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Exactly `expected`, in its order, once each after de-duplicating; every
/// duplicate is a re-send of an id acknowledged before.
fn assert_exactly_in_order(r: &Receiver, expected: &[String], what: &str) {
    let distinct: Vec<String> = r.distinct().into_iter().map(|d| d.id).collect();
    assert_eq!(
        distinct.len(),
        expected.len(),
        "{what}: distinct deliveries"
    );
    assert!(distinct == expected, "{what}: not the log's order");
    assert_eq!(
        r.bad_signatures.load(Ordering::SeqCst),
        0,
        "{what}: bad signatures"
    );
}

async fn webhooks_deliver_every_event_in_order_whatever_the_receivers_do(backend: Backend) {
    let store = TestStore::create(backend).await;
    let mut server = TestServer::start(BIN, &store.url, &WEBHOOK_ENV).await;
    let cast = Cast::of(&server).await;

    let (flaky, flaky_url) = receiver(Mode::FailEveryThird).await;
    let (hanging, hanging_url) = receiver(Mode::Hang).await;
    let (filtered, filtered_url) = receiver(Mode::Healthy).await;
    let (down, down_url) = receiver(Mode::Down).await;
    let sup = &cast.supervisor;
    register(sup, &flaky, &flaky_url, json!({})).await;
    let hanging_id = register(sup, &hanging, &hanging_url, json!({})).await;
    let filter = json!({"eventTypes": ["Assigned"], "opds": ["DPU"]});
    register(sup, &filtered, &filtered_url, filter).await;
    let down_id = register(sup, &down, &down_url, json!({"personalData": true})).await;

    // Half the traffic; the server dies (SIGKILL) once deliveries are under
    // way; the rest of the traffic goes to the next server.
    cast.cases(20).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while flaky.distinct().len() < 10 {
        assert!(Instant::now() < deadline, "no deliveries began");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!("killed after {} of 100 deliveries", flaky.distinct().len());
    server.kill().await;
    server = TestServer::start(BIN, &store.url, &WEBHOOK_ENV).await;
    let cast = Cast::of(&server).await;
    let sup = &cast.supervisor;
    cast.cases(20).await;

    let log = log_ids_at_least(&store, 200).await;
    assert_eq!(log.len(), 200, "five events per case");
    let all: Vec<String> = log.iter().map(|(id, _)| id.clone()).collect();
    until_received(&flaky, &all, "the flaky receiver").await;
    assert_exactly_in_order(&flaky, &all, "the flaky receiver");
    // Every third request was refused, so n deliveries took at least
    // n + (n - 1) / 2 requests: 299 for 200, when no re-send followed the kill.
    let requests = flaky.requests.load(Ordering::SeqCst) as usize;
    assert!(
        requests >= all.len() + (all.len() - 1) / 2,
        "a third failed: {requests}"
    );

    // The filtered endpoint: Assigned events of cases with DPU, nothing else.
    let dispatched_to_dpu: Vec<String> = flaky
        .distinct()
        .into_iter()
        .filter(|d| d.envelope["type"].as_str().unwrap().ends_with(".assigned"))
        .filter(|d| d.envelope["opd"] == "DPU")
        .map(|d| d.id)
        .collect();
    assert_eq!(dispatched_to_dpu.len(), 20);
    until_received(&filtered, &dispatched_to_dpu, "the filtered receiver").await;
    assert_exactly_in_order(&filtered, &dispatched_to_dpu, "the filtered receiver");

    // Personal data goes only where it was asked for.
    let submitted = &flaky.distinct()[0].envelope;
    assert!(submitted["type"].as_str().unwrap().ends_with(".submitted"));
    assert!(
        submitted["data"]["event"]["reporter"].is_null(),
        "{submitted}"
    );

    // The hanging receiver held back nobody, and is itself stuck on its first.
    assert!(hanging.acknowledged().is_empty());
    let stuck = endpoint(sup, &hanging_id, 1).await;
    assert_eq!(stuck["undelivered"][0]["id"], json!(all[0]), "{stuck}");

    // The receiver that was down: paused, with everything waiting, in order.
    let deadline = Instant::now() + Duration::from_secs(30);
    let paused = loop {
        let e = endpoint(sup, &down_id, 1000).await;
        if e["status"] == "PAUSED" {
            break e;
        }
        assert!(Instant::now() < deadline, "never paused: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(paused["failures"].as_i64().unwrap() >= 4, "{paused}");
    assert!(
        paused["lastError"].as_str().unwrap().contains("503"),
        "{paused}"
    );
    let waiting: Vec<String> = paused["undelivered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        waiting == all,
        "undelivered lists every event in order: {paused}"
    );
    assert!(down.acknowledged().is_empty());
    let metrics = server.get("/metrics").await.text().await.unwrap();
    let lag_line = format!("aduan_webhook_lag_events{{endpoint=\"{down_id}\"}} 200");
    assert!(metrics.contains(&lag_line), "{metrics}");
    assert!(
        metrics.contains("aduan_webhook_endpoints{status=\"paused\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("aduan_webhook_deliveries_total{outcome=\"failed\"}"),
        "{metrics}"
    );

    // Re-driven once it is back: the rest arrives, in order, once each.
    down.set_mode(Mode::Healthy);
    let resumed = sup
        .ok(
            "mutation($id: ID!) { resumeWebhook(id: $id) { status failures } }",
            json!({"id": down_id}),
        )
        .await;
    assert_eq!(resumed["resumeWebhook"]["status"], "ACTIVE");
    until_received(&down, &all, "the re-driven receiver").await;
    assert_exactly_in_order(&down, &all, "the re-driven receiver");
    assert_eq!(
        down.acknowledged().len(),
        all.len(),
        "no re-sends without a crash"
    );
    let submitted = &down.distinct()[0].envelope;
    assert_eq!(
        submitted["data"]["event"]["reporter"]["name"], "Andi",
        "{submitted}"
    );
    let drained = endpoint(sup, &down_id, 10).await;
    assert_eq!(drained["undelivered"], json!([]), "{drained}");
    assert_eq!(drained["lagEvents"], json!(0), "{drained}");

    stop_cleanly(server).await;
    store.drop_store().await;
}

const LAST_ERROR: &str =
    "query($id: ID!) { webhookEndpoint(id: $id) { status failures lastError lastErrorAt } }";

/// Polls the endpoint until `done` holds of it (10 s at most).
async fn endpoint_until(
    supervisor: &GraphqlClient,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let e = supervisor.ok(LAST_ERROR, json!({"id": id})).await["webhookEndpoint"].clone();
        if done(&e) {
            return e;
        }
        assert!(Instant::now() < deadline, "{what}: {e}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A receiver that fails, then answers: the endpoint's `lastError` names the
/// failure and `lastErrorAt` when it happened, and both clear (with
/// `failures`) once a later delivery succeeds.
async fn an_endpoint_s_last_error_says_when_and_clears_on_a_later_success(backend: Backend) {
    let settings = [
        ("ADUAN_WEBHOOK_RETRY_BASE_MS", "100"),
        ("ADUAN_WEBHOOK_RETRY_CAP_MS", "200"),
        ("ADUAN_WEBHOOK_ATTEMPTS", "100"),
    ];
    let env = Env::start_with(backend, &settings).await;
    let (r, url) = receiver(Mode::Down).await;
    let id = register(&env.supervisor, &r, &url, json!({})).await;
    let before = chrono::Utc::now();
    env.submit().await;
    let failing = endpoint_until(&env.supervisor, &id, "a failure recorded", |e| {
        !e["lastError"].is_null()
    })
    .await;
    assert!(
        failing["lastError"].as_str().unwrap().contains("503"),
        "{failing}"
    );
    assert!(
        !failing["lastError"]
            .as_str()
            .unwrap()
            .contains(&before.format("%Y-").to_string()),
        "the time is a field of its own: {failing}"
    );
    let at = timestamp(&failing["lastErrorAt"]);
    assert!(at >= before && at <= chrono::Utc::now(), "{failing}");
    assert!(failing["failures"].as_i64().unwrap() >= 1);
    assert_eq!(failing["status"], json!("ACTIVE"));

    r.set_mode(Mode::Healthy);
    let healed = endpoint_until(&env.supervisor, &id, "cleared after a success", |e| {
        e["lastError"].is_null()
    })
    .await;
    assert_eq!(healed["lastErrorAt"], Value::Null, "{healed}");
    assert_eq!(healed["failures"], json!(0), "{healed}");
    assert!(!r.acknowledged().is_empty());
    env.finish().await;
}
