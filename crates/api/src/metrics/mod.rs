//! `/metrics` in the Prometheus text format: the `metrics` facade, rendered by
//! metrics-exporter-prometheus's recorder (no HTTP listener of its own; axum
//! serves the route). Every metric is listed, with its labels and what to alert
//! on, in docs/operations.md.
//!
//! Counters and histograms are recorded where things happen (requests in
//! router.rs, commands in graphql/mutation.rs, breaches in the deadline watcher);
//! the database gauges (pool, projector lag) are read at scrape time.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use aduan_integration::webhooks::{Status, Webhooks};
use aduan_projections::Reads;
use aduan_store::{EventLog, StoreError};

use crate::error_code::ClientCode;

mod families;

pub use families::*;

/// How long a scrape waits for the database before reporting it down.
const SCRAPE_DB_TIMEOUT: Duration = Duration::from_secs(1);

/// Installs the process-wide recorder once and returns its handle.
#[allow(
    clippy::expect_used,
    reason = "the bucket lists are constants, and not empty"
)]
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let seconds = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let trips = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 50.0];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(COMMAND_SECONDS.into()), &seconds)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Full(COMMAND_ROUND_TRIPS.into()), &trips)
                })
                .expect("bucket lists are not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder already installed (several servers in one test
            // process): this handle then renders nothing but stays usable.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            let (queries, mutations) = root_fields();
            let mut commands = mutations.clone();
            commands.push(OPEN311_SUBMIT.to_string());
            let operations: Vec<String> = queries.into_iter().chain(mutations).collect();
            families::describe(&operations, &commands);
            handle
        })
        .clone()
}

/// Keeps the recorder's histograms drained into their buckets.
pub fn spawn_upkeep(handle: PrometheusHandle) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    });
}

/// One GraphQL request: `operation` from [`operation_label`], `code` "ok" or
/// the first error's `extensions.code`.
/// Counts an open WebSocket connection while it lives.
pub struct WsConnection(());

impl WsConnection {
    pub fn open() -> WsConnection {
        metrics::gauge!(WS_CONNECTIONS).increment(1.0);
        WsConnection(())
    }
}

impl Drop for WsConnection {
    fn drop(&mut self) {
        metrics::gauge!(WS_CONNECTIONS).decrement(1.0);
    }
}

pub fn subscription_started() {
    metrics::gauge!(SUBSCRIPTIONS).increment(1.0);
}

pub fn subscription_ended() {
    metrics::gauge!(SUBSCRIPTIONS).decrement(1.0);
}

/// A request's or a command's result as its `code` label: `ok`, or the code.
fn result_label(result: Result<(), ClientCode>) -> &'static str {
    result.map_or_else(ClientCode::as_str, |()| "ok")
}

pub fn record_request(operation: &str, result: Result<(), ClientCode>) {
    let code = result_label(result);
    metrics::counter!(REQUESTS, "operation" => operation.to_string(), "code" => code).increment(1);
}

/// One command through the bus: its mutation, result code ("ok" or the error's
/// code), how long it took, and how many database round trips it made when the
/// bus reports them (nothing is recorded for that histogram otherwise).
pub fn record_command(
    operation: &str,
    result: Result<(), ClientCode>,
    latency: Duration,
    round_trips: Option<u64>,
) {
    let operation = known_or_other(operation).to_string();
    let code = result_label(result);
    metrics::histogram!(COMMAND_SECONDS, "operation" => operation.clone(), "code" => code)
        .record(latency.as_secs_f64());
    if let Some(trips) = round_trips {
        metrics::histogram!(COMMAND_ROUND_TRIPS, "operation" => operation).record(trips as f64);
    }
}

/// The root fields of the schema (queries and mutations): the only values the
/// `operation` label takes besides a few fixed ones, so its cardinality stays
/// bounded whatever clients send.
#[allow(
    clippy::expect_used,
    reason = "the schema's own SDL always parses: the schema test compares it with schema.graphql"
)]
fn root_fields() -> (Vec<String>, Vec<String>) {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    let sdl = crate::graphql::sdl();
    let document = async_graphql::parser::parse_schema(&sdl).expect("our own SDL parses");
    let fields_of = |root: &str| -> Vec<String> {
        document
            .definitions
            .iter()
            .filter_map(|d| match d {
                TypeSystemDefinition::Type(t) if t.node.name.node == root => match &t.node.kind {
                    TypeKind::Object(o) => {
                        Some(o.fields.iter().map(|f| f.node.name.node.to_string()))
                    }
                    _ => None,
                },
                _ => None,
            })
            .flatten()
            .collect()
    };
    (fields_of("QueryRoot"), fields_of("MutationRoot"))
}

fn known_fields() -> &'static HashSet<String> {
    static KNOWN: OnceLock<HashSet<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let (queries, mutations) = root_fields();
        queries.into_iter().chain(mutations).collect()
    })
}

/// The `operation` label of Open311's `POST requests` (not a GraphQL field).
pub const OPEN311_SUBMIT: &str = "open311Submit";

fn known_or_other(field: &str) -> &str {
    if field == OPEN311_SUBMIT || known_fields().contains(field) {
        field
    } else {
        "other"
    }
}

/// The `operation` label of a request: its root field when it selects one
/// (`submitComplaint`, `complaints`, ...), `multiple` for several, `introspection`
/// for only `__schema`/`__type`/`__typename`, `other` for an unknown field or
/// operation, `invalid` when the document does not parse.
pub fn operation_label(document: Option<&ExecutableDocument>, name: Option<&str>) -> String {
    let Some(document) = document else {
        return "invalid".to_string();
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    let Some(operation) = operation else {
        return "other".to_string();
    };
    let mut fields: Vec<&str> = Vec::new();
    let mut other = false;
    for item in &operation.node.selection_set.node.items {
        match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                if name.starts_with("__") {
                    continue;
                }
                if !fields.contains(&name) {
                    fields.push(name);
                }
            }
            // Fragments on the root type: not worth resolving for a label.
            Selection::FragmentSpread(_) | Selection::InlineFragment(_) => other = true,
        }
    }
    match (fields.as_slice(), other) {
        ([], false) => "introspection".to_string(),
        ([one], false) => known_or_other(one).to_string(),
        ([], true) => "other".to_string(),
        _ => "multiple".to_string(),
    }
}

/// The result of a finished request: `Ok`, or the first error's code (an error
/// without one of ours is INTERNAL).
pub fn result_code(response: &async_graphql::Response) -> Result<(), ClientCode> {
    match response.errors.first() {
        None => Ok(()),
        Some(e) => Err(ClientCode::of(e.extensions.as_ref()).unwrap_or(ClientCode::Internal)),
    }
}

/// Renders every metric, after reading the database gauges.
/// `followers`: the durable followers whose lag is reported (the projections,
/// and the relay where it runs).
pub async fn render(
    handle: &PrometheusHandle,
    log: &dyn EventLog,
    followers: &[&'static str],
    webhooks: &Webhooks,
) -> String {
    refresh_database_gauges(log, followers, webhooks).await;
    handle.run_upkeep();
    handle.render()
}

/// The pool's connections, and each projection's lag behind the log. A
/// database that does not answer within a second leaves the lag gauges as they
/// were and sets `aduan_database_up` to 0.
async fn refresh_database_gauges(
    log: &dyn EventLog,
    followers: &[&'static str],
    webhooks: &Webhooks,
) {
    let reads = Reads::new(log);
    let connections = reads.connections();
    metrics::gauge!(POOL, "state" => "in_use").set(f64::from(connections.in_use));
    metrics::gauge!(POOL, "state" => "idle").set(f64::from(connections.idle));
    metrics::gauge!(POOL_MAX).set(f64::from(connections.max));
    let gauges = async {
        let lags = projector_lag(&reads, followers).await?;
        webhook_gauges(&reads, webhooks).await?;
        notification_gauges(log).await?;
        Ok::<_, StoreError>(lags)
    };
    match tokio::time::timeout(SCRAPE_DB_TIMEOUT, gauges).await {
        Ok(Ok(lags)) => {
            metrics::gauge!(DATABASE_UP).set(1.0);
            for (name, events, seconds) in lags {
                metrics::gauge!(LAG_EVENTS, "projection" => name).set(events as f64);
                metrics::gauge!(LAG_SECONDS, "projection" => name).set(seconds.max(0.0));
            }
        }
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "metrics: projector lag not read");
            metrics::gauge!(DATABASE_UP).set(0.0);
        }
        Err(_) => metrics::gauge!(DATABASE_UP).set(0.0),
    }
}

/// (projection, events not applied yet, age in seconds of the oldest of them).
async fn projector_lag(
    reads: &Reads,
    followers: &[&'static str],
) -> Result<Vec<(&'static str, i64, f64)>, StoreError> {
    let mut out = Vec::new();
    for &name in followers {
        let (events, seconds) = reads.lag(name, crate::graphql::freshness::LAG_CAP).await?;
        out.push((name, events, seconds));
    }
    Ok(out)
}

/// Notifications waiting to be sent, and those that failed for good.
async fn notification_gauges(log: &dyn EventLog) -> Result<(), StoreError> {
    let counts = aduan_store::Outbox::for_log(log).counts().await?;
    for status in ["pending", "failed"] {
        let n = counts
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        metrics::gauge!(NOTIFICATION_OUTBOX, "status" => status).set(n as f64);
    }
    Ok(())
}

/// Endpoints by status, and each one's events waiting after its last delivery.
async fn webhook_gauges(reads: &Reads, webhooks: &Webhooks) -> Result<(), StoreError> {
    let endpoints = webhooks.list().await?;
    for status in [Status::Active, Status::Paused] {
        let n = endpoints.iter().filter(|e| e.status == status).count();
        let label = if status == Status::Active {
            "active"
        } else {
            "paused"
        };
        metrics::gauge!(WEBHOOK_ENDPOINTS, "status" => label).set(n as f64);
    }
    for e in endpoints {
        let (events, _) = reads
            .lag(&e.checkpoint_name(), crate::graphql::freshness::LAG_CAP)
            .await?;
        metrics::gauge!(WEBHOOK_LAG_EVENTS, "endpoint" => e.id).set(events as f64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(query: &str, name: Option<&str>) -> String {
        let doc = async_graphql::parser::parse_query(query).ok();
        operation_label(doc.as_ref(), name)
    }

    #[test]
    fn operation_labels_are_root_fields_or_a_few_fixed_words() {
        assert_eq!(label("{ complaints { totalCount } }", None), "complaints");
        assert_eq!(
            label("mutation M { submitComplaint(input: {}) { id } }", None),
            "submitComplaint"
        );
        assert_eq!(label("{ a: opds { code } b: opds { code } }", None), "opds");
        assert_eq!(
            label("{ opds { code } categories { code } }", None),
            "multiple"
        );
        assert_eq!(
            label("{ __schema { types { name } } }", None),
            "introspection"
        );
        assert_eq!(label("{ noSuchField }", None), "other");
        assert_eq!(label("{ x", None), "invalid");
        assert_eq!(
            label(
                "query A { opds { code } } query B { me { role } }",
                Some("B")
            ),
            "me"
        );
        assert_eq!(
            label("query A { opds { code } } query B { me { role } }", None),
            "other"
        );
        assert_eq!(label("query A { opds { code } }", Some("Z")), "other");
    }
}
