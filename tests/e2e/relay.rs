//! The NATS JetStream relay: every event reaches the stream exactly once, in the
//! log's reading order, although the server (and the relay in it) is killed
//! with SIGKILL twice while the relay is publishing. Runs against the machine's
//! NATS (scripts/ensure-nats starts it), each test on a stream of its own.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures::StreamExt;
use serde_json::{json, Value};

use aduan_store::Cursor;
use aduan_testkit::{GraphqlClient, TestServer, TestStore};

use crate::support::*;

const NATS_URL: &str = "127.0.0.1:4222";
const COMMANDS: usize = 3000;
const CLIENTS: usize = 16;
/// Tries per command: about 20 s of backoff in all.
const RETRIES: u32 = 8;

on_both_stores!(relay_publishes_every_event_once_in_order_through_two_kills);

async fn jetstream() -> jetstream::Context {
    let client = async_nats::connect(NATS_URL).await.unwrap_or_else(|e| {
        panic!("NATS does not answer at {NATS_URL} ({e}); start it with scripts/ensure-nats")
    });
    jetstream::new(client)
}

fn submission(i: usize) -> Value {
    let mut report = report();
    report["commandId"] = json!(format!("relay-{i}"));
    json!({"query": SUBMIT, "variables": {"input": report}})
}

/// Submissions `range`, `CLIENTS` at a time; with `tolerant`, answers that are
/// errors or never come (the server is being killed) are fine, as the round
/// re-sends every command id anyway (a replay is stored once). Otherwise each
/// is retried with its command id after UNAVAILABLE, as docs/api.md tells
/// clients to, and the answers that stayed errors are returned.
async fn submit_many(
    client: &GraphqlClient,
    range: std::ops::Range<usize>,
    tolerant: bool,
) -> Vec<Value> {
    let http = reqwest::Client::new();
    let refused = std::sync::Mutex::new(Vec::new());
    futures::stream::iter(range)
        .for_each_concurrent(CLIENTS, |i| {
            let (http, refused) = (http.clone(), &refused);
            async move {
                if !tolerant {
                    if let Err(answer) = submit_retrying(client, i).await {
                        refused.lock().unwrap().push(answer);
                    }
                    return;
                }
                let _ = http
                    .post(&client.url)
                    .bearer_auth(&client.token)
                    .json(&submission(i))
                    .send()
                    .await;
            }
        })
        .await;
    refused.into_inner().unwrap()
}

/// Submission `i`, retried with backoff while the answer is UNAVAILABLE.
async fn submit_retrying(client: &GraphqlClient, i: usize) -> Result<(), Value> {
    let variables = submission(i)["variables"].clone();
    let mut pause = Duration::from_millis(100);
    for attempt in 1.. {
        let answer = client.query(SUBMIT, variables.clone()).await;
        let Some(errors) = answer.get("errors") else {
            return Ok(());
        };
        let unavailable = errors[0]["extensions"]["code"] == "UNAVAILABLE";
        if !unavailable || attempt == RETRIES {
            return Err(answer);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(4));
    }
    Ok(())
}

/// The log lines that say why a request failed, for a failure's message.
fn complaints_in(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

async fn relay_status(client: &GraphqlClient, field: &str) -> Option<i64> {
    let data = client
        .ok(
            "{ projections { name lagEvents eventsApplied } }",
            json!({}),
        )
        .await;
    data["projections"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == "nats_relay")
        .and_then(|p| p[field].as_i64())
}

async fn relay_lag(client: &GraphqlClient) -> Option<i64> {
    relay_status(client, "lagEvents").await
}

async fn relay_applied(client: &GraphqlClient) -> i64 {
    relay_status(client, "eventsApplied").await.unwrap_or(0)
}

async fn relay_publishes_every_event_once_in_order_through_two_kills(backend: Backend) {
    let js = jetstream().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let stream_name = format!("ADUAN_TEST_{tag}");
    let prefix = format!("aduantest.{tag}");
    let env = [
        ("ADUAN_NATS_URL", NATS_URL),
        ("ADUAN_NATS_STREAM", stream_name.as_str()),
        ("ADUAN_NATS_SUBJECT_PREFIX", prefix.as_str()),
    ];
    let store = TestStore::create(backend).await;
    let mut server = TestServer::start(BIN, &store.url, &env).await;
    let third = COMMANDS / 3;
    for round in 0..3 {
        let range = round * third..if round == 2 {
            COMMANDS
        } else {
            (round + 1) * third
        };
        let token = server.token("AGENT", None, "agent-relay").await;
        let agent = server.client(&token);
        if round < 2 {
            // Commands stream in and the relay chases them; once it has
            // published some of this round's events but not all, the server
            // dies where it stands (the relay mid-stream, commands in flight).
            let burst = tokio::spawn({
                let agent = agent.clone();
                let range = range.clone();
                async move { submit_many(&agent, range, true).await.len() }
            });
            let before = relay_applied(&agent).await;
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let position = relay_applied(&agent).await;
                let lag = relay_lag(&agent).await.unwrap_or(0);
                if position > before && lag > 0 {
                    eprintln!("round {round}: killed with the relay {lag} events behind");
                    break;
                }
                assert!(Instant::now() < deadline, "the relay never got going");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            server.kill().await;
            burst.abort();
            server = TestServer::start(BIN, &store.url, &env).await;
        }
        // Every command of the round, again: those stored already are replays.
        let token = server.token("AGENT", None, "agent-relay").await;
        let refused = submit_many(&server.client(&token), range, false).await;
        assert!(
            refused.is_empty(),
            "{} commands refused past their retries, first {}; the server's complaints:\n{}",
            refused.len(),
            refused[0],
            complaints_in(&server.log())
        );
    }
    let token = server.token("AGENT", None, "agent-relay").await;
    let agent = server.client(&token);
    let deadline = Instant::now() + Duration::from_secs(120);
    while relay_lag(&agent).await != Some(0) {
        assert!(
            Instant::now() < deadline,
            "the relay did not catch up in 2 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // What the log holds, in its reading order.
    let log = store.log().await;
    let expected: Vec<(String, i64, i64)> = log
        .read_committed_after(Cursor::default(), 1_000_000)
        .await
        .expect("read the log")
        .into_iter()
        .map(|(_, e)| (e.aggregate_id, e.sequence, e.position))
        .collect();
    assert_eq!(expected.len(), COMMANDS, "one event per submission");

    let mut stream = js
        .get_stream(&stream_name)
        .await
        .expect("the relay's stream");
    let info = stream.info().await.expect("stream info");
    let published = info.state.messages as usize;
    let mut got: Vec<(String, i64, i64)> = Vec::with_capacity(published);
    let mut ids = HashSet::new();
    for seq in info.state.first_sequence..=info.state.last_sequence {
        let message = stream.get_raw_message(seq).await.expect("a stored message");
        let envelope: Value = serde_json::from_slice(&message.payload).expect("JSON envelope");
        assert_eq!(envelope["specversion"], "1.0");
        assert!(
            message
                .subject
                .as_str()
                .starts_with(&format!("{prefix}.UNASSIGNED.")),
            "subject {}",
            message.subject
        );
        let id = envelope["id"].as_str().expect("id").to_string();
        assert!(ids.insert(id.clone()), "{id} published twice");
        let text = envelope.to_string();
        assert!(
            !text.contains("Andi"),
            "personal data left the city: {text}"
        );
        got.push((
            envelope["subject"].as_str().expect("subject").to_string(),
            envelope["sequence"].as_i64().expect("sequence"),
            envelope["position"].as_i64().expect("position"),
        ));
    }
    assert_eq!(
        got, expected,
        "the stream holds every event once, in the log's reading order"
    );
    js.delete_stream(&stream_name)
        .await
        .expect("delete the test's stream");
    stop_cleanly(server).await;
    store.drop_store().await;
}
