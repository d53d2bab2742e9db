//! The durable projector against a real PostgreSQL: concurrent writers, a late
//! commit, crashes mid-batch, and live pick-up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::future::join_all;
use sqlx::{Connection, PgConnection};

use aduan_projections::{ComplaintSummary, Projection, Projector};
use aduan_store::{CommandBus, StoreError, StoredEvent};
use aduan_testkit::fixtures::{agent, bus, request, submit, submitted_event, verify};
use aduan_testkit::TestDatabase;

async fn pool(db: &TestDatabase) -> sqlx::PgPool {
    sqlx::PgPool::connect(&db.url).await.expect("pool")
}

async fn scalar(db: &TestDatabase, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&mut db.connect().await)
        .await
        .unwrap()
}

/// Every complaint's row saw each of its events exactly once.
async fn assert_exactly_once(db: &TestDatabase) {
    let mismatched = scalar(
        db,
        "SELECT count(*) FROM (SELECT aggregate_id, count(*) AS n FROM events GROUP BY aggregate_id) e \
         FULL JOIN complaint_summary s ON s.complaint_id = e.aggregate_id \
         WHERE s.events_applied IS DISTINCT FROM e.n OR s.version IS DISTINCT FROM e.n",
    )
    .await;
    assert_eq!(
        mismatched, 0,
        "some complaint's events were skipped or applied twice"
    );
    let seen = scalar(
        db,
        "SELECT events_seen FROM projection_checkpoints WHERE name = 'complaint_summary'",
    )
    .await;
    assert_eq!(seen, scalar(db, "SELECT count(*) FROM events").await);
}

/// Inserts a Submitted event in a transaction left open: its position is taken
/// now, but it becomes visible only when the returned connection commits.
async fn begin_late_event(db: &TestDatabase, id: &str) -> PgConnection {
    let event = submitted_event(id, chrono::Utc::now());
    let mut conn = db.connect().await;
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('Complaint', $1, 1, 'Submitted', '1', $2, $3)",
    )
    .bind(id)
    .bind(serde_json::to_value(&event).unwrap())
    .bind(serde_json::json!({"actor_id": "late", "actor_role": "AGENT", "channel": "test", "correlation_id": "late"}))
    .execute(&mut conn)
    .await
    .unwrap();
    conn
}

async fn write_many(bus: Arc<CommandBus>, prefix: &str, writers: usize, per_writer: usize) {
    let tasks = (0..writers).map(|w| {
        let bus = bus.clone();
        let prefix = prefix.to_string();
        tokio::spawn(async move {
            for i in 0..per_writer {
                let id = format!("{prefix}{w}-{i}");
                bus.execute(request(&id, agent(), submit(&id), None))
                    .await
                    .unwrap();
                bus.execute(request(&id, agent(), verify("ok"), None))
                    .await
                    .unwrap();
            }
        })
    });
    for t in join_all(tasks).await {
        t.unwrap();
    }
}

async fn wait_for_catch_up(db: &TestDatabase) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let total = scalar(db, "SELECT count(*) FROM events").await;
        let seen = scalar(
            db,
            "SELECT coalesce(max(events_seen), 0) FROM projection_checkpoints",
        )
        .await;
        if seen == total {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "projector stuck at {seen} of {total} events"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_a_late_commit_are_each_applied_exactly_once() {
    let db = TestDatabase::create().await;
    let bus = Arc::new(bus(&db).await);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let projector = Arc::new(Projector::new(pool(&db).await, summary()).with_batch(7));
    let running = tokio::spawn({
        let projector = projector.clone();
        async move { projector.run(stopped).await }
    });
    // Its position is lower than everything the writers append, but it commits last:
    // a reader that followed `position` alone would pass it and never come back.
    let late = begin_late_event(&db, "late-1").await;
    write_many(bus.clone(), "a", 8, 15).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    late.commit_transaction().await;
    write_many(bus, "b", 4, 5).await;
    wait_for_catch_up(&db).await;
    assert_exactly_once(&db).await;
    assert_eq!(
        scalar(
            &db,
            "SELECT count(*) FROM complaint_summary WHERE complaint_id = 'late-1'"
        )
        .await,
        1
    );
    stop.send(true).unwrap();
    running.await.unwrap();
    db.drop_db().await;
}

trait CommitLater {
    async fn commit_transaction(self);
}

impl CommitLater for PgConnection {
    async fn commit_transaction(mut self) {
        sqlx::query("COMMIT").execute(&mut self).await.unwrap();
        self.close().await.unwrap();
    }
}

/// The summary projection, but it fails on the n-th event it is given: a crash
/// between applying rows and writing the checkpoint.
struct CrashOn {
    inner: ComplaintSummary,
    remaining: std::sync::atomic::AtomicI64,
}

#[async_trait]
impl Projection for CrashOn {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn renamed(&self, name: &str) -> Self {
        CrashOn {
            inner: self.inner.renamed(name),
            remaining: self
                .remaining
                .load(std::sync::atomic::Ordering::SeqCst)
                .into(),
        }
    }

    async fn apply(&self, tx: &mut PgConnection, batch: &[StoredEvent]) -> Result<(), StoreError> {
        self.inner.apply(tx, batch).await?;
        let n = batch.len() as i64;
        let before = self
            .remaining
            .fetch_sub(n, std::sync::atomic::Ordering::SeqCst);
        if (1..=n).contains(&before) {
            return Err(StoreError::Other("simulated crash".into()));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crash_mid_batch_loses_nothing_and_applies_nothing_twice() {
    let db = TestDatabase::create().await;
    let bus = Arc::new(bus(&db).await);
    write_many(bus, "c", 3, 10).await; // 60 events
    db.settle().await;
    let crashing = Projector::new(
        pool(&db).await,
        CrashOn {
            inner: summary(),
            remaining: 25.into(),
        },
    )
    .with_batch(10);
    assert_eq!(crashing.step().await.unwrap(), 10);
    assert_eq!(crashing.step().await.unwrap(), 10);
    assert!(
        crashing.step().await.is_err(),
        "the third batch crashes halfway"
    );
    assert_eq!(crashing.checkpoint().await.unwrap().events_seen, 20);
    let healthy = Projector::new(pool(&db).await, summary()).with_batch(10);
    assert_eq!(healthy.catch_up().await.unwrap(), 40);
    assert_exactly_once(&db).await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_is_picked_up_live_and_a_second_projector_stands_by() {
    let db = TestDatabase::create().await;
    let bus = bus(&db).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let first = Arc::new(Projector::new(pool(&db).await, summary()));
    let second = Arc::new(Projector::new(pool(&db).await, summary()));
    let runs: Vec<_> = [first, second]
        .into_iter()
        .map(|p| {
            let stopped = stopped.clone();
            tokio::spawn(async move { p.run(stopped).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..5 {
        let id = format!("live-{i}");
        bus.execute(request(&id, agent(), submit(&id), None))
            .await
            .unwrap();
        let committed = Instant::now();
        loop {
            let found = scalar(
                &db,
                &format!("SELECT count(*) FROM complaint_summary WHERE complaint_id = '{id}'"),
            )
            .await;
            if found == 1 {
                break;
            }
            assert!(
                committed.elapsed() < Duration::from_secs(5),
                "{id} not projected within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_exactly_once(&db).await;
    stop.send(true).unwrap();
    for r in runs {
        r.await.unwrap();
    }
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_summary_holds_no_personal_data() {
    let db = TestDatabase::create().await;
    let bus = bus(&db).await;
    let mut action = submit("pii-1");
    if let aduan_domain::Action::Submit(s) = &mut action {
        s.reporter = Some(aduan_domain::Reporter {
            subject: None,
            name: Some("Siti Aminah".into()),
            phone: Some("+62 812 3456 7890".into()),
            email: Some("siti@example.id".into()),
        });
        s.location.address = Some("Jl. Rahasia 7".into());
    }
    bus.execute(request("pii-1", agent(), action, None))
        .await
        .unwrap();
    db.settle().await;
    Projector::new(pool(&db).await, summary())
        .catch_up()
        .await
        .unwrap();
    let row: String = sqlx::query_scalar("SELECT row_to_json(s)::text FROM complaint_summary s")
        .fetch_one(&mut db.connect().await)
        .await
        .unwrap();
    for secret in ["Siti", "3456", "siti@example.id", "Rahasia"] {
        assert!(
            !row.contains(secret),
            "{secret} leaked into complaint_summary: {row}"
        );
    }
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_leader_stops_a_standby_takes_over() {
    let db = TestDatabase::create().await;
    let bus = bus(&db).await;
    // Both projectors share one pool, as two tasks of one server would.
    let pool = pool(&db).await;
    let (stop_leader, leader_stopped) = tokio::sync::watch::channel(false);
    let leader = Arc::new(Projector::new(pool.clone(), summary()));
    let leading = tokio::spawn({
        let leader = leader.clone();
        async move { leader.run(leader_stopped).await }
    });
    bus.execute(request("one", agent(), submit("one"), None))
        .await
        .unwrap();
    wait_for_catch_up(&db).await;
    stop_leader.send(true).unwrap();
    leading.await.unwrap();

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let standby = Arc::new(Projector::new(pool, summary()));
    let standing = tokio::spawn({
        let standby = standby.clone();
        async move { standby.run(stopped).await }
    });
    bus.execute(request("two", agent(), submit("two"), None))
        .await
        .unwrap();
    wait_for_catch_up(&db).await;
    assert_exactly_once(&db).await;
    stop.send(true).unwrap();
    standing.await.unwrap();
    db.drop_db().await;
}

fn summary() -> ComplaintSummary {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    ComplaintSummary::new(calendar, book)
}

/// A batch touching more complaints than one statement can carry parameters for
/// (65,535) is written in several statements, and still exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_wider_than_one_statement_is_written_whole() {
    let db = TestDatabase::create().await;
    bus(&db).await; // migrates
    let mut conn = db.connect().await;
    for i in 0..3000 {
        let id = format!("wide-{i}");
        let event = submitted_event(&id, chrono::Utc::now());
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             VALUES ('Complaint', $1, 1, 'Submitted', '1', $2, $3)",
        )
        .bind(&id)
        .bind(serde_json::to_value(&event).unwrap())
        .bind(serde_json::json!({"actor_id": "bulk", "actor_role": "AGENT", "channel": "test", "correlation_id": "bulk"}))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    db.settle().await;
    let (calendar, book) = aduan_testkit::fixtures::sla();
    let (summary, timers) = aduan_projections::projections(calendar, book);
    let pool = pool(&db).await;
    let applied = Projector::new(pool.clone(), summary)
        .with_batch(5000)
        .step()
        .await
        .unwrap();
    assert_eq!(applied, 3000, "one batch");
    Projector::new(pool, timers)
        .with_batch(5000)
        .catch_up()
        .await
        .unwrap();
    assert_exactly_once(&db).await;
    assert_eq!(scalar(&db, "SELECT count(*) FROM sla_timers").await, 6000);
    db.drop_db().await;
}
