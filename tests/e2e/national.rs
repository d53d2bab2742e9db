//! The national platform bridge against its simulator (`aduan dev
//! national-platform`, a real process) with faults on: 500s, hangs past the
//! client's timeout, re-delivered and shuffled reports. Two bridges import at
//! once; the server that sends milestones back is killed (SIGKILL) while it
//! sends. Every national report must become exactly one case, every local
//! milestone must reach the platform exactly once per idempotency key and in
//! order, and `nationalSync` must end empty. A second test makes each kind of
//! disagreement happen and reads it from `nationalSync`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use aduan_domain::{Channel, ComplaintEvent, Resolution};
use aduan_store::Cursor;
use aduan_testkit::{GraphqlClient, TestServer, TestStore};

use crate::support::*;

on_both_stores!(
    every_report_becomes_one_case_and_every_milestone_reaches_the_platform_once,
    national_sync_names_each_kind_of_disagreement
);

const REPORTS: usize = 500;
/// Of those, cases taken through dispatch, response and closure; and cases
/// rejected. The rest stay as imported (their milestones are counted from the
/// log all the same).
const HANDLED: usize = 220;
const REJECTED: usize = 30;

/// The simulator, as a child process (killed if a test panics).
pub(crate) struct Simulator {
    child: Child,
    pub(crate) url: String,
    http: reqwest::Client,
}

impl Simulator {
    pub(crate) async fn start(args: &[&str]) -> Simulator {
        let mut child = Command::new(BIN)
            .args(["dev", "national-platform", "--addr", "127.0.0.1:0"])
            .args(args)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the simulator");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the simulator printed its address")
            .expect("read stdout")
            .expect("a first line");
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        // Keep reading, so its log never fills the pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Simulator {
            child,
            url,
            http: reqwest::Client::new(),
        }
    }

    pub(crate) async fn state(&self) -> Value {
        self.http
            .get(format!("{}/dev/state", self.url))
            .send()
            .await
            .expect("GET /dev/state")
            .json()
            .await
            .expect("JSON state")
    }

    pub(crate) async fn post(&self, path: &str, body: Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .expect("POST to the simulator");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    pub(crate) async fn stop(mut self) {
        self.child.start_kill().expect("stop the simulator");
        let _ = self.child.wait().await;
    }
}

/// The bridge's settings for tests: quick polls, short timeouts and backoff.
pub(crate) fn bridge_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ADUAN_NATIONAL_URL", url.to_string()),
        ("ADUAN_NATIONAL_TOKEN", "rahasia-kota".into()),
        ("ADUAN_NATIONAL_POLL_SECONDS", "0.2".into()),
        ("ADUAN_NATIONAL_TIMEOUT_MS", "400".into()),
        ("ADUAN_NATIONAL_BACKOFF_MS", "20".into()),
        ("ADUAN_NATIONAL_BACKOFF_MAX_MS", "400".into()),
        ("ADUAN_WATCH", "false".into()),
    ]
}

pub(crate) async fn start_server(
    store: &TestStore,
    env: &[(&'static str, String)],
    extra: &[(&'static str, &str)],
) -> TestServer {
    let mut all: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    all.extend_from_slice(extra);
    TestServer::start(BIN, &store.url, &all).await
}

/// Every NATIONAL_PLATFORM submission in the log: complaint id -> tracking id.
pub(crate) async fn national_cases(store: &TestStore) -> Vec<(String, String)> {
    let log = store.log().await;
    log.read_committed_after(Cursor::default(), 1_000_000)
        .await
        .expect("read the log")
        .into_iter()
        .filter_map(|(_, e)| match e.event {
            ComplaintEvent::Submitted {
                channel: Channel::NationalPlatform,
                external_ref,
                ..
            } => Some((e.aggregate_id, external_ref.expect("an externalRef"))),
            _ => None,
        })
        .collect()
}

/// What the platform must have received per tracking id: (key, stage) of each
/// milestone, in the case's order (the test's own reading of DESIGN.md).
async fn expected_followups(store: &TestStore) -> BTreeMap<String, Vec<(String, String)>> {
    let cases: HashMap<String, String> = national_cases(store).await.into_iter().collect();
    let log = store.log().await;
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (_, e) in log
        .read_committed_after(Cursor::default(), 1_000_000)
        .await
        .expect("read the log")
    {
        let Some(tracking) = cases.get(&e.aggregate_id) else {
            continue;
        };
        let stage = match &e.event {
            ComplaintEvent::Assigned { .. } | ComplaintEvent::Transferred { .. } => "DISPOSED",
            ComplaintEvent::Responded { .. } => "IN_FOLLOW_UP",
            ComplaintEvent::Closed {
                resolution: Resolution::OutOfScope,
                ..
            } => "REJECTED",
            ComplaintEvent::Closed { .. } => "COMPLETED",
            ComplaintEvent::Rejected { .. } => "REJECTED",
            _ => continue,
        };
        out.entry(tracking.clone()).or_default().push((
            format!("{}:{}", e.aggregate_id, e.sequence),
            stage.to_string(),
        ));
    }
    out
}

/// What the simulator recorded, in the same shape.
fn received(state: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    state["followups"]
        .as_object()
        .expect("followups")
        .iter()
        .filter(|(_, list)| !list.as_array().unwrap().is_empty())
        .map(|(tracking, list)| {
            let list = list
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["key"].as_str().unwrap().to_string(),
                        f["stage"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (tracking.clone(), list)
        })
        .collect()
}

async fn national_sync(client: &GraphqlClient) -> Vec<Value> {
    client
        .ok(
            "{ nationalSync(first: 1000) { complaintId trackingId localStage nationalStage reason detail since attempts } }",
            json!({}),
        )
        .await["nationalSync"]
        .as_array()
        .unwrap()
        .clone()
}

async fn national_count(client: &GraphqlClient) -> i64 {
    client
        .ok(
            "{ complaints(filter: {channel: [NATIONAL_PLATFORM]}, first: 1) { totalCount } }",
            json!({}),
        )
        .await["complaints"]["totalCount"]
        .as_i64()
        .unwrap()
}

pub(crate) async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The clients that handle cases.
struct Staff {
    agent: GraphqlClient,
    dpu: GraphqlClient,
    dishub: GraphqlClient,
}

impl Staff {
    async fn on(server: &TestServer) -> Staff {
        Staff {
            agent: server.client(&server.token("AGENT", None, "agent-nb").await),
            dpu: server.client(&server.token("OPD_OFFICER", Some("DPU"), "petugas-nb").await),
            dishub: server.client(
                &server
                    .token("OPD_OFFICER", Some("DISHUB"), "petugas-dishub")
                    .await,
            ),
        }
    }
}

/// How case `i` is handled: most are dispatched, answered and closed; some
/// are transferred on the way, some reopened and closed again, the last ones
/// rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Story {
    Handled,
    Transferred,
    Reopened,
    Rejected,
}

impl Story {
    fn of(i: usize) -> Story {
        match i {
            i if i >= HANDLED => Story::Rejected,
            i if i % 10 == 5 => Story::Transferred,
            i if i % 20 == 7 => Story::Reopened,
            _ => Story::Handled,
        }
    }

    /// The milestones the platform hears of.
    fn milestones(self) -> usize {
        match self {
            Story::Handled => 3,
            Story::Transferred => 4,
            Story::Reopened => 5,
            Story::Rejected => 1,
        }
    }
}

/// Takes case `id` (number `i`) through its milestones. Each command has a
/// fixed id, so running this again after a crash replays what was done and
/// does the rest. With `tolerant`, failures (a server being killed) are fine.
async fn handle(staff: &Staff, i: usize, id: &str, tolerant: bool) -> bool {
    let step = |doc: &'static str, name: &str, fields: Value| {
        let mut vars = input(id, fields);
        vars["input"]["commandId"] = json!(format!("nb-{name}-{i}"));
        (doc, vars)
    };
    let story = Story::of(i);
    if story == Story::Rejected {
        let (doc, vars) = step(MUTATE_REJECT, "reject", json!({"reason": "OUT_OF_SCOPE"}));
        return send(&staff.agent, doc, vars, tolerant).await;
    }
    let opd = if story == Story::Transferred {
        &staff.dishub
    } else {
        &staff.dpu
    };
    let mut steps = vec![
        // Imported without a kecamatan: placed while verifying.
        (
            &staff.agent,
            step(
                MUTATE_VERIFY,
                "verify",
                json!({"location": {"kecamatan": "TALLO"}}),
            ),
        ),
        (
            &staff.agent,
            step(MUTATE_ASSIGN, "assign", json!({"opd": "DPU"})),
        ),
    ];
    if story == Story::Transferred {
        let to = json!({"toOpd": "DISHUB", "reasonCode": "BUKAN_WEWENANG", "note": "Rambu dan lampu jalan"});
        steps.push((&staff.agent, step(MUTATE_TRANSFER, "transfer", to)));
    }
    let respond = |n: &str| step(MUTATE_RESPOND, n, json!({"message": "Tim menuju lokasi."}));
    let closed = json!({"resolution": "RESOLVED", "summary": "Sudah diperbaiki."});
    let close = |n: &str| step(MUTATE_CLOSE, n, closed.clone());
    steps.push((opd, respond("respond")));
    steps.push((opd, close("close")));
    if story == Story::Reopened {
        let again = json!({"reason": "Rusak lagi."});
        steps.push((&staff.agent, step(MUTATE_REOPEN, "reopen", again)));
        steps.push((opd, respond("respond-again")));
        steps.push((opd, close("close-again")));
    }
    for (client, (doc, vars)) in steps {
        if !send(client, doc, vars, tolerant).await {
            return false;
        }
    }
    true
}

async fn send(client: &GraphqlClient, doc: &str, vars: Value, tolerant: bool) -> bool {
    if !tolerant {
        client.ok(doc, vars).await;
        return true;
    }
    try_query(client, doc, vars)
        .await
        .is_some_and(|body| body.get("errors").is_none())
}

/// A query whose answer may never come (the server is being killed).
async fn try_query(client: &GraphqlClient, doc: &str, variables: Value) -> Option<Value> {
    let response = reqwest::Client::new()
        .post(&client.url)
        .bearer_auth(&client.token)
        .json(&json!({"query": doc, "variables": variables}))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

async fn handle_all(staff: &Staff, cases: &[(usize, String)], tolerant: bool) {
    futures::stream::iter(cases)
        .for_each_concurrent(8, |(i, id)| async move {
            handle(staff, *i, id, tolerant).await;
        })
        .await;
}

async fn every_report_becomes_one_case_and_every_milestone_reaches_the_platform_once(
    backend: Backend,
) {
    let started = Instant::now();
    let reports = REPORTS.to_string();
    let sim = Simulator::start(&[
        "--reports",
        &reports,
        "--fail-rate",
        "0.15",
        "--timeout-rate",
        "0.03",
        "--timeout-ms",
        "1000",
        "--duplicate-rate",
        "0.2",
        "--reorder",
        "--seed",
        "7",
        "--token",
        "rahasia-kota",
    ])
    .await;
    let env = bridge_env(&sim.url);
    let store = TestStore::create(backend).await;
    // Two bridges import at once; only the first sends milestones back, so
    // the kill below surely hits the sender.
    let mut server = start_server(&store, &env, &[]).await;
    let second = start_server(&store, &env, &[("ADUAN_NATIONAL_OUTBOUND", "false")]).await;
    let staff = Staff::on(&server).await;
    eventually(
        "every national report as a case",
        Duration::from_secs(120),
        || async { national_count(&staff.agent).await >= REPORTS as i64 },
    )
    .await;
    eprintln!("imported {REPORTS} reports in {:?}", started.elapsed());

    let state = sim.state().await;
    let sent: BTreeSet<String> = state["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trackingId"].as_str().unwrap().to_string())
        .collect();
    let cases = national_cases(&store).await;
    let imported: BTreeSet<String> = cases.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(cases.len(), REPORTS, "one case per report, none twice");
    assert_eq!(imported, sent, "the cases are the platform's reports");
    assert!(
        state["counters"]["duplicatesDelivered"].as_u64().unwrap() > 0,
        "{state:#}"
    );
    assert!(state["counters"]["errorsInjected"].as_u64().unwrap() > 0);

    // Local milestones; the sender dies (SIGKILL) halfway through the second half.
    let mut by_tracking = cases.clone();
    by_tracking.sort_by(|a, b| a.1.cmp(&b.1));
    let work: Vec<(usize, String)> = by_tracking
        .into_iter()
        .take(HANDLED + REJECTED)
        .enumerate()
        .map(|(i, (id, _))| (i, id))
        .collect();
    let (first, rest) = work.split_at(work.len() / 2);
    handle_all(&staff, first, false).await;
    let before = received(&sim.state().await)
        .values()
        .map(Vec::len)
        .sum::<usize>();
    let burst = tokio::spawn({
        let staff = Staff::on(&server).await;
        let rest = rest.to_vec();
        async move { handle_all(&staff, &rest, true).await }
    });
    eventually(
        "the sender gets going on the second half",
        Duration::from_secs(60),
        || async {
            received(&sim.state().await)
                .values()
                .map(Vec::len)
                .sum::<usize>()
                > before + 20
        },
    )
    .await;
    server.kill().await;
    burst.abort();
    eprintln!("killed the sender");
    server = start_server(&store, &env, &[]).await;
    let staff = Staff::on(&server).await;
    handle_all(&staff, rest, false).await;

    let expected = expected_followups(&store).await;
    let milestones: usize = expected.values().map(Vec::len).sum();
    let made: usize = (0..HANDLED + REJECTED)
        .map(|i| Story::of(i).milestones())
        .sum();
    assert_eq!(milestones, made, "the milestones made");
    eventually(
        "every milestone at the platform",
        Duration::from_secs(120),
        || async {
            received(&sim.state().await)
                .values()
                .map(Vec::len)
                .sum::<usize>()
                >= milestones
        },
    )
    .await;
    let state = sim.state().await;
    assert_eq!(
        received(&state),
        expected,
        "each milestone once per key, in order per case"
    );
    assert!(
        state["counters"]["timeoutsInjected"].as_u64().unwrap() > 0,
        "{state:#}"
    );
    assert_eq!(
        national_cases(&store).await.len(),
        REPORTS,
        "still one case per report"
    );
    eventually("the placed cases listed by kecamatan", Duration::from_secs(30), || async {
        let q = "{ complaints(filter: {kecamatan: [\"TALLO\"], hasExternalRef: true}) { totalCount } }";
        staff.agent.ok(q, json!({})).await["complaints"]["totalCount"] == json!(HANDLED)
    })
    .await;
    eventually("nationalSync empty", Duration::from_secs(30), || async {
        national_sync(&staff.agent).await.is_empty()
    })
    .await;
    let lag = staff
        .agent
        .ok("{ projections { name lagEvents } }", json!({}))
        .await;
    assert!(
        lag["projections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "national_outbound"),
        "{lag}"
    );
    eprintln!(
        "done in {:?}; simulator counters {}",
        started.elapsed(),
        state["counters"]
    );
    stop_cleanly(second).await;
    stop_cleanly(server).await;
    sim.stop().await;
    store.drop_store().await;
}

fn issue<'a>(issues: &'a [Value], tracking: &str) -> Option<&'a Value> {
    issues.iter().find(|i| i["trackingId"] == tracking)
}

async fn national_sync_names_each_kind_of_disagreement(backend: Backend) {
    let sim = Simulator::start(&["--reports", "3", "--token", "rahasia-kota"]).await;
    let bad = json!({
        "trackingId": "LPR-BAD", "title": "Telepon salah", "body": "b", "category": "Lainnya",
        "location": {"lat": -5.15, "lon": 119.42}, "reporter": {"name": "X", "phone": "bukan nomor"},
        "createdAt": "2026-03-02T01:00:00Z"
    });
    sim.post("/dev/reports", bad).await;
    // Placed outside the city (Jakarta): not imported, and said so.
    let far = json!({
        "trackingId": "LPR-FAR", "title": "Jalan rusak", "body": "b", "category": "Lainnya",
        "location": {"lat": -6.2, "lon": 106.8}, "createdAt": "2026-03-02T01:00:00Z"
    });
    sim.post("/dev/reports", far).await;
    let env = bridge_env(&sim.url);
    let store = TestStore::create(backend).await;
    // First without the sender: milestones wait, NOT_SENT_YET.
    let server = start_server(&store, &env, &[("ADUAN_NATIONAL_OUTBOUND", "false")]).await;
    let staff = Staff::on(&server).await;
    eventually("3 cases", Duration::from_secs(30), || async {
        national_count(&staff.agent).await == 3
    })
    .await;
    eventually(
        "LPR-BAD not importable",
        Duration::from_secs(30),
        || async { issue(&national_sync(&staff.agent).await, "LPR-BAD").is_some() },
    )
    .await;
    let issues = national_sync(&staff.agent).await;
    let bad = issue(&issues, "LPR-BAD").unwrap();
    assert_eq!(bad["reason"], "NOT_IMPORTABLE", "{bad}");
    assert!(bad["detail"].as_str().unwrap().contains("phone"), "{bad}");
    assert_eq!(bad["complaintId"], Value::Null);
    let far = issue(&issues, "LPR-FAR").expect("the report outside the city is named");
    assert_eq!(far["reason"], "NOT_IMPORTABLE", "{far}");
    assert!(
        far["detail"].as_str().unwrap().contains("latitude"),
        "{far}"
    );

    // The platform sends an imported report again, edited: still one case,
    // and no problem either.
    let mut edited = sim.state().await["reports"][0].clone();
    edited["title"] = json!("Judul diubah oleh pelapor");
    sim.post("/dev/reports", edited).await;
    let pages = sim.state().await["counters"]["pagesServed"]
        .as_u64()
        .unwrap();
    eventually(
        "the edited report fetched",
        Duration::from_secs(30),
        || async {
            sim.state().await["counters"]["pagesServed"]
                .as_u64()
                .unwrap()
                >= pages + 3
        },
    )
    .await;
    assert_eq!(national_cases(&store).await.len(), 3, "no second case");
    assert_eq!(
        national_sync(&staff.agent).await.len(),
        2,
        "only LPR-BAD and LPR-FAR"
    );

    // A case that claims a national report the platform does not know.
    let mut claimed = report_with(json!({"channel": "NATIONAL_PLATFORM"}));
    claimed["externalRef"] = json!("LPR-UNKNOWN");
    let unknown = id_of(&staff.agent.ok(SUBMIT, json!({"input": claimed})).await);
    let (known, known_ref) = national_cases(&store).await[0].clone();
    for id in [&unknown, &known] {
        staff.agent.ok(MUTATE_VERIFY, input(id, json!({}))).await;
        staff
            .agent
            .ok(MUTATE_ASSIGN, input(id, json!({"opd": "DPU"})))
            .await;
    }
    let issues = national_sync(&staff.agent).await;
    for (tracking, id) in [("LPR-UNKNOWN", &unknown), (known_ref.as_str(), &known)] {
        let i = issue(&issues, tracking).unwrap_or_else(|| panic!("{tracking}: {issues:?}"));
        assert_eq!(i["reason"], "NOT_SENT_YET", "{i}");
        assert_eq!(i["complaintId"], json!(id));
        assert_eq!(i["localStage"], "DISPOSED");
        assert_eq!(i["nationalStage"], Value::Null);
    }

    // The sender starts while the platform is down: it waits, retrying.
    sim.post("/dev/faults", json!({"failRate": 1.0})).await;
    stop_cleanly(server).await;
    let server = start_server(&store, &env, &[]).await;
    let staff = Staff::on(&server).await;
    eventually("a milestone waiting", Duration::from_secs(30), || async {
        issue(&national_sync(&staff.agent).await, "LPR-UNKNOWN")
            .is_some_and(|i| i["reason"] == "WAITING" && i["attempts"].as_i64().unwrap() >= 2)
    })
    .await;
    let issues = national_sync(&staff.agent).await;
    assert_eq!(
        issue(&issues, &known_ref).unwrap()["reason"],
        "NOT_SENT_YET",
        "nothing overtakes the waiting milestone: {issues:?}"
    );

    // Back up: the unknown report is refused and passed; the known one goes through.
    sim.post("/dev/faults", json!({"failRate": 0.0})).await;
    eventually(
        "the known case's milestone at the platform",
        Duration::from_secs(30),
        || async { received(&sim.state().await).contains_key(&known_ref) },
    )
    .await;
    let issues = national_sync(&staff.agent).await;
    let refused = issue(&issues, "LPR-UNKNOWN").unwrap();
    assert_eq!(refused["reason"], "REFUSED", "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("404"),
        "{refused}"
    );
    assert!(issue(&issues, &known_ref).is_none(), "{issues:?}");
    assert_eq!(issues.len(), 3, "{issues:?}");
    assert_eq!(
        received(&sim.state().await)[&known_ref],
        vec![(format!("{known}:3"), "DISPOSED".to_string())]
    );
    // Nobody outside the Command Center, supervisors and auditors reads it.
    let officer = server.client(&server.token("OPD_OFFICER", Some("DPU"), "p").await);
    assert_eq!(
        officer
            .error_code("{ nationalSync { trackingId } }", json!({}))
            .await,
        "FORBIDDEN"
    );
    stop_cleanly(server).await;
    sim.stop().await;
    store.drop_store().await;
}
