//! `/metrics`: the Prometheus text the real server renders moves with the
//! requests and commands sent, and the projector lag falls to 0 once caught up.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::support::*;

on_both_stores!(metrics_follow_requests_commands_and_the_projectors);

/// One sample: its metric name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a Prometheus text exposition (no escaped quotes in our labels).
fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("name and value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => {
                    let labels = rest
                        .trim_end_matches('}')
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(|pair| {
                            let (k, v) = pair.split_once('=').expect("label=value");
                            (k.to_string(), v.trim_matches('"').to_string())
                        })
                        .collect();
                    (name.to_string(), labels)
                }
                None => (series.to_string(), BTreeMap::new()),
            };
            Sample {
                name,
                labels,
                value: value
                    .parse()
                    .unwrap_or_else(|e| panic!("{line}: value {value}: {e}")),
            }
        })
        .collect()
}

struct Scrape(Vec<Sample>, String);

impl Scrape {
    /// The value of the series `name` with exactly `labels`.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.0
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in:\n{}", self.1))
    }
}

async fn scrape(env: &Env) -> Scrape {
    let response = env.server.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    Scrape(parse(&text), text)
}

const REQUESTS: &str = "aduan_graphql_requests_total";
const LIST: &str = "{ complaints(first: 5) { totalCount } }";

async fn metrics_follow_requests_commands_and_the_projectors(backend: Backend) {
    let env = Env::start(backend).await;
    let first = scrape(&env).await;
    assert_eq!(first.value("aduan_database_up", &[]), 1.0);
    assert!(first.value("aduan_db_pool_max_connections", &[]) >= 1.0);
    let pooled = first.value("aduan_db_pool_connections", &[("state", "in_use")])
        + first.value("aduan_db_pool_connections", &[("state", "idle")]);
    assert!(pooled >= 1.0, "the pool has connections: {pooled}");
    assert_eq!(
        first.value("aduan_watcher_breaches_recorded_total", &[]),
        0.0
    );
    assert_eq!(first.value("aduan_watcher_auto_closed_total", &[]), 0.0);
    for projection in ["complaint_summary", "sla_timers", "survey_responses"] {
        first.value("aduan_projector_lag_events", &[("projection", projection)]);
        first.value("aduan_projector_lag_seconds", &[("projection", projection)]);
    }
    assert_eq!(
        first.get(
            REQUESTS,
            &[("operation", "submitComplaint"), ("code", "ok")]
        ),
        None,
        "a fresh server has counted no submission"
    );

    // Three submissions, two verifications, one verification of nothing, four
    // lists, one document that does not parse, one unknown field.
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(env.submit().await);
    }
    for id in &ids[..2] {
        env.agent.ok(MUTATE_VERIFY, input(id, json!({}))).await;
    }
    let missing = input("no-such-complaint", json!({}));
    assert_eq!(
        env.agent.error_code(MUTATE_VERIFY, missing).await,
        "NOT_FOUND"
    );
    for _ in 0..4 {
        env.agent.ok(LIST, json!({})).await;
    }
    assert_eq!(
        env.agent.error_code("{ complaints", json!({})).await,
        "BAD_REQUEST"
    );
    assert_eq!(
        env.agent.error_code("{ noSuchField }", json!({})).await,
        "BAD_REQUEST"
    );

    let after = scrape(&env).await;
    let requests = |operation: &str, code: &str| {
        after.value(REQUESTS, &[("operation", operation), ("code", code)])
    };
    assert_eq!(requests("submitComplaint", "ok"), 3.0);
    assert_eq!(requests("verifyComplaint", "ok"), 2.0);
    assert_eq!(requests("verifyComplaint", "NOT_FOUND"), 1.0);
    assert_eq!(requests("complaints", "ok"), 4.0);
    assert_eq!(requests("invalid", "BAD_REQUEST"), 1.0);
    assert_eq!(requests("other", "BAD_REQUEST"), 1.0);

    // The command latency histogram counts each command once, in its buckets.
    let seconds = "aduan_command_duration_seconds";
    for (operation, code, n) in [
        ("submitComplaint", "ok", 3.0),
        ("verifyComplaint", "ok", 2.0),
        ("verifyComplaint", "NOT_FOUND", 1.0),
    ] {
        let labels = [("operation", operation), ("code", code)];
        assert_eq!(after.value(&format!("{seconds}_count"), &labels), n);
        assert!(after.value(&format!("{seconds}_sum"), &labels) > 0.0);
        let all = [("operation", operation), ("code", code), ("le", "+Inf")];
        assert_eq!(after.value(&format!("{seconds}_bucket"), &all), n);
        let ten = [("operation", operation), ("code", code), ("le", "10")];
        assert_eq!(after.value(&format!("{seconds}_bucket"), &ten), n);
    }
    assert_eq!(
        after.get(
            &format!("{seconds}_count"),
            &[("operation", "complaints"), ("code", "ok")]
        ),
        None,
        "queries are not commands"
    );
    // Database round trips per command (of the commands carried out): a
    // submission needs one, a verification one or two (see the command bus).
    let trips = "aduan_command_db_round_trips";
    for (operation, n, most) in [("submitComplaint", 3.0, 3.0), ("verifyComplaint", 2.0, 4.0)] {
        let labels = [("operation", operation)];
        assert_eq!(after.value(&format!("{trips}_count"), &labels), n);
        let sum = after.value(&format!("{trips}_sum"), &labels);
        assert!(
            sum >= n && sum <= most,
            "{operation}: {sum} round trips for {n} commands"
        );
        let one = [("operation", operation), ("le", "1")];
        assert!(after.value(&format!("{trips}_bucket"), &one) >= 1.0);
    }

    // Once the projectors have caught up, they lag by nothing.
    env.store.settle().await;
    let mut lag = Vec::new();
    for _ in 0..100 {
        let now = scrape(&env).await;
        lag = ["complaint_summary", "sla_timers", "survey_responses"]
            .iter()
            .flat_map(|p| {
                [
                    now.value("aduan_projector_lag_events", &[("projection", p)]),
                    now.value("aduan_projector_lag_seconds", &[("projection", p)]),
                ]
            })
            .collect();
        if lag.iter().all(|v| *v == 0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(lag, [0.0; 6], "projector lag after catch-up");
    env.finish().await;
}
