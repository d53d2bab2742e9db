//! The event log and command bus against a real PostgreSQL and a real SQLite.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use std::sync::Arc;

use futures::future::join_all;

use aduan_domain::*;
use aduan_store::{
    CommandBus, CommandError, CommandRecord, EventLog, PgEventLog, PgOptions, SqliteEventLog,
    StoreError,
};
use aduan_testkit::fixtures::{agent, bus, request, submit, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    racing_retries_of_one_submission_append_it_once,
    a_reused_command_id_with_another_body_is_refused_and_appends_nothing,
    metadata_and_position_are_stored_with_each_event,
    racing_commands_on_one_complaint_keep_every_event_once_in_sequence,
    stored_events_cannot_be_updated_or_deleted,
    an_imported_log_reads_as_exported_and_grows_after_it,
);

async fn count_events(store: &TestStore) -> i64 {
    store.scalar("SELECT count(*) FROM events").await
}

async fn racing_retries_of_one_submission_append_it_once(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = Arc::new(bus(&store).await);
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
    assert_eq!(count_events(&store).await, 1);
    store.drop_store().await;
}

async fn a_reused_command_id_with_another_body_is_refused_and_appends_nothing(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
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
        matches!(other, Err(CommandError::Domain(ComplaintError::InvalidInput { ref field, .. })) if field == "command_id")
    );
    bus.execute(request("c-2", agent(), submit("c-2"), None))
        .await
        .unwrap();
    let elsewhere = bus
        .execute(request("c-2", agent(), verify("first"), Some("k-1")))
        .await;
    assert_eq!(
        elsewhere.unwrap_err().kind(),
        aduan_store::ErrorKind::Domain(ErrorCode::InvalidInput)
    );
    assert_eq!(count_events(&store).await, 3);
    store.drop_store().await;
}

async fn metadata_and_position_are_stored_with_each_event(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
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
    assert_eq!(events[0].position, first.position);
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
    assert_eq!(
        events[0].event_version, "2",
        "a submission holds personal data (sealed)"
    );
    assert_eq!(
        bus.log().command_record("k-9").await.unwrap(),
        Some(CommandRecord {
            command_id: "k-9".into(),
            complaint_id: "c-1".into(),
            sequence: 1
        })
    );
    store.drop_store().await;
}

/// Export, then import into an empty store of the same kind: the events come back
/// with their positions, the command ids with them, and a new command is appended
/// after the imported positions.
async fn an_imported_log_reads_as_exported_and_grows_after_it(backend: Backend) {
    let (from, into) = (
        TestStore::create(backend).await,
        TestStore::create(backend).await,
    );
    let source = bus(&from).await;
    source
        .execute(request("c-1", agent(), submit("c-1"), Some("k-1")))
        .await
        .unwrap();
    source
        .execute(request("c-1", agent(), verify("ok"), Some("k-2")))
        .await
        .unwrap();
    let exported = source.log().export_after(0, 100).await.unwrap();
    let (chunks, stream) = tokio::sync::mpsc::channel(1);
    chunks.send(Ok(exported.clone().into())).await.unwrap();
    drop(chunks);
    let target = bus(&into).await;
    assert_eq!(target.log().import(stream).await.unwrap(), 2);
    assert_eq!(target.log().export_after(0, 100).await.unwrap(), exported);
    assert_eq!(target.log().count().await.unwrap(), 2);
    assert_eq!(
        target.log().command_record("k-2").await.unwrap(),
        Some(CommandRecord {
            command_id: "k-2".into(),
            complaint_id: "c-1".into(),
            sequence: 2
        })
    );
    let next = target
        .execute(request("c-2", agent(), submit("c-2"), None))
        .await
        .unwrap();
    // At once: a position the import took would be a conflict and a retry
    // (two statements: the case number's draw and the append).
    assert_eq!(
        (next.position, next.round_trips),
        (exported[1].position + 1, 2)
    );
    from.drop_store().await;
    into.drop_store().await;
}

/// 32 officers reply to one complaint at once: each reply lost a race is
/// re-decided and appended, none twice, and the sequence has no gap.
async fn racing_commands_on_one_complaint_keep_every_event_once_in_sequence(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = Arc::new(bus(&store).await);
    bus.execute(request("c-1", agent(), submit("c-1"), None))
        .await
        .unwrap();
    let notes = (0..32).map(|i| {
        let bus = bus.clone();
        tokio::spawn(async move {
            let note = Action::Escalate(Escalate {
                reason: aduan_testkit::fixtures::text(&format!("note {i}")),
            });
            bus.execute(request("c-1", agent(), note, None)).await
        })
    });
    for outcome in join_all(notes).await {
        outcome.unwrap().unwrap();
    }
    let events = bus.log().load("c-1").await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, (1..=33).collect::<Vec<_>>());
    let mut positions: Vec<i64> = events.iter().map(|e| e.position).collect();
    positions.dedup();
    assert_eq!(positions.len(), 33, "each event has its own position");
    store.drop_store().await;
}

async fn stored_events_cannot_be_updated_or_deleted(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = bus(&store).await;
    bus.execute(request("c-1", agent(), submit("c-1"), None))
        .await
        .unwrap();
    let mut statements = vec!["UPDATE events SET payload = '{}'", "DELETE FROM events"];
    if backend == Backend::Postgres {
        statements.push("TRUNCATE events");
    }
    for sql in statements {
        let err = store.exec(sql).await.unwrap_err();
        assert!(err.contains("immutable"), "{sql}: {err}");
    }
    assert_eq!(count_events(&store).await, 1);
    store.drop_store().await;
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

#[tokio::test]
async fn an_unopenable_sqlite_file_is_unavailable_not_an_internal_error() {
    let log = SqliteEventLog::open(std::path::Path::new("/proc/no-such-dir/aduan.db"), 1).unwrap();
    assert!(matches!(log.ping().await, Err(StoreError::Unavailable(_))));
}
