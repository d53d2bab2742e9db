//! The durable projector against a real PostgreSQL and a real SQLite: concurrent
//! writers, a late commit (PostgreSQL), crashes mid-batch, and live pick-up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use sqlx::{Connection, PgConnection};

use aduan_projections::{ComplaintSummary, Projector};
use aduan_store::{codec, CommandBus, Metadata};
use aduan_testkit::fixtures::{agent, bus, request, submit, submitted_event, verify};
use aduan_testkit::{on_both_stores, Backend, TestDatabase, TestStore};

on_both_stores!(
    concurrent_writers_are_each_applied_exactly_once,
    a_crash_mid_batch_loses_nothing_and_applies_nothing_twice,
    a_commit_is_picked_up_live_by_one_of_two_projectors,
    the_summary_holds_no_personal_data,
    a_batch_wider_than_one_statement_is_written_whole,
);

fn summary() -> ComplaintSummary {
    let (calendar, book) = aduan_testkit::fixtures::sla();
    ComplaintSummary::new(calendar, book)
}

/// Every complaint's row saw each of its events exactly once.
async fn assert_exactly_once(store: &TestStore) {
    let mismatched = store
        .scalar(
            "SELECT count(*) FROM (SELECT aggregate_id, count(*) AS n FROM events GROUP BY aggregate_id) e \
             FULL JOIN complaint_summary s ON s.complaint_id = e.aggregate_id \
             WHERE s.events_applied IS DISTINCT FROM e.n OR s.version IS DISTINCT FROM e.n",
        )
        .await;
    assert_eq!(
        mismatched, 0,
        "some complaint's events were skipped or applied twice"
    );
    let seen = store
        .scalar("SELECT events_seen FROM projection_checkpoints WHERE name = 'complaint_summary'")
        .await;
    assert_eq!(seen, store.scalar("SELECT count(*) FROM events").await);
}

async fn wait_for_catch_up(store: &TestStore) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let total = store.scalar("SELECT count(*) FROM events").await;
        let seen = store
            .scalar("SELECT coalesce(max(events_seen), 0) FROM projection_checkpoints")
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

async fn concurrent_writers_are_each_applied_exactly_once(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = Arc::new(bus(&store).await);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let projector = Arc::new(Projector::new(store.log().await, summary()).with_batch(7));
    let running = tokio::spawn({
        let projector = projector.clone();
        async move { projector.run(stopped).await }
    });
    write_many(bus.clone(), "a", 8, 15).await;
    write_many(bus, "b", 4, 5).await;
    store.settle().await;
    wait_for_catch_up(&store).await;
    assert_exactly_once(&store).await;
    stop.send(true).unwrap();
    running.await.unwrap();
    store.drop_store().await;
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

/// PostgreSQL only: SQLite has one writer, so a lower position cannot commit
/// after a higher one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_a_late_commit_are_each_applied_exactly_once() {
    let store = TestStore::create(Backend::Postgres).await;
    let db = store.pg.as_ref().unwrap();
    let bus = Arc::new(bus(&store).await);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let projector = Arc::new(Projector::new(store.log().await, summary()).with_batch(7));
    let running = tokio::spawn({
        let projector = projector.clone();
        async move { projector.run(stopped).await }
    });
    // Its position is lower than everything the writers append, but it commits last:
    // a reader that followed `position` alone would pass it and never come back.
    let late = begin_late_event(db, "late-1").await;
    write_many(bus.clone(), "a", 8, 15).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    late.commit_transaction().await;
    write_many(bus, "b", 4, 5).await;
    wait_for_catch_up(&store).await;
    assert_exactly_once(&store).await;
    assert_eq!(
        store
            .scalar("SELECT count(*) FROM complaint_summary WHERE complaint_id = 'late-1'")
            .await,
        1
    );
    stop.send(true).unwrap();
    running.await.unwrap();
    store.drop_store().await;
}

/// PostgreSQL only: transaction ids are cluster-wide, so a horizon taken from
/// the whole cluster's snapshot waited for writers in other databases. One left
/// open beside the log must not hold its projector back; one in the log's own
/// database still must (the late-commit test above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_open_in_another_database_does_not_hold_the_projector_back() {
    let store = TestStore::create(Backend::Postgres).await;
    let neighbour = TestStore::create(Backend::Postgres).await;
    let mut open = neighbour.pg.as_ref().unwrap().connect().await;
    sqlx::query("BEGIN").execute(&mut open).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut open)
        .await
        .unwrap();
    let bus = Arc::new(bus(&store).await);
    write_many(bus, "n", 2, 5).await;
    let projector = Projector::new(store.log().await, summary());
    let applied = projector.catch_up().await.unwrap();
    assert_eq!(
        i64::try_from(applied).unwrap(),
        store.scalar("SELECT count(*) FROM events").await,
        "the neighbour's open transaction held the projector back"
    );
    assert_exactly_once(&store).await;
    open.commit_transaction().await;
    store.drop_store().await;
    neighbour.drop_store().await;
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

/// A crash between writing a batch's rows and moving the checkpoint: a trigger
/// makes the checkpoint update fail once 20 events have been applied, inside the
/// same transaction as the third batch's rows.
async fn a_crash_mid_batch_loses_nothing_and_applies_nothing_twice(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = Arc::new(bus(&store).await);
    write_many(bus, "c", 3, 10).await; // 60 events
    store.settle().await;
    let crash = match backend {
        Backend::Postgres => vec![
            "CREATE FUNCTION crash() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'simulated crash'; END; $$",
            "CREATE TRIGGER crash BEFORE UPDATE ON projection_checkpoints \
             FOR EACH ROW WHEN (NEW.events_seen > 20) EXECUTE FUNCTION crash()",
        ],
        Backend::Sqlite => vec![
            "CREATE TRIGGER crash BEFORE UPDATE ON projection_checkpoints \
             WHEN NEW.events_seen > 20 BEGIN SELECT RAISE(ABORT, 'simulated crash'); END",
        ],
    };
    for sql in crash {
        store.exec(sql).await.unwrap();
    }
    let projector = Projector::new(store.log().await, summary()).with_batch(10);
    assert_eq!(projector.step().await.unwrap(), 10);
    assert_eq!(projector.step().await.unwrap(), 10);
    let crashed = projector.step().await;
    assert!(
        format!("{crashed:?}").contains("simulated crash"),
        "the third batch crashes at its checkpoint: {crashed:?}"
    );
    assert_eq!(projector.checkpoint().await.unwrap().events_seen, 20);
    store
        .exec("DROP TRIGGER crash ON projection_checkpoints")
        .await
        .or(store.exec("DROP TRIGGER crash").await)
        .unwrap();
    assert_eq!(projector.catch_up().await.unwrap(), 40);
    assert_exactly_once(&store).await;
    store.drop_store().await;
}

async fn a_commit_is_picked_up_live_by_one_of_two_projectors(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let first = Arc::new(Projector::new(store.log().await, summary()));
    let second = Arc::new(Projector::new(store.log().await, summary()));
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
            let found = store
                .scalar(&format!(
                    "SELECT count(*) FROM complaint_summary WHERE complaint_id = '{id}'"
                ))
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
    assert_exactly_once(&store).await;
    stop.send(true).unwrap();
    for r in runs {
        r.await.unwrap();
    }
    store.drop_store().await;
}

async fn the_summary_holds_no_personal_data(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    let mut action = submit("pii-1");
    if let aduan_domain::Action::Submit(s) = &mut action {
        s.reporter = Some(
            aduan_domain::Contact::parse(
                Some("Siti Aminah"),
                Some("+62 812 3456 7890"),
                Some("siti@example.id"),
            )
            .unwrap(),
        );
        let place = aduan_domain::Location {
            address: Some("Jl. Rahasia 7".into()),
            ..s.location.clone().into()
        };
        let reference = aduan_testkit::fixtures::services().reference;
        s.location = aduan_domain::Place::parse(&reference, &place).unwrap();
    }
    bus.execute(request("pii-1", agent(), action, None))
        .await
        .unwrap();
    store.settle().await;
    Projector::new(store.log().await, summary())
        .catch_up()
        .await
        .unwrap();
    // Every text the row holds, the folded state included.
    let columns = "complaint_id || status || channel || category || priority || title || state";
    let flagged = store
        .scalar(&format!(
            "SELECT count(*) FROM complaint_summary WHERE ({columns}) LIKE '%Siti%' \
             OR ({columns}) LIKE '%3456%' OR ({columns}) LIKE '%siti@example.id%' \
             OR ({columns}) LIKE '%Rahasia%'"
        ))
        .await;
    assert_eq!(flagged, 0, "personal data leaked into complaint_summary");
    assert_eq!(
        store.scalar("SELECT count(*) FROM complaint_summary").await,
        1
    );
    store.drop_store().await;
}

/// PostgreSQL only: SQLite projectors are not elected (see projections/src/sqlite.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_the_leader_stops_a_standby_takes_over() {
    let store = TestStore::create(Backend::Postgres).await;
    let bus = bus(&store).await;
    // Both projectors share one pool, as two tasks of one server would.
    let log = store.log().await;
    let (stop_leader, leader_stopped) = tokio::sync::watch::channel(false);
    let leader = Arc::new(Projector::new(log.clone(), summary()));
    let leading = tokio::spawn({
        let leader = leader.clone();
        async move { leader.run(leader_stopped).await }
    });
    bus.execute(request("one", agent(), submit("one"), None))
        .await
        .unwrap();
    wait_for_catch_up(&store).await;
    stop_leader.send(true).unwrap();
    leading.await.unwrap();

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let standby = Arc::new(Projector::new(log, summary()));
    let standing = tokio::spawn({
        let standby = standby.clone();
        async move { standby.run(stopped).await }
    });
    bus.execute(request("two", agent(), submit("two"), None))
        .await
        .unwrap();
    wait_for_catch_up(&store).await;
    assert_exactly_once(&store).await;
    stop.send(true).unwrap();
    standing.await.unwrap();
    store.drop_store().await;
}

/// A batch touching more complaints than one statement can carry parameters for
/// is written in several statements, and still exactly once.
async fn a_batch_wider_than_one_statement_is_written_whole(backend: Backend) {
    let store = TestStore::create(backend).await;
    let log = store.log().await;
    let metadata = Metadata {
        actor_id: "bulk".into(),
        actor_role: "AGENT".into(),
        actor_opd: None,
        channel: "test".into(),
        correlation_id: "bulk".into(),
        command_id: None,
        command_hash: None,
    };
    let events: Vec<_> = (0..3000)
        .flat_map(|i| {
            let id = format!("wide-{i}");
            let event = codec::encode(&id, 1, &submitted_event(&id, chrono::Utc::now()), &metadata)
                .unwrap();
            codec::seal(vec![event], aduan_audit::chain::GENESIS).0
        })
        .collect();
    log.append(&events, &[]).await.unwrap();
    store.settle().await;
    let (calendar, book) = aduan_testkit::fixtures::sla();
    let (summary, timers) = aduan_projections::projections(calendar, book);
    let applied = Projector::new(log.clone(), summary)
        .with_batch(5000)
        .step()
        .await
        .unwrap();
    assert_eq!(applied, 3000, "one batch");
    Projector::new(log, timers)
        .with_batch(5000)
        .catch_up()
        .await
        .unwrap();
    assert_exactly_once(&store).await;
    assert_eq!(store.scalar("SELECT count(*) FROM sla_timers").await, 6000);
    store.drop_store().await;
}
