//! The roll-ups (`crates/projections/src/rollup.rs`) against direct computations
//! over the rows, on a seeded city: the dashboard at many scopes and instants,
//! `totalCount` of status, OPD and SLA-state filters, and the roll-up tables of
//! an incremental build against those of a rebuild.

use chrono::{Duration, Utc};

use aduan_domain::sla::TimerState;
use aduan_projections::dashboard::Scope;
use aduan_projections::summary_query::SummaryFilter;
use aduan_projections::{rebuild, rollup_fold, Projector, Reads};
use aduan_testkit::{on_both_stores, Backend, TestStore};

use crate::support::run_cli;

on_both_stores!(the_rollups_give_what_the_rows_give);

async fn rollup_rows(store: &TestStore, table: &str) -> Vec<String> {
    store
        .texts(&format!(
            "SELECT opd || '/' || day || '/' || measure || '=' || CAST(n AS TEXT) FROM {table} \
             WHERE n <> 0 ORDER BY opd, day, measure"
        ))
        .await
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        (a, b) => a == b,
    }
}

/// `totalCount` of status, OPD and SLA-state filters from the counters equals
/// the count over the rows, as of `now` plus each of `hours`.
async fn counts_agree(reads: &Reads, now: chrono::DateTime<Utc>, hours: &[i64]) {
    let statuses = [
        vec![],
        vec!["ASSIGNED".to_string(), "IN_PROGRESS".to_string()],
        vec!["CLOSED".to_string()],
    ];
    let opds = [
        vec![],
        vec!["DPU".to_string()],
        vec!["DLH".into(), "DPU".into()],
    ];
    let slas = [
        vec![],
        vec![TimerState::Breached],
        vec![TimerState::AtRisk],
        vec![TimerState::OnTrack],
        vec![TimerState::Met, TimerState::AtRisk],
    ];
    for &hours in hours {
        for statuses in &statuses {
            for opds in &opds {
                for sla_states in &slas {
                    let filter = SummaryFilter {
                        statuses: statuses.clone(),
                        opds: opds.clone(),
                        sla_states: sla_states.clone(),
                        now: now + Duration::hours(hours),
                        ..SummaryFilter::default()
                    };
                    assert_eq!(
                        reads.count(&filter).await.unwrap(),
                        reads.count_rows(&filter).await.unwrap(),
                        "{filter:?}"
                    );
                }
            }
        }
    }
}

async fn the_rollups_give_what_the_rows_give(backend: Backend) {
    let store = TestStore::create(backend).await;
    run_cli(&["seed", "--cases", "300", "--days", "50"], &store.url).await;
    store.settle().await;
    let log = store.log().await;
    let sla = aduan_api::settings::load_sla(None).unwrap();
    let (summary, timers) = aduan_api::settings::projections(&sla).unwrap();

    // Incrementally, in small batches: each complaint's rows replaced many times.
    Projector::new(log.clone(), summary.clone())
        .with_batch(37)
        .catch_up()
        .await
        .unwrap();
    Projector::new(log.clone(), timers.clone())
        .with_batch(53)
        .catch_up()
        .await
        .unwrap();
    let incremental = (
        rollup_rows(&store, "complaint_summary_rollup").await,
        rollup_rows(&store, "sla_timers_rollup").await,
    );
    assert!(incremental.0.len() > 50 && incremental.1.len() > 50);

    let reads = Reads::new(log.as_ref());
    let now = Utc::now();
    let mut checked = 0;
    for opd in [Some("DPU"), Some("DLH"), None] {
        for (from, to) in [
            (now - Duration::days(365), now + Duration::days(1)),
            (now - Duration::days(20), now - Duration::hours(30)),
            (now - Duration::days(45) - Duration::minutes(7), now),
            (now - Duration::days(2), now - Duration::days(1)),
        ] {
            for at in [now, now - Duration::days(10), now + Duration::days(3)] {
                let scope = Scope {
                    opd: opd.map(str::to_string),
                    from,
                    to,
                };
                let fast = reads.dashboard(&scope, at).await.unwrap();
                let slow = reads.dashboard_direct(&scope, at).await.unwrap();
                let what = format!("{opd:?} {from} .. {to} at {at}");
                assert_eq!(
                    (fast.open, fast.overdue, fast.backlog_by_age, fast.ratings),
                    (slow.open, slow.overdue, slow.backlog_by_age, slow.ratings),
                    "{what}"
                );
                for (a, b) in [
                    (fast.response_compliance_pct, slow.response_compliance_pct),
                    (
                        fast.resolution_compliance_pct,
                        slow.resolution_compliance_pct,
                    ),
                    (fast.respond_p50_seconds, slow.respond_p50_seconds),
                    (fast.respond_p90_seconds, slow.respond_p90_seconds),
                    (fast.resolve_p50_seconds, slow.resolve_p50_seconds),
                    (fast.resolve_p90_seconds, slow.resolve_p90_seconds),
                    (fast.satisfaction_index, slow.satisfaction_index),
                ] {
                    assert!(close(a, b), "{what}: {fast:?} vs {slow:?}");
                }
                checked += usize::from(slow.open > 0 && slow.respond_p50_seconds.is_some());
            }
        }
    }
    assert!(checked > 5, "the scopes hold data");

    counts_agree(&reads, now, &[0, 5, 30, 24 * 9, -24 * 20, -24 * 40]).await;

    // Several statuses: one index range each, merged, page after page.
    let filter = SummaryFilter {
        statuses: vec!["ASSIGNED".into(), "IN_PROGRESS".into(), "CLOSED".into()],
        opds: vec!["DPU".into()],
        now,
        ..SummaryFilter::default()
    };
    let mut after = None;
    let mut listed = Vec::new();
    loop {
        let (rows, more) = reads.page(&filter, after.as_ref(), 7).await.unwrap();
        listed.extend(
            rows.iter()
                .map(|r| (r.created_at, r.complaint_id.clone(), r.status.clone())),
        );
        after = rows
            .last()
            .map(|r| aduan_projections::summary_query::Keyset::of(filter.order, r));
        if !more {
            break;
        }
    }
    assert_eq!(
        listed.len() as i64,
        reads.count_rows(&filter).await.unwrap()
    );
    assert!(listed.len() > 20);
    assert!(listed
        .windows(2)
        .all(|w| (w[0].0, &w[0].1) > (w[1].0, &w[1].1)));
    assert!(listed.iter().all(|(_, _, s)| filter.statuses.contains(s)));

    // A rebuild builds the same roll-ups from zero.
    rebuild(&log, &summary, 1000).await.unwrap();
    rebuild(&log, &timers, 1000).await.unwrap();
    let rebuilt = (
        rollup_rows(&store, "complaint_summary_rollup").await,
        rollup_rows(&store, "sla_timers_rollup").await,
    );
    assert_eq!(rebuilt, incremental);

    // Folding the all-time counters whose days have passed leaves fewer to
    // read and changes no count from the day before the fold on.
    let counters = "SELECT count(*) FROM complaint_summary_rollup WHERE day = ''";
    let before = store.scalar(counters).await;
    let gone = rollup_fold::fold(log.as_ref(), "complaint_summary", Utc::now())
        .await
        .unwrap();
    let after = store.scalar(counters).await;
    assert!(
        gone > 0 && after < before,
        "{gone} counters gone, {before} before, {after} after"
    );
    counts_agree(&reads, Utc::now(), &[0, 5, 30, 24 * 9, 24 * 40]).await;
    store.drop_store().await;
}
