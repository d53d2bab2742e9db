//! A rebuilt projection equals the incrementally built one, row for row, even when
//! it is rebuilt while writers and the live projector keep going.

use std::sync::Arc;
use std::time::Duration;

use aduan_projections::{rebuild, ComplaintSummary, Projector};
use aduan_store::CommandBus;
use aduan_testkit::fixtures::{agent, bus, request, submit, verify};
use aduan_testkit::TestDatabase;

async fn digest(db: &TestDatabase) -> (i64, String) {
    sqlx::query_as(
        "SELECT count(*), coalesce(md5(string_agg(row_to_json(s)::text, '|' ORDER BY complaint_id)), '') \
         FROM complaint_summary s",
    )
    .fetch_one(&mut db.connect().await)
    .await
    .unwrap()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuilding_while_the_server_runs_gives_the_same_rows() {
    let db = TestDatabase::create().await;
    let bus = Arc::new(bus(&db).await);
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let live = Arc::new(Projector::new(pool.clone(), summary()));
    let following = tokio::spawn({
        let live = live.clone();
        async move { live.run(stopped).await }
    });
    write(&bus, "before", 60).await;
    db.settle().await;
    let writer = tokio::spawn({
        let bus = bus.clone();
        async move { write(&bus, "during", 60).await }
    });
    let report = rebuild(&pool, &summary(), 25).await.unwrap();
    assert!(report.events >= 90, "the rebuild read the log: {report:?}");
    writer.await.unwrap();
    db.settle().await;

    // Let the live projector follow the last writes, then compare with a fresh rebuild.
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    for _ in 0..200 {
        if live.checkpoint().await.unwrap().events_seen == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(live.checkpoint().await.unwrap().events_seen, total);
    let incremental = digest(&db).await;
    assert_eq!(incremental.0, 120);
    stop.send(true).unwrap();
    following.await.unwrap();
    rebuild(&pool, &summary(), 1000).await.unwrap();
    assert_eq!(
        digest(&db).await,
        incremental,
        "rebuilt rows differ from the incremental ones"
    );
    let applied: i64 =
        sqlx::query_scalar("SELECT sum(events_applied)::bigint FROM complaint_summary")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(applied, total, "each event applied exactly once");
    db.drop_db().await;
}

fn sla_timers() -> aduan_projections::SlaTimers {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    aduan_projections::SlaTimers::new(calendar, book)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuilt_sla_timers_equal_the_incremental_ones() {
    let db = TestDatabase::create().await;
    let bus = bus(&db).await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    write(&bus, "t", 30).await;
    db.settle().await;
    let incremental = Projector::new(pool.clone(), sla_timers()).with_batch(3);
    incremental.catch_up().await.unwrap();
    let table_digest = || async {
        let digest: (i64, String) = sqlx::query_as(
            "SELECT count(*), md5(string_agg(row_to_json(t)::text, '|' ORDER BY complaint_id, leg)) FROM sla_timers t",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        digest
    };
    let before = table_digest().await;
    assert_eq!(
        before.0,
        30 * 2,
        "dispatch and resolve clocks for each complaint"
    );
    rebuild(&pool, &sla_timers(), 1000).await.unwrap();
    assert_eq!(table_digest().await, before);
    db.drop_db().await;
}

fn summary() -> ComplaintSummary {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    ComplaintSummary::new(calendar, book)
}
