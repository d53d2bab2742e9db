//! Several server processes on one PostgreSQL: each follows the log through its
//! own LISTEN connection (re-established after a loss, with a catch-up read), so
//! a subscriber on one server sees what another server's clients do.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::json;

use aduan_testkit::TestServer;

use super::*;

/// The LISTEN connections of two processes, whatever the number of
/// subscribers: each one's live feed, and in the elected one(s) the four
/// projectors, the webhook election, the webhook workers' wake-ups, the
/// audit checkpointer's election, the incident closer and the automatic
/// acknowledger.
const LISTENS_OF_TWO_PROCESSES: usize = 11;

/// The server processes' LISTEN backends on the test's database.
async fn listeners(env: &Env) -> HashSet<String> {
    env.store
        .texts(
            "SELECT pid::text FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .into_iter()
        .collect()
}

/// The listeners once both processes have started all of theirs (a few
/// start once their process is elected); fails if there are more or fewer.
async fn settled_listeners(env: &Env) -> HashSet<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = listeners(env).await;
        if now.len() == LISTENS_OF_TWO_PROCESSES || std::time::Instant::now() > deadline {
            assert_eq!(now.len(), LISTENS_OF_TWO_PROCESSES, "{now:?}");
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Reads `n` notices on `id`; their positions.
async fn read(ws: &mut WsClient, id: &str, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(position(&notice(ws, id).await));
    }
    out
}

/// The positions of the events of `ids` after `after`.
async fn expected(env: &Env, ids: &[String], after: i64) -> HashSet<i64> {
    histories(env, ids)
        .await
        .into_keys()
        .filter(|p| *p > after)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_on_one_server_sees_commands_on_another() {
    let env = Env::start(Backend::Postgres).await;
    let other = TestServer::start(BIN, &env.store.url, &[]).await;
    let head = log_head(&env).await;
    let before = settled_listeners(&env).await;
    let mut ws = env.server.ws(Some(&env.supervisor.token)).await;
    ws.subscribe("e", EVENTS, json!({"after": head})).await;
    // More subscribers on both servers share their process's listener.
    let mut more = Vec::new();
    for server in [&env.server, &other] {
        let mut extra = server.ws(Some(&env.auditor.token)).await;
        for i in 0..5 {
            extra.subscribe(&format!("x{i}"), EVENTS, json!({})).await;
        }
        more.push(extra);
    }

    let agent = other.client(&env.agent.token);
    let citizen = other.client(&env.citizen.token);
    let mut ids = Vec::new();
    let mut delays = Vec::new();
    for _ in 0..5 {
        let data = citizen.ok(SUBMIT, json!({"input": report()})).await;
        let done = Instant::now();
        ids.push(id_of(&data));
        let n = notice(&mut ws, "e").await;
        delays.push(done.elapsed());
        assert_eq!(n["complaintId"], json!(ids.last().unwrap()));
        assert_eq!(n["type"], "Submitted");
    }
    for id in &ids {
        agent.ok(MUTATE_VERIFY, input(id, json!({}))).await;
    }
    let got: HashSet<i64> = read(&mut ws, "e", 5).await.into_iter().collect();
    let all = expected(&env, &ids, head).await;
    assert_eq!(all.len(), 10);
    assert!(got.iter().all(|p| all.contains(p)) && got.len() == 5);
    println!("server A received server B's submissions after {delays:?}");
    assert_eq!(
        listeners(&env).await,
        before,
        "LISTEN connections per subscriber"
    );
    drop(more);
    stop_cleanly(other).await;
    env.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_listen_connection_comes_back_and_nothing_is_missed() {
    let env = Env::start(Backend::Postgres).await;
    let other = TestServer::start(BIN, &env.store.url, &[]).await;
    let head = log_head(&env).await;
    let mut ws = env.server.ws(Some(&env.supervisor.token)).await;
    ws.subscribe("e", EVENTS, json!({"after": head})).await;
    let citizen = other.client(&env.citizen.token);
    let submit = || async { id_of(&citizen.ok(SUBMIT, json!({"input": report()})).await) };
    let mut ids = vec![submit().await];
    read(&mut ws, "e", 1).await;

    let before = settled_listeners(&env).await;
    let cut = env
        .store
        .exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await
        .expect("terminate the LISTEN backends");
    assert_eq!(cut, before.len() as u64);
    // Commands while the listeners are away, from the other server.
    for _ in 0..5 {
        ids.push(submit().await);
    }
    // All come back, on new backends.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now = listeners(&env).await;
        if now.len() == before.len() && now.is_disjoint(&before) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "LISTEN did not come back: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..5 {
        ids.push(submit().await);
    }
    let got = read(&mut ws, "e", 10).await;
    let unique: HashSet<i64> = got.iter().copied().collect();
    assert_eq!(unique.len(), 10, "duplicates: {got:?}");
    let mut want = expected(&env, &ids, head).await;
    want.remove(&position_of_first(&env, &ids[0]).await);
    assert_eq!(unique, want, "missed or foreign events");
    // Nothing more.
    let last = submit().await;
    assert_eq!(notice(&mut ws, "e").await["complaintId"], json!(last));
    stop_cleanly(other).await;
    env.finish().await;
}

async fn position_of_first(env: &Env, id: &str) -> i64 {
    env.history(id).await[0]["position"].as_i64().unwrap()
}
