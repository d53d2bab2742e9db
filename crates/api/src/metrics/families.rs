//! Every metric family the server exports: its name, its HELP text, and the
//! series it shows from the start. docs/operations.md lists the same families
//! (tests/e2e/metrics.rs compares the page with a fresh server's `/metrics`, and
//! runs `promtool check metrics` over it).
//!
//! Series are made at 0 when the recorder is installed, so a counter's rate
//! and an alert on its first increase have a series to read from the first
//! scrape: counters for each documented label value, the WebSocket gauges,
//! and the request counter and command histograms for each operation's `ok`.

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

use aduan_integration::notify::Channel;

pub const REQUESTS: &str = "aduan_graphql_requests_total";
pub const COMMAND_SECONDS: &str = "aduan_command_duration_seconds";
pub const COMMAND_ROUND_TRIPS: &str = "aduan_command_db_round_trips";
pub const LAG_EVENTS: &str = "aduan_projector_lag_events";
pub const LAG_SECONDS: &str = "aduan_projector_lag_seconds";
/// Recorded by `complaint(id)` and `node` when the summary row was behind the
/// case's log and the case was folded from its events instead.
pub const CASE_READS_FOLDED: &str = "aduan_case_reads_folded_total";
pub const POOL: &str = "aduan_db_pool_connections";
pub const POOL_MAX: &str = "aduan_db_pool_max_connections";
pub const DATABASE_UP: &str = "aduan_database_up";
pub const WS_CONNECTIONS: &str = "aduan_websocket_connections";
pub const SUBSCRIPTIONS: &str = "aduan_subscriptions_active";
pub const WEBHOOK_ENDPOINTS: &str = "aduan_webhook_endpoints";
pub const WEBHOOK_LAG_EVENTS: &str = "aduan_webhook_lag_events";
pub const WEBHOOK_DELIVERIES: &str = aduan_integration::webhooks::DELIVERIES_METRIC;
pub const NOTIFICATION_OUTBOX: &str = "aduan_notification_outbox";
pub const NOTIFICATIONS: &str = aduan_integration::notify::SENT_METRIC;
pub const RELAY_PUBLISHED: &str = aduan_integration::relay::PUBLISHED_METRIC;
pub const NATIONAL_IMPORTED: &str = aduan_integration::national::inbound::IMPORTED_METRIC;
pub const NATIONAL_SENT: &str = aduan_integration::national::outbound::SENT_METRIC;
/// Recorded by the deadline watcher (crates/projections/src/watcher.rs).
pub const BREACHES: &str = aduan_projections::watcher::BREACHES_METRIC;
pub const AUTO_CLOSED: &str = aduan_projections::watcher::AUTO_CLOSED_METRIC;
/// Recorded by the incident closer (crates/api/src/incidents.rs).
pub const INCIDENT_CLOSED: &str = crate::incidents::CLOSED_METRIC;
/// Recorded by the automatic acknowledger (crates/api/src/acknowledger.rs).
pub const AUTO_ACKNOWLEDGED: &str = crate::acknowledger::SENT_METRIC;
/// Recorded by the audit follower (crates/api/src/audit.rs).
pub const AUDIT_TREE_SIZE: &str = "aduan_audit_tree_size";
pub const AUDIT_CHECKPOINT_TIME: &str = "aduan_audit_checkpoint_timestamp_seconds";
pub const AUDIT_CHECKPOINT_FAILURES: &str = "aduan_audit_checkpoint_failures_total";
/// Recorded by the read side's replicas (crates/projections/src/replicas.rs).
pub const REPLICA_READS: &str = aduan_projections::replicas::READS_METRIC;
pub const REPLICA_WAITS: &str = aduan_projections::replicas::WAITS_METRIC;

/// Webhook delivery outcomes (the worker's `outcome` label).
const DELIVERY_OUTCOMES: [&str; 2] = ["delivered", "failed"];
/// Notification outcomes (the sender's `outcome` label).
const NOTIFY_OUTCOMES: [&str; 4] = ["sent", "skipped", "retried", "failed"];

/// HELP for every family, then the series shown from the start.
/// `operations`: every root field (the request counter's `operation`);
/// `commands`: the operations that run a command (the histograms').
pub fn describe(operations: &[String], commands: &[String]) {
    describe_requests();
    describe_followers();
    describe_integration();
    crate::calendar::describe();
    start_at_zero(operations, commands);
}

fn describe_requests() {
    describe_counter!(
        REQUESTS,
        "GraphQL requests by root field (operation) and result code (ok or the first error's code)"
    );
    describe_histogram!(
        COMMAND_SECONDS,
        Unit::Seconds,
        "Time the command bus took per mutation, by result code"
    );
    describe_histogram!(
        COMMAND_ROUND_TRIPS,
        "Database round trips the command bus made per command"
    );
    describe_counter!(
        CASE_READS_FOLDED,
        "Single-case reads that found the summary behind the case's log and folded its events instead"
    );
    describe_gauge!(POOL, "Database pool connections by state (in_use, idle)");
    describe_gauge!(POOL_MAX, "The database pool's maximum size");
    describe_gauge!(
        DATABASE_UP,
        "1 when the database answered the last scrape's queries within 1 s"
    );
    describe_gauge!(WS_CONNECTIONS, "Open GraphQL WebSocket connections");
    describe_gauge!(
        SUBSCRIPTIONS,
        "Operations running on GraphQL WebSocket connections (subscriptions, mostly)"
    );
    describe_counter!(
        REPLICA_READS,
        "Reads sent to a read replica, by who answered (replica, or primary when the replica failed)"
    );
    describe_counter!(
        REPLICA_WAITS,
        "Reads with minPosition routed to a replica, by outcome (reached within the wait, or behind: the primary answered)"
    );
}

fn describe_followers() {
    describe_gauge!(
        LAG_EVENTS,
        "Events in the log the projection has not applied yet"
    );
    describe_gauge!(
        LAG_SECONDS,
        Unit::Seconds,
        "Age of the oldest event the projection has not applied yet (0 when caught up)"
    );
    describe_counter!(BREACHES, "SLA breaches the deadline watcher recorded");
    describe_counter!(
        AUTO_CLOSED,
        "Cases the deadline watcher closed automatically"
    );
    describe_counter!(
        INCIDENT_CLOSED,
        "Linked duplicates the incident closer closed with their primary"
    );
    describe_counter!(
        AUTO_ACKNOWLEDGED,
        "Verified cases the automatic acknowledger answered with their category's template"
    );
    describe_gauge!(
        AUDIT_TREE_SIZE,
        "Events sealed into the audit tree as of the latest checkpoint (0 before this process's first)"
    );
    describe_gauge!(
        AUDIT_CHECKPOINT_TIME,
        Unit::Seconds,
        "Unix time the latest audit checkpoint was signed (0 before this process's first)"
    );
    describe_counter!(
        AUDIT_CHECKPOINT_FAILURES,
        "Audit checkpoint attempts that failed (database unreachable, or an event that no longer matches its hash)"
    );
}

fn describe_integration() {
    describe_counter!(
        RELAY_PUBLISHED,
        "Events the NATS relay published and JetStream acknowledged"
    );
    describe_counter!(
        WEBHOOK_DELIVERIES,
        "Webhook delivery attempts by outcome (delivered, failed)"
    );
    describe_gauge!(
        WEBHOOK_ENDPOINTS,
        "Registered webhook endpoints by status (active, paused)"
    );
    describe_gauge!(
        WEBHOOK_LAG_EVENTS,
        "Events in the log after a webhook endpoint's last delivery, by endpoint id"
    );
    describe_gauge!(
        NOTIFICATION_OUTBOX,
        "Notifications to reporters waiting to be sent (pending) and given up (failed)"
    );
    describe_counter!(
        NOTIFICATIONS,
        "Notification sends by channel and outcome (sent, skipped, retried, failed)"
    );
    describe_counter!(
        NATIONAL_IMPORTED,
        "National platform reports this process made into new cases"
    );
    describe_counter!(
        NATIONAL_SENT,
        "Follow-ups the national platform acknowledged from this process"
    );
}

/// The series that exist before anything happened, at 0. Gauges read at
/// scrape time (pool, lag, outbox, endpoints, calendar) are not set here.
fn start_at_zero(operations: &[String], commands: &[String]) {
    for name in [
        BREACHES,
        AUTO_CLOSED,
        INCIDENT_CLOSED,
        AUTO_ACKNOWLEDGED,
        RELAY_PUBLISHED,
        NATIONAL_IMPORTED,
        NATIONAL_SENT,
        AUDIT_CHECKPOINT_FAILURES,
        CASE_READS_FOLDED,
    ] {
        metrics::counter!(name).increment(0);
    }
    for outcome in aduan_projections::replicas::READ_OUTCOMES {
        metrics::counter!(REPLICA_READS, "outcome" => outcome).increment(0);
    }
    for outcome in aduan_projections::replicas::WAIT_OUTCOMES {
        metrics::counter!(REPLICA_WAITS, "outcome" => outcome).increment(0);
    }
    for outcome in DELIVERY_OUTCOMES {
        metrics::counter!(WEBHOOK_DELIVERIES, "outcome" => outcome).increment(0);
    }
    for channel in [Channel::Email, Channel::Sms, Channel::WhatsApp] {
        for outcome in NOTIFY_OUTCOMES {
            metrics::counter!(NOTIFICATIONS, "channel" => channel.as_str(), "outcome" => outcome)
                .increment(0);
        }
    }
    for name in [
        WS_CONNECTIONS,
        SUBSCRIPTIONS,
        AUDIT_TREE_SIZE,
        AUDIT_CHECKPOINT_TIME,
    ] {
        metrics::gauge!(name).increment(0.0);
    }
    for operation in operations {
        metrics::counter!(REQUESTS, "operation" => operation.clone(), "code" => "ok").increment(0);
    }
    // A histogram's handle alone renders its buckets at 0.
    for operation in commands {
        let _ =
            metrics::histogram!(COMMAND_SECONDS, "operation" => operation.clone(), "code" => "ok");
        let _ = metrics::histogram!(COMMAND_ROUND_TRIPS, "operation" => operation.clone());
    }
}
