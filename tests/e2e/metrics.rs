//! `/metrics`: the Prometheus text the real server renders moves with the
//! requests and commands sent, and the projector lag falls to 0 once caught up.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::*;

on_both_stores!(metrics_follow_requests_commands_and_the_projectors);
on_both_stores!(metrics_pass_promtool_and_every_documented_family_is_there_from_the_start);

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
    for projection in [
        "complaint_summary",
        "sla_timers",
        "survey_responses",
        "handoff_legs",
    ] {
        first.value("aduan_projector_lag_events", &[("projection", projection)]);
        first.value("aduan_projector_lag_seconds", &[("projection", projection)]);
    }
    assert_eq!(
        first.get(
            REQUESTS,
            &[("operation", "submitComplaint"), ("code", "ok")]
        ),
        Some(0.0),
        "a fresh server has counted no submission (and shows the series at 0)"
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
    // submission needs two (its case number's draw, the append), a
    // verification one or two (see the command bus).
    let trips = "aduan_command_db_round_trips";
    let commands = [
        ("submitComplaint", 3.0, (6.0, 6.0), "2"),
        ("verifyComplaint", 2.0, (2.0, 4.0), "1"),
    ];
    for (operation, n, (least, most), fewest) in commands {
        let labels = [("operation", operation)];
        assert_eq!(after.value(&format!("{trips}_count"), &labels), n);
        let sum = after.value(&format!("{trips}_sum"), &labels);
        assert!(
            sum >= least && sum <= most,
            "{operation}: {sum} round trips for {n} commands"
        );
        let bucket = [("operation", operation), ("le", fewest)];
        assert!(after.value(&format!("{trips}_bucket"), &bucket) >= 1.0);
    }

    // Once the projectors have caught up, they lag by nothing.
    env.store.settle().await;
    let mut lag = Vec::new();
    for _ in 0..100 {
        let now = scrape(&env).await;
        lag = [
            "complaint_summary",
            "sla_timers",
            "survey_responses",
            "handoff_legs",
        ]
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
    assert_eq!(lag, [0.0; 8], "projector lag after catch-up");
    env.finish().await;
}

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Runs promtool (scripts/ensure-promtool installs it; scripts/test runs that)
/// with `args`, `stdin` on its standard input; panics on any complaint.
fn promtool(args: &[&str], stdin: &str) {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("promtool: {e} (run scripts/ensure-promtool)"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "promtool {args:?}: {stdout}{stderr}");
    if args.first() == Some(&"check") && args.get(1) == Some(&"metrics") {
        // The linter prints its complaints and may still exit 0 on some.
        assert!(
            stdout.trim().is_empty() && stderr.trim().is_empty(),
            "promtool: {stdout}{stderr}"
        );
    }
}

/// The families docs/operations.md's metrics table lists: (name, type).
fn documented_families() -> BTreeMap<String, String> {
    let page = std::fs::read_to_string(repo_file("docs/operations.md")).unwrap();
    let families: BTreeMap<String, String> = page
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix("`aduan_")?.strip_suffix('`')?;
            Some((format!("aduan_{name}"), cells.get(2)?.to_string()))
        })
        .collect();
    assert!(families.len() > 20, "the table was not found: {families:?}");
    families
}

/// `# TYPE` lines of an exposition: (family, type).
fn exported_families(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').unwrap();
            (name.to_string(), kind.to_string())
        })
        .collect()
}

/// Families shown only once something exists to report on.
const LATER: [&str; 1] = ["aduan_webhook_lag_events"];

async fn metrics_pass_promtool_and_every_documented_family_is_there_from_the_start(
    backend: Backend,
) {
    let env = Env::start(backend).await;
    let fresh = scrape(&env).await;
    promtool(&["check", "metrics"], &fresh.1);
    let documented = documented_families();
    let exported = exported_families(&fresh.1);
    for (name, kind) in &documented {
        if LATER.contains(&name.as_str()) {
            continue;
        }
        assert_eq!(
            exported.get(name),
            Some(kind),
            "{name} ({kind}) is documented but not exported from the start:\n{}",
            fresh.1
        );
    }
    for name in exported.keys() {
        assert!(
            documented.contains_key(name),
            "{name} is exported but not documented"
        );
    }
    // Counters at 0 with each documented label value; gauges at their value.
    for outcome in ["delivered", "failed"] {
        let labels = [("outcome", outcome)];
        assert_eq!(fresh.value("aduan_webhook_deliveries_total", &labels), 0.0);
    }
    for channel in ["email", "sms", "whatsapp"] {
        for outcome in ["sent", "skipped", "retried", "failed"] {
            let labels = [("channel", channel), ("outcome", outcome)];
            assert_eq!(fresh.value("aduan_notifications_total", &labels), 0.0);
        }
    }
    for zero in [
        "aduan_audit_checkpoint_failures_total",
        "aduan_relay_published_total",
        "aduan_national_reports_imported_total",
        "aduan_national_followups_sent_total",
        "aduan_websocket_connections",
        "aduan_subscriptions_active",
    ] {
        assert_eq!(fresh.value(zero, &[]), 0.0, "{zero}");
    }
    for status in ["active", "paused"] {
        assert_eq!(
            fresh.value("aduan_webhook_endpoints", &[("status", status)]),
            0.0
        );
    }
    let ok = [("operation", "verifyComplaint"), ("code", "ok")];
    assert_eq!(
        fresh.value("aduan_command_duration_seconds_count", &ok),
        0.0
    );

    // An endpoint brings its lag series; the page still passes the linter.
    let register = "mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { endpoint { id } } }";
    let input = json!({"input": {"url": "http://127.0.0.1:9/hook"}});
    let data = env.supervisor.ok(register, input).await;
    let id = data["registerWebhook"]["endpoint"]["id"].as_str().unwrap();
    env.submit().await;
    let later = scrape(&env).await;
    promtool(&["check", "metrics"], &later.1);
    later.value("aduan_webhook_lag_events", &[("endpoint", id)]);
    assert_eq!(
        later.value("aduan_webhook_endpoints", &[("status", "active")]),
        1.0
    );
    env.finish().await;
}

/// docs/alerts.yml parses as Prometheus rules, names only documented families,
/// and docs/operations.md explains every alert it holds (and no other).
#[test]
fn the_alert_rules_parse_and_match_the_docs() {
    let rules = repo_file("docs/alerts.yml");
    promtool(&["check", "rules", rules.to_str().unwrap()], "");
    let text = std::fs::read_to_string(&rules).unwrap();
    let documented = documented_families();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let yaml_lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    for word in words(&yaml_lines.join("\n")) {
        if !word.starts_with("aduan_") {
            continue;
        }
        let family = ["_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| word.strip_suffix(s).filter(|f| documented.contains_key(*f)))
            .unwrap_or(&word);
        assert!(
            documented.contains_key(family),
            "docs/alerts.yml uses {word}, not documented"
        );
    }
    let alerts: BTreeSet<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .map(str::to_string)
        .collect();
    assert!(alerts.len() >= 10, "{alerts:?}");
    let page = std::fs::read_to_string(repo_file("docs/operations.md")).unwrap();
    let named: BTreeSet<String> = words(&page)
        .into_iter()
        .filter(|w| w.starts_with("Aduan") && w.len() > 5)
        .collect();
    assert_eq!(
        alerts, named,
        "alerts in docs/alerts.yml vs named in docs/operations.md"
    );
}

/// The linter's helper fails on what promtool complains about (here: no HELP,
/// a counter without `_total`), so a passing test means a clean page.
#[test]
#[should_panic(expected = "no help text")]
fn the_promtool_helper_fails_on_a_complaint() {
    promtool(
        &["check", "metrics"],
        "# TYPE foo_count counter\nfoo_count 1\n",
    );
}
