//! Optimistic concurrency with real parallel HTTP requests, also through two
//! server processes on one database: racing commands are re-checked against the
//! state they would land on, `expectedVersion` turns a
//! lost race into CONFLICT, and the log never has gaps or duplicates.

use serde_json::{json, Value};

use aduan_testkit::{GraphqlClient, TestServer};

use crate::support::*;

on_both_stores!(
    thirty_two_racing_dispatches_leave_exactly_one_assignment,
    thirty_two_racing_replies_are_all_kept_once_without_gaps,
    with_expected_version_only_one_of_thirty_two_racers_wins,
);

const RACERS: usize = 32;

/// Splits racing responses into the successes' complaints and the failures' codes.
fn outcomes(bodies: &[Value]) -> (Vec<&Value>, Vec<&str>) {
    let (won, lost): (Vec<_>, Vec<_>) = bodies.iter().partition(|b| b.get("errors").is_none());
    let won = won.into_iter().map(|b| returned(&b["data"])).collect();
    let lost = lost
        .into_iter()
        .map(|b| error_code(b).unwrap_or_else(|| panic!("an error without a code: {b}")))
        .collect();
    (won, lost)
}

async fn thirty_two_racing_dispatches_leave_exactly_one_assignment(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.verified().await;
    let dispatches = (0..RACERS).map(|i| input(&id, json!({"opd": OPDS[i % OPDS.len()]})));
    let bodies = race(&env.agent, MUTATE_ASSIGN, dispatches).await;
    let (won, lost) = outcomes(&bodies);
    assert_eq!(won.len(), 1, "exactly one dispatch wins: {bodies:?}");
    assert_eq!(lost.len(), RACERS - 1);
    for code in &lost {
        assert!(
            matches!(*code, "CONFLICT" | "INVALID_TRANSITION"),
            "a loser got {code}"
        );
    }
    let winner = won[0];
    assert_eq!(winner["status"], "ASSIGNED");
    assert_eq!(winner["version"], 3);
    assert!(OPDS.contains(&winner["opd"].as_str().unwrap()), "{winner}");

    let history = env.history(&id).await;
    let types: Vec<_> = history
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["Submitted", "Verified", "Assigned"]);
    assert_eq!(history[2]["payload"]["opd"], winner["opd"]);
    assert_eq!(env.current(&id).await["opd"], winner["opd"]);
    env.finish().await;
}

async fn thirty_two_racing_replies_are_all_kept_once_without_gaps(backend: Backend) {
    let debug = [("ADUAN_LOG", "info,aduan_store=debug")];
    let env = Env::start_with(backend, &debug).await;
    // Within a process, commands on one case queue and go in as groups; the races
    // left are between processes, so half the replies go through a second server.
    let second = TestServer::start(BIN, &env.store.url, &debug).await;
    let officer = [
        env.dpu_officer.clone(),
        second.client(&env.dpu_officer.token),
    ];
    // On a loaded machine the two servers' appends may happen not to meet: then
    // the round is checked all the same and run again on a new case, until the
    // store's debug log shows a collision that was retried.
    let mut raced = false;
    for _ in 0..RACE_ROUNDS {
        race_replies(&env, &officer).await;
        let logs = env.server.log() + &second.log();
        raced = [
            "lost a race; retrying",
            "was behind; rereading",
            "one by one",
        ]
        .iter()
        .any(|m| logs.contains(m));
        if raced {
            break;
        }
    }
    assert!(raced, "the replies never raced in {RACE_ROUNDS} rounds");
    stop_cleanly(second).await;
    env.finish().await;
}

/// Rounds of racing replies tried before the test gives up on a collision.
const RACE_ROUNDS: usize = 5;

/// 32 racers reply on one new case through two servers; each reply is kept
/// once, with versions and no gaps.
async fn race_replies(env: &Env, officer: &[GraphqlClient; 2]) {
    let id = env.assigned().await;
    // Each racer replies a few times in a row, so the two servers' appends
    // interleave many times and really collide.
    const ROUNDS: usize = 4;
    let messages: Vec<_> = (0..RACERS * ROUNDS)
        .map(|i| format!("balasan {i}"))
        .collect();
    let racers = (0..RACERS).map(|r| {
        let (officer, id, messages) = (&officer[r % 2], &id, &messages);
        async move {
            let mut bodies = Vec::new();
            for m in &messages[r * ROUNDS..(r + 1) * ROUNDS] {
                bodies.push(
                    officer
                        .query(MUTATE_RESPOND, input(id, json!({"message": m})))
                        .await,
                );
            }
            bodies
        }
    });
    let bodies: Vec<Value> = futures::future::join_all(racers)
        .await
        .into_iter()
        .flatten()
        .collect();
    let (won, lost) = outcomes(&bodies);
    assert!(lost.is_empty(), "racing replies were refused: {lost:?}");
    let mut versions: Vec<_> = won.iter().map(|c| c["version"].as_i64().unwrap()).collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (4..=3 + (RACERS * ROUNDS) as i64).collect::<Vec<_>>(),
        "each reply got its own version"
    );
    let history = env.history(&id).await;
    assert_eq!(history.len(), 3 + RACERS * ROUNDS);
    assert!(history[3..].iter().all(|e| e["type"] == "Responded"));
    let mut stored: Vec<_> = history[3..]
        .iter()
        .map(|e| e["payload"]["message"].as_str().unwrap().to_string())
        .collect();
    stored.sort();
    let mut sent = messages;
    sent.sort();
    assert_eq!(stored, sent, "each reply exactly once");
    let sequences: Vec<_> = history
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sequences,
        (1..=3 + (RACERS * ROUNDS) as i64).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
    let positions: Vec<_> = history
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|p| p[0] < p[1]),
        "positions unique and in sequence order: {positions:?}"
    );
}

async fn with_expected_version_only_one_of_thirty_two_racers_wins(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.assigned().await;
    let version = env.current(&id).await["version"].as_i64().unwrap();
    let escalations = (0..RACERS).map(|i| {
        input(
            &id,
            json!({"reason": format!("alasan {i}"), "expectedVersion": version}),
        )
    });
    let bodies = race(&env.supervisor, MUTATE_ESCALATE, escalations).await;
    let (won, lost) = outcomes(&bodies);
    assert_eq!(won.len(), 1, "exactly one escalation wins: {bodies:?}");
    assert_eq!(won[0]["version"], version + 1);
    assert_eq!(won[0]["escalationLevel"], 1);
    assert_eq!(lost, vec!["CONFLICT"; RACERS - 1]);
    let history = env.history(&id).await;
    assert_eq!(history.len() as i64, version + 1, "one escalation appended");
    let last = &history[version as usize];
    assert_eq!(last["type"], "Escalated");
    assert_eq!(last["payload"]["level"], 1);
    env.finish().await;
}
