//! Failover and switchover on the local Patroni cluster (`scripts/ha-cluster`):
//! 16 clients submit through HAProxy, retrying with the same `commandId` after
//! UNAVAILABLE as docs/api.md tells them to, while the leader's postmaster is
//! SIGKILLed and later a planned switchover moves the leader again. Every sixth
//! submission gives the reporter's e-mail address and number (unique to the run)
//! and is then verified by an agent, which notifies the reporter. Nothing
//! acknowledged may be lost or stored twice, the followers (projectors, the NATS
//! relay, webhooks, notifications by e-mail and SMS) must go on without a gap or
//! a duplicate, and `/readyz` must follow the database.
//!
//! - `mod.rs`: the cluster, the command stream, the kill and the switchover;
//! - `checks.rs`: the log, the projections, webhooks, NATS, readiness, figures;
//! - `notify.rs`: the drill's reporters, the message gateway it serves and the
//!   SMTP sink's mail (scripts/ensure-smtp), checked against the log.
//!
//! Ignored in `cargo test`: it needs the cluster, which `scripts/ha-drill` brings
//! up, runs this test against and takes down again (`.ci/run` calls the drill
//! with a shorter stream). The drill's figures come from the lines this test
//! prints (`ha: ...`).

mod checks;
mod notify;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use aduan_testkit::GraphqlClient;

use crate::support::*;
use crate::webhooks::{receiver, register, Mode};
use checks::*;
use notify::{international, Inbox, Reporters};

/// Every how many submissions of a client gives contact details (and is
/// verified, so that its reporter is notified).
const NOTIFIED_EVERY: usize = 6;

/// How long a command may keep being refused before the test calls it failed.
const RETRY_FOR: Duration = Duration::from_secs(90);

/// The cluster `scripts/ha-cluster up` started, as its `env` file describes it.
struct Cluster {
    vars: HashMap<String, String>,
    http: reqwest::Client,
}

impl Cluster {
    fn from_env() -> Cluster {
        let dir = std::env::var("ADUAN_HA_DIR").unwrap_or_else(|_| {
            panic!(
                "\n\nThis test runs against the local HA cluster: run it with \
                 `scripts/ha-drill` (it starts `scripts/ha-cluster up`, runs this test \
                 and stops the cluster).\n"
            )
        });
        let text = std::fs::read_to_string(format!("{dir}/env"))
            .unwrap_or_else(|e| panic!("{dir}/env ({e}): is `scripts/ha-cluster up` done?"));
        let vars = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        Cluster {
            vars,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .unwrap(),
        }
    }

    fn var(&self, name: &str) -> &str {
        self.vars
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing from the cluster's env file"))
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.var(name).split(' ').map(str::to_string).collect()
    }

    async fn client(&self, role: &str, sub: &str) -> GraphqlClient {
        let out = tokio::process::Command::new(self.var("ADUAN_BIN"))
            .args(["token", "--role", role, "--sub", sub])
            .env("ADUAN_JWT_SECRET", self.var("ADUAN_HA_JWT_SECRET"))
            .env("ADUAN_DATA_DIR", std::env::temp_dir())
            .output()
            .await
            .expect("run aduan token");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap();
        let url = format!("{}/graphql", self.var("ADUAN_HA_API_URL"));
        GraphqlClient::at(&url, token.trim())
    }

    /// The nodes (1-based, as pg1..pg3) whose Patroni answers `path` with 200.
    async fn answering(&self, path: &str) -> Vec<usize> {
        let mut nodes = Vec::new();
        for (i, url) in self.list("ADUAN_HA_PATRONI_URLS").iter().enumerate() {
            let status = self.http.get(format!("{url}{path}")).send().await;
            if status.is_ok_and(|r| r.status() == 200) {
                nodes.push(i + 1);
            }
        }
        nodes
    }

    /// The leader and its synchronous standby, once there are exactly one of each.
    async fn leader_and_sync(&self, within: Duration) -> (usize, usize) {
        let deadline = Instant::now() + within;
        loop {
            let (leaders, syncs) = (
                self.answering("/primary").await,
                self.answering("/sync").await,
            );
            if let ([leader], [sync, ..]) = (leaders.as_slice(), syncs.as_slice()) {
                return (*leader, *sync);
            }
            assert!(
                Instant::now() < deadline,
                "no leader with a synchronous standby within {within:?}: leaders {leaders:?}, \
                 synchronous standbys {syncs:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn postmaster_pid(&self, node: usize) -> String {
        let file = format!("{}/pg{node}/data/postmaster.pid", self.var("ADUAN_HA_DIR"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        text.lines().next().unwrap().trim().to_string()
    }

    async fn db(&self) -> PgConnection {
        PgConnection::connect(self.var("ADUAN_HA_WRITE_URL"))
            .await
            .expect("connect through HAProxy's write port")
    }
}

/// One command, from its first attempt to its acknowledgement.
#[derive(Debug, Clone)]
struct Command {
    key: String,
    /// The reporter's e-mail address and number (international form), when a
    /// submission gave them.
    reporter: Option<(String, String)>,
    attempts: u32,
    /// When its first attempt was sent.
    first: Duration,
    /// When its last attempt was sent and when that one was answered.
    last_sent: Duration,
    answered: Duration,
    /// The complaint id, or why it failed for good.
    result: Result<String, String>,
    /// Refusals other than UNAVAILABLE on the way.
    odd: Vec<String>,
}

impl Command {
    fn is_submission(&self) -> bool {
        !self.key.ends_with(VERIFY_SUFFIX)
    }
}

/// The key of the verification that follows submission `key`.
const VERIFY_SUFFIX: &str = "-v";

/// Posts a mutation; the complaint id, or the error's code (or what went wrong).
async fn send(
    http: &reqwest::Client,
    client: &GraphqlClient,
    query: &str,
    input: &Value,
) -> Result<String, String> {
    let response = http
        .post(&client.url)
        .bearer_auth(&client.token)
        .json(&json!({"query": query, "variables": {"input": input}}))
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
        (None, None) => Ok(id_of(&body["data"])),
    }
}

/// One client of the stream: a citizen who submits and, for the reporters who
/// give contact details, an agent who verifies (a step that notifies them).
struct Client {
    n: usize,
    citizen: GraphqlClient,
    agent: GraphqlClient,
    reporters: Reporters,
    http: reqwest::Client,
}

impl Client {
    /// Sends `input` under `key` until it is acknowledged, retrying with the
    /// same `commandId` after UNAVAILABLE (or for good after `RETRY_FOR`).
    async fn command(
        &self,
        as_who: &GraphqlClient,
        query: &str,
        key: String,
        mut input: Value,
        clock: Instant,
    ) -> Command {
        input["commandId"] = json!(key);
        let first = clock.elapsed();
        let (mut attempts, mut odd) = (0, Vec::new());
        let (last_sent, result) = loop {
            attempts += 1;
            let sent = clock.elapsed();
            match send(&self.http, as_who, query, &input).await {
                Ok(id) => break (sent, Ok(id)),
                Err(code) if clock.elapsed() - first > RETRY_FOR => break (sent, Err(code)),
                Err(code) => {
                    if code != "UNAVAILABLE" {
                        odd.push(code);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Command {
            key,
            reporter: None,
            attempts,
            first,
            last_sent,
            answered: clock.elapsed(),
            result,
            odd,
        }
    }
}

/// One client: submission after submission until `stopping`, every
/// `NOTIFIED_EVERY`th with contact details and then verified (a command under
/// way is finished, the verification too).
async fn client_loop(
    client: Client,
    clock: Instant,
    stopping: Arc<AtomicBool>,
    done: Arc<Mutex<Vec<Command>>>,
) {
    for i in 0.. {
        if stopping.load(Ordering::Relaxed) {
            return;
        }
        let key = format!("ha-{}-{i}", client.n);
        let mut report = report();
        let contact = (i % NOTIFIED_EVERY == 0).then(|| client.reporters.contact(&key, client.n));
        if let Some((email, phone)) = &contact {
            report["reporter"] = json!({"name": "Andi", "phone": phone, "email": email});
        }
        let mut submitted = client
            .command(&client.citizen, SUBMIT, key.clone(), report, clock)
            .await;
        submitted.reporter = contact.map(|(email, phone)| (email, international(&phone)));
        let verify = submitted
            .reporter
            .is_some()
            .then(|| submitted.result.clone());
        done.lock().unwrap().push(submitted);
        if let Some(Ok(id)) = verify {
            let fields = input(&id, json!({}))["input"].clone();
            let verified = client
                .command(
                    &client.agent,
                    MUTATE_VERIFY,
                    key + VERIFY_SUFFIX,
                    fields,
                    clock,
                )
                .await;
            done.lock().unwrap().push(verified);
        }
    }
}

/// One `/readyz` probe of one process: when, which, the status (0: no answer).
#[derive(Debug, Clone)]
struct Probe {
    at: Duration,
    url: String,
    status: u16,
}

/// Probes `url`'s `/readyz` every 100 ms until `stopping`, each probe given
/// 2 s; then once more given 10 s, the verdict at the end (on a loaded
/// machine a busy process may take longer than 2 s to answer: that is load,
/// not the database).
async fn probe_loop(
    url: String,
    clock: Instant,
    stopping: Arc<AtomicBool>,
    probes: Arc<Mutex<Vec<Probe>>>,
) {
    let probe = |patience: u64| {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(patience))
            .build()
            .unwrap();
        let (url, probes) = (url.clone(), probes.clone());
        async move {
            let at = clock.elapsed();
            let status = http
                .get(format!("{url}/readyz"))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            probes.lock().unwrap().push(Probe { at, url, status });
        }
    };
    while !stopping.load(Ordering::Relaxed) {
        probe(2).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    probe(10).await;
}

/// What happened to the leader, on the test's clock.
#[derive(Debug, Default)]
struct Timeline {
    killed: Duration,
    promoted: Duration,
    switch_asked: Duration,
    switched: Duration,
}

/// SIGKILLs the leader's postmaster; waits for Patroni to promote the
/// synchronous standby (and checks it was that one).
async fn fail_over(cluster: &Cluster, clock: Instant, timeline: &mut Timeline) -> (usize, usize) {
    let (leader, sync) = cluster.leader_and_sync(Duration::from_secs(30)).await;
    let pid = cluster.postmaster_pid(leader);
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("run kill");
    assert!(
        killed.success(),
        "kill -KILL {pid} (pg{leader}'s postmaster)"
    );
    timeline.killed = clock.elapsed();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let leaders = cluster.answering("/primary").await;
        if let [new] = leaders.as_slice() {
            if *new != leader {
                assert_eq!(
                    *new, sync,
                    "Patroni promoted pg{new}, not the synchronous standby pg{sync}"
                );
                timeline.promoted = clock.elapsed();
                return (leader, sync);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no new leader within 60 s of the kill"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `patronictl switchover` to the synchronous standby; waits until it leads.
async fn switch_over(cluster: &Cluster, clock: Instant, timeline: &mut Timeline) -> (usize, usize) {
    let (leader, sync) = cluster.leader_and_sync(Duration::from_secs(60)).await;
    timeline.switch_asked = clock.elapsed();
    let out = tokio::process::Command::new("patronictl")
        .args([
            "-c",
            cluster.var("ADUAN_HA_PATRONICTL_CONFIG"),
            "switchover",
        ])
        .args([
            "--leader",
            &format!("pg{leader}"),
            "--candidate",
            &format!("pg{sync}"),
            "--force",
        ])
        .output()
        .await
        .expect("run patronictl");
    assert!(
        out.status.success(),
        "patronictl switchover: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while cluster.answering("/primary").await != [sync] {
        assert!(
            Instant::now() < deadline,
            "pg{sync} does not lead 60 s after the switchover"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    timeline.switched = clock.elapsed();
    (leader, sync)
}

/// What the stream left: every command, every probe, the leaders' changes
/// (killed, promoted, demoted, leading after the switchover).
struct Stream {
    done: Vec<Command>,
    probes: Vec<Probe>,
    timeline: Timeline,
    nodes: [usize; 4],
}

/// Streams commands from `clients` clients and probes every process's
/// `/readyz` for about `seconds`: a third in, the leader's postmaster is
/// killed; two thirds in, the leader is switched over.
async fn stream(cluster: &Cluster, reporters: &Reporters, seconds: u64, clients: usize) -> Stream {
    let third = Duration::from_secs(seconds) / 3;
    let clock = Instant::now();
    let stopping = Arc::new(AtomicBool::new(false));
    let done: Arc<Mutex<Vec<Command>>> = Arc::default();
    let probes: Arc<Mutex<Vec<Probe>>> = Arc::default();
    let mut tasks = Vec::new();
    for n in 0..clients {
        let client = Client {
            n,
            citizen: cluster.client("CITIZEN", &format!("warga-ha-{n}")).await,
            agent: cluster.client("AGENT", &format!("agent-ha-{n}")).await,
            reporters: reporters.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        let (stopping, done) = (stopping.clone(), done.clone());
        tasks.push(tokio::spawn(client_loop(client, clock, stopping, done)));
    }
    let mut probed = cluster.list("ADUAN_HA_API_URLS");
    probed.extend(cluster.list("ADUAN_HA_WORKER_URLS"));
    for url in probed {
        let (stopping, probes) = (stopping.clone(), probes.clone());
        tasks.push(tokio::spawn(probe_loop(url, clock, stopping, probes)));
    }

    let mut timeline = Timeline::default();
    tokio::time::sleep(third).await;
    let (killed, promoted) = fail_over(cluster, clock, &mut timeline).await;
    tokio::time::sleep(third).await;
    let (demoted, leading) = switch_over(cluster, clock, &mut timeline).await;
    tokio::time::sleep(third.max(Duration::from_secs(6))).await;
    stopping.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let done = done.lock().unwrap().clone();
    let probes = probes.lock().unwrap().clone();
    Stream {
        done,
        probes,
        timeline,
        nodes: [killed, promoted, demoted, leading],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the local HA cluster: run scripts/ha-drill"]
async fn failover_and_switchover_lose_no_acknowledged_command() {
    let cluster = Cluster::from_env();
    let seconds: u64 = std::env::var("ADUAN_HA_STREAM_SECONDS").map_or(30, |s| s.parse().unwrap());
    let clients: usize = std::env::var("ADUAN_HA_CLIENTS").map_or(16, |s| s.parse().unwrap());
    let mut db = cluster.db().await;
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(
        stored, 0,
        "the drill needs a fresh cluster (scripts/ha-drill starts one)"
    );
    let supervisor = cluster.client("SUPERVISOR", "spv-ha").await;
    let (hooks, hook_url) = receiver(Mode::Healthy).await;
    register(&supervisor, &hooks, &hook_url, json!({})).await;
    let reporters = Reporters::new();
    let mut inbox = Inbox::start(&cluster, &reporters).await;

    let run = stream(&cluster, &reporters, seconds, clients).await;
    check_commands(&run.done, &run.timeline);
    let ids = check_log(&cluster, &run.done).await;
    let complaints = run.done.iter().filter(|c| c.is_submission()).count();
    check_followers(&cluster, &supervisor, complaints).await;
    let resent = check_webhooks(&hooks, &ids).await;
    check_nats(&cluster, &ids).await;
    let notified = match &mut inbox {
        Some(inbox) => Some(inbox.check(&cluster, &run.done).await),
        None => None,
    };
    let ready = check_readiness(&run.probes, &run.timeline);
    report_figures(&run.done, &run.timeline, ready, run.nodes);
    eprintln!(
        "ha: {} events, each once on NATS and at the webhook receiver ({resent} re-sent)",
        ids.len()
    );
    match notified {
        Some(figures) => eprintln!("ha: {figures}"),
        None => eprintln!("ha: notifications not checked (the drill sets ADUAN_SMTP_URL)"),
    }
}
