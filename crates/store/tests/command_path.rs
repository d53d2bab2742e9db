//! The command path's shortcuts against a real PostgreSQL and a real SQLite:
//! a cached case state is confirmed by the append, never trusted; a refusal
//! decided on one is checked against the log; round trips are as promised.
//! Two buses on one store stand for two server processes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests and benches stop loudly where they unwrap"
)]

use aduan_domain::*;
use aduan_store::{CommandBus, CommandError, CommandOutcome, ErrorKind};
use aduan_testkit::fixtures::{agent, bus, request, submit, verify};
use aduan_testkit::{on_both_stores, Backend, TestStore};

on_both_stores!(
    a_command_costs_one_round_trip_on_a_cached_case_and_two_on_another,
    a_decision_on_a_state_that_fell_behind_is_caught_by_the_append,
    a_refusal_on_a_state_that_fell_behind_is_checked_against_the_log,
    expected_version_is_checked_against_the_log_not_a_stale_cache,
    a_retry_that_would_succeed_again_is_replayed_and_appended_once,
    concurrent_commands_on_one_complaint_are_appended_in_groups,
    a_check_decides_on_the_log_and_appends_nothing,
);

fn officer() -> Actor {
    Actor::new("petugas-1", Role::OpdOfficer, Some("DPU"))
}

fn assign() -> Action {
    Action::Assign(Assign {
        opd: aduan_testkit::fixtures::opd("DPU"),
        officer_id: None,
        note: None,
    })
}

fn respond(message: &str) -> Action {
    Action::Respond(Respond {
        template: None,
        message: aduan_testkit::fixtures::text(message),
    })
}

fn escalate(reason: &str) -> Action {
    Action::Escalate(Escalate {
        reason: aduan_testkit::fixtures::text(reason),
    })
}

async fn run(bus: &CommandBus, actor: Actor, action: Action, key: Option<&str>) -> CommandOutcome {
    bus.execute(request("c-1", actor, action, key))
        .await
        .unwrap_or_else(|e| panic!("refused: {e}"))
}

async fn sequences(store: &TestStore) -> Vec<String> {
    store
        .texts("SELECT CAST(sequence AS TEXT) FROM events WHERE aggregate_id = 'c-1' ORDER BY position")
        .await
}

async fn a_command_costs_one_round_trip_on_a_cached_case_and_two_on_another(backend: Backend) {
    let store = TestStore::create(backend).await;
    let (warm, cold) = (bus(&store).await, bus(&store).await.with_cache(0));
    let submitted = run(&warm, agent(), submit("c-1"), Some("s-1")).await;
    assert_eq!(
        (submitted.version, submitted.round_trips),
        (1, 2),
        "the case number's draw, then the append"
    );
    let verified = run(&warm, agent(), verify("ok"), None).await;
    assert_eq!((verified.version, verified.round_trips), (2, 1), "cached");
    let assigned = run(&cold, agent(), assign(), None).await;
    assert_eq!(
        (assigned.version, assigned.round_trips),
        (3, 2),
        "read, then append"
    );
    assert!(assigned.position > verified.position);
    let events = cold.log().load("c-1").await.unwrap();
    assert_eq!(events[2].position, assigned.position, "RETURNING position");
    store.drop_store().await;
}

async fn a_decision_on_a_state_that_fell_behind_is_caught_by_the_append(backend: Backend) {
    let store = TestStore::create(backend).await;
    let (a, b) = (bus(&store).await, bus(&store).await);
    run(&a, agent(), submit("c-1"), None).await;
    run(&b, agent(), verify("by b"), None).await;
    // `a` still holds the case as SUBMITTED, where verifying is allowed; the log
    // says VERIFIED, where it is not.
    let again = a
        .execute(request("c-1", agent(), verify("by a"), None))
        .await;
    assert!(
        matches!(
            again,
            Err(CommandError::Domain(
                ComplaintError::InvalidTransition { .. }
            ))
        ),
        "{again:?}"
    );
    assert_eq!(sequences(&store).await, ["1", "2"]);
    let assigned = run(&a, agent(), assign(), None).await;
    assert_eq!(assigned.version, 3);
    store.drop_store().await;
}

async fn a_refusal_on_a_state_that_fell_behind_is_checked_against_the_log(backend: Backend) {
    let store = TestStore::create(backend).await;
    let (a, b) = (bus(&store).await, bus(&store).await);
    run(&a, agent(), submit("c-1"), None).await;
    run(&a, agent(), verify("ok"), None).await;
    run(&b, agent(), assign(), None).await;
    // `a` holds the case as VERIFIED, where the OPD may not reply yet; it was
    // assigned meanwhile, so the reply is taken.
    let reply = run(&a, officer(), respond("Tim menuju lokasi"), None).await;
    assert_eq!(reply.version, 4);
    assert_eq!(reply.case.status, Status::InProgress);
    assert_eq!(sequences(&store).await, ["1", "2", "3", "4"]);
    store.drop_store().await;
}

async fn expected_version_is_checked_against_the_log_not_a_stale_cache(backend: Backend) {
    let store = TestStore::create(backend).await;
    let (a, b) = (bus(&store).await, bus(&store).await);
    run(&a, agent(), submit("c-1"), None).await;
    run(&b, agent(), verify("ok"), None).await;
    let mut seen = request("c-1", agent(), escalate("saw version 2"), None);
    seen.expected_version = Some(2);
    assert_eq!(a.execute(seen).await.unwrap().version, 3);
    let mut stale = request("c-1", agent(), escalate("saw version 2 again"), None);
    stale.expected_version = Some(2);
    assert_eq!(
        b.execute(stale).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(sequences(&store).await, ["1", "2", "3"]);
    store.drop_store().await;
}

async fn a_retry_that_would_succeed_again_is_replayed_and_appended_once(backend: Backend) {
    let store = TestStore::create(backend).await;
    let (a, b) = (bus(&store).await, bus(&store).await);
    run(&a, agent(), submit("c-1"), None).await;
    let first = run(&a, agent(), escalate("lampu mati"), Some("esc-1")).await;
    // Escalating again would be allowed: only the command id's key tells a retry.
    let same_process = run(&a, agent(), escalate("lampu mati"), Some("esc-1")).await;
    let other_process = run(&b, agent(), escalate("lampu mati"), Some("esc-1")).await;
    for retry in [&same_process, &other_process] {
        assert!(retry.replayed);
        assert_eq!(
            (retry.version, retry.position, &retry.case),
            (first.version, first.position, &first.case)
        );
    }
    assert_eq!(sequences(&store).await, ["1", "2"]);
    store.drop_store().await;
}

/// 32 commands on one complaint at once: the first runs alone, the rest queue
/// behind it and go in as groups (one statement each). A refusal and a retried
/// command id inside a group are answered one by one, each by its own rule.
async fn concurrent_commands_on_one_complaint_are_appended_in_groups(backend: Backend) {
    let store = TestStore::create(backend).await;
    let bus = std::sync::Arc::new(bus(&store).await);
    run(&bus, agent(), submit("c-1"), None).await;
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let bus = bus.clone();
            tokio::spawn(async move {
                let (action, key) = match i {
                    // Refused: the case is not waiting for verification any more.
                    7 => (verify("late"), None),
                    // The same command twice: one appends, one replays.
                    20 | 21 => (escalate("sama"), Some("twice".to_string())),
                    _ => (escalate(&format!("alasan {i}")), Some(format!("esc-{i}"))),
                };
                let verify_first = i == 0;
                if verify_first {
                    return bus
                        .execute(request("c-1", agent(), verify("ok"), None))
                        .await;
                }
                bus.execute(request("c-1", agent(), action, key.as_deref()))
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    let refused: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        refused.len() <= 1
            && refused
                .iter()
                .all(|e| e.kind() == ErrorKind::Domain(ErrorCode::InvalidTransition)),
        "{refused:?}"
    );
    let done: Vec<&CommandOutcome> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(
        done.iter().filter(|o| o.replayed).count(),
        1,
        "one of the twins replays"
    );
    let (twin_a, twin_b) = (done_at(&outcomes, 20), done_at(&outcomes, 21));
    assert_eq!(
        (twin_a.version, twin_a.position),
        (twin_b.version, twin_b.position)
    );
    let appended = done.iter().filter(|o| !o.replayed).count();
    let stored = sequences(&store).await;
    assert_eq!(
        stored.len(),
        1 + appended,
        "every acknowledged command once"
    );
    let expected: Vec<String> = (1..=stored.len()).map(|n| n.to_string()).collect();
    assert_eq!(stored, expected, "no gap, no duplicate");
    let mut versions: Vec<i64> = done
        .iter()
        .filter(|o| !o.replayed)
        .map(|o| o.version)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions.len(), appended, "each its own version");
    if backend == Backend::Postgres {
        let statements = store
            .scalar("SELECT count(DISTINCT tx_id::text) FROM events")
            .await;
        assert!(
            statements < stored.len() as i64,
            "{} events in {statements} statements: nothing was grouped",
            stored.len()
        );
    }
    store.drop_store().await;
}

async fn a_check_decides_on_the_log_and_appends_nothing(backend: Backend) {
    let store = TestStore::create(backend).await;
    let (a, b) = (bus(&store).await, bus(&store).await);
    run(&a, agent(), submit("c-1"), None).await;
    run(&b, agent(), verify("by b"), None).await;
    // `a` caches the case as SUBMITTED; the log says VERIFIED.
    let verifying = a.check("c-1", Command::new(agent(), verify("by a"))).await;
    assert!(
        matches!(
            verifying,
            Err(CommandError::Domain(
                ComplaintError::InvalidTransition { .. }
            ))
        ),
        "{verifying:?}"
    );
    let assigning = a.check("c-1", Command::new(agent(), assign())).await;
    assert!(
        matches!(assigning.as_deref(), Ok([ComplaintEvent::Assigned { .. }])),
        "{assigning:?}"
    );
    let missing = a.check("c-2", Command::new(agent(), assign())).await;
    assert!(
        matches!(missing, Err(CommandError::Domain(ComplaintError::NotFound))),
        "{missing:?}"
    );
    assert_eq!(sequences(&store).await, ["1", "2"], "nothing appended");
    let assigned = run(&a, agent(), assign(), None).await;
    assert_eq!(assigned.version, 3);
    store.drop_store().await;
}

fn done_at(outcomes: &[Result<CommandOutcome, CommandError>], i: usize) -> &CommandOutcome {
    outcomes[i].as_ref().expect("the twins succeed")
}
