//! The subscribers: who they are, what they filter on, which events they must
//! receive (the bench's own reading of the access table, not the server's
//! code), and the graphql-transport-ws client that records each notice's
//! arrival.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::driver::{Fact, CATEGORIES, KECAMATAN, OPDS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Agent,
    Supervisor,
    Analyst,
    /// An OPD officer of `OPDS[i]`.
    Officer(usize),
}

impl Who {
    /// Whether the role receives the event at all (access table,
    /// `complaintEvents` and INTERNAL notes rows): the Command Center every
    /// event; an analyst every event but INTERNAL notes; an OPD officer the
    /// events after which the case is with their OPD.
    fn sees(self, fact: &Fact) -> bool {
        match self {
            Who::Agent | Who::Supervisor => true,
            Who::Analyst => !fact.internal,
            Who::Officer(opd) => fact.opd == Some(opd),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Filter {
    All,
    Opd(usize),
    Category(usize),
    Kecamatan(usize),
    /// One of the cases prepared before the load.
    Complaint(String),
    Types(&'static [&'static str]),
}

impl Filter {
    pub fn kind(&self) -> &'static str {
        match self {
            Filter::All => "none",
            Filter::Opd(_) => "opd",
            Filter::Category(_) => "category",
            Filter::Kecamatan(_) => "kecamatan",
            Filter::Complaint(_) => "complaintId",
            Filter::Types(_) => "types",
        }
    }

    fn variables(&self) -> Value {
        match self {
            Filter::All => Value::Null,
            Filter::Opd(o) => json!({"opd": OPDS[*o]}),
            Filter::Category(c) => json!({"category": CATEGORIES[*c]}),
            Filter::Kecamatan(k) => json!({"kecamatan": KECAMATAN[*k]}),
            Filter::Complaint(id) => json!({"complaintId": id}),
            Filter::Types(types) => json!({"types": types}),
        }
    }

    fn matches(&self, fact: &Fact) -> bool {
        match self {
            Filter::All => true,
            Filter::Opd(o) => fact.opd == Some(*o),
            Filter::Category(c) => fact.category == *c,
            Filter::Kecamatan(k) => fact.kecamatan == *k,
            Filter::Complaint(id) => fact.complaint == *id,
            Filter::Types(types) => types.contains(&fact.event_type),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub who: Who,
    pub filter: Filter,
}

impl Spec {
    pub fn expects(&self, fact: &Fact) -> bool {
        self.who.sees(fact) && self.filter.matches(fact)
    }
}

const TYPE_SETS: [&[&str]; 4] = [
    &["Submitted"],
    &["Assigned", "Transferred"],
    &["Closed"],
    &["NoteAdded", "Responded"],
];

/// The 1,000 subscriptions, by connection: five connections of 100 (a
/// Command Center console following cases, an analyst's board, three OPD
/// officers' queues) and 500 connections of one. `cases` are the prepared
/// cases' ids (150), which complaintId filters name.
pub fn mix(cases: &[String]) -> Vec<Vec<Spec>> {
    let spec = |who, filter| Spec { who, filter };
    let case = |i: usize| Filter::Complaint(cases[i % cases.len()].clone());
    let mut connections = Vec::new();
    connections.push((0..100).map(|i| spec(Who::Agent, case(i))).collect());
    connections.push(
        (0..100)
            .map(|i| match i {
                0..40 => spec(Who::Analyst, Filter::Category(i % 5)),
                40..80 => spec(Who::Analyst, Filter::Kecamatan(i % 8)),
                _ => spec(Who::Analyst, Filter::Types(TYPE_SETS[i % 4])),
            })
            .collect(),
    );
    for opd in [0, 1, 3] {
        let who = Who::Officer(opd);
        connections.push(
            (0..100)
                .map(|i| match i {
                    0..5 => spec(who, Filter::All),
                    5..10 => spec(who, Filter::Opd(opd)),
                    10..70 => spec(who, case(opd * 37 + i)),
                    70..85 => spec(who, Filter::Category(i % 5)),
                    _ => spec(who, Filter::Types(TYPE_SETS[i % 4])),
                })
                .collect(),
        );
    }
    let mut single = |s: Spec| connections.push(vec![s]);
    for i in 0..15 {
        let who = [Who::Agent, Who::Supervisor, Who::Analyst][i % 3];
        single(spec(who, Filter::All));
    }
    for i in 0..100 {
        single(spec(Who::Officer(i % 5), Filter::All));
    }
    for i in 0..50 {
        let who = [Who::Agent, Who::Supervisor][i % 2];
        single(spec(who, Filter::Opd(i % 5)));
    }
    for i in 0..30 {
        let who = [Who::Agent, Who::Analyst, Who::Officer(i / 3 % 5)][i % 3];
        single(spec(who, Filter::Category(i % 5)));
    }
    for i in 0..40 {
        let who = [
            Who::Agent,
            Who::Analyst,
            Who::Officer(i % 5),
            Who::Supervisor,
        ][i % 4];
        single(spec(who, Filter::Kecamatan(i % 8)));
    }
    for i in 0..208 {
        let who = [
            Who::Agent,
            Who::Officer(i % 5),
            Who::Analyst,
            Who::Supervisor,
        ][i % 4];
        single(spec(who, case(i * 7)));
    }
    for i in 0..57 {
        let who = [Who::Agent, Who::Officer(i % 5), Who::Analyst][i % 3];
        single(spec(who, Filter::Types(TYPE_SETS[i % 4])));
    }
    connections
}

const SUBSCRIPTION: &str = "subscription($filter: ComplaintEventFilter, $after: Int) { \
    complaintEvents(filter: $filter, afterPosition: $after) { \
    position sequence type complaintId occurredAt actor role \
    complaint { id status category opd } } }";

/// One notice as it arrived: the subscription (its index in the mix), the
/// event's position, and the instant its message was read off the socket.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub subscription: usize,
    pub position: i64,
    pub at: Instant,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub arrivals: Vec<Arrival>,
    /// Anything but a notice: errors, completions, a close from the server.
    pub problems: Vec<String>,
}

/// An open connection carrying its subscriptions.
pub struct Connection {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Outcome>,
}

impl Connection {
    /// Closes the connection; returns what arrived on it.
    pub async fn close(self) -> Outcome {
        let _ = self.stop.send(true);
        self.task.await.expect("connection task")
    }
}

/// Opens a graphql-transport-ws connection with `token` in `connection_init`,
/// waits for the ack, and subscribes to `complaintEvents` after `after` for
/// each of `subscriptions` (index in the mix, spec). `received` counts notices
/// as they come.
pub async fn open(
    url: String,
    token: String,
    subscriptions: Vec<(usize, Spec)>,
    after: i64,
    received: Arc<AtomicU64>,
) -> Connection {
    let mut request = url.as_str().into_client_request().expect("ws URL");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket handshake");
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    ws.send(Message::text(init.to_string())).await.unwrap();
    let ack = tokio::time::timeout(Duration::from_secs(30), ws.next())
        .await
        .expect("connection_ack within 30 s")
        .expect("a message")
        .expect("a message");
    assert!(
        ack.to_text().unwrap_or_default().contains("connection_ack"),
        "{ack:?}"
    );
    for (index, spec) in &subscriptions {
        let subscribe = json!({"type": "subscribe", "id": index.to_string(), "payload": {
            "query": SUBSCRIPTION,
            "variables": {"filter": spec.filter.variables(), "after": after},
        }});
        ws.send(Message::text(subscribe.to_string())).await.unwrap();
    }
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut outcome = Outcome::default();
        loop {
            let message = tokio::select! {
                m = ws.next() => m,
                _ = stopped.changed() => break,
            };
            let at = Instant::now();
            let text = match message {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(frame))) => {
                    outcome
                        .problems
                        .push(format!("closed by the server: {frame:?}"));
                    return outcome;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    outcome.problems.push(format!("socket error: {e}"));
                    return outcome;
                }
                None => {
                    outcome.problems.push("socket ended".into());
                    return outcome;
                }
            };
            let message: Value = serde_json::from_str(text.as_str()).expect("JSON message");
            let position = message["payload"]["data"]["complaintEvents"]["position"].as_i64();
            let id = message["id"].as_str().and_then(|id| id.parse().ok());
            match (message["type"].as_str(), id, position) {
                (Some("next"), Some(subscription), Some(position))
                    if message["payload"].get("errors").is_none() =>
                {
                    outcome.arrivals.push(Arrival {
                        subscription,
                        position,
                        at,
                    });
                    received.fetch_add(1, Ordering::Relaxed);
                }
                (Some("ping"), _, _) => {
                    let _ = ws.send(Message::text(r#"{"type":"pong"}"#)).await;
                }
                _ => outcome.problems.push(text.to_string()),
            }
        }
        let _ = ws.close(None).await;
        outcome
    });
    Connection { stop, task }
}
