//! The drill's checks after the stream: the commands, the log, the followers
//! (projections, webhooks, the NATS relay), `/readyz`, and the figures printed.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use aduan_testkit::GraphqlClient;

use super::{Cluster, Command, Probe, Timeline};

/// How often a code was seen, and the first few commands it answered (when sent).
type Seen<'a> = (usize, Vec<(&'a str, Duration)>);

/// Every command was acknowledged, retried past UNAVAILABLE only.
pub(super) fn check_commands(done: &[Command], timeline: &Timeline) {
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
pub(super) async fn check_log(cluster: &Cluster, done: &[Command]) -> Vec<String> {
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
pub(super) async fn check_followers(
    cluster: &Cluster,
    supervisor: &GraphqlClient,
    complaints: usize,
) {
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
        if idle && last["complaints"]["totalCount"].as_u64() == Some(complaints as u64) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut db = cluster.db().await;
    let (stored,): (i64,) = sqlx::query_as(
        "SELECT count(DISTINCT aggregate_id) FROM events WHERE aggregate_type = 'Complaint'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        last["complaints"]["totalCount"].as_i64(),
        Some(stored),
        "the complaints list shows each stored complaint once: {last}"
    );
    for p in last["projections"].as_array().unwrap() {
        assert_eq!(p["lagEvents"], 0, "a follower did not catch up: {last}");
    }
}

/// Each event reached the webhook receiver (re-sends of an acknowledged id are
/// allowed by Standard Webhooks; a missing or extra id is not), in log order.
pub(super) async fn check_webhooks(hooks: &crate::webhooks::Receiver, ids: &[String]) -> usize {
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
pub(super) async fn check_nats(cluster: &Cluster, ids: &[String]) {
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
pub(super) fn check_readiness(probes: &[Probe], t: &Timeline) -> Duration {
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
        // may time out on a busy machine: that is load, not the database; the
        // last one, after the stream, is given 10 s).
        assert!(
            of(t.switched, Duration::MAX).any(|p| p.status == 200),
            "{url}/readyz not 200 after the switchover; {t:?}"
        );
        let last = of(Duration::ZERO, Duration::MAX).next_back().unwrap();
        assert_eq!(last.status, 200, "{url}/readyz at the end: {last:?}");
    }
    slowest
}

pub(super) fn report_figures(done: &[Command], t: &Timeline, ready: Duration, nodes: [usize; 4]) {
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
        "ha: {} commands acknowledged ({} submissions, the rest verifications), none lost or \
         stored twice; {retried} needed retries \
         ({retries} retries after UNAVAILABLE). Failover (SIGKILL of pg{killed}'s postmaster): \
         pg{promoted} promoted after {:?}, first successful command {:?} after the kill, \
         /readyz 200 again {ready:?} after the promotion, longest command {:?}. Switchover \
         pg{demoted} -> pg{leading}: done {:?} after patronictl was asked, longest command {:?}.",
        done.len(),
        done.iter().filter(|c| c.is_submission()).count(),
        t.promoted - t.killed,
        first_after(t.killed),
        longest(t.killed),
        t.switched - t.switch_asked,
        longest(t.switch_asked),
    );
}
