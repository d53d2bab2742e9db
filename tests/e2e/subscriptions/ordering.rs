//! `complaintEvents` delivers every event of concurrent commands from several
//! clients exactly once, in commit-safe order; `complaintUpdated` delivers the
//! case after each change, from a read's `position` on.

use std::collections::{HashMap, HashSet};

use futures::future::join_all;
use serde_json::{json, Value};

use super::*;

on_both_stores!(
    every_event_of_concurrent_commands_arrives_once,
    complaint_updated_follows_a_read_without_a_gap,
);

/// Subscribes `id` live (no `afterPosition`) and submits until the first notice
/// shows the subscription is following; that notice, and every submission made
/// (a later one's notice may still be on its way).
async fn follow_live(env: &Env, ws: &mut WsClient, id: &str) -> (Value, Vec<String>) {
    ws.subscribe(id, EVENTS, json!({})).await;
    let mut submitted = Vec::new();
    for _ in 0..20 {
        submitted.push(env.submit().await);
        if let Some(reply) = ws
            .reply_within(id, std::time::Duration::from_millis(500))
            .await
        {
            let Reply::Next(payload) = reply else {
                panic!("{id}: {reply:?}")
            };
            return (payload["data"]["complaintEvents"].clone(), submitted);
        }
    }
    panic!("{id}: no notice after 20 submissions");
}

async fn every_event_of_concurrent_commands_arrives_once(backend: Backend) {
    let env = Env::start(backend).await;
    let mut all = env.server.ws(Some(&env.supervisor.token)).await;
    let (first, warm_up) = follow_live(&env, &mut all, "all").await;
    let start = position(&first);
    // A second subscriber with a filter, from the same point of the log.
    let mut dpu = env.server.ws(Some(&env.auditor.token)).await;
    dpu.subscribe(
        "assigned-dpu",
        EVENTS,
        json!({"filter": {"opd": "DPU", "types": ["Assigned"]}, "after": start}),
    )
    .await;

    // Three citizens submit at once, two Command Center staff verify and assign
    // at once, two OPDs add notes at once.
    let citizens = [
        env.citizen.clone(),
        env.client("CITIZEN", None, "warga-2").await,
        env.client("CITIZEN", None, "warga-3").await,
    ];
    let submitted = join_all((0..12).map(|i| {
        let client = citizens[i % 3].clone();
        async move {
            let data = client.ok(SUBMIT, json!({"input": report()})).await;
            id_of(&data)
        }
    }))
    .await;
    let staff = [env.agent.clone(), env.supervisor.clone()];
    join_all(submitted.iter().enumerate().map(|(i, id)| {
        let client = staff[i % 2].clone();
        async move {
            client.ok(MUTATE_VERIFY, input(id, json!({}))).await;
            let opd = if i % 2 == 0 { "DPU" } else { "DLH" };
            client
                .ok(MUTATE_ASSIGN, input(id, json!({"opd": opd})))
                .await;
        }
    }))
    .await;
    let officers = [env.dpu_officer.clone(), env.dlh_officer.clone()];
    join_all(submitted.iter().enumerate().map(|(i, id)| {
        let client = officers[i % 2].clone();
        async move { note(&client, id, "Dicek petugas.", "PUBLIC").await }
    }))
    .await;
    let mut ids = submitted.clone();
    ids.extend(warm_up);
    let expected: HashMap<i64, (String, String)> = histories(&env, &ids)
        .await
        .into_iter()
        .filter(|(p, _)| *p > start)
        .collect();
    let of_submitted = expected
        .values()
        .filter(|(id, _)| submitted.contains(id))
        .count();
    assert_eq!(of_submitted, 12 * 4, "{expected:?}");

    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        seen.push(notice(&mut all, "all").await);
    }
    // Nothing more: a sentinel after everything is the next notice.
    let sentinel = env.submit().await;
    let next = notice(&mut all, "all").await;
    assert_eq!(
        next["complaintId"],
        json!(sentinel),
        "an extra notice: {next}"
    );

    let positions: Vec<i64> = seen.iter().map(position).collect();
    let unique: HashSet<i64> = positions.iter().copied().collect();
    assert_eq!(unique.len(), positions.len(), "duplicates: {positions:?}");
    assert_eq!(
        unique,
        expected.keys().copied().collect(),
        "the notices are not complaintHistory's events"
    );
    for n in &seen {
        let (id, kind) = &expected[&position(n)];
        assert_eq!(n["complaintId"], json!(id), "{n}");
        assert_eq!(n["type"], json!(kind), "{n}");
        assert_eq!(n["complaint"]["id"], json!(id));
        assert_eq!(n["complaint"]["version"], n["sequence"], "{n}");
        assert_eq!(n["complaint"]["position"], n["position"], "{n}");
        assert!(n["actor"].is_string(), "staff see the actor: {n}");
    }
    // Per complaint, sequences arrive in order on both stores.
    let mut last: HashMap<&str, i64> = HashMap::new();
    for n in &seen {
        let seq = n["sequence"].as_i64().unwrap();
        let before = last.insert(n["complaintId"].as_str().unwrap(), seq);
        assert!(before.is_none_or(|b| b + 1 == seq), "out of order: {n}");
    }
    if backend == Backend::Sqlite {
        // One writer: position order is commit order.
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "positions do not increase: {positions:?}"
        );
    }

    // The filtered subscriber got exactly the assignments to DPU.
    let mut assigned: Vec<i64> = expected
        .iter()
        .filter(|(_, (id, kind))| {
            kind == "Assigned" && submitted.iter().position(|s| s == id).unwrap() % 2 == 0
        })
        .map(|(p, _)| *p)
        .collect();
    assigned.sort_unstable();
    let mut got = Vec::new();
    for _ in 0..assigned.len() {
        let n = notice(&mut dpu, "assigned-dpu").await;
        assert_eq!(n["type"], "Assigned");
        assert_eq!(n["complaint"]["opd"], "DPU");
        got.push(position(&n));
    }
    got.sort_unstable();
    assert_eq!(got, assigned);
    let extra = env.assigned().await;
    let next = notice(&mut dpu, "assigned-dpu").await;
    assert_eq!(next["complaintId"], json!(extra), "an extra notice: {next}");
    env.finish().await;
}

const READ: &str =
    "query($id: ID!, $min: Int) { complaint(id: $id, minPosition: $min) { id status version position } }";

async fn complaint_updated_follows_a_read_without_a_gap(backend: Backend) {
    let env = Env::start(backend).await;
    let id = env.verified().await;
    // Read your write (the verification), as a client would with the position
    // its mutation returned: without it the read may race the projector.
    let verified_at = env.history(&id).await.last().unwrap()["position"].clone();
    let read = env
        .agent
        .ok(READ, json!({"id": id, "min": verified_at}))
        .await["complaint"]
        .clone();
    assert_eq!(read["version"], 2, "{read}");
    // A change between the read and the subscription is not missed.
    env.agent
        .ok(MUTATE_ASSIGN, input(&id, json!({"opd": "DPU"})))
        .await;
    let mut ws = env.server.ws(Some(&env.agent.token)).await;
    ws.subscribe("u", UPDATED, json!({"id": id, "after": read["position"]}))
        .await;
    let updated = |v: Value| v["complaintUpdated"].clone();
    let assigned = updated(ws.next_data("u").await);
    assert_eq!(assigned["version"], 3);
    assert_eq!(assigned["status"], "ASSIGNED");
    assert_eq!(assigned["opd"], "DPU");

    // Then each change, live; another complaint's changes are not sent.
    let other = env.verified().await;
    env.dpu_officer
        .ok(
            MUTATE_RESPOND,
            input(&id, json!({"message": "Kami periksa."})),
        )
        .await;
    env.agent
        .ok(MUTATE_ASSIGN, input(&other, json!({"opd": "DLH"})))
        .await;
    let closed = env
        .dpu_officer
        .ok(
            MUTATE_CLOSE,
            input(
                &id,
                json!({"resolution": "RESOLVED", "summary": "Ditambal."}),
            ),
        )
        .await;
    let responded = updated(ws.next_data("u").await);
    assert_eq!(responded["version"], 4);
    assert_eq!(responded["status"], "IN_PROGRESS");
    let last = updated(ws.next_data("u").await);
    assert_eq!(last["version"], 5);
    assert_eq!(last["status"], "CLOSED");
    assert_eq!(last["position"], returned(&closed)["position"]);
    assert_eq!(last["id"], json!(id));

    // A read of the latest position, then nothing more until the next change.
    let rated = env
        .citizen
        .ok(MUTATE_RATE, input(&id, json!({"score": 5})))
        .await;
    let next = updated(ws.next_data("u").await);
    assert_eq!(next["version"], 6, "{next}");
    assert_eq!(next["position"], returned(&rated)["position"]);

    // Not a complaint: NOT_FOUND; a position no event has: INVALID_INPUT.
    ws.subscribe("missing", UPDATED, json!({"id": "no-such-case"}))
        .await;
    assert_eq!(error_code_of(&ws.error("missing").await), Some("NOT_FOUND"));
    ws.subscribe("bad", UPDATED, json!({"id": id, "after": 1_000_000}))
        .await;
    assert_eq!(error_code_of(&ws.error("bad").await), Some("INVALID_INPUT"));
    env.finish().await;
}
