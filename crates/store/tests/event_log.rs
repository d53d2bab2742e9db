//! The event log and command bus against a real PostgreSQL.

use std::sync::Arc;

use futures::future::join_all;

use aduan_domain::*;
use aduan_store::{CommandBus, CommandError, PgEventLog, PgOptions, StoreError};
use aduan_testkit::fixtures::{agent, bus, request, submit, verify};
use aduan_testkit::TestDatabase;

async fn count_events(db: &TestDatabase) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut db.connect().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_retries_of_one_submission_append_it_once() {
    let db = TestDatabase::create().await;
    let bus = Arc::new(bus(&db).await);
    let id = CommandBus::new_complaint_id(Some("submit-once"));
    let attempts = (0..16).map(|_| {
        let bus = bus.clone();
        let id = id.clone();
        tokio::spawn(async move {
            bus.execute(request(&id, agent(), submit(&id), Some("submit-once")))
                .await
        })
    });
    let outcomes: Vec<_> = join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(outcomes.iter().all(|o| o.version == 1 && o.case.id == id));
    assert_eq!(
        outcomes.iter().filter(|o| !o.replayed).count(),
        1,
        "exactly one attempt appended"
    );
    assert_eq!(count_events(&db).await, 1);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reused_command_id_with_another_body_is_refused_and_appends_nothing() {
    let db = TestDatabase::create().await;
    let bus = bus(&db).await;
    bus.execute(request("c-1", agent(), submit("c-1"), None))
        .await
        .unwrap();
    bus.execute(request("c-1", agent(), verify("first"), Some("k-1")))
        .await
        .unwrap();
    let replay = bus
        .execute(request("c-1", agent(), verify("first"), Some("k-1")))
        .await
        .unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.version, 2);
    let other = bus
        .execute(request("c-1", agent(), verify("second"), Some("k-1")))
        .await;
    assert!(
        matches!(other, Err(CommandError::Domain(ComplaintError::InvalidInput { ref field, .. })) if field == "commandId")
    );
    bus.execute(request("c-2", agent(), submit("c-2"), None))
        .await
        .unwrap();
    let elsewhere = bus
        .execute(request("c-2", agent(), verify("first"), Some("k-1")))
        .await;
    assert_eq!(elsewhere.unwrap_err().code(), "INVALID_INPUT");
    assert_eq!(count_events(&db).await, 3);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metadata_and_position_are_stored_with_each_event() {
    let db = TestDatabase::create().await;
    let bus = bus(&db).await;
    let first = bus
        .execute(request("c-1", agent(), submit("c-1"), Some("k-9")))
        .await
        .unwrap();
    let second = bus
        .execute(request("c-2", agent(), submit("c-2"), None))
        .await
        .unwrap();
    assert!(
        second.position > first.position,
        "positions grow across complaints"
    );
    let events = bus.log().load("c-1").await.unwrap();
    let m = &events[0].metadata;
    assert_eq!(
        (
            m.actor_id.as_str(),
            m.actor_role.as_str(),
            m.channel.as_str()
        ),
        ("agent-1", "AGENT", "test")
    );
    assert_eq!(m.correlation_id, "corr-1");
    assert_eq!(m.command_id.as_deref(), Some("k-9"));
    assert_eq!(events[0].event_version, "1");
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stored_events_cannot_be_updated_or_deleted() {
    let db = TestDatabase::create().await;
    let bus = bus(&db).await;
    bus.execute(request("c-1", agent(), submit("c-1"), None))
        .await
        .unwrap();
    let mut conn = db.connect().await;
    for sql in [
        "UPDATE events SET payload = '{}'::json",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(err.to_string().contains("immutable"), "{sql}: {err}");
    }
    assert_eq!(count_events(&db).await, 1);
    db.drop_db().await;
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_not_an_internal_error() {
    // Port 9 (discard) on loopback: nothing listens there.
    let options = PgOptions {
        max_connections: 1,
        acquire_timeout: std::time::Duration::from_millis(500),
    };
    let log = PgEventLog::connect("postgres://postgres@127.0.0.1:9/none", &options).unwrap();
    assert!(matches!(log.ping().await, Err(StoreError::Unavailable(_))));
    assert!(matches!(
        log.load("x").await,
        Err(StoreError::Unavailable(_))
    ));
}
