//! A rebuilt projection equals the incrementally built one, row for row, even when
//! it is rebuilt while writers and the live projector keep going.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::Arc;
use std::time::Duration;

use aduan_projections::{rebuild, ComplaintSummary, Projector};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus, request, submit, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    rebuilding_while_the_server_runs_gives_the_same_rows,
    rebuilt_sla_timers_equal_the_incremental_ones,
    an_erasure_drops_the_text_and_a_rebuild_gives_the_same_rows,
);

async fn indexes(store: &TestStore) -> i64 {
    let sql = match store.backend {
        Backend::Postgres => {
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'complaint_summary'"
        }
        Backend::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'complaint_summary'"
        }
    };
    store.scalar(sql).await
}

/// The rows without `sla_state_swept`: a cache of the clock that the live
/// projector's sweep fills in whenever it runs, not a function of the events (a
/// rebuilt table starts unswept; see `sla_sweep`).
async fn rows(store: &TestStore) -> Vec<String> {
    store
        .rows_as_text_except("complaint_summary", "complaint_id", &["sla_state_swept"])
        .await
}

async fn write(bus: &CommandBus, prefix: &str, n: usize) {
    for i in 0..n {
        let id = format!("{prefix}-{i}");
        bus.execute(request(&id, agent(), submit(&id), None))
            .await
            .unwrap();
        if i % 2 == 0 {
            bus.execute(request(&id, agent(), verify("ok"), None))
                .await
                .unwrap();
        }
    }
}

async fn rebuilding_while_the_server_runs_gives_the_same_rows(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = Arc::new(bus(&store).await);
    let log = store.log().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let live = Arc::new(Projector::new(log.clone(), summary()));
    let following = tokio::spawn({
        let live = live.clone();
        async move { live.run(stopped).await }
    });
    write(&bus, "before", 60).await;
    store.settle().await;
    let writer = tokio::spawn({
        let bus = bus.clone();
        async move { write(&bus, "during", 60).await }
    });
    let report = rebuild(&log, &summary(), 25).await.unwrap();
    assert!(report.events >= 90, "the rebuild read the log: {report:?}");
    writer.await.unwrap();
    store.settle().await;

    // Let the live projector follow the last writes, then compare with a fresh rebuild.
    let total = store.scalar("SELECT count(*) FROM events").await;
    for _ in 0..200 {
        if live.checkpoint().await.unwrap().events_seen == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(live.checkpoint().await.unwrap().events_seen, total);
    let incremental = rows(&store).await;
    assert_eq!(incremental.len(), 120);
    let indexes_before = indexes(&store).await;
    assert!(indexes_before >= 3, "{indexes_before}");
    stop.send(true).unwrap();
    following.await.unwrap();
    rebuild(&log, &summary(), 1000).await.unwrap();
    assert_eq!(
        rows(&store).await,
        incremental,
        "rebuilt rows differ from the incremental ones"
    );
    let applied = store
        .scalar("SELECT CAST(sum(events_applied) AS BIGINT) FROM complaint_summary")
        .await;
    assert_eq!(applied, total, "each event applied exactly once");
    // The swapped-in table has the live table's indexes, and a second rebuild
    // finds them where the first left them.
    assert_eq!(indexes(&store).await, indexes_before);
    rebuild(&log, &summary(), 1000).await.unwrap();
    assert_eq!(rows(&store).await, incremental);
    assert_eq!(indexes(&store).await, indexes_before);
    store.drop_store().await;
}

fn sla_timers() -> aduan_projections::SlaTimers {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    aduan_projections::SlaTimers::new(calendar, book)
}

async fn rebuilt_sla_timers_equal_the_incremental_ones(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let log = store.log().await;
    write(&bus, "t", 30).await;
    store.settle().await;
    let incremental = Projector::new(log.clone(), sla_timers()).with_batch(3);
    incremental.catch_up().await.unwrap();
    let before = store.rows_as_text("sla_timers", "complaint_id, leg").await;
    assert_eq!(
        before.len(),
        30 * 2,
        "dispatch and resolve clocks for each complaint"
    );
    rebuild(&log, &sla_timers(), 1000).await.unwrap();
    assert_eq!(
        store.rows_as_text("sla_timers", "complaint_id, leg").await,
        before
    );
    store.drop_store().await;
}

fn summary() -> ComplaintSummary {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    ComplaintSummary::new(calendar, book)
}

/// The clocks, without the position of the event that last rewrote them.
async fn clocks(store: &TestStore) -> Vec<String> {
    store
        .rows_as_text_except("sla_timers", "complaint_id, leg", &["last_position"])
        .await
}

/// A report whose title and description a reporter taken by phone wrote.
fn personal_report(id: &str) -> aduan_domain::Action {
    let aduan_domain::Action::Submit(mut s) = submit(id) else {
        unreachable!()
    };
    s.title = aduan_testkit::fixtures::text("Lampu mati depan rumah Bu Siti");
    s.description = aduan_testkit::fixtures::text("Rumah Bu Siti nomor 12");
    aduan_domain::Action::Submit(s)
}

/// The projector, which read the submission in plain text before the erasure
/// (and keeps it in its history cache), drops the text when it applies
/// `ReporterDataErased`; a rebuild, which reads `[erased]` from the log, writes
/// the same rows; SLA timers do not move.
async fn an_erasure_drops_the_text_and_a_rebuild_gives_the_same_rows(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let log = store.log().await;
    for id in ["c-1", "c-2"] {
        bus.execute(request(id, agent(), personal_report(id), None))
            .await
            .unwrap();
        bus.execute(request(id, agent(), verify("ok"), None))
            .await
            .unwrap();
    }
    store.settle().await;
    let (summary_live, timers_live) = (
        Projector::new(log.clone(), summary()),
        Projector::new(log.clone(), sla_timers()),
    );
    summary_live.catch_up().await.unwrap();
    timers_live.catch_up().await.unwrap();
    let timers = clocks(&store).await;
    assert!(rows(&store).await.join("\n").contains("Bu Siti"));

    let supervisor = aduan_domain::Actor::new("spv-1", aduan_domain::Role::Supervisor, None);
    let context = aduan_store::RequestContext {
        channel: "test".into(),
        correlation_id: "c".into(),
    };
    let reference = aduan_domain::erasure::reporter_ref("c-1", None);
    aduan_store::erasure::erase_reporter(&bus, &supervisor, &context, &reference, "Permintaan")
        .await
        .unwrap();
    store.settle().await;
    summary_live.catch_up().await.unwrap();
    timers_live.catch_up().await.unwrap();
    let incremental = rows(&store).await;
    let erased = incremental.iter().find(|r| r.contains("c-1")).unwrap();
    assert!(
        !erased.contains("Bu Siti") && erased.contains("[erased]"),
        "{erased}"
    );
    let kept = incremental.iter().find(|r| r.contains("c-2")).unwrap();
    assert!(kept.contains("Bu Siti"), "{kept}");
    assert_eq!(clocks(&store).await, timers, "an erasure moves no clock");

    rebuild(&log, &summary(), 1000).await.unwrap();
    assert_eq!(rows(&store).await, incremental);
    rebuild(&log, &sla_timers(), 1000).await.unwrap();
    assert_eq!(clocks(&store).await, timers);
    store.drop_store().await;
}
