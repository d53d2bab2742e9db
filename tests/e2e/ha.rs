//! Failover and switchover on the local Patroni cluster (`scripts/ha-cluster`):
//! 16 clients submit through HAProxy, retrying with the same `commandId` after
//! UNAVAILABLE as docs/api.md tells them to, while the leader's postmaster is
//! SIGKILLed and later a planned switchover moves the leader again. Nothing
//! acknowledged may be lost or stored twice, the followers (projectors, the NATS
//! relay, webhooks) must go on without a gap or a duplicate, and `/readyz` must
//! follow the database.
//!
//! Ignored in `cargo test`: it needs the cluster, which `scripts/ha-drill` brings
//! up, runs this test against and takes down again (`.ci/run` calls the drill
//! with a shorter stream). The drill's figures come from the line this test prints.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use aduan_testkit::GraphqlClient;

use crate::support::*;
use crate::webhooks::{receiver, register, Mode};

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

/// Posts a submission; the complaint id, or the error's code (or what went wrong).
async fn submit(
    http: &reqwest::Client,
    client: &GraphqlClient,
    key: &str,
) -> Result<String, String> {
    let mut input = report();
    input["commandId"] = json!(key);
    let response = http
        .post(&client.url)
        .bearer_auth(&client.token)
        .json(&json!({"query": SUBMIT, "variables": {"input": input}}))
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

/// One client: command after command until `stopping`, each retried with its
/// `commandId` until it is acknowledged (a command under way is finished).
async fn client_loop(
    n: usize,
    citizen: GraphqlClient,
    clock: Instant,
    stopping: Arc<AtomicBool>,
    done: Arc<Mutex<Vec<Command>>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for i in 0.. {
        if stopping.load(Ordering::Relaxed) {
            return;
        }
        let key = format!("ha-{n}-{i}");
        let first = clock.elapsed();
        let (mut attempts, mut odd) = (0, Vec::new());
        let (last_sent, result) = loop {
            attempts += 1;
            let sent = clock.elapsed();
            match submit(&http, &citizen, &key).await {
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
        done.lock().unwrap().push(Command {
            key,
            attempts,
            first,
            last_sent,
            answered: clock.elapsed(),
            result,
            odd,
        });
    }
}

/// One `/readyz` probe of one process: when, which, the status (0: no answer).
#[derive(Debug, Clone)]
struct Probe {
    at: Duration,
    url: String,
    status: u16,
}

async fn probe_loop(
    url: String,
    clock: Instant,
    stopping: Arc<AtomicBool>,
    probes: Arc<Mutex<Vec<Probe>>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    while !stopping.load(Ordering::Relaxed) {
        let at = clock.elapsed();
        let status = http
            .get(format!("{url}/readyz"))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        probes.lock().unwrap().push(Probe {
            at,
            url: url.clone(),
            status,
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs the local HA cluster: run scripts/ha-drill"]
async fn failover_and_switchover_lose_no_acknowledged_command() {
    let cluster = Cluster::from_env();
    let seconds: u64 = std::env::var("ADUAN_HA_STREAM_SECONDS").map_or(30, |s| s.parse().unwrap());
    let clients: usize = std::env::var("ADUAN_HA_CLIENTS").map_or(16, |s| s.parse().unwrap());
    let third = Duration::from_secs(seconds) / 3;
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

    let clock = Instant::now();
    let stopping = Arc::new(AtomicBool::new(false));
    let done: Arc<Mutex<Vec<Command>>> = Arc::default();
    let probes: Arc<Mutex<Vec<Probe>>> = Arc::default();
    let mut tasks = Vec::new();
    for n in 0..clients {
        let citizen = cluster.client("CITIZEN", &format!("warga-ha-{n}")).await;
        tasks.push(tokio::spawn(client_loop(
            n,
            citizen,
            clock,
            stopping.clone(),
            done.clone(),
        )));
    }
    let mut probed = cluster.list("ADUAN_HA_API_URLS");
    probed.extend(cluster.list("ADUAN_HA_WORKER_URLS"));
    for url in probed {
        tasks.push(tokio::spawn(probe_loop(
            url,
            clock,
            stopping.clone(),
            probes.clone(),
        )));
    }

    let mut timeline = Timeline::default();
    tokio::time::sleep(third).await;
    let (killed, promoted) = fail_over(&cluster, clock, &mut timeline).await;
    tokio::time::sleep(third).await;
    let (demoted, leading) = switch_over(&cluster, clock, &mut timeline).await;
    tokio::time::sleep(third.max(Duration::from_secs(6))).await;
    stopping.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let done = done.lock().unwrap().clone();
    let probes = probes.lock().unwrap().clone();

    check_commands(&done, &timeline);
    let ids = check_log(&cluster, &done).await;
    check_followers(&cluster, &supervisor, ids.len()).await;
    let resent = check_webhooks(&hooks, &ids).await;
    check_nats(&cluster, &ids).await;
    let ready = check_readiness(&probes, &timeline);
    report_figures(
        &done,
        &timeline,
        ready,
        [killed, promoted, demoted, leading],
    );
    eprintln!(
        "ha: {} events, each once on NATS and at the webhook receiver ({resent} re-sent)",
        ids.len()
    );
}

/// How often a code was seen, and the first few commands it answered (when sent).
type Seen<'a> = (usize, Vec<(&'a str, Duration)>);

/// Every command was acknowledged, retried past UNAVAILABLE only.
fn check_commands(done: &[Command], timeline: &Timeline) {
    let failed: Vec<&Command> = done.iter().filter(|c| c.result.is_err()).collect();
    assert!(failed.is_empty(), "commands failed for good: {failed:#?}");
    let mut odd: HashMap<&str, Seen> = HashMap::new();
    for c in done {
        for code in &c.odd {
            let seen = odd.entry(code.as_str()).or_default();
            seen.0 += 1;
            if seen.1.len() < 5 {
                seen.1.push((c.key.as_str(), c.last_sent));
            }
        }
    }
    assert!(
        odd.is_empty(),
        "refusals other than UNAVAILABLE (count, first commands and when sent): {odd:#?}; {timeline:?}"
    );
    let after = |t: Duration| done.iter().filter(move |c| c.answered > t).count();
    assert!(
        after(timeline.promoted) > 0,
        "commands were acknowledged after the failover"
    );
    assert!(
        after(timeline.switched) > 0,
        "commands were acknowledged after the switchover"
    );
}

/// Every acknowledged command's event is on the new leader exactly once, on the
/// complaint it was acknowledged with; nothing else is there. Returns the log's
/// events in reading order as `aggregate_id:sequence` (the webhook ids).
async fn check_log(cluster: &Cluster, done: &[Command]) -> Vec<String> {
    let mut db = cluster.db().await;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT coalesce(metadata ->> 'command_id', ''), aggregate_id, count(*) \
         FROM events WHERE aggregate_type = 'Complaint' GROUP BY 1, 2",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let stored: HashMap<&str, (&str, i64)> = rows
        .iter()
        .map(|(k, id, n)| (k.as_str(), (id.as_str(), *n)))
        .collect();
    assert_eq!(
        stored.len(),
        rows.len(),
        "a command's events on two complaints"
    );
    for c in done {
        let id = c.result.as_ref().unwrap();
        assert_eq!(
            stored.get(c.key.as_str()),
            Some(&(id.as_str(), 1)),
            "acknowledged {} is stored once, on {id}",
            c.key
        );
    }
    let sent: HashSet<&str> = done.iter().map(|c| c.key.as_str()).collect();
    let strays: Vec<&&str> = stored.keys().filter(|k| !sent.contains(**k)).collect();
    assert!(
        strays.is_empty(),
        "stored but never acknowledged: {strays:?}"
    );
    let events: Vec<(String,)> =
        sqlx::query_as("SELECT aggregate_id || ':' || sequence FROM events ORDER BY position")
            .fetch_all(&mut db)
            .await
            .unwrap();
    events.into_iter().map(|(id,)| id).collect()
}

/// The followers on the workers caught up with the log: every projection and
/// checkpointed follower has applied every event (none skipped: each counts what
/// it applied), and the complaints list shows each complaint once.
async fn check_followers(cluster: &Cluster, supervisor: &GraphqlClient, events: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = supervisor
            .ok("{ projections { name lagEvents eventsApplied } complaints(first: 1) { totalCount } }", json!({}))
            .await;
        let idle = last["projections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["lagEvents"] == 0);
        if idle && last["complaints"]["totalCount"].as_u64() == Some(events as u64) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut db = cluster.db().await;
    let (complaints,): (i64,) = sqlx::query_as(
        "SELECT count(DISTINCT aggregate_id) FROM events WHERE aggregate_type = 'Complaint'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        last["complaints"]["totalCount"].as_i64(),
        Some(complaints),
        "the complaints list shows each stored complaint once: {last}"
    );
    for p in last["projections"].as_array().unwrap() {
        assert_eq!(p["lagEvents"], 0, "a follower did not catch up: {last}");
    }
}

/// Each event reached the webhook receiver (re-sends of an acknowledged id are
/// allowed by Standard Webhooks; a missing or extra id is not), in log order.
async fn check_webhooks(hooks: &crate::webhooks::Receiver, ids: &[String]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got: Vec<String> = Vec::new();
    while Instant::now() < deadline {
        got = hooks
            .distinct()
            .into_iter()
            .map(|d| d.envelope["id"].as_str().unwrap().to_string())
            .collect();
        if got.len() >= ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        got.len(),
        ids.len(),
        "webhooks: distinct deliveries against the log's events"
    );
    assert!(
        sorted(got) == sorted(ids.to_vec()),
        "webhooks: not the log's events"
    );
    assert_eq!(hooks.bad_signatures.load(Ordering::SeqCst), 0);
    // A re-send is one batch cut off by a change of leader at most (two
    // changes, 100 events a batch), not a second deliverer.
    let resent = hooks.acknowledged().len() - ids.len();
    assert!(resent <= 200, "webhooks: {resent} deliveries re-sent");
    resent
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The relay's stream holds every event once (when the drill turned NATS on).
async fn check_nats(cluster: &Cluster, ids: &[String]) {
    let Some(stream_name) = cluster.vars.get("ADUAN_NATS_STREAM") else {
        eprintln!("ha: NATS relay not checked (the drill sets ADUAN_NATS_URL)");
        return;
    };
    let client = async_nats::connect(cluster.var("ADUAN_NATS_URL"))
        .await
        .expect("NATS (scripts/ensure-nats)");
    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream(stream_name)
        .await
        .expect("the relay's stream");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut info = stream.info().await.unwrap().clone();
    while (info.state.messages as usize) < ids.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        info = stream.info().await.unwrap().clone();
    }
    let mut seen = HashSet::new();
    let mut got = Vec::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let message = stream.get_raw_message(seq).await.expect("a stored message");
        let envelope: Value = serde_json::from_slice(&message.payload).unwrap();
        let id = envelope["id"].as_str().unwrap().to_string();
        assert!(seen.insert(id.clone()), "NATS: {id} published twice");
        got.push(id);
    }
    assert_eq!(
        got.len(),
        ids.len(),
        "NATS: messages against the log's events"
    );
    assert!(
        sorted(got) == sorted(ids.to_vec()),
        "NATS: not the log's events"
    );
    js.delete_stream(stream_name)
        .await
        .expect("delete the drill's stream");
}

/// `/readyz` of every process said 503 while there was no leader and 200 once
/// there was one again; returns how long after the promotion each API process was
/// ready again (the slowest).
fn check_readiness(probes: &[Probe], t: &Timeline) -> Duration {
    let urls: HashSet<&str> = probes.iter().map(|p| p.url.as_str()).collect();
    let mut slowest = Duration::ZERO;
    for url in urls {
        let of = |from: Duration, to: Duration| {
            probes
                .iter()
                .filter(move |p| p.url == url && p.at >= from && p.at < to)
        };
        // HAProxy routes to the new leader a check interval after the promotion.
        let routed = t.promoted + Duration::from_secs(2);
        assert!(
            of(t.killed, routed).any(|p| p.status == 503),
            "{url}/readyz never said 503 between the kill and the promotion: {:?}; {t:?}",
            of(t.killed, routed).collect::<Vec<_>>()
        );
        let back = of(t.promoted, t.switch_asked)
            .find(|p| p.status == 200)
            .unwrap_or_else(|| panic!("{url}/readyz not 200 after the promotion"));
        slowest = slowest.max(back.at.saturating_sub(t.promoted));
        // Ready again after the switchover, and at the end (a probe in between
        // may time out on a busy machine: that is load, not the database).
        assert!(
            of(t.switched, Duration::MAX).any(|p| p.status == 200),
            "{url}/readyz not 200 after the switchover; {t:?}"
        );
        let last = of(Duration::ZERO, Duration::MAX).next_back().unwrap();
        assert_eq!(last.status, 200, "{url}/readyz at the end: {last:?}");
    }
    slowest
}

fn report_figures(done: &[Command], t: &Timeline, ready: Duration, nodes: [usize; 4]) {
    // The first command acknowledged whose attempt went out after the kill: it
    // was written on the new leader.
    let first_after = |from: Duration| {
        done.iter()
            .filter(|c| c.last_sent >= from)
            .map(|c| c.answered)
            .min()
            .expect("a command succeeded")
            - from
    };
    // The longest any command took, first attempt to acknowledgement, among those
    // under way at `at`.
    let longest = |at: Duration| {
        done.iter()
            .filter(|c| c.first <= at + Duration::from_secs(1) && c.answered >= at)
            .map(|c| c.answered - c.first)
            .max()
            .unwrap_or_default()
    };
    let retries: u32 = done.iter().map(|c| c.attempts - 1).sum();
    let retried = done.iter().filter(|c| c.attempts > 1).count();
    let [killed, promoted, demoted, leading] = nodes;
    eprintln!(
        "ha: {} commands acknowledged, none lost or stored twice; {retried} needed retries \
         ({retries} retries after UNAVAILABLE). Failover (SIGKILL of pg{killed}'s postmaster): \
         pg{promoted} promoted after {:?}, first successful command {:?} after the kill, \
         /readyz 200 again {ready:?} after the promotion, longest command {:?}. Switchover \
         pg{demoted} -> pg{leading}: done {:?} after patronictl was asked, longest command {:?}.",
        done.len(),
        t.promoted - t.killed,
        first_after(t.killed),
        longest(t.killed),
        t.switched - t.switch_asked,
        longest(t.switch_asked),
    );
}
