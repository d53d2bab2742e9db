//! The load a rolling restart runs under, as docs/api.md tells clients to
//! behave: submitters that send each command with a `commandId` and retry it
//! with the same one on UNAVAILABLE, and a subscriber that reconnects on a
//! close 1001 and resumes after the last position it saw.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use aduan_testkit::{Reply, WsClient};

use crate::subscriptions::EVENTS;
use crate::support::{report, MUTATE_VERIFY, SUBMIT};

/// What one submitter saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// HTTP requests sent (retries included).
    pub requests: usize,
    /// Commands acknowledged: their `commandId` and the complaint's id.
    pub acknowledged: Vec<(String, String)>,
    /// UNAVAILABLE answers retried with the same `commandId` (and then acknowledged).
    pub retried: usize,
    /// Anything else that was not an answer: what it was.
    pub failures: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.requests += other.requests;
        self.acknowledged.extend(other.acknowledged);
        self.retried += other.retried;
        self.failures.extend(other.failures);
    }
}

/// One POST of a command: the body, or why there was none.
async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    document: &str,
    input: &Value,
) -> Result<Value, String> {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&json!({"query": document, "variables": {"input": input}}))
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| format!("body: {e}"))?;
    if !status.is_success() {
        return Err(format!("HTTP {status}: {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("not JSON ({e}): {text}"))
}

/// Who sends the commands: a citizen submits, an agent verifies.
pub struct Clients {
    pub url: String,
    pub citizen: String,
    pub agent: String,
}

impl Clients {
    /// Sends `document` with `input` and a new `commandId`, retried with the
    /// same one while the answer is UNAVAILABLE; the complaint's id once
    /// acknowledged.
    async fn command(
        &self,
        http: &reqwest::Client,
        tally: &mut Tally,
        token: &str,
        document: &str,
        mut input: Value,
    ) -> Option<String> {
        let command_id = uuid::Uuid::new_v4().to_string();
        input["commandId"] = json!(command_id);
        for attempt in 1.. {
            tally.requests += 1;
            let body = match post(http, &self.url, token, document, &input).await {
                Ok(body) => body,
                Err(failure) => {
                    tally.failures.push(failure);
                    return None;
                }
            };
            let code = body["errors"][0]["extensions"]["code"].as_str();
            if code == Some("UNAVAILABLE") && attempt < 20 {
                tally.retried += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let id = body["data"].as_object().and_then(|d| d.values().next());
            match id.and_then(|c| c["id"].as_str()) {
                Some(id) if code.is_none() => {
                    tally.acknowledged.push((command_id, id.to_string()));
                    return Some(id.to_string());
                }
                _ => {
                    tally.failures.push(body.to_string());
                    return None;
                }
            }
        }
        None
    }
}

/// Until `stop`: submits a complaint, then verifies it (two events in order).
pub async fn submitter(clients: Clients, stop: Arc<AtomicBool>) -> Tally {
    let http = reqwest::Client::new();
    let mut tally = Tally::default();
    while !stop.load(Ordering::Relaxed) {
        let (citizen, agent) = (&clients.citizen, &clients.agent);
        let submitted = clients
            .command(&http, &mut tally, citizen, SUBMIT, report())
            .await;
        if let Some(id) = submitted {
            let verify = json!({"complaintId": id});
            clients
                .command(&http, &mut tally, agent, MUTATE_VERIFY, verify)
                .await;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tally
}

/// A notice as the subscriber received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub position: i64,
    pub complaint: String,
    pub sequence: i64,
}

/// What the subscriber saw: the notices, its reconnections after 1001, and
/// anything else (another close, an error).
#[derive(Debug, Default)]
pub struct Subscriber {
    pub seen: Vec<Seen>,
    pub resumed: usize,
    pub failures: Vec<String>,
}

/// Follows every event through the load balancer from the start of the log
/// until `done`, reconnecting and resuming on each close 1001.
pub async fn subscriber(
    base_url: String,
    token: String,
    out: Arc<Mutex<Subscriber>>,
    done: Arc<AtomicBool>,
) {
    let mut after = 0;
    while !done.load(Ordering::Relaxed) {
        let mut ws = WsClient::connected(&base_url, Some(&token)).await;
        ws.subscribe("s", EVENTS, json!({"after": after})).await;
        loop {
            if done.load(Ordering::Relaxed) {
                return;
            }
            let Some((_, reply, _)) = ws.any_reply_within(Duration::from_millis(200)).await else {
                match ws.closed() {
                    None => continue,
                    Some((1001, _)) => out.lock().unwrap().resumed += 1,
                    Some(other) => out
                        .lock()
                        .unwrap()
                        .failures
                        .push(format!("close {other:?}")),
                }
                break;
            };
            let notice = match reply {
                Reply::Next(payload) if payload.get("errors").is_none() => {
                    payload["data"]["complaintEvents"].clone()
                }
                other => {
                    out.lock().unwrap().failures.push(format!("{other:?}"));
                    return;
                }
            };
            after = notice["position"].as_i64().unwrap();
            out.lock().unwrap().seen.push(Seen {
                position: after,
                complaint: notice["complaintId"].as_str().unwrap().to_string(),
                sequence: notice["sequence"].as_i64().unwrap(),
            });
        }
    }
}
