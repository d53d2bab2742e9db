//! No statement on the command path reads the event log row by row: each one is
//! explained over a log of 200,000 events (statistics gathered), on PostgreSQL
//! and on SQLite. A command's cost must not grow with the city's history.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_store::{PgEventLog, PgOptions, SqliteEventLog, StatementPlan};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(no_command_statement_scans_a_large_log);
on_both_stores!(updates_by_time_read_a_range_of_the_recorded_at_index);

const EVENTS: i64 = 200_000;

/// 25,000 complaints of 8 events, each event with its own command id.
async fn fill(store: &TestStore) {
    let statements = match store.backend {
        Backend::Postgres => vec![
            format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata) \
                 SELECT 'Complaint', 'bulk-' || (g / 8), g % 8 + 1, 'Escalated', '1', '{{}}', \
                        json_build_object('actor_id', 'a', 'command_id', 'bulk-key-' || g) \
                 FROM generate_series(0, {}) g",
                EVENTS - 1
            ),
            format!(
                "INSERT INTO command_ids SELECT 'bulk-key-' || g, 'bulk-' || (g / 8), g % 8 + 1 \
                 FROM generate_series(0, {}) g",
                EVENTS - 1
            ),
            "ANALYZE events".into(),
            "ANALYZE command_ids".into(),
        ],
        Backend::Sqlite => vec![
            format!(
                "WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < {}) \
                 INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata) \
                 SELECT 'Complaint', 'bulk-' || (n / 8), n % 8 + 1, 'Escalated', '1', '{{}}', \
                        json_object('actor_id', 'a', 'command_id', 'bulk-key-' || n) FROM g",
                EVENTS - 1
            ),
            format!(
                "WITH RECURSIVE g(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM g WHERE n < {}) \
                 INSERT INTO command_ids SELECT 'bulk-key-' || n, 'bulk-' || (n / 8), n % 8 + 1 \
                 FROM g",
                EVENTS - 1
            ),
            "ANALYZE".into(),
        ],
    };
    for sql in statements {
        store
            .exec(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    assert_eq!(store.scalar("SELECT count(*) FROM events").await, EVENTS);
}

/// The look-up the command path used before `command_ids`: the planner walks the
/// log for it, so the detector must see a scan (or this test proves nothing).
async fn old_command_id_lookup(store: &TestStore) -> StatementPlan {
    match store.backend {
        Backend::Postgres => PgEventLog::connect(&store.url, &PgOptions::default())
            .unwrap()
            .plan_of(
                "SELECT aggregate_id FROM events WHERE metadata ->> 'command_id' = $1 \
                 ORDER BY position LIMIT 1",
                &["bulk-key-77"],
            )
            .await
            .unwrap(),
        Backend::Sqlite => SqliteEventLog::open(
            std::path::Path::new(store.url.trim_start_matches("sqlite://")),
            1,
        )
        .unwrap()
        .plan_of(
            "SELECT aggregate_id FROM events \
                     WHERE json_extract(metadata, '$.command_id') = ? ORDER BY position LIMIT 1",
            &["bulk-key-77"],
        )
        .await
        .unwrap(),
    }
}

async fn no_command_statement_scans_a_large_log(backend: Backend) {
    let store = TestStore::create(backend).await;
    let log = store.log().await;
    fill(&store).await;
    let plans = log.command_path_plans().await.unwrap();
    assert!(plans.len() >= 3, "load, append and the command id look-up");
    for (name, plan) in &plans {
        assert!(
            plan.scans.is_empty(),
            "{name} reads {:?} row by row over {EVENTS} events:\n{}",
            plan.scans,
            plan.plan
        );
    }
    let old = old_command_id_lookup(&store).await;
    assert!(
        !old.scans.is_empty(),
        "the detector missed the old look-up's scan:\n{}",
        old.plan
    );
    store.drop_store().await;
}

/// Open311's `servicerequestupdates` reads the log by time (`sql::recorded_between`,
/// with its parameters typed for EXPLAIN): a range of `events_recorded_at`,
/// never a walk of the log, whatever the planner thinks of the event types.
async fn updates_by_time_read_a_range_of_the_recorded_at_index(backend: Backend) {
    let store = TestStore::create(backend).await;
    let _log = store.log().await;
    fill(&store).await;
    let select = "SELECT aggregate_id, sequence, position, event_type, event_version, payload, \
         metadata, recorded_at, hash, prev_hash FROM events";
    let plan = match backend {
        Backend::Postgres => PgEventLog::connect(&store.url, &PgOptions::default())
            .unwrap()
            .plan_of(
                &format!(
                    "{select} WHERE recorded_at >= $1::timestamptz AND recorded_at < $2::timestamptz \
                     AND event_type IN ($4, $5) ORDER BY recorded_at, position LIMIT $3::bigint"
                ),
                &["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "1000", "Closed", "Verified"],
            )
            .await
            .unwrap(),
        Backend::Sqlite => SqliteEventLog::open(
            std::path::Path::new(store.url.trim_start_matches("sqlite://")),
            1,
        )
        .unwrap()
        .plan_of(
            &format!(
                "{select} WHERE recorded_at >= ? AND recorded_at < ? \
                 AND event_type IN (?, ?) ORDER BY recorded_at, position LIMIT 1000"
            ),
            &["2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "Closed", "Verified"],
        )
        .await
        .unwrap(),
    };
    assert!(
        plan.scans.is_empty(),
        "the updates' read walks {:?} over {EVENTS} events:\n{}",
        plan.scans,
        plan.plan
    );
    assert!(plan.plan.contains("events_recorded_at"), "{}", plan.plan);
    store.drop_store().await;
}
